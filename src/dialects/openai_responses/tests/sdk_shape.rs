//! Required fields of the openai-python types (src/openai/types/responses) for everything the
//! codec sends to Responses callers, checked on encoded values.

use serde_json::Value;

/// Fields the SDK's `Response` model requires.
const RESPONSE: &[&str] =
    &["id", "created_at", "model", "object", "output", "parallel_tool_calls", "tool_choice", "tools"];

/// Required fields of each stream event type (besides `type` and `sequence_number`).
fn event_fields(kind: &str) -> Option<&'static [&'static str]> {
    Some(match kind {
        "response.created"
        | "response.in_progress"
        | "response.completed"
        | "response.incomplete"
        | "response.failed" => &["response"],
        "response.output_item.added" | "response.output_item.done" => &["item", "output_index"],
        "response.content_part.added" | "response.content_part.done" => {
            &["content_index", "item_id", "output_index", "part"]
        }
        "response.output_text.delta" => &["content_index", "delta", "item_id", "logprobs", "output_index"],
        "response.output_text.done" => &["content_index", "item_id", "logprobs", "output_index", "text"],
        "response.function_call_arguments.delta" => &["delta", "item_id", "output_index"],
        "response.function_call_arguments.done" => &["arguments", "item_id", "name", "output_index"],
        "response.custom_tool_call_input.delta" => &["delta", "item_id", "output_index"],
        "response.custom_tool_call_input.done" => &["input", "item_id", "output_index"],
        "response.reasoning_summary_part.added" | "response.reasoning_summary_part.done" => {
            &["item_id", "output_index", "part", "summary_index"]
        }
        "response.reasoning_summary_text.delta" => &["delta", "item_id", "output_index", "summary_index"],
        "response.reasoning_summary_text.done" => &["item_id", "output_index", "summary_index", "text"],
        "error" => &["message"],
        _ => return None,
    })
}

fn has_all(v: &Value, fields: &[&str], what: &str) {
    for f in fields {
        assert!(v.get(f).is_some(), "{what} lacks required field {f:?}: {v}");
    }
}

/// Checks an output item against its SDK model.
pub fn check_item(item: &Value) {
    let kind = item["type"].as_str().unwrap_or("");
    let fields: &[&str] = match kind {
        "message" => &["id", "content", "role", "status"],
        "reasoning" => &["id", "summary"],
        "function_call" => &["arguments", "call_id", "name"],
        "custom_tool_call" => &["call_id", "input", "name"],
        other => panic!("unexpected output item type {other:?}"),
    };
    has_all(item, fields, kind);
    for part in item["content"].as_array().into_iter().flatten() {
        match part["type"].as_str() {
            Some("output_text") => has_all(part, &["annotations", "text"], "output_text"),
            Some("refusal") => has_all(part, &["refusal"], "refusal"),
            other => panic!("unexpected part {other:?}"),
        }
    }
    for s in item["summary"].as_array().into_iter().flatten() {
        assert_eq!(s["type"], "summary_text");
        assert!(s["text"].is_string());
    }
}

/// Checks a `response` object against the SDK's `Response` model.
pub fn check_response(v: &Value) {
    has_all(v, RESPONSE, "response");
    assert_eq!(v["object"], "response");
    assert!(v["created_at"].is_number());
    for item in v["output"].as_array().expect("output array") {
        check_item(item);
    }
    if let Some(u) = v.get("usage").filter(|u| !u.is_null()) {
        has_all(
            u,
            &["input_tokens", "input_tokens_details", "output_tokens", "output_tokens_details", "total_tokens"],
            "usage",
        );
        has_all(&u["input_tokens_details"], &["cached_tokens"], "input_tokens_details");
        has_all(&u["output_tokens_details"], &["reasoning_tokens"], "output_tokens_details");
    }
    if let Some(e) = v.get("error").filter(|e| !e.is_null()) {
        let allowed = ["server_error", "rate_limit_exceeded", "invalid_prompt"];
        assert!(allowed.contains(&e["code"].as_str().unwrap_or("")), "{e}");
        assert!(e["message"].is_string());
    }
}

/// Parses an encoded stream and checks every event: `event:` name equals `type`, sequence
/// numbers count from 0, required fields are present. Returns the event bodies.
pub fn check_stream(text: &str) -> Vec<Value> {
    let mut out = Vec::new();
    for chunk in text.split("\n\n").filter(|c| !c.is_empty()) {
        let mut lines = chunk.lines();
        let name = lines.next().and_then(|l| l.strip_prefix("event: ")).expect("event line");
        let data = lines.next().and_then(|l| l.strip_prefix("data: ")).expect("data line");
        let v: Value = serde_json::from_str(data).unwrap();
        assert_eq!(v["type"], name);
        assert_eq!(v["sequence_number"], out.len() as u64, "{name}");
        let fields = event_fields(name).unwrap_or_else(|| panic!("unknown event {name}"));
        has_all(&v, fields, name);
        if let Some(r) = v.get("response") {
            check_response(r);
        }
        if let Some(item) = v.get("item") {
            check_item(item);
        }
        out.push(v);
    }
    out
}

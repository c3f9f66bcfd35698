//! The whole matrix through the running gateway: each of the four caller dialects to each of the
//! four upstream dialects (16 cells; the diagonal is the same-dialect byte path, the rest is
//! translated), non-streaming and streaming. Every cell checks that the upstream was called in
//! its own dialect and that the caller got a well-formed answer in its own, with the upstream's
//! text and its usage (20 uncached input tokens, 10 cache reads, 7 output, in the caller's terms).

use serde_json::Value;

use crate::matrix_upstream::Up;
use crate::support::*;

fn config(mock: &Mock) -> String {
    format!(
        "discover_env: false
router: {{retries: 0}}
providers:
  anth: {{kind: anthropic, base_url: 'http://{a}', api_key: k-anth}}
  chat: {{kind: vllm, base_url: 'http://{a}/v1', api_key: k-chat}}
  resp: {{kind: openai, api: responses, base_url: 'http://{a}/v1', api_key: k-resp}}
  gem: {{kind: gemini, base_url: 'http://{a}', api_key: k-gem}}
models:
  - {{name: m-anthropic, provider: anth, model: up-model}}
  - {{name: m-chat, provider: chat, model: up-model}}
  - {{name: m-responses, provider: resp, model: up-model}}
  - {{name: m-gemini, provider: gem, model: up-model}}
",
        a = mock.addr
    )
}

/// Caller dialects.
#[derive(Debug, Clone, Copy)]
enum Caller {
    Anthropic,
    Chat,
    Responses,
    Gemini,
}

impl Caller {
    /// (path, body) of a "be brief" / "hi" request for `model`.
    fn request(self, model: &str, stream: bool) -> (String, String) {
        match self {
            Caller::Anthropic => (
                "/v1/messages".into(),
                format!(
                    r#"{{"model":"{model}","max_tokens":100,"system":"be brief","stream":{stream},"messages":[{{"role":"user","content":"hi"}}]}}"#
                ),
            ),
            Caller::Chat => {
                let opts = if stream { r#","stream_options":{"include_usage":true}"# } else { "" };
                (
                    "/v1/chat/completions".into(),
                    format!(
                        r#"{{"model":"{model}","max_tokens":100,"stream":{stream}{opts},"messages":[{{"role":"system","content":"be brief"}},{{"role":"user","content":"hi"}}]}}"#
                    ),
                )
            }
            Caller::Responses => (
                "/v1/responses".into(),
                format!(
                    r#"{{"model":"{model}","instructions":"be brief","input":"hi","max_output_tokens":100,"store":false,"stream":{stream}}}"#
                ),
            ),
            Caller::Gemini => {
                let method = if stream { "streamGenerateContent?alt=sse" } else { "generateContent" };
                (
                    format!("/v1beta/models/{model}:{method}"),
                    r#"{"systemInstruction":{"parts":[{"text":"be brief"}]},"contents":[{"role":"user","parts":[{"text":"hi"}]}],"generationConfig":{"maxOutputTokens":100}}"#.into(),
                )
            }
        }
    }

    /// (text, stop, usage as (input, cache_read, output)) of a non-streamed answer, checking its shape.
    fn read_json(self, j: &Value) -> (String, String, (u64, u64, u64)) {
        let n = |v: &Value| v.as_u64().unwrap_or_else(|| panic!("not a count: {v} in {j}"));
        match self {
            Caller::Anthropic => {
                assert_eq!((&j["type"], &j["role"]), (&"message".into(), &"assistant".into()), "{j}");
                let u = &j["usage"];
                (
                    texts(&j["content"], "text"),
                    j["stop_reason"].as_str().unwrap_or("").into(),
                    (n(&u["input_tokens"]), n(&u["cache_read_input_tokens"]), n(&u["output_tokens"])),
                )
            }
            Caller::Chat => {
                assert_eq!(j["object"], "chat.completion", "{j}");
                let u = &j["usage"];
                assert_eq!(n(&u["total_tokens"]), n(&u["prompt_tokens"]) + n(&u["completion_tokens"]), "{j}");
                (
                    j["choices"][0]["message"]["content"].as_str().unwrap_or("").into(),
                    j["choices"][0]["finish_reason"].as_str().unwrap_or("").into(),
                    chat_usage(u),
                )
            }
            Caller::Responses => {
                assert_eq!(j["object"], "response", "{j}");
                let text = j["output"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|o| o["type"] == "message")
                    .map(|o| texts(&o["content"], "output_text"))
                    .collect();
                (text, j["status"].as_str().unwrap_or("").into(), responses_usage(&j["usage"]))
            }
            Caller::Gemini => {
                let c = &j["candidates"][0];
                assert_eq!(c["content"]["role"], "model", "{j}");
                (gemini_text(j), c["finishReason"].as_str().unwrap_or("").into(), gemini_usage(&j["usageMetadata"]))
            }
        }
    }

    /// The same from a streamed answer, checking the dialect's event grammar on the way.
    fn read_stream(self, body: &str) -> (String, String, (u64, u64, u64)) {
        let evs = sse_events(body);
        assert!(!evs.is_empty(), "empty stream");
        let data: Vec<Value> = evs
            .iter()
            .filter(|(_, d)| d != "[DONE]")
            .map(|(_, d)| serde_json::from_str(d).unwrap_or_else(|e| panic!("event not JSON ({e}): {d}")))
            .collect();
        match self {
            Caller::Anthropic => {
                let names: Vec<&str> =
                    evs.iter().map(|(n, _)| n.as_deref().unwrap_or("")).filter(|n| *n != "ping").collect();
                assert_eq!(names.first(), Some(&"message_start"), "{body}");
                assert_eq!(&names[names.len() - 2..], ["message_delta", "message_stop"], "{body}");
                assert!(
                    evs.iter().all(|(n, d)| serde_json::from_str::<Value>(d)
                        .is_ok_and(|v| v["type"] == n.as_deref().unwrap_or(""))),
                    "event names and types differ: {body}"
                );
                let text = data
                    .iter()
                    .filter(|e| e["delta"]["type"] == "text_delta")
                    .filter_map(|e| e["delta"]["text"].as_str())
                    .collect();
                // The usage an SDK ends with: message_start's, overwritten by message_delta's fields.
                let mut u = data[0]["message"]["usage"].clone();
                let delta = data.iter().rev().find(|e| e["type"] == "message_delta").expect("message_delta");
                for (k, v) in delta["usage"].as_object().expect("message_delta usage") {
                    if !v.is_null() {
                        u[k] = v.clone();
                    }
                }
                let n = |k: &str| u[k].as_u64().unwrap_or(0);
                (
                    text,
                    delta["delta"]["stop_reason"].as_str().unwrap_or("").into(),
                    (n("input_tokens"), n("cache_read_input_tokens"), n("output_tokens")),
                )
            }
            Caller::Chat => {
                assert_eq!(evs.last().map(|(_, d)| d.as_str()), Some("[DONE]"), "{body}");
                assert!(data.iter().all(|c| c["object"] == "chat.completion.chunk"), "{body}");
                let text = data.iter().filter_map(|c| c["choices"][0]["delta"]["content"].as_str()).collect();
                let finish =
                    data.iter().filter_map(|c| c["choices"][0]["finish_reason"].as_str()).collect::<Vec<_>>().join(",");
                let last = data.last().unwrap();
                assert_eq!(last["choices"], serde_json::json!([]), "usage chunk last: {body}");
                (text, finish, chat_usage(&last["usage"]))
            }
            Caller::Responses => {
                let seq: Vec<u64> =
                    data.iter().map(|e| e["sequence_number"].as_u64().expect("sequence_number")).collect();
                assert_eq!(seq, (0..data.len() as u64).collect::<Vec<_>>(), "{body}");
                assert_eq!(
                    (&data[0]["type"], &data[1]["type"]),
                    (&"response.created".into(), &"response.in_progress".into()),
                    "{body}"
                );
                let last = data.last().unwrap();
                assert_eq!(last["type"], "response.completed", "{body}");
                let added = data.iter().position(|e| e["type"] == "response.output_item.added").expect("item added");
                let first_delta =
                    data.iter().position(|e| e["type"] == "response.output_text.delta").expect("a text delta");
                assert!(added < first_delta, "a delta before its item: {body}");
                let text: String = data
                    .iter()
                    .filter(|e| e["type"] == "response.output_text.delta")
                    .filter_map(|e| e["delta"].as_str())
                    .collect();
                let done_text = data.iter().find(|e| e["type"] == "response.output_text.done").expect("text done");
                assert_eq!(done_text["text"].as_str(), Some(text.as_str()), "{body}");
                (
                    text,
                    last["response"]["status"].as_str().unwrap_or("").into(),
                    responses_usage(&last["response"]["usage"]),
                )
            }
            Caller::Gemini => {
                assert!(evs.iter().all(|(n, _)| n.is_none()), "Gemini streams have no event names: {body}");
                let text = data.iter().map(gemini_text).collect();
                let last = data.last().unwrap();
                (
                    text,
                    last["candidates"][0]["finishReason"].as_str().unwrap_or("").into(),
                    gemini_usage(&last["usageMetadata"]),
                )
            }
        }
    }

    /// What a finished text answer's stop reason is called in this dialect.
    fn stop(self) -> &'static str {
        match self {
            Caller::Anthropic => "end_turn",
            Caller::Chat => "stop",
            Caller::Responses => "completed",
            Caller::Gemini => "STOP",
        }
    }

    /// (input, cache_read, output) as this dialect reports 20 uncached + 10 cached input, 7 output.
    fn usage(self) -> (u64, u64, u64) {
        match self {
            Caller::Anthropic => (20, 10, 7),
            _ => (30, 10, 7),
        }
    }
}

fn texts(content: &Value, kind: &str) -> String {
    content
        .as_array()
        .map(|a| a.iter().filter(|b| b["type"] == kind).filter_map(|b| b["text"].as_str()).collect())
        .unwrap_or_default()
}

fn gemini_text(j: &Value) -> String {
    j["candidates"][0]["content"]["parts"]
        .as_array()
        .map(|ps| ps.iter().filter(|p| p["thought"] != true).filter_map(|p| p["text"].as_str()).collect())
        .unwrap_or_default()
}

fn chat_usage(u: &Value) -> (u64, u64, u64) {
    let n = |v: &Value| v.as_u64().unwrap_or(0);
    (n(&u["prompt_tokens"]), n(&u["prompt_tokens_details"]["cached_tokens"]), n(&u["completion_tokens"]))
}

fn responses_usage(u: &Value) -> (u64, u64, u64) {
    let n = |v: &Value| v.as_u64().unwrap_or(0);
    assert_eq!(n(&u["total_tokens"]), n(&u["input_tokens"]) + n(&u["output_tokens"]), "{u}");
    (n(&u["input_tokens"]), n(&u["input_tokens_details"]["cached_tokens"]), n(&u["output_tokens"]))
}

fn gemini_usage(u: &Value) -> (u64, u64, u64) {
    let n = |v: &Value| v.as_u64().unwrap_or(0);
    let out = n(&u["candidatesTokenCount"]) + n(&u["thoughtsTokenCount"]);
    assert_eq!(n(&u["totalTokenCount"]), n(&u["promptTokenCount"]) + out, "{u}");
    (n(&u["promptTokenCount"]), n(&u["cachedContentTokenCount"]), out)
}

async fn cell(caller: Caller, up: Up, stream: bool) {
    let mock = Mock::start().await;
    mock.push(if stream { Reply::sse(&up.sse()) } else { Reply::ok(up.json()) });
    let gw = start_gateway(&config(&mock)).await;
    let (path, body) = caller.request(up.alias(), stream);
    let a = post(gw.addr, &path, &[("anthropic-version", "2023-06-01")], &body).await;
    let cell = format!("{caller:?} -> {up:?} (stream: {stream})");
    assert_eq!(a.status, 200, "{cell}: {}", a.body);
    assert_eq!(mock.count(), 1, "{cell}: one upstream call");
    let upstream = mock.last();
    assert_eq!(upstream.path_and_query, up.path(stream), "{cell}");
    if up != Up::Gemini {
        assert_eq!(upstream.json()["model"], "up-model", "{cell}");
    }
    let ctype = a.headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("");
    let (text, stop, usage) = if stream {
        assert!(ctype.starts_with("text/event-stream"), "{cell}: content-type {ctype}");
        caller.read_stream(&a.body)
    } else {
        assert!(ctype.starts_with("application/json"), "{cell}: content-type {ctype}");
        caller.read_json(&a.json())
    };
    assert_eq!(text, up.text(), "{cell}: {}", a.body);
    assert_eq!(stop, caller.stop(), "{cell}: {}", a.body);
    assert_eq!(usage, caller.usage(), "{cell} usage (input, cache_read, output): {}", a.body);
}

macro_rules! cells {
    ($($(#[$meta:meta])* $plain:ident, $streamed:ident: $caller:ident -> $up:ident;)*) => {$(
        #[tokio::test]
        $(#[$meta])*
        async fn $plain() {
            cell(Caller::$caller, Up::$up, false).await;
        }
        #[tokio::test]
        $(#[$meta])*
        async fn $streamed() {
            cell(Caller::$caller, Up::$up, true).await;
        }
    )*};
}

cells! {
    anthropic_to_anthropic, anthropic_to_anthropic_stream: Anthropic -> Anthropic;
    anthropic_to_chat, anthropic_to_chat_stream: Anthropic -> Chat;
    anthropic_to_responses, anthropic_to_responses_stream: Anthropic -> Responses;
    anthropic_to_gemini, anthropic_to_gemini_stream: Anthropic -> Gemini;
    chat_to_anthropic, chat_to_anthropic_stream: Chat -> Anthropic;
    chat_to_chat, chat_to_chat_stream: Chat -> Chat;
    chat_to_responses, chat_to_responses_stream: Chat -> Responses;
    chat_to_gemini, chat_to_gemini_stream: Chat -> Gemini;
    responses_to_anthropic, responses_to_anthropic_stream: Responses -> Anthropic;
    responses_to_chat, responses_to_chat_stream: Responses -> Chat;
    responses_to_responses, responses_to_responses_stream: Responses -> Responses;
    responses_to_gemini, responses_to_gemini_stream: Responses -> Gemini;
    gemini_to_anthropic, gemini_to_anthropic_stream: Gemini -> Anthropic;
    gemini_to_chat, gemini_to_chat_stream: Gemini -> Chat;
    gemini_to_responses, gemini_to_responses_stream: Gemini -> Responses;
    gemini_to_gemini, gemini_to_gemini_stream: Gemini -> Gemini;
}

/// Gemini sends `usageMetadata` on every chunk; the ones before the last have the prompt count
/// but no `cachedContentTokenCount`. Usage is a snapshot each time: the last one wins.
#[tokio::test]
async fn gemini_stream_usage_is_the_last_snapshot() {
    let mock = Mock::start().await;
    let partial = r#"{"promptTokenCount":30,"totalTokenCount":30}"#;
    let first =
        Up::Gemini.sse().replacen(r#""modelVersion""#, &format!(r#""usageMetadata":{partial},"modelVersion""#), 1);
    mock.push(Reply::sse(&first));
    let gw = start_gateway(&config(&mock)).await;
    let (path, body) = Caller::Responses.request(Up::Gemini.alias(), true);
    let a = post(gw.addr, &path, &[], &body).await;
    assert_eq!(a.status, 200, "{}", a.body);
    let (_, _, usage) = Caller::Responses.read_stream(&a.body);
    assert_eq!(usage, Caller::Responses.usage(), "{}", a.body);
}

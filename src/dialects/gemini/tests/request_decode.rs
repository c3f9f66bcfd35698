//! Caller body -> IR request.

use serde_json::json;

use super::super::decode_request;
use crate::ir::{Block, MediaSource, Reasoning, ReasoningEffort, ResponseFormat, Role, ToolChoice};

fn decode(v: serde_json::Value) -> crate::ir::Request {
    decode_request(v.to_string().as_bytes()).unwrap()
}

#[test]
fn contents_roles_system_and_both_spellings() {
    let req = decode(json!({
        "system_instruction": {"parts": [{"text": "Be brief."}]},
        "contents": [
            {"role": "user", "parts": [{"text": "Hi"}]},
            {"role": "model", "parts": [{"text": "Hello"}]},
            {"parts": [{"text": "Bye"}]},
        ],
        "generation_config": {"max_output_tokens": 100, "topK": 40.0, "stop_sequences": ["END"]},
    }));
    assert_eq!(req.system[0].text, "Be brief.");
    assert_eq!(req.messages.iter().map(|m| m.role).collect::<Vec<_>>(), [Role::User, Role::Assistant, Role::User]);
    assert_eq!((req.max_tokens, req.top_k), (Some(100), Some(40)));
    assert_eq!(req.stop_sequences, ["END"]);
    assert!(req.model.is_empty() && !req.stream && req.unsupported.is_empty());
}

#[test]
fn signatures_become_thinking_blocks_before_their_part() {
    let req = decode(json!({"contents": [
        {"role": "user", "parts": [{"text": "go"}]},
        {"role": "model", "parts": [
            {"text": "plan", "thought": true, "thoughtSignature": "T"},
            {"text": "ok", "thoughtSignature": "A"},
            {"functionCall": {"name": "f", "args": {"x": 1}}, "thoughtSignature": "B"},
        ]},
    ]}));
    assert_eq!(
        req.messages[1].content,
        vec![
            Block::Thinking { thinking: "plan".into(), signature: Some("T".into()) },
            Block::Thinking { thinking: String::new(), signature: Some("A".into()) },
            Block::Text { text: "ok".into(), cache_control: None },
            Block::Thinking { thinking: String::new(), signature: Some("B".into()) },
            Block::ToolUse { id: "call_1_2".into(), name: "f".into(), input: json!({"x": 1}) },
        ]
    );
}

#[test]
fn function_responses_pair_by_id_then_by_name() {
    let req = decode(json!({"contents": [
        {"role": "user", "parts": [{"text": "go"}]},
        {"role": "model", "parts": [
            {"functionCall": {"name": "read", "args": {"p": "a"}}},
            {"functionCall": {"name": "read", "args": {"p": "b"}}},
            {"functionCall": {"id": "w1", "name": "write", "args": {}}},
        ]},
        {"role": "user", "parts": [
            {"functionResponse": {"id": "w1", "name": "write", "response": {"error": "denied"}}},
            {"functionResponse": {"id": "cli-made-up", "name": "read", "response": {"output": "B"}}},
            {"functionResponse": {"name": "read", "response": {"content": [1, 2]}}},
        ]},
    ]}));
    let results: Vec<(String, bool, String)> = req.messages[2]
        .content
        .iter()
        .map(|b| match b {
            Block::ToolResult { tool_use_id, is_error, content, .. } => {
                let Block::Text { text, .. } = &content[0] else { panic!() };
                (tool_use_id.clone(), *is_error, text.clone())
            }
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        results,
        [
            ("w1".into(), true, "denied".into()),
            ("call_1_1".into(), false, "B".into()),
            ("call_1_0".into(), false, "{\"content\":[1,2]}".into()),
        ]
    );
    let orphan =
        json!({"contents": [{"role": "user", "parts": [{"functionResponse": {"name": "x", "response": {}}}]}]});
    let e = decode_request(orphan.to_string().as_bytes()).unwrap_err();
    assert_eq!(e.param.as_deref(), Some("contents[0].parts[0].functionResponse"));
}

#[test]
fn media_parts() {
    let req = decode(json!({"contents": [{"role": "user", "parts": [
        {"inlineData": {"mimeType": "image/png", "data": "AAAA"}},
        {"inlineData": {"mimeType": "application/pdf", "data": "JVBE"}},
        {"fileData": {"mimeType": "image/jpeg", "fileUri": "gs://b/cat.jpg"}},
        {"inlineData": {"mimeType": "audio/mp3", "data": "SUQz"}},
    ]}]}));
    let c = &req.messages[0].content;
    assert_eq!(
        c[0],
        Block::Image {
            source: MediaSource::Base64 { media_type: "image/png".into(), data: "AAAA".into() },
            cache_control: None
        }
    );
    assert!(
        matches!(&c[1], Block::Document { source: MediaSource::Base64 { media_type, .. }, .. } if media_type == "application/pdf")
    );
    assert!(matches!(&c[2], Block::Image { source: MediaSource::Url { url }, .. } if url == "gs://b/cat.jpg"));
    assert_eq!(req.unsupported.keys().collect::<Vec<_>>(), ["contents[0].parts[3]"]);
}

#[test]
fn tools_schema_conversion_and_tool_config() {
    let req = decode(json!({
        "contents": [{"role": "user", "parts": [{"text": "x"}]}],
        "tools": [{"functionDeclarations": [
            {"name": "a", "parameters": {"type": "OBJECT", "properties": {
                "u": {"type": "STRING", "nullable": true, "enum": ["c", "f"]},
                "n": {"type": "ARRAY", "items": {"type": "INTEGER"}, "minItems": "1"}},
                "required": ["u"], "propertyOrdering": ["u", "n"]}},
            {"name": "b", "parametersJsonSchema": {"type": "object", "additionalProperties": false}},
        ]}],
        "toolConfig": {"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["b"]}},
    }));
    assert_eq!(
        req.tools[0].input_schema,
        json!({"type": "object", "properties": {
            "u": {"type": ["string", "null"], "enum": ["c", "f"]},
            "n": {"type": "array", "items": {"type": "integer"}, "minItems": 1}}, "required": ["u"]})
    );
    assert_eq!(req.tools[1].input_schema, json!({"type": "object", "additionalProperties": false}));
    assert_eq!(req.tool_choice, Some(ToolChoice::Tool { name: "b".into() }));

    for (config, want) in [
        (json!({"mode": "AUTO"}), Some(ToolChoice::Auto)),
        (json!({"mode": "ANY"}), Some(ToolChoice::Any)),
        (json!({"mode": "NONE"}), Some(ToolChoice::None)),
        (json!({"mode": "ANY", "allowedFunctionNames": ["a", "b"]}), None),
        (json!({"mode": "VALIDATED"}), Some(ToolChoice::Validated)),
        (json!({"mode": "VALIDATED", "allowedFunctionNames": ["a", "b"]}), None),
    ] {
        let req = decode(json!({"contents": [], "toolConfig": {"functionCallingConfig": config}}));
        assert_eq!(req.tool_choice, want);
        assert_eq!(req.unsupported.is_empty(), want.is_some());
    }
}

#[test]
fn thinking_config_and_response_format() {
    let r =
        |tc: serde_json::Value| decode(json!({"contents": [], "generationConfig": {"thinkingConfig": tc}})).reasoning;
    assert_eq!(r(json!({"thinkingBudget": 0})), Some(Reasoning::default()));
    assert_eq!(
        r(json!({"thinkingBudget": -1})),
        Some(Reasoning { enabled: true, adaptive: true, ..Reasoning::default() })
    );
    assert_eq!(
        r(json!({"thinkingBudget": 1024, "includeThoughts": true})),
        Some(Reasoning { enabled: true, budget_tokens: Some(1024), ..Reasoning::default() })
    );
    assert_eq!(
        r(json!({"thinkingLevel": "HIGH"})),
        Some(Reasoning { enabled: true, effort: Some(ReasoningEffort::High), ..Reasoning::default() })
    );

    let f = |gc: serde_json::Value| decode(json!({"contents": [], "generationConfig": gc}));
    assert_eq!(f(json!({"responseMimeType": "application/json"})).response_format, Some(ResponseFormat::JsonObject));
    let req = f(json!({"responseMimeType": "application/json", "responseSchema": {"type": "STRING"}}));
    assert!(
        matches!(req.response_format, Some(ResponseFormat::JsonSchema { schema, .. }) if schema == json!({"type": "string"}))
    );
    assert!(!f(json!({"responseMimeType": "text/x.enum"})).unsupported.is_empty());
    assert!(!f(json!({"frequencyPenalty": 0.3})).unsupported.is_empty());
    let mut req = f(json!({"frequencyPenalty": 0.0, "candidateCount": 1, "seed": 3, "responseModalities": ["TEXT"]}));
    crate::policy::sort(crate::ir::Dialect::Gemini, &mut req);
    assert!(req.unsupported.is_empty(), "{:?}", req.unsupported);
    assert_eq!(req.dropped, ["generationConfig.seed"]);
}

#[test]
fn refusals_and_errors() {
    let req = decode(
        json!({"contents": [], "tools": [{"googleSearch": {}}, {"codeExecution": {}}], "cachedContent": "cachedContents/x"}),
    );
    let keys: Vec<&String> = req.unsupported.keys().collect();
    assert_eq!(keys, ["cachedContent", "tools[0].googleSearch", "tools[1].codeExecution"]);
    let e = decode_request(b"{}").unwrap_err();
    assert_eq!(e.param.as_deref(), Some("contents"));
    let e = decode_request(br#"{"contents":[{"role":"system","parts":[]}]}"#).unwrap_err();
    assert_eq!(e.param.as_deref(), Some("contents[0].role"));
}

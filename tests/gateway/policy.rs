//! The translation policy through the running gateway: advisory fields dropped and named in
//! `x-amux-dropped`, per-provider parameters, strict mode from config, alias and header.

use crate::support::*;

const OPENAI_TEXT: &str = r#"{"id":"chatcmpl-1","object":"chat.completion","created":1700000000,"model":"gpt-up","choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"stop","logprobs":null}],"usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4}}"#;
const ANTHROPIC_TEXT: &str = r#"{"id":"msg_1","type":"message","role":"assistant","model":"claude-up","content":[{"type":"text","text":"ok"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":3,"output_tokens":1}}"#;

/// Claude Code's streaming hint on a tool, towards an OpenAI upstream.
const EAGER: &str = r#"{"model":"gpt-test","max_tokens":50,"tools":[{"name":"Bash","input_schema":{"type":"object"},"eager_input_streaming":true}],"messages":[{"role":"user","content":"hi"}]}"#;

/// A Chat tool turn with `name` on the tool message (what several agents send), to Anthropic.
const CHAT_TOOL_NAME: &str = r#"{"model":"claude-test","messages":[{"role":"user","content":"ls"},{"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"shell","arguments":"{}"}}]},{"role":"tool","tool_call_id":"c1","name":"shell","content":"a.txt"}],"tools":[{"type":"function","function":{"name":"shell","parameters":{"type":"object"}}}]}"#;

fn dropped(a: &Answer) -> Option<&str> {
    a.headers.get("x-amux-dropped").and_then(|v| v.to_str().ok())
}

#[tokio::test]
async fn advisory_fields_are_dropped_and_named() {
    let mock = Mock::start().await;
    let gw = start_gateway(&mock_config(&mock, "")).await;
    mock.push(Reply::ok(OPENAI_TEXT));
    let a = post(gw.addr, "/v1/messages", &[], EAGER).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(dropped(&a), Some("tools[0].eager_input_streaming"));
    assert!(mock.last().json()["tools"][0].get("eager_input_streaming").is_none());
    mock.push(Reply::ok(ANTHROPIC_TEXT));
    let a = post(gw.addr, "/v1/chat/completions", &[], CHAT_TOOL_NAME).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(dropped(&a), Some("messages[2].name"));
    // Nothing dropped, no header; the same-dialect path never has one.
    mock.push(Reply::ok(ANTHROPIC_TEXT));
    let plain = r#"{"model":"claude-test","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}"#;
    let a = post(gw.addr, "/v1/messages", &[], plain).await;
    assert_eq!((a.status, dropped(&a)), (200, None));
}

#[tokio::test]
async fn top_k_reaches_only_providers_that_take_it() {
    let mock = Mock::start().await;
    // `oai` is kind openai (no top_k); `local` is an OpenAI-compatible server that takes it.
    let cfg = mock_config(&mock, "  - {name: local-test, provider: local, model: qwen}\n").replace(
        "providers:\n",
        &format!("providers:\n  local: {{kind: vllm, base_url: 'http://{}/v1'}}\n", mock.addr),
    );
    let gw = start_gateway(&cfg).await;
    let gemini =
        r#"{"contents":[{"role":"user","parts":[{"text":"hi"}]}],"generationConfig":{"topK":40,"temperature":0.2}}"#;
    mock.push(Reply::ok(OPENAI_TEXT));
    let a = post(gw.addr, "/v1beta/models/gpt-test:generateContent", &[], gemini).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(dropped(&a), Some("generationConfig.topK"));
    assert!(mock.last().json().get("top_k").is_none(), "top_k sent to OpenAI");
    mock.push(Reply::ok(OPENAI_TEXT));
    let a = post(gw.addr, "/v1beta/models/local-test:generateContent", &[], gemini).await;
    assert_eq!((a.status, dropped(&a)), (200, None), "{}", a.body);
    assert_eq!(mock.last().json()["top_k"], 40);
}

#[tokio::test]
async fn strict_mode_refuses_what_would_be_dropped() {
    let mock = Mock::start().await;
    // Per request.
    let gw = start_gateway(&mock_config(&mock, "")).await;
    let a = post(gw.addr, "/v1/messages", &[("x-amux-translation", "strict")], EAGER).await;
    assert_eq!(a.status, 400, "{}", a.body);
    let j = a.json();
    assert_eq!(j["error"]["type"], "invalid_request_error");
    let msg = j["error"]["message"].as_str().unwrap_or_default();
    assert!(msg.contains("tools[0].eager_input_streaming") && msg.contains("strict"), "{msg}");
    // Per alias.
    let cfg = mock_config(&mock, "").replace(
        "{name: gpt-test, provider: oai, model: gpt-up}",
        "{name: gpt-test, provider: oai, model: gpt-up, translation: strict}",
    );
    let gw = start_gateway(&cfg).await;
    assert_eq!(post(gw.addr, "/v1/messages", &[], EAGER).await.status, 400);
    // Gateway-wide, and a request may ask for lenient back.
    let gw = start_gateway(&(mock_config(&mock, "") + "translation: strict\n")).await;
    let a = post(gw.addr, "/v1/chat/completions", &[], CHAT_TOOL_NAME).await;
    assert_eq!(a.status, 400, "{}", a.body);
    assert_eq!(a.json()["error"]["param"], "messages[2].name");
    mock.push(Reply::ok(ANTHROPIC_TEXT));
    let a = post(gw.addr, "/v1/chat/completions", &[("x-amux-translation", "lenient")], CHAT_TOOL_NAME).await;
    assert_eq!(a.status, 200, "{}", a.body);
}

#[tokio::test]
async fn codex_web_search_becomes_anthropic_web_search() {
    let mock = Mock::start().await;
    let gw = start_gateway(&mock_config(&mock, "")).await;
    let codex = r#"{"model":"claude-test","stream":false,"store":false,"input":"news?","tools":[{"type":"function","name":"exec_command","parameters":{"type":"object"}},{"type":"web_search","external_web_access":false}]}"#;
    let answer = r#"{"id":"msg_1","type":"message","role":"assistant","model":"claude-up","content":[{"type":"server_tool_use","id":"srvtoolu_1","name":"web_search","input":{"query":"news"}},{"type":"web_search_tool_result","tool_use_id":"srvtoolu_1","content":[]},{"type":"text","text":"Nothing new."}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":3,"output_tokens":4}}"#;
    mock.push(Reply::ok(answer));
    let a = post(gw.addr, "/v1/responses", &[], codex).await;
    assert_eq!((a.status, dropped(&a)), (200, None), "{}", a.body);
    let tools = mock.last().json()["tools"].clone();
    assert_eq!(tools[1]["type"], "web_search_20250305", "{tools}");
    assert_eq!(tools[1]["name"], "web_search");
    let j = a.json();
    assert_eq!(j["output"][0]["content"][0]["text"], "Nothing new.", "{j}");
    // Towards a Chat-only server there is no web search: dropped and named.
    let cfg = mock_config(&mock, "").replace("kind: openai,", "kind: openai, api: chat,");
    let gw = start_gateway(&cfg).await;
    mock.push(Reply::ok(OPENAI_TEXT));
    let a = post(gw.addr, "/v1/responses", &[], &codex.replace("claude-test", "gpt-test")).await;
    assert_eq!((a.status, dropped(&a)), (200, Some("tools[1]")), "{}", a.body);
    assert_eq!(mock.last().json()["tools"].as_array().map(Vec::len), Some(1));
}

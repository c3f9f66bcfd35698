//! The cross-dialect path through the running gateway, both directions, streaming and not.

use crate::support::*;

const OPENAI_COMPLETION: &str = r#"{"id":"chatcmpl-1","object":"chat.completion","created":1700000000,"model":"gpt-up","choices":[{"index":0,"message":{"role":"assistant","content":null,"tool_calls":[{"id":"call_a","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}},{"id":"call_b","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Rome\"}"}}]},"finish_reason":"tool_calls","logprobs":null}],"usage":{"prompt_tokens":30,"completion_tokens":12,"total_tokens":42,"prompt_tokens_details":{"cached_tokens":10}}}"#;

const ANTHROPIC_TOOLS_REQUEST: &str = r#"{"model":"gpt-test","max_tokens":100,"system":"be brief","tools":[{"name":"get_weather","description":"weather","input_schema":{"type":"object","properties":{"city":{"type":"string"}}}}],"messages":[{"role":"user","content":"weather in Paris and Rome?"}]}"#;

#[tokio::test]
async fn anthropic_caller_to_openai_upstream() {
    let mock = Mock::start().await;
    mock.push(Reply::ok(OPENAI_COMPLETION));
    let gw = start_gateway(&mock_config(&mock, "")).await;
    let a = post(
        gw.addr,
        "/v1/messages",
        &[("anthropic-version", "2023-06-01")],
        ANTHROPIC_TOOLS_REQUEST,
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.body);
    let up = mock.last().json();
    assert_eq!(up["model"], "gpt-up");
    assert_eq!(up["messages"][0]["role"], "system");
    assert_eq!(up["tools"][0]["function"]["name"], "get_weather");
    let j = a.json();
    assert_eq!(j["type"], "message");
    assert_eq!(j["stop_reason"], "tool_use");
    assert_eq!(j["content"][0]["type"], "tool_use");
    assert_eq!(j["content"][1]["input"]["city"], "Rome");
    assert_eq!(j["usage"]["input_tokens"], 20);
    assert_eq!(j["usage"]["cache_read_input_tokens"], 10);
    assert_eq!(j["usage"]["output_tokens"], 12);
}

#[tokio::test]
async fn anthropic_caller_streams_from_openai_upstream() {
    let mock = Mock::start().await;
    let sse = "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-up\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":null}]}\n\ndata: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-up\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hello\"},\"finish_reason\":null}]}\n\ndata: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-up\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\" there\"},\"finish_reason\":\"stop\"}]}\n\ndata: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-up\",\"choices\":[],\"usage\":{\"prompt_tokens\":8,\"completion_tokens\":2,\"total_tokens\":10}}\n\ndata: [DONE]\n\n";
    mock.push(Reply::sse(sse));
    let gw = start_gateway(&mock_config(&mock, "")).await;
    let a = post(gw.addr, "/v1/messages", &[], r#"{"model":"gpt-test","max_tokens":100,"stream":true,"messages":[{"role":"user","content":"hi"}]}"#).await;
    assert_eq!(a.status, 200);
    assert_eq!(mock.last().json()["stream_options"]["include_usage"], true);
    let evs = sse_events(&a.body);
    let names: Vec<&str> = evs
        .iter()
        .map(|(n, _)| n.as_deref().unwrap_or(""))
        .collect();
    assert_eq!(
        names,
        [
            "message_start",
            "content_block_start",
            "content_block_delta",
            "content_block_delta",
            "content_block_stop",
            "message_delta",
            "message_stop"
        ],
        "{}",
        a.body
    );
    let delta: serde_json::Value = serde_json::from_str(&evs[5].1).unwrap();
    assert_eq!(delta["delta"]["stop_reason"], "end_turn");
    assert_eq!(delta["usage"]["output_tokens"], 2);
    let recs = gw.records.wait_for(1).await;
    assert_eq!(
        (recs[0].usage.input_tokens, recs[0].usage.output_tokens),
        (8, 2)
    );
    assert!(!recs[0].passthrough);
}

const ANTHROPIC_MESSAGE: &str = r#"{"id":"msg_01","type":"message","role":"assistant","model":"claude-up","content":[{"type":"text","text":"Bonjour"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":15,"output_tokens":4,"cache_read_input_tokens":100,"cache_creation_input_tokens":20}}"#;

#[tokio::test]
async fn openai_caller_to_anthropic_upstream() {
    let mock = Mock::start().await;
    mock.push(Reply::ok(ANTHROPIC_MESSAGE));
    let gw = start_gateway(&mock_config(&mock, "")).await;
    let a = post(
        gw.addr,
        "/v1/chat/completions",
        &[("authorization", "Bearer whatever")],
        r#"{"model":"claude-test","messages":[{"role":"system","content":"translate"},{"role":"user","content":"hello"}],"max_tokens":50,"temperature":0.2}"#,
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.body);
    let up = mock.last();
    assert_eq!(up.path_and_query, "/v1/messages");
    assert_eq!(up.headers["x-api-key"], "sk-ant-upstream");
    assert!(
        up.headers.get("authorization").is_none(),
        "caller auth never forwarded"
    );
    let uj = up.json();
    assert_eq!(uj["model"], "claude-up");
    assert_eq!(uj["max_tokens"], 50);
    assert!(uj["system"].to_string().contains("translate"));
    let j = a.json();
    assert_eq!(j["object"], "chat.completion");
    assert_eq!(j["choices"][0]["message"]["content"], "Bonjour");
    assert_eq!(j["choices"][0]["finish_reason"], "stop");
    assert_eq!(j["usage"]["prompt_tokens"], 135);
    assert_eq!(j["usage"]["prompt_tokens_details"]["cached_tokens"], 100);
}

#[tokio::test]
async fn openai_caller_streams_from_anthropic_upstream() {
    let mock = Mock::start().await;
    let sse = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-up\",\"content\":[],\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":25,\"output_tokens\":1}}}\n\nevent: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\nevent: ping\ndata: {\"type\": \"ping\"}\n\nevent: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hi!\"}}\n\nevent: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\nevent: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":6}}\n\nevent: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";
    mock.push(Reply::sse(sse));
    let gw = start_gateway(&mock_config(&mock, "")).await;
    let a = post(
        gw.addr,
        "/v1/chat/completions",
        &[],
        r#"{"model":"claude-test","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hello"}]}"#,
    )
    .await;
    assert_eq!(a.status, 200);
    let evs = sse_events(&a.body);
    assert_eq!(evs.last().unwrap().1, "[DONE]");
    let chunks: Vec<serde_json::Value> = evs[..evs.len() - 1]
        .iter()
        .map(|(_, d)| serde_json::from_str(d).unwrap())
        .collect();
    let text: String = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
        .collect();
    assert_eq!(text, "Hi!");
    assert!(
        chunks
            .iter()
            .any(|c| c["choices"][0]["finish_reason"] == "stop")
    );
    let usage = chunks
        .iter()
        .find(|c| c["usage"].is_object())
        .expect("usage chunk");
    assert_eq!(usage["usage"]["prompt_tokens"], 25);
    assert_eq!(usage["usage"]["completion_tokens"], 6);
}

#[tokio::test]
async fn features_the_target_cannot_express_are_refused() {
    let mock = Mock::start().await;
    let gw = start_gateway(&mock_config(&mock, "")).await;
    let a = post(
        gw.addr,
        "/v1/chat/completions",
        &[],
        r#"{"model":"claude-test","n":3,"messages":[{"role":"user","content":"x"}]}"#,
    )
    .await;
    assert_eq!(a.status, 400, "{}", a.body);
    assert_eq!(a.json()["error"]["param"], "n");
    assert_eq!(mock.count(), 0);
}

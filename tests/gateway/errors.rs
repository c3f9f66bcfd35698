//! Errors keep their meaning in the caller's shape: routing, malformed bodies, upstream statuses,
//! transport failures, and failures after the first streamed byte.

use std::time::Duration;

use crate::support::*;

#[tokio::test]
async fn unknown_model_is_404_in_each_callers_shape() {
    let mock = Mock::start().await;
    let gw = start_gateway(&mock_config(&mock, "")).await;
    let a = post(gw.addr, "/v1/messages", &[], r#"{"model":"nope","max_tokens":1,"messages":[]}"#).await;
    assert_eq!(a.status, 404);
    let j = a.json();
    assert_eq!(j["type"], "error");
    assert_eq!(j["error"]["type"], "not_found_error");
    let msg = j["error"]["message"].as_str().unwrap();
    assert!(msg.contains("\"nope\"") && msg.contains("claude-test") && msg.contains("anth/<model>"), "{msg}");
    let o = post(gw.addr, "/v1/chat/completions", &[], r#"{"model":"nope","messages":[]}"#).await;
    assert_eq!(o.status, 404);
    assert_eq!(o.json()["error"]["param"], "model");
    assert_eq!(mock.count(), 0);
}

#[tokio::test]
async fn malformed_requests_are_400_naming_the_field() {
    let mock = Mock::start().await;
    let gw = start_gateway(&mock_config(&mock, "")).await;
    let a = post(gw.addr, "/v1/messages", &[], r#"{"model": "claude-test", "#).await;
    assert_eq!(a.status, 400);
    assert_eq!(a.json()["error"]["type"], "invalid_request_error");
    assert!(a.json()["error"]["message"].as_str().unwrap().starts_with("body:"));
    let b = post(gw.addr, "/v1/chat/completions", &[], r#"{"messages":[]}"#).await;
    assert_eq!(b.status, 400);
    assert_eq!(b.json()["error"]["message"], "model: is required");
    let c = post(gw.addr, "/v1/chat/completions", &[], r#"{"model":"gpt-test","stream":"yes","messages":[]}"#).await;
    assert_eq!(c.status, 400);
    assert_eq!(c.json()["error"]["param"], "stream");
    assert_eq!(mock.count(), 0);
}

#[tokio::test]
async fn upstream_429_keeps_retry_after_and_shape() {
    let mock = Mock::start().await;
    mock.push(Reply::Json {
        status: 429,
        headers: vec![("retry-after", "17".into())],
        body: r#"{"type":"error","error":{"type":"rate_limit_error","message":"slow down"}}"#.into(),
    });
    mock.push(Reply::Json {
        status: 429,
        headers: vec![("retry-after", "3".into())],
        body: r#"{"error":{"message":"Rate limit reached","type":"requests","code":"rate_limit_exceeded"}}"#.into(),
    });
    let gw = start_gateway(&mock_config(&mock, "")).await;
    let a = post(
        gw.addr,
        "/v1/messages",
        &[],
        r#"{"model":"claude-test","max_tokens":5,"messages":[{"role":"user","content":"x"}]}"#,
    )
    .await;
    assert_eq!(a.status, 429);
    assert_eq!(a.headers["retry-after"], "17");
    assert_eq!(a.json()["error"]["type"], "rate_limit_error");
    // Cross dialect: OpenAI upstream 429 reaches an Anthropic caller as a rate_limit_error.
    let b = post(
        gw.addr,
        "/v1/messages",
        &[],
        r#"{"model":"gpt-test","max_tokens":5,"messages":[{"role":"user","content":"x"}]}"#,
    )
    .await;
    assert_eq!(b.status, 429);
    assert_eq!(b.headers["retry-after"], "3");
    assert_eq!(b.json()["error"]["type"], "rate_limit_error");
    let recs = gw.records.wait_for(2).await;
    assert!(recs.iter().all(|r| matches!(r.outcome, amux::usage::Outcome::Error { status: 429, .. })));
}

#[tokio::test]
async fn context_overflow_from_any_upstream_says_prompt_is_too_long() {
    let mock = Mock::start().await;
    mock.push(Reply::status(
        400,
        r#"{"error":{"message":"This model's maximum context length is 128000 tokens. However, your messages resulted in 130000 tokens.","type":"invalid_request_error","param":"messages","code":"context_length_exceeded"}}"#,
    ));
    let gw = start_gateway(&mock_config(&mock, "")).await;
    let a = post(
        gw.addr,
        "/v1/messages",
        &[],
        r#"{"model":"gpt-test","max_tokens":5,"messages":[{"role":"user","content":"x"}]}"#,
    )
    .await;
    assert_eq!(a.status, 400);
    assert_eq!(a.json()["error"]["type"], "invalid_request_error");
    assert!(a.json()["error"]["message"].as_str().unwrap().contains("prompt is too long"), "{}", a.body);
}

#[tokio::test]
async fn upstream_5xx_timeouts_and_connect_failures_name_the_provider() {
    let mock = Mock::start().await;
    mock.push(Reply::status(500, r#"{"type":"error","error":{"type":"api_error","message":"boom"}}"#));
    mock.push(Reply::status(529, r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#));
    mock.push(Reply::Hang);
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let extra = "  - {name: dead, provider: gone, model: m}\n  - {name: slow, provider: slowp, model: m}\n";
    let cfg = mock_config(&mock, extra).replace(
        "models:",
        &format!(
            "  gone: {{kind: anthropic, base_url: 'http://{closed}', timeouts: {{connect_secs: 1}}}}\n  slowp: {{kind: anthropic, base_url: 'http://{}', timeouts: {{response_secs: 0.3}}}}\nmodels:",
            mock.addr
        ),
    );
    let gw = start_gateway(&cfg).await;
    let body = |m: &str| format!(r#"{{"model":"{m}","max_tokens":5,"messages":[{{"role":"user","content":"x"}}]}}"#);
    let a = post(gw.addr, "/v1/messages", &[], &body("claude-test")).await;
    assert_eq!(a.status, 502);
    assert!(a.body.contains("provider anth"), "{}", a.body);
    let b = post(gw.addr, "/v1/messages", &[], &body("claude-test")).await;
    assert_eq!(b.status, 503);
    assert_eq!(b.json()["error"]["type"], "overloaded_error");
    let c = post(gw.addr, "/v1/messages", &[], &body("slow")).await;
    assert_eq!(c.status, 504);
    assert!(c.body.contains("provider slowp"), "{}", c.body);
    let d = post(gw.addr, "/v1/chat/completions", &[], &body("dead")).await;
    assert_eq!(d.status, 503);
    assert!(d.json()["error"]["message"].as_str().unwrap().contains("provider gone"), "{}", d.body);
}

#[tokio::test]
async fn failure_after_first_byte_is_an_error_event_then_the_end() {
    let mock = Mock::start().await;
    let start = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-up\",\"content\":[],\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":3,\"output_tokens\":1}}}\n\n";
    // The connection drops after the first event; then a stream that ends without message_stop.
    let head = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n";
    let raw = raw_then_close(&format!("{head}{:x}\r\n{start}\r\n", start.len())).await;
    mock.push(Reply::Sse { pieces: vec![(Duration::ZERO, start.into())] });
    let extra = "  - {name: cut, provider: rawp, model: m}\n";
    let cfg = mock_config(&mock, extra)
        .replace("models:", &format!("  rawp: {{kind: anthropic, base_url: 'http://{raw}'}}\nmodels:"));
    let gw = start_gateway(&cfg).await;
    for model in ["cut", "claude-test"] {
        let body = format!(
            r#"{{"model":"{model}","max_tokens":5,"stream":true,"messages":[{{"role":"user","content":"x"}}]}}"#
        );
        let a = post(gw.addr, "/v1/messages", &[], &body).await;
        assert_eq!(a.status, 200);
        let evs = sse_events(&a.body);
        assert_eq!(evs.first().unwrap().0.as_deref(), Some("message_start"), "{}", a.body);
        let (name, data) = evs.last().unwrap();
        assert_eq!(name.as_deref(), Some("error"), "{}", a.body);
        let j: serde_json::Value = serde_json::from_str(data).unwrap();
        assert_eq!(j["type"], "error");
    }
    let recs = gw.records.wait_for(2).await;
    assert!(recs.iter().all(|r| matches!(r.outcome, amux::usage::Outcome::Error { .. })), "{recs:?}");
}

#[tokio::test]
async fn duplicate_top_level_fields_are_refused_before_routing() {
    let mock = Mock::start().await;
    let gw = start_gateway(&mock_config(&mock, "")).await;
    let a = post(
        gw.addr,
        "/v1/messages",
        &[],
        r#"{"model":"claude-test","max_tokens":5,"messages":[],"model":"claude-opus-4-1"}"#,
    )
    .await;
    assert_eq!(a.status, 400, "{}", a.body);
    assert!(a.body.contains("duplicate field"), "{}", a.body);
    let o = post(gw.addr, "/v1/chat/completions", &[], r#"{"model":"gpt-test","messages":[],"model":"o3"}"#).await;
    assert_eq!(o.status, 400, "{}", o.body);
    // Calls that only translate (decoded first, without the scan) refuse repeats alike,
    // whether amux reads the member or not.
    let translated = [
        (
            "/v1/messages",
            r#"{"model":"gpt-test","max_tokens":5,"messages":[{"role":"user","content":"x"}],"max_tokens":6}"#,
        ),
        (
            "/v1/messages",
            r#"{"model":"gpt-test","max_tokens":5,"messages":[{"role":"user","content":"x"}],"x":1,"x":2}"#,
        ),
        (
            "/v1/chat/completions",
            r#"{"model":"claude-test","messages":[{"role":"user","content":"x"}],"stream":false,"stream":true}"#,
        ),
        ("/v1/chat/completions", r#"{"model":"claude-test","messages":[{"role":"user","content":"x"}],"x":1,"x":2}"#),
    ];
    for (path, body) in translated {
        let a = post(gw.addr, path, &[], body).await;
        assert_eq!(a.status, 400, "{body}: {}", a.body);
        assert!(a.body.contains("duplicate field"), "{body}: {}", a.body);
    }
    assert_eq!(mock.count(), 0);
}

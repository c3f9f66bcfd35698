//! The same-dialect path: bytes in, bytes out, only the model replaced; usage observed.

use std::time::Duration;

use crate::support::*;

const ANTHROPIC_BODY: &str = r#"{"model":"claude-test","max_tokens":64,"unknown_field":{"keep":[1,2]},"messages":[{"role":"user","content":"hi"},{"role":"assistant","content":[{"type":"thinking","thinking":"hm","signature":"EqQBCg\u00e9+/=="},{"type":"text","text":"yo"}]},{"role":"user","content":"more"}]}"#;

#[tokio::test]
async fn anthropic_body_is_forwarded_byte_for_byte_with_only_the_model_replaced() {
    let mock = Mock::start().await;
    let answer = r#"{"id":"msg_1","type":"message","role":"assistant","model":"claude-up","content":[{"type":"thinking","thinking":"x","signature":"sig\u002bA=="},{"type":"text","text":"hello"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":11,"output_tokens":5,"cache_read_input_tokens":7,"cache_creation_input_tokens":3}}"#;
    mock.push(Reply::Json {
        status: 200,
        headers: vec![("request-id", "req_123".into())],
        body: answer.into(),
    });
    let gw = start_gateway(&mock_config(&mock, "")).await;
    let a = post(
        gw.addr,
        "/v1/messages?beta=true",
        &[
            ("x-api-key", "client-key"),
            ("anthropic-version", "2023-06-01"),
            ("anthropic-beta", "interleaved-thinking-2025-05-14"),
        ],
        ANTHROPIC_BODY,
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body, answer, "response bytes unchanged");
    assert_eq!(a.headers["request-id"], "req_123");
    let up = mock.last();
    assert_eq!(up.path_and_query, "/v1/messages?beta=true");
    assert_eq!(
        String::from_utf8(up.body.to_vec()).unwrap(),
        ANTHROPIC_BODY.replace("\"claude-test\"", "\"claude-up\"")
    );
    assert_eq!(
        up.headers["anthropic-beta"],
        "interleaved-thinking-2025-05-14"
    );
    assert_eq!(up.headers["anthropic-version"], "2023-06-01");
    assert_eq!(
        up.headers["x-api-key"], "sk-ant-upstream",
        "the provider's key replaces the caller's"
    );
    let recs = gw.records.wait_for(1).await;
    assert_eq!(recs[0].usage.input_tokens, 11);
    assert_eq!(recs[0].usage.cache_read_tokens, 7);
    assert_eq!(recs[0].usage.cache_write_tokens, 3);
    assert!(recs[0].passthrough);
    assert_eq!(recs[0].outcome, amux::usage::Outcome::Success);
}

const ANTHROPIC_SSE: &str = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-up\",\"content\":[],\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":20,\"output_tokens\":1}}}\n\nevent: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"thinking\",\"thinking\":\"\",\"signature\":\"\"}}\n\nevent: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"signature_delta\",\"signature\":\"EqQB\\u00e9==\"}}\n\nevent: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\nevent: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":9}}\n\nevent: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";

#[tokio::test]
async fn anthropic_stream_is_forwarded_as_it_arrives_and_usage_observed() {
    let mock = Mock::start().await;
    let pieces: Vec<(Duration, String)> = ANTHROPIC_SSE
        .as_bytes()
        .chunks(61)
        .map(|c| {
            (
                Duration::from_millis(2),
                String::from_utf8_lossy(c).into_owned(),
            )
        })
        .collect();
    // chunks(61) may split a multi-byte char; the fixture is ASCII so it does not.
    mock.push(Reply::Sse { pieces });
    let gw = start_gateway(&mock_config(&mock, "")).await;
    let body = ANTHROPIC_BODY.replace("\"max_tokens\":64", "\"max_tokens\":64,\"stream\":true");
    let a = post(gw.addr, "/v1/messages", &[], &body).await;
    assert_eq!(a.status, 200);
    assert!(
        a.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    assert_eq!(a.body, ANTHROPIC_SSE);
    let recs = gw.records.wait_for(1).await;
    assert_eq!(recs[0].usage.input_tokens, 20);
    assert_eq!(recs[0].usage.output_tokens, 9);
    assert!(recs[0].stream && recs[0].time_to_first_byte.is_some());
}

const OPENAI_SSE: &str = "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-up\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"Hi\"},\"finish_reason\":null}],\"usage\":null}\n\ndata: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-up\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}],\"usage\":null}\n\ndata: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-up\",\"choices\":[],\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":2,\"total_tokens\":11,\"prompt_tokens_details\":{\"cached_tokens\":4}}}\n\ndata: [DONE]\n\n";

#[tokio::test]
async fn openai_stream_gets_usage_upstream_and_strips_it_when_not_asked() {
    let mock = Mock::start().await;
    mock.push(Reply::sse(OPENAI_SSE));
    mock.push(Reply::sse(OPENAI_SSE));
    let gw = start_gateway(&mock_config(&mock, "")).await;

    let a = post(gw.addr, "/v1/chat/completions", &[], r#"{"model":"gpt-test","stream":true,"messages":[{"role":"user","content":"hi"}],"x_vendor":1}"#).await;
    assert_eq!(a.status, 200);
    let up = mock.last().json();
    assert_eq!(up["stream_options"]["include_usage"], true);
    assert_eq!(up["model"], "gpt-up");
    assert_eq!(up["x_vendor"], 1);
    assert!(
        !a.body.contains("\"choices\":[]"),
        "usage chunk stripped: {}",
        a.body
    );
    assert!(a.body.ends_with("data: [DONE]\n\n"));

    let b = post(
        gw.addr,
        "/v1/chat/completions",
        &[],
        r#"{"model":"gpt-test","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}]}"#,
    )
    .await;
    assert_eq!(b.body, OPENAI_SSE, "asked for usage: forwarded untouched");
    let recs = gw.records.wait_for(2).await;
    for r in recs {
        assert_eq!(
            (
                r.usage.input_tokens,
                r.usage.cache_read_tokens,
                r.usage.output_tokens
            ),
            (5, 4, 2)
        );
    }
}

#[tokio::test]
async fn provider_path_names_route_and_params_apply() {
    let mock = Mock::start().await;
    mock.push(Reply::ok(r#"{"id":"c","object":"chat.completion","created":1,"model":"m","choices":[],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}"#));
    let cfg = mock_config(&mock, "").replace(
        "api_key: sk-oai-upstream,",
        "api_key: sk-oai-upstream, params: {reasoning_effort: low},",
    );
    let gw = start_gateway(&cfg).await;
    let a = post(
        gw.addr,
        "/v1/chat/completions",
        &[],
        r#"{"model":"oai/vendor/model-x:latest","messages":[]}"#,
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.body);
    let up = mock.last();
    assert_eq!(up.path_and_query, "/v1/chat/completions");
    assert_eq!(up.headers["authorization"], "Bearer sk-oai-upstream");
    assert_eq!(up.json()["model"], "vendor/model-x:latest");
    assert_eq!(up.json()["reasoning_effort"], "low");
}

#[tokio::test]
async fn client_disconnect_cancels_upstream_and_records_partial_usage() {
    let mock = Mock::start().await;
    let start = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-up\",\"content\":[],\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":42,\"output_tokens\":1}}}\n\n";
    let mut pieces = vec![(Duration::ZERO, start.to_string())];
    for _ in 0..200 {
        pieces.push((
            Duration::from_millis(20),
            "event: ping\ndata: {\"type\":\"ping\"}\n\n".to_string(),
        ));
    }
    mock.push(Reply::Sse { pieces });
    let gw = start_gateway(&mock_config(&mock, "")).await;
    let req = http::Request::builder()
        .method("POST")
        .uri(format!("http://{}/v1/messages", gw.addr))
        .body(http_body_util::Full::new(bytes::Bytes::from(
            r#"{"model":"claude-test","max_tokens":5,"stream":true,"messages":[]}"#,
        )))
        .unwrap();
    let resp = client().request(req).await.unwrap();
    let mut body = resp.into_body();
    use http_body_util::BodyExt;
    let first = body.frame().await.unwrap().unwrap();
    assert!(String::from_utf8_lossy(first.data_ref().unwrap()).contains("message_start"));
    drop(body);
    let recs = gw.records.wait_for(1).await;
    assert_eq!(recs.len(), 1);
    assert_eq!(recs[0].outcome, amux::usage::Outcome::ClientDisconnected);
    assert_eq!(recs[0].usage.input_tokens, 42);
    for _ in 0..100 {
        if mock
            .stream_cancelled
            .load(std::sync::atomic::Ordering::SeqCst)
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("upstream stream was not cancelled");
}

//! Retries, fallback, cooldown and the stream fallback-before-first-byte rule, with mock upstreams
//! that fail on command and count the calls each deployment got.

use std::time::{Duration, Instant};

use crate::support::*;

const OAI_OK: &str = r#"{"id":"c","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"from openai"},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}}"#;
const ANT_OK: &str = r#"{"id":"msg_1","type":"message","role":"assistant","model":"m","content":[{"type":"text","text":"from anthropic"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":3,"output_tokens":2}}"#;
const ANT_500: &str = r#"{"type":"error","error":{"type":"api_error","message":"boom"}}"#;

fn config(mock: &Mock, router: &str, models: &str) -> String {
    format!(
        "discover_env: false\nrouter: {router}\nproviders:\n  anth: {{kind: anthropic, base_url: 'http://{a}', api_key: k}}\n  oai: {{kind: openai, base_url: 'http://{a}/v1', api_key: k}}\nmodels:\n{models}",
        a = mock.addr
    )
}

fn ask(model: &str, stream: bool) -> String {
    format!(r#"{{"model":"{model}","max_tokens":20,"stream":{stream},"messages":[{{"role":"user","content":"hi"}}]}}"#)
}

#[tokio::test]
async fn retries_a_failing_deployment_with_backoff() {
    let mock = Mock::start().await;
    mock.push(Reply::status(500, ANT_500));
    mock.push(Reply::status(503, ANT_500));
    mock.push(Reply::ok(ANT_OK));
    let gw = start_gateway(&config(
        &mock,
        "{retries: 2, backoff_initial_ms: 10}",
        "  - {name: m, provider: anth, model: a1}\n",
    ))
    .await;
    let a = post(gw.addr, "/v1/messages", &[], &ask("m", false)).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(mock.count_model("a1"), 3);
    let recs = gw.records.wait_for(1).await;
    assert_eq!(recs[0].retries, 2);
}

#[tokio::test]
async fn retry_after_is_honoured_or_passed_back() {
    let mock = Mock::start().await;
    mock.push(Reply::Json { status: 429, headers: vec![("retry-after", "1".into())], body: ANT_500.into() });
    mock.push(Reply::ok(ANT_OK));
    mock.push(Reply::Json { status: 429, headers: vec![("retry-after", "120".into())], body: ANT_500.into() });
    let gw = start_gateway(&config(
        &mock,
        "{retries: 2, backoff_initial_ms: 1, backoff_max_ms: 5000}",
        "  - {name: m, provider: anth, model: a1}\n",
    ))
    .await;
    let t0 = Instant::now();
    let a = post(gw.addr, "/v1/messages", &[], &ask("m", false)).await;
    assert_eq!(a.status, 200);
    assert!(t0.elapsed() >= Duration::from_millis(950), "waited {:?}", t0.elapsed());
    // Retry-After beyond backoff_max_ms: no retry, the caller gets the 429 and its Retry-After.
    let b = post(gw.addr, "/v1/messages", &[], &ask("m", false)).await;
    assert_eq!(b.status, 429, "{}", b.body);
    assert_eq!(b.headers["retry-after"], "120");
    assert_eq!(mock.count_model("a1"), 3);
}

#[tokio::test]
async fn falls_back_across_aliases_and_dialects() {
    let mock = Mock::start().await;
    mock.push(Reply::status(500, ANT_500));
    mock.push(Reply::ok(OAI_OK));
    let gw = start_gateway(&config(
        &mock,
        "{retries: 0}",
        "  - {name: primary, provider: anth, model: a1, fallbacks: [secondary]}\n  - {name: secondary, provider: oai, model: o1}\n",
    ))
    .await;
    let a = post(gw.addr, "/v1/messages", &[], &ask("primary", false)).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.json()["content"][0]["text"], "from openai", "an Anthropic caller served by the OpenAI fallback");
    assert_eq!((mock.count_model("a1"), mock.count_model("o1")), (1, 1));
    let recs = gw.records.wait_for(1).await;
    assert_eq!((recs[0].fallbacks, recs[0].provider.as_str(), recs[0].passthrough), (1, "oai", false));
}

/// The other way: a call that only translates is decoded without the body scan, which its
/// same-dialect fallback then makes (the body it forwards is the caller's, model spliced).
#[tokio::test]
async fn falls_back_from_a_translated_alias_to_a_same_dialect_one() {
    let mock = Mock::start().await;
    mock.push(Reply::status(500, r#"{"error":{"message":"boom","type":"server_error"}}"#));
    mock.push(Reply::ok(ANT_OK));
    let gw = start_gateway(&config(
        &mock,
        "{retries: 0}",
        "  - {name: primary, provider: oai, model: o1, fallbacks: [secondary]}\n  - {name: secondary, provider: anth, model: a1}\n",
    ))
    .await;
    let body = ask("primary", false);
    let a = post(gw.addr, "/v1/messages", &[], &body).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.json()["content"][0]["text"], "from anthropic");
    assert_eq!((mock.count_model("o1"), mock.count_model("a1")), (1, 1));
    let sent = mock.requests.lock().unwrap().last().unwrap().body.clone();
    let want = body.replace(r#""model":"primary""#, r#""model":"a1""#);
    assert_eq!(String::from_utf8_lossy(&sent), want, "the caller's bytes, model spliced");
    let recs = gw.records.wait_for(1).await;
    assert_eq!((recs[0].fallbacks, recs[0].provider.as_str(), recs[0].passthrough), (1, "anth", true));
}

/// A body that names its model after the messages (as the Anthropic Python SDK writes it) is
/// routed by that model, also when a nested object after it has a `model` of its own naming
/// another alias (same-dialect or translated): the gateway's guess of the model is checked
/// against the body read whole.
#[tokio::test]
async fn routes_by_the_top_level_model_wherever_the_body_names_it() {
    let mock = Mock::start().await;
    let gw = start_gateway(&config(
        &mock,
        "{retries: 0}",
        "  - {name: primary, provider: oai, model: o1}\n  - {name: same, provider: anth, model: a1}\n  - {name: other, provider: oai, model: o2}\n",
    ))
    .await;
    let messages = r#""messages":[{"role":"user","content":"say \"model\": \"same\""}]"#;
    let tools = |decoy: &str| {
        format!(
            r#","tools":[{{"name":"pick","input_schema":{{"type":"object","properties":{{"model":{{"type":"string"}}}},"examples":[{{"model":"{decoy}"}}]}}}}]"#
        )
    };
    let bodies = [
        format!(r#"{{{messages},"max_tokens":20,"model":"primary"}}"#),
        format!(r#"{{{messages},"model":"primary","max_tokens":20{}}}"#, tools("same")),
        format!(r#"{{{messages},"model":"primary","max_tokens":20{}}}"#, tools("other")),
    ];
    for body in &bodies {
        mock.push(Reply::ok(OAI_OK));
        let a = post(gw.addr, "/v1/messages", &[], body).await;
        assert_eq!(a.status, 200, "{body}: {}", a.body);
        assert_eq!(a.json()["content"][0]["text"], "from openai", "{body}");
    }
    assert_eq!((mock.count_model("o1"), mock.count_model("a1"), mock.count_model("o2")), (3, 0, 0));
    let recs = gw.records.wait_for(3).await;
    assert!(recs.iter().all(|r| r.model == "primary" && !r.passthrough), "{recs:?}");
}

#[tokio::test]
async fn cooldown_skips_a_deployment_that_keeps_failing() {
    let mock = Mock::start().await;
    let gw = start_gateway(&config(
        &mock,
        "{retries: 1, backoff_initial_ms: 1, cooldown_failures: 2, cooldown_secs: 60}",
        "  - name: m\n    strategy: lowest-latency\n    deployments:\n      - {provider: anth, model: bad}\n      - {provider: anth, model: good}\n",
    ))
    .await;
    // Lowest-latency tries unmeasured deployments first, in config order: `bad` then `good`.
    for _ in 0..2 {
        mock.push(Reply::status(500, ANT_500));
        mock.push(Reply::ok(ANT_OK));
        let a = post(gw.addr, "/v1/messages", &[], &ask("m", false)).await;
        assert_eq!(a.status, 200, "{}", a.body);
    }
    assert_eq!(mock.count_model("bad"), 2);
    // `bad` failed twice within the window: it is skipped now.
    for _ in 0..3 {
        mock.push(Reply::ok(ANT_OK));
        let a = post(gw.addr, "/v1/messages", &[], &ask("m", false)).await;
        assert_eq!(a.status, 200);
    }
    assert_eq!((mock.count_model("bad"), mock.count_model("good")), (2, 5));
}

#[tokio::test]
async fn streams_fall_back_until_the_first_byte() {
    let mock = Mock::start().await;
    // Deployment 1 answers 200 and closes before any byte; deployment 2 is slower than the
    // first-byte timeout; deployment 3 streams.
    let head = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n";
    let empty = raw_then_close(head).await;
    let sse = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"x\",\"content\":[],\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":1,\"output_tokens\":1}}}\n\nevent: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":1}}\n\nevent: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";
    mock.push(Reply::Sse { pieces: vec![(Duration::from_secs(3), sse.into())] });
    mock.push(Reply::sse(sse));
    let cfg = config(
        &mock,
        "{retries: 2, backoff_initial_ms: 1, first_byte_timeout_secs: 0.3}",
        "  - name: m\n    strategy: lowest-latency\n    deployments:\n      - {provider: cut, model: c}\n      - {provider: anth, model: slow}\n      - {provider: anth, model: fast}\n",
    )
    .replace("models:", &format!("  cut: {{kind: anthropic, base_url: 'http://{empty}'}}\nmodels:"));
    let gw = start_gateway(&cfg).await;
    let a = post(gw.addr, "/v1/messages", &[], &ask("m", true)).await;
    assert_eq!(a.status, 200);
    assert_eq!(sse_events(&a.body).last().unwrap().0.as_deref(), Some("message_stop"), "{}", a.body);
    assert_eq!((mock.count_model("slow"), mock.count_model("fast")), (1, 1));
    let recs = gw.records.wait_for(1).await;
    assert_eq!(recs[0].retries, 2);
    assert_eq!(recs[0].upstream_model, "fast");
}

#[tokio::test]
async fn context_overflow_moves_to_the_larger_context_alias() {
    let mock = Mock::start().await;
    mock.push(Reply::status(
        400,
        r#"{"error":{"message":"This model's maximum context length is 8192 tokens","type":"invalid_request_error","code":"context_length_exceeded"}}"#,
    ));
    mock.push(Reply::ok(ANT_OK));
    let gw = start_gateway(&config(
        &mock,
        "{retries: 0}",
        "  - {name: small, provider: oai, model: o-small, context_window_fallback: big}\n  - {name: big, provider: anth, model: a-big}\n",
    ))
    .await;
    let a = post(gw.addr, "/v1/chat/completions", &[], &ask("small", false)).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.json()["choices"][0]["message"]["content"], "from anthropic");
    assert_eq!((mock.count_model("o-small"), mock.count_model("a-big")), (1, 1));
}

#[tokio::test]
async fn client_errors_are_not_retried() {
    let mock = Mock::start().await;
    mock.push(Reply::status(400, r#"{"type":"error","error":{"type":"invalid_request_error","message":"bad"}}"#));
    let gw = start_gateway(&config(
        &mock,
        "{retries: 3}",
        "  - {name: m, provider: anth, model: a1, fallbacks: [m2]}\n  - {name: m2, provider: anth, model: a2}\n",
    ))
    .await;
    let a = post(gw.addr, "/v1/messages", &[], &ask("m", false)).await;
    assert_eq!(a.status, 400);
    assert_eq!(mock.count(), 1);
}

#[tokio::test]
async fn resets_before_the_answer_and_per_deployment_timeouts_fall_back() {
    let mock = Mock::start().await;
    // Deployment 1: the connection is closed before any response; deployment 2: hangs past its own
    // 0.3 s timeout; deployment 3 answers.
    let closed = raw_then_close("").await;
    mock.push(Reply::Hang);
    mock.push(Reply::ok(ANT_OK));
    let cfg = config(
        &mock,
        "{retries: 2, backoff_initial_ms: 1}",
        "  - name: m\n    strategy: lowest-latency\n    deployments:\n      - {provider: reset, model: r}\n      - {provider: anth, model: hang, timeout_secs: 0.3}\n      - {provider: anth, model: ok}\n",
    )
    .replace("models:", &format!("  reset: {{kind: anthropic, base_url: 'http://{closed}'}}\nmodels:"));
    let gw = start_gateway(&cfg).await;
    let t0 = Instant::now();
    let a = post(gw.addr, "/v1/messages", &[], &ask("m", false)).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert!(t0.elapsed() < Duration::from_secs(3), "the hung deployment's own timeout applied");
    assert_eq!((mock.count_model("hang"), mock.count_model("ok")), (1, 1));
}

#[tokio::test]
async fn refused_provider_credentials_are_a_502_cooled_down_and_fallen_back_from() {
    let mock = Mock::start().await;
    let refused = r#"{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}"#;
    let gw = start_gateway(&config(
        &mock,
        "{retries: 3, backoff_initial_ms: 1, cooldown_secs: 60}",
        "  - {name: m, provider: anth, model: a1, fallbacks: [f]}\n  - {name: f, provider: oai, model: o1}\n  - {name: alone, provider: anth, model: a2}\n",
    ))
    .await;
    // The deployment's key is refused once: not retried, the fallback answers.
    mock.push(Reply::status(401, refused));
    mock.push(Reply::ok(OAI_OK));
    let a = post(gw.addr, "/v1/messages", &[], &ask("m", false)).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!((mock.count_model("a1"), mock.count_model("o1")), (1, 1));
    // Cooling down: the next call goes straight to the fallback.
    mock.push(Reply::ok(OAI_OK));
    assert_eq!(post(gw.addr, "/v1/messages", &[], &ask("m", false)).await.status, 200);
    assert_eq!((mock.count_model("a1"), mock.count_model("o1")), (1, 2));
    // Without another deployment: a 502 naming the provider in the caller's shape (never the
    // caller's 401), counted under the provider fault domain; then no more upstream calls.
    mock.push(Reply::status(403, refused));
    for _ in 0..3 {
        let b = post(
            gw.addr,
            "/v1/chat/completions",
            &[],
            r#"{"model":"alone","messages":[{"role":"user","content":"x"}]}"#,
        )
        .await;
        assert_eq!(b.status, 502, "{}", b.body);
        let msg = b.json()["error"]["message"].as_str().unwrap().to_string();
        assert!(msg.contains("provider anth rejected the gateway's credentials"), "{msg}");
        assert_eq!(b.json()["error"]["type"], "server_error");
    }
    assert_eq!(mock.count_model("a2"), 1, "a refused key is not hammered");
    let recs = gw.records.wait_for(5).await;
    let last = recs.last().unwrap();
    assert_eq!(last.outcome, amux::usage::Outcome::Error { status: 502, kind: "provider_auth" });
    assert_eq!(last.outcome.fault(), Some(amux::usage::Fault::Provider));
}

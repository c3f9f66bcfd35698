//! Upstream faults, each on the same-dialect and the translated path, streamed and not: connect
//! refused, a reset before the headers, a reset after the headers (before any body byte, and in
//! the middle of a body), a reset in the middle of an event, a stream that ends early, garbage
//! bodies, and a 100 MB error body. Every call yields exactly one usage record with the outcome
//! the caller saw (records feed the log line, the metrics and budgets alike).

use std::time::{Duration, Instant};

use amux::usage::Outcome;

use crate::support::*;

const START: &str = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"up\",\"content\":[],\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":3,\"output_tokens\":1}}}\n\n";
const DELTA: &str = "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\nevent: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"hel\"}}\n\n";

/// A config whose provider `up` (Anthropic dialect) is at `addr`; alias `m`.
fn config_at(addr: std::net::SocketAddr) -> String {
    format!(
        "discover_env: false\nrouter: {{retries: 0, cooldown_failures: 1000}}\nproviders:\n  up: {{kind: anthropic, base_url: 'http://{addr}', api_key: sk-up-0123456789, timeouts: {{connect_secs: 1, response_secs: 5, idle_secs: 2}}}}\nmodels:\n  - {{name: m, provider: up, model: up-model}}\n"
    )
}

/// A call on each path: same dialect (Anthropic caller) or translated (OpenAI caller).
async fn call(gw: &TestGateway, translated: bool, stream: bool) -> Answer {
    if translated {
        let body = format!(r#"{{"model":"m","stream":{stream},"messages":[{{"role":"user","content":"x"}}]}}"#);
        post(gw.addr, "/v1/chat/completions", &[], &body).await
    } else {
        let body =
            format!(r#"{{"model":"m","max_tokens":5,"stream":{stream},"messages":[{{"role":"user","content":"x"}}]}}"#);
        post(gw.addr, "/v1/messages", &[], &body).await
    }
}

/// Runs one call per path and mode against a fresh gateway on `addr` (`script` readies the
/// upstream for each call); checks each call's one record against `expect`.
async fn each_path(
    name: &str,
    addr: std::net::SocketAddr,
    script: impl Fn(),
    expect: impl Fn(bool, bool, &Answer, &Outcome),
) {
    let gw = start_gateway(&config_at(addr)).await;
    let mut n = 0;
    for translated in [false, true] {
        for stream in [false, true] {
            script();
            let a = call(&gw, translated, stream).await;
            n += 1;
            let recs = gw.records.wait_for(n).await;
            tokio::time::sleep(Duration::from_millis(50)).await;
            let recs_after = gw.records.all();
            assert_eq!(
                recs_after.len(),
                n,
                "{name} (translated {translated}, stream {stream}): one record per call: {recs_after:?}"
            );
            expect(translated, stream, &a, &recs[n - 1].outcome);
        }
    }
}

/// An upstream 5xx-class failure as the caller sees it: before any byte a 502/503 in its shape,
/// after the first byte an error event ending a 200 stream.
fn failed(name: &str, a: &Answer, o: &Outcome, statuses: &[u16]) {
    match o {
        Outcome::Error { status, .. } => {
            assert!(statuses.contains(status), "{name}: outcome {o:?}, answer {} {}", a.status, a.body);
            if a.status == 200 {
                assert!(a.body.contains("error"), "{name}: the stream ends with an error event: {}", a.body);
            } else {
                assert_eq!(a.status, *status, "{name}: the record has the status the caller got");
            }
        }
        other => panic!("{name}: expected an error outcome, got {other:?} ({} {})", a.status, a.body),
    }
}

/// A raw upstream that writes `response` to every connection, then closes it.
async fn raw(response: String) -> std::net::SocketAddr {
    raw_then_close(&response).await
}

#[tokio::test]
async fn connect_refused() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    each_path("refused", closed, || {}, |_, _, a, o| failed("refused", a, o, &[503])).await;
}

#[tokio::test]
async fn reset_before_the_headers() {
    let addr = raw(String::new()).await;
    each_path("reset before headers", addr, || {}, |_, _, a, o| failed("reset", a, o, &[502])).await;
}

#[tokio::test]
async fn reset_after_the_headers_before_any_byte() {
    let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 500\r\n\r\n";
    let addr = raw(head.to_string()).await;
    each_path("reset after headers", addr, || {}, |_, _, a, o| failed("reset after headers", a, o, &[502])).await;
}

#[tokio::test]
async fn reset_in_the_middle_of_an_event() {
    let head = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n";
    let body = format!("{START}{}", &DELTA[..DELTA.len() - 30]);
    let addr = raw(format!("{head}{:x}\r\n{body}\r\n", body.len())).await;
    each_path(
        "reset mid-event",
        addr,
        || {},
        |_, stream, a, o| {
            failed("reset mid-event", a, o, &[502]);
            if stream {
                assert_eq!(a.status, 200, "the stream had started: {}", a.body);
            }
        },
    )
    .await;
}

#[tokio::test]
async fn a_stream_that_ends_early_and_garbage_bodies() {
    let mock = Mock::start().await;
    // Ends cleanly after a delta, without message_delta / message_stop.
    each_path(
        "truncated",
        mock.addr,
        || mock.push(Reply::sse(&format!("{START}{DELTA}"))),
        |_, stream, a, o| {
            if stream {
                failed("truncated", a, o, &[502]);
            } else {
                // A JSON caller asked for JSON; an SSE answer is not a message.
                assert!(matches!(o, Outcome::Error { .. } | Outcome::Success), "{o:?}");
            }
        },
    )
    .await;
    // Not JSON, not SSE.
    each_path(
        "garbage",
        mock.addr,
        || mock.push(Reply::ok("\u{1}\u{2}garbage <html>not json</html>\n\n")),
        |translated, stream, a, o| {
            if translated || stream {
                failed("garbage", a, o, &[502]);
            } else {
                // The byte path forwards what it got; nothing in it to count.
                assert_eq!((a.status, *o), (200, Outcome::Success), "{}", a.body);
            }
        },
    )
    .await;
}

#[tokio::test]
async fn a_100_mb_error_body() {
    let mock = Mock::start().await;
    let huge = format!(r#"{{"type":"error","error":{{"type":"api_error","message":"{}"}}}}"#, "x".repeat(100 << 20));
    let t0 = Instant::now();
    each_path(
        "100 MB error",
        mock.addr,
        || mock.push(Reply::status(500, huge.clone())),
        |_, _, a, o| {
            failed("100 MB error", a, o, &[502]);
            assert!(a.body.len() < 64 * 1024, "the caller gets the head of the message: {} bytes", a.body.len());
        },
    )
    .await;
    assert!(t0.elapsed() < Duration::from_secs(60), "{:?}", t0.elapsed());
}

//! Every limit of `limits:` (docs/operations.md), configured small so each test is fast: what the
//! caller sees (in its own dialect where there is a request to answer) and the count in
//! `amux_limit_hits_total{limit}`.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::*;

const ANTH: &str = r#"{"model":"claude-test","max_tokens":5,"messages":[{"role":"user","content":"x"}]}"#;
const ANTH_STREAM: &str =
    r#"{"model":"claude-test","max_tokens":5,"stream":true,"messages":[{"role":"user","content":"x"}]}"#;
const ANTH_TO_OAI_STREAM: &str =
    r#"{"model":"gpt-test","max_tokens":5,"stream":true,"messages":[{"role":"user","content":"x"}]}"#;

/// `amux_limit_hits_total{limit="<limit>"}` now.
async fn hits(addr: SocketAddr, limit: &str) -> f64 {
    let m = get(addr, "/metrics", &[]).await.body;
    let prefix = format!("amux_limit_hits_total{{limit=\"{limit}\"}} ");
    m.lines().find_map(|l| l.strip_prefix(&prefix)).map(|v| v.trim().parse().unwrap()).unwrap_or(0.0)
}

async fn gateway(mock: &Mock, limits: &str) -> TestGateway {
    start_gateway(&mock_config(mock, &format!("limits: {{{limits}}}\n"))).await
}

/// Reads until the peer closes (Ok(bytes)) or `within` passes (Err).
async fn read_to_close(sock: &mut TcpStream, within: Duration) -> Result<Vec<u8>, ()> {
    let mut all = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, sock.read(&mut buf)).await {
            Err(_) => return Err(()),
            Ok(Ok(0)) | Ok(Err(_)) => return Ok(all),
            Ok(Ok(n)) => all.extend_from_slice(&buf[..n]),
        }
    }
}

const ANTHROPIC_MESSAGE: &str = r#"{"id":"msg_1","type":"message","role":"assistant","model":"claude-up","content":[{"type":"text","text":"hi"}],"stop_reason":"end_turn","usage":{"input_tokens":3,"output_tokens":1}}"#;

#[tokio::test]
async fn a_body_over_the_limit_is_413_in_the_callers_shape_before_it_is_read() {
    let mock = Mock::start().await;
    mock.always(Reply::ok(ANTHROPIC_MESSAGE));
    let gw = gateway(&mock, "max_request_body_bytes: 1000").await;
    let big = format!(
        r#"{{"model":"claude-test","max_tokens":5,"messages":[{{"role":"user","content":"{}"}}]}}"#,
        "x".repeat(2000)
    );
    let a = post(gw.addr, "/v1/messages", &[], &big).await;
    assert_eq!(a.status, 413);
    assert_eq!(a.json()["type"], "error");
    assert_eq!(a.json()["error"]["type"], "request_too_large");
    let o = post(gw.addr, "/v1/chat/completions", &[], &big.replace("claude-test", "gpt-test")).await;
    assert_eq!(o.status, 413);
    assert!(o.json()["error"]["message"].as_str().unwrap().contains("exceeds 1000 bytes"), "{}", o.body);
    // A chunked body with no Content-Length: refused once it passes the limit.
    let chunks: Vec<Result<hyper::body::Frame<Bytes>, std::io::Error>> =
        (0..40).map(|_| Ok(hyper::body::Frame::data(Bytes::from(vec![b' '; 100])))).collect();
    let body = http_body_util::StreamBody::new(futures_util::stream::iter(chunks));
    let req = http::Request::post(format!("http://{}/v1/messages", gw.addr))
        .header("content-type", "application/json")
        .body(body)
        .unwrap();
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new()).build_http();
    let resp = client.request(req).await.unwrap();
    assert_eq!(resp.status(), 413);
    // Within the limit: answered.
    assert_eq!(post(gw.addr, "/v1/messages", &[], ANTH).await.status, 200);
    assert_eq!(mock.count(), 1, "no refused body reached the upstream");
    assert_eq!(hits(gw.addr, "request_body_size").await, 3.0);
}

#[tokio::test]
async fn a_stalled_body_is_408_and_a_stalled_head_closes_the_connection() {
    let mock = Mock::start().await;
    let gw = gateway(&mock, "request_body_timeout_secs: 0.3, header_read_timeout_secs: 0.4").await;
    // The head arrives, then 10 of 100 declared bytes.
    let mut sock = TcpStream::connect(gw.addr).await.unwrap();
    let head = format!(
        "POST /v1/chat/completions HTTP/1.1\r\nhost: {}\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{{\"model\":",
        gw.addr
    );
    sock.write_all(head.as_bytes()).await.unwrap();
    let t0 = Instant::now();
    let answer = String::from_utf8(read_to_close(&mut sock, Duration::from_secs(5)).await.unwrap()).unwrap();
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("\"error\"") && answer.contains("not received within 0.3 s"), "{answer}");
    assert!(t0.elapsed() < Duration::from_secs(3));
    // Half a head, then silence: closed without an answer.
    let mut sock = TcpStream::connect(gw.addr).await.unwrap();
    sock.write_all(b"POST /v1/messages HTTP/1.1\r\nhost: x\r\n").await.unwrap();
    let t0 = Instant::now();
    let got = read_to_close(&mut sock, Duration::from_secs(5)).await.expect("closed by the header timeout");
    assert!(got.is_empty(), "{}", String::from_utf8_lossy(&got));
    assert!(t0.elapsed() >= Duration::from_millis(300) && t0.elapsed() < Duration::from_secs(3));
    // A connection that never sends anything is closed too.
    let mut silent = TcpStream::connect(gw.addr).await.unwrap();
    read_to_close(&mut silent, Duration::from_secs(5)).await.expect("closed by the header timeout");
    assert_eq!(hits(gw.addr, "request_body_timeout").await, 1.0);
    assert_eq!(hits(gw.addr, "header_read_timeout").await, 2.0);
    assert_eq!(mock.count(), 0);
}

#[tokio::test]
async fn an_idle_kept_alive_connection_is_closed_and_a_busy_one_is_not() {
    let mock = Mock::start().await;
    // Each piece arrives after the idle limit: the stream keeps its connection busy.
    let pieces = (0..4).map(|_| (Duration::from_millis(250), ": keep\n\n".to_string())).collect();
    mock.push(Reply::Sse { pieces });
    let gw = gateway(&mock, "keep_alive_idle_secs: 0.4, header_read_timeout_secs: 5").await;
    let mut sock = TcpStream::connect(gw.addr).await.unwrap();
    sock.write_all(b"GET /health/liveness HTTP/1.1\r\nhost: x\r\n\r\n").await.unwrap();
    let mut buf = [0u8; 1024];
    let n = sock.read(&mut buf).await.unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    let t0 = Instant::now();
    read_to_close(&mut sock, Duration::from_secs(5)).await.expect("idle connection closed");
    assert!(t0.elapsed() >= Duration::from_millis(300), "{:?}", t0.elapsed());
    assert_eq!(hits(gw.addr, "keep_alive_idle").await, 1.0);
    // A stream longer than the idle limit, with gaps longer than it, runs to its end.
    let a = post(gw.addr, "/v1/messages", &[], ANTH_STREAM).await;
    assert_eq!(a.status, 200);
    assert!(a.body.contains("event: error"), "the mock stream has no message_stop: {}", a.body);
    assert!(a.body.contains("before its final event"), "{}", a.body);
}

#[tokio::test]
async fn connections_past_the_limit_are_closed_at_once() {
    let mock = Mock::start().await;
    let gw = gateway(&mock, "max_connections: 2, header_read_timeout_secs: 10").await;
    let _a = TcpStream::connect(gw.addr).await.unwrap();
    let _b = TcpStream::connect(gw.addr).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut c = TcpStream::connect(gw.addr).await.unwrap();
    let _ = c.write_all(b"GET /health/liveness HTTP/1.1\r\nhost: x\r\n\r\n").await;
    let got = read_to_close(&mut c, Duration::from_secs(2)).await.expect("closed at once");
    assert!(got.is_empty());
    drop((_a, _b));
    tokio::time::sleep(Duration::from_millis(100)).await;
    let m = get(gw.addr, "/metrics", &[]).await.body;
    assert!(m.contains("amux_limit_hits_total{limit=\"max_connections\"} 1"), "{m}");
    assert!(m.contains("amux_connections_open 1"), "only the metrics call's connection is open: {m}");
}

#[tokio::test]
async fn calls_past_max_in_flight_are_shed_with_503_and_retry_after() {
    let mock = Mock::start().await;
    let pieces = vec![
        (Duration::ZERO, "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-up\",\"content\":[],\"usage\":{\"input_tokens\":1,\"output_tokens\":0}}}\n\n".to_string()),
        (Duration::from_millis(700), "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n".to_string()),
    ];
    mock.push(Reply::Sse { pieces });
    mock.always(Reply::ok(ANTHROPIC_MESSAGE));
    let gw = gateway(&mock, "max_in_flight: 1, shed_retry_after_secs: 7").await;
    // The first call streams (its headers are sent long before its end): it still counts.
    let first = tokio::spawn(post(gw.addr, "/v1/messages", &[], ANTH_STREAM));
    tokio::time::sleep(Duration::from_millis(300)).await;
    let a = post(gw.addr, "/v1/messages", &[], ANTH).await;
    assert_eq!(a.status, 503);
    assert_eq!(a.headers["retry-after"], "7");
    assert_eq!(a.json()["type"], "error");
    let o = post(gw.addr, "/v1/chat/completions", &[], &ANTH.replace("claude-test", "gpt-test")).await;
    assert_eq!(o.status, 503);
    assert!(o.json()["error"]["message"].as_str().unwrap().contains("limit of 1 calls"), "{}", o.body);
    let done = first.await.unwrap();
    assert!(done.body.contains("message_stop"), "{}", done.body);
    // Freed when the stream ended.
    assert_eq!(post(gw.addr, "/v1/messages", &[], ANTH).await.status, 200);
    assert_eq!(hits(gw.addr, "max_in_flight").await, 2.0);
    let m = get(gw.addr, "/metrics", &[]).await.body;
    assert!(m.contains("fault=\"gateway\""), "shed calls count as the gateway's errors: {m}");
}

#[tokio::test]
async fn an_upstream_answer_over_the_limit_is_502_naming_the_provider() {
    let mock = Mock::start().await;
    let huge =
        format!(r#"{{"id":"x","choices":[{{"message":{{"role":"assistant","content":"{}"}}}}]}}"#, "y".repeat(5000));
    mock.always(Reply::ok(huge));
    let gw = gateway(&mock, "max_upstream_response_bytes: 1000").await;
    // Translated (Anthropic caller, OpenAI upstream) and same-dialect.
    let a = post(gw.addr, "/v1/messages", &[], &ANTH.replace("claude-test", "gpt-test")).await;
    assert_eq!(a.status, 502);
    assert_eq!(a.json()["type"], "error");
    let msg = a.json()["error"]["message"].as_str().unwrap().to_string();
    assert!(msg.contains("provider oai") && msg.contains("larger than 1000 bytes"), "{msg}");
    let o = post(gw.addr, "/v1/chat/completions", &[], &ANTH.replace("claude-test", "gpt-test")).await;
    assert_eq!(o.status, 502);
    assert!(o.json()["error"]["message"].as_str().unwrap().contains("max_upstream_response_bytes"));
    assert_eq!(hits(gw.addr, "upstream_response_size").await, 2.0);
    let recs = gw.records.wait_for(2).await;
    assert!(recs.iter().all(|r| r.outcome.status() == 502), "{recs:?}");
}

/// An upstream SSE stream whose second event never ends its line.
fn endless_line(prefix: &str) -> Reply {
    let mut pieces = vec![(Duration::ZERO, prefix.to_string())];
    pieces.push((Duration::ZERO, "data: {\"x\":\"".to_string()));
    for _ in 0..50 {
        pieces.push((Duration::from_millis(1), "z".repeat(1000)));
    }
    Reply::Sse { pieces }
}

#[tokio::test]
async fn an_upstream_event_over_the_limit_ends_the_stream_with_an_error_event() {
    let mock = Mock::start().await;
    let anth_start = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-up\",\"content\":[],\"usage\":{\"input_tokens\":1,\"output_tokens\":0}}}\n\n";
    let oai_start = "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"model\":\"gpt-up\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"a\"}}]}\n\n";
    mock.push(endless_line(anth_start));
    mock.push(endless_line(oai_start));
    let gw = gateway(&mock, "max_stream_event_bytes: 10000").await;
    // Same dialect: the bytes went through as they came; the line is ended, then the error.
    let a = post(gw.addr, "/v1/messages", &[], ANTH_STREAM).await;
    assert_eq!(a.status, 200);
    assert!(a.body.len() < 20_000, "{} bytes: the stream was cut near the limit", a.body.len());
    let evs = sse_events(&a.body);
    let (name, data) = evs.last().unwrap();
    assert_eq!(name.as_deref(), Some("error"), "{}", a.body);
    assert!(data.contains("max_stream_event_bytes") && data.contains("provider anth"), "{data}");
    // Translated: the caller's own error event.
    let t = post(gw.addr, "/v1/messages", &[], ANTH_TO_OAI_STREAM).await;
    let evs = sse_events(&t.body);
    assert_eq!(evs.first().unwrap().0.as_deref(), Some("message_start"), "{}", t.body);
    let (name, data) = evs.last().unwrap();
    assert_eq!(name.as_deref(), Some("error"), "{}", t.body);
    assert!(data.contains("larger than 10000 bytes"), "{data}");
    assert_eq!(hits(gw.addr, "stream_event_size").await, 2.0);
    let recs = gw.records.wait_for(2).await;
    assert!(recs.iter().all(|r| r.outcome.status() == 502), "{recs:?}");
}

#[tokio::test]
async fn a_stream_past_its_duration_ends_with_an_error_event_in_the_callers_dialect() {
    let mock = Mock::start().await;
    let chunk = |t: &str| {
        format!(
            "data: {{\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"model\":\"gpt-up\",\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\"{t}\"}}}}]}}\n\n"
        )
    };
    let pieces = (0..20).map(|i| (Duration::from_millis(100), chunk(&i.to_string()))).collect();
    mock.push(Reply::Sse { pieces });
    let gw = gateway(&mock, "max_stream_duration_secs: 0.5").await;
    let t0 = Instant::now();
    let o = post(gw.addr, "/v1/chat/completions", &[], &ANTH_STREAM.replace("claude-test", "gpt-test")).await;
    assert!(t0.elapsed() < Duration::from_secs(3), "cut near 0.5 s, not after 2 s of chunks: {:?}", t0.elapsed());
    assert_eq!(o.status, 200);
    let evs = sse_events(&o.body);
    let last = &evs.last().unwrap().1;
    assert!(last.contains("\"error\"") && last.contains("max_stream_duration_secs"), "{}", o.body);
    assert_eq!(hits(gw.addr, "stream_duration").await, 1.0);
    // The upstream idle gap is the provider's timeouts.idle_secs (2 s in these tests), counted.
    mock.push(Reply::Sse { pieces: vec![(Duration::ZERO, chunk("a")), (Duration::from_secs(5), chunk("b"))] });
    let gw2 = gateway(&mock, "").await;
    let o = post(gw2.addr, "/v1/chat/completions", &[], &ANTH_STREAM.replace("claude-test", "gpt-test")).await;
    assert!(o.body.contains("no response within"), "{}", o.body);
    assert_eq!(hits(gw2.addr, "upstream_idle").await, 1.0);
}

#[tokio::test]
async fn a_client_that_stops_reading_is_cut_and_its_call_recorded() {
    let mock = Mock::start().await;
    // Far more than the socket buffers hold.
    let line = format!(
        "data: {{\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"model\":\"gpt-up\",\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\"{}\"}}}}]}}\n\n",
        "w".repeat(60_000)
    );
    let pieces = (0..2000).map(|_| (Duration::ZERO, line.clone())).collect();
    mock.push(Reply::Sse { pieces });
    let gw = gateway(&mock, "client_write_stall_secs: 0.5").await;
    let mut sock = TcpStream::connect(gw.addr).await.unwrap();
    let body = ANTH_STREAM.replace("claude-test", "gpt-test");
    let req = format!(
        "POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    sock.write_all(req.as_bytes()).await.unwrap();
    // Never read: amux's writes stall, then the connection is closed and the call recorded.
    let recs = tokio::time::timeout(Duration::from_secs(10), gw.records.wait_for(1)).await.expect("recorded");
    assert_eq!(recs[0].outcome.label(), "client_disconnected", "{recs:?}");
    assert_eq!(hits(gw.addr, "client_write_stall").await, 1.0);
    let _ = sock.read(&mut [0u8; 16]).await;
    let cancelled = mock.stream_cancelled.clone();
    tokio::time::timeout(Duration::from_secs(5), async {
        while !cancelled.load(std::sync::atomic::Ordering::SeqCst) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("the upstream call was cancelled");
}

#[tokio::test]
async fn limits_are_checked_at_load_and_have_safe_defaults() {
    let cfg = amux::config::parse_str("limits: {max_in_flight: 0, header_read_timeout_secs: -1}\n");
    let err = cfg.unwrap_err().to_string();
    assert!(err.contains("limits.max_in_flight") && err.contains("limits.header_read_timeout_secs"), "{err}");
    let d = amux::config::LimitsConfig::default();
    assert_eq!(d.max_request_body_bytes, 32 * 1024 * 1024);
    assert!(d.max_in_flight > 0 && d.max_connections > d.max_in_flight);
}

#[tokio::test]
async fn at_shutdown_a_stream_longer_than_the_idle_close_grace_still_drains() {
    let mock = Mock::start().await;
    let start = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-up\",\"content\":[],\"usage\":{\"input_tokens\":1,\"output_tokens\":0}}}\n\n";
    let mut pieces = vec![(Duration::ZERO, start.to_string())];
    for _ in 0..7 {
        pieces.push((Duration::from_secs(1), ": still going\n\n".to_string()));
    }
    pieces.push((Duration::ZERO, "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n".to_string()));
    mock.push(Reply::Sse { pieces });
    let text = mock_config(&mock, "lifecycle: {shutdown_delay_secs: 0, drain_timeout_secs: 30}\n");
    let config = amux::config::parse_str(&text).unwrap();
    let sinks = amux::usage::UsageSinks::new(vec![]);
    let gw = amux::gateway::Gateway::bind(&config, "127.0.0.1:0".parse().unwrap(), &|_| None, sinks).await.unwrap();
    let addr = gw.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(gw.serve(async move {
        let _ = stopped.await;
    }));
    let call = tokio::spawn(post_slow(addr));
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.send(()).unwrap();
    let body = call.await.unwrap();
    assert!(body.contains("message_stop"), "the stream ran to its end: {body}");
    tokio::time::timeout(Duration::from_secs(5), server).await.expect("served to the end").unwrap().unwrap();
}

/// A streamed call read to its end, however long it takes.
async fn post_slow(addr: SocketAddr) -> String {
    let mut sock = TcpStream::connect(addr).await.unwrap();
    let req = format!(
        "POST /v1/messages HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{ANTH_STREAM}",
        ANTH_STREAM.len()
    );
    sock.write_all(req.as_bytes()).await.unwrap();
    String::from_utf8_lossy(&read_to_close(&mut sock, Duration::from_secs(20)).await.unwrap()).into_owned()
}

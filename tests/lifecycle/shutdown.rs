//! SIGTERM: readiness fails at once, new connections are served during the delay, streams in
//! flight run to their end, and those outliving the drain timeout end with an error event in
//! their own dialect.

use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};

use crate::process::{Served, config, temp_dir, try_get, try_post};
use crate::support::{Mock, Reply, client, sse_events};

const ANT_STREAM: &str =
    r#"{"model":"claude-test","max_tokens":64,"stream":true,"messages":[{"role":"user","content":"hi"}]}"#;
const ANT_CALL: &str = r#"{"model":"claude-test","max_tokens":64,"messages":[{"role":"user","content":"hi"}]}"#;
const OAI_STREAM: &str = r#"{"model":"gpt-test","stream":true,"messages":[{"role":"user","content":"hi"}]}"#;
const ANT_JSON: &str = r#"{"id":"msg_1","type":"message","role":"assistant","model":"claude-up","content":[{"type":"text","text":"ok"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":3,"output_tokens":1}}"#;

/// An Anthropic stream: `message_start` at once, then `deltas` text deltas `every` apart, then
/// the closing events.
pub fn ant_stream(deltas: usize, every: Duration) -> Reply {
    let start = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-up\",\"content\":[],\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":5,\"output_tokens\":1}}}\n\nevent: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n";
    let delta = "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"tick \"}}\n\n";
    let end = "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\nevent: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":9}}\n\nevent: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";
    let mut pieces = vec![(Duration::ZERO, start.to_string())];
    pieces.extend((0..deltas).map(|_| (every, delta.to_string())));
    pieces.push((every, end.to_string()));
    Reply::Sse { pieces }
}

/// An OpenAI Chat stream of `deltas` chunks `every` apart, then `[DONE]`.
fn oai_stream(deltas: usize, every: Duration) -> Reply {
    let chunk = "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-up\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"tick \"},\"finish_reason\":null}]}\n\n";
    let mut pieces = vec![(Duration::ZERO, chunk.to_string())];
    pieces.extend((0..deltas).map(|_| (every, chunk.to_string())));
    pieces.push((every, "data: [DONE]\n\n".to_string()));
    Reply::Sse { pieces }
}

/// Opens a streamed call and returns once its response headers arrived (the stream is in flight).
pub async fn open(addr: std::net::SocketAddr, path: &str, body: &str) -> hyper::Response<hyper::body::Incoming> {
    let req = http::Request::post(format!("http://{addr}{path}"))
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body.to_string())))
        .unwrap();
    let resp = tokio::time::timeout(Duration::from_secs(20), client().request(req)).await.unwrap().unwrap();
    assert_eq!(resp.status(), 200);
    resp
}

/// Reads a body to its end (a cut connection shows as an error).
pub async fn read(resp: hyper::Response<hyper::body::Incoming>) -> Result<String, String> {
    match tokio::time::timeout(Duration::from_secs(30), resp.into_body().collect()).await {
        Ok(Ok(b)) => Ok(String::from_utf8_lossy(&b.to_bytes()).into_owned()),
        Ok(Err(e)) => Err(format!("body cut: {e}")),
        Err(_) => Err("body not finished in 30 s".into()),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_fails_readiness_serves_during_the_delay_and_drains_50_streams() {
    let mock = Mock::start().await;
    // Streams of 3 s, past the 2 s delay: they are drained, not finished before it.
    for _ in 0..50 {
        mock.push(ant_stream(30, Duration::from_millis(100)));
    }
    mock.always(Reply::ok(ANT_JSON));
    let dir = temp_dir("drain");
    let file = dir.join("amux.yaml");
    std::fs::write(&file, config(&mock, "lifecycle: {shutdown_delay_secs: 2, drain_timeout_secs: 20}\n")).unwrap();
    let mut amux = Served::start(&file).await;
    let addr = amux.addr;

    let streams = futures_util::future::join_all((0..50).map(|_| open(addr, "/v1/messages", ANT_STREAM))).await;
    let sigterm = Instant::now();
    amux.signal(libc::SIGTERM);
    let done = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let readers: Vec<_> = streams
        .into_iter()
        .map(|s| {
            let done = done.clone();
            tokio::spawn(async move {
                let body = read(s).await;
                done.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                body
            })
        })
        .collect();

    // Readiness fails first, while every stream is still running.
    loop {
        let r = try_get(addr, "/health/readiness").await.expect("still serving");
        if r.status == 503 {
            assert_eq!(r.json()["status"], "draining");
            break;
        }
        assert!(sigterm.elapsed() < Duration::from_secs(2), "readiness still {} after SIGTERM", r.status);
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(done.load(std::sync::atomic::Ordering::SeqCst), 0, "readiness went 503 before any stream ended");
    assert_eq!(amux.metric("amux_draining").await, Some(1.0));
    // A new connection during the delay is still served.
    let late = try_post(addr, "/v1/messages", &[], ANT_CALL).await.expect("served during the delay");
    assert_eq!(late.status, 200, "{}", late.body);
    assert!(sigterm.elapsed() < Duration::from_secs(2), "the late call was checked inside the delay");

    for r in readers {
        let body = r.await.unwrap().unwrap_or_else(|e| panic!("{e}\n{}", amux.log()));
        let events = sse_events(&body);
        assert_eq!(events.last().and_then(|e| e.0.as_deref()), Some("message_stop"), "{body}");
        assert!(events.iter().all(|e| e.0.as_deref() != Some("error")), "{body}");
    }
    let status = amux.wait(Duration::from_secs(20)).await;
    assert!(status.success(), "{status}");
    let took = sigterm.elapsed();
    assert!(took < Duration::from_secs(20), "exited {took:?} after SIGTERM, past the drain timeout");
    assert!(amux.log().contains("drained"), "{}", amux.log());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_outliving_the_drain_timeout_end_with_an_error_in_their_dialect() {
    let mock = Mock::start().await;
    mock.push(ant_stream(100, Duration::from_millis(200)));
    mock.push(oai_stream(100, Duration::from_millis(200)));
    mock.push(Reply::Hang);
    let dir = temp_dir("deadline");
    let file = dir.join("amux.yaml");
    std::fs::write(&file, config(&mock, "lifecycle: {shutdown_delay_secs: 0.2, drain_timeout_secs: 1.5}\n")).unwrap();
    let mut amux = Served::start_with(&file, &[("RUST_LOG", "info")]).await;
    let addr = amux.addr;

    let ant = open(addr, "/v1/messages", ANT_STREAM).await;
    let oai = open(addr, "/v1/chat/completions", OAI_STREAM).await;
    let hanging = tokio::spawn(async move { try_post(addr, "/v1/messages", &[], ANT_CALL).await });
    while mock.count() < 3 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let sigterm = Instant::now();
    amux.signal(libc::SIGTERM);
    let (ant, oai) = tokio::join!(read(ant), read(oai));
    let ended = sigterm.elapsed();
    assert!(ended >= Duration::from_millis(1400) && ended < Duration::from_secs(4), "streams ended after {ended:?}");

    let ant = ant.unwrap_or_else(|e| panic!("{e}\n{}", amux.log()));
    let events = sse_events(&ant);
    let last = events.last().unwrap();
    assert_eq!(last.0.as_deref(), Some("error"), "{ant}");
    let err: serde_json::Value = serde_json::from_str(&last.1).unwrap();
    assert_eq!(err["type"], "error");
    assert!(err["error"]["message"].as_str().unwrap().contains("shutting down"), "{err}");

    let oai = oai.unwrap_or_else(|e| panic!("{e}\n{}", amux.log()));
    let data: Vec<serde_json::Value> =
        sse_events(&oai).iter().filter_map(|e| serde_json::from_str(&e.1).ok()).collect();
    let err = data.iter().find(|v| v.get("error").is_some()).unwrap_or_else(|| panic!("no error chunk: {oai}"));
    assert!(err["error"]["message"].as_str().unwrap().contains("shutting down"), "{err}");

    let call = hanging.await.unwrap().expect("the waiting call is answered, not cut");
    assert_eq!(call.status, 503, "{}", call.body);
    assert_eq!(call.json()["type"], "error", "Anthropic's error shape: {}", call.body);

    let status = amux.wait(Duration::from_secs(5)).await;
    assert!(status.success(), "{status}");
    assert!(sigterm.elapsed() < Duration::from_millis(1500 + 1000 + 1500), "exit within the drain timeout and grace");
    let log = amux.log();
    assert!(log.contains("drain deadline"), "{log}");
    // The cut call's usage line names the deployment it was waiting on, and counts the wait as
    // the upstream's (about 1.5 s), not as the gateway's overhead.
    let cut: Vec<&str> = log.lines().filter(|l| l.contains("outcome=") && l.contains("stream=false")).collect();
    assert_eq!(cut.len(), 1, "{log}");
    assert!(cut[0].contains("provider=anth upstream_model=claude-up") && cut[0].contains("status=503"), "{}", cut[0]);
    let field = |name: &str| -> f64 {
        let at = cut[0].find(&format!(" {name}=")).unwrap_or_else(|| panic!("{name} in {}", cut[0]));
        cut[0][at + name.len() + 2..].split(' ').next().unwrap().parse().unwrap()
    };
    assert!(field("upstream_ms") > 1000.0 && field("overhead_ms") < 500.0, "{}", cut[0]);
}

//! SIGTERM while calls are in fault states, on the real `amux serve`: an upstream dripping
//! slowly (one stream ends before the drain deadline, one after), an upstream stalled before its
//! headers and in the middle of a stream (same-dialect and translated), and a client that stopped
//! reading. The drain ends within its deadline and grace, every stream ends with its normal end
//! or an error event in its dialect, and every call has exactly one usage line.

use std::time::{Duration, Instant};

use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use crate::process::{Served, config, temp_dir, try_post};
use crate::shutdown::{ant_stream, open, read};
use crate::support::{Mock, Reply, sse_events};

const ANT_STREAM: &str =
    r#"{"model":"claude-test","max_tokens":64,"stream":true,"messages":[{"role":"user","content":"hi"}]}"#;
const ANT_TO_OAI_STREAM: &str =
    r#"{"model":"gpt-test","max_tokens":64,"stream":true,"messages":[{"role":"user","content":"hi"}]}"#;
const ANT_CALL: &str = r#"{"model":"claude-test","max_tokens":64,"messages":[{"role":"user","content":"hi"}]}"#;

const ANT_START: &str = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-up\",\"content\":[],\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":5,\"output_tokens\":1}}}\n\n";
const OAI_CHUNK: &str = "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-up\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"tick \"},\"finish_reason\":null}]}\n\n";

/// Waits (bounded) until the mock has received `n` requests.
async fn received(mock: &Mock, n: usize) {
    let until = Instant::now() + Duration::from_secs(10);
    while mock.count() < n {
        assert!(Instant::now() < until, "the mock got {} of {n} requests", mock.count());
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// The caller's stream ended with Anthropic's error event saying amux is shutting down.
fn cut_by_shutdown(body: &str) {
    let events = sse_events(body);
    let last = events.last().unwrap_or_else(|| panic!("empty: {body}"));
    assert_eq!(last.0.as_deref(), Some("error"), "{body}");
    assert!(last.1.contains("shutting down"), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_during_faults_drains_in_time_and_records_every_call() {
    let mock = Mock::start().await;
    let dir = temp_dir("faults");
    let file = dir.join("amux.yaml");
    std::fs::write(&file, config(&mock, "lifecycle: {shutdown_delay_secs: 0.2, drain_timeout_secs: 1.5}\n")).unwrap();
    let mut amux = Served::start_with(&file, &[("RUST_LOG", "warn,amux::usage=info")]).await;
    let addr = amux.addr;

    // 1. Dripping, ends before the deadline (about 0.75 s).
    mock.push(ant_stream(4, Duration::from_millis(150)));
    let short = open(addr, "/v1/messages", ANT_STREAM).await;
    received(&mock, 1).await;
    // 2. Dripping, outlives the deadline (10 s).
    mock.push(ant_stream(100, Duration::from_millis(100)));
    let long = open(addr, "/v1/messages", ANT_STREAM).await;
    received(&mock, 2).await;
    // 3. Stalled in the middle of a stream (same dialect).
    mock.push(Reply::Sse {
        pieces: vec![(Duration::ZERO, ANT_START.into()), (Duration::from_secs(30), "event: ping\n\n".into())],
    });
    let stalled = open(addr, "/v1/messages", ANT_STREAM).await;
    received(&mock, 3).await;
    // 4. Stalled in the middle of a stream, translated (OpenAI upstream, Anthropic caller).
    mock.push(Reply::Sse {
        pieces: vec![(Duration::ZERO, OAI_CHUNK.into()), (Duration::from_secs(30), OAI_CHUNK.into())],
    });
    let stalled_translated = open(addr, "/v1/messages", ANT_TO_OAI_STREAM).await;
    received(&mock, 4).await;
    // 5. Stalled before its headers (a non-streamed call).
    mock.push(Reply::Hang);
    let waiting = tokio::spawn(async move { try_post(addr, "/v1/messages", &[], ANT_CALL).await });
    received(&mock, 5).await;
    // 6. A client that stopped reading, its upstream answering far more than the buffers hold.
    let big = format!(
        "event: content_block_delta\ndata: {{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{{\"type\":\"text_delta\",\"text\":\"{}\"}}}}\n\n",
        "w".repeat(60_000)
    );
    let mut pieces = vec![(Duration::ZERO, ANT_START.to_string())];
    pieces.extend((0..500).map(|_| (Duration::ZERO, big.clone())));
    mock.push(Reply::Sse { pieces });
    let mut deaf = TcpStream::connect(addr).await.unwrap();
    let req = format!(
        "POST /v1/messages HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{ANT_STREAM}",
        ANT_STREAM.len()
    );
    deaf.write_all(req.as_bytes()).await.unwrap();
    received(&mock, 6).await;
    tokio::time::sleep(Duration::from_millis(200)).await;

    let sigterm = Instant::now();
    amux.signal(libc::SIGTERM);
    let (short, long, stalled, stalled_translated) =
        tokio::join!(read(short), read(long), read(stalled), read(stalled_translated));
    let log = amux.log();
    let short = short.unwrap_or_else(|e| panic!("{e}\n{log}"));
    assert_eq!(sse_events(&short).last().and_then(|e| e.0.clone()).as_deref(), Some("message_stop"), "{short}");
    for (what, body) in [("dripping", long), ("stalled", stalled), ("stalled, translated", stalled_translated)] {
        let body = body.unwrap_or_else(|e| panic!("{what}: {e}\n{log}"));
        cut_by_shutdown(&body);
    }
    let ended = sigterm.elapsed();
    assert!(ended >= Duration::from_millis(1400) && ended < Duration::from_secs(3), "cut at the deadline: {ended:?}");
    let waiting = waiting.await.unwrap().expect("the waiting call is answered");
    assert_eq!(waiting.status, 503, "{}", waiting.body);
    assert!(waiting.body.contains("shutting down"), "{}", waiting.body);

    let status = amux.wait(Duration::from_secs(5)).await;
    assert!(status.success(), "{status}");
    // The deadline, then at most two graces of 1 s (calls' errors, then WebSockets).
    let exited = sigterm.elapsed();
    assert!(exited < Duration::from_millis(1500 + 2000 + 500), "exited {exited:?} after SIGTERM");
    drop(deaf);

    let log = amux.log();
    let lines: Vec<&str> = log.lines().filter(|l| l.contains("amux::usage") && l.contains("outcome=")).collect();
    assert_eq!(lines.len(), 6, "one usage line per call:\n{log}");
    let count = |needle: &str| lines.iter().filter(|l| l.contains(needle)).count();
    assert_eq!(count("outcome=success"), 1, "{log}");
    assert!(count("error=shutdown") >= 4, "three streams and the waiting call cut at the deadline:\n{log}");
    assert!(
        lines.iter().any(|l| l.contains("stream=false") && l.contains("status=503") && l.contains("error=shutdown")),
        "the waiting call's record says what its caller got:\n{log}"
    );
    // The deaf client's stream: cut at the deadline too, or (its error event never written)
    // ended as a disconnect when its connection was dropped; either way recorded once.
    assert_eq!(count("error=shutdown") + count("outcome=client_disconnected"), 5, "{log}");
}

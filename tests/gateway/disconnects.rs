//! A client that hangs up at every stage of a call: before its request body is complete, while
//! amux waits for the upstream's headers, in the middle of a stream (same-dialect and
//! translated, Anthropic and OpenAI callers) and while a non-streamed answer is arriving. The
//! upstream call is cancelled (the upstream sees its connection closed), a call that reached
//! routing yields exactly one usage record, `client_disconnected`, and nothing stays in flight.

use std::net::SocketAddr;
use std::time::Duration;

use amux::usage::Outcome;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::scripted::{Scripted, Step, drip, json_head};
use crate::support::*;

pub const ANT_START: &str = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"up\",\"content\":[],\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":3,\"output_tokens\":1}}}\n\nevent: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n";
pub const ANT_DELTA: &str = "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"tick \"}}\n\n";
pub const ANT_END: &str = "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\nevent: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":9}}\n\nevent: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";
pub const OAI_DELTA: &str = "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"up\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"tick \"},\"finish_reason\":null}]}\n\n";
pub const OAI_END: &str = "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"up\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":9,\"total_tokens\":12}}\n\ndata: [DONE]\n\n";

/// Providers `anth` (Anthropic) and `oai` (OpenAI) on `addr`, aliases `claude-test` and
/// `gpt-test`, no retries; `extra` appended.
pub fn config(addr: SocketAddr, idle_secs: f64, extra: &str) -> String {
    format!(
        "discover_env: false
router: {{retries: 0, cooldown_failures: 1000}}
providers:
  anth: {{kind: anthropic, base_url: 'http://{addr}', api_key: sk-ant-upstream, timeouts: {{connect_secs: 1, response_secs: 10, idle_secs: {idle_secs}}}}}
  oai: {{kind: openai, base_url: 'http://{addr}/v1', api_key: sk-oai-upstream, timeouts: {{connect_secs: 1, response_secs: 10, idle_secs: {idle_secs}}}}}
models:
  - {{name: claude-test, provider: anth, model: claude-up}}
  - {{name: gpt-test, provider: oai, model: gpt-up}}
{extra}"
    )
}

/// A caller's dialect and the upstream's, as a call path.
#[derive(Debug, Clone, Copy)]
pub struct Path {
    /// An Anthropic caller (`/v1/messages`), else an OpenAI Chat caller.
    pub anthropic_caller: bool,
    /// An Anthropic upstream (`claude-test`), else an OpenAI one (`gpt-test`).
    pub anthropic_upstream: bool,
}

impl Path {
    pub const ALL: [Path; 4] = [
        Path { anthropic_caller: true, anthropic_upstream: true },
        Path { anthropic_caller: true, anthropic_upstream: false },
        Path { anthropic_caller: false, anthropic_upstream: false },
        Path { anthropic_caller: false, anthropic_upstream: true },
    ];

    pub fn translated(&self) -> bool {
        self.anthropic_caller != self.anthropic_upstream
    }

    pub fn url_path(&self) -> &'static str {
        if self.anthropic_caller { "/v1/messages" } else { "/v1/chat/completions" }
    }

    pub fn body(&self, stream: bool) -> String {
        let model = if self.anthropic_upstream { "claude-test" } else { "gpt-test" };
        format!(
            r#"{{"model":"{model}","max_tokens":5,"stream":{stream},"messages":[{{"role":"user","content":"x"}}]}}"#
        )
    }

    /// The whole raw HTTP/1.1 request.
    pub fn request(&self, stream: bool) -> String {
        let body = self.body(stream);
        format!(
            "POST {} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
            self.url_path(),
            body.len()
        )
    }

    /// An upstream stream in the upstream's dialect: its start at once, then `n` deltas `every`
    /// apart, then its end.
    pub fn upstream_stream(&self, n: usize, every: Duration) -> Vec<Step> {
        if self.anthropic_upstream {
            let mut rest = vec![ANT_DELTA.to_string(); n];
            rest.push(ANT_END.to_string());
            drip(ANT_START, &rest, every)
        } else {
            let mut rest = vec![OAI_DELTA.to_string(); n];
            rest.push(OAI_END.to_string());
            drip(OAI_DELTA, &rest, every)
        }
    }

    /// A complete non-streamed answer in the upstream's dialect.
    pub fn upstream_json(&self) -> String {
        if self.anthropic_upstream {
            r#"{"id":"m","type":"message","role":"assistant","model":"up","content":[{"type":"text","text":"hi"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":3,"output_tokens":1}}"#.into()
        } else {
            r#"{"id":"c","object":"chat.completion","created":1,"model":"up","choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4}}"#.into()
        }
    }
}

/// The sum of `amux_requests_in_flight` and `amux_open_streams` over their labels.
pub async fn in_flight(addr: SocketAddr) -> f64 {
    let m = get(addr, "/metrics", &[]).await.body;
    m.lines()
        .filter(|l| l.starts_with("amux_requests_in_flight{") || l.starts_with("amux_open_streams{"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// Waits (bounded) until nothing is in flight.
pub async fn settle(addr: SocketAddr) {
    for _ in 0..300 {
        if in_flight(addr).await == 0.0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("still in flight: {}", get(addr, "/metrics", &[]).await.body);
}

/// Reads from `sock` until `needle` arrived (bounded).
async fn read_until(sock: &mut TcpStream, needle: &str) -> String {
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    let until = tokio::time::Instant::now() + Duration::from_secs(10);
    while !String::from_utf8_lossy(&seen).contains(needle) {
        match tokio::time::timeout_at(until, sock.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => seen.extend_from_slice(&buf[..n]),
            other => panic!("{needle:?} not received ({other:?}): {}", String::from_utf8_lossy(&seen)),
        }
    }
    String::from_utf8_lossy(&seen).into_owned()
}

/// Checks the one record of call number `n` (1-based) and that no other came.
async fn one_disconnect(gw: &TestGateway, n: usize, what: &str) {
    let recs = gw.records.wait_for(n).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    let all = gw.records.all();
    assert_eq!(all.len(), n, "{what}: one record per call: {all:?}");
    assert_eq!(recs[n - 1].outcome, Outcome::ClientDisconnected, "{what}: {:?}", recs[n - 1]);
}

#[tokio::test]
async fn a_client_leaving_before_its_body_is_complete_never_reaches_the_upstream() {
    let up = Scripted::start().await;
    let gw = start_gateway(&config(up.addr, 5.0, "")).await;
    for path in Path::ALL {
        let mut sock = TcpStream::connect(gw.addr).await.unwrap();
        let req = path.request(false);
        sock.write_all(&req.as_bytes()[..req.len() - 10]).await.unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
        drop(sock);
    }
    settle(gw.addr).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(up.requests.load(std::sync::atomic::Ordering::SeqCst), 0);
    // Not routed: no usage record; each is one refusal (one log line) instead.
    assert!(gw.records.all().is_empty(), "{:?}", gw.records.all());
    let rej = gw.records.rejections();
    assert_eq!(rej.len(), 4, "{rej:?}");
    assert!(rej.iter().all(|r| r.kind == "client_disconnected" && r.client_disconnected()), "{rej:?}");
    // Counted as disconnects, not as the caller's errors.
    let m = get(gw.addr, "/metrics", &[]).await.body;
    assert!(!m.contains("kind=\"client_disconnected\""), "{m}");
    assert!(
        m.lines().any(|l| l.starts_with("amux_requests_total{") && l.contains("status_class=\"disconnected\"")),
        "{m}"
    );
}

#[tokio::test]
async fn a_client_leaving_while_amux_waits_for_the_upstream_headers_cancels_the_upstream_call() {
    let up = Scripted::start().await;
    let gw = start_gateway(&config(up.addr, 5.0, "")).await;
    let mut n = 0;
    for path in Path::ALL {
        for stream in [false, true] {
            up.push(vec![Step::Wait(Duration::from_secs(30))]);
            let mut sock = TcpStream::connect(gw.addr).await.unwrap();
            sock.write_all(path.request(stream).as_bytes()).await.unwrap();
            n += 1;
            assert!(Scripted::wait(&up.requests, n, Duration::from_secs(5)).await, "the call reached the upstream");
            tokio::time::sleep(Duration::from_millis(200)).await;
            drop(sock);
            let what = format!("{path:?} stream {stream}");
            assert!(
                Scripted::wait(&up.closed_early, n, Duration::from_secs(5)).await,
                "{what}: upstream call cancelled"
            );
            one_disconnect(&gw, n, &what).await;
            // The wait was the upstream's: it is not counted as the gateway's overhead.
            let rec = &gw.records.all()[n - 1];
            assert!(
                rec.upstream_time >= Duration::from_millis(150) && rec.upstream_time <= rec.duration,
                "{what}: upstream {:?} of {:?}",
                rec.upstream_time,
                rec.duration
            );
            settle(gw.addr).await;
        }
    }
}

#[tokio::test]
async fn a_client_leaving_mid_stream_cancels_the_upstream_stream() {
    let up = Scripted::start().await;
    let gw = start_gateway(&config(up.addr, 5.0, "")).await;
    for (i, path) in Path::ALL.into_iter().enumerate() {
        up.push(path.upstream_stream(100, Duration::from_millis(50)));
        let mut sock = TcpStream::connect(gw.addr).await.unwrap();
        sock.write_all(path.request(true).as_bytes()).await.unwrap();
        read_until(&mut sock, "tick").await;
        drop(sock);
        let what = format!("{path:?}");
        assert!(Scripted::wait(&up.closed_early, i + 1, Duration::from_secs(5)).await, "{what}: upstream cancelled");
        one_disconnect(&gw, i + 1, &what).await;
        let rec = &gw.records.all()[i];
        assert_eq!(rec.passthrough, !path.translated(), "{rec:?}");
        assert!(rec.usage.input_tokens > 0 || !path.anthropic_upstream, "usage so far is kept: {rec:?}");
        settle(gw.addr).await;
    }
    assert_eq!(up.finished.load(std::sync::atomic::Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_client_leaving_during_a_non_streamed_answer_cancels_the_upstream_call() {
    let up = Scripted::start().await;
    let gw = start_gateway(&config(up.addr, 5.0, "")).await;
    for (i, path) in Path::ALL.into_iter().enumerate() {
        // The headers and half the body at once, the rest much later.
        let json = path.upstream_json();
        let (a, b) = json.split_at(json.len() / 2);
        up.push(vec![
            Step::Write(format!("{}{a}", json_head(json.len()))),
            Step::Wait(Duration::from_secs(30)),
            Step::Write(b.to_string()),
        ]);
        let mut sock = TcpStream::connect(gw.addr).await.unwrap();
        sock.write_all(path.request(false).as_bytes()).await.unwrap();
        assert!(Scripted::wait(&up.requests, i + 1, Duration::from_secs(5)).await);
        tokio::time::sleep(Duration::from_millis(100)).await;
        drop(sock);
        let what = format!("{path:?}");
        assert!(Scripted::wait(&up.closed_early, i + 1, Duration::from_secs(5)).await, "{what}: upstream cancelled");
        one_disconnect(&gw, i + 1, &what).await;
        settle(gw.addr).await;
    }
    // A complete answer on the same gateway still works (nothing was left half-used).
    let path = Path::ALL[0];
    let json = path.upstream_json();
    up.push(vec![Step::Write(format!("{}{json}", json_head(json.len())))]);
    let a = post(gw.addr, path.url_path(), &[], &path.body(false)).await;
    assert_eq!(a.status, 200, "{}", a.body);
}

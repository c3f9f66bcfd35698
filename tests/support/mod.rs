//! Test support: a scriptable mock upstream (records every request, answers JSON or SSE with
//! delays, hangs; a raw TCP upstream for resets), a gateway started in-process on a free port, and a small HTTP client.
#![allow(dead_code)]

pub mod scripted;
pub mod sigv4;

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::Request;
use bytes::Bytes;
use http::{HeaderMap, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use amux::config::Config;
use amux::gateway::Gateway;
use amux::usage::{CallRecord, Rejection, UsageSink, UsageSinks};

/// A request the mock received.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub path_and_query: String,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Recorded {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("upstream body is JSON")
    }
}

/// How the mock answers one request.
#[derive(Debug, Clone)]
pub enum Reply {
    Json {
        status: u16,
        headers: Vec<(&'static str, String)>,
        body: String,
    },
    /// SSE pieces, each sent after its delay.
    Sse {
        pieces: Vec<(Duration, String)>,
    },
    /// Never answers.
    Hang,
}

impl Reply {
    pub fn ok(body: impl Into<String>) -> Reply {
        Reply::Json { status: 200, headers: vec![], body: body.into() }
    }
    pub fn status(status: u16, body: impl Into<String>) -> Reply {
        Reply::Json { status, headers: vec![], body: body.into() }
    }
    pub fn sse(text: &str) -> Reply {
        Reply::Sse { pieces: vec![(Duration::ZERO, text.to_string())] }
    }
}

pub struct Mock {
    pub addr: SocketAddr,
    pub requests: Arc<Mutex<Vec<Recorded>>>,
    replies: Arc<Mutex<VecDeque<Reply>>>,
    /// Set when a streamed answer was dropped before it finished (the gateway hung up).
    pub stream_cancelled: Arc<AtomicBool>,
    /// The answer when nothing is scripted (else a 500).
    default_reply: Arc<Mutex<Option<Reply>>>,
    /// TCP connections accepted so far.
    pub connections: Arc<AtomicUsize>,
}

impl Mock {
    pub async fn start() -> Mock {
        let requests = Arc::new(Mutex::new(Vec::new()));
        let replies: Arc<Mutex<VecDeque<Reply>>> = Arc::new(Mutex::new(VecDeque::new()));
        let cancelled = Arc::new(AtomicBool::new(false));
        let default_reply: Arc<Mutex<Option<Reply>>> = Arc::new(Mutex::new(None));
        let (rq, rp, cc, dr) = (requests.clone(), replies.clone(), cancelled.clone(), default_reply.clone());
        let app = axum::Router::new().fallback(move |req: Request| {
            let (rq, rp, cc, dr) = (rq.clone(), rp.clone(), cc.clone(), dr.clone());
            async move {
                let (parts, body) = req.into_parts();
                let body = body.collect().await.map(|c| c.to_bytes()).unwrap_or_default();
                let pq = parts.uri.path_and_query().map(|p| p.to_string()).unwrap_or_default();
                rq.lock().unwrap().push(Recorded { path_and_query: pq, headers: parts.headers, body });
                let reply = rp
                    .lock()
                    .unwrap()
                    .pop_front()
                    .or_else(|| dr.lock().unwrap().clone())
                    .unwrap_or_else(|| Reply::status(500, "{\"error\":\"no reply scripted\"}"));
                answer(reply, cc).await
            }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let connections = Arc::new(AtomicUsize::new(0));
        let counted = connections.clone();
        let listener = axum::serve::ListenerExt::tap_io(listener, move |_| {
            counted.fetch_add(1, Ordering::SeqCst);
        });
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Mock { addr, requests, replies, stream_cancelled: cancelled, default_reply, connections }
    }

    /// Answers `r` whenever no reply is scripted.
    pub fn always(&self, r: Reply) {
        *self.default_reply.lock().unwrap() = Some(r);
    }

    pub fn push(&self, r: Reply) {
        self.replies.lock().unwrap().push_back(r);
    }

    pub fn last(&self) -> Recorded {
        self.requests.lock().unwrap().last().cloned().expect("the mock received a request")
    }

    pub fn count(&self) -> usize {
        self.requests.lock().unwrap().len()
    }

    /// Drops the replies no request took; returns how many there were.
    pub fn replies_left(&self) -> usize {
        let mut r = self.replies.lock().unwrap();
        let n = r.len();
        r.clear();
        n
    }
}

struct DropFlag(Arc<AtomicBool>, bool);

impl DropFlag {
    fn finished(&mut self) {
        self.1 = true;
    }
}

impl Drop for DropFlag {
    fn drop(&mut self) {
        if !self.1 {
            self.0.store(true, Ordering::SeqCst);
        }
    }
}

async fn answer(reply: Reply, cancelled: Arc<AtomicBool>) -> Response<Body> {
    match reply {
        Reply::Json { status, headers, body } => {
            let mut r = Response::new(Body::from(body));
            *r.status_mut() = StatusCode::from_u16(status).unwrap();
            r.headers_mut().insert("content-type", "application/json".parse().unwrap());
            for (k, v) in headers {
                r.headers_mut().insert(k, v.parse().unwrap());
            }
            r
        }
        Reply::Hang => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            Response::new(Body::empty())
        }
        Reply::Sse { pieces } => {
            let state = (pieces.into_iter(), DropFlag(cancelled, false));
            let stream = futures_util::stream::unfold(state, |(mut it, mut flag)| async move {
                let Some((delay, text)) = it.next() else {
                    flag.finished();
                    return None;
                };
                tokio::time::sleep(delay).await;
                Some((Ok::<Bytes, std::io::Error>(Bytes::from(text)), (it, flag)))
            });
            let mut r = Response::new(Body::from_stream(stream));
            r.headers_mut().insert("content-type", "text/event-stream".parse().unwrap());
            r
        }
    }
}

/// Collects every usage record (and every refusal before routing).
#[derive(Default, Clone)]
pub struct Records(pub Arc<Mutex<Vec<CallRecord>>>, pub Arc<Mutex<Vec<Rejection>>>);

impl UsageSink for Records {
    fn record(&self, rec: &CallRecord) {
        self.0.lock().unwrap().push(rec.clone());
    }

    fn reject(&self, rej: &Rejection) {
        self.1.lock().unwrap().push(rej.clone());
    }
}

impl Records {
    pub fn rejections(&self) -> Vec<Rejection> {
        self.1.lock().unwrap().clone()
    }

    pub fn all(&self) -> Vec<CallRecord> {
        self.0.lock().unwrap().clone()
    }

    /// Waits (bounded) until `n` records arrived.
    pub async fn wait_for(&self, n: usize) -> Vec<CallRecord> {
        for _ in 0..200 {
            if self.0.lock().unwrap().len() >= n {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        self.all()
    }
}

pub struct TestGateway {
    pub addr: SocketAddr,
    pub records: Records,
}

/// Config text with providers `anth` (anthropic) and `oai` (openai) pointing at the mock, and
/// aliases `claude-test` -> anth/claude-up, `gpt-test` -> oai/gpt-up; no retries (tests of the
/// router set their own).
pub fn mock_config(mock: &Mock, extra: &str) -> String {
    format!(
        "discover_env: false
router: {{retries: 0}}
providers:
  anth: {{kind: anthropic, base_url: 'http://{a}', api_key: sk-ant-upstream, timeouts: {{response_secs: 2, idle_secs: 2}}}}
  oai: {{kind: openai, base_url: 'http://{a}/v1', api_key: sk-oai-upstream, timeouts: {{response_secs: 2, idle_secs: 2}}}}
models:
  - {{name: claude-test, provider: anth, model: claude-up}}
  - {{name: gpt-test, provider: oai, model: gpt-up}}
{extra}",
        a = mock.addr
    )
}

pub async fn start_gateway(config_text: &str) -> TestGateway {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let config: Config = amux::config::parse_str(config_text).expect("test config is valid");
    let records = Records::default();
    let sinks = UsageSinks::new(vec![Arc::new(records.clone())]);
    let gw = Gateway::bind(&config, "127.0.0.1:0".parse().unwrap(), &|_| None, sinks).await.expect("gateway binds");
    let addr = gw.local_addr().unwrap();
    tokio::spawn(async move { gw.serve(std::future::pending()).await.unwrap() });
    TestGateway { addr, records }
}

pub type TestClient = Client<HttpConnector, Full<Bytes>>;

pub fn client() -> TestClient {
    Client::builder(TokioExecutor::new()).build_http()
}

/// A response read to the end.
pub struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: String,
}

impl Answer {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

pub async fn post(addr: SocketAddr, path: &str, headers: &[(&str, &str)], body: &str) -> Answer {
    let mut req = http::Request::builder()
        .method("POST")
        .uri(format!("http://{addr}{path}"))
        .header("content-type", "application/json");
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = tokio::time::timeout(
        Duration::from_secs(10),
        client().request(req.body(Full::new(Bytes::from(body.to_string()))).unwrap()),
    )
    .await
    .expect("gateway answers in time")
    .expect("request succeeds");
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = tokio::time::timeout(Duration::from_secs(10), resp.into_body().collect())
        .await
        .expect("body in time")
        .unwrap()
        .to_bytes();
    Answer { status, headers, body: String::from_utf8_lossy(&body).into_owned() }
}

pub async fn get(addr: SocketAddr, path: &str, headers: &[(&str, &str)]) -> Answer {
    let mut req = http::Request::builder().method("GET").uri(format!("http://{addr}{path}"));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = client().request(req.body(Full::new(Bytes::new())).unwrap()).await.unwrap();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    Answer { status, headers, body: String::from_utf8_lossy(&body).into_owned() }
}

/// Parses an SSE body into (event name, data) pairs.
pub fn sse_events(body: &str) -> Vec<(Option<String>, String)> {
    let mut p = amux::sse::SseParser::new();
    let mut out = Vec::new();
    p.feed(body.as_bytes(), &mut out);
    p.finish(&mut out);
    out.into_iter().map(|e| (e.event, e.data)).collect()
}

/// A one-shot raw TCP upstream: reads a request, writes `response` verbatim, then closes the
/// connection (a reset in the middle of a chunked body when `response` ends mid-body).
pub async fn raw_then_close(response: &str) -> SocketAddr {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let response = response.to_string();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let mut buf = vec![0u8; 65536];
            let mut seen = Vec::new();
            // Read the head and a Content-Length body.
            loop {
                let n = sock.read(&mut buf).await.unwrap_or(0);
                if n == 0 {
                    break;
                }
                seen.extend_from_slice(&buf[..n]);
                let text = String::from_utf8_lossy(&seen).to_string();
                if let Some(end) = text.find("\r\n\r\n") {
                    let len = text[..end]
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length:")
                                .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                        })
                        .unwrap_or(0);
                    if seen.len() >= end + 4 + len {
                        break;
                    }
                }
            }
            let _ = sock.write_all(response.as_bytes()).await;
            let _ = sock.flush().await;
            tokio::time::sleep(Duration::from_millis(30)).await;
            drop(sock);
        }
    });
    addr
}

impl Mock {
    /// Requests whose JSON body names this upstream model.
    pub fn count_model(&self, model: &str) -> usize {
        self.requests
            .lock()
            .unwrap()
            .iter()
            .filter(|r| serde_json::from_slice::<serde_json::Value>(&r.body).is_ok_and(|v| v["model"] == model))
            .count()
    }
}

/// A real redis-server on a free loopback port (Debian package; scripts/test.sh installs it),
/// killed when dropped.
pub struct RedisServer {
    pub url: String,
    child: std::process::Child,
    _dir: std::path::PathBuf,
}

impl RedisServer {
    pub async fn start() -> RedisServer {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let dir = std::env::temp_dir().join(format!("amux-redis-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let child = RedisServer::spawn(port, &dir).await;
        RedisServer { url: format!("redis://127.0.0.1:{port}"), child, _dir: dir }
    }

    pub fn port(&self) -> u16 {
        self.url.rsplit(':').next().unwrap().parse().unwrap()
    }

    /// Sends the server a signal (SIGSTOP freezes it: connections open, no answers).
    pub fn signal(&self, signal: i32) {
        let pid = i32::try_from(self.child.id()).unwrap();
        // SAFETY: kill(2) on our own child's pid.
        unsafe { libc::kill(pid, signal) };
    }

    /// Kills the server (SIGKILL: connections reset, nothing flushed).
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Starts it again on the same port (empty: nothing is persisted).
    pub async fn restart(&mut self) {
        self.kill();
        self.child = RedisServer::spawn(self.port(), &self._dir).await;
    }

    async fn spawn(port: u16, dir: &std::path::Path) -> std::process::Child {
        let mut child = std::process::Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(dir)
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("redis-server is installed (scripts/test.sh installs it)");
        // Ready when it answers PING.
        for _ in 0..200 {
            if let Ok(mut s) = tokio::net::TcpStream::connect(("127.0.0.1", port)).await {
                use tokio::io::{AsyncReadExt, AsyncWriteExt};
                let mut buf = [0u8; 7];
                if s.write_all(b"PING\r\n").await.is_ok()
                    && s.read_exact(&mut buf).await.is_ok()
                    && &buf == b"+PONG\r\n"
                {
                    return child;
                }
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("redis-server did not start on port {port}");
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self._dir);
    }
}

/// The config text of one key (its hash), for tests.
pub fn key_entry(name: &str, key: &str, extra: &str) -> String {
    format!("  - {{name: {name}, team: t-{name}, key_sha256: {}{extra}}}\n", amux::stack::auth::hash_key(key))
}

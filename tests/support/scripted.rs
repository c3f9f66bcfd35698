//! A raw TCP upstream that plays one script per connection (write these bytes, wait that long)
//! and notices when the gateway closes the connection: how the fault tests see that an upstream
//! call was cancelled while the upstream was still waiting, answering or streaming.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// One step of a connection's script.
#[derive(Debug, Clone)]
pub enum Step {
    Write(String),
    Wait(Duration),
}

/// The head of a chunked SSE answer (the connection is not reused).
pub const SSE_HEAD: &str =
    "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n";
/// The end of a chunked body.
pub const LAST_CHUNK: &str = "0\r\n\r\n";

/// `s` as one HTTP/1.1 chunk.
pub fn chunk(s: &str) -> String {
    format!("{:x}\r\n{s}\r\n", s.len())
}

/// The head of a JSON answer of `len` bytes.
pub fn json_head(len: usize) -> String {
    format!("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {len}\r\nconnection: close\r\n\r\n")
}

/// An SSE answer: the head, `first` at once, then each of `rest` after `every`, then the end.
pub fn drip(first: &str, rest: &[String], every: Duration) -> Vec<Step> {
    let mut steps = vec![Step::Write(format!("{SSE_HEAD}{}", chunk(first)))];
    for r in rest {
        steps.push(Step::Wait(every));
        steps.push(Step::Write(chunk(r)));
    }
    steps.push(Step::Write(LAST_CHUNK.to_string()));
    steps
}

pub struct Scripted {
    pub addr: SocketAddr,
    scripts: Arc<Mutex<VecDeque<Vec<Step>>>>,
    /// Requests read so far.
    pub requests: Arc<AtomicUsize>,
    /// Connections the gateway closed before their script ended.
    pub closed_early: Arc<AtomicUsize>,
    /// Scripts played to their end.
    pub finished: Arc<AtomicUsize>,
}

impl Scripted {
    pub async fn start() -> Scripted {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let s = Scripted {
            addr,
            scripts: Arc::default(),
            requests: Arc::default(),
            closed_early: Arc::default(),
            finished: Arc::default(),
        };
        let (scripts, requests, closed, finished) =
            (s.scripts.clone(), s.requests.clone(), s.closed_early.clone(), s.finished.clone());
        tokio::spawn(async move {
            while let Ok((sock, _)) = listener.accept().await {
                let (scripts, requests, closed, finished) =
                    (scripts.clone(), requests.clone(), closed.clone(), finished.clone());
                tokio::spawn(async move {
                    let mut sock = sock;
                    if !read_request(&mut sock).await {
                        return;
                    }
                    requests.fetch_add(1, Ordering::SeqCst);
                    let script = scripts.lock().unwrap().pop_front().unwrap_or_default();
                    if play(&mut sock, script).await {
                        finished.fetch_add(1, Ordering::SeqCst);
                    } else {
                        closed.fetch_add(1, Ordering::SeqCst);
                    }
                });
            }
        });
        s
    }

    /// Queues the script of the next connection.
    pub fn push(&self, steps: Vec<Step>) {
        self.scripts.lock().unwrap().push_back(steps);
    }

    /// Waits (bounded) until `counter` reaches `n`; false if it did not within `within`.
    pub async fn wait(counter: &AtomicUsize, n: usize, within: Duration) -> bool {
        let until = tokio::time::Instant::now() + within;
        while counter.load(Ordering::SeqCst) < n {
            if tokio::time::Instant::now() >= until {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        true
    }
}

/// Reads a request head and its `Content-Length` body; false if the peer left first.
async fn read_request(sock: &mut TcpStream) -> bool {
    let mut seen = Vec::new();
    let mut buf = [0u8; 16384];
    loop {
        if let Some(end) = seen.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&seen[..end]).to_ascii_lowercase();
            let len = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:").map(|v| v.trim().parse::<usize>().unwrap_or(0)))
                .unwrap_or(0);
            if seen.len() >= end + 4 + len {
                return true;
            }
        }
        match sock.read(&mut buf).await {
            Ok(0) | Err(_) => return false,
            Ok(n) => seen.extend_from_slice(&buf[..n]),
        }
    }
}

/// Plays `script`; false when the peer closed the connection before it ended. While waiting,
/// a read that returns EOF (or fails) is the peer closing.
async fn play(sock: &mut TcpStream, script: Vec<Step>) -> bool {
    let mut buf = [0u8; 1024];
    for step in script {
        match step {
            Step::Write(bytes) => {
                if sock.write_all(bytes.as_bytes()).await.is_err() || sock.flush().await.is_err() {
                    return false;
                }
            }
            Step::Wait(d) => {
                let until = tokio::time::Instant::now() + d;
                loop {
                    match tokio::time::timeout_at(until, sock.read(&mut buf)).await {
                        Err(_) => break,
                        Ok(Ok(0)) | Ok(Err(_)) => return false,
                        Ok(Ok(_)) => {}
                    }
                }
            }
        }
    }
    true
}

/// An HTTPS upstream on `ip` (any loopback address) presenting `tests/fixtures/tls/cert-a.pem`
/// (issued by the test CA, for 127.0.0.1 and localhost) and answering every request with `json`;
/// and the count of the connections it accepted.
pub async fn tls_upstream(ip: &str, json: &'static str) -> (SocketAddr, Arc<AtomicUsize>) {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tls");
    let certs: Vec<CertificateDer<'static>> =
        CertificateDer::pem_file_iter(dir.join("cert-a.pem")).unwrap().map(|c| c.unwrap()).collect();
    let key = PrivateKeyDer::from_pem_file(dir.join("key-a.pem")).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind((ip, 0)).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = accepted.clone();
    tokio::spawn(async move {
        while let Ok((sock, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                // A client that refuses the certificate ends the handshake: nothing to serve.
                let Ok(mut tls) = acceptor.accept(sock).await else { return };
                let mut buf = [0u8; 16384];
                let _ = tls.read(&mut buf).await;
                let answer = format!("{}{json}", json_head(json.len()));
                let _ = tls.write_all(answer.as_bytes()).await;
                let _ = tls.shutdown().await;
            });
        }
    });
    (addr, accepted)
}

/// An upstream that accepts connections, reads the first bytes of the TLS ClientHello and
/// resets the connection (closed with unread data).
pub async fn reset_in_handshake() -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let mut five = [0u8; 5];
            let _ = sock.read_exact(&mut five).await;
            tokio::time::sleep(Duration::from_millis(20)).await;
            drop(sock);
        }
    });
    addr
}

/// An upstream that accepts connections and never says anything (a TLS handshake that stalls).
pub async fn silent() -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((sock, _)) = listener.accept().await {
            held.push(sock);
        }
    });
    addr
}

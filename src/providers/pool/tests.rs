//! The pool against local upstreams: HTTP/1 keep-alive reuse, HTTP/2 negotiated by ALPN over TLS
//! (the test CA), upstream closes while idle, the idle timeout and cap, and bodies dropped early.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use http_body_util::{BodyExt, Full};
use hyper_util::server::conn::auto;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::*;

fn tls_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tls")
}

/// A pool whose TLS trusts the test CA only.
fn pool(idle_timeout: Duration, max_idle: usize) -> Upstream {
    let mut roots = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_file_iter(tls_dir().join("ca.pem")).unwrap() {
        roots.add(c.unwrap()).unwrap();
    }
    let tls = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http()
        .enable_http1()
        .enable_http2()
        .wrap_connector(http);
    Upstream::with_connector(https, idle_timeout, max_idle)
}

/// A local upstream: each accepted connection (counted, numbered from 0) is served by `serve`
/// in a task of its own.
async fn listen<F, Fut>(serve: F) -> (SocketAddr, Arc<AtomicUsize>)
where
    F: Fn(tokio::net::TcpStream, usize) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = accepted.clone();
    tokio::spawn(async move {
        while let Ok((sock, _)) = listener.accept().await {
            tokio::spawn(serve(sock, count.fetch_add(1, Ordering::SeqCst)));
        }
    });
    (addr, accepted)
}

/// A hyper upstream (HTTP/1 and HTTP/2; over TLS offering both by ALPN when `tls`) answering
/// each request with its version and Host header; counts the connections it accepted.
async fn upstream(tls: bool) -> (SocketAddr, Arc<AtomicUsize>) {
    let acceptor = tls.then(|| {
        let certs: Vec<CertificateDer<'static>> =
            CertificateDer::pem_file_iter(tls_dir().join("cert-a.pem")).unwrap().map(|c| c.unwrap()).collect();
        let key = PrivateKeyDer::from_pem_file(tls_dir().join("key-a.pem")).unwrap();
        let mut config =
            rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
                .with_safe_default_protocol_versions()
                .unwrap()
                .with_no_client_auth()
                .with_single_cert(certs, key)
                .unwrap();
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        tokio_rustls::TlsAcceptor::from(Arc::new(config))
    });
    listen(move |sock, _| {
        let acceptor = acceptor.clone();
        async move {
            let svc = hyper::service::service_fn(|req: Request<Incoming>| async move {
                let host = req.headers().get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("-");
                let text = format!("{:?} {} {host}", req.version(), req.uri());
                Ok::<_, Infallible>(Response::new(Full::new(Bytes::from(text))))
            });
            let builder = auto::Builder::new(TokioExecutor::new());
            match acceptor {
                Some(a) => {
                    let Ok(tls) = a.accept(sock).await else { return };
                    let _ = builder.serve_connection(TokioIo::new(tls), svc).await;
                }
                None => {
                    let _ = builder.serve_connection(TokioIo::new(sock), svc).await;
                }
            }
        }
    })
    .await
}

fn get(url: &str) -> Request<UpBody> {
    Request::post(url).body(UpBody::from(Bytes::from_static(b"{}"))).unwrap()
}

async fn text(resp: Response<UpIncoming>) -> String {
    String::from_utf8(resp.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap()
}

#[tokio::test]
async fn http1_connections_are_reused_once_their_answer_is_read() {
    let (addr, accepted) = upstream(false).await;
    let pool = pool(Duration::from_secs(90), 8);
    for _ in 0..5 {
        let resp = pool.request(get(&format!("http://{addr}/v1/messages?beta=true"))).await.unwrap();
        // Origin form and a Host header on HTTP/1.
        assert_eq!(text(resp).await, format!("HTTP/1.1 /v1/messages?beta=true {addr}"));
    }
    assert_eq!(accepted.load(Ordering::SeqCst), 1);
    assert_eq!(pool.idle_count(), 1);

    // Two answers open at once need two connections; both go back idle.
    let a = pool.request(get(&format!("http://{addr}/a"))).await.unwrap();
    let b = pool.request(get(&format!("http://{addr}/b"))).await.unwrap();
    assert_eq!(pool.idle_count(), 0);
    assert_eq!((text(a).await, text(b).await), (format!("HTTP/1.1 /a {addr}"), format!("HTTP/1.1 /b {addr}")));
    assert_eq!(accepted.load(Ordering::SeqCst), 2);
    assert_eq!(pool.idle_count(), 2);
}

#[tokio::test]
async fn an_answer_dropped_before_its_end_does_not_give_its_connection_back() {
    let (addr, accepted) = upstream(false).await;
    let pool = pool(Duration::from_secs(90), 8);
    // hyper delivers a small body with its head; a body not polled at all is dropped unread.
    let resp = pool.request(get(&format!("http://{addr}/x"))).await.unwrap();
    let (_, body) = resp.into_parts();
    if body.is_end_stream() {
        // Already read whole by hyper: it is given back on drop, which is also right.
        drop(body);
        assert_eq!(pool.idle_count(), 1);
    } else {
        drop(body);
        assert_eq!(pool.idle_count(), 0);
        let _ = text(pool.request(get(&format!("http://{addr}/y"))).await.unwrap()).await;
        assert_eq!(accepted.load(Ordering::SeqCst), 2);
    }
}

#[tokio::test]
async fn https_upstreams_offering_http2_share_one_connection() {
    let (addr, accepted) = upstream(true).await;
    let pool = pool(Duration::from_secs(90), 8);
    let url = format!("https://localhost:{}/v1/chat/completions", addr.port());
    let first = text(pool.request(get(&url)).await.unwrap()).await;
    assert!(first.starts_with("HTTP/2.0 https://localhost:"), "{first}");
    let calls = (0..8).map(|_| {
        let pool = pool.clone();
        let url = url.clone();
        async move { text(pool.request(get(&url)).await.unwrap()).await }
    });
    for answer in futures_util::future::join_all(calls).await {
        assert!(answer.starts_with("HTTP/2.0"), "{answer}");
    }
    assert_eq!(accepted.load(Ordering::SeqCst), 1, "one multiplexed connection");
    assert_eq!(pool.idle_count(), 0, "HTTP/2 is not kept in the HTTP/1 idle lists");
}

#[tokio::test]
async fn an_untrusted_certificate_is_a_tls_error() {
    let (addr, _) = upstream(true).await;
    // A pool with no roots trusts nothing (its TCP connector takes https URLs, as the pool's own
    // does: `HttpConnector::new` alone refuses them before any TLS).
    let mut tcp = HttpConnector::new();
    tcp.enforce_http(false);
    let untrusted = Upstream::with_connector(
        hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(
                rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
                    .with_safe_default_protocol_versions()
                    .unwrap()
                    .with_root_certificates(rustls::RootCertStore::empty())
                    .with_no_client_auth(),
            )
            .https_or_http()
            .enable_http1()
            .wrap_connector(tcp),
        Duration::from_secs(90),
        8,
    );
    let err = untrusted.request(get(&format!("https://{addr}/x"))).await.unwrap_err();
    assert!(matches!(&err, PoolError::Tls(m) if m.contains("certificate")), "{err:?}");
    assert_eq!(err.label(), "tls");
}

#[tokio::test]
async fn a_connection_the_upstream_closed_while_idle_is_not_used_again() {
    // An HTTP/1 upstream that answers one request per connection, keep-alive, then closes it.
    let (addr, accepted) = listen(|mut sock, n| async move {
        let mut buf = [0u8; 4096];
        let _ = sock.read(&mut buf).await;
        let body = format!("conn {n}");
        let head = format!("HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n{body}", body.len());
        let _ = sock.write_all(head.as_bytes()).await;
        // Closed without a `connection: close`: the client learns it from the EOF.
    })
    .await;
    let pool = pool(Duration::from_secs(90), 8);
    for i in 0..3 {
        let answer = text(pool.request(get(&format!("http://{addr}/x"))).await.unwrap()).await;
        assert_eq!(answer, format!("conn {i}"));
        // Let the connection's task read the EOF.
        for _ in 0..100 {
            if pool.inner.hosts.lock().unwrap().iter().all(|h| h.idle.iter().all(|i| i.tx.is_closed())) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    assert_eq!(accepted.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn idle_connections_past_the_timeout_or_over_the_cap_are_closed() {
    let (addr, accepted) = upstream(false).await;
    let pool = pool(Duration::from_millis(50), 1);
    let (a, b) = (
        pool.request(get(&format!("http://{addr}/a"))).await.unwrap(),
        pool.request(get(&format!("http://{addr}/b"))).await.unwrap(),
    );
    let _ = (text(a).await, text(b).await);
    assert_eq!(pool.idle_count(), 1, "one idle connection at most");
    tokio::time::sleep(Duration::from_millis(80)).await;
    let _ = text(pool.request(get(&format!("http://{addr}/c"))).await.unwrap()).await;
    assert_eq!(accepted.load(Ordering::SeqCst), 3, "the idle one was past its timeout");
}

#[tokio::test]
async fn a_url_without_http_or_a_host_is_refused() {
    let pool = pool(Duration::from_secs(90), 8);
    let err = pool.request(get("/relative")).await.unwrap_err();
    assert!(err.to_string().contains("not http(s)"), "{err}");
    let err = pool.request(get("ftp://example.com/x")).await.unwrap_err();
    assert!(err.to_string().contains("not http(s)"), "{err}");
}

#[test]
fn a_request_future_stays_small() {
    // The connect path is boxed: a call's future carries only the send.
    let pool = pool(Duration::from_secs(90), 8);
    let fut = pool.request(get("http://127.0.0.1:9/x"));
    assert!(std::mem::size_of_val(&fut) < 1024, "{} bytes", std::mem::size_of_val(&fut));
}

#[tokio::test]
async fn an_http2_connection_untaken_for_the_idle_timeout_is_let_go() {
    let (addr, accepted) = upstream(true).await;
    let pool = pool(Duration::from_millis(60), 8);
    let url = format!("https://localhost:{}/x", addr.port());
    for _ in 0..3 {
        let answer = text(pool.request(get(&url)).await.unwrap()).await;
        assert!(answer.starts_with("HTTP/2.0"), "{answer}");
    }
    assert_eq!(accepted.load(Ordering::SeqCst), 1);
    // The reaper ticks every 30 ms here; past the timeout it lets the connection go.
    let mut let_go = false;
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(10)).await;
        if pool.inner.hosts.lock().unwrap().iter().all(|h| h.h2.is_none()) {
            let_go = true;
            break;
        }
    }
    assert!(let_go, "still held after a second");
    let _ = text(pool.request(get(&url)).await.unwrap()).await;
    assert_eq!(accepted.load(Ordering::SeqCst), 2, "a new connection after it was let go");
}

#[tokio::test]
async fn an_answer_with_connection_close_is_not_reused() {
    // An HTTP/1 upstream answering `connection: close` (hyper closes after the answer).
    let (addr, accepted) = listen(|sock, _| async move {
        let svc = hyper::service::service_fn(|_req: Request<Incoming>| async move {
            Ok::<_, Infallible>(Response::new(Full::new(Bytes::from_static(b"once"))))
        });
        let _ = hyper::server::conn::http1::Builder::new()
            .keep_alive(false)
            .serve_connection(TokioIo::new(sock), svc)
            .await;
    })
    .await;
    let pool = pool(Duration::from_secs(90), 8);
    for _ in 0..3 {
        assert_eq!(text(pool.request(get(&format!("http://{addr}/x"))).await.unwrap()).await, "once");
    }
    assert_eq!(accepted.load(Ordering::SeqCst), 3);
}

//! HTTPS on the main port (`tls:`): a Bedrock caller's bearer key over TLS, and a certificate
//! renewed on disk served to the next connection without a restart. Certificates in
//! `tests/fixtures/tls/` (a test CA and two leaves for 127.0.0.1, made with the openssl CLI).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};

use crate::support::*;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tls").join(name)
}

fn client_config() -> rustls::ClientConfig {
    let mut roots = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_file_iter(fixture("ca.pem")).unwrap() {
        roots.add(c.unwrap()).unwrap();
    }
    rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth()
}

/// The leaf certificate the gateway presents now.
async fn served_cert(addr: std::net::SocketAddr) -> Vec<u8> {
    let connector = tokio_rustls::TlsConnector::from(Arc::new(client_config()));
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let name = ServerName::try_from("127.0.0.1").unwrap();
    let tls = connector.connect(name, tcp).await.unwrap();
    tls.get_ref().1.peer_certificates().unwrap()[0].to_vec()
}

fn leaf(name: &str) -> Vec<u8> {
    CertificateDer::pem_file_iter(fixture(name)).unwrap().next().unwrap().unwrap().to_vec()
}

#[tokio::test]
async fn bearer_keys_over_https_and_certificates_reload() {
    let dir = std::env::temp_dir().join(format!("amux-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::copy(fixture("cert-a.pem"), &cert).unwrap();
    std::fs::copy(fixture("key-a.pem"), &key).unwrap();
    let mock = Mock::start().await;
    mock.push(Reply::ok(
        r#"{"id":"m","type":"message","role":"assistant","model":"claude-up","content":[{"type":"text","text":"over TLS"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":1,"output_tokens":2}}"#,
    ));
    let extra = format!(
        "keys:\n{}tls: {{cert_file: '{}', key_file: '{}'}}\n",
        key_entry("dev", "amux-dev-key", ""),
        cert.display(),
        key.display()
    );
    let gw = start_gateway(&mock_config(&mock, &extra)).await;

    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(client_config())
        .https_only()
        .enable_http1()
        .enable_http2()
        .build();
    let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new()).build(https);
    let req = http::Request::post(format!("https://127.0.0.1:{}/bedrock/model/claude-test/converse", gw.addr.port()))
        .header("authorization", "Bearer amux-dev-key")
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from_static(br#"{"messages":[{"role":"user","content":[{"text":"Hi"}]}]}"#)))
        .unwrap();
    let resp = tokio::time::timeout(Duration::from_secs(10), client.request(req)).await.unwrap().unwrap();
    assert_eq!(resp.status(), 200);
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["output"]["message"]["content"][0]["text"], "over TLS");

    assert_eq!(served_cert(gw.addr).await, leaf("cert-a.pem"));
    // Renew: the key first, then the certificate (a half-written pair is not served).
    std::fs::copy(fixture("key-b.pem"), &key).unwrap();
    std::fs::copy(fixture("cert-b.pem"), &cert).unwrap();
    let deadline = Instant::now() + Duration::from_secs(15);
    while served_cert(gw.addr).await != leaf("cert-b.pem") {
        assert!(Instant::now() < deadline, "the renewed certificate was not picked up");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let _ = std::fs::remove_dir_all(&dir);
}

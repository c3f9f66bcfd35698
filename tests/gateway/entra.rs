//! Microsoft Entra ID tokens for keyless `azure` / `foundry` providers from a mock Entra token
//! endpoint (`POST /{tenant}/oauth2/v2.0/token`): client secret (`AZURE_TENANT_ID`,
//! `AZURE_CLIENT_ID`, `AZURE_CLIENT_SECRET`) and workload identity as on AKS
//! (`AZURE_FEDERATED_TOKEN_FILE`: the projected service-account token sent as a
//! `client_assertion`). The mock checks the tenant, client id, grant type, scope
//! (`https://cognitiveservices.azure.com/.default`) and the secret or assertion, and issues tokens
//! that the mock Azure OpenAI upstream alone accepts; tokens inside the renewal margin are asked
//! for again.
//!
//! azure_identity refuses an authority host that is not HTTPS, so the mock serves TLS with the
//! test certificate for 127.0.0.1 (`tests/fixtures/tls/`), `AZURE_AUTHORITY_HOST` points at it, and
//! `SSL_CERT_FILE` makes the test CA the roots azure_identity's HTTP client trusts
//! (rustls-native-certs reads it). Each nextest test is its own process, so the variables set here
//! reach no other test.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use serde_json::json;

use crate::azure_upstream::{ASK_CHAT, AzureMock, config};
use crate::support::*;

const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const CLIENT_ID: &str = "0b7a3b6e-1c2d-4e5f-8a9b-0c1d2e3f4a5b";
const CLIENT_SECRET: &str = "entra-client-secret-must-not-leak";
const ASSERTION: &str = "eyJhbGciOiJSUzI1NiJ9.projected-service-account-token.sig";
const SCOPE: &str = "https://cognitiveservices.azure.com/.default";

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tls").join(name)
}

/// One token request as the mock read it.
#[derive(Clone, Debug)]
struct Asked {
    path: String,
    form: Vec<(String, String)>,
}

impl Asked {
    fn get(&self, k: &str) -> Option<&str> {
        self.form.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str())
    }
}

/// The mock Entra token endpoint over TLS; issued tokens go into `tokens`, which the mock Azure
/// upstream checks.
struct Entra {
    addr: SocketAddr,
    asked: Arc<Mutex<Vec<Asked>>>,
}

impl Entra {
    /// `secret`: what the client proves itself with (`client_secret` or `client_assertion`).
    async fn start(tokens: Arc<Mutex<HashSet<String>>>, lifetime: u64, proof: (&'static str, &'static str)) -> Entra {
        let certs: Vec<CertificateDer> =
            CertificateDer::pem_file_iter(fixture("cert-a.pem")).unwrap().map(|c| c.unwrap()).collect();
        let key = PrivateKeyDer::from_pem_file(fixture("key-a.pem")).unwrap();
        let tls = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(tls));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let asked: Arc<Mutex<Vec<Asked>>> = Arc::default();
        let seen = asked.clone();
        tokio::spawn(async move {
            loop {
                let Ok((tcp, _)) = listener.accept().await else { return };
                let (acceptor, seen, tokens) = (acceptor.clone(), seen.clone(), tokens.clone());
                tokio::spawn(async move {
                    let Ok(stream) = acceptor.accept(tcp).await else { return };
                    let service = hyper::service::service_fn(move |req: http::Request<hyper::body::Incoming>| {
                        let (seen, tokens) = (seen.clone(), tokens.clone());
                        async move {
                            let path = req.uri().path().to_string();
                            let body = req.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
                            let text = String::from_utf8_lossy(&body).into_owned();
                            let form = crate::form::form(&text);
                            let a = Asked { path: path.clone(), form };
                            seen.lock().unwrap().push(a.clone());
                            let ok = path == format!("/{TENANT}/oauth2/v2.0/token")
                                && a.get("client_id") == Some(CLIENT_ID)
                                && a.get("grant_type") == Some("client_credentials")
                                && a.get("scope") == Some(SCOPE)
                                && a.get(proof.0) == Some(proof.1);
                            let (status, body) = if ok {
                                let mut t = tokens.lock().unwrap();
                                let token = format!("entra-{}-{}", proof.0, t.len() + 1);
                                t.insert(token.clone());
                                let b = json!({"token_type": "Bearer", "expires_in": lifetime,
                                    "ext_expires_in": lifetime, "access_token": token});
                                (200, b.to_string())
                            } else {
                                let b = json!({"error": "invalid_client", "error_description":
                                    "AADSTS7000215: Invalid client secret provided.", "error_codes": [7000215]});
                                (401, b.to_string())
                            };
                            Ok::<_, std::convert::Infallible>(
                                http::Response::builder()
                                    .status(status)
                                    .header("content-type", "application/json; charset=utf-8")
                                    .body(Full::new(Bytes::from(body)))
                                    .unwrap(),
                            )
                        }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Entra { addr, asked }
    }

    fn asked(&self) -> Vec<Asked> {
        self.asked.lock().unwrap().clone()
    }
}

fn point_at(entra: &Entra) {
    unsafe {
        std::env::set_var("AZURE_AUTHORITY_HOST", format!("https://127.0.0.1:{}", entra.addr.port()));
        std::env::set_var("SSL_CERT_FILE", fixture("ca.pem"));
        std::env::set_var("AZURE_TENANT_ID", TENANT);
        std::env::set_var("AZURE_CLIENT_ID", CLIENT_ID);
    }
}

/// Two calls through a keyless `azure` provider; the Authorization header each one carried.
async fn two_calls(m: &AzureMock, addr: SocketAddr) -> Vec<String> {
    let gw = start_gateway(&config(addr, "")).await;
    let mut used = Vec::new();
    for _ in 0..2 {
        let r = post(gw.addr, "/v1/chat/completions", &[], &ASK_CHAT.replace("MODEL", "gpt-az")).await;
        assert_eq!(r.status, 200, "{} {:?}", r.body, m.refused.lock().unwrap());
        let s = m.last();
        assert!(s.headers.get("api-key").is_none());
        used.push(s.headers["authorization"].to_str().unwrap().to_string());
    }
    used
}

#[tokio::test]
async fn client_secret_tokens_are_checked_cached_and_renewed() {
    let (m, addr) = AzureMock::start().await;
    let entra = Entra::start(m.tokens.clone(), 3600, ("client_secret", CLIENT_SECRET)).await;
    point_at(&entra);
    unsafe { std::env::set_var("AZURE_CLIENT_SECRET", CLIENT_SECRET) };
    // A token good for an hour is reused.
    assert_eq!(two_calls(&m, addr).await, ["Bearer entra-client_secret-1", "Bearer entra-client_secret-1"]);
    let asked = entra.asked();
    assert_eq!(asked.len(), 1, "{asked:?}");
    assert_eq!(asked[0].path, format!("/{TENANT}/oauth2/v2.0/token"));
    assert_eq!(asked[0].get("client_secret"), Some(CLIENT_SECRET));
    assert_eq!(asked[0].get("scope"), Some(SCOPE));
    assert!(m.refused.lock().unwrap().is_empty(), "{:?}", m.refused.lock().unwrap());

    // Tokens that live 200 s are inside the 300 s renewal margin: each call gets a new one.
    let (m, addr) = AzureMock::start().await;
    let entra = Entra::start(m.tokens.clone(), 200, ("client_secret", CLIENT_SECRET)).await;
    point_at(&entra);
    assert_eq!(two_calls(&m, addr).await, ["Bearer entra-client_secret-1", "Bearer entra-client_secret-2"]);
    assert_eq!(entra.asked().len(), 2);
}

#[tokio::test]
async fn workload_identity_sends_the_projected_token_as_an_assertion() {
    let (m, addr) = AzureMock::start().await;
    let entra = Entra::start(m.tokens.clone(), 200, ("client_assertion", ASSERTION)).await;
    point_at(&entra);
    let dir = std::env::temp_dir().join(format!("amux-entra-wi-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("azure-identity-token");
    std::fs::write(&file, ASSERTION).unwrap();
    unsafe { std::env::set_var("AZURE_FEDERATED_TOKEN_FILE", &file) };
    // Renewed inside the margin, with the same projected token (azure_identity rereads the file
    // every 10 minutes).
    assert_eq!(two_calls(&m, addr).await, ["Bearer entra-client_assertion-1", "Bearer entra-client_assertion-2"]);
    let asked = entra.asked();
    assert_eq!(asked.len(), 2);
    for a in &asked {
        assert_eq!(a.get("client_assertion_type"), Some("urn:ietf:params:oauth:client-assertion-type:jwt-bearer"));
        assert_eq!(a.get("client_secret"), None);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_refused_client_secret_is_a_clear_error_without_the_secret() {
    let (m, addr) = AzureMock::start().await;
    let entra = Entra::start(m.tokens.clone(), 3600, ("client_secret", CLIENT_SECRET)).await;
    point_at(&entra);
    unsafe { std::env::set_var("AZURE_CLIENT_SECRET", "a-wrong-secret-value") };
    let gw = start_gateway(&config(addr, "")).await;
    let r = post(gw.addr, "/v1/chat/completions", &[], &ASK_CHAT.replace("MODEL", "gpt-az")).await;
    assert!(r.status >= 400, "{} {}", r.status, r.body);
    assert!(r.body.contains("Entra") || r.body.contains("AADSTS7000215"), "{}", r.body);
    assert!(!r.body.contains("a-wrong-secret-value"), "{}", r.body);
    assert_eq!(entra.asked().len(), 1);
    assert_eq!(m.tokens.lock().unwrap().len(), 0);
}

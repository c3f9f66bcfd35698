//! amux calling Vertex AI (provider kind `vertex`) against a mock Google: a token endpoint that
//! verifies the service-account JWT (RS256 signature with the key's public half, issuer, audience,
//! scope) and issues short-lived tokens, a metadata server (`Metadata-Flavor: Google`), and a
//! Vertex mock that accepts only a live token the mock issued. Claude goes by rawPredict /
//! streamRawPredict with the Anthropic body (`anthropic_version: vertex-2023-10-16`, no model),
//! Gemini by generateContent, `publisher/model` names by the OpenAI-compatible endpoint.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::signature::{self, KeyPair as _};
use axum::body::Body;
use axum::extract::Request;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use http::Response;
use http_body_util::BodyExt;
use serde_json::{Value, json};

use amux::config::Config;
use amux::gateway::Gateway;
use amux::usage::UsageSinks;

use crate::support::*;

const EMAIL: &str = "amux-test@proj-1.iam.gserviceaccount.com";
const SCOPE: &str = "https://www.googleapis.com/auth/cloud-platform";

#[derive(Clone, Debug)]
struct Seen {
    path: String,
    token: String,
    body: Value,
    headers: http::HeaderMap,
}

/// A scripted answer: status, content type, body.
type Scripted = (u16, &'static str, String);

/// The mock Google: token endpoint, metadata server and Vertex in one server.
#[derive(Clone)]
struct Google {
    addr: SocketAddr,
    /// Tokens issued, with when they stop being accepted.
    issued: Arc<Mutex<HashMap<String, Instant>>>,
    seen: Arc<Mutex<Vec<Seen>>>,
    refused: Arc<Mutex<Vec<String>>>,
    replies: Arc<Mutex<Vec<Scripted>>>,
    lifetime: Duration,
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' if i + 2 < b.len() => {
                out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap_or(b'?'));
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn unauthorized(why: &str) -> Response<Body> {
    let body = json!({"error": {"code": 401, "message": why, "status": "UNAUTHENTICATED"}});
    Response::builder()
        .status(401)
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap()
}

impl Google {
    async fn start(public_key: Vec<u8>, lifetime: Duration) -> Google {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let g = Google {
            addr,
            issued: Arc::default(),
            seen: Arc::default(),
            refused: Arc::default(),
            replies: Arc::default(),
            lifetime,
        };
        let me = g.clone();
        let app = axum::Router::new().fallback(move |req: Request| {
            let (me, key) = (me.clone(), public_key.clone());
            async move { me.handle(req, &key).await }
        });
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        g
    }

    fn issue(&self) -> Response<Body> {
        let mut issued = self.issued.lock().unwrap();
        let token = format!("ya29.mock-{}", issued.len() + 1);
        issued.insert(token.clone(), Instant::now() + self.lifetime);
        let body = json!({"access_token": token, "expires_in": self.lifetime.as_secs(), "token_type": "Bearer"});
        Response::builder().header("content-type", "application/json").body(Body::from(body.to_string())).unwrap()
    }

    /// Checks a service-account assertion as Google's token endpoint does.
    fn check_jwt(&self, form: &str, public_key: &[u8]) -> Result<(), String> {
        let pairs: HashMap<String, String> = form
            .split('&')
            .filter_map(|kv| kv.split_once('='))
            .map(|(k, v)| (k.to_string(), percent_decode(v)))
            .collect();
        if pairs.get("grant_type").map(String::as_str) != Some("urn:ietf:params:oauth:grant-type:jwt-bearer") {
            return Err(format!("grant_type {:?}", pairs.get("grant_type")));
        }
        let jwt = pairs.get("assertion").ok_or("no assertion")?;
        let parts: Vec<&str> = jwt.split('.').collect();
        if parts.len() != 3 {
            return Err("not a JWT".into());
        }
        // base64url without padding, as RFC 7515 says (the standard alphabet is taken too).
        let b64 = |s: &str| URL_SAFE_NO_PAD.decode(s.replace('+', "-").replace('/', "_").trim_end_matches('='));
        let header: Value =
            serde_json::from_slice(&b64(parts[0]).map_err(|e| e.to_string())?).map_err(|e| e.to_string())?;
        if header["alg"] != "RS256" {
            return Err(format!("alg {}", header["alg"]));
        }
        let sig = b64(parts[2]).map_err(|e| e.to_string())?;
        let signed = format!("{}.{}", parts[0], parts[1]);
        signature::UnparsedPublicKey::new(&signature::RSA_PKCS1_2048_8192_SHA256, public_key)
            .verify(signed.as_bytes(), &sig)
            .map_err(|_| "bad signature".to_string())?;
        let claims: Value =
            serde_json::from_slice(&b64(parts[1]).map_err(|e| e.to_string())?).map_err(|e| e.to_string())?;
        let aud = format!("http://{}/token", self.addr);
        if claims["iss"] != EMAIL || claims["aud"] != aud.as_str() || claims["scope"] != SCOPE {
            return Err(format!("claims {claims}"));
        }
        Ok(())
    }

    async fn handle(&self, req: Request, public_key: &[u8]) -> Response<Body> {
        let (parts, body) = req.into_parts();
        let body = body.collect().await.unwrap().to_bytes();
        let path = parts.uri.path_and_query().map(|p| p.to_string()).unwrap_or_default();
        if path == "/token" {
            return match self.check_jwt(&String::from_utf8_lossy(&body), public_key) {
                Ok(()) => self.issue(),
                Err(e) => {
                    self.refused.lock().unwrap().push(e.clone());
                    Response::builder()
                        .status(400)
                        .body(Body::from(format!("{{\"error\":\"invalid_grant\",\"error_description\":\"{e}\"}}")))
                        .unwrap()
                }
            };
        }
        if path.starts_with("/computeMetadata/v1/instance/service-accounts/default/token") {
            if parts.headers.get("metadata-flavor").and_then(|v| v.to_str().ok()) != Some("Google") {
                return Response::builder().status(403).body(Body::from("missing Metadata-Flavor")).unwrap();
            }
            return self.issue();
        }
        let auth = parts.headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or("");
        let token = auth.strip_prefix("Bearer ").unwrap_or("").to_string();
        let live = self.issued.lock().unwrap().get(&token).is_some_and(|exp| Instant::now() < *exp);
        if !live {
            self.refused.lock().unwrap().push(format!("token {token:?} on {path}"));
            return unauthorized("Request had invalid authentication credentials.");
        }
        let body_json = serde_json::from_slice(&body).unwrap_or(Value::Null);
        self.seen.lock().unwrap().push(Seen { path, token, body: body_json, headers: parts.headers });
        let (status, ct, text) = self.replies.lock().unwrap().remove(0);
        Response::builder().status(status).header("content-type", ct).body(Body::from(text)).unwrap()
    }

    fn reply(&self, status: u16, ct: &'static str, body: impl Into<String>) {
        self.replies.lock().unwrap().push((status, ct, body.into()));
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

async fn gateway(config: &str, env: &'static [(&'static str, String)]) -> SocketAddr {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let config: Config = amux::config::parse_str(config).unwrap();
    let env = move |k: &str| env.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone());
    let gw = Gateway::bind(&config, "127.0.0.1:0".parse().unwrap(), &env, UsageSinks::new(vec![])).await.unwrap();
    let addr = gw.local_addr().unwrap();
    tokio::spawn(async move { gw.serve(std::future::pending()).await.unwrap() });
    addr
}

const ANTHROPIC_ANSWER: &str = r#"{"id":"msg_1","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[{"type":"text","text":"from vertex"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":7,"output_tokens":3}}"#;
const GEMINI_ANSWER: &str = r#"{"candidates":[{"content":{"role":"model","parts":[{"text":"gemini on vertex"}]},"finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":5,"candidatesTokenCount":4,"totalTokenCount":9},"modelVersion":"gemini-2.5-flash","createTime":"2025-01-01T00:00:00Z","responseId":"r1"}"#;

fn config(base: &str, auth: &str) -> String {
    format!(
        "discover_env: false
router: {{retries: 0}}
providers:
  vx: {{kind: vertex, project: proj-1, location: us-east5, base_url: '{base}'{auth}}}
models:
  - {{name: sonnet, provider: vx, model: 'claude-sonnet-4-5@20250929'}}
  - {{name: flash, provider: vx, model: gemini-2.5-flash}}
  - {{name: llama, provider: vx, model: meta/llama-3.3-70b-instruct-maas}}
"
    )
}

#[tokio::test]
async fn service_account_tokens_are_verified_cached_and_refreshed() {
    // Tokens live 22 s: with the 20 s refresh margin, one is fetched again after 2 s.
    let google = start_with_key(Duration::from_secs(22)).await;
    let dir = std::env::temp_dir().join(format!("amux-vertex-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("sa.json");
    std::fs::write(&file, &google.1).unwrap();
    let g = google.0;
    let base = format!("http://{}", g.addr);
    let addr = gateway(&config(&base, &format!(", credentials_file: '{}'", file.display())), &[]).await;

    // An Anthropic caller to Claude on Vertex: rawPredict, bytes spliced.
    g.reply(200, "application/json", ANTHROPIC_ANSWER);
    let body = r#"{"model":"sonnet","max_tokens":50,"messages":[{"role":"user","content":[{"type":"thinking","thinking":"t","signature":"EqQB=="},{"type":"text","text":"hi"}]}],"x_future":{"a":1}}"#;
    let r =
        post(addr, "/v1/messages", &[("anthropic-beta", "claude-code-20250219,interleaved-thinking-2025-05-14")], body)
            .await;
    assert_eq!(r.status, 200, "{} {:?}", r.body, g.refused.lock().unwrap());
    assert_eq!(r.json()["content"][0]["text"], "from vertex");
    let s = g.seen();
    assert_eq!(
        s[0].path,
        "/v1/projects/proj-1/locations/us-east5/publishers/anthropic/models/claude-sonnet-4-5@20250929:rawPredict"
    );
    assert_eq!(s[0].body["anthropic_version"], "vertex-2023-10-16");
    assert!(s[0].body.get("model").is_none(), "{}", s[0].body);
    assert_eq!(s[0].body["x_future"], json!({"a": 1}));
    assert_eq!(s[0].body["messages"][0]["content"][0]["signature"], "EqQB==");
    assert_eq!(s[0].headers["anthropic-beta"], "interleaved-thinking-2025-05-14");
    assert!(s[0].headers.get("anthropic-version").is_none());

    // Streamed: streamRawPredict, the SSE back as it came; the cached token is reused.
    let sse = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"c\",\"content\":[],\"stop_reason\":null,\"usage\":{\"input_tokens\":3,\"output_tokens\":0}}}\n\nevent: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\nevent: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"streamed\"}}\n\nevent: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\nevent: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":1}}\n\nevent: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";
    g.reply(200, "text/event-stream", sse);
    let r = post(
        addr,
        "/v1/messages",
        &[],
        r#"{"model":"sonnet","max_tokens":5,"stream":true,"messages":[{"role":"user","content":"hi"}]}"#,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("streamed"), "{}", r.body);
    let s = g.seen();
    assert!(s[1].path.ends_with(":streamRawPredict"), "{}", s[1].path);
    assert_eq!(s[1].body["stream"], true);
    assert_eq!(s[1].token, s[0].token, "cached");

    // An OpenAI caller to Gemini on Vertex: translated, generateContent.
    g.reply(200, "application/json", GEMINI_ANSWER);
    let r = post(addr, "/v1/chat/completions", &[], r#"{"model":"flash","messages":[{"role":"user","content":"hi"}]}"#)
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["choices"][0]["message"]["content"], "gemini on vertex");
    assert_eq!(
        g.seen()[2].path,
        "/v1/projects/proj-1/locations/us-east5/publishers/google/models/gemini-2.5-flash:generateContent"
    );

    // A Gemini caller to Claude on Vertex: translated to the Anthropic body, rawPredict.
    g.reply(200, "application/json", ANTHROPIC_ANSWER);
    let r = post(
        addr,
        "/v1beta/models/sonnet:generateContent",
        &[],
        r#"{"contents":[{"role":"user","parts":[{"text":"hi"}]}]}"#,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let s = g.seen();
    assert_eq!(s[3].body["anthropic_version"], "vertex-2023-10-16");
    assert!(s[3].body.get("model").is_none());

    // `publisher/model`: the OpenAI-compatible endpoint, model in the body.
    g.reply(200, "application/json", r#"{"id":"c","object":"chat.completion","model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"llama"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}"#);
    let r = post(addr, "/v1/chat/completions", &[], r#"{"model":"llama","messages":[{"role":"user","content":"hi"}]}"#)
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let s = g.seen();
    assert_eq!(s[4].path, "/v1/projects/proj-1/locations/us-east5/endpoints/openapi/chat/completions");
    assert_eq!(s[4].body["model"], "meta/llama-3.3-70b-instruct-maas");
    assert_eq!(g.issued.lock().unwrap().len(), 1, "one token for all of these");

    // After the token is within the margin of its expiry, a new one is fetched and used.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    g.reply(200, "application/json", ANTHROPIC_ANSWER);
    let r = post(
        addr,
        "/v1/messages",
        &[],
        r#"{"model":"sonnet","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}"#,
    )
    .await;
    assert_eq!(r.status, 200, "{} {:?}", r.body, g.refused.lock().unwrap());
    let s = g.seen();
    assert_ne!(s[5].token, s[0].token, "refreshed");
    assert_eq!(g.issued.lock().unwrap().len(), 2);
    assert!(g.refused.lock().unwrap().is_empty(), "{:?}", g.refused.lock().unwrap());
    std::fs::remove_dir_all(&dir).ok();
}

/// The mock with a fresh service-account key whose `token_uri` is the mock's `/token`.
async fn start_with_key(lifetime: Duration) -> (Google, String) {
    let kp = signature::RsaKeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).unwrap();
    let public = kp.public_key().as_ref().to_vec();
    let g = Google::start(public, lifetime).await;
    let der = AsDer::<aws_lc_rs::encoding::Pkcs8V1Der>::as_der(&kp).unwrap();
    let b64 = STANDARD.encode(der.as_ref());
    let lines: Vec<&str> = b64.as_bytes().chunks(64).map(|c| std::str::from_utf8(c).unwrap()).collect();
    let pem = format!("-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n", lines.join("\n"));
    let key = json!({
        "type": "service_account",
        "project_id": "proj-1",
        "private_key_id": "k1",
        "private_key": pem,
        "client_email": EMAIL,
        "client_id": "1",
        "token_uri": format!("http://{}/token", g.addr),
    });
    (g, key.to_string())
}

#[tokio::test]
async fn metadata_server_tokens_and_counting() {
    let kp = signature::RsaKeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).unwrap();
    let g = Google::start(kp.public_key().as_ref().to_vec(), Duration::from_secs(3600)).await;
    let base = format!("http://{}", g.addr);
    let env: &'static [(&'static str, String)] = Box::leak(Box::new([("GCE_METADATA_HOST", g.addr.to_string())]));
    let addr = gateway(&config(&base, ""), env).await;

    // Claude count-tokens:rawPredict, model and version in the body.
    g.reply(200, "application/json", r#"{"input_tokens":42}"#);
    let r = post(
        addr,
        "/v1/messages/count_tokens",
        &[],
        r#"{"model":"sonnet","messages":[{"role":"user","content":"hi"}]}"#,
    )
    .await;
    assert_eq!(r.status, 200, "{} {:?}", r.body, g.refused.lock().unwrap());
    assert_eq!(r.json()["input_tokens"], 42);
    let s = g.seen();
    assert_eq!(s[0].path, "/v1/projects/proj-1/locations/us-east5/publishers/anthropic/models/count-tokens:rawPredict");
    assert_eq!(s[0].body["model"], "claude-sonnet-4-5@20250929");
    assert_eq!(s[0].body["anthropic_version"], "vertex-2023-10-16");
    assert_eq!(s[0].token, "ya29.mock-1");

    // Gemini countTokens on Vertex: the request's contents directly.
    g.reply(200, "application/json", r#"{"totalTokens":9}"#);
    let r = post(
        addr,
        "/v1beta/models/flash:countTokens",
        &[],
        r#"{"contents":[{"role":"user","parts":[{"text":"hi"}]}]}"#,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["totalTokens"], 9);
    let s = g.seen();
    assert!(s[1].path.ends_with("/publishers/google/models/gemini-2.5-flash:countTokens"), "{}", s[1].path);
    assert!(s[1].body.get("contents").is_some(), "{}", s[1].body);

    // Raw passthrough to Vertex carries a token too (and never the caller's credentials).
    g.reply(200, "application/json", r#"{"publisherModels":[]}"#);
    let r = post(
        addr,
        "/passthrough/vx/v1/projects/proj-1/locations/us-east5/publishers/google/models/gemini-2.5-flash:countTokens",
        &[("authorization", "Bearer caller-key")],
        r#"{"contents":[]}"#,
    )
    .await;
    assert_eq!(r.status, 200, "{} {:?}", r.body, g.refused.lock().unwrap());
    assert_eq!(g.seen()[2].token, "ya29.mock-1");

    // Vertex's own errors come back in the caller's shape, the status kept.
    g.reply(
        429,
        "application/json",
        r#"{"error":{"code":429,"message":"Quota exceeded","status":"RESOURCE_EXHAUSTED"}}"#,
    );
    let r = post(addr, "/v1/chat/completions", &[], r#"{"model":"flash","messages":[{"role":"user","content":"hi"}]}"#)
        .await;
    assert_eq!(r.status, 429, "{}", r.body);
    assert!(r.body.contains("Quota exceeded"), "{}", r.body);
}

#[tokio::test]
async fn a_token_that_cannot_be_had_is_a_clear_error() {
    // A metadata server that is not there.
    let env: &'static [(&'static str, String)] =
        Box::leak(Box::new([("GCE_METADATA_HOST", "127.0.0.1:1".to_string())]));
    let addr = gateway(&config("http://127.0.0.1:1", ""), env).await;
    let r = post(
        addr,
        "/v1/messages",
        &[],
        r#"{"model":"sonnet","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}"#,
    )
    .await;
    assert_eq!(r.status, 500, "{}", r.body);
    assert!(r.body.contains("no Google credentials"), "{}", r.body);
}

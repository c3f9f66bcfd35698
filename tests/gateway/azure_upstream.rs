//! amux calling Azure OpenAI (`kind: azure`) and Azure AI Foundry (`kind: foundry`) against a
//! mock that checks the credential: the provider's key in `api-key` (`x-api-key` for Claude in
//! Foundry), or a Microsoft Entra ID token that the mock's managed-identity endpoint issued for
//! the Cognitive Services resource (App Service's `IDENTITY_ENDPOINT` / `IDENTITY_HEADER`, read by
//! `azure_identity`). Paths: deployments with `api-version`, the v1 API, Foundry's model
//! inference and its Anthropic API.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::Request;
use http::Response;
use http_body_util::BodyExt;
use serde_json::{Value, json};

use crate::support::*;

const KEY: &str = "azure-upstream-key";
const CHAT: &str = r#"{"id":"c","object":"chat.completion","model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":"from azure"},"finish_reason":"stop"}],"usage":{"prompt_tokens":5,"completion_tokens":2,"total_tokens":7}}"#;
const MESSAGES: &str = r#"{"id":"msg_1","type":"message","role":"assistant","model":"claude-x","content":[{"type":"text","text":"from foundry"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":7,"output_tokens":3}}"#;

#[derive(Clone, Debug)]
pub(crate) struct Seen {
    pub(crate) path: String,
    pub(crate) headers: http::HeaderMap,
    pub(crate) body: Value,
}

#[derive(Clone, Default)]
pub(crate) struct AzureMock {
    /// Seconds the issued tokens live (3600 unless set).
    lifetime: Arc<Mutex<Option<u64>>>,
    seen: Arc<Mutex<Vec<Seen>>>,
    /// Bearer tokens it accepts: those its managed-identity endpoint (or `entra.rs`'s mock Entra
    /// endpoint) issued.
    pub(crate) tokens: Arc<Mutex<HashSet<String>>>,
    pub(crate) refused: Arc<Mutex<Vec<String>>>,
}

impl AzureMock {
    pub(crate) async fn start() -> (AzureMock, SocketAddr) {
        let m = AzureMock::default();
        let me = m.clone();
        let app = axum::Router::new().fallback(move |req: Request| {
            let me = me.clone();
            async move { me.handle(req).await }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (m, addr)
    }

    async fn handle(&self, req: Request) -> Response<Body> {
        let (parts, body) = req.into_parts();
        let body = body.collect().await.unwrap().to_bytes();
        let path = parts.uri.path_and_query().map(|p| p.to_string()).unwrap_or_default();
        let h = |n: &str| parts.headers.get(n).and_then(|v| v.to_str().ok()).map(str::to_string);
        if path.starts_with("/msi/token") {
            // App Service managed identity: the secret header, the v1 resource of the scope.
            let ok = h("x-identity-header").as_deref() == Some("msi-secret")
                && path.contains("resource=https%3A%2F%2Fcognitiveservices.azure.com");
            if !ok {
                self.refused.lock().unwrap().push(format!("msi: {path} {:?}", h("x-identity-header")));
                return Response::builder().status(400).body(Body::from("{}")).unwrap();
            }
            let mut t = self.tokens.lock().unwrap();
            let token = format!("entra-{}", t.len() + 1);
            t.insert(token.clone());
            let life = self.lifetime.lock().unwrap().unwrap_or(3600);
            let exp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() + life;
            let body = json!({"access_token": token, "expires_on": exp.to_string(), "resource": "https://cognitiveservices.azure.com", "token_type": "Bearer"});
            return Response::builder()
                .header("content-type", "application/json")
                .body(Body::from(body.to_string()))
                .unwrap();
        }
        let bearer = h("authorization").and_then(|a| a.strip_prefix("Bearer ").map(str::to_string));
        let key_ok = h("api-key").as_deref() == Some(KEY) || h("x-api-key").as_deref() == Some(KEY);
        let token_ok = bearer.is_some_and(|t| self.tokens.lock().unwrap().contains(&t));
        if !key_ok && !token_ok {
            self.refused.lock().unwrap().push(format!("{path}: no valid credential"));
            let e = json!({"error": {"code": "401", "message": "Access denied due to invalid subscription key or wrong API endpoint."}});
            return Response::builder().status(401).body(Body::from(e.to_string())).unwrap();
        }
        let json_body = serde_json::from_slice(&body).unwrap_or(Value::Null);
        self.seen.lock().unwrap().push(Seen { path: path.clone(), headers: parts.headers.clone(), body: json_body });
        let answer = if path.contains("/anthropic/") { MESSAGES } else { CHAT };
        Response::builder().header("content-type", "application/json").body(Body::from(answer)).unwrap()
    }

    pub(crate) fn last(&self) -> Seen {
        self.seen.lock().unwrap().last().cloned().unwrap()
    }
}

pub(crate) fn config(addr: SocketAddr, azure_auth: &str) -> String {
    format!(
        "discover_env: false
router: {{retries: 0}}
providers:
  az: {{kind: azure, base_url: 'http://{addr}', api_version: '2024-10-21'{azure_auth}}}
  az1: {{kind: azure, base_url: 'http://{addr}', api_key: {KEY}}}
  fd: {{kind: foundry, base_url: 'http://{addr}', api_key: {KEY}}}
models:
  - {{name: gpt-az, provider: az, model: gpt-4o-prod}}
  - {{name: gpt-v1, provider: az1, model: gpt-4o-prod}}
  - {{name: claude-fd, provider: fd, model: claude-sonnet-4-5}}
  - {{name: llama-fd, provider: fd, model: Llama-3.3-70B-Instruct}}
"
    )
}

pub(crate) const ASK_CHAT: &str = r#"{"model":"MODEL","messages":[{"role":"user","content":"hi"}]}"#;

#[tokio::test]
async fn keys_and_paths() {
    let (m, addr) = AzureMock::start().await;
    let gw = start_gateway(&config(addr, &format!(", api_key: {KEY}"))).await;
    // A deployment with an API version.
    let r = post(gw.addr, "/v1/chat/completions", &[], &ASK_CHAT.replace("MODEL", "gpt-az")).await;
    assert_eq!(r.status, 200, "{} {:?}", r.body, m.refused.lock().unwrap());
    let s = m.last();
    assert_eq!(s.path, "/openai/deployments/gpt-4o-prod/chat/completions?api-version=2024-10-21");
    assert_eq!(s.headers["api-key"], KEY);
    assert!(s.headers.get("authorization").is_none());
    // The v1 API: Responses callers stay Responses, the deployment as the model.
    let r = post(gw.addr, "/v1/chat/completions", &[], &ASK_CHAT.replace("MODEL", "gpt-v1")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(m.last().path, "/openai/v1/chat/completions");
    assert_eq!(m.last().body["model"], "gpt-4o-prod");
    // Foundry: Claude by the Anthropic API (x-api-key), bytes spliced; other models by inference.
    let r = post(
        gw.addr,
        "/v1/messages",
        &[],
        r#"{"model":"claude-fd","max_tokens":5,"messages":[{"role":"user","content":"hi"}],"x_new":1}"#,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let s = m.last();
    assert_eq!(s.path, "/anthropic/v1/messages");
    assert_eq!(s.headers["x-api-key"], KEY);
    assert_eq!((s.body["model"].as_str(), s.body["x_new"].as_i64()), (Some("claude-sonnet-4-5"), Some(1)));
    let r = post(
        gw.addr,
        "/v1/messages",
        &[],
        r#"{"model":"llama-fd","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}"#,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["content"][0]["text"], "from azure");
    let s = m.last();
    assert_eq!(s.path, "/models/chat/completions?api-version=2024-05-01-preview");
    assert_eq!(s.headers["api-key"], KEY);
    assert!(m.refused.lock().unwrap().is_empty());
}

#[tokio::test]
async fn entra_tokens_from_managed_identity() {
    let (m, addr) = AzureMock::start().await;
    // azure_identity reads the process environment (each nextest test is its own process).
    unsafe {
        std::env::set_var("IDENTITY_ENDPOINT", format!("http://{addr}/msi/token"));
        std::env::set_var("IDENTITY_HEADER", "msi-secret");
    }
    let gw = start_gateway(&config(addr, "")).await;
    for _ in 0..2 {
        let r = post(gw.addr, "/v1/chat/completions", &[], &ASK_CHAT.replace("MODEL", "gpt-az")).await;
        assert_eq!(r.status, 200, "{} {:?}", r.body, m.refused.lock().unwrap());
    }
    let s = m.last();
    assert_eq!(s.headers["authorization"], "Bearer entra-1", "issued by the mock, reused while fresh");
    assert!(s.headers.get("api-key").is_none());
    assert_eq!(m.tokens.lock().unwrap().len(), 1);
    assert!(m.refused.lock().unwrap().is_empty(), "{:?}", m.refused.lock().unwrap());
}

#[tokio::test]
async fn entra_tokens_near_expiry_are_renewed() {
    let (m, addr) = AzureMock::start().await;
    // Tokens that live 200 s are inside the 300 s renewal margin from the start: every call
    // asks for a new one (amux's cache and azure_identity's both renew 300 s ahead).
    *m.lifetime.lock().unwrap() = Some(200);
    unsafe {
        std::env::set_var("IDENTITY_ENDPOINT", format!("http://{addr}/msi/token"));
        std::env::set_var("IDENTITY_HEADER", "msi-secret");
    }
    let gw = start_gateway(&config(addr, "")).await;
    let mut used = Vec::new();
    for _ in 0..2 {
        let r = post(gw.addr, "/v1/chat/completions", &[], &ASK_CHAT.replace("MODEL", "gpt-az")).await;
        assert_eq!(r.status, 200, "{} {:?}", r.body, m.refused.lock().unwrap());
        used.push(m.last().headers["authorization"].to_str().unwrap().to_string());
    }
    assert_eq!(used, ["Bearer entra-1", "Bearer entra-2"]);
}

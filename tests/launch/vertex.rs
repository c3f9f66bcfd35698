//! `amux launch claude|gemini vertex`: Claude Code and Gemini CLI in their own Vertex AI modes with
//! no gateway, after a pre-flight that gets a Google token the way they will (gcloud user
//! credentials refreshed at the file's `token_uri`, a service-account key's signed JWT exchanged
//! there, or the metadata server at `GCE_METADATA_HOST`) from a mock Google that checks what it
//! is sent (the JWT's RS256 signature against the key's public half, its claims). A refused refresh token,
//! no credentials at all, a model id Vertex cannot take and a missing project stop the launch
//! before the harness starts.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::signature::{self, KeyPair as _};
use axum::body::Body;
use axum::extract::Request;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use http::Response;
use http_body_util::BodyExt;

use crate::fake::{World, ok};

const CLIENT_ID: &str = "764086051850-test.apps.googleusercontent.com";
const CLIENT_SECRET: &str = "d-FL95Q19q7MQmFpd7hHD0Ty";
const REFRESH: &str = "1//0refresh-token-must-not-leak";
const EMAIL: &str = "launcher@amux-test-1.iam.gserviceaccount.com";
const SCOPE: &str = "https://www.googleapis.com/auth/cloud-platform";

/// A mock Google: the OAuth token endpoint (`POST /token`, the refresh-token grant of gcloud
/// user credentials) and the metadata server's token (`GET /computeMetadata/...`, with
/// `Metadata-Flavor: Google`). Records what each request carried: `Ok(what)` or `Err(why)`.
struct MockGoogle {
    addr: SocketAddr,
    /// A service-account key (PKCS#8 PEM) whose public half the token endpoint checks JWTs with.
    key_pem: String,
    seen: Arc<Mutex<Vec<Result<String, String>>>>,
    _rt: tokio::runtime::Runtime,
}

/// A service-account assertion checked as Google's token endpoint does: RS256 by the key, issued
/// by the account, for the cloud-platform scope, addressed to this token endpoint.
fn check_jwt(jwt: &str, public_key: &[u8], aud: &str) -> Result<String, String> {
    let parts: Vec<&str> = jwt.split('.').collect();
    let [head, claims, sig] = parts[..] else { return Err("not a JWT".into()) };
    let b64 = |s: &str| URL_SAFE_NO_PAD.decode(s.trim_end_matches('=')).map_err(|e| e.to_string());
    let header: serde_json::Value = serde_json::from_slice(&b64(head)?).map_err(|e| e.to_string())?;
    if header["alg"] != "RS256" {
        return Err(format!("alg {}", header["alg"]));
    }
    signature::UnparsedPublicKey::new(&signature::RSA_PKCS1_2048_8192_SHA256, public_key)
        .verify(format!("{head}.{claims}").as_bytes(), &b64(sig)?)
        .map_err(|_| "bad signature".to_string())?;
    let c: serde_json::Value = serde_json::from_slice(&b64(claims)?).map_err(|e| e.to_string())?;
    if c["iss"] != EMAIL || c["aud"] != aud || c["scope"] != SCOPE {
        return Err(format!("claims {c}"));
    }
    Ok("service account".into())
}

impl MockGoogle {
    fn start() -> MockGoogle {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
        let kp = signature::RsaKeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).unwrap();
        let public = kp.public_key().as_ref().to_vec();
        let der = AsDer::<aws_lc_rs::encoding::Pkcs8V1Der>::as_der(&kp).unwrap();
        let b64 = STANDARD.encode(der.as_ref());
        let lines: Vec<&str> = b64.as_bytes().chunks(64).map(|c| std::str::from_utf8(c).unwrap()).collect();
        let key_pem = format!("-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n", lines.join("\n"));
        let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
        let addr = listener.local_addr().unwrap();
        let seen: Arc<Mutex<Vec<Result<String, String>>>> = Arc::default();
        let s = seen.clone();
        let app = axum::Router::new().fallback(move |req: Request| {
            let (s, public) = (s.clone(), public.clone());
            async move {
                let (parts, body) = req.into_parts();
                let body = String::from_utf8(body.collect().await.unwrap().to_bytes().to_vec()).unwrap();
                let path = parts.uri.path().to_string();
                let check = if path == "/token" && parts.method == http::Method::POST {
                    let f = crate::form::form(&body);
                    let get = |k: &str| f.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
                    let ct = parts.headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("");
                    if !ct.starts_with("application/x-www-form-urlencoded") {
                        Err(format!("content-type {ct}"))
                    } else if get("grant_type") == Some("urn:ietf:params:oauth:grant-type:jwt-bearer") {
                        check_jwt(get("assertion").unwrap_or(""), &public, &format!("http://{addr}/token"))
                    } else if (get("grant_type"), get("client_id"), get("client_secret"), get("refresh_token"))
                        != (Some("refresh_token"), Some(CLIENT_ID), Some(CLIENT_SECRET), Some(REFRESH))
                    {
                        Err(format!("refresh grant {f:?}"))
                    } else {
                        Ok("refresh".to_string())
                    }
                } else if path == "/computeMetadata/v1/instance/service-accounts/default/token" {
                    match parts.headers.get("metadata-flavor").and_then(|v| v.to_str().ok()) {
                        Some("Google") => Ok("metadata".to_string()),
                        other => Err(format!("metadata-flavor {other:?}")),
                    }
                } else {
                    Err(format!("{} {path}", parts.method))
                };
                s.lock().unwrap().push(check.clone());
                let (status, json) = match check {
                    Ok(_) => (200, r#"{"access_token":"ya29.mock-token","expires_in":3599,"token_type":"Bearer"}"#),
                    Err(_) => {
                        (400, r#"{"error":"invalid_grant","error_description":"Token has been expired or revoked."}"#)
                    }
                };
                Response::builder()
                    .status(status)
                    .header("content-type", "application/json")
                    .header("metadata-flavor", "Google")
                    .body(Body::from(json))
                    .unwrap()
            }
        });
        rt.spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        MockGoogle { addr, key_pem, seen, _rt: rt }
    }

    fn seen(&self) -> Vec<Result<String, String>> {
        self.seen.lock().unwrap().clone()
    }

    /// A service-account key file with its token endpoint at the mock.
    fn key_file(&self) -> String {
        serde_json::json!({
            "type": "service_account",
            "project_id": "amux-test-1",
            "private_key_id": "k1",
            "private_key": self.key_pem,
            "client_email": EMAIL,
            "client_id": "1",
            "token_uri": format!("http://{}/token", self.addr),
        })
        .to_string()
    }
}

/// gcloud's ADC file (`gcloud auth application-default login`) with its token endpoint at the mock.
fn user_credentials(w: &World, google: &MockGoogle, refresh: &str) {
    let json = serde_json::json!({
        "type": "authorized_user",
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "refresh_token": refresh,
        "token_uri": format!("http://{}/token", google.addr),
    });
    w.write(".config/gcloud/application_default_credentials.json", &json.to_string());
}

#[test]
fn claude_runs_in_its_vertex_mode_after_a_token_from_gcloud_credentials() {
    let google = MockGoogle::start();
    let mut w = World::new("vertex-claude");
    user_credentials(&w, &google, REFRESH);
    w.set("GOOGLE_CLOUD_PROJECT", "amux-test-1");
    w.set("CLOUD_ML_REGION", "us-east5");
    w.set("ANTHROPIC_BASE_URL", "http://stale.example");
    w.set("CLAUDE_CODE_SKIP_VERTEX_AUTH", "1");
    w.set("CLAUDE_CODE_USE_BEDROCK", "1");
    let out = w.launch(&["claude", "vertex", "--model", "claude-sonnet-4-5-20250929", "--prompt", "hi"]);
    ok(&out);
    assert_eq!(google.seen(), vec![Ok("refresh".to_string())]);
    let env = |v: &str| w.env_of("claude", v);
    assert_eq!(env("CLAUDE_CODE_USE_VERTEX").as_deref(), Some("1"));
    assert_eq!(env("ANTHROPIC_VERTEX_PROJECT_ID").as_deref(), Some("amux-test-1"));
    assert_eq!(env("CLOUD_ML_REGION").as_deref(), Some("us-east5"));
    // The Claude API name as Vertex names it; the background tier on the same model.
    assert_eq!(env("ANTHROPIC_MODEL").as_deref(), Some("claude-sonnet-4-5@20250929"));
    assert_eq!(env("ANTHROPIC_DEFAULT_HAIKU_MODEL").as_deref(), Some("claude-sonnet-4-5@20250929"));
    for gone in
        ["ANTHROPIC_BASE_URL", "CLAUDE_CODE_SKIP_VERTEX_AUTH", "CLAUDE_CODE_USE_BEDROCK", "ANTHROPIC_VERTEX_BASE_URL"]
    {
        assert_eq!(env(gone), None, "{gone}");
    }
    assert_eq!(w.args_of("claude"), ["-p", "hi"]);
    // No gateway: nothing on loopback in the harness's environment.
    assert!(!w.has_record("claude", "probe"));

    // --dry-run: the plan, and no call to Google.
    let out = w.launch(&["claude", "vertex", "--model", "claude-sonnet-4-5@20250929", "--dry-run"]);
    ok(&out);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("CLAUDE_CODE_USE_VERTEX=1") && text.contains("ANTHROPIC_VERTEX_PROJECT_ID=amux-test-1"),
        "{text}"
    );
    assert!(
        text.contains("direct (claude has a vertex mode of its own)") && text.contains("skipped: --dry-run"),
        "{text}"
    );
    assert_eq!(google.seen().len(), 1);
}

#[test]
fn gemini_runs_in_its_vertex_mode_with_the_metadata_server() {
    let google = MockGoogle::start();
    let mut w = World::new("vertex-gemini");
    w.set("GCE_METADATA_HOST", google.addr.to_string());
    w.set("GOOGLE_CLOUD_PROJECT", "amux-test-2");
    w.set("GOOGLE_CLOUD_LOCATION", "europe-west4");
    w.set("GEMINI_API_KEY", "stale-gemini-key");
    w.set("GOOGLE_API_KEY", "stale-express-key");
    let out = w.launch(&["gemini", "vertex", "--model", "gemini-2.5-pro", "--prompt", "hi"]);
    ok(&out);
    assert_eq!(google.seen(), vec![Ok("metadata".to_string())]);
    let env = |v: &str| w.env_of("gemini", v);
    assert_eq!(env("GOOGLE_GENAI_USE_VERTEXAI").as_deref(), Some("true"));
    assert_eq!(env("GOOGLE_CLOUD_PROJECT").as_deref(), Some("amux-test-2"));
    assert_eq!(env("GOOGLE_CLOUD_LOCATION").as_deref(), Some("europe-west4"));
    // Google's auth library finds the metadata server where amux's pre-flight did.
    assert_eq!(env("GCE_METADATA_HOST"), Some(google.addr.to_string()));
    // An API key would put Gemini CLI in Vertex express mode instead of ADC.
    for gone in ["GEMINI_API_KEY", "GOOGLE_API_KEY", "GOOGLE_GEMINI_BASE_URL", "GOOGLE_VERTEX_BASE_URL"] {
        assert_eq!(env(gone), None, "{gone}");
    }
    let settings = w.json("gemini", "gemini-system-settings.json");
    assert_eq!(settings["security"]["auth"]["selectedType"], "vertex-ai");
    assert_eq!(settings["model"]["name"], "gemini-2.5-pro");

    // A provider of the config with its own endpoint and key file: GOOGLE_VERTEX_BASE_URL and
    // GOOGLE_APPLICATION_CREDENTIALS (here a gcloud user file, refreshed at the mock).
    user_credentials(&w, &google, REFRESH);
    let file = w.home.join(".config/gcloud/application_default_credentials.json");
    let cfg = w.write(
        "amux.yaml",
        &format!(
            "discover_env: false\nproviders:\n  gv:\n    kind: vertex\n    project: p-3\n    location: global\n    \
             base_url: https://vertex.example.com\n    credentials_file: {}\n",
            file.display()
        ),
    );
    w.env.retain(|(k, _)| k != "GCE_METADATA_HOST");
    let out =
        w.launch(&["gemini", "gv", "--model", "gemini-2.5-flash", "--config", cfg.to_str().unwrap(), "--prompt", "hi"]);
    ok(&out);
    assert_eq!(google.seen().last(), Some(&Ok("refresh".to_string())));
    let env = |v: &str| w.env_of("gemini", v);
    assert_eq!(env("GOOGLE_VERTEX_BASE_URL").as_deref(), Some("https://vertex.example.com"));
    assert_eq!(env("GOOGLE_APPLICATION_CREDENTIALS"), Some(file.display().to_string()));
    assert_eq!(env("GOOGLE_CLOUD_LOCATION").as_deref(), Some("global"));
}

fn refused(out: &std::process::Output) -> String {
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn no_google_token_or_no_project_stops_the_launch() {
    let google = MockGoogle::start();
    let mut w = World::new("vertex-bad");
    w.set("GOOGLE_CLOUD_PROJECT", "amux-test-1");
    w.set("CLOUD_ML_REGION", "us-east5");
    // A refresh token Google refuses.
    user_credentials(&w, &google, "1//0revoked");
    let err = refused(&w.launch(&["claude", "vertex", "--model", "claude-sonnet-4-5@20250929", "--prompt", "hi"]));
    assert!(err.contains("pre-flight: Google credentials") && err.contains("invalid_grant"), "{err}");
    assert!(err.contains("application_default_credentials.json"), "{err}");
    assert!(!err.contains(CLIENT_SECRET) && !err.contains("1//0revoked"), "{err}");
    assert!(!w.has_record("claude", "env"), "the harness must not start");
    assert_eq!(google.seen().len(), 1);

    // No file and nothing at the metadata server's address.
    std::fs::remove_file(w.home.join(".config/gcloud/application_default_credentials.json")).unwrap();
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    w.set("GCE_METADATA_HOST", closed.to_string());
    let err = refused(&w.launch(&["gemini", "vertex", "--model", "gemini-2.5-pro", "--prompt", "hi"]));
    assert!(err.contains("pre-flight: Google credentials") && err.contains(&closed.to_string()), "{err}");
    assert!(err.contains("gcloud auth application-default login"), "{err}");
    assert!(!w.has_record("gemini", "env"));

    // A model id Vertex cannot take, before any call.
    let err = refused(&w.launch(&["claude", "vertex", "--model", "claude/x/y", "--prompt", "hi"]));
    assert!(err.contains("is not a Vertex model id"), "{err}");

    // No project: what to set.
    let mut w = World::new("vertex-noproject");
    w.set("CLOUD_ML_REGION", "us-east5");
    let err = refused(&w.launch(&["gemini", "vertex", "--model", "gemini-2.5-pro", "--prompt", "hi"]));
    assert!(err.contains("GOOGLE_CLOUD_PROJECT"), "{err}");
    assert_eq!(google.seen().len(), 1);
}

#[test]
fn a_service_account_key_is_checked_and_handed_to_the_harness() {
    let google = MockGoogle::start();
    let mut w = World::new("vertex-sa");
    let key = w.write("keys/sa.json", &google.key_file());
    w.set("GOOGLE_APPLICATION_CREDENTIALS", key.display().to_string());
    w.set("GOOGLE_CLOUD_PROJECT", "amux-test-1");
    w.set("GOOGLE_CLOUD_LOCATION", "us-central1");
    let out = w.launch(&["gemini", "vertex", "--model", "gemini-2.5-pro", "--prompt", "hi"]);
    ok(&out);
    assert_eq!(google.seen(), vec![Ok("service account".to_string())]);
    assert_eq!(w.env_of("gemini", "GOOGLE_APPLICATION_CREDENTIALS"), Some(key.display().to_string()));

    // The provider's credentials_file wins and is what the harness is given.
    let other = w.write("keys/other.json", &google.key_file());
    let cfg = w.write(
        "amux.yaml",
        &format!(
            "discover_env: false\nproviders:\n  gv: {{kind: vertex, project: p-9, location: us-east5, \
             credentials_file: '{}'}}\n",
            other.display()
        ),
    );
    let out = w.launch(&[
        "claude",
        "gv",
        "--model",
        "claude-opus-4-1@20250805",
        "--config",
        cfg.to_str().unwrap(),
        "--prompt",
        "hi",
    ]);
    ok(&out);
    assert_eq!(google.seen().len(), 2);
    assert_eq!(google.seen()[1], Ok("service account".to_string()));
    assert_eq!(w.env_of("claude", "GOOGLE_APPLICATION_CREDENTIALS"), Some(other.display().to_string()));
    assert_eq!(w.env_of("claude", "ANTHROPIC_VERTEX_PROJECT_ID").as_deref(), Some("p-9"));

    // A key the token endpoint does not know (another key pair): refused, nothing started.
    let stranger = MockGoogle::start();
    let forged =
        google.key_file().replace(&google.key_pem.replace('\n', "\\n"), &stranger.key_pem.replace('\n', "\\n"));
    assert_ne!(forged, google.key_file());
    w.write("keys/sa.json", &forged);
    let _ = std::fs::remove_dir_all(w.record.join("gemini"));
    let out = w.launch(&["gemini", "vertex", "--model", "gemini-2.5-pro", "--prompt", "hi"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("pre-flight: Google credentials") && err.contains("sa.json"), "{err}");
    assert!(!err.contains("PRIVATE KEY"), "{err}");
    assert!(!w.has_record("gemini", "env"));
    assert_eq!(google.seen().last(), Some(&Err("bad signature".to_string())));
}

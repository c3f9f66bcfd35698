//! The `bedrock` provider's credentials from the standard AWS chain, end to end: `amux serve` as
//! a child process with a clean environment holding only `AWS_CONTAINER_CREDENTIALS_FULL_URI`
//! (the ECS / EKS Pod Identity link of `aws-config`'s chain), pointed at a loopback mock of the
//! container credentials endpoint. The mock Bedrock checks each request's SigV4 signature against
//! the credentials that endpoint handed out; credentials within five minutes of expiring are
//! fetched again for the next request. Web identity (EKS with IRSA) too: a token file, a role and
//! a loopback STS (`AWS_ENDPOINT_URL_STS`) answering AssumeRoleWithWebIdentity.

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime};

use aws_smithy_types::DateTime;
use aws_smithy_types::date_time::Format;
use serde_json::json;

use crate::bedrock_upstream::{AKID, BedrockMock, BedrockReply, CONVERSE_ANSWER, SECRET, TOKEN};
use crate::support::*;

/// A container credentials endpoint whose credentials expire in `expires_in`; counts fetches.
async fn credentials_endpoint(expires_in: Duration) -> (std::net::SocketAddr, Arc<AtomicUsize>) {
    let fetches = Arc::new(AtomicUsize::new(0));
    let f = fetches.clone();
    let app = axum::Router::new().route(
        "/creds",
        axum::routing::get(move || {
            let f = f.clone();
            async move {
                f.fetch_add(1, Ordering::SeqCst);
                let exp = DateTime::from(SystemTime::now() + expires_in).fmt(Format::DateTime).unwrap();
                axum::Json(json!({
                    "AccessKeyId": AKID,
                    "SecretAccessKey": SECRET,
                    "Token": TOKEN,
                    "Expiration": exp,
                }))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (addr, fetches)
}

struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn container_credentials_sign_requests_and_are_refreshed_before_expiry() {
    // Two minutes left: inside the five-minute refresh window, so each call fetches again.
    assert_eq!(two_calls(Duration::from_secs(120), "soon").await, 2, "expiring credentials are fetched again");
    // An hour left: the second call reuses them.
    assert_eq!(two_calls(Duration::from_secs(3600), "later").await, 1, "fresh credentials are cached");
}

/// An STS endpoint answering AssumeRoleWithWebIdentity (query protocol, XML) for a token file.
async fn sts_endpoint() -> (std::net::SocketAddr, Arc<std::sync::Mutex<String>>) {
    let seen = Arc::new(std::sync::Mutex::new(String::new()));
    let s = seen.clone();
    let app = axum::Router::new().fallback(move |body: String| {
        let s = s.clone();
        async move {
            let action = if body.contains("Action=AssumeRoleWithWebIdentity") {
                "AssumeRoleWithWebIdentity"
            } else {
                "AssumeRole"
            };
            *s.lock().unwrap() = body;
            let exp = DateTime::from(SystemTime::now() + Duration::from_secs(3600)).fmt(Format::DateTime).unwrap();
            let xml = format!(
                "<{action}Response xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><{action}Result><Credentials><AccessKeyId>{AKID}</AccessKeyId><SecretAccessKey>{SECRET}</SecretAccessKey><SessionToken>{TOKEN}</SessionToken><Expiration>{exp}</Expiration></Credentials><AssumedRoleUser><Arn>arn:aws:sts::123456789012:assumed-role/amux/s</Arn><AssumedRoleId>AROAEXAMPLE:s</AssumedRoleId></AssumedRoleUser></{action}Result><ResponseMetadata><RequestId>r1</RequestId></ResponseMetadata></{action}Response>"
            );
            ([("content-type", "text/xml")], xml)
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (addr, seen)
}

#[tokio::test]
async fn web_identity_credentials_as_on_eks_with_irsa() {
    let (sts, seen) = sts_endpoint().await;
    let dir = std::env::temp_dir().join(format!("amux-bedrock-irsa-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let token = dir.join("token");
    std::fs::write(&token, "eyJhbGciOiJSUzI1NiJ9.service-account-token.sig").unwrap();
    let env = [
        ("AWS_WEB_IDENTITY_TOKEN_FILE", token.display().to_string()),
        ("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/amux".to_string()),
        ("AWS_ROLE_SESSION_NAME", "amux-test".to_string()),
        ("AWS_REGION", "us-west-2".to_string()),
        ("AWS_ENDPOINT_URL_STS", format!("http://{sts}")),
    ];
    two_calls_with(&env, "irsa", "").await;
    let body = seen.lock().unwrap().clone();
    assert!(body.contains("Action=AssumeRoleWithWebIdentity") && body.contains("service-account-token"), "{body}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_configured_role_is_assumed_with_the_static_keys() {
    let (sts, seen) = sts_endpoint().await;
    let env = [("AWS_ENDPOINT_URL_STS", format!("http://{sts}"))];
    let extra = ", aws_access_key_id: AKIDBASE, aws_secret_access_key: base-secret, aws_role_arn: 'arn:aws:iam::123456789012:role/bedrock-caller'";
    two_calls_with(&env, "role", extra).await;
    let body = seen.lock().unwrap().clone();
    assert!(body.contains("Action=AssumeRole&") || body.starts_with("Action=AssumeRole"), "{body}");
    assert!(body.contains("bedrock-caller") && body.contains("RoleSessionName=amux"), "{body}");
}

/// Two signed calls through `amux serve` with container credentials expiring in `expires_in`;
/// returns how often the credentials endpoint was asked.
async fn two_calls(expires_in: Duration, name: &str) -> usize {
    let (creds, fetches) = credentials_endpoint(expires_in).await;
    let env = [("AWS_CONTAINER_CREDENTIALS_FULL_URI", format!("http://{creds}/creds"))];
    two_calls_with(&env, name, "").await;
    fetches.load(Ordering::SeqCst)
}

/// Two calls through `amux serve` with `env` as its whole environment, each checked to succeed
/// and to be signed with the test credentials.
async fn two_calls_with(env: &[(&str, String)], name: &str, provider_extra: &str) {
    let mock = BedrockMock::start().await;
    mock.push(BedrockReply::Json(200, vec![], CONVERSE_ANSWER.into()));
    mock.push(BedrockReply::Json(200, vec![], CONVERSE_ANSWER.into()));
    let dir = std::env::temp_dir().join(format!("amux-bedrock-chain-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("amux.yaml");
    std::fs::write(
        &config,
        format!(
            "discover_env: false\nrouter: {{retries: 0}}\nproviders:\n  aws: {{kind: bedrock, region: us-west-2, base_url: 'http://{}'{provider_extra}}}\nmodels:\n  - {{name: nova, provider: aws, model: 'us.amazon.nova-2-lite-v1:0'}}\n",
            mock.addr
        ),
    )
    .unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let addr: std::net::SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let log = dir.join("amux.log");
    let _child = Child(
        Command::new(env!("CARGO_BIN_EXE_amux"))
            .args(["serve", "--config"])
            .arg(&config)
            .env_clear()
            .env("AMUX_LISTEN", addr.to_string())
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("HOME", &dir)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap(),
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    while get_ok(addr).await.is_none() {
        assert!(Instant::now() < deadline, "amux not ready: {}", std::fs::read_to_string(&log).unwrap_or_default());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let body = r#"{"model":"nova","max_tokens":20,"messages":[{"role":"user","content":"Hi"}]}"#;
    for _ in 0..2 {
        let a = post(addr, "/v1/messages", &[], body).await;
        assert_eq!(a.status, 200, "{} / {}", a.body, std::fs::read_to_string(&log).unwrap_or_default());
        mock.last().signature_ok.unwrap();
    }
    let _ = std::fs::remove_dir_all(&dir);
}

async fn get_ok(addr: std::net::SocketAddr) -> Option<()> {
    let req = http::Request::get(format!("http://{addr}/health/readiness"))
        .body(http_body_util::Full::new(bytes::Bytes::new()))
        .ok()?;
    let r = tokio::time::timeout(Duration::from_secs(2), client().request(req)).await.ok()?.ok()?;
    (r.status() == 200).then_some(())
}

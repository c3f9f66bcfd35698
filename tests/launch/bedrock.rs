//! `amux launch claude <bedrock provider>`: Claude Code in its own Bedrock mode with no gateway,
//! after a pre-flight that asks a mock STS (which checks every request's SigV4 signature) who the
//! credentials are. Credentials from the config's static keys and from the AWS environment chain;
//! rejected credentials and an unreachable STS stop the launch before the harness starts.

use axum::body::Body;
use axum::extract::Request;
use http::Response;
use http_body_util::BodyExt;

use crate::checking::Checking;
use crate::fake::{World, ok};
use crate::sigv4;

const AKID: &str = "AKIDSTSTEST";
const SECRET: &str = "sts-secret-must-not-leak";

/// A mock STS: `GetCallerIdentity` for requests signed with the test keys (region us-west-2),
/// `InvalidClientTokenId` for anything else.
fn mock_sts() -> Checking {
    Checking::start(|req: Request| async move {
        let (parts, body) = req.into_parts();
        let body = body.collect().await.unwrap().to_bytes();
        let want = sigv4::Expected {
            access_key_id: AKID,
            secret: SECRET,
            session_token: None,
            region: "us-west-2",
            service: "sts",
        };
        let path = parts.uri.path_and_query().map(|p| p.to_string()).unwrap_or_default();
        let mut check = sigv4::verify(parts.method.as_str(), &path, &parts.headers, &body, &want);
        if check.is_ok() && &body[..] != b"Action=GetCallerIdentity&Version=2011-06-15" {
            check = Err(format!("unexpected body {body:?}"));
        }
        let (status, xml) = match check {
            Ok(()) => (
                200,
                "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><GetCallerIdentityResult><Arn>arn:aws:iam::123456789012:user/dev</Arn><UserId>AIDATEST</UserId><Account>123456789012</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></GetCallerIdentityResponse>",
            ),
            Err(_) => (
                403,
                "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender</Type><Code>InvalidClientTokenId</Code><Message>The security token included in the request is invalid.</Message></Error><RequestId>r</RequestId></ErrorResponse>",
            ),
        };
        (check, Response::builder().status(status).header("content-type", "text/xml").body(Body::from(xml)).unwrap())
    })
}

fn config(w: &World, secret: &str) -> String {
    let yaml = format!(
        "discover_env: false\nproviders:\n  aws:\n    kind: bedrock\n    region: us-west-2\n    aws_access_key_id: {AKID}\n    aws_secret_access_key: {secret}\n"
    );
    w.write("amux.yaml", &yaml).display().to_string()
}

#[test]
fn claude_runs_in_its_bedrock_mode_after_sts_says_who_the_keys_are() {
    let sts = mock_sts();
    let mut w = World::new("bedrock-static");
    w.set("AWS_ENDPOINT_URL_STS", format!("http://{}", sts.addr));
    w.set("ANTHROPIC_BASE_URL", "http://stale.example");
    let cfg = config(&w, SECRET);
    let out = w.launch(&["claude", "aws", "--model", "claude-sonnet-4-5", "--config", &cfg, "--prompt", "hi"]);
    ok(&out);
    assert_eq!(sts.seen(), vec![Ok(())]);
    let env = |v: &str| w.env_of("claude", v);
    assert_eq!(env("CLAUDE_CODE_USE_BEDROCK").as_deref(), Some("1"));
    assert_eq!(env("AWS_REGION").as_deref(), Some("us-west-2"));
    assert_eq!(env("ANTHROPIC_MODEL").as_deref(), Some("us.anthropic.claude-sonnet-4-5-20250929-v1:0"));
    assert_eq!(env("ANTHROPIC_DEFAULT_HAIKU_MODEL").as_deref(), Some("us.anthropic.claude-haiku-4-5-20251001-v1:0"));
    assert_eq!(
        (env("AWS_ACCESS_KEY_ID").as_deref(), env("AWS_SECRET_ACCESS_KEY").as_deref()),
        (Some(AKID), Some(SECRET))
    );
    for gone in
        ["ANTHROPIC_BASE_URL", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_BEDROCK_BASE_URL", "CLAUDE_CODE_SKIP_BEDROCK_AUTH"]
    {
        assert_eq!(env(gone), None, "{gone}");
    }
    assert_eq!(w.args_of("claude"), ["-p", "hi"]);
    // No gateway was started: the only loopback port in the harness's environment is STS's.
    assert_eq!(w.recorded("claude", "probe").trim(), format!("{} up", sts.addr.port()));

    // --dry-run shows the plan with the secret masked and makes no STS call.
    let out = w.launch(&["claude", "aws", "--model", "claude-sonnet-4-5", "--config", &cfg, "--dry-run"]);
    ok(&out);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("CLAUDE_CODE_USE_BEDROCK=1") && text.contains("AWS_SECRET_ACCESS_KEY=***"), "{text}");
    assert!(!text.contains(SECRET) && text.contains("skipped: --dry-run"), "{text}");
    assert_eq!(sts.seen().len(), 1);
}

#[test]
fn the_aws_environment_is_the_users_setup() {
    let sts = mock_sts();
    let mut w = World::new("bedrock-env");
    w.set("AWS_ENDPOINT_URL_STS", format!("http://{}", sts.addr));
    w.set("AWS_REGION", "us-west-2");
    w.set("AWS_ACCESS_KEY_ID", AKID);
    w.set("AWS_SECRET_ACCESS_KEY", SECRET);
    let out =
        w.launch(&["claude", "bedrock", "--model", "us.anthropic.claude-haiku-4-5-20251001-v1:0", "--prompt", "hi"]);
    ok(&out);
    assert_eq!(sts.seen(), vec![Ok(())]);
    assert_eq!(w.env_of("claude", "CLAUDE_CODE_USE_BEDROCK").as_deref(), Some("1"));
    assert_eq!(w.env_of("claude", "ANTHROPIC_MODEL").as_deref(), Some("us.anthropic.claude-haiku-4-5-20251001-v1:0"));
    // Claude Code reads the chain itself: amux passes the environment on, it writes no keys.
    assert_eq!(w.env_of("claude", "AWS_ACCESS_KEY_ID").as_deref(), Some(AKID));
}

#[test]
fn rejected_or_unreachable_sts_stops_the_launch() {
    let sts = mock_sts();
    let mut w = World::new("bedrock-bad");
    w.set("AWS_ENDPOINT_URL_STS", format!("http://{}", sts.addr));
    let cfg = config(&w, "wrong-secret");
    let out = w.launch(&["claude", "aws", "--model", "claude-sonnet-4-5", "--config", &cfg, "--prompt", "hi"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("pre-flight: AWS credentials") && err.contains("InvalidClientTokenId"), "{err}");
    assert!(!err.contains("wrong-secret"), "{err}");
    assert!(!w.has_record("claude", "env"), "the harness must not start");
    assert_eq!(sts.seen().len(), 1);

    // Nothing listening where STS should be.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    w.set("AWS_ENDPOINT_URL_STS", format!("http://{closed}"));
    let cfg = config(&w, SECRET);
    let out = w.launch(&["claude", "aws", "--model", "claude-sonnet-4-5", "--config", &cfg, "--prompt", "hi"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("pre-flight: AWS credentials") && err.contains(&closed.to_string()), "{err}");
    assert!(!w.has_record("claude", "env"));

    // A model id Bedrock cannot take fails before STS is asked.
    let out = w.launch(&["claude", "aws", "--model", "sonnet", "--config", &cfg, "--prompt", "hi"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not a Bedrock model id"));
}

//! `amux launch claude foundry` and `amux launch codex azure`: Claude Code in its own Foundry mode
//! (the resource or its URL; an API key, or Microsoft Entra ID after a pre-flight that gets a
//! token from a mock App Service managed-identity endpoint that checks the secret header and the
//! Cognitive Services resource) and Codex with its Azure OpenAI provider (the v1 API, or
//! `/openai` with an `api-version` query parameter). A refused identity and a bad deployment name
//! stop the launch before the harness starts; `--dry-run` masks the keys.

use axum::body::Body;
use axum::extract::Request;
use http::Response;

use crate::checking::Checking;
use crate::fake::{World, ok};

const FOUNDRY_KEY: &str = "foundry-key-must-not-leak";
const AZURE_KEY: &str = "azure-key-must-not-leak";

/// App Service's managed-identity endpoint (`IDENTITY_ENDPOINT`, `X-IDENTITY-HEADER`): a token
/// for `resource=https://cognitiveservices.azure.com` when the header is `msi-secret`.
fn mock_identity() -> Checking {
    Checking::start(|req: Request| async move {
        let path = req.uri().path_and_query().map(|p| p.to_string()).unwrap_or_default();
        let header = req.headers().get("x-identity-header").and_then(|v| v.to_str().ok()).map(str::to_string);
        let check = if !path.starts_with("/msi/token?") {
            Err(format!("path {path}"))
        } else if !path.contains("resource=https%3A%2F%2Fcognitiveservices.azure.com") {
            Err(format!("resource in {path}"))
        } else if header.as_deref() != Some("msi-secret") {
            Err(format!("x-identity-header {header:?}"))
        } else {
            Ok(())
        };
        if check.is_err() {
            let e = r#"{"statusCode":400,"message":"Unable to load the proper Managed Identity."}"#;
            return (check, Response::builder().status(400).body(Body::from(e)).unwrap());
        }
        let exp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() + 3600;
        let body = serde_json::json!({"access_token": "entra-launch-1", "expires_on": exp.to_string(),
            "resource": "https://cognitiveservices.azure.com", "token_type": "Bearer"});
        (
            check,
            Response::builder().header("content-type", "application/json").body(Body::from(body.to_string())).unwrap(),
        )
    })
}

fn refused(out: &std::process::Output) -> String {
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn claude_runs_in_its_foundry_mode_with_a_key() {
    let mut w = World::new("foundry-key");
    w.set("ANTHROPIC_FOUNDRY_RESOURCE", "amux-res");
    w.set("ANTHROPIC_FOUNDRY_API_KEY", FOUNDRY_KEY);
    w.set("ANTHROPIC_FOUNDRY_BASE_URL", "http://stale.example/anthropic");
    w.set("ANTHROPIC_AUTH_TOKEN", "stale-token");
    let out = w.launch(&["claude", "foundry", "--model", "claude-opus-4-1", "--dry-run"]);
    ok(&out);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("CLAUDE_CODE_USE_FOUNDRY=1") && text.contains("ANTHROPIC_FOUNDRY_RESOURCE=amux-res"),
        "{text}"
    );
    assert!(text.contains("ANTHROPIC_FOUNDRY_API_KEY=***") && !text.contains(FOUNDRY_KEY), "{text}");

    let out = w.launch(&["claude", "foundry", "--model", "claude-opus-4-1", "--prompt", "hi"]);
    ok(&out);
    let env = |v: &str| w.env_of("claude", v);
    assert_eq!(env("CLAUDE_CODE_USE_FOUNDRY").as_deref(), Some("1"));
    assert_eq!(env("ANTHROPIC_FOUNDRY_RESOURCE").as_deref(), Some("amux-res"));
    assert_eq!(env("ANTHROPIC_FOUNDRY_API_KEY").as_deref(), Some(FOUNDRY_KEY));
    assert_eq!(env("ANTHROPIC_MODEL").as_deref(), Some("claude-opus-4-1"));
    // Claude Code's SDK refuses a resource and a base URL together.
    for gone in ["ANTHROPIC_FOUNDRY_BASE_URL", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_BASE_URL", "CLAUDE_CODE_USE_VERTEX"] {
        assert_eq!(env(gone), None, "{gone}");
    }
    assert!(!w.has_record("claude", "probe"), "no gateway");

    // A model Foundry serves by its chat API: through the gateway, which speaks it.
    let out = w.launch(&["claude", "foundry", "--model", "DeepSeek-R1", "--dry-run"]);
    ok(&out);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("in-process gateway") && text.contains("not a Claude model"), "{text}");
    // A deployment name Foundry cannot have.
    let err = refused(&w.launch(&["claude", "foundry", "--model", "claude/../x", "--prompt", "hi"]));
    assert!(err.contains("pre-flight: deployment") && err.contains("is not a deployment name"), "{err}");
}

#[test]
fn claude_runs_in_its_foundry_mode_with_entra_id_after_a_token() {
    let msi = mock_identity();
    let mut w = World::new("foundry-entra");
    let cfg = w.write(
        "amux.yaml",
        "discover_env: false\nproviders:\n  fd: {kind: foundry, base_url: 'https://foundry.example.com'}\n",
    );
    let cfg = cfg.to_str().unwrap().to_string();
    w.set("IDENTITY_ENDPOINT", format!("http://{}/msi/token", msi.addr));
    w.set("IDENTITY_HEADER", "msi-secret");
    w.set("ANTHROPIC_FOUNDRY_AUTH_TOKEN", "stale-token");
    let out = w.launch(&["claude", "fd", "--model", "claude-sonnet-4-5", "--config", &cfg, "--prompt", "hi"]);
    ok(&out);
    assert_eq!(msi.seen(), vec![Ok(())]);
    let env = |v: &str| w.env_of("claude", v);
    assert_eq!(env("CLAUDE_CODE_USE_FOUNDRY").as_deref(), Some("1"));
    // Not the resource's own URL: the Anthropic API's base URL.
    assert_eq!(env("ANTHROPIC_FOUNDRY_BASE_URL").as_deref(), Some("https://foundry.example.com/anthropic"));
    // Entra ID: no key, so Claude Code's DefaultAzureCredential reads the identity itself.
    assert_eq!(env("ANTHROPIC_FOUNDRY_API_KEY"), None);
    assert_eq!(env("ANTHROPIC_FOUNDRY_RESOURCE"), None);
    assert_eq!(env("ANTHROPIC_FOUNDRY_AUTH_TOKEN"), None);
    assert_eq!(env("IDENTITY_HEADER").as_deref(), Some("msi-secret"));

    // The identity endpoint refuses: stopped before the harness starts.
    let _ = std::fs::remove_dir_all(w.record.join("claude"));
    w.set("IDENTITY_HEADER", "wrong-secret");
    let err = refused(&w.launch(&["claude", "fd", "--model", "claude-sonnet-4-5", "--config", &cfg, "--prompt", "hi"]));
    assert!(err.contains("pre-flight: Microsoft Entra ID"), "{err}");
    assert!(!w.has_record("claude", "env"), "the harness must not start");
    assert_eq!(msi.seen().len(), 2);
    // --dry-run makes no call.
    let out = w.launch(&["claude", "fd", "--model", "claude-sonnet-4-5", "--config", &cfg, "--dry-run"]);
    ok(&out);
    assert!(String::from_utf8_lossy(&out.stdout).contains("skipped: --dry-run"));
    assert_eq!(msi.seen().len(), 2);
}

#[test]
fn codex_runs_with_its_azure_provider() {
    let mut w = World::new("azure-codex");
    w.set("AZURE_OPENAI_ENDPOINT", "https://amux-res.openai.azure.com");
    w.set("AZURE_OPENAI_API_KEY", AZURE_KEY);
    let out = w.launch(&["codex", "azure", "--model", "gpt-4o-prod", "--prompt", "hi"]);
    ok(&out);
    let args = w.args_of("codex");
    let has = |a: &str| args.iter().any(|x| x == a);
    assert!(has("model_providers.amux.base_url=\"https://amux-res.openai.azure.com/openai/v1\""), "{args:?}");
    assert!(has("model_providers.amux.wire_api=\"responses\"") && has("gpt-4o-prod"), "{args:?}");
    assert!(!args.iter().any(|a| a.contains("query_params") || a.contains("model_catalog_json")), "{args:?}");
    assert_eq!(w.env_of("codex", "AMUX_CODEX_API_KEY").as_deref(), Some(AZURE_KEY));
    assert!(!w.has_record("codex", "probe"), "no gateway");

    // With an API version: Codex's documented form, /openai and the api-version on every call.
    w.set("OPENAI_API_VERSION", "2025-04-01-preview");
    let out = w.launch(&["codex", "azure", "--model", "gpt-4o-prod", "--dry-run"]);
    ok(&out);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("base_url = \"https://amux-res.openai.azure.com/openai\""), "{text}");
    assert!(text.contains("query_params = { \"api-version\" = \"2025-04-01-preview\" }"), "{text}");
    assert!(text.contains("AMUX_CODEX_API_KEY=***") && !text.contains(AZURE_KEY), "{text}");

    let err = refused(&w.launch(&["codex", "azure", "--model", "gpt 4o", "--prompt", "hi"]));
    assert!(err.contains("is not a deployment name"), "{err}");
}

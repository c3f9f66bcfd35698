//! Claude Code: environment only. `ANTHROPIC_BASE_URL` is the origin (no `/v1`); through a
//! gateway the key goes in `ANTHROPIC_AUTH_TOKEN` (a Bearer token) and every model tier plus the
//! subagent model is pinned to the chosen model so that background calls route too. With no
//! gateway it runs in its own cloud modes: Bedrock (`CLAUDE_CODE_USE_BEDROCK=1`, the region and
//! the AWS credentials it reads itself), Vertex AI (`CLAUDE_CODE_USE_VERTEX=1`, project, region,
//! Application Default Credentials) and Azure AI Foundry (`CLAUDE_CODE_USE_FOUNDRY=1`, the
//! resource, an API key or Entra ID).

use super::{Ctx, Harness, refuse_args, session_and_prompt};
use crate::config::ProviderKind;
use crate::ir::Dialect;
use crate::launch::cloud::{BedrockCredentials, BedrockMode, Cloud, FoundryCredentials, FoundryMode, VertexMode};
use crate::launch::error::LaunchError;
use crate::launch::plan::Plan;
use crate::providers::bedrock_models::upstream_id;

pub struct Claude;

impl Harness for Claude {
    fn name(&self) -> &'static str {
        "claude"
    }
    fn binary(&self) -> &'static str {
        "claude"
    }
    fn install(&self) -> &'static str {
        "npm install -g @anthropic-ai/claude-code"
    }
    fn dialects(&self) -> &'static [Dialect] {
        &[Dialect::Anthropic]
    }
    fn clouds(&self) -> &'static [ProviderKind] {
        &[ProviderKind::Bedrock, ProviderKind::Vertex, ProviderKind::Foundry]
    }

    fn plan(&self, ctx: &Ctx) -> Result<Plan, LaunchError> {
        refuse_args(self, ctx.user_args, &["--model", "-p", "--print"], "amux sets the model and the prompt")?;
        if ctx.max_turns.is_some() {
            refuse_args(self, ctx.user_args, &["--max-turns"], "amux sets it from --max-turns")?;
        }
        if ctx.max_budget_usd.is_some() {
            refuse_args(self, ctx.user_args, &["--max-budget-usd"], "amux sets it from --max-budget-usd")?;
        }
        let mut p = ctx.plan(self);
        let model = &ctx.endpoint.model;
        if let Some(cloud) = &ctx.endpoint.cloud {
            match cloud {
                Cloud::Bedrock(mode) => bedrock(&mut p, mode, model, ctx),
                Cloud::Vertex(mode) => vertex(&mut p, mode, model, ctx),
                Cloud::Foundry(mode) => foundry(&mut p, mode, model, ctx),
                Cloud::Azure(_) => {
                    return Err(LaunchError::Usage("Claude Code has no Azure OpenAI mode".into()));
                }
            }
            limits(&mut p, ctx)?;
            session_and_prompt(&mut p, ctx, "--resume", "-p");
            return Ok(p);
        }
        p.env("ANTHROPIC_BASE_URL", ctx.origin());
        if ctx.via_gateway {
            p.env("ANTHROPIC_AUTH_TOKEN", ctx.endpoint.key.clone()).remove_env("ANTHROPIC_API_KEY");
        } else {
            // Anthropic's own API takes keys in x-api-key, not as a Bearer token.
            p.env("ANTHROPIC_API_KEY", ctx.endpoint.key.clone()).remove_env("ANTHROPIC_AUTH_TOKEN");
        }
        p.env("ANTHROPIC_MODEL", model.clone());
        if ctx.via_gateway {
            for v in [
                "ANTHROPIC_DEFAULT_OPUS_MODEL",
                "ANTHROPIC_DEFAULT_SONNET_MODEL",
                "ANTHROPIC_DEFAULT_HAIKU_MODEL",
                "CLAUDE_CODE_SUBAGENT_MODEL",
            ] {
                p.env(v, model.clone());
            }
        } else {
            p.note("direct to Anthropic: the haiku/sonnet/opus tiers keep Claude Code's defaults");
        }
        if let Some(n) = ctx.context_window {
            p.env("CLAUDE_CODE_AUTO_COMPACT_WINDOW", n.to_string());
        }
        for v in ["CLAUDE_CODE_USE_BEDROCK", "CLAUDE_CODE_USE_VERTEX", "CLAUDE_CODE_USE_FOUNDRY"] {
            p.remove_env(v);
        }
        limits(&mut p, ctx)?;
        session_and_prompt(&mut p, ctx, "--resume", "-p");
        Ok(p)
    }
}

/// Claude Code's own limits (`--max-turns`, `--max-budget-usd`) work in headless (`-p`) runs only
/// (`claude --help`).
fn limits(p: &mut Plan, ctx: &Ctx) -> Result<(), LaunchError> {
    match (ctx.max_turns, ctx.prompt) {
        (Some(n), Some(_)) => {
            p.args(["--max-turns".to_string(), n.to_string()]);
            p.limits.push("--max-turns");
        }
        (Some(_), None) => {
            return Err(LaunchError::LimitRefused {
                harness: "claude",
                flag: "--max-turns",
                reason: "Claude Code applies a turn limit only in headless runs (--prompt)".into(),
            });
        }
        _ => {}
    }
    match (ctx.max_budget_usd, ctx.prompt) {
        (Some(usd), Some(_)) => {
            p.args(["--max-budget-usd".to_string(), usd.to_string()]);
            p.limits.push("--max-budget-usd");
        }
        (Some(_), None) => {
            return Err(LaunchError::LimitRefused {
                harness: "claude",
                flag: "--max-budget-usd",
                reason: "going direct, only Claude Code can count the cost, and its --max-budget-usd works \
                         only in headless runs (--prompt); or add --with-gateway"
                    .into(),
            });
        }
        _ => {}
    }
    Ok(())
}

/// Claude Code's own Bedrock mode: it signs with the AWS credentials it finds (the same chain
/// and profile the provider names, or the config's static keys, or a Bedrock API key). The
/// background (haiku) tier is pinned to Haiku 4.5 in the region's geography unless the user set
/// it, since Claude Code's default names a `us.` profile.
fn bedrock(p: &mut Plan, mode: &BedrockMode, model: &str, ctx: &Ctx) {
    p.env("CLAUDE_CODE_USE_BEDROCK", "1").env("AWS_REGION", mode.region.clone()).env("ANTHROPIC_MODEL", model);
    if ctx.env.get("ANTHROPIC_DEFAULT_HAIKU_MODEL").is_none() {
        p.env("ANTHROPIC_DEFAULT_HAIKU_MODEL", upstream_id("claude-haiku-4-5", &mode.region));
    }
    for v in [
        "ANTHROPIC_BASE_URL",
        "ANTHROPIC_API_KEY",
        "ANTHROPIC_AUTH_TOKEN",
        "CLAUDE_CODE_SKIP_BEDROCK_AUTH",
        "CLAUDE_CODE_USE_VERTEX",
        "CLAUDE_CODE_USE_FOUNDRY",
    ] {
        p.remove_env(v);
    }
    match &mode.endpoint {
        Some(url) => p.env("ANTHROPIC_BEDROCK_BASE_URL", url.clone()),
        None => p.remove_env("ANTHROPIC_BEDROCK_BASE_URL"),
    };
    if let Some(profile) = &mode.profile {
        p.env("AWS_PROFILE", profile.clone());
    }
    match &mode.credentials {
        BedrockCredentials::Chain => {}
        BedrockCredentials::Static { access_key_id, secret_access_key, session_token } => {
            p.secret(secret_access_key.expose());
            p.env("AWS_ACCESS_KEY_ID", access_key_id.clone())
                .env("AWS_SECRET_ACCESS_KEY", secret_access_key.expose())
                .remove_env("AWS_PROFILE");
            match session_token {
                Some(t) => {
                    p.secret(t.expose());
                    p.env("AWS_SESSION_TOKEN", t.expose())
                }
                None => p.remove_env("AWS_SESSION_TOKEN"),
            };
        }
        BedrockCredentials::Bearer(key) => {
            p.secret(key.expose());
            p.env("AWS_BEARER_TOKEN_BEDROCK", key.expose());
        }
    }
}

/// Everything that would take Claude Code out of the cloud mode `keep` (`CLAUDE_CODE_USE_*`):
/// the other modes, their auth skips, and Anthropic's own endpoint and keys.
fn only_mode(p: &mut Plan, keep: &str) {
    for v in [
        "ANTHROPIC_BASE_URL",
        "ANTHROPIC_API_KEY",
        "ANTHROPIC_AUTH_TOKEN",
        "CLAUDE_CODE_USE_BEDROCK",
        "CLAUDE_CODE_USE_VERTEX",
        "CLAUDE_CODE_USE_FOUNDRY",
        "CLAUDE_CODE_USE_ANTHROPIC_AWS",
        "CLAUDE_CODE_USE_ANTHROPIC_GOOGLE_CLOUD",
        "CLAUDE_CODE_USE_MANTLE",
        "CLAUDE_CODE_USE_GATEWAY",
        "CLAUDE_CODE_SKIP_BEDROCK_AUTH",
        "CLAUDE_CODE_SKIP_VERTEX_AUTH",
        "CLAUDE_CODE_SKIP_FOUNDRY_AUTH",
    ] {
        if v != keep {
            p.remove_env(v);
        }
    }
    p.env(keep, "1");
}

/// The background (haiku) tier on the chosen model unless the user set it: Claude Code's default
/// names a model the project or resource may not have enabled or deployed.
fn pin_haiku(p: &mut Plan, model: &str, ctx: &Ctx) {
    if ctx.env.get("ANTHROPIC_DEFAULT_HAIKU_MODEL").is_none() {
        p.env("ANTHROPIC_DEFAULT_HAIKU_MODEL", model);
    }
}

/// Claude Code's own Vertex AI mode: project and region, and the Application Default
/// Credentials it reads itself (the provider's key file as `GOOGLE_APPLICATION_CREDENTIALS`).
fn vertex(p: &mut Plan, mode: &VertexMode, model: &str, ctx: &Ctx) {
    only_mode(p, "CLAUDE_CODE_USE_VERTEX");
    p.env("ANTHROPIC_VERTEX_PROJECT_ID", mode.project.clone())
        .env("CLOUD_ML_REGION", mode.location.clone())
        .env("ANTHROPIC_MODEL", model);
    pin_haiku(p, model, ctx);
    match &mode.endpoint {
        // AnthropicVertex's base URL ends in /v1 (https://{region}-aiplatform.googleapis.com/v1).
        Some(url) => p.env("ANTHROPIC_VERTEX_BASE_URL", format!("{url}/v1")),
        None => p.remove_env("ANTHROPIC_VERTEX_BASE_URL"),
    };
    if let Some(f) = &mode.key_file {
        p.env("GOOGLE_APPLICATION_CREDENTIALS", f.clone());
    }
}

/// Claude Code's own Foundry mode: the resource (or the Anthropic API's URL when the provider has
/// its own base URL) and an API key, or Entra ID through its own `DefaultAzureCredential`.
fn foundry(p: &mut Plan, mode: &FoundryMode, model: &str, ctx: &Ctx) {
    only_mode(p, "CLAUDE_CODE_USE_FOUNDRY");
    p.env("ANTHROPIC_MODEL", model);
    pin_haiku(p, model, ctx);
    // The SDK refuses both at once.
    match &mode.resource {
        Some(r) => p.env("ANTHROPIC_FOUNDRY_RESOURCE", r.clone()).remove_env("ANTHROPIC_FOUNDRY_BASE_URL"),
        None => p.env("ANTHROPIC_FOUNDRY_BASE_URL", mode.base_url.clone()).remove_env("ANTHROPIC_FOUNDRY_RESOURCE"),
    };
    p.remove_env("ANTHROPIC_FOUNDRY_AUTH_TOKEN");
    match &mode.credentials {
        FoundryCredentials::ApiKey(k) => {
            p.secret(k.expose());
            p.env("ANTHROPIC_FOUNDRY_API_KEY", k.expose());
        }
        FoundryCredentials::Entra => {
            p.remove_env("ANTHROPIC_FOUNDRY_API_KEY");
            p.note("Microsoft Entra ID: Claude Code's DefaultAzureCredential reads the AZURE_* environment itself");
        }
    }
}

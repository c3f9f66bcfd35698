//! Harnesses in a cloud's own mode, with no gateway in between: Claude Code on Amazon Bedrock,
//! Vertex AI and Azure AI Foundry, Gemini CLI on Vertex AI, Codex on Azure OpenAI. Which harness
//! and model can take the mode ([`native`]), the shape of the model id each cloud takes
//! ([`check_model`]), and the pre-flight of each mode ([`preflight`]), which checks before the
//! harness starts that the cloud can be reached the way the harness will reach it.

mod adc;
mod azure;
mod bedrock;
mod vertex;

use std::time::Duration;

pub use azure::{AzureMode, FoundryCredentials, FoundryMode};
pub use bedrock::{BedrockCredentials, BedrockMode, bedrock_mode};
pub use vertex::VertexMode;

use super::env::Env;
use super::error::LaunchError;
use super::harness::{Endpoint, Harness};
use crate::config::ProviderKind;
use crate::ir::Dialect;
use crate::providers::Provider;

/// How long a pre-flight waits for credentials, and then for the cloud's token or STS endpoint.
pub(crate) const PREFLIGHT_TIMEOUT: Duration = Duration::from_secs(10);

/// A cloud's own mode of a harness.
#[derive(Debug, Clone, PartialEq)]
pub enum Cloud {
    Bedrock(BedrockMode),
    Vertex(VertexMode),
    Foundry(FoundryMode),
    Azure(AzureMode),
}

/// Checks the model id's shape for a cloud provider before anything starts, and returns it as
/// the cloud names it (a Claude name as Bedrock's inference profile for the region, a dated
/// Claude name with Vertex's `@`).
pub fn check_model(p: &Provider, model: &str) -> Result<String, LaunchError> {
    match p.preset.kind {
        ProviderKind::Bedrock => {
            let upstream = p.upstream_model(model);
            bedrock::check_model_id(&upstream)?;
            Ok(upstream)
        }
        ProviderKind::Vertex => {
            vertex::check_model_id(model)?;
            Ok(vertex::vertex_id(model))
        }
        ProviderKind::Azure => azure::check_deployment("Azure OpenAI", model).map(|()| model.to_string()),
        ProviderKind::Foundry => azure::check_deployment("Foundry", model).map(|()| model.to_string()),
        _ => Ok(model.to_string()),
    }
}

/// The harness in the provider's cloud mode for `model`, or why not (then the launcher goes
/// through its in-process gateway, which holds the cloud's credentials and paths).
pub fn native(harness: &dyn Harness, p: &Provider, model: &str) -> Result<Endpoint, String> {
    let kind = p.preset.kind;
    if !harness.clouds().contains(&kind) {
        return Err(format!("{} has no {} mode of its own", harness.name(), p.preset.name));
    }
    let dialect = harness.dialects()[0];
    let (cloud, key) = match kind {
        ProviderKind::Bedrock => {
            if !crate::dialects::bedrock_converse::is_claude(model) {
                return Err(format!("{model} is not a Claude model; Bedrock serves it by Converse"));
            }
            (Cloud::Bedrock(bedrock_mode(p)?), String::new())
        }
        ProviderKind::Vertex => {
            vertex::takes(dialect == Dialect::Anthropic, model)?;
            (Cloud::Vertex(vertex::mode(p)?), String::new())
        }
        ProviderKind::Foundry => {
            let mode = azure::foundry_mode(p, model)?;
            let key = match &mode.credentials {
                FoundryCredentials::ApiKey(k) => k.expose().to_string(),
                FoundryCredentials::Entra => String::new(),
            };
            (Cloud::Foundry(mode), key)
        }
        ProviderKind::Azure => {
            let mode = azure::azure_mode(p)?;
            let key = mode.key.expose().to_string();
            (Cloud::Azure(mode), key)
        }
        _ => return Err(format!("{} is not a cloud with harness modes", p.preset.name)),
    };
    Ok(Endpoint {
        dialect,
        base_url: p.base_url.clone(),
        key,
        model: model.to_string(),
        provider_id: p.name.clone(),
        cloud: Some(cloud),
    })
}

/// Checks the cloud side of a harness's own mode before it starts; returns notes for the plan.
/// `--dry-run` makes no network call.
pub fn preflight(
    rt: &tokio::runtime::Runtime,
    p: &Provider,
    cloud: &Cloud,
    env: &Env,
    dry_run: bool,
) -> Result<Vec<String>, LaunchError> {
    match cloud {
        Cloud::Bedrock(mode) => bedrock::preflight(rt, p, mode, env, dry_run),
        Cloud::Vertex(mode) => vertex::preflight(rt, mode, env, dry_run),
        Cloud::Foundry(mode) => azure::foundry_preflight(rt, p, mode, dry_run),
        Cloud::Azure(mode) => Ok(azure::azure_notes(mode)),
    }
}

//! Azure in a harness's own mode: Claude Code on Azure AI Foundry (`CLAUDE_CODE_USE_FOUNDRY=1`,
//! the resource or its URL, an API key or Microsoft Entra ID through its own
//! `DefaultAzureCredential`) and Codex on Azure OpenAI (a model provider in its config at the
//! resource's `/openai/v1`, or `/openai` with an `api-version`, and the API key). What each mode
//! needs from an `azure` / `foundry` provider, the shape of a deployment name, and the pre-flight.

use crate::dialects::bedrock_converse::is_claude;
use crate::launch::error::LaunchError;
use crate::providers::{Provider, Secret};

/// Claude Code's Foundry mode.
#[derive(Debug, Clone, PartialEq)]
pub struct FoundryMode {
    /// The resource, when the provider's base URL is the resource's own
    /// (`https://{resource}.services.ai.azure.com`): `ANTHROPIC_FOUNDRY_RESOURCE`.
    pub resource: Option<String>,
    /// Otherwise the Anthropic API's base URL (`{base}/anthropic`): `ANTHROPIC_FOUNDRY_BASE_URL`.
    pub base_url: String,
    pub credentials: FoundryCredentials,
}

/// What Claude Code authenticates to Foundry with.
#[derive(Debug, Clone, PartialEq)]
pub enum FoundryCredentials {
    /// `ANTHROPIC_FOUNDRY_API_KEY`, sent as `x-api-key`.
    ApiKey(Secret),
    /// Microsoft Entra ID: Claude Code's `DefaultAzureCredential` reads the environment itself.
    Entra,
}

/// Codex's Azure OpenAI provider.
#[derive(Debug, Clone, PartialEq)]
pub struct AzureMode {
    /// `{endpoint}/openai/v1` (the v1 API), or `{endpoint}/openai` with [`Self::api_version`].
    pub base_url: String,
    pub api_version: Option<String>,
    pub key: Secret,
}

/// A resource name Claude Code takes (2 to 64 letters, digits and hyphens, no hyphen at either end).
fn resource_name(s: &str) -> bool {
    (2..=64).contains(&s.len())
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

/// Claude Code's Foundry mode for a `foundry` provider and a Claude deployment.
pub fn foundry_mode(p: &Provider, model: &str) -> Result<FoundryMode, String> {
    if !is_claude(model) {
        return Err(format!("{model} is not a Claude model; Claude Code's Foundry mode calls Claude only"));
    }
    let resource = p
        .base_url
        .strip_prefix("https://")
        .and_then(|h| h.strip_suffix(".services.ai.azure.com"))
        .filter(|r| resource_name(r))
        .map(str::to_string);
    let credentials = match (&p.api_key, &p.azure) {
        (Some(k), _) => FoundryCredentials::ApiKey(k.clone()),
        (None, Some(_)) => FoundryCredentials::Entra,
        (None, None) => return Err("the provider has no Foundry credentials".into()),
    };
    Ok(FoundryMode { resource, base_url: format!("{}/anthropic", p.base_url), credentials })
}

/// Codex's Azure provider for an `azure` provider with an API key.
pub fn azure_mode(p: &Provider) -> Result<AzureMode, String> {
    let Some(key) = p.api_key.clone() else {
        return Err("Codex sends Azure an API key only; Entra ID tokens are amux's gateway's to get".into());
    };
    let base_url = match &p.api_version {
        Some(_) => format!("{}/openai", p.base_url),
        None => format!("{}/openai/v1", p.base_url),
    };
    Ok(AzureMode { base_url, api_version: p.api_version.clone(), key })
}

/// A deployment name: what `--model` names on Azure OpenAI and Foundry.
pub fn check_deployment(kind: &str, model: &str) -> Result<(), LaunchError> {
    let ok = !model.is_empty()
        && model.len() <= 64
        && model.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        && !model.starts_with('.');
    if ok {
        return Ok(());
    }
    Err(LaunchError::Preflight {
        what: "deployment",
        detail: format!(
            "\"{model}\" is not a deployment name: --model names the {kind} deployment (letters, digits, \
             '-', '_' and '.', at most 64)"
        ),
    })
}

/// Checks before Claude Code starts in its Foundry mode: with Entra ID, that a token for
/// `https://cognitiveservices.azure.com/.default` can be had from the environment Claude Code's
/// `DefaultAzureCredential` reads (client secret, workload identity, managed identity, Azure
/// CLI); an API key cannot be checked without a model call and is not. Returns notes for the
/// plan; `--dry-run` makes no network call.
pub fn foundry_preflight(
    rt: &tokio::runtime::Runtime,
    p: &Provider,
    mode: &FoundryMode,
    dry_run: bool,
) -> Result<Vec<String>, LaunchError> {
    let place = match &mode.resource {
        Some(r) => format!("resource {r}"),
        None => mode.base_url.clone(),
    };
    let mut notes = vec![format!("Claude Code in its own Foundry mode, {place}")];
    let Some(auth) = (mode.credentials == FoundryCredentials::Entra).then_some(p.azure.as_ref()).flatten() else {
        notes.push("an API key: not checked before the start".into());
        return Ok(notes);
    };
    if dry_run {
        notes.push("pre-flight (a Microsoft Entra ID token) skipped: --dry-run".into());
        return Ok(notes);
    }
    let got = rt.block_on(async {
        tokio::time::timeout(super::PREFLIGHT_TIMEOUT, auth.token())
            .await
            .map_err(|_| format!("no token within {} s", super::PREFLIGHT_TIMEOUT.as_secs()))?
            .map(|_| ())
            .map_err(|e| e.to_string())
    });
    got.map_err(|e| LaunchError::Preflight {
        what: "Microsoft Entra ID",
        detail: format!(
            "{e} (set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET, run `az login`, or give the \
             provider an api_key)"
        ),
    })?;
    notes.push("a Microsoft Entra ID token for Cognitive Services was issued".into());
    Ok(notes)
}

/// Notes for Codex's Azure provider (an API key: nothing to ask before the start).
pub fn azure_notes(mode: &AzureMode) -> Vec<String> {
    let api = match &mode.api_version {
        Some(v) => format!("api-version {v}"),
        None => "the v1 API".into(),
    };
    vec![format!(
        "Codex with an Azure OpenAI provider at {} ({api}); an API key: not checked before the start",
        mode.base_url
    )]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deployments_and_resources() {
        assert!(check_deployment("Azure OpenAI", "gpt-4o-prod").is_ok());
        assert!(check_deployment("Azure OpenAI", "claude-opus-4.1_x").is_ok());
        for bad in ["", "a/b", "../x", "with space", "x?api-version=1"] {
            let e = check_deployment("Azure OpenAI", bad).unwrap_err();
            assert_eq!(e.label(), "preflight");
            assert!(e.to_string().contains("is not a deployment name"), "{e}");
        }
        assert!(resource_name("my-res") && !resource_name("-x") && !resource_name("a") && !resource_name("a.b"));
    }
}

//! Azure OpenAI (`kind: azure`) and Azure AI Foundry (`kind: foundry`) as upstreams: URLs,
//! which API a model takes, and Microsoft Entra ID tokens.
//!
//! Azure OpenAI: with `api_version` set, a model is a deployment name on the deployment paths,
//! `{base}/openai/deployments/{deployment}/chat/completions?api-version=V` (Responses:
//! `{base}/openai/responses?api-version=V`, the deployment as `model`); without it, the v1 API,
//! `{base}/openai/v1/chat/completions` and `/openai/v1/responses`. The base is the resource's
//! endpoint, `https://{resource}.openai.azure.com`.
//!
//! Foundry: chat models at `{base}/models/chat/completions?api-version=2024-05-01-preview`
//! (model in the body), Claude at `{base}/anthropic/v1/messages` (the Anthropic API as it is);
//! the base is `https://{resource}.services.ai.azure.com`.
//!
//! Credentials: the provider's key in `api-key` (Azure OpenAI, Foundry chat) or `x-api-key`
//! (Claude in Foundry); without a key, a Microsoft Entra ID token for
//! `https://cognitiveservices.azure.com/.default` as `Authorization: Bearer`, from the first of
//! these that the environment configures (feature `azure`, crate `azure_identity`): client secret
//! (`AZURE_TENANT_ID`, `AZURE_CLIENT_ID`, `AZURE_CLIENT_SECRET`), workload identity as on AKS
//! (`AZURE_FEDERATED_TOKEN_FILE`), managed identity (App Service's `IDENTITY_ENDPOINT`, else
//! IMDS), then the Azure CLI. `azure_identity` caches tokens and renews them before they expire;
//! amux keeps the current one and asks again [`REFRESH_BEFORE`] ahead of its expiry.

use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use super::Secret;
use crate::dialects::bedrock_converse::is_claude;
use crate::ir::{ApiError, Dialect};

/// The Entra scope of Azure OpenAI and Foundry calls.
pub const SCOPE: &str = "https://cognitiveservices.azure.com/.default";

/// The Foundry model-inference API version.
pub const FOUNDRY_API_VERSION: &str = "2024-05-01-preview";

/// Ask for a new token this long before the current one expires.
pub const REFRESH_BEFORE: Duration = Duration::from_secs(300);

/// Why no token could be had.
#[derive(Debug, thiserror::Error)]
#[error("no Microsoft Entra ID token: {0}")]
pub struct AzureError(pub String);

/// The dialect a model is called in on a `foundry` provider.
pub fn foundry_dialect(model: &str) -> Dialect {
    if is_claude(model) { Dialect::Anthropic } else { Dialect::OpenAiChat }
}

/// The upstream URL of a model call on Azure OpenAI.
pub fn azure_url(base: &str, api_version: Option<&str>, dialect: Dialect, model: &str) -> Result<String, ApiError> {
    Ok(match (dialect, api_version) {
        (Dialect::OpenAiResponses, Some(v)) => format!("{base}/openai/responses?api-version={v}"),
        (Dialect::OpenAiResponses, None) => format!("{base}/openai/v1/responses"),
        (_, Some(v)) => {
            let d = super::check_path_model(model)?;
            format!("{base}/openai/deployments/{d}/chat/completions?api-version={v}")
        }
        (_, None) => format!("{base}/openai/v1/chat/completions"),
    })
}

/// The upstream URL of a model call on Foundry.
pub fn foundry_url(base: &str, api_version: Option<&str>, dialect: Dialect) -> String {
    match dialect {
        Dialect::Anthropic => format!("{base}/anthropic/v1/messages"),
        _ => format!("{base}/models/chat/completions?api-version={}", api_version.unwrap_or(FOUNDRY_API_VERSION)),
    }
}

/// A provider's Entra identity and its current token.
pub struct AzureAuth {
    #[cfg(feature = "azure")]
    credential: tokio::sync::OnceCell<std::sync::Arc<dyn azure_core::credentials::TokenCredential>>,
    cached: Mutex<Option<(Secret, SystemTime)>>,
}

impl std::fmt::Debug for AzureAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AzureAuth").finish_non_exhaustive()
    }
}

impl Default for AzureAuth {
    fn default() -> Self {
        AzureAuth {
            #[cfg(feature = "azure")]
            credential: tokio::sync::OnceCell::new(),
            cached: Mutex::new(None),
        }
    }
}

impl AzureAuth {
    /// A token for the next request.
    pub async fn token(&self) -> Result<Secret, AzureError> {
        let now = SystemTime::now();
        if let Ok(g) = self.cached.lock()
            && let Some((t, exp)) = g.as_ref()
            && *exp > now + REFRESH_BEFORE
        {
            return Ok(t.clone());
        }
        let (t, exp) = self.fetch().await?;
        if let Ok(mut g) = self.cached.lock() {
            *g = Some((t.clone(), exp));
        }
        Ok(t)
    }

    #[cfg(feature = "azure")]
    async fn fetch(&self) -> Result<(Secret, SystemTime), AzureError> {
        let cred = self.credential.get_or_try_init(|| async { chain() }).await?;
        let t = cred.get_token(&[SCOPE], None).await.map_err(|e| AzureError(super::client::error_chain(&e)))?;
        let secs = u64::try_from(t.expires_on.unix_timestamp()).unwrap_or(0);
        Ok((Secret::new(t.token.secret()), SystemTime::UNIX_EPOCH + Duration::from_secs(secs)))
    }

    #[cfg(not(feature = "azure"))]
    async fn fetch(&self) -> Result<(Secret, SystemTime), AzureError> {
        Err(AzureError("amux was built without the `azure` feature: set an api_key".into()))
    }
}

/// The first credential the environment configures.
#[cfg(feature = "azure")]
fn chain() -> Result<std::sync::Arc<dyn azure_core::credentials::TokenCredential>, AzureError> {
    use azure_identity::{
        AzureCliCredential, ClientSecretCredential, ManagedIdentityCredential, WorkloadIdentityCredential,
    };
    let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let err = |e: azure_core::Error| AzureError(super::client::error_chain(&e));
    if let (Some(tenant), Some(client), Some(secret)) =
        (var("AZURE_TENANT_ID"), var("AZURE_CLIENT_ID"), var("AZURE_CLIENT_SECRET"))
    {
        return Ok(ClientSecretCredential::new(&tenant, client, secret.into(), None).map_err(err)?);
    }
    if var("AZURE_FEDERATED_TOKEN_FILE").is_some() {
        return Ok(WorkloadIdentityCredential::new(None).map_err(err)?);
    }
    if var("IDENTITY_ENDPOINT").is_some()
        || var("MSI_ENDPOINT").is_some()
        || var("AZURE_USE_MANAGED_IDENTITY").is_some()
    {
        return Ok(ManagedIdentityCredential::new(None).map_err(err)?);
    }
    Ok(AzureCliCredential::new(None).map_err(err)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let b = "https://r.openai.azure.com";
        assert_eq!(
            azure_url(b, Some("2024-10-21"), Dialect::OpenAiChat, "gpt-4o-prod").unwrap(),
            "https://r.openai.azure.com/openai/deployments/gpt-4o-prod/chat/completions?api-version=2024-10-21"
        );
        assert_eq!(
            azure_url(b, None, Dialect::OpenAiResponses, "x").unwrap(),
            "https://r.openai.azure.com/openai/v1/responses"
        );
        assert!(azure_url(b, Some("v"), Dialect::OpenAiChat, "../x").is_err());
        let f = "https://r.services.ai.azure.com";
        assert_eq!(foundry_url(f, None, Dialect::Anthropic), "https://r.services.ai.azure.com/anthropic/v1/messages");
        assert_eq!(
            foundry_url(f, None, Dialect::OpenAiChat),
            "https://r.services.ai.azure.com/models/chat/completions?api-version=2024-05-01-preview"
        );
        assert_eq!(foundry_dialect("claude-opus-4-1"), Dialect::Anthropic);
        assert_eq!(foundry_dialect("DeepSeek-R1"), Dialect::OpenAiChat);
    }
}

//! Which dialect a provider is called in for a given caller, and the upstream URL of a call.
//! Model names reach a URL only for Gemini (`/v1beta/models/{model}:...`), and only after a
//! check that they are a single safe path segment.

use std::sync::OnceLock;

use http::Uri;

use super::registry::{Deployment, Provider};
use crate::config::ProviderKind;
use crate::dialects::bedrock_converse::{is_claude, is_gpt_oss, is_nova};
use crate::ir::{ApiError, Dialect};

/// A model name usable as one URL path segment: letters, digits, `.`, `-`, `_`, `@`, `:` inside.
pub fn check_path_model(model: &str) -> Result<&str, ApiError> {
    let m = model.strip_prefix("models/").unwrap_or(model);
    let ok = !m.is_empty()
        && m != "."
        && m != ".."
        && m.len() <= 200
        && m.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'@'));
    if ok {
        Ok(m)
    } else {
        Err(ApiError::invalid_field("model", format!("\"{model}\" is not a valid model name for this provider")))
    }
}

/// A Bedrock model id or ARN as one URL path segment: ids (`us.anthropic.claude-...-v1:0`) are
/// letters, digits, `.`, `-`, `_`, `:`; an ARN's `/` is percent-encoded, as the AWS SDKs send it.
pub fn check_bedrock_model(model: &str) -> Result<String, ApiError> {
    let ok = !model.is_empty()
        && model != "."
        && model != ".."
        && model.len() <= 2048
        && model.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b':' | b'/'));
    if !ok {
        return Err(ApiError::invalid_field("model", format!("\"{model}\" is not a valid Bedrock model id")));
    }
    Ok(model.replace(':', "%3A").replace('/', "%2F"))
}

/// A provider's model-independent call URLs, made on first use ([`Provider::url`]).
#[derive(Debug, Default)]
pub struct UrlCache([OnceLock<Uri>; 3]);

impl Provider {
    /// The dialect to call this provider in: the caller's own when served (same-dialect path),
    /// else the provider's preferred one (translated path).
    pub fn dialect_for(&self, caller: Dialect) -> Dialect {
        if self.dialects.contains(&caller) { caller } else { self.dialects[0] }
    }

    /// The URL of a model call. Those that depend on neither the model nor streaming (Anthropic,
    /// OpenAI Chat and Responses on a plain base URL) are made once and cloned after (a `Uri`
    /// clone shares its text).
    pub fn url(&self, dialect: Dialect, model: &str, stream: bool) -> Result<Uri, ApiError> {
        let plain = self.preset.kind != ProviderKind::Azure
            && self.preset.kind != ProviderKind::Foundry
            && self.preset.kind != ProviderKind::Bedrock
            && self.vertex.is_none();
        let slot = match dialect {
            Dialect::Anthropic if plain => Some(0),
            Dialect::OpenAiChat if plain => Some(1),
            Dialect::OpenAiResponses if plain => Some(2),
            _ => None,
        };
        if let Some(i) = slot
            && let Some(u) = self.urls.0[i].get()
        {
            return Ok(u.clone());
        }
        let url = self.make_url(dialect, model, stream)?;
        if let Some(i) = slot {
            let _ = self.urls.0[i].set(url.clone());
        }
        Ok(url)
    }

    fn make_url(&self, dialect: Dialect, model: &str, stream: bool) -> Result<Uri, ApiError> {
        let base = &self.base_url;
        let url = match dialect {
            _ if self.preset.kind == ProviderKind::Azure => {
                super::azure::azure_url(base, self.api_version.as_deref(), dialect, model)?
            }
            _ if self.preset.kind == ProviderKind::Foundry => {
                super::azure::foundry_url(base, self.api_version.as_deref(), dialect)
            }
            _ if self.vertex.is_some() => {
                let site = self.vertex.as_ref().ok_or_else(|| ApiError::invalid_field("model", "no site"))?;
                super::vertex::url(site, base, dialect, model, super::vertex::Op::Generate(stream))?
            }
            // Claude on Bedrock by InvokeModel.
            Dialect::Anthropic if self.preset.kind == ProviderKind::Bedrock => {
                let m = check_bedrock_model(model)?;
                let method = if stream { "invoke-with-response-stream" } else { "invoke" };
                format!("{base}/model/{m}/{method}")
            }
            Dialect::Anthropic => format!("{base}/v1/messages"),
            Dialect::OpenAiChat => format!("{base}/chat/completions"),
            Dialect::OpenAiResponses => format!("{base}/responses"),
            Dialect::Gemini => {
                let m = check_path_model(model)?;
                let method = if stream { "streamGenerateContent?alt=sse" } else { "generateContent" };
                format!("{base}/v1beta/models/{m}:{method}")
            }
            Dialect::BedrockConverse => {
                let m = check_bedrock_model(model)?;
                let method = if stream { "converse-stream" } else { "converse" };
                format!("{base}/model/{m}/{method}")
            }
        };
        url.parse().map_err(|_| ApiError::invalid_field("model", "does not form a valid upstream URL"))
    }
}

impl Deployment {
    /// The request parameters this deployment takes: its provider's, except on Bedrock, where
    /// they depend on the model family: Claude takes the sampling parameters Anthropic's
    /// Messages API takes (none), whichever operation carries the call (Converse would put them
    /// in `inferenceConfig`, and Claude refuses them there as on Anthropic's API); reasoning has
    /// a field only for Claude, Nova and gpt-oss, so for other families it is reported dropped.
    pub fn caps(&self) -> crate::policy::Caps {
        let caps = self.provider.caps;
        if self.provider.preset.kind != ProviderKind::Bedrock {
            return caps;
        }
        let m = self.model.as_str();
        let reasoning = caps.reasoning && (is_claude(m) || is_nova(m) || is_gpt_oss(m));
        if !is_claude(m) {
            return crate::policy::Caps { reasoning, ..caps };
        }
        let claude = crate::policy::Caps::of(Dialect::Anthropic);
        crate::policy::Caps {
            temperature: caps.temperature && claude.temperature,
            top_p: caps.top_p && claude.top_p,
            top_k: caps.top_k && claude.top_k,
            reasoning,
            ..caps
        }
    }

    /// The dialect to call this deployment in: its provider's choice, except that on Bedrock only
    /// Claude models take Anthropic bodies (InvokeModel); other families go through Converse.
    pub fn dialect_for(&self, caller: Dialect) -> Dialect {
        // On Vertex the model's family decides: Claude by rawPredict, `publisher/model` by the
        // OpenAI-compatible endpoint, the rest (Gemini) by generateContent.
        if self.provider.preset.kind == ProviderKind::Vertex {
            return super::vertex::dialect_of(&self.model);
        }
        // On Foundry, Claude by the Anthropic API, every other model by model inference (Chat).
        if self.provider.preset.kind == ProviderKind::Foundry {
            return super::azure::foundry_dialect(&self.model);
        }
        let d = self.provider.dialect_for(caller);
        if d == Dialect::Anthropic && self.provider.preset.kind == ProviderKind::Bedrock && !is_claude(&self.model) {
            Dialect::BedrockConverse
        } else {
            d
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_models_are_single_safe_segments() {
        assert_eq!(check_path_model("models/gemini-2.5-pro").unwrap(), "gemini-2.5-pro");
        for bad in ["../x", "a/b", "a?b", "a#b", "x%2f", "", "..", "host.evil:443@"] {
            assert!(check_path_model(bad).is_err(), "{bad}");
        }
    }
}

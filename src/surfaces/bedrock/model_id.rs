//! Bedrock model ids as callers send them -> the model name amux routes.
//!
//! Callers name a model by a foundation model id (`anthropic.claude-sonnet-4-5-20250929-v1:0`), a
//! cross-region inference profile (`us.` / `eu.` / `apac.` / `global.` ... in front of it), or an
//! ARN of either (URL-encoded in the path; axum decodes it). The first of these that routes wins:
//!
//! 1. the id exactly as sent (an alias named by a full ARN or profile id);
//! 2. the id inside an ARN (`.../inference-profile/us.anthropic...` -> `us.anthropic...`);
//! 3. that id without its region prefix (`anthropic.claude-...-v1:0`);
//! 4. for Anthropic models, the Claude API name (`claude-sonnet-4-5-20250929`: `anthropic.` and
//!    the `-v1:0` version suffix removed), which routes like any Claude name (an alias, or the
//!    `anthropic` provider).
//!
//! So a configured alias always overrides the shipped mapping. [`CLAUDE_MODELS`] lists the
//! current Claude models on Bedrock (what `GET /bedrock/inference-profiles` offers); the mapping
//! itself is the rule in 4, so ids of newer models map without a table update.

use crate::providers::Registry;

pub use crate::providers::bedrock_models::CLAUDE_MODELS;

/// Region prefixes of cross-region inference profiles.
const REGION_PREFIXES: &[&str] = &["us.", "eu.", "apac.", "global.", "us-gov.", "jp.", "au.", "ca."];

/// The resource id inside an ARN (`arn:aws:bedrock:us-east-1:123:inference-profile/ID`), or the
/// input when it is not one.
pub fn strip_arn(id: &str) -> &str {
    if id.starts_with("arn:") { id.rsplit_once('/').map_or(id, |(_, rest)| rest) } else { id }
}

/// A profile id without its region prefix.
pub fn strip_region(id: &str) -> &str {
    REGION_PREFIXES.iter().find_map(|p| id.strip_prefix(p)).unwrap_or(id)
}

/// The Claude API name of an Anthropic foundation model id (`anthropic.claude-x-v1:0` ->
/// `claude-x`); `None` for other families.
pub fn claude_name(base: &str) -> Option<String> {
    let rest = base.strip_prefix("anthropic.")?;
    if !rest.starts_with("claude-") {
        return None;
    }
    // Drop `-v<digits>` and an optional `:<digits>` at the end.
    let cut = match rest.rfind("-v") {
        Some(i) => {
            let tail = &rest[i + 2..];
            let (major, minor) = tail.split_once(':').unwrap_or((tail, "0"));
            let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
            if digits(major) && digits(minor) { i } else { rest.len() }
        }
        None => rest.len(),
    };
    Some(rest[..cut].to_string())
}

/// The model name to route for a Bedrock model id (see the module doc); the ARN's resource id
/// when nothing routes, so that the 404 names what the caller meant.
pub fn resolve(registry: &Registry, id: &str) -> String {
    let routes = |name: &str| registry.resolve(name).is_ok();
    if routes(id) {
        return id.to_string();
    }
    let inner = strip_arn(id);
    if routes(inner) {
        return inner.to_string();
    }
    let base = strip_region(inner);
    if routes(base) {
        return base.to_string();
    }
    match claude_name(base) {
        Some(name) if routes(&name) => name,
        _ => inner.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::parse_str;

    #[test]
    fn ids_profiles_and_arns() {
        assert_eq!(
            claude_name("anthropic.claude-sonnet-4-5-20250929-v1:0").as_deref(),
            Some("claude-sonnet-4-5-20250929")
        );
        assert_eq!(
            claude_name("anthropic.claude-3-5-sonnet-20241022-v2:0").as_deref(),
            Some("claude-3-5-sonnet-20241022")
        );
        assert_eq!(claude_name("anthropic.claude-opus-4-6-v1").as_deref(), Some("claude-opus-4-6"));
        assert_eq!(claude_name("meta.llama3-70b-instruct-v1:0"), None);
        for (id, name) in CLAUDE_MODELS {
            assert_eq!(claude_name(id).as_deref(), Some(*name));
        }
        let arn =
            "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-haiku-4-5-20251001-v1:0";
        assert_eq!(strip_arn(arn), "us.anthropic.claude-haiku-4-5-20251001-v1:0");
        assert_eq!(strip_region(strip_arn(arn)), "anthropic.claude-haiku-4-5-20251001-v1:0");
        assert_eq!(strip_region("global.anthropic.claude-x"), "anthropic.claude-x");
    }

    #[test]
    fn aliases_win_over_the_claude_mapping() {
        let cfg = parse_str(
            "discover_env: false\nproviders:\n  anthropic: {kind: anthropic, api_key: a}\n  groq: {kind: groq, api_key: g}\nmodels:\n  - {name: 'eu.anthropic.claude-haiku-4-5-20251001-v1:0', provider: groq, model: llama}\n  - {name: 'meta.llama3-3-70b-instruct-v1:0', provider: groq, model: llama}\n",
        )
        .unwrap();
        let reg = Registry::build(&cfg, &|_| None).unwrap();
        assert_eq!(resolve(&reg, "us.anthropic.claude-sonnet-4-5-20250929-v1:0"), "claude-sonnet-4-5-20250929");
        assert_eq!(
            resolve(&reg, "eu.anthropic.claude-haiku-4-5-20251001-v1:0"),
            "eu.anthropic.claude-haiku-4-5-20251001-v1:0"
        );
        assert_eq!(
            resolve(&reg, "arn:aws:bedrock:us-west-2::foundation-model/meta.llama3-3-70b-instruct-v1:0"),
            "meta.llama3-3-70b-instruct-v1:0"
        );
        assert_eq!(resolve(&reg, "us.meta.llama3-3-70b-instruct-v1:0"), "meta.llama3-3-70b-instruct-v1:0");
        assert_eq!(resolve(&reg, "arn:aws:bedrock:us-east-1:1:application-inference-profile/abc"), "abc");
    }
}

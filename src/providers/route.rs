//! Model name -> provider + upstream model: an alias from config; else `provider/model`; else a
//! bare `claude-*` name to the `anthropic` provider and `gpt-*` / `o<digit>*` / `chatgpt-*` names
//! to `openai`. Anything else is a 404 listing what is routable.

use std::sync::Arc;

use super::registry::{Alias, Registry};
use crate::ir::{ApiError, ErrorKind};

fn is_openai_model(name: &str) -> bool {
    let b = name.as_bytes();
    name.starts_with("gpt-") || name.starts_with("chatgpt-") || (b.len() >= 2 && b[0] == b'o' && b[1].is_ascii_digit())
}

/// Model names are data, but refuse anything that could not be one (control characters, absurd
/// length) before it is used anywhere.
fn check_name(model: &str) -> Result<(), ApiError> {
    if model.is_empty() {
        return Err(ApiError::invalid_field("model", "must not be empty"));
    }
    if model.len() > 256 || model.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(ApiError::invalid_field("model", "not a valid model name"));
    }
    Ok(())
}

impl Registry {
    /// Routes a model name to its alias (configured, or made up for a direct name).
    pub fn resolve(&self, model: &str) -> Result<Arc<Alias>, ApiError> {
        check_name(model)?;
        if let Some(a) = self.aliases.get(model) {
            return Ok(a.clone());
        }
        if let Some((p, rest)) = model.split_once('/')
            && let Some(provider) = self.providers.get(p)
            && !rest.is_empty()
        {
            return Ok(Arc::new(Alias::direct(model, provider.clone(), rest)));
        }
        let default = if model.starts_with("claude-") {
            self.providers.get("anthropic")
        } else if is_openai_model(model) {
            self.providers.get("openai")
        } else {
            None
        };
        if let Some(provider) = default {
            return Ok(Arc::new(Alias::direct(model, provider.clone(), model)));
        }
        let mut e =
            ApiError::new(ErrorKind::NotFound, format!("model \"{model}\" not found. {}", self.routable_summary()));
        e.param = Some("model".into());
        Err(e)
    }

    /// One sentence listing what is routable, for 404 messages.
    pub fn routable_summary(&self) -> String {
        let aliases: Vec<&str> = self.aliases.keys().map(|s| s.as_str()).collect();
        let providers: Vec<String> = self.providers.keys().map(|p| format!("{p}/<model>")).collect();
        let mut s =
            format!("Routable: aliases [{}]; provider/model names [{}]", aliases.join(", "), providers.join(", "));
        if self.providers.contains_key("anthropic") {
            s.push_str("; claude-* (anthropic)");
        }
        if self.providers.contains_key("openai") {
            s.push_str("; gpt-*, o1/o3/o4-* (openai)");
        }
        s
    }

    /// Every model id to list on `GET /v1/models`: the aliases, then `provider/*` patterns are not
    /// listable, so only aliases are returned.
    pub fn listed_models(&self) -> Vec<(&str, &str)> {
        self.aliases
            .iter()
            .map(|(name, a)| (name.as_str(), a.deployments.first().map(|d| d.provider.name.as_str()).unwrap_or("")))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::parse_str;

    fn reg() -> Registry {
        let cfg = parse_str(
            "discover_env: false\nproviders:\n  anthropic: {kind: anthropic, api_key: a}\n  openai: {kind: openai, api_key: o}\n  groq: {kind: groq, api_key: g}\n  openrouter: {kind: openrouter, api_key: r}\nmodels:\n  - {name: fast, provider: groq, model: llama-3.3-70b-versatile}\n",
        )
        .unwrap();
        Registry::build(&cfg, &|_| None).unwrap()
    }

    #[test]
    fn routes_in_order() {
        let r = reg();
        let route =
            |m: &str| r.resolve(m).map(|a| (a.deployments[0].provider.name.clone(), a.deployments[0].model.clone()));
        assert_eq!(route("fast").unwrap(), ("groq".into(), "llama-3.3-70b-versatile".into()));
        assert_eq!(route("groq/llama-3.1-8b-instant").unwrap(), ("groq".into(), "llama-3.1-8b-instant".into()));
        assert_eq!(
            route("openrouter/anthropic/claude-sonnet-4.5").unwrap(),
            ("openrouter".into(), "anthropic/claude-sonnet-4.5".into())
        );
        assert_eq!(route("claude-sonnet-4-5").unwrap(), ("anthropic".into(), "claude-sonnet-4-5".into()));
        assert_eq!(route("gpt-5").unwrap(), ("openai".into(), "gpt-5".into()));
        assert_eq!(route("o3-mini").unwrap(), ("openai".into(), "o3-mini".into()));
    }

    #[test]
    fn unknown_is_404_listing_routable() {
        let e = reg().resolve("llama3").unwrap_err();
        assert_eq!(e.status, 404);
        assert!(
            e.message.contains("\"llama3\"") && e.message.contains("fast") && e.message.contains("groq/<model>"),
            "{}",
            e.message
        );
        assert_eq!(reg().resolve("nope/x").unwrap_err().status, 404);
        assert_eq!(reg().resolve("groq/").unwrap_err().status, 404);
    }

    #[test]
    fn hostile_names_are_refused() {
        assert_eq!(reg().resolve("a\r\nHost: evil").unwrap_err().status, 400);
        assert_eq!(reg().resolve("").unwrap_err().status, 400);
    }
}

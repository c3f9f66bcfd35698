//! Loading a config file: YAML (or JSON) text -> [`Config`], collecting every error with its path
//! (`models[2].provider: unknown provider "antrhopic"`) instead of stopping at the first.

use std::fmt;

use serde::de::DeserializeOwned;
use serde_json::Value;

use super::types::{Config, ModelAlias, ProviderConfig};
use crate::providers::presets;

/// One problem in a config file, at a path such as `providers.groq.kind`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub path: String,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() { write!(f, "{}", self.message) } else { write!(f, "{}: {}", self.path, self.message) }
    }
}

/// Every problem found in a config file.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{}", self.0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n"))]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl ConfigErrors {
    /// Low-cardinality label for logs and metrics.
    pub fn label(&self) -> &'static str {
        "config_invalid"
    }
}

fn err(path: impl Into<String>, message: impl Into<String>) -> ConfigError {
    ConfigError { path: path.into(), message: message.into() }
}

/// Reads and parses a config file.
pub fn load_file(path: &std::path::Path) -> Result<Config, ConfigErrors> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| ConfigErrors(vec![err("", format!("cannot read {}: {e}", path.display()))]))?;
    parse_str(&text)
}

/// Parses config text (YAML, of which JSON is a subset) and validates it.
pub fn parse_str(text: &str) -> Result<Config, ConfigErrors> {
    let value: Value = if text.trim().is_empty() {
        Value::Object(Default::default())
    } else {
        serde_norway::from_str(text).map_err(|e| ConfigErrors(vec![err("", format!("not valid YAML/JSON: {e}"))]))?
    };
    let Value::Object(mut top) = value else {
        return Err(ConfigErrors(vec![err("", "the config must be a mapping")]));
    };
    let mut errors = Vec::new();

    // Sections are decoded one item at a time so that one bad item does not hide the others.
    let mut providers = std::collections::BTreeMap::new();
    match top.remove("providers") {
        None | Some(Value::Null) => {}
        Some(Value::Object(map)) => {
            for (name, v) in map {
                if let Some(p) = decode::<ProviderConfig>(&format!("providers.{name}"), v, &mut errors) {
                    providers.insert(name, p);
                }
            }
        }
        Some(_) => errors.push(err("providers", "must be a mapping of provider name to provider")),
    }
    let mut models = Vec::new();
    match top.remove("models") {
        None | Some(Value::Null) => {}
        Some(Value::Array(items)) => {
            for (i, v) in items.into_iter().enumerate() {
                if let Some(m) = decode::<ModelAlias>(&format!("models[{i}]"), v, &mut errors) {
                    models.push((i, m));
                }
            }
        }
        Some(_) => errors.push(err("models", "must be a list of model aliases")),
    }
    let mut config = decode::<Config>("", Value::Object(top), &mut errors).unwrap_or_default();

    for (name, p) in &providers {
        if name.is_empty() || name.contains(['/', ' ']) {
            errors.push(err(format!("providers.{name}"), "provider names must be non-empty, without '/' or spaces"));
        }
        if p.api_key.is_some() && p.api_key_file.is_some() {
            errors.push(err(format!("providers.{name}"), "set api_key or api_key_file, not both"));
        }
        let t = &p.timeouts;
        for (field, v) in
            [("connect_secs", t.connect_secs), ("response_secs", t.response_secs), ("idle_secs", t.idle_secs)]
        {
            if !(v > 0.0 && v.is_finite()) {
                errors.push(err(format!("providers.{name}.timeouts.{field}"), "must be a positive number"));
            }
        }
    }
    let mut seen = std::collections::HashMap::new();
    let known = |p: &str| providers.contains_key(p) || presets::find(p).is_some();
    for (i, m) in &models {
        let single = m.provider.iter().map(|p| (format!("models[{i}].provider"), p.as_str(), m.model.as_deref()));
        let many = m.deployments.iter().enumerate().map(|(j, d)| {
            (format!("models[{i}].deployments[{j}].provider"), d.provider.as_str(), Some(d.model.as_str()))
        });
        for (path, p, model) in single.chain(many) {
            if !known(p) {
                errors.push(err(path.clone(), format!("unknown provider \"{p}\"")));
            }
            if model.is_some_and(|m| m.trim().is_empty()) {
                errors.push(err(path.replace(".provider", ".model"), "must not be empty"));
            }
        }
        if m.name.trim().is_empty() {
            errors.push(err(format!("models[{i}].name"), "must not be empty"));
        }
        if m.provider.is_some() != m.model.is_some() {
            let missing = if m.model.is_none() { "model" } else { "provider" };
            errors.push(err(format!("models[{i}].{missing}"), "is required with provider/model (or use deployments)"));
        } else if m.provider.is_none() && m.deployments.is_empty() {
            errors.push(err(format!("models[{i}]"), "needs provider and model, or deployments"));
        }
        if let Some(first) = seen.insert(m.name.clone(), *i) {
            errors.push(err(
                format!("models[{i}].name"),
                format!("duplicate alias \"{}\" (also models[{first}])", m.name),
            ));
        }
    }
    if let Some(listen) = &config.listen
        && listen.parse::<std::net::SocketAddr>().is_err()
    {
        errors.push(err("listen", format!("\"{listen}\" is not an address such as 127.0.0.1:8484")));
    }
    check_observability(&config, &mut errors);
    for (field, message) in config.lifecycle.problems() {
        errors.push(err(format!("lifecycle.{field}"), message));
    }
    for (field, message) in config.limits.problems() {
        errors.push(err(format!("limits.{field}"), message));
    }
    if !errors.is_empty() {
        return Err(ConfigErrors(errors));
    }
    config.providers = providers;
    config.models = models.into_iter().map(|(_, m)| m).collect();
    Ok(config)
}

/// Metrics, tracing and budget settings that types alone cannot check.
fn check_observability(config: &Config, errors: &mut Vec<ConfigError>) {
    if !config.metrics.path.starts_with('/') {
        errors.push(err("metrics.path", "must start with /"));
    }
    if let Some(l) = &config.metrics.listen
        && l.parse::<std::net::SocketAddr>().is_err()
    {
        errors.push(err("metrics.listen", format!("\"{l}\" is not an address such as 0.0.0.0:9464")));
    }
    if !(0.0..=1.0).contains(&config.tracing.sample_ratio) {
        errors.push(err("tracing.sample_ratio", "must be between 0 and 1"));
    }
    let budgets = config.keys.iter().enumerate().map(|(i, k)| (format!("keys[{i}].budget"), k.budget));
    let teams = config.teams.iter().map(|(n, t)| (format!("teams.{n}.budget"), t.budget));
    for (path, b) in budgets.chain(teams) {
        let Some(b) = b else { continue };
        for (field, v) in [("daily_usd", b.daily_usd), ("monthly_usd", b.monthly_usd)] {
            if v.is_some_and(|v| !(v > 0.0 && v.is_finite())) {
                errors.push(err(format!("{path}.{field}"), "must be a positive number of USD"));
            }
        }
    }
}

fn decode<T: DeserializeOwned>(path: &str, v: Value, errors: &mut Vec<ConfigError>) -> Option<T> {
    match serde_path_to_error::deserialize::<_, T>(v) {
        Ok(t) => Some(t),
        Err(e) => {
            let inner = e.path().to_string();
            let full = match (path.is_empty(), inner == ".") {
                (true, _) => inner,
                (false, true) => path.to_string(),
                (false, false) if inner.starts_with('[') => format!("{path}{inner}"),
                (false, false) => format!("{path}.{inner}"),
            };
            errors.push(err(if full == "." { String::new() } else { full }, e.into_inner().to_string()));
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_every_error_with_its_path() {
        let text = r#"
providers:
  anth: {kind: anthropic}
  bad: {kind: antrhopic}
  slow: {kind: openai, timeouts: {connect_secs: 0}}
models:
  - {name: a, provider: anth, model: m}
  - {name: b, provider: anth, model: m, extra: 1}
  - {name: c, provider: antrhopic, model: m}
  - {name: a, provider: anth, model: m}
listen: "nope"
"#;
        let errs = parse_str(text).unwrap_err().0;
        let lines: Vec<String> = errs.iter().map(|e| e.to_string()).collect();
        let has = |p: &str| lines.iter().any(|l| l.starts_with(p));
        assert!(has("providers.bad.kind: unknown variant `antrhopic`"), "{lines:?}");
        assert!(has("providers.slow.timeouts.connect_secs: must be a positive number"), "{lines:?}");
        assert!(has("models[1].extra: unknown field `extra`"), "{lines:?}");
        assert!(lines.contains(&"models[2].provider: unknown provider \"antrhopic\"".to_string()), "{lines:?}");
        assert!(has("models[3].name: duplicate alias \"a\""), "{lines:?}");
        assert!(has("listen: \"nope\""), "{lines:?}");
    }

    #[test]
    fn observability_settings_are_checked() {
        let text = "metrics: {path: metrics, listen: nope}\ntracing: {sample_ratio: 2}\nteams:\n  red: {budget: {daily_usd: 0}}\n";
        let lines: Vec<String> = parse_str(text).unwrap_err().0.iter().map(|e| e.to_string()).collect();
        for want in ["metrics.path", "metrics.listen", "tracing.sample_ratio", "teams.red.budget.daily_usd"] {
            assert!(lines.iter().any(|l| l.starts_with(want)), "{want}: {lines:?}");
        }
    }

    #[test]
    fn lifecycle_settings_are_checked() {
        let text = "lifecycle: {shutdown_delay_secs: 10, drain_timeout_secs: 5, watch_interval_secs: -1}\n";
        let lines: Vec<String> = parse_str(text).unwrap_err().0.iter().map(|e| e.to_string()).collect();
        assert!(
            lines.contains(&"lifecycle.drain_timeout_secs: must be longer than shutdown_delay_secs".into()),
            "{lines:?}"
        );
        assert!(lines.iter().any(|l| l.starts_with("lifecycle.watch_interval_secs")), "{lines:?}");
        parse_str("lifecycle: {shutdown_delay_secs: 5, drain_timeout_secs: 60, watch_interval_secs: 0}\n").unwrap();
    }

    #[test]
    fn empty_file_is_the_default() {
        let c = parse_str("").unwrap();
        assert!(c.providers.is_empty() && c.models.is_empty() && c.discover_env);
    }

    #[test]
    fn json_is_accepted() {
        let c =
            parse_str(r#"{"providers": {"o": {"kind": "openai", "base_url": "http://x/v1"}}, "models": []}"#).unwrap();
        assert_eq!(c.providers["o"].base_url.as_deref(), Some("http://x/v1"));
    }

    #[test]
    fn preset_names_are_valid_model_providers() {
        parse_str("models:\n  - {name: fast, provider: groq, model: llama-3.3-70b-versatile}\n").unwrap();
    }
}

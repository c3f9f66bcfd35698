//! The provider registry: configured providers, presets discovered from the environment, and
//! model aliases, resolved once at startup (keys read, `${ENV}` expanded, URLs checked).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use http::{HeaderName, HeaderValue, Uri};
use serde_json::{Map, Value};

use super::aws::AwsAuth;
use super::azure::AzureAuth;
use super::cloud_config::{bedrock_auth, cloud_from_env, foreign_fields, vertex_side};
use super::gcp::GcpAuth;
use super::presets::{self, Preset};
use super::secret::Secret;
use super::vertex::{self, Site};
use crate::config::{
    Config, ConfigError, ConfigErrors, DeploymentConfig, ModelAlias, OpenAiApi, ProviderConfig, ProviderKind, Strategy,
    Timeouts, TranslationMode,
};
use crate::ir::Dialect;
use crate::policy::Caps;
use crate::redact::Redactor;

/// One upstream API, ready to call.
#[derive(Debug)]
pub struct Provider {
    pub name: String,
    pub preset: &'static Preset,
    /// Dialects this provider serves; the first is used for translated calls.
    pub dialects: Vec<Dialect>,
    /// Base URL without a trailing slash (checked to be an http(s) URL with a host).
    pub base_url: String,
    pub api_key: Option<Secret>,
    pub headers: Vec<(HeaderName, HeaderValue)>,
    pub connect_timeout: Duration,
    pub response_timeout: Duration,
    pub idle_timeout: Duration,
    pub params: Map<String, Value>,
    /// Request parameters it takes (its preset's, overridden by `accepts` in config).
    pub caps: Caps,
    /// Where it came from: `config` or `env`.
    pub source: &'static str,
    /// AWS region and credentials for SigV4 (`bedrock` without an API key).
    pub aws: Option<Arc<AwsAuth>>,
    /// The AWS region of a `bedrock` provider (with or without an API key).
    pub region: Option<String>,
    /// Scrubs every configured provider credential out of upstream error text (shared by all
    /// providers of a registry: [`Registry::build`] fills it in).
    pub redact: Arc<Redactor>,
    /// Google tokens (`vertex`).
    pub gcp: Option<Arc<GcpAuth>>,
    /// Project and location (`vertex`).
    pub vertex: Option<Site>,
    /// Path prefixes raw passthrough may reach (`None`: any).
    pub passthrough_paths: Option<Vec<String>>,
    /// Microsoft Entra ID tokens (`azure` / `foundry` without an API key).
    pub azure: Option<Arc<AzureAuth>>,
    /// The API version (`azure` deployment paths, `foundry` model inference).
    pub api_version: Option<String>,
    /// Call URLs made once (set by [`Provider::url`]; `base_url` is not changed after).
    pub urls: super::endpoint::UrlCache,
}

impl Provider {
    /// The model string this provider is called with for a configured model: on Bedrock a
    /// Claude API name becomes its inference profile ([`super::bedrock_models`]); elsewhere, and
    /// for every other name, the model as written.
    pub fn upstream_model(&self, model: &str) -> String {
        match &self.region {
            Some(region) if self.preset.kind == ProviderKind::Bedrock => {
                super::bedrock_models::upstream_id(model, region)
            }
            _ => model.to_string(),
        }
    }

    /// The credentials this provider sends (or signs with): its key, credential-like headers,
    /// static AWS keys.
    pub fn credentials(&self) -> Vec<String> {
        let mut out: Vec<String> = self.api_key.iter().map(|k| k.expose().to_string()).collect();
        for (name, value) in &self.headers {
            let n = name.as_str();
            let credential = ["auth", "key", "token", "secret", "password", "cookie"].iter().any(|w| n.contains(w));
            if let (true, Ok(v)) = (credential, value.to_str()) {
                out.push(v.to_string());
                // `Bearer x`: the value alone too.
                if let Some((_, rest)) = v.split_once(' ') {
                    out.push(rest.trim().to_string());
                }
            }
        }
        if let Some(aws) = &self.aws {
            out.extend(aws.static_secrets());
        }
        out
    }
}

/// One upstream model serving an alias.
#[derive(Debug)]
pub struct Deployment {
    /// Stable id for stats, cooldown and limits: `provider/model`.
    pub id: String,
    pub provider: Arc<Provider>,
    pub model: String,
    /// `model` as JSON text (quoted and escaped), spliced as it is into same-dialect bodies.
    pub model_json: String,
    /// Provider, alias and deployment params, merged in that order.
    pub params: Map<String, Value>,
    pub weight: f64,
    pub rpm: Option<u64>,
    pub tpm: Option<u64>,
    pub response_timeout: Duration,
}

/// A model name callers send, resolved: deployments and what to do when they fail.
#[derive(Debug)]
pub struct Alias {
    pub name: String,
    pub deployments: Vec<Arc<Deployment>>,
    pub strategy: Strategy,
    pub fallbacks: Vec<String>,
    pub context_window_fallback: Option<String>,
    pub rpm: Option<u64>,
    pub tpm: Option<u64>,
    pub cache: bool,
    /// `translation` of the alias; `None` follows the gateway's.
    pub translation: Option<TranslationMode>,
    /// Configured in `models` (true) or made up for a `provider/model` or bare name (false).
    pub configured: bool,
}

/// `s` as a JSON string.
fn json_string(s: &str) -> String {
    serde_json::Value::String(s.to_string()).to_string()
}

impl Alias {
    /// An alias of one deployment, for names that are not configured aliases.
    pub fn direct(name: &str, provider: Arc<Provider>, model: &str) -> Alias {
        let upstream = provider.upstream_model(model);
        let deployment = Deployment {
            id: format!("{}/{model}", provider.name),
            params: provider.params.clone(),
            response_timeout: provider.response_timeout,
            model_json: json_string(&upstream),
            model: upstream,
            provider,
            weight: 1.0,
            rpm: None,
            tpm: None,
        };
        Alias {
            name: name.to_string(),
            deployments: vec![Arc::new(deployment)],
            strategy: Strategy::Weighted,
            fallbacks: Vec::new(),
            context_window_fallback: None,
            rpm: None,
            tpm: None,
            cache: false,
            translation: None,
            configured: false,
        }
    }
}

/// All providers and aliases.
#[derive(Debug, Default)]
pub struct Registry {
    pub providers: BTreeMap<String, Arc<Provider>>,
    pub aliases: BTreeMap<String, Arc<Alias>>,
    /// The gateway's `translation` mode (aliases and requests may make it strict).
    pub translation: TranslationMode,
    /// Every provider's credentials, to scrub from upstream error text.
    pub redact: Arc<Redactor>,
}

pub(super) fn err(path: impl Into<String>, message: impl Into<String>) -> ConfigError {
    ConfigError { path: path.into(), message: message.into() }
}

/// Expands `${VAR}` references.
pub fn expand_env(s: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<String, String> {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after.find('}').ok_or_else(|| format!("unterminated ${{ in \"{s}\""))?;
        let var = &after[..end];
        let value = env(var).ok_or_else(|| format!("environment variable {var} is not set"))?;
        out.push_str(&value);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

fn check_base(base: &str) -> Result<(), String> {
    let uri: Uri = base.parse().map_err(|e| format!("\"{base}\" is not a valid URL: {e}"))?;
    match uri.scheme_str() {
        Some("http" | "https") if uri.host().is_some() && uri.query().is_none() => Ok(()),
        _ => Err(format!("\"{base}\" must be an http:// or https:// URL without a query")),
    }
}

pub(super) fn secs(v: f64) -> Duration {
    Duration::from_secs_f64(v.max(0.001))
}

impl Registry {
    /// Builds the registry from a config and an environment (injected for tests).
    pub fn build(config: &Config, env: &dyn Fn(&str) -> Option<String>) -> Result<Registry, ConfigErrors> {
        let mut errors = Vec::new();
        let mut reg = Registry { translation: config.translation, ..Registry::default() };
        for (name, pc) in &config.providers {
            match provider_from_config(name, pc, env) {
                Ok(p) => {
                    reg.providers.insert(name.clone(), Arc::new(p));
                }
                Err(mut e) => errors.append(&mut e),
            }
        }
        if config.discover_env {
            for preset in presets::PRESETS {
                if reg.providers.contains_key(preset.name) {
                    continue;
                }
                // The clouds are discovered from their own variables (a region, a project).
                if matches!(preset.kind, ProviderKind::Bedrock | ProviderKind::Vertex) {
                    if let Some(p) = cloud_from_env(preset, env) {
                        reg.providers.insert(preset.name.to_string(), Arc::new(p));
                    }
                    continue;
                }
                if let Some(p) = provider_from_env(preset, env) {
                    reg.providers.insert(preset.name.to_string(), Arc::new(p));
                }
            }
        }
        // One redactor with every provider's credentials, shared by all of them (the providers
        // were just built: nothing else holds them yet).
        reg.redact = Arc::new(Redactor::new(reg.providers.values().flat_map(|p| p.credentials())));
        for p in reg.providers.values_mut() {
            if let Some(p) = Arc::get_mut(p) {
                p.redact = reg.redact.clone();
            }
        }
        for (i, m) in config.models.iter().enumerate() {
            match alias_from_config(&reg, i, m) {
                Ok(a) => {
                    reg.aliases.insert(m.name.clone(), Arc::new(a));
                }
                Err(mut e) => errors.append(&mut e),
            }
        }
        for (i, m) in config.models.iter().enumerate() {
            let targets = m.fallbacks.iter().enumerate().map(|(j, f)| (format!("models[{i}].fallbacks[{j}]"), f));
            let ctx = m.context_window_fallback.iter().map(|f| (format!("models[{i}].context_window_fallback"), f));
            for (path, target) in targets.chain(ctx) {
                if !reg.aliases.contains_key(target) {
                    errors.push(err(path, format!("unknown model alias \"{target}\"")));
                }
            }
        }
        if errors.is_empty() { Ok(reg) } else { Err(ConfigErrors(errors)) }
    }
}

fn alias_from_config(reg: &Registry, i: usize, m: &ModelAlias) -> Result<Alias, Vec<ConfigError>> {
    let mut errors = Vec::new();
    let mut specs: Vec<(String, DeploymentConfig)> = Vec::new();
    match (&m.provider, &m.model) {
        (Some(p), Some(model)) => specs.push((
            format!("models[{i}]"),
            DeploymentConfig {
                provider: p.clone(),
                model: model.clone(),
                weight: 1.0,
                rpm: None,
                tpm: None,
                timeout_secs: None,
                params: Map::new(),
                price: None,
            },
        )),
        (None, None) => {}
        _ => errors.push(err(format!("models[{i}]"), "set both provider and model, or deployments")),
    }
    specs.extend(m.deployments.iter().enumerate().map(|(j, d)| (format!("models[{i}].deployments[{j}]"), d.clone())));
    if specs.is_empty() && errors.is_empty() {
        errors.push(err(format!("models[{i}]"), "needs provider and model, or deployments"));
    }
    let mut deployments = Vec::new();
    for (path, d) in specs {
        let Some(p) = reg.providers.get(&d.provider) else {
            let msg = if presets::find(&d.provider).is_some() {
                format!("provider \"{}\" is not configured and its key variable is not set", d.provider)
            } else {
                format!("unknown provider \"{}\"", d.provider)
            };
            errors.push(err(format!("{path}.provider"), msg));
            continue;
        };
        if !(d.weight >= 0.0 && d.weight.is_finite()) {
            errors.push(err(format!("{path}.weight"), "must be a non-negative number"));
        }
        let mut params = p.params.clone();
        params.extend(m.params.clone());
        params.extend(d.params.clone());
        let upstream = p.upstream_model(&d.model);
        deployments.push(Arc::new(Deployment {
            id: format!("{}/{}", p.name, d.model),
            provider: p.clone(),
            model_json: json_string(&upstream),
            model: upstream,
            params,
            weight: d.weight,
            rpm: d.rpm,
            tpm: d.tpm,
            response_timeout: d.timeout_secs.map(secs).unwrap_or(p.response_timeout),
        }));
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Alias {
        name: m.name.clone(),
        deployments,
        strategy: m.strategy,
        fallbacks: m.fallbacks.clone(),
        context_window_fallback: m.context_window_fallback.clone(),
        rpm: m.rpm,
        tpm: m.tpm,
        cache: m.cache,
        translation: m.translation,
        configured: true,
    })
}

fn provider_from_env(preset: &'static Preset, env: &dyn Fn(&str) -> Option<String>) -> Option<Provider> {
    let key = preset.key_vars.iter().find_map(|v| env(v).filter(|s| !s.is_empty()));
    if key.is_none() && !preset.keyless {
        return None;
    }
    let base = match preset.base_url_var.and_then(|v| env(v).filter(|s| !s.is_empty())) {
        Some(v) => presets::base_url_from_env(preset, &v),
        None => preset.base_url.to_string(),
    };
    check_base(&base).ok()?;
    let api_version =
        (preset.kind == ProviderKind::Azure).then(|| env("OPENAI_API_VERSION")).flatten().filter(|v| !v.is_empty());
    Some(Provider { api_version, ..Provider::discovered(preset, base, key) })
}

impl Provider {
    /// A provider found in the environment: the preset's defaults, `base` and `key`, no cloud
    /// side (callers add theirs).
    pub(super) fn discovered(preset: &'static Preset, base: String, key: Option<String>) -> Provider {
        let t = Timeouts::default();
        Provider {
            name: preset.name.to_string(),
            preset,
            dialects: preset.dialects.to_vec(),
            base_url: base,
            api_key: key.map(Secret::new),
            headers: Vec::new(),
            connect_timeout: secs(t.connect_secs),
            response_timeout: secs(t.response_secs),
            idle_timeout: secs(t.idle_secs),
            params: Map::new(),
            caps: preset.caps,
            source: "env",
            aws: None,
            region: None,
            redact: Arc::default(),
            gcp: None,
            vertex: None,
            passthrough_paths: None,
            azure: None,
            api_version: None,
            urls: Default::default(),
        }
    }
}

fn provider_from_config(
    name: &str,
    pc: &ProviderConfig,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Provider, Vec<ConfigError>> {
    let preset = presets::for_kind(pc.kind);
    let path = format!("providers.{name}");
    let mut errors = Vec::new();
    let (aws, bedrock_base, region) = match bedrock_auth(&path, pc, env) {
        Ok(x) => x,
        Err(mut e) => {
            errors.append(&mut e);
            (None, None, None)
        }
    };
    let (gcp, site) = match vertex_side(&path, pc, env) {
        Ok(x) => x,
        Err(mut e) => {
            errors.append(&mut e);
            (None, None)
        }
    };
    let azure_kind = matches!(pc.kind, ProviderKind::Azure | ProviderKind::Foundry);
    if !azure_kind {
        let fields = [("resource", pc.resource.is_some()), ("api_version", pc.api_version.is_some())];
        errors.extend(foreign_fields(&path, &fields, "azure or foundry"));
    }
    let resource_base = match &pc.resource {
        Some(r) if azure_kind => match expand_env(r, env) {
            Ok(r) if vertex::check_segment("resource", &r).is_ok() => Some(if pc.kind == ProviderKind::Azure {
                format!("https://{r}.openai.azure.com")
            } else {
                format!("https://{r}.services.ai.azure.com")
            }),
            Ok(r) => {
                errors.push(err(format!("{path}.resource"), format!("\"{r}\" is not a resource name")));
                None
            }
            Err(e) => {
                errors.push(err(format!("{path}.resource"), e));
                None
            }
        },
        _ => None,
    };
    let api_version = match &pc.api_version {
        Some(v) => expand_env(v, env).map_err(|e| errors.push(err(format!("{path}.api_version"), e))).ok(),
        None if pc.kind == ProviderKind::Azure => env("OPENAI_API_VERSION").filter(|v| !v.is_empty()),
        None => None,
    };
    if let Some(v) = &api_version
        && !v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
    {
        errors.push(err(format!("{path}.api_version"), format!("\"{v}\" is not an API version")));
    }
    let cloud_base = bedrock_base.or_else(|| site.as_ref().map(Site::default_base)).or(resource_base);
    let base = match &pc.base_url {
        Some(b) => expand_env(b, env).map_err(|e| errors.push(err(format!("{path}.base_url"), e))).ok(),
        None if cloud_base.is_some() => cloud_base,
        None if azure_kind => match preset.base_url_var.and_then(|v| env(v).filter(|s| !s.is_empty())) {
            Some(v) => Some(presets::base_url_from_env(preset, &v)),
            None => {
                errors.push(err(format!("{path}.base_url"), "set base_url or resource (or the preset's variable)"));
                None
            }
        },
        None => Some(
            preset
                .base_url_var
                .and_then(|v| env(v).filter(|s| !s.is_empty()))
                .map(|v| presets::base_url_from_env(preset, &v))
                .unwrap_or_else(|| preset.base_url.to_string()),
        ),
    }
    .map(|b| b.trim_end_matches('/').to_string());
    if let Some(b) = base.as_deref()
        && let Err(e) = check_base(b)
    {
        errors.push(err(format!("{path}.base_url"), e));
    }
    let mut dialects = preset.dialects.to_vec();
    if let Some(api) = pc.api {
        if pc.kind != ProviderKind::Openai {
            errors.push(err(format!("{path}.api"), "only applies to kind: openai"));
        }
        dialects = match api {
            // A server with the Chat API only: Responses callers are translated to Chat.
            OpenAiApi::Chat => vec![Dialect::OpenAiChat],
            // The Responses API only (models OpenAI serves only there): Chat callers are translated.
            OpenAiApi::Responses => vec![Dialect::OpenAiResponses],
        };
    }
    let api_key = if let Some(k) = &pc.api_key {
        expand_env(k, env).map_err(|e| errors.push(err(format!("{path}.api_key"), e))).ok().map(Secret::new)
    } else if let Some(file) = &pc.api_key_file {
        match expand_env(file, env)
            .and_then(|f| std::fs::read_to_string(&f).map_err(|e| format!("cannot read {f}: {e}")))
        {
            Ok(k) => Some(Secret::new(k.trim_end())),
            Err(e) => {
                errors.push(err(format!("{path}.api_key_file"), e));
                None
            }
        }
    } else {
        preset.key_vars.iter().find_map(|v| env(v).filter(|s| !s.is_empty())).map(Secret::new)
    };
    let mut headers = Vec::new();
    for (k, v) in &pc.headers {
        let hpath = format!("{path}.headers.{k}");
        let Ok(hn) = HeaderName::from_bytes(k.as_bytes()) else {
            errors.push(err(hpath, "not a valid header name"));
            continue;
        };
        match expand_env(v, env).map(HeaderValue::try_from) {
            Ok(Ok(hv)) => headers.push((hn, hv)),
            Ok(Err(_)) => errors.push(err(hpath, "not a valid header value")),
            Err(e) => errors.push(err(hpath, e)),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let Some(base_url) = base else {
        return Err(vec![err(format!("{path}.base_url"), "invalid")]);
    };
    // Without a key, Azure and Foundry take Entra ID tokens.
    let entra = (azure_kind && api_key.is_none()).then(|| Arc::new(AzureAuth::default()));
    Ok(Provider {
        name: name.to_string(),
        preset,
        dialects,
        base_url,
        api_key,
        headers,
        connect_timeout: secs(pc.timeouts.connect_secs),
        response_timeout: secs(pc.timeouts.response_secs),
        idle_timeout: secs(pc.timeouts.idle_secs),
        params: pc.params.clone(),
        caps: Caps {
            temperature: pc.accepts.temperature.unwrap_or(preset.caps.temperature),
            top_p: pc.accepts.top_p.unwrap_or(preset.caps.top_p),
            top_k: pc.accepts.top_k.unwrap_or(preset.caps.top_k),
            reasoning: pc.accepts.reasoning.unwrap_or(preset.caps.reasoning),
            web_search: pc.accepts.web_search.unwrap_or(preset.caps.web_search),
        },
        source: "config",
        aws,
        region,
        redact: Arc::default(),
        gcp,
        vertex: site,
        passthrough_paths: pc.passthrough_paths.clone(),
        azure: entra,
        api_version,
        urls: Default::default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::parse_str;

    fn env_of(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |k| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string())
    }

    #[test]
    fn discovers_presets_from_env() {
        let env = env_of(&[("ANTHROPIC_API_KEY", "a"), ("GROQ_API_KEY", "g"), ("OLLAMA_HOST", "127.0.0.1:1")]);
        let reg = Registry::build(&Config { discover_env: true, ..Default::default() }, &env).unwrap();
        let names: Vec<&str> = reg.providers.keys().map(|s| s.as_str()).collect();
        assert_eq!(names, ["anthropic", "groq", "lmstudio", "ollama", "vllm"]);
        assert_eq!(
            reg.providers["ollama"].url(Dialect::OpenAiChat, "m", false).unwrap().to_string(),
            "http://127.0.0.1:1/v1/chat/completions"
        );
        assert_eq!(
            reg.providers["anthropic"].url(Dialect::Anthropic, "m", false).unwrap().to_string(),
            "https://api.anthropic.com/v1/messages"
        );
        assert_eq!(reg.providers["groq"].api_key.as_ref().unwrap().expose(), "g");
    }

    #[test]
    fn config_providers_expand_env_and_report_paths() {
        let cfg = parse_str(
            "discover_env: false\nproviders:\n  a: {kind: openai, base_url: 'http://h/v1', api_key: '${K}', headers: {X-Team: '${T}'}}\n",
        )
        .unwrap();
        let errs = Registry::build(&cfg, &env_of(&[("K", "k")])).unwrap_err().0;
        assert_eq!(errs[0].to_string(), "providers.a.headers.X-Team: environment variable T is not set");
        let reg = Registry::build(&cfg, &env_of(&[("K", "k"), ("T", "t")])).unwrap();
        assert_eq!(reg.providers["a"].api_key.as_ref().unwrap().expose(), "k");
    }

    #[test]
    fn bedrock_providers() {
        let cfg = parse_str(
            "discover_env: false\nproviders:\n  b: {kind: bedrock}\n  o: {kind: openai, region: us-east-1}\n",
        )
        .unwrap();
        let errs = Registry::build(&cfg, &env_of(&[])).unwrap_err().0;
        let text: Vec<String> = errs.iter().map(|e| e.to_string()).collect();
        assert!(text.iter().any(|e| e.starts_with("providers.b.region: required")), "{text:?}");
        assert!(text.iter().any(|e| e == "providers.o.region: only applies to kind: bedrock"), "{text:?}");
        let reg =
            Registry::build(&cfg_of("b: {kind: bedrock, aws_profile: dev}"), &env_of(&[("AWS_REGION", "eu-west-3")]))
                .unwrap();
        let b = &reg.providers["b"];
        assert_eq!(b.base_url, "https://bedrock-runtime.eu-west-3.amazonaws.com");
        assert_eq!(b.aws.as_ref().unwrap().source(), "AWS profile");
        assert_eq!(
            b.url(Dialect::BedrockConverse, "arn:aws:bedrock:eu-west-3:1:inference-profile/eu.x-v1:0", true)
                .unwrap()
                .to_string(),
            "https://bedrock-runtime.eu-west-3.amazonaws.com/model/arn%3Aaws%3Abedrock%3Aeu-west-3%3A1%3Ainference-profile%2Feu.x-v1%3A0/converse-stream"
        );
        assert!(b.url(Dialect::BedrockConverse, "../x?y", false).is_err());
        // A Bedrock API key (bearer) means nothing is signed.
        let env = env_of(&[("AWS_REGION", "us-east-1"), ("AWS_BEARER_TOKEN_BEDROCK", "bt")]);
        let reg = Registry::build(&cfg_of("b: {kind: bedrock}"), &env).unwrap();
        assert!(reg.providers["b"].aws.is_none());
        assert_eq!(reg.providers["b"].api_key.as_ref().unwrap().expose(), "bt");
        let reg = Registry::build(&Config { discover_env: true, ..Default::default() }, &env).unwrap();
        assert!(reg.providers["bedrock"].aws.is_none(), "discovered with its API key");
        let reg = Registry::build(
            &Config { discover_env: true, ..Default::default() },
            &env_of(&[("AWS_REGION", "us-east-1")]),
        )
        .unwrap();
        assert!(!reg.providers.contains_key("bedrock"), "a region alone is not enough");
    }

    fn cfg_of(provider: &str) -> Config {
        parse_str(&format!("discover_env: false\nproviders:\n  {provider}\n")).unwrap()
    }

    #[test]
    fn bad_base_url_is_reported() {
        let cfg = parse_str("discover_env: false\nproviders:\n  a: {kind: anthropic, base_url: 'ftp://x'}\n").unwrap();
        let errs = Registry::build(&cfg, &env_of(&[])).unwrap_err().0;
        assert!(errs[0].to_string().starts_with("providers.a.base_url:"), "{errs:?}");
    }
}

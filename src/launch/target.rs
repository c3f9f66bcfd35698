//! Where the harness's calls go. With `--gateway URL`: that gateway. Otherwise, when the harness
//! speaks one of the provider's APIs natively it goes direct; when not (or with
//! `--with-gateway`, or with `--provider-arg`, which only a gateway can apply) amux starts its
//! gateway in-process on 127.0.0.1 with a random session token.

use std::sync::Arc;

use serde_json::{Map, Value};

use super::args::LaunchArgs;
use super::env::Env;
use super::error::LaunchError;
use super::harness::{Endpoint, Harness};
use crate::config::{Config, ModelAlias, ProviderConfig, ProviderKind, Timeouts};
use crate::ir::Dialect;
use crate::providers::{Provider, Registry, presets};

/// How the harness reaches the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// Straight to the provider: the harness speaks its API.
    Direct,
    /// Through the gateway at `--gateway`.
    Team,
    /// Through a gateway amux runs in-process for the length of the session.
    InProcess,
}

impl Route {
    pub fn label(self) -> &'static str {
        match self {
            Route::Direct => "direct",
            Route::Team => "gateway",
            Route::InProcess => "in-process gateway",
        }
    }
}

/// The outcome of resolving the command line against the config.
#[derive(Debug, Clone)]
pub struct Resolution {
    pub route: Route,
    /// For [`Route::InProcess`] the base URL is filled in once the gateway is listening.
    pub endpoint: Endpoint,
    pub provider: Option<Arc<Provider>>,
    pub upstream_model: String,
    /// The in-process gateway's config.
    pub gateway_config: Option<Config>,
    /// Why this route, for the plan.
    pub why: String,
}

pub fn dialect_name(d: Dialect) -> &'static str {
    match d {
        Dialect::Anthropic => "Anthropic Messages",
        Dialect::OpenAiChat => "OpenAI Chat Completions",
        Dialect::OpenAiResponses => "OpenAI Responses",
        Dialect::Gemini => "Gemini generateContent",
        Dialect::BedrockConverse => "Bedrock Converse",
    }
}

/// `key=value` into a params map; values that parse as JSON (numbers, booleans, objects) are
/// taken as such, anything else as a string.
pub fn provider_params(args: &[String]) -> Result<Map<String, Value>, LaunchError> {
    let mut m = Map::new();
    for a in args {
        let Some((k, v)) = a.split_once('=') else {
            return Err(LaunchError::BadProviderArg { arg: a.clone(), detail: "expected key=value" });
        };
        let k = k.trim();
        if k.is_empty() {
            return Err(LaunchError::BadProviderArg { arg: a.clone(), detail: "empty key" });
        }
        let value = serde_json::from_str(v).unwrap_or_else(|_| Value::String(v.to_string()));
        m.insert(k.to_string(), value);
    }
    Ok(m)
}

/// Checks, before the harness starts, that a cloud provider can be called: a Google token can be
/// had (`vertex`), an Entra token can be had (keyless `azure` / `foundry`), and the model names
/// a deployment or model the provider takes.
pub async fn cloud_preflight(p: &Provider, model: &str) -> Result<(), LaunchError> {
    let fail = |detail: String| LaunchError::CloudCredentials { provider: p.name.clone(), detail };
    if let Some(g) = &p.gcp {
        g.token().await.map_err(|e| {
            fail(format!(
                "{e} (run `gcloud auth application-default login`, set GOOGLE_APPLICATION_CREDENTIALS to a \
                 service-account key, or configure credentials_file)"
            ))
        })?;
    }
    if let Some(a) = &p.azure {
        a.token().await.map_err(|e| {
            fail(format!(
                "{e} (set an api_key, AZURE_TENANT_ID/AZURE_CLIENT_ID/AZURE_CLIENT_SECRET, or run `az login`)"
            ))
        })?;
    }
    if matches!(p.preset.kind, ProviderKind::Azure | ProviderKind::Foundry) && model.trim().is_empty() {
        return Err(fail("--model must name a deployment".into()));
    }
    if p.preset.kind == ProviderKind::Azure && p.api_version.is_none() {
        tracing::debug!(provider = %p.name, "no api_version: the v1 API");
    }
    Ok(())
}

/// What makes a preset's provider appear from the environment, for the error when it did not.
fn what_to_set(pre: &presets::Preset) -> String {
    match pre.kind {
        ProviderKind::Vertex => {
            "GOOGLE_CLOUD_PROJECT (with GOOGLE_CLOUD_LOCATION or CLOUD_ML_REGION, else the global endpoint)".into()
        }
        ProviderKind::Azure => "AZURE_OPENAI_ENDPOINT and AZURE_OPENAI_API_KEY (or a keyless azure provider in                                 the config, for Microsoft Entra ID)"
            .into(),
        ProviderKind::Foundry => "ANTHROPIC_FOUNDRY_RESOURCE and AZURE_FOUNDRY_API_KEY or ANTHROPIC_FOUNDRY_API_KEY                                   (or a keyless foundry provider in the config, for Microsoft Entra ID)"
            .into(),
        _ => pre.key_vars.join(" or "),
    }
}

/// The base URL a client of `dialect` takes for a gateway at `url`.
pub fn gateway_base(url: &str, dialect: Dialect) -> String {
    let u = url.trim().trim_end_matches('/');
    let u = u.strip_suffix("/v1").unwrap_or(u);
    match dialect {
        Dialect::OpenAiChat | Dialect::OpenAiResponses => format!("{u}/v1"),
        _ => u.to_string(),
    }
}

fn provider_dialects(p: &Provider) -> Vec<Dialect> {
    // Bedrock takes Anthropic bodies only by InvokeModel, under its own paths and SigV4: a
    // harness without a Bedrock mode of its own reaches it through the gateway, which signs.
    if p.preset.kind == ProviderKind::Bedrock {
        return vec![Dialect::BedrockConverse];
    }
    let mut d = p.dialects.clone();
    if p.preset.kind == ProviderKind::Gemini && !d.contains(&Dialect::Gemini) {
        d.insert(0, Dialect::Gemini);
    }
    d
}

fn load_config(args: &LaunchArgs) -> Result<Config, LaunchError> {
    let mut config = match &args.config {
        Some(p) => crate::config::load_file(p)?,
        None => Config { discover_env: true, ..Default::default() },
    };
    // `amux launch <harness> bedrock`: the user's AWS setup (region from AWS_REGION, the
    // standard credential chain) when the config names no such provider.
    if let Some(name) = &args.provider
        && !config.providers.contains_key(name)
        && presets::find(name).is_some_and(|p| p.kind == ProviderKind::Bedrock)
    {
        config.providers.insert(name.clone(), bare_provider(ProviderKind::Bedrock));
    }
    Ok(config)
}

/// A provider of `kind` with nothing set: its preset's defaults.
fn bare_provider(kind: ProviderKind) -> ProviderConfig {
    ProviderConfig {
        kind,
        base_url: None,
        api_key: None,
        api_key_file: None,
        headers: Default::default(),
        timeouts: Timeouts::default(),
        params: Map::new(),
        api: None,
        accepts: Default::default(),
        region: None,
        aws_profile: None,
        aws_access_key_id: None,
        aws_secret_access_key: None,
        aws_session_token: None,
        aws_role_arn: None,
        project: None,
        location: None,
        credentials_file: None,
        passthrough_paths: None,
        resource: None,
        api_version: None,
    }
}

pub fn resolve(args: &LaunchArgs, harness: &dyn Harness, env: &Env) -> Result<Resolution, LaunchError> {
    let model = args.model.clone().filter(|m| !m.trim().is_empty()).ok_or_else(|| {
        LaunchError::Usage(format!("--model is required: amux launch {} [provider] --model M", harness.name()))
    })?;
    let params = provider_params(&args.provider_args)?;
    let preferred = harness.dialects()[0];
    if let Some(url) = &args.gateway {
        if !params.is_empty() {
            return Err(LaunchError::Usage(
                "--provider-arg applies to the in-process gateway; a running gateway takes params from its config"
                    .into(),
            ));
        }
        let sent = match &args.provider {
            Some(p) => format!("{p}/{model}"),
            None => model.clone(),
        };
        return Ok(Resolution {
            route: Route::Team,
            endpoint: Endpoint {
                dialect: preferred,
                base_url: gateway_base(url, preferred),
                key: args.key.clone().filter(|k| !k.is_empty()).unwrap_or_else(|| "amux".into()),
                model: sent,
                provider_id: "amux".into(),
                cloud: None,
            },
            provider: None,
            upstream_model: model,
            gateway_config: None,
            why: format!("--gateway {url}"),
        });
    }
    let config = load_config(args)?;
    let env_fn = |k: &str| env.owned(k);
    let registry = Registry::build(&config, &env_fn)?;
    let (provider, upstream) = match &args.provider {
        Some(name) => match registry.providers.get(name) {
            Some(p) => (p.clone(), model.clone()),
            None => match presets::find(name) {
                Some(pre) => {
                    return Err(LaunchError::MissingCredentials { provider: name.clone(), vars: what_to_set(pre) });
                }
                None => {
                    let mut known: Vec<String> = registry.providers.keys().cloned().collect();
                    for p in presets::PRESETS {
                        if !known.iter().any(|k| k == p.name) {
                            known.push(p.name.to_string());
                        }
                    }
                    return Err(LaunchError::UnknownProvider { name: name.clone(), known: known.join(", ") });
                }
            },
        },
        None => match registry.resolve(&model) {
            // An alias of several deployments goes direct to its first; through a gateway the
            // alias itself (with its fallbacks) is what the harness sends.
            Ok(alias) => match alias.deployments.first() {
                Some(d) => (d.provider.clone(), d.model.clone()),
                None => {
                    return Err(LaunchError::ModelNotRoutable { model: model.clone(), detail: "no deployment".into() });
                }
            },
            Err(e) => return Err(LaunchError::ModelNotRoutable { model: model.clone(), detail: e.message }),
        },
    };
    // A `bedrock` provider without an API key signs with AWS credentials found at call time;
    // `vertex` takes Google tokens, keyless `azure` / `foundry` Entra tokens (checked by
    // `cloud_preflight` before the harness starts).
    let cloud_auth = provider.aws.is_some() || provider.gcp.is_some() || provider.azure.is_some();
    if provider.api_key.is_none() && !cloud_auth && !provider.preset.keyless {
        return Err(LaunchError::MissingCredentials {
            provider: provider.name.clone(),
            vars: provider.preset.key_vars.join(" or "),
        });
    }
    // A cloud: the model id's shape is checked before anything starts; then the harness's own
    // mode for that cloud when it has one that takes the model, else the in-process gateway.
    let mut cloud_why = None;
    let kind = provider.preset.kind;
    let upstream =
        if matches!(kind, ProviderKind::Bedrock | ProviderKind::Vertex | ProviderKind::Azure | ProviderKind::Foundry) {
            let upstream = super::cloud::check_model(&provider, &upstream)?;
            let native = if args.with_gateway {
                Err("--with-gateway".to_string())
            } else if !params.is_empty() {
                Err("--provider-arg needs a gateway to apply it".to_string())
            } else {
                super::cloud::native(harness, &provider, &upstream)
            };
            match native {
                Ok(endpoint) => {
                    return Ok(Resolution {
                        route: Route::Direct,
                        why: format!("{} has a {} mode of its own", harness.name(), provider.preset.name),
                        endpoint,
                        provider: Some(provider),
                        upstream_model: upstream,
                        gateway_config: None,
                    });
                }
                Err(why) => cloud_why = Some(why),
            }
            upstream
        } else {
            upstream
        };
    let pdialects = provider_dialects(&provider);
    let common = harness.dialects().iter().copied().find(|d| pdialects.contains(d));
    let why_gateway = if args.with_gateway {
        Some("--with-gateway".to_string())
    } else if !params.is_empty() {
        Some("--provider-arg needs a gateway to apply it".to_string())
    } else if let Some(why) = cloud_why {
        // No harness mode for this cloud and model: the cloud's paths, api-versions and
        // credentials are the gateway's to handle.
        Some(format!("{why}; amux's gateway holds the {} credentials", provider.preset.name))
    } else if common.is_none() {
        Some(format!(
            "{} speaks {}, {} speaks {}",
            harness.name(),
            dialect_name(preferred),
            provider.name,
            dialect_name(pdialects[0])
        ))
    } else {
        None
    };
    let Some(why) = why_gateway else {
        let dialect = common.unwrap_or(preferred);
        let key = provider.api_key.as_ref().map(|k| k.expose().to_string()).unwrap_or_else(|| "local".into());
        return Ok(Resolution {
            route: Route::Direct,
            endpoint: Endpoint {
                dialect,
                base_url: provider.base_url.clone(),
                key,
                model: upstream.clone(),
                provider_id: "amux".into(),
                cloud: None,
            },
            why: format!("{} speaks {} natively", harness.name(), dialect_name(dialect)),
            provider: Some(provider),
            upstream_model: upstream,
            gateway_config: None,
        });
    };
    if args.no_gateway {
        return match common {
            None => Err(LaunchError::DialectMismatch {
                harness: harness.name(),
                harness_dialect: dialect_name(preferred).into(),
                provider: provider.name.clone(),
                provider_dialect: dialect_name(pdialects[0]).into(),
            }),
            Some(_) => Err(LaunchError::Usage(format!("--no-gateway: {why}"))),
        };
    }
    let gateway_config = in_process_config(config, args, &provider, &model, &upstream, params)?;
    Ok(Resolution {
        route: Route::InProcess,
        endpoint: Endpoint {
            dialect: preferred,
            base_url: String::new(),
            key: String::new(),
            model,
            provider_id: "amux".into(),
            cloud: None,
        },
        provider: Some(provider),
        upstream_model: upstream,
        gateway_config: Some(gateway_config),
        why,
    })
}

/// The in-process gateway's config: the user's (or discovery), the provider's params from
/// `--provider-arg`, and the model name the harness sends as an alias of provider + model.
fn in_process_config(
    mut config: Config,
    args: &LaunchArgs,
    provider: &Provider,
    model: &str,
    upstream: &str,
    params: Map<String, Value>,
) -> Result<Config, LaunchError> {
    if args.provider.is_none() {
        if !params.is_empty() {
            return Err(LaunchError::Usage(
                "--provider-arg needs a provider: amux launch <harness> <provider> ...".into(),
            ));
        }
        return Ok(config);
    }
    let entry = config.providers.entry(provider.name.clone()).or_insert_with(|| bare_provider(provider.preset.kind));
    entry.params.extend(params);
    config.models.retain(|m| m.name != model);
    config.models.push(ModelAlias {
        name: model.to_string(),
        provider: Some(provider.name.clone()),
        model: Some(upstream.to_string()),
        ..Default::default()
    });
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::launch::harness;

    fn args(h: &str, provider: Option<&str>, model: &str) -> LaunchArgs {
        LaunchArgs {
            harness: h.into(),
            provider: provider.map(str::to_string),
            model: Some(model.into()),
            ..Default::default()
        }
    }

    fn env(pairs: &[(&str, &str)]) -> Env {
        Env::from_pairs(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())))
    }

    fn route(h: &str, a: &LaunchArgs, e: &Env) -> Result<Resolution, LaunchError> {
        resolve(a, harness::find(h).unwrap(), e)
    }

    #[test]
    fn native_pairs_go_direct() {
        let e = env(&[("ANTHROPIC_API_KEY", "ak"), ("OPENAI_API_KEY", "ok")]);
        let r = route("claude", &args("claude", Some("anthropic"), "claude-sonnet-4-5"), &e).unwrap();
        assert_eq!(
            (r.route, r.endpoint.base_url.as_str(), r.endpoint.key.as_str()),
            (Route::Direct, "https://api.anthropic.com", "ak")
        );
        let r = route("codex", &args("codex", Some("openai"), "gpt-5"), &e).unwrap();
        assert_eq!((r.route, r.endpoint.dialect), (Route::Direct, Dialect::OpenAiResponses));
        let r = route("opencode", &args("opencode", Some("ollama"), "qwen3:32b"), &e).unwrap();
        assert_eq!((r.route, r.endpoint.base_url.as_str()), (Route::Direct, "http://localhost:11434/v1"));
        // No provider: the model name routes.
        let r = route("claude", &args("claude", None, "claude-opus-4-1"), &e).unwrap();
        assert_eq!(r.route, Route::Direct);
    }

    #[test]
    fn different_dialects_start_a_gateway() {
        let e = env(&[]);
        let r = route("claude", &args("claude", Some("ollama"), "qwen3:32b"), &e).unwrap();
        assert_eq!(r.route, Route::InProcess);
        assert!(r.why.contains("Anthropic Messages") && r.why.contains("OpenAI Chat Completions"), "{}", r.why);
        let cfg = r.gateway_config.unwrap();
        assert_eq!(
            cfg.models.last().map(|m| (m.name.as_str(), m.provider.as_deref(), m.model.as_deref())),
            Some(("qwen3:32b", Some("ollama"), Some("qwen3:32b")))
        );
        // Codex needs Responses; Ollama's preset serves Chat Completions.
        assert_eq!(route("codex", &args("codex", Some("ollama"), "m"), &e).unwrap().route, Route::InProcess);
    }

    fn bedrock_world(name: &str, provider: &str) -> (std::path::PathBuf, std::path::PathBuf) {
        let dir = std::env::temp_dir().join(format!("amux-launch-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let cfg = dir.join("amux.yaml");
        std::fs::write(&cfg, format!("discover_env: false\nproviders:\n  aws: {provider}\n")).unwrap();
        (dir, cfg)
    }

    #[test]
    fn claude_goes_to_bedrock_in_its_own_mode() {
        let (dir, cfg) = bedrock_world("bedrock", "{kind: bedrock, region: eu-west-1, aws_profile: dev}");
        let mut a = args("claude", Some("aws"), "claude-sonnet-4-5");
        a.config = Some(cfg.clone());
        let r = route("claude", &a, &env(&[])).unwrap();
        assert_eq!(r.route, Route::Direct, "{}", r.why);
        // The Claude name maps to the region's inference profile.
        assert_eq!(r.endpoint.model, "eu.anthropic.claude-sonnet-4-5-20250929-v1:0");
        match &r.endpoint.cloud {
            Some(crate::launch::cloud::Cloud::Bedrock(m)) => {
                assert_eq!(
                    (m.region.as_str(), m.profile.as_deref(), m.endpoint.as_deref()),
                    ("eu-west-1", Some("dev"), None)
                );
            }
            other => panic!("{other:?}"),
        }
        // Through the gateway: a harness with no Bedrock mode, a non-Claude model, --with-gateway.
        let mut a = args("codex", Some("aws"), "claude-sonnet-4-5");
        a.config = Some(cfg.clone());
        assert_eq!(route("codex", &a, &env(&[])).unwrap().route, Route::InProcess);
        let mut a = args("claude", Some("aws"), "meta.llama3-3-70b-instruct-v1:0");
        a.config = Some(cfg.clone());
        let r = route("claude", &a, &env(&[])).unwrap();
        assert_eq!(r.route, Route::InProcess);
        assert!(r.why.contains("not a Claude model"), "{}", r.why);
        let mut a = args("claude", Some("aws"), "claude-sonnet-4-5");
        a.config = Some(cfg.clone());
        a.with_gateway = true;
        assert_eq!(route("claude", &a, &env(&[])).unwrap().route, Route::InProcess);
        // A model that is no Bedrock id fails before anything starts.
        let mut a = args("claude", Some("aws"), "sonnet");
        a.config = Some(cfg);
        assert_eq!(route("claude", &a, &env(&[])).unwrap_err().label(), "preflight");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn an_assumed_role_stays_with_the_gateway() {
        let (dir, cfg) =
            bedrock_world("bedrock-role", "{kind: bedrock, region: us-east-1, aws_role_arn: 'arn:aws:iam::1:role/r'}");
        let mut a = args("claude", Some("aws"), "us.anthropic.claude-sonnet-4-5-20250929-v1:0");
        a.config = Some(cfg);
        let r = route("claude", &a, &env(&[])).unwrap();
        assert_eq!(r.route, Route::InProcess);
        assert!(r.why.contains("aws_role_arn"), "{}", r.why);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn bedrock_by_name_uses_the_aws_environment() {
        let e = env(&[("AWS_REGION", "us-west-2")]);
        let r = route("claude", &args("claude", Some("bedrock"), "claude-haiku-4-5"), &e).unwrap();
        assert_eq!(r.route, Route::Direct, "{}", r.why);
        assert_eq!(r.endpoint.model, "us.anthropic.claude-haiku-4-5-20251001-v1:0");
        assert_eq!(r.endpoint.base_url, "https://bedrock-runtime.us-west-2.amazonaws.com");
        let err = route("claude", &args("claude", Some("bedrock"), "claude-haiku-4-5"), &env(&[])).unwrap_err();
        assert!(err.to_string().contains("region"), "{err}");
    }

    #[test]
    fn clouds_in_the_harnesses_own_modes() {
        use crate::launch::cloud::{AzureMode, Cloud};
        let e = env(&[("GOOGLE_CLOUD_PROJECT", "p-1"), ("CLOUD_ML_REGION", "us-east5")]);
        let r = route("claude", &args("claude", Some("vertex"), "claude-sonnet-4-5-20250929"), &e).unwrap();
        assert_eq!(r.route, Route::Direct, "{}", r.why);
        // Vertex names a dated Claude model with `@`.
        assert_eq!(r.endpoint.model, "claude-sonnet-4-5@20250929");
        match &r.endpoint.cloud {
            Some(Cloud::Vertex(m)) => assert_eq!(
                (m.project.as_str(), m.location.as_str(), m.endpoint.as_deref(), m.key_file.as_deref()),
                ("p-1", "us-east5", None, None)
            ),
            other => panic!("{other:?}"),
        }
        let r = route("gemini", &args("gemini", Some("vertex"), "gemini-2.5-pro"), &e).unwrap();
        assert_eq!((r.route, r.endpoint.dialect), (Route::Direct, Dialect::Gemini), "{}", r.why);
        // Not the harness's kind of model, no such mode, or forced: the gateway.
        let r = route("gemini", &args("gemini", Some("vertex"), "claude-sonnet-4-5@20250929"), &e).unwrap();
        assert_eq!(r.route, Route::InProcess);
        assert!(
            r.why.contains("not a Google model") && r.why.contains("gateway holds the vertex credentials"),
            "{}",
            r.why
        );
        let r = route("opencode", &args("opencode", Some("vertex"), "gemini-2.5-pro"), &e).unwrap();
        assert_eq!(r.route, Route::InProcess);
        assert!(r.why.contains("opencode has no vertex mode"), "{}", r.why);
        let mut a = args("claude", Some("vertex"), "claude-sonnet-4-5@20250929");
        a.with_gateway = true;
        assert_eq!(route("claude", &a, &e).unwrap().route, Route::InProcess);
        // A model id Vertex cannot take fails before anything starts.
        let err = route("claude", &args("claude", Some("vertex"), "a/b/c"), &e).unwrap_err();
        assert_eq!(err.label(), "preflight");

        let e = env(&[("AZURE_OPENAI_ENDPOINT", "https://r.openai.azure.com"), ("AZURE_OPENAI_API_KEY", "k")]);
        let r = route("codex", &args("codex", Some("azure"), "gpt-4o-prod"), &e).unwrap();
        assert_eq!(r.route, Route::Direct, "{}", r.why);
        assert_eq!(
            r.endpoint.cloud,
            Some(Cloud::Azure(AzureMode {
                base_url: "https://r.openai.azure.com/openai/v1".into(),
                api_version: None,
                key: crate::providers::Secret::new("k"),
            }))
        );
        // Claude Code has no Azure OpenAI mode.
        assert_eq!(route("claude", &args("claude", Some("azure"), "gpt-4o-prod"), &e).unwrap().route, Route::InProcess);
        assert_eq!(route("codex", &args("codex", Some("azure"), "gpt/4o"), &e).unwrap_err().label(), "preflight");

        let e = env(&[("ANTHROPIC_FOUNDRY_RESOURCE", "my-res"), ("ANTHROPIC_FOUNDRY_API_KEY", "fk")]);
        let r = route("claude", &args("claude", Some("foundry"), "claude-opus-4-1"), &e).unwrap();
        assert_eq!(r.route, Route::Direct, "{}", r.why);
        match &r.endpoint.cloud {
            Some(Cloud::Foundry(m)) => assert_eq!(
                (m.resource.as_deref(), m.base_url.as_str()),
                (Some("my-res"), "https://my-res.services.ai.azure.com/anthropic")
            ),
            other => panic!("{other:?}"),
        }
        let r = route("claude", &args("claude", Some("foundry"), "DeepSeek-R1"), &e).unwrap();
        assert_eq!(r.route, Route::InProcess);
        assert!(r.why.contains("not a Claude model"), "{}", r.why);
        // Not configured and no variables: the error names what to set.
        let err = route("claude", &args("claude", Some("foundry"), "claude-opus-4-1"), &env(&[])).unwrap_err();
        assert!(err.to_string().contains("ANTHROPIC_FOUNDRY_API_KEY"), "{err}");
    }

    #[tokio::test]
    async fn cloud_preflight_fails_before_the_harness_starts() {
        let e = env(&[("GOOGLE_CLOUD_PROJECT", "p-1"), ("GCE_METADATA_HOST", "127.0.0.1:1")]);
        let r = route("gemini", &args("gemini", Some("vertex"), "gemini-2.5-pro"), &e).unwrap();
        let err = cloud_preflight(r.provider.as_ref().unwrap(), &r.upstream_model).await.unwrap_err();
        assert_eq!(err.label(), "cloud_credentials");
        let msg = err.to_string();
        assert!(
            msg.contains("no Google credentials") && msg.contains("gcloud auth application-default login"),
            "{msg}"
        );
    }

    #[test]
    fn no_gateway_names_both_dialects() {
        let mut a = args("claude", Some("ollama"), "qwen3:32b");
        a.no_gateway = true;
        let err = route("claude", &a, &env(&[])).unwrap_err();
        let msg = err.to_string();
        assert_eq!(err.label(), "dialect_mismatch");
        assert!(msg.contains("Anthropic Messages") && msg.contains("OpenAI Chat Completions"), "{msg}");
    }

    #[test]
    fn with_gateway_and_provider_args_force_the_gateway() {
        let e = env(&[("OPENAI_API_KEY", "ok")]);
        let mut a = args("codex", Some("openai"), "gpt-5");
        a.with_gateway = true;
        assert_eq!(route("codex", &a, &e).unwrap().route, Route::InProcess);
        let mut a = args("opencode", Some("ollama"), "qwen3:8b");
        a.provider_args = vec!["temperature=0.2".into(), "stop=[\"x\"]".into(), "tag=abc".into()];
        let r = route("opencode", &a, &e).unwrap();
        assert_eq!(r.route, Route::InProcess);
        let params = &r.gateway_config.unwrap().providers["ollama"].params;
        assert_eq!(params["temperature"], serde_json::json!(0.2));
        assert_eq!(params["stop"], serde_json::json!(["x"]));
        assert_eq!(params["tag"], serde_json::json!("abc"));
    }

    #[test]
    fn team_gateway() {
        let mut a = args("claude", Some("ollama"), "qwen3:32b");
        a.gateway = Some("https://amux.example.com/v1/".into());
        a.key = Some("team-key".into());
        let r = route("claude", &a, &env(&[])).unwrap();
        assert_eq!(r.route, Route::Team);
        assert_eq!(r.endpoint.base_url, "https://amux.example.com");
        assert_eq!(r.endpoint.model, "ollama/qwen3:32b");
        let r = route("codex", &LaunchArgs { harness: "codex".into(), ..a }, &env(&[])).unwrap();
        assert_eq!(r.endpoint.base_url, "https://amux.example.com/v1");
    }

    #[test]
    fn clear_errors() {
        let e = env(&[]);
        assert_eq!(route("claude", &args("claude", Some("groq"), "m"), &e).unwrap_err().label(), "missing_credentials");
        assert_eq!(route("claude", &args("claude", Some("nope"), "m"), &e).unwrap_err().label(), "unknown_provider");
        assert_eq!(route("claude", &args("claude", None, "mystery"), &e).unwrap_err().label(), "model_not_routable");
        let mut a = args("claude", None, "m");
        a.model = None;
        assert_eq!(route("claude", &a, &e).unwrap_err().label(), "usage");
        assert_eq!(provider_params(&["x".into()]).unwrap_err().label(), "bad_provider_arg");
    }
}

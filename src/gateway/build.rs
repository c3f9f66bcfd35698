//! Building a config snapshot ([`AppState`]): at start from nothing ([`first`]), and on reload
//! from the previous snapshot ([`next`]), which keeps what must outlive a config: the connection
//! pools of unchanged providers, rate-limit counters (the limiter), deployment stats and
//! cooldowns (the router's), budget spend, the response cache while its settings are unchanged,
//! metrics and the shutdown state. Settings bound at start (listen addresses, metrics, Redis,
//! tracing) keep their running values until a restart; [`restart_only_changes`] names them.

use std::collections::HashMap;
use std::sync::Arc;

use super::StartError;
use super::admission::Admission;
use super::lifecycle::Lifecycle;
use super::state::{AppState, Observability};
use crate::config::{CacheBackend, Config, ConfigError, ConfigErrors, FailMode};
use crate::providers::pool::Upstream;
use crate::providers::{Registry, expand_env};
use crate::stack::auth::{AdminKey, Keys, Principal};
use crate::stack::budget::{Budgets, SessionBudget};
use crate::stack::cache::Cache;
use crate::stack::limits::Limiter;
use crate::stack::router::Router;
use crate::telemetry::BudgetSink;
use crate::telemetry::metrics::Metrics;
use crate::telemetry::prices::PriceBook;
use crate::usage::{UsageSink, UsageSinks};

/// What every snapshot is built with besides its config.
pub struct Base {
    /// The embedder's sinks (the usage log); metrics and budgets are added per snapshot.
    pub sinks: UsageSinks,
    /// One more key, e.g. the launcher's session token.
    pub extra_key: Option<(String, Principal)>,
    /// A cap on the whole gateway's spend (the launcher's `--max-budget-usd`); it must also be
    /// one of `sinks` to be charged.
    pub session_budget: Option<Arc<SessionBudget>>,
}

/// The parts made once per process and carried from snapshot to snapshot.
struct Kept<'a> {
    limiter: Arc<Limiter>,
    metrics: Arc<Metrics>,
    lifecycle: Arc<Lifecycle>,
    admission: Arc<Admission>,
    metrics_config: crate::config::MetricsConfig,
    prev: Option<&'a AppState>,
}

/// The first snapshot: connects to Redis when configured, creates the metrics.
pub async fn first(config: Config, env: &dyn Fn(&str) -> Option<String>, base: &Base) -> Result<AppState, StartError> {
    let limiter = match &config.redis {
        Some(r) => {
            let url = expand_env(&r.url, env)
                .map_err(|e| ConfigErrors(vec![ConfigError { path: "redis.url".into(), message: e }]))?;
            Limiter::redis(&url, &r.key_prefix, r.on_failure, r.timing()).await?
        }
        None => Limiter::memory(),
    };
    let metrics = Arc::new(Metrics::new(config.metrics.max_label_values)?);
    let kept = Kept {
        limiter: Arc::new(limiter),
        lifecycle: Arc::new(Lifecycle::new(metrics.clone())),
        admission: Arc::new(Admission::new(config.limits.max_in_flight)),
        metrics,
        metrics_config: config.metrics.clone(),
        prev: None,
    };
    assemble(config, env, base, kept)
}

/// The snapshot of a reloaded config, keeping what `prev` holds that must survive.
pub fn next(
    prev: &AppState,
    config: Config,
    env: &dyn Fn(&str) -> Option<String>,
    base: &Base,
) -> Result<AppState, StartError> {
    let kept = Kept {
        limiter: prev.limiter.clone(),
        metrics: prev.obs.metrics.clone(),
        lifecycle: prev.lifecycle.clone(),
        admission: prev.admission.clone(),
        metrics_config: prev.obs.metrics_config.clone(),
        prev: Some(prev),
    };
    assemble(config, env, base, kept)
}

/// Top-level settings that differ between two configs but only apply at start.
pub fn restart_only_changes(old: &Config, new: &Config) -> Vec<&'static str> {
    let differ = |a: serde_json::Result<serde_json::Value>, b: serde_json::Result<serde_json::Value>| match (a, b) {
        (Ok(a), Ok(b)) => a != b,
        _ => true,
    };
    let mut out = Vec::new();
    if old.listen != new.listen {
        out.push("listen");
    }
    if differ(serde_json::to_value(&old.metrics), serde_json::to_value(&new.metrics)) {
        out.push("metrics");
    }
    if differ(serde_json::to_value(&old.redis), serde_json::to_value(&new.redis)) {
        out.push("redis");
    }
    if differ(serde_json::to_value(&old.tracing), serde_json::to_value(&new.tracing)) {
        out.push("tracing");
    }
    if old.limits.start_only_differ(&new.limits) {
        out.push("limits (connections, max_in_flight)");
    }
    out
}

fn assemble(
    config: Config,
    env: &dyn Fn(&str) -> Option<String>,
    base: &Base,
    kept: Kept<'_>,
) -> Result<AppState, StartError> {
    let registry = Registry::build(&config, env)?;
    let mut keys = Keys::from_config(&config.keys, config.keys_file.as_deref(), env)?;
    if let Some((key, principal)) = &base.extra_key {
        keys.add(key, principal.clone());
    }
    let prices = Arc::new(PriceBook::build(&config, &registry)?);
    let admin = AdminKey::from_config(&config.admin, env)?;
    let m = &config.metrics;
    let metrics_key = AdminKey::from_parts("metrics", m.key.as_deref(), m.key_sha256.as_deref(), env)?;
    let budgets = match kept.prev {
        Some(p) => p.obs.budgets.reconfigured(&keys, &config.teams),
        None => {
            let on_failure = config.redis.as_ref().map(|r| r.on_failure).unwrap_or(FailMode::Open);
            Budgets::new(&keys, &config.teams, kept.limiter.redis_connection(), on_failure)
        }
    };
    let budgets = Arc::new(budgets.track_all(admin.is_some()));
    let cache = match kept.prev {
        Some(p) if same(&p.config.cache, &config.cache) => p.cache.clone(),
        _ => Arc::new(cache(&config, &kept.limiter)?),
    };
    let router = Arc::new(match kept.prev {
        Some(p) => p.router.reconfigured(config.router.clone()),
        None => Router::new(config.router.clone()),
    });
    let clients = clients(&registry, kept.prev)?;
    let metrics = kept.metrics;
    let more: Vec<Arc<dyn UsageSink>> =
        vec![metrics.clone(), Arc::new(BudgetSink { budgets: budgets.clone(), metrics: metrics.clone() })];
    let sinks = base.sinks.extended(more, prices.clone());
    let session_budget = base.session_budget.clone();
    let obs = Observability {
        metrics,
        metrics_config: kept.metrics_config,
        prices,
        budgets,
        session_budget,
        admin,
        metrics_key,
    };
    Ok(AppState {
        config: Arc::new(config),
        registry,
        router,
        keys,
        limiter: kept.limiter,
        cache,
        clients,
        sinks,
        obs,
        lifecycle: kept.lifecycle,
        admission: kept.admission,
    })
}

fn same<T: serde::Serialize>(a: &T, b: &T) -> bool {
    matches!((serde_json::to_value(a), serde_json::to_value(b)), (Ok(x), Ok(y)) if x == y)
}

/// The response cache of `config` (Redis shares the limiter's connection).
fn cache(config: &Config, limiter: &Limiter) -> Result<Cache, StartError> {
    let ttl = std::time::Duration::from_secs(config.cache.ttl_secs.max(1));
    match (config.cache.backend, limiter.redis_connection()) {
        (CacheBackend::Redis, Some(redis)) => Ok(Cache::redis(redis, ttl)),
        (CacheBackend::Redis, None) => {
            let e = ConfigError { path: "cache.backend".into(), message: "redis needs `redis.url`".into() };
            Err(StartError::Config(ConfigErrors(vec![e])))
        }
        (CacheBackend::Memory, _) => Ok(Cache::memory(config.cache.max_entries, ttl)),
    }
}

/// One pooled client per provider; a provider the previous snapshot had with the same connect
/// timeout keeps its client, and so its open connections.
fn clients(registry: &Registry, prev: Option<&AppState>) -> Result<HashMap<String, Upstream>, StartError> {
    let mut out = HashMap::new();
    for (name, p) in &registry.providers {
        let reuse = prev.and_then(|s| {
            let old = s.registry.providers.get(name)?;
            (old.connect_timeout == p.connect_timeout).then(|| s.clients.get(name).cloned()).flatten()
        });
        let client = match reuse {
            Some(c) => c,
            None => Upstream::new(p.connect_timeout)?,
        };
        out.insert(name.clone(), client);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::parse_str;

    fn config(extra: &str) -> Config {
        parse_str(&format!(
            "discover_env: false\nrouter: {{cooldown_failures: 1}}\nproviders:\n  a: {{kind: openai, base_url: 'http://127.0.0.1:9/v1', api_key: k}}\nmodels:\n  - {{name: m, provider: a, model: x}}\n{extra}"
        ))
        .unwrap()
    }

    fn base() -> Base {
        Base { sinks: UsageSinks::default(), extra_key: None, session_budget: None }
    }

    #[tokio::test]
    async fn reload_keeps_limiter_router_stats_cache_and_clients() {
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        let first = first(config(""), &|_| None, &base()).await.unwrap();
        let d = first.registry.aliases["m"].deployments[0].clone();
        assert!(first.router.failure(&d), "one failure puts the deployment in cooldown");
        let second = next(&first, config("  - {name: n, provider: a, model: y}\n"), &|_| None, &base()).unwrap();
        assert!(second.registry.aliases.contains_key("n"));
        assert!(Arc::ptr_eq(&first.limiter, &second.limiter));
        assert!(Arc::ptr_eq(&first.cache, &second.cache));
        assert!(Arc::ptr_eq(&first.lifecycle, &second.lifecycle));
        assert!(second.router.in_cooldown(&second.registry.aliases["m"].deployments[0]));
        assert!(second.client("a").is_some());
        let third = next(&second, config("cache: {max_entries: 7}\n"), &|_| None, &base()).unwrap();
        assert!(!Arc::ptr_eq(&second.cache, &third.cache), "new cache settings: a new cache");
    }

    #[tokio::test]
    async fn restart_only_settings_are_named() {
        let a = config("");
        let b = config("listen: 0.0.0.0:1\nmetrics: {path: /m}\n");
        assert_eq!(restart_only_changes(&a, &b), ["listen", "metrics"]);
        assert!(restart_only_changes(&a, &a).is_empty());
    }
}

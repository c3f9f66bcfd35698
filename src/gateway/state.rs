//! What every request handler shares: the provider registry, the router's deployment stats, one
//! HTTP client per provider, the usage sinks, and the observability and cost parts (metrics,
//! prices, budgets, the admin key).

use std::collections::HashMap;
use std::sync::Arc;

use crate::config::{MetricsConfig, RouterConfig};
use crate::stack::auth::{AdminKey, Keys};
use crate::stack::budget::Budgets;
use crate::stack::cache::Cache;
use crate::stack::limits::Limiter;
use crate::stack::router::Router;

use crate::providers::Registry;
use crate::providers::client::{self, ClientError, HttpClient};
use crate::telemetry::metrics::Metrics;
use crate::telemetry::prices::PriceBook;
use crate::usage::UsageSinks;

/// Metrics, prices, budgets and the admin key of a gateway.
pub struct Observability {
    pub metrics: Arc<Metrics>,
    pub metrics_config: MetricsConfig,
    pub prices: Arc<PriceBook>,
    pub budgets: Arc<Budgets>,
    pub admin: Option<AdminKey>,
}

pub struct AppState {
    pub registry: Registry,
    pub router: Arc<Router>,
    pub keys: Keys,
    pub limiter: Arc<Limiter>,
    pub cache: Arc<Cache>,
    clients: HashMap<String, HttpClient>,
    pub sinks: UsageSinks,
    pub obs: Observability,
}

impl AppState {
    pub fn new(
        registry: Registry,
        router: RouterConfig,
        keys: Keys,
        limiter: Limiter,
        cache: Cache,
        sinks: UsageSinks,
        obs: Observability,
    ) -> Result<Self, ClientError> {
        let mut clients = HashMap::new();
        for (name, p) in &registry.providers {
            clients.insert(name.clone(), client::build(p.connect_timeout)?);
        }
        Ok(AppState {
            registry,
            router: Arc::new(Router::new(router)),
            keys,
            limiter: Arc::new(limiter),
            cache: Arc::new(cache),
            clients,
            sinks,
            obs,
        })
    }

    /// The pooled client of a provider.
    pub fn client(&self, provider: &str) -> Option<&HttpClient> {
        self.clients.get(provider)
    }
}

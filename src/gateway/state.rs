//! What every request handler shares: the provider registry, the router's deployment stats, one
//! HTTP client per provider, and the usage sinks.

use std::collections::HashMap;
use std::sync::Arc;

use crate::config::RouterConfig;
use crate::stack::auth::Keys;
use crate::stack::cache::Cache;
use crate::stack::limits::Limiter;
use crate::stack::router::Router;

use crate::providers::Registry;
use crate::providers::client::{self, ClientError, HttpClient};
use crate::usage::UsageSinks;

pub struct AppState {
    pub registry: Registry,
    pub router: Arc<Router>,
    pub keys: Keys,
    pub limiter: Arc<Limiter>,
    pub cache: Arc<Cache>,
    clients: HashMap<String, HttpClient>,
    pub sinks: UsageSinks,
}

impl AppState {
    pub fn new(
        registry: Registry,
        router: RouterConfig,
        keys: Keys,
        limiter: Limiter,
        cache: Cache,
        sinks: UsageSinks,
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
        })
    }

    /// The pooled client of a provider.
    pub fn client(&self, provider: &str) -> Option<&HttpClient> {
        self.clients.get(provider)
    }
}

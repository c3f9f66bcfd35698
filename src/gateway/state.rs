//! What every request handler shares: the provider registry, one HTTP client per provider, and
//! the usage sinks.

use std::collections::HashMap;

use crate::providers::Registry;
use crate::providers::client::{self, ClientError, HttpClient};
use crate::usage::UsageSinks;

pub struct AppState {
    pub registry: Registry,
    clients: HashMap<String, HttpClient>,
    pub sinks: UsageSinks,
}

impl AppState {
    pub fn new(registry: Registry, sinks: UsageSinks) -> Result<Self, ClientError> {
        let mut clients = HashMap::new();
        for (name, p) in &registry.providers {
            clients.insert(name.clone(), client::build(p.connect_timeout)?);
        }
        Ok(AppState { registry, clients, sinks })
    }

    /// The pooled client of a provider.
    pub fn client(&self, provider: &str) -> Option<&HttpClient> {
        self.clients.get(provider)
    }
}

//! What every request handler shares: one config snapshot (built by `build`, swapped by a
//! reload, see `live`) holding the provider registry, the router's deployment stats, one HTTP
//! client per provider, the usage sinks, the observability and cost parts (metrics, prices,
//! budgets, the admin key), and the gateway's shutdown state.

use std::collections::HashMap;
use std::sync::Arc;

use crate::config::{Config, MetricsConfig};
use crate::stack::auth::{AdminKey, Keys};
use crate::stack::budget::{Budgets, SessionBudget};
use crate::stack::cache::Cache;
use crate::stack::limits::Limiter;
use crate::stack::router::Router;

use super::admission::Admission;
use super::lifecycle::Lifecycle;
use crate::providers::Registry;
use crate::providers::pool::Upstream;
use crate::telemetry::metrics::Metrics;
use crate::telemetry::prices::PriceBook;
use crate::usage::UsageSinks;

/// Metrics, prices, budgets and the admin key of a gateway.
pub struct Observability {
    pub metrics: Arc<Metrics>,
    pub metrics_config: MetricsConfig,
    pub prices: Arc<PriceBook>,
    pub budgets: Arc<Budgets>,
    /// The launcher's per-session cap (`--max-budget-usd`), when set.
    pub session_budget: Option<Arc<SessionBudget>>,
    pub admin: Option<AdminKey>,
    /// The key `/metrics` asks for (`metrics.key`), if any.
    pub metrics_key: Option<AdminKey>,
}

/// One config snapshot.
pub struct AppState {
    /// The config this snapshot was built from.
    pub config: Arc<Config>,
    pub registry: Registry,
    pub router: Arc<Router>,
    pub keys: Keys,
    pub limiter: Arc<Limiter>,
    pub cache: Arc<Cache>,
    pub(super) clients: HashMap<String, Upstream>,
    pub sinks: UsageSinks,
    pub obs: Observability,
    /// Shared by every snapshot of the gateway.
    pub lifecycle: Arc<Lifecycle>,
    /// The in-flight limit (`limits.max_in_flight`, read at start), shared by every snapshot.
    pub admission: Arc<Admission>,
}

impl AppState {
    /// The connection pool of a provider.
    pub fn client(&self, provider: &str) -> Option<&Upstream> {
        self.clients.get(provider)
    }
}

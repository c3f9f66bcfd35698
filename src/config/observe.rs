//! Config for observability and cost: the Prometheus endpoint, OpenTelemetry traces, prices that
//! extend or override the shipped table, budgets per key and team, and the admin key.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Prometheus metrics.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsConfig {
    /// Serve metrics at all.
    pub enabled: bool,
    /// Path of the exposition.
    pub path: String,
    /// A separate address for the metrics endpoint (e.g. `0.0.0.0:9464`, not exposed to
    /// callers); without it metrics are served on the main port.
    pub listen: Option<String>,
    /// Most distinct values kept per free-form label (model names callers send, upstream model
    /// ids); later values are reported as `other`.
    pub max_label_values: usize,
    /// A key the scraper must send (`Authorization: Bearer` or `x-api-key`; at least 16
    /// characters, `${ENV_VAR}` expanded); without it (or `key_sha256`) `/metrics` is open to
    /// whoever reaches its port.
    pub key: Option<String>,
    /// Hex SHA-256 of that key, instead of `key`.
    pub key_sha256: Option<String>,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        MetricsConfig {
            enabled: true,
            path: "/metrics".into(),
            listen: None,
            max_label_values: 200,
            key: None,
            key_sha256: None,
        }
    }
}

/// OpenTelemetry traces, exported over OTLP/HTTP (protobuf). Off unless an endpoint is set here
/// or in `OTEL_EXPORTER_OTLP_ENDPOINT`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct TracingConfig {
    /// Collector base URL, e.g. `http://otel-collector:4318` (`/v1/traces` is appended).
    /// `${ENV_VAR}` is expanded.
    pub otlp_endpoint: Option<String>,
    /// Headers sent with every export (e.g. an API key of a hosted backend); `${ENV_VAR}` is
    /// expanded.
    pub headers: BTreeMap<String, String>,
    /// `service.name` of the exported spans.
    pub service_name: String,
    /// Share of new traces sampled (0..1); a caller's sampled `traceparent` is always followed.
    pub sample_ratio: f64,
}

impl Default for TracingConfig {
    fn default() -> Self {
        TracingConfig { otlp_endpoint: None, headers: BTreeMap::new(), service_name: "amux".into(), sample_ratio: 1.0 }
    }
}

/// Price of one model, USD per million tokens.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PriceConfig {
    /// Prompt tokens neither read from nor written to a prompt cache.
    pub input: f64,
    /// Completion tokens, reasoning included.
    pub output: f64,
    /// Prompt tokens read from the cache. Unset: calls that read the cache are priced unknown.
    #[serde(default)]
    pub cache_read: Option<f64>,
    /// Prompt tokens written to the cache (Anthropic: the 5-minute rate). Unset: calls that
    /// write the cache are priced unknown.
    #[serde(default)]
    pub cache_write: Option<f64>,
    /// Context window in tokens (informational).
    #[serde(default)]
    pub context_window: Option<u64>,
    /// Higher rates for every token of a call whose prompt (input + cache read + cache write)
    /// exceeds `above_tokens`.
    #[serde(default)]
    pub long_context: Option<LongContextPrice>,
}

/// Rates of a long-prompt tier.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LongContextPrice {
    pub above_tokens: u64,
    pub input: f64,
    pub output: f64,
    #[serde(default)]
    pub cache_read: Option<f64>,
    #[serde(default)]
    pub cache_write: Option<f64>,
}

/// A spending cap in USD per UTC calendar day and/or month.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BudgetConfig {
    #[serde(default)]
    pub daily_usd: Option<f64>,
    #[serde(default)]
    pub monthly_usd: Option<f64>,
}

/// A team: what its keys share.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TeamConfig {
    /// Spending cap of all the team's keys together.
    #[serde(default)]
    pub budget: Option<BudgetConfig>,
}

/// The admin API (`GET /admin/spend`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AdminConfig {
    /// The master key, usually `${AMUX_ADMIN_KEY}`; sent as `Authorization: Bearer` or
    /// `x-api-key`. Without it (or `key_sha256`) the admin API is off.
    #[serde(default)]
    pub key: Option<String>,
    /// Hex SHA-256 of the master key, instead of `key`.
    #[serde(default)]
    pub key_sha256: Option<String>,
}

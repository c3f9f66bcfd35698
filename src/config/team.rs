//! Config for the team stack: virtual keys, router behaviour, Redis, and the response cache.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A virtual key. The key itself is never stored: only its SHA-256 (`amux keys new` prints both).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct KeyConfig {
    /// Shown in logs and metrics.
    pub name: String,
    /// Team the key belongs to (cache scope, metrics, budgets).
    #[serde(default)]
    pub team: Option<String>,
    /// Hex SHA-256 of the key.
    pub key_sha256: String,
    /// Model names this key may use, as globs (`sonnet`, `gpt-*`, `ollama/*`). Empty: all.
    #[serde(default)]
    pub models: Vec<String>,
    /// Requests per minute for this key.
    #[serde(default)]
    pub rpm: Option<u64>,
    /// Tokens per minute for this key.
    #[serde(default)]
    pub tpm: Option<u64>,
    /// Spending cap of this key.
    #[serde(default)]
    pub budget: Option<super::observe::BudgetConfig>,
    /// What else the key may do: `passthrough` (raw `/passthrough/{provider}/...` calls with the
    /// provider's credentials).
    #[serde(default)]
    pub permissions: Vec<Permission>,
}

/// A permission a key can be given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    /// Raw passthrough to providers' APIs (`/passthrough/{provider}/{path}`).
    Passthrough,
}

/// Retries, backoff, cooldown, stream fallback.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct RouterConfig {
    /// Retries after the first attempt (across deployments and fallbacks) on retryable failures
    /// (429, 5xx, connect errors, timeouts).
    pub retries: u32,
    /// First backoff; doubled each retry, with full jitter.
    pub backoff_initial_ms: u64,
    /// Longest backoff, also the cap on an upstream's Retry-After.
    pub backoff_max_ms: u64,
    /// Failures within `cooldown_window_secs` that put a deployment in cooldown.
    pub cooldown_failures: u32,
    pub cooldown_window_secs: f64,
    /// How long a deployment in cooldown is skipped.
    pub cooldown_secs: f64,
    /// A stream whose first chunk takes longer than this falls back to the next deployment.
    pub first_byte_timeout_secs: f64,
}

impl Default for RouterConfig {
    fn default() -> Self {
        RouterConfig {
            retries: 2,
            backoff_initial_ms: 250,
            backoff_max_ms: 8_000,
            cooldown_failures: 3,
            cooldown_window_secs: 60.0,
            cooldown_secs: 30.0,
            first_byte_timeout_secs: 60.0,
        }
    }
}

/// What to do when Redis cannot be reached.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum FailMode {
    /// Admit the request (limits are not enforced while Redis is down).
    #[default]
    Open,
    /// Refuse the request with a 503.
    Closed,
}

/// Redis, shared by replicas.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RedisConfig {
    /// `redis://host:6379/0` or `rediss://...`; `${ENV_VAR}` is expanded.
    pub url: String,
    /// When Redis is unreachable: `open` (admit, log, count) or `closed` (503).
    #[serde(default)]
    pub on_failure: FailMode,
    /// Prefix of every key amux writes.
    #[serde(default = "default_prefix")]
    pub key_prefix: String,
    /// Longest wait for one Redis operation; a timeout or a connection failure stops amux
    /// asking Redis (calls then follow `on_failure` at once) until it answers a ping again.
    #[serde(default = "default_redis_timeout")]
    pub timeout_ms: u64,
    /// How often a Redis that stopped answering is pinged.
    #[serde(default = "default_redis_retry")]
    pub retry_interval_ms: u64,
}

fn default_prefix() -> String {
    "amux:".into()
}

fn default_redis_timeout() -> u64 {
    100
}

fn default_redis_retry() -> u64 {
    1000
}

impl RedisConfig {
    /// The link's timeouts.
    pub fn timing(&self) -> crate::stack::redis::Timing {
        crate::stack::redis::Timing {
            timeout: std::time::Duration::from_millis(self.timeout_ms.max(1)),
            retry: std::time::Duration::from_millis(self.retry_interval_ms.max(10)),
        }
    }
}

/// Where cached responses live.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum CacheBackend {
    /// In this process, bounded LRU.
    #[default]
    Memory,
    /// In Redis (`redis` must be set), shared by replicas.
    Redis,
}

/// The exact-match response cache (opt-in per alias or per request).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct CacheConfig {
    pub backend: CacheBackend,
    /// How long an entry lives.
    pub ttl_secs: u64,
    /// Most entries kept in memory (memory backend).
    pub max_entries: u64,
}

impl Default for CacheConfig {
    fn default() -> Self {
        CacheConfig { backend: CacheBackend::Memory, ttl_secs: 3600, max_entries: 10_000 }
    }
}

//! Config of the process lifecycle: graceful shutdown on SIGTERM (how long readiness fails while
//! new connections are still served, how long calls may drain) and live reload (how often the
//! config and keys files are checked for changes).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Graceful shutdown and live config reload.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct LifecycleConfig {
    /// Seconds after SIGTERM during which amux still accepts and serves new connections while
    /// `/health/readiness` answers 503, so that load balancers stop sending traffic first.
    pub shutdown_delay_secs: f64,
    /// Seconds from SIGTERM to exit at the latest. Calls and streams in flight run to their end
    /// until then; a stream still open at this deadline ends with an error event in its own
    /// dialect. Must be longer than `shutdown_delay_secs`.
    pub drain_timeout_secs: f64,
    /// How often, in seconds, the config file, its `keys_file` and the providers'
    /// `api_key_file`s are checked for changes (by content, so a Kubernetes ConfigMap's symlink
    /// swap counts); a change reloads the config as SIGHUP does. 0: only SIGHUP reloads.
    pub watch_interval_secs: f64,
}

impl Default for LifecycleConfig {
    fn default() -> Self {
        LifecycleConfig { shutdown_delay_secs: 0.0, drain_timeout_secs: 30.0, watch_interval_secs: 2.0 }
    }
}

impl LifecycleConfig {
    /// Problems types alone cannot catch, as `(field, message)`.
    pub fn problems(&self) -> Vec<(&'static str, &'static str)> {
        let mut out = Vec::new();
        let ok = |v: f64| v >= 0.0 && v.is_finite();
        if !ok(self.shutdown_delay_secs) {
            out.push(("shutdown_delay_secs", "must be a number of seconds, 0 or more"));
        }
        if !(self.drain_timeout_secs > 0.0 && self.drain_timeout_secs.is_finite()) {
            out.push(("drain_timeout_secs", "must be a positive number of seconds"));
        } else if ok(self.shutdown_delay_secs) && self.drain_timeout_secs <= self.shutdown_delay_secs {
            out.push(("drain_timeout_secs", "must be longer than shutdown_delay_secs"));
        }
        if !ok(self.watch_interval_secs) {
            out.push(("watch_interval_secs", "must be a number of seconds, 0 (off) or more"));
        }
        out
    }
}

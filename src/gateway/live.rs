//! The config snapshot requests use, swapped atomically by a reload. A request takes the current
//! [`AppState`] when it arrives (axum extracts `State<Arc<AppState>>` from [`LiveState`]) and
//! keeps it to its end, streams included: calls in flight finish on the config they started
//! with, new calls see the new one.

use std::path::Path;
use std::sync::{Arc, Mutex};

use arc_swap::ArcSwap;
use axum::extract::FromRef;

use super::StartError;
use super::build::{self, Base};
use super::state::AppState;
use crate::config::{self, Config};

/// The current snapshot and what new ones are built from.
pub struct Live {
    current: ArcSwap<AppState>,
    base: Base,
    /// One reload at a time.
    reloading: Mutex<()>,
}

/// The axum state of the gateway's routers.
#[derive(Clone)]
pub struct LiveState(pub Arc<Live>);

impl FromRef<LiveState> for Arc<AppState> {
    fn from_ref(live: &LiveState) -> Arc<AppState> {
        live.0.current()
    }
}

impl Live {
    pub fn new(first: AppState, base: Base) -> Live {
        Live { current: ArcSwap::from_pointee(first), base, reloading: Mutex::new(()) }
    }

    /// The snapshot new calls use.
    pub fn current(&self) -> Arc<AppState> {
        self.current.load_full()
    }

    /// Builds a snapshot of `config` and swaps it in; on error the current one stays. Either
    /// way the outcome is counted (`amux_config_reloads_total`).
    pub fn reload(&self, config: Config, env: &dyn Fn(&str) -> Option<String>) -> Result<(), StartError> {
        let _one = self.reloading.lock().unwrap_or_else(|p| p.into_inner());
        let prev = self.current();
        let next = match build::next(&prev, config, env, &self.base) {
            Ok(next) => next,
            Err(e) => {
                prev.obs.metrics.reload(false);
                return Err(e);
            }
        };
        for field in build::restart_only_changes(&prev.config, &next.config) {
            tracing::warn!(field, "this setting changed in the config but only takes effect on restart");
        }
        self.current.store(Arc::new(next));
        // Counted once the new snapshot serves: whoever sees the count sees the new config.
        prev.obs.metrics.reload(true);
        Ok(())
    }

    /// Reads `path` and reloads it (a file that does not parse is counted as a rejected reload).
    pub fn reload_file(&self, path: &Path, env: &dyn Fn(&str) -> Option<String>) -> Result<(), StartError> {
        match config::load_file(path) {
            Ok(c) => self.reload(c, env),
            Err(e) => {
                self.current().obs.metrics.reload(false);
                Err(StartError::Config(e))
            }
        }
    }
}

#[cfg(test)]
impl Live {
    /// A gateway of an empty config (no providers, no keys).
    pub(crate) async fn for_tests() -> Live {
        let base = Base { sinks: Default::default(), extra_key: None, session_budget: None };
        let first = build::first(Config::default(), &|_| None, &base).await.expect("an empty config builds");
        Live::new(first, base)
    }
}

//! Building and running a gateway from a config: `amux serve` and the launcher's in-process
//! gateway both call [`Gateway::bind`] then [`Gateway::serve`].

mod attempt;
pub mod call;
pub mod count;
mod observe;
mod passthrough;
mod respond;
pub mod splice;
pub mod state;
mod stream;
mod translated;
pub mod upstream;

use std::net::SocketAddr;

use axum::serve::ListenerExt;
use std::sync::Arc;

pub use respond::error as error_response;
pub use respond::json as json_response;
pub use state::AppState;

use crate::config::{CacheBackend, Config, ConfigError, ConfigErrors};
use crate::providers::client::ClientError;
use crate::providers::{Registry, expand_env};
use crate::stack::auth::{Keys, Principal};
use crate::stack::cache::Cache;
use crate::stack::limits::{LimitError, Limiter};
use crate::usage::UsageSinks;

/// Why a gateway could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("invalid config:\n{0}")]
    Config(#[from] ConfigErrors),
    #[error("cannot listen on {addr}: {source}")]
    Bind { addr: SocketAddr, source: std::io::Error },
    #[error(transparent)]
    Client(#[from] ClientError),
    #[error("cannot connect to redis: {0}")]
    Redis(#[from] LimitError),
}

impl StartError {
    pub fn label(&self) -> &'static str {
        match self {
            StartError::Config(_) => "config",
            StartError::Bind { .. } => "bind",
            StartError::Client(e) => e.label(),
            StartError::Redis(e) => e.label(),
        }
    }
}

/// Options for embedding a gateway.
#[derive(Default)]
pub struct GatewayOptions {
    /// One more key (and its principal), e.g. the launcher's random session token.
    pub extra_key: Option<(String, Principal)>,
}

/// A bound, not yet serving, gateway.
pub struct Gateway {
    listener: tokio::net::TcpListener,
    state: Arc<AppState>,
}

impl Gateway {
    /// Resolves providers (reading `env`), builds clients and binds the listener.
    pub async fn bind(
        config: &Config,
        listen: SocketAddr,
        env: &dyn Fn(&str) -> Option<String>,
        sinks: UsageSinks,
    ) -> Result<Gateway, StartError> {
        Gateway::bind_with(config, listen, env, sinks, GatewayOptions::default()).await
    }

    /// Like [`Gateway::bind`], with options for embedders (the launcher's session key).
    pub async fn bind_with(
        config: &Config,
        listen: SocketAddr,
        env: &dyn Fn(&str) -> Option<String>,
        sinks: UsageSinks,
        options: GatewayOptions,
    ) -> Result<Gateway, StartError> {
        let registry = Registry::build(config, env)?;
        let mut keys = Keys::from_config(&config.keys, config.keys_file.as_deref(), env)?;
        if let Some((key, principal)) = options.extra_key {
            keys.add(&key, principal);
        }
        let limiter = match &config.redis {
            Some(r) => {
                let url = expand_env(&r.url, env)
                    .map_err(|e| ConfigErrors(vec![ConfigError { path: "redis.url".into(), message: e }]))?;
                Limiter::redis(&url, &r.key_prefix, r.on_failure).await?
            }
            None => Limiter::memory(),
        };
        let ttl = std::time::Duration::from_secs(config.cache.ttl_secs.max(1));
        let cache = match (config.cache.backend, limiter.redis_connection()) {
            (CacheBackend::Redis, Some((conn, prefix))) => Cache::redis(conn, prefix, ttl),
            (CacheBackend::Redis, None) => {
                let e = ConfigError { path: "cache.backend".into(), message: "redis needs `redis.url`".into() };
                return Err(StartError::Config(ConfigErrors(vec![e])));
            }
            (CacheBackend::Memory, _) => Cache::memory(config.cache.max_entries, ttl),
        };
        let state = Arc::new(AppState::new(registry, config.router.clone(), keys, limiter, cache, sinks)?);
        let listener =
            tokio::net::TcpListener::bind(listen).await.map_err(|source| StartError::Bind { addr: listen, source })?;
        Ok(Gateway { listener, state })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    pub fn state(&self) -> &Arc<AppState> {
        &self.state
    }

    /// Serves until `shutdown` resolves, then finishes in-flight requests.
    pub async fn serve(self, shutdown: impl std::future::Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
        let app = crate::surfaces::router(self.state);
        // Streams go out as many small writes; with Nagle on, each waits for the client's delayed
        // ACK (about 40 ms). Upstream sockets set TCP_NODELAY in the client; this is the inbound side.
        let listener = self.listener.tap_io(|tcp| {
            if let Err(e) = tcp.set_nodelay(true) {
                tracing::debug!(error = %e, "could not set TCP_NODELAY");
            }
        });
        axum::serve(listener, app).with_graceful_shutdown(shutdown).await
    }
}

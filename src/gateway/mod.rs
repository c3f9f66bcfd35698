//! Building and running a gateway from a config: `amux serve` and the launcher's in-process
//! gateway both call [`Gateway::bind`] then [`Gateway::serve`]. The config lives in a snapshot
//! that a reload swaps ([`Gateway::live`], `watch`); SIGTERM drains it (`shutdown`).

pub mod admission;
pub mod attempt;
mod build;
pub mod call;
pub mod count;
mod envelope;
pub mod heap;
pub mod lifecycle;
pub mod live;
mod observe;
mod passthrough;
pub mod raw;
pub mod reject;
mod respond;
pub mod scrub;
pub mod serve;
mod shutdown;
pub mod signals;
pub mod splice;
pub mod state;
mod stream;
pub mod tls;
mod translated;
mod transport;
mod unframe;
pub mod upstream;
pub mod watch;

use std::net::SocketAddr;

use axum::serve::ListenerExt;
use std::sync::Arc;

pub use build::Base;
pub use live::{Live, LiveState};
pub use observe::event_usage;
/// For the fuzz target (`response_decode`).
#[doc(hidden)]
pub fn envelope_reader_agrees(text: &[u8]) -> bool {
    envelope::Envelope::reader_agrees(text)
}
pub use respond::error as error_response;
pub use respond::json as json_response;
pub use respond::overhead_header as respond_overhead;
pub use respond::stream_headers;
pub use state::{AppState, Observability};
pub use transport::Transport;

use crate::config::{Config, ConfigError, ConfigErrors};
use crate::providers::client::ClientError;
use crate::stack::auth::Principal;
use crate::stack::limits::LimitError;
use crate::telemetry::metrics::MetricsError;
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
    #[error(transparent)]
    Metrics(#[from] MetricsError),
    #[error(transparent)]
    Tls(#[from] tls::TlsError),
}

impl StartError {
    pub fn label(&self) -> &'static str {
        match self {
            StartError::Config(_) => "config",
            StartError::Bind { .. } => "bind",
            StartError::Client(e) => e.label(),
            StartError::Redis(e) => e.label(),
            StartError::Metrics(e) => e.label(),
            StartError::Tls(e) => e.label(),
        }
    }
}

/// Options for embedding a gateway.
#[derive(Default)]
pub struct GatewayOptions {
    /// One more key (and its principal), e.g. the launcher's random session token.
    pub extra_key: Option<(String, Principal)>,
    /// A cap on everything this gateway spends (the launcher's `--max-budget-usd`); the caller
    /// also adds it to the usage sinks so that calls are charged to it.
    pub session_budget: Option<Arc<crate::stack::budget::SessionBudget>>,
}

/// A bound, not yet serving, gateway.
pub struct Gateway {
    listener: tokio::net::TcpListener,
    /// The separate metrics port, when `metrics.listen` is set.
    metrics_listener: Option<tokio::net::TcpListener>,
    live: Arc<Live>,
    /// HTTPS on the main port (`tls:`).
    tls: Option<tokio_rustls::TlsAcceptor>,
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
        let metrics_addr = match config.metrics.listen.as_deref().filter(|_| config.metrics.enabled) {
            Some(a) => Some(a.parse::<SocketAddr>().map_err(|e| {
                ConfigErrors(vec![ConfigError { path: "metrics.listen".into(), message: format!("\"{a}\": {e}") }])
            })?),
            None => None,
        };
        let tls = config.tls.as_ref().map(tls::acceptor).transpose()?;
        let base = Base { sinks, extra_key: options.extra_key, session_budget: options.session_budget };
        let first = build::first(config.clone(), env, &base).await?;
        let live = Arc::new(Live::new(first, base));
        let listener =
            tokio::net::TcpListener::bind(listen).await.map_err(|source| StartError::Bind { addr: listen, source })?;
        let metrics_listener = match metrics_addr {
            Some(addr) => {
                Some(tokio::net::TcpListener::bind(addr).await.map_err(|source| StartError::Bind { addr, source })?)
            }
            None => None,
        };
        Ok(Gateway { listener, metrics_listener, live, tls })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// The separate metrics address, when configured.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_listener.as_ref().and_then(|l| l.local_addr().ok())
    }

    /// The config snapshot serving now.
    pub fn state(&self) -> Arc<AppState> {
        self.live.current()
    }

    /// The live config, for reloads.
    pub fn live(&self) -> Arc<Live> {
        self.live.clone()
    }

    /// Serves until `shutdown` resolves, then shuts down gracefully (see `shutdown`).
    pub async fn serve(self, shutdown: impl std::future::Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
        self.serve_with(shutdown, std::future::pending()).await
    }

    /// Like [`Gateway::serve`]; `hurry` (a second SIGTERM) skips the rest of the drain.
    pub async fn serve_with(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
        hurry: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let metrics = self.live.current().obs.metrics.clone();
        let upkeep = tokio::spawn(async move {
            let mut tick = tokio::time::interval(std::time::Duration::from_secs(5));
            loop {
                tick.tick().await;
                metrics.upkeep();
                heap::trim();
            }
        });
        let state = LiveState(self.live.clone());
        // The metrics port keeps answering while the main port drains.
        let metrics_server = self.metrics_listener.map(|l| {
            let app = crate::surfaces::metrics_router(state.clone());
            tokio::spawn(async move { axum::serve(l, app).await })
        });
        let app = crate::surfaces::Surfaces::new(state);
        let current = self.live.current();
        let limits = serve::ConnLimits::new(&current.config.limits, current.obs.metrics.clone());
        drop(current);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let stopped = async move {
            let _ = stopped.await;
        };
        let result = match self.tls {
            Some(acceptor) => {
                let server = serve::serve(tls::TlsListener::new(self.listener, acceptor)?, app, limits, stopped);
                shutdown::run(&self.live, server, stop, shutdown, hurry).await
            }
            None => {
                // Streams go out as many small writes; with Nagle on, each waits for the client's
                // delayed ACK (about 40 ms). Upstream sockets set TCP_NODELAY in the client; this
                // is the inbound side.
                let listener = self.listener.tap_io(|tcp| {
                    if let Err(e) = tcp.set_nodelay(true) {
                        tracing::debug!(error = %e, "could not set TCP_NODELAY");
                    }
                });
                let server = serve::serve(listener, app, limits, stopped);
                shutdown::run(&self.live, server, stop, shutdown, hurry).await
            }
        };
        upkeep.abort();
        if let Some(m) = metrics_server {
            m.abort();
        }
        result
    }
}

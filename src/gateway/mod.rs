//! Building and running a gateway from a config: `amux serve` and the launcher's in-process
//! gateway both call [`Gateway::bind`] then [`Gateway::serve`].

pub mod call;
mod observe;
mod passthrough;
mod respond;
pub mod splice;
pub mod state;
mod stream;
mod translated;
pub mod upstream;

use std::net::SocketAddr;
use std::sync::Arc;

pub use respond::error as error_response;
pub use respond::json as json_response;
pub use state::AppState;

use crate::config::{Config, ConfigErrors};
use crate::providers::Registry;
use crate::providers::client::ClientError;
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
}

impl StartError {
    pub fn label(&self) -> &'static str {
        match self {
            StartError::Config(_) => "config",
            StartError::Bind { .. } => "bind",
            StartError::Client(e) => e.label(),
        }
    }
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
        let registry = Registry::build(config, env)?;
        let state = Arc::new(AppState::new(registry, sinks)?);
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
        axum::serve(self.listener, app).with_graceful_shutdown(shutdown).await
    }
}

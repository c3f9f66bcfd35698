//! The in-process gateway: the same [`Gateway`] as `amux serve`, bound to 127.0.0.1 on a free
//! port for the length of one harness session, and a random session token for the harness.

use std::net::SocketAddr;
use std::sync::Arc;

use super::env::Env;
use super::error::LaunchError;
use crate::config::Config;
use crate::gateway::{Gateway, GatewayOptions};
use crate::stack::auth::Principal;
use crate::stack::budget::SessionBudget;
use crate::usage::{UsageSink, UsageSinks};

/// A 256-bit random token, hex, from the operating system's generator.
pub fn session_token() -> Result<String, LaunchError> {
    let mut buf = [0u8; 32];
    #[cfg(unix)]
    {
        use std::io::Read;
        std::fs::File::open("/dev/urandom")
            .and_then(|mut f| f.read_exact(&mut buf))
            .map_err(|e| LaunchError::io("reading /dev/urandom for the session token", e))?;
    }
    #[cfg(not(unix))]
    for b in buf.iter_mut() {
        *b = fastrand::u8(..);
    }
    Ok(format!("amux-session-{}", buf.iter().map(|b| format!("{b:02x}")).collect::<String>()))
}

/// Options of the in-process gateway beyond its config.
#[derive(Clone, Default)]
pub struct InProcessOptions {
    /// The token the harness is given as its key; the gateway accepts it as one more key (with
    /// access to every model), alongside any keys of the user's config.
    pub session_token: Option<String>,
    /// More usage sinks (the `--observe` recorder).
    pub sinks: Vec<Arc<dyn UsageSink>>,
    /// The session's cap (`--max-budget-usd`); charged as one more sink.
    pub session_budget: Option<Arc<SessionBudget>>,
}

/// A running in-process gateway; stopped by [`InProcessGateway::stop`] or on drop.
pub struct InProcessGateway {
    pub addr: SocketAddr,
    pub options: InProcessOptions,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
    handle: tokio::runtime::Handle,
}

impl InProcessGateway {
    /// Binds 127.0.0.1:0 and starts serving on the runtime.
    pub fn start(
        rt: &tokio::runtime::Runtime,
        config: &Config,
        env: &Env,
        options: InProcessOptions,
    ) -> Result<InProcessGateway, LaunchError> {
        let env = env.clone();
        let env_fn = move |k: &str| env.owned(k);
        let listen = SocketAddr::from(([127, 0, 0, 1], 0));
        let mut sinks: Vec<Arc<dyn UsageSink>> = vec![Arc::new(crate::usage::LogSink::default())];
        sinks.extend(options.sinks.iter().cloned());
        if let Some(b) = &options.session_budget {
            sinks.push(b.clone());
        }
        let sinks = UsageSinks::new(sinks);
        let extra_key = options.session_token.clone().map(|t| {
            let principal = Principal { name: "amux-launch".into(), ..Principal::default() };
            (t, principal)
        });
        let gateway = rt.block_on(Gateway::bind_with(
            config,
            listen,
            &env_fn,
            sinks,
            GatewayOptions { extra_key, session_budget: options.session_budget.clone() },
        ))?;
        let addr = gateway.local_addr().map_err(|e| LaunchError::io("reading the gateway's address", e))?;
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let task = rt.spawn(gateway.serve(async move {
            let _ = rx.await;
        }));
        Ok(InProcessGateway { addr, options, shutdown: Some(tx), task: Some(task), handle: rt.handle().clone() })
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting, lets in-flight calls finish for up to five seconds.
    pub fn stop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = self.handle.block_on(async { tokio::time::timeout(std::time::Duration::from_secs(5), task).await });
        }
    }
}

impl Drop for InProcessGateway {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn tokens_are_long_and_distinct() {
        let a = super::session_token().unwrap();
        let b = super::session_token().unwrap();
        assert_ne!(a, b);
        assert_eq!(a.len(), "amux-session-".len() + 64);
    }
}

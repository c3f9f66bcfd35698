//! Process signals of `amux serve`: SIGTERM or Ctrl-C starts a graceful shutdown and a second one
//! cuts it short; SIGHUP asks for a config reload (see `watch`).

use std::future::Future;

use tokio::sync::watch;

/// Two futures: the first termination signal, and the second.
pub fn termination() -> (impl Future<Output = ()> + Send + 'static, impl Future<Output = ()> + Send + 'static) {
    let (tx, rx) = watch::channel(0u32);
    tokio::spawn(async move {
        #[cfg(unix)]
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
        loop {
            #[cfg(unix)]
            let term_signal = async {
                let got = match term.as_mut() {
                    Some(s) => s.recv().await.is_some(),
                    None => false,
                };
                if !got {
                    std::future::pending::<()>().await
                }
            };
            #[cfg(not(unix))]
            let term_signal = std::future::pending::<()>();
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                () = term_signal => {}
            }
            tx.send_modify(|n| *n += 1);
        }
    });
    let nth = |n: u32, mut rx: watch::Receiver<u32>| async move {
        // An error means the signal task ended, which it never does: wait forever then.
        if rx.wait_for(|c| *c >= n).await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    (nth(1, rx.clone()), nth(2, rx))
}

/// Resolves at each SIGHUP (never on platforms without it, or if it cannot be installed).
pub struct Hangup {
    #[cfg(unix)]
    signal: Option<tokio::signal::unix::Signal>,
}

impl Hangup {
    /// Installs the handler (which also keeps SIGHUP from terminating the process).
    pub fn new() -> Hangup {
        #[cfg(unix)]
        {
            let signal = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup());
            if let Err(e) = &signal {
                tracing::warn!(error = %e, "cannot listen for SIGHUP; reload by file change only");
            }
            Hangup { signal: signal.ok() }
        }
        #[cfg(not(unix))]
        Hangup {}
    }

    pub async fn recv(&mut self) {
        #[cfg(unix)]
        if let Some(s) = self.signal.as_mut()
            && s.recv().await.is_some()
        {
            return;
        }
        std::future::pending::<()>().await
    }
}

impl Default for Hangup {
    fn default() -> Self {
        Hangup::new()
    }
}

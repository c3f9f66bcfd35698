//! Graceful shutdown of a serving gateway. When the shutdown signal (SIGTERM) arrives:
//!
//! 1. readiness answers 503 at once (`amux_draining` 1), and for `lifecycle.shutdown_delay_secs`
//!    new connections are still accepted and served, so load balancers notice first;
//! 2. then the listener closes; calls and streams in flight run to their end;
//! 3. at `lifecycle.drain_timeout_secs` after the signal, those still running end with an error
//!    in their caller's dialect (an error event for streams, counted in
//!    `amux_shutdown_cut_total`), and after a short grace for those to be written, serving ends.
//!
//! Open WebSockets (Responses over WebSocket) are counted in the lifecycle: they close once their
//! turn in flight ends, and the drain waits for them like for other calls.
//!
//! A second signal (`hurry`) jumps to step 3.

use std::future::{Future, IntoFuture};
use std::sync::Arc;
use std::time::Duration;

use tokio::time::{Instant, sleep, sleep_until};

use super::live::Live;

/// How long calls ended by the deadline get to write their error before connections drop.
const DEADLINE_GRACE: Duration = Duration::from_secs(1);

/// Runs `server` (built with `stop` as its graceful-shutdown trigger) through the schedule above.
pub async fn run<S>(
    live: &Arc<Live>,
    server: S,
    stop: tokio::sync::oneshot::Sender<()>,
    shutdown: impl Future<Output = ()>,
    hurry: impl Future<Output = ()>,
) -> std::io::Result<()>
where
    S: IntoFuture<Output = std::io::Result<()>>,
{
    let server = server.into_future();
    tokio::pin!(server, shutdown, hurry);
    tokio::select! {
        r = &mut server => return r,
        () = &mut shutdown => {}
    }
    let state = live.current();
    let settings = state.config.lifecycle;
    let started = Instant::now();
    let deadline = started + Duration::from_secs_f64(settings.drain_timeout_secs);
    state.lifecycle.start_draining();
    tracing::info!(
        delay_secs = settings.shutdown_delay_secs,
        drain_timeout_secs = settings.drain_timeout_secs,
        "shutting down: readiness fails now, new connections are served until the delay ends, calls drain until the timeout"
    );
    let mut hurried = false;
    tokio::select! {
        r = &mut server => return r,
        () = sleep(Duration::from_secs_f64(settings.shutdown_delay_secs)) => {}
        () = &mut hurry => hurried = true,
    }
    let _ = stop.send(());
    tracing::info!("no longer accepting connections; draining calls in flight");
    if !hurried {
        tokio::select! {
            r = &mut server => {
                // WebSockets left the HTTP server's tracking when they upgraded: wait for them.
                tokio::select! {
                    () = state.lifecycle.sockets_closed() => {
                        tracing::info!(secs = started.elapsed().as_secs_f64(), "drained");
                        return r;
                    }
                    () = sleep_until(deadline) => {}
                    () = &mut hurry => {}
                }
                tracing::warn!("drain deadline: ending the WebSocket turns still running with an error");
                state.lifecycle.reach_deadline();
                let _ = tokio::time::timeout(DEADLINE_GRACE, state.lifecycle.sockets_closed()).await;
                return r;
            }
            () = sleep_until(deadline) => {}
            () = &mut hurry => {}
        }
    }
    tracing::warn!("drain deadline: ending the calls and streams still running with an error");
    state.lifecycle.reach_deadline();
    let r = match tokio::time::timeout(DEADLINE_GRACE, &mut server).await {
        Ok(r) => r,
        Err(_) => {
            tracing::warn!("connections still open after the deadline's grace: closing them");
            Ok(())
        }
    };
    let _ = tokio::time::timeout(DEADLINE_GRACE, state.lifecycle.sockets_closed()).await;
    r
}

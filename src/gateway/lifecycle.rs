//! The gateway's shutdown state, shared by every config snapshot: `draining` (set when SIGTERM
//! arrives; readiness answers 503 from then on) and the drain deadline (calls and streams still
//! running then end with an error in their caller's dialect, counted in metrics).

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use tokio_util::sync::CancellationToken;

use crate::ir::{ApiError, ErrorKind};
use crate::telemetry::metrics::Metrics;

/// The error label of calls and streams ended by the drain deadline.
pub const SHUTDOWN_KIND: &str = "shutdown";

/// Shutdown state of one gateway.
pub struct Lifecycle {
    draining: AtomicBool,
    /// Cancelled when shutdown begins (open WebSockets close once idle).
    drain_started: CancellationToken,
    deadline: CancellationToken,
    metrics: Arc<Metrics>,
    /// Open WebSockets: upgraded connections, which the HTTP server's graceful shutdown no
    /// longer tracks, so the drain waits for them here.
    sockets: AtomicUsize,
    sockets_idle: tokio::sync::Notify,
}

/// Counts one open WebSocket until dropped.
pub struct SocketGuard(Arc<Lifecycle>);

impl Drop for SocketGuard {
    fn drop(&mut self) {
        if self.0.sockets.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.0.sockets_idle.notify_waiters();
        }
    }
}

impl Lifecycle {
    pub fn new(metrics: Arc<Metrics>) -> Lifecycle {
        Lifecycle {
            draining: AtomicBool::new(false),
            drain_started: CancellationToken::new(),
            deadline: CancellationToken::new(),
            metrics,
            sockets: AtomicUsize::new(0),
            sockets_idle: tokio::sync::Notify::new(),
        }
    }

    /// Counts an open WebSocket until the guard is dropped.
    pub fn socket(self: &Arc<Self>) -> SocketGuard {
        self.sockets.fetch_add(1, Ordering::AcqRel);
        SocketGuard(self.clone())
    }

    /// Resolves when no WebSocket is open.
    pub async fn sockets_closed(&self) {
        loop {
            let idle = self.sockets_idle.notified();
            if self.sockets.load(Ordering::Acquire) == 0 {
                return;
            }
            idle.await;
        }
    }

    /// Resolves when shutdown begins.
    pub fn draining_started(&self) -> impl Future<Output = ()> + Send + 'static {
        self.drain_started.clone().cancelled_owned()
    }

    /// True once shutdown began: readiness fails.
    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::Relaxed)
    }

    /// Shutdown began.
    pub fn start_draining(&self) {
        self.draining.store(true, Ordering::Relaxed);
        self.drain_started.cancel();
        self.metrics.draining();
    }

    /// The drain deadline passed: every [`Drain`] fires.
    pub fn reach_deadline(&self) {
        self.deadline.cancel();
    }

    /// A handle for one call or response body.
    pub fn drain(&self) -> Drain {
        // The shared token, not a child per call: a child costs an allocation and two locks of
        // the parent (added, then removed) besides its own notifier, where a waiter on the
        // shared one costs its two locks of that notifier only (perf: the child tokens took
        // about 1% of a call's CPU).
        Drain { token: self.deadline.clone(), metrics: self.metrics.clone() }
    }
}

/// The drain deadline as one call sees it.
pub struct Drain {
    token: CancellationToken,
    metrics: Arc<Metrics>,
}

impl Drain {
    /// Resolves at the drain deadline (cancel-safe; the owned future can be kept across polls).
    pub fn deadline(&self) -> impl Future<Output = ()> + Send + 'static {
        self.token.clone().cancelled_owned()
    }

    /// Counts a call or stream ended by the deadline; returns the error to send in its place.
    pub fn cut(&self) -> ApiError {
        self.metrics.shutdown_cut();
        ApiError::new(
            ErrorKind::Unavailable,
            "amux is shutting down and its drain timeout passed before this answer ended; retry the request",
        )
    }
}

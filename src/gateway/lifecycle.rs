//! The gateway's shutdown state, shared by every config snapshot: `draining` (set when SIGTERM
//! arrives; readiness answers 503 from then on) and the drain deadline (calls and streams still
//! running then end with an error in their caller's dialect, counted in metrics).

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio_util::sync::CancellationToken;

use crate::ir::{ApiError, ErrorKind};
use crate::telemetry::metrics::Metrics;

/// The error label of calls and streams ended by the drain deadline.
pub const SHUTDOWN_KIND: &str = "shutdown";

/// Shutdown state of one gateway.
pub struct Lifecycle {
    draining: AtomicBool,
    deadline: CancellationToken,
    metrics: Arc<Metrics>,
}

impl Lifecycle {
    pub fn new(metrics: Arc<Metrics>) -> Lifecycle {
        Lifecycle { draining: AtomicBool::new(false), deadline: CancellationToken::new(), metrics }
    }

    /// True once shutdown began: readiness fails.
    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::Relaxed)
    }

    /// Shutdown began.
    pub fn start_draining(&self) {
        self.draining.store(true, Ordering::Relaxed);
        self.metrics.draining();
    }

    /// The drain deadline passed: every [`Drain`] fires.
    pub fn reach_deadline(&self) {
        self.deadline.cancel();
    }

    /// A handle for one call or response body.
    pub fn drain(&self) -> Drain {
        // A child token per call: each waits on its own notifier, not on one shared by all calls.
        Drain { token: self.deadline.child_token(), metrics: self.metrics.clone() }
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

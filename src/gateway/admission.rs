//! Load shedding: at most `limits.max_in_flight` model calls and token counts are handled at once
//! (from before their body is read to the last byte of their answer, streams included). A call
//! past that is refused at once with 503 and `Retry-After`, in the caller's format, instead of
//! queueing until the process runs out of memory.
//!
//! tower's `ConcurrencyLimit` + `LoadShed` would shed the same way, but their permit ends when the
//! response *headers* are ready: a streamed answer (most calls) would no longer count while it
//! streams. Here the permit travels with the call: into its `CallGuard`, which the streaming body
//! owns, so it is released when the answer's last byte is sent or the client goes away. The cost
//! per call is one atomic compare-and-swap to take the permit and one add to give it back.

use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::ir::{ApiError, Dialect, ErrorKind};
use crate::telemetry::metrics::{GaugeGuard, Metrics};

/// The in-flight limit of one gateway (shared by every config snapshot).
pub struct Admission {
    permits: Arc<Semaphore>,
    max: usize,
}

/// One admitted call: its permit and, for model calls, its place in `amux_requests_in_flight`.
/// Dropping it ends the call's admission.
pub struct InFlight {
    _permit: OwnedSemaphorePermit,
    _gauge: Option<GaugeGuard>,
}

impl Admission {
    pub fn new(max: usize) -> Admission {
        let max = max.clamp(1, Semaphore::MAX_PERMITS);
        Admission { permits: Arc::new(Semaphore::new(max)), max }
    }

    /// Admits a call (counted in flight for `surface` when `count` is set), or refuses it with a
    /// 503 telling the caller to retry after `retry_after_secs`.
    pub fn admit(
        &self,
        metrics: &Metrics,
        surface: Dialect,
        count: bool,
        retry_after_secs: u64,
    ) -> Result<InFlight, ApiError> {
        match self.permits.clone().try_acquire_owned() {
            Ok(permit) => Ok(InFlight { _permit: permit, _gauge: count.then(|| metrics.in_flight(surface)) }),
            Err(_) => {
                metrics.limit_hit("max_in_flight");
                let mut e = ApiError::new(
                    ErrorKind::Unavailable,
                    format!("amux is handling its limit of {} calls at once; retry shortly", self.max),
                );
                e.retry_after = Some(retry_after_secs.to_string());
                Err(e)
            }
        }
    }

    /// Calls being handled now.
    pub fn in_flight(&self) -> usize {
        self.max - self.permits.available_permits()
    }
}

//! The Redis connection shared by the rate limiter, budgets and the response cache, and what
//! keeps a dead Redis off the call path: every operation has a short timeout
//! (`redis.timeout_ms`), and a breaker opens on the first connection failure or timeout, after
//! which calls do not ask Redis at all (they fail open or closed at once, as `redis.on_failure`
//! says) while one background task pings it every `redis.retry_interval_ms`; the first answer
//! closes the breaker. Redis down at start is the same: the gateway starts, the breaker open.
//!
//! Without this, the connection manager's own reconnect (retries with exponential backoff) made
//! every call wait for it: about 9.4 s per call with Redis gone.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{RedisError, RedisResult};

/// Why a Redis operation did not happen.
#[derive(Debug, thiserror::Error)]
pub enum RedisDown {
    #[error("redis unreachable (not asked until it answers again)")]
    Open,
    #[error("redis: no answer within {0:?}")]
    Timeout(Duration),
    #[error("redis: {0}")]
    Error(#[from] RedisError),
}

/// Timeouts of the link.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    /// Per operation (and per probe).
    pub timeout: Duration,
    /// Between probes while the breaker is open.
    pub retry: Duration,
}

struct Inner {
    conn: ConnectionManager,
    prefix: String,
    timing: Timing,
    /// The breaker: open while Redis is considered down.
    open: AtomicBool,
    /// A probe task is running.
    probing: AtomicBool,
}

/// A shared, guarded Redis connection (cheap to clone).
#[derive(Clone)]
pub struct Redis(Arc<Inner>);

impl Redis {
    /// Connects to `url` (without waiting for Redis to be up: when the first ping fails the
    /// breaker starts open and a probe keeps trying).
    pub async fn connect(url: &str, prefix: &str, timing: Timing) -> Result<Redis, RedisError> {
        let client = redis::Client::open(url)?;
        // No retries inside the manager: a failed connect is retried by the next probe, so no
        // caller ever waits on the manager's backoff.
        let config = ConnectionManagerConfig::new()
            .set_number_of_retries(0)
            .set_min_delay(Duration::from_millis(10))
            .set_connection_timeout(Some(timing.timeout.max(Duration::from_millis(500))))
            .set_response_timeout(Some(timing.timeout));
        let conn = ConnectionManager::new_lazy_with_config(client, config)?;
        let redis = Redis(Arc::new(Inner {
            conn,
            prefix: prefix.to_string(),
            timing,
            open: AtomicBool::new(false),
            probing: AtomicBool::new(false),
        }));
        if !redis.ping(timing.timeout.max(Duration::from_millis(500))).await {
            tracing::warn!(
                "redis unreachable at start; limits, budgets and the cache follow redis.on_failure until it answers"
            );
            redis.trip();
        }
        Ok(redis)
    }

    /// The prefix of every key amux writes.
    pub fn prefix(&self) -> &str {
        &self.0.prefix
    }

    /// A handle for building one operation (cheap).
    pub fn conn(&self) -> ConnectionManager {
        self.0.conn.clone()
    }

    /// Whether Redis is being asked (the breaker is closed).
    pub fn is_up(&self) -> bool {
        !self.0.open.load(Ordering::Relaxed)
    }

    /// Runs one operation under the timeout; not at all while the breaker is open. A
    /// connection failure or a timeout opens it.
    pub async fn run<T>(&self, op: impl Future<Output = RedisResult<T>>) -> Result<T, RedisDown> {
        if !self.is_up() {
            return Err(RedisDown::Open);
        }
        match tokio::time::timeout(self.0.timing.timeout, op).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => {
                if e.is_io_error() || e.is_connection_dropped() || e.is_connection_refusal() || e.is_timeout() {
                    self.trip();
                }
                Err(RedisDown::Error(e))
            }
            Err(_) => {
                self.trip();
                Err(RedisDown::Timeout(self.0.timing.timeout))
            }
        }
    }

    async fn ping(&self, timeout: Duration) -> bool {
        let mut conn = self.conn();
        let cmd = redis::cmd("PING");
        matches!(tokio::time::timeout(timeout, cmd.query_async::<String>(&mut conn)).await, Ok(Ok(_)))
    }

    /// Opens the breaker and starts the probe (once).
    fn trip(&self) {
        if !self.0.open.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                retry_ms = self.0.timing.retry.as_millis() as u64,
                "redis unreachable: not asked until it answers a ping"
            );
        }
        if self.0.probing.swap(true, Ordering::Relaxed) {
            return;
        }
        let weak: Weak<Inner> = Arc::downgrade(&self.0);
        let Ok(rt) = tokio::runtime::Handle::try_current() else { return };
        rt.spawn(async move {
            loop {
                let Some(retry) = weak.upgrade().map(|i| i.timing.retry) else { return };
                tokio::time::sleep(retry).await;
                // Gone with the gateway.
                let Some(inner) = weak.upgrade() else { return };
                let redis = Redis(inner);
                if redis.ping(redis.0.timing.timeout.max(Duration::from_millis(500))).await {
                    redis.0.probing.store(false, Ordering::Relaxed);
                    redis.0.open.store(false, Ordering::Relaxed);
                    tracing::info!("redis answers again");
                    return;
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn down_at_start_costs_nothing_per_operation() {
        // Nothing listens on port 9 of the loopback: refused at once.
        let timing = Timing { timeout: Duration::from_millis(50), retry: Duration::from_secs(60) };
        let r = Redis::connect("redis://127.0.0.1:9", "t:", timing).await.unwrap();
        assert!(!r.is_up());
        let t0 = std::time::Instant::now();
        for _ in 0..100 {
            let (mut c, mut cmd) = (r.conn(), redis::cmd("GET"));
            cmd.arg("k");
            assert!(matches!(r.run(cmd.query_async::<Option<String>>(&mut c)).await, Err(RedisDown::Open)));
        }
        assert!(t0.elapsed() < Duration::from_millis(50), "{:?}", t0.elapsed());
    }
}

//! Requests- and tokens-per-minute limits per key, per model alias and per deployment, in fixed
//! one-minute windows. One backend per gateway: in process for a single replica, or Redis (one
//! Lua script per admission, so N replicas enforce one limit, not N times it).
//!
//! TPM is charged with an estimate when a call is admitted and reconciled with the real usage
//! when the call ends (also for streams and disconnected clients), in the same window.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures_util::FutureExt;
use redis::Script;

use crate::config::FailMode;
use crate::ir::{ApiError, ErrorKind};
use crate::stack::redis::{Redis, RedisDown, Timing};
use crate::stack::service::{ModelCall, ModelService};
use crate::usage::CallGuard;
use axum::body::Body;
use http::Response;

/// One limited thing: `key:alice`, `alias:sonnet`, `deployment:anthropic/claude-sonnet-4-5`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    pub id: String,
    pub rpm: Option<u64>,
    pub tpm: Option<u64>,
}

impl Scope {
    /// The scope `{kind}:{name}` (`key:alice`), when it has a limit; the id is only built then,
    /// and without `format!` (this runs for every call).
    pub fn named(kind: &str, name: &str, rpm: Option<u64>, tpm: Option<u64>) -> Option<Scope> {
        if rpm.is_none() && tpm.is_none() {
            return None;
        }
        let mut id = String::with_capacity(kind.len() + 1 + name.len());
        id.push_str(kind);
        id.push(':');
        id.push_str(name);
        Some(Scope { id, rpm, tpm })
    }
}

/// What was charged, for reconciliation.
#[derive(Debug, Clone, Default)]
pub struct Charge {
    pub scopes: Vec<Scope>,
    pub window: u64,
    pub tokens: u64,
}

/// Errors of the limiter itself (not "over the limit", which is an [`ApiError`] 429).
#[derive(Debug, thiserror::Error)]
pub enum LimitError {
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
}

impl LimitError {
    pub fn label(&self) -> &'static str {
        "redis"
    }
}

const ADMIT: &str = r#"
-- KEYS: rpm_1, tpm_1, rpm_2, tpm_2, ... ; ARGV: ttl, tokens, rpm_1, tpm_1, rpm_2, tpm_2, ...
local tokens = tonumber(ARGV[2])
for i = 1, #KEYS / 2 do
  local rpm = tonumber(ARGV[1 + 2 * i])
  local tpm = tonumber(ARGV[2 + 2 * i])
  if rpm > 0 and tonumber(redis.call('GET', KEYS[2 * i - 1]) or '0') + 1 > rpm then return i end
  local used = tonumber(redis.call('GET', KEYS[2 * i]) or '0')
  if tpm > 0 and used > 0 and used + tokens > tpm then return -i end
end
for i = 1, #KEYS / 2 do
  redis.call('INCR', KEYS[2 * i - 1])
  redis.call('EXPIRE', KEYS[2 * i - 1], ARGV[1])
  redis.call('INCRBY', KEYS[2 * i], tokens)
  redis.call('EXPIRE', KEYS[2 * i], ARGV[1])
end
return 0
"#;

/// One scope's counts in one window.
#[derive(Default, Clone, Copy)]
struct Counters {
    window: u64,
    requests: u64,
    tokens: i64,
}

/// A scope's counts in the current window and the one before (a call admitted just before the
/// minute turned is reconciled in its own window).
#[derive(Default)]
struct Windows([Counters; 2]);

impl Windows {
    /// The counts of `window`, made (replacing the oldest) when absent.
    fn at(&mut self, window: u64) -> &mut Counters {
        let [a, b] = &mut self.0;
        if a.window == window {
            return a;
        }
        if b.window == window {
            return b;
        }
        let old = if a.window <= b.window { a } else { b };
        *old = Counters { window, ..Counters::default() };
        old
    }

    fn get(&self, window: u64) -> Option<&Counters> {
        self.0.iter().find(|c| c.window == window && (c.requests > 0 || c.tokens != 0))
    }

    fn stale(&self, window: u64) -> bool {
        self.0.iter().all(|c| c.window + 1 < window)
    }
}

/// The in-process counts: scope id -> its windows. Looked up by `&str` (no key copied per
/// call); scopes idle for two windows are dropped when the minute turns.
#[derive(Default)]
struct MemoryCounts {
    scopes: HashMap<String, Windows, foldhash::fast::RandomState>,
    pruned: u64,
}

impl MemoryCounts {
    /// The counts of `id` in `window`, made when absent (`None` never happens).
    fn at(&mut self, id: &str, window: u64) -> Option<&mut Counters> {
        if !self.scopes.contains_key(id) {
            self.scopes.insert(id.to_owned(), Windows::default());
        }
        self.scopes.get_mut(id).map(|w| w.at(window))
    }

    /// Drops the scopes idle for two windows, once per window.
    fn prune(&mut self, window: u64) {
        if self.pruned != window {
            self.pruned = window;
            self.scopes.retain(|_, w| !w.stale(window));
        }
    }
}

enum Backend {
    Memory(Mutex<MemoryCounts>),
    Redis { redis: Redis, on_failure: FailMode, script: Script },
}

/// The rate limiter.
pub struct Limiter {
    backend: Backend,
}

fn now_window() -> (u64, Duration) {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    let window = now.as_secs() / 60;
    let left = Duration::from_secs((window + 1) * 60).saturating_sub(now);
    (window, left)
}

fn over(scope: &Scope, what: &str, left: Duration) -> ApiError {
    let mut e = ApiError::new(
        ErrorKind::RateLimit,
        format!("rate limit: {what} per minute of {} exceeded; retry after {}s", scope.id, left.as_secs().max(1)),
    );
    e.retry_after = Some(left.as_secs().max(1).to_string());
    e
}

impl Limiter {
    pub fn memory() -> Limiter {
        Limiter { backend: Backend::Memory(Mutex::new(MemoryCounts::default())) }
    }

    /// Over Redis (`stack::redis`: short timeouts, a breaker; Redis may be down at start).
    pub async fn redis(url: &str, prefix: &str, on_failure: FailMode, timing: Timing) -> Result<Limiter, LimitError> {
        let redis = Redis::connect(url, prefix, timing).await?;
        Ok(Limiter { backend: Backend::Redis { redis, on_failure, script: Script::new(ADMIT) } })
    }

    /// The Redis connection, for budgets and the cache to share.
    pub fn redis_connection(&self) -> Option<Redis> {
        match &self.backend {
            Backend::Redis { redis, .. } => Some(redis.clone()),
            Backend::Memory(_) => None,
        }
    }

    /// Admits a call charging one request and `tokens` to every scope, or refuses it with a 429
    /// naming the scope. Nothing is charged when any scope refuses.
    pub async fn admit(&self, scopes: Vec<Scope>, tokens: u64) -> Result<Charge, ApiError> {
        let (window, left) = now_window();
        if scopes.is_empty() {
            return Ok(Charge { scopes, window, tokens });
        }
        match &self.backend {
            Backend::Memory(map) => {
                let mut map = map.lock().unwrap_or_else(|p| p.into_inner());
                map.prune(window);
                for s in &scopes {
                    let c = map.scopes.get(s.id.as_str()).and_then(|w| w.get(window));
                    let (reqs, used) = c.map(|c| (c.requests, c.tokens.max(0) as u64)).unwrap_or((0, 0));
                    if s.rpm.is_some_and(|r| reqs + 1 > r) {
                        return Err(over(s, "requests", left));
                    }
                    if s.tpm.is_some_and(|t| used > 0 && used + tokens > t) {
                        return Err(over(s, "tokens", left));
                    }
                }
                for s in &scopes {
                    if let Some(c) = map.at(&s.id, window) {
                        c.requests += 1;
                        c.tokens += tokens as i64;
                    }
                }
                Ok(Charge { scopes, window, tokens })
            }
            Backend::Redis { redis, on_failure, script } => {
                let prefix = redis.prefix();
                let mut inv = script.prepare_invoke();
                inv.arg(120).arg(tokens);
                for s in &scopes {
                    inv.key(format!("{prefix}rl:{}:{window}:r", s.id)).key(format!("{prefix}rl:{}:{window}:t", s.id));
                    inv.arg(s.rpm.unwrap_or(0)).arg(s.tpm.unwrap_or(0));
                }
                let mut conn = redis.conn();
                match redis.run(inv.invoke_async::<i64>(&mut conn)).await {
                    Ok(0) => Ok(Charge { scopes, window, tokens }),
                    Ok(i) => {
                        let s = &scopes[(i.unsigned_abs() as usize).saturating_sub(1).min(scopes.len() - 1)];
                        Err(over(s, if i > 0 { "requests" } else { "tokens" }, left))
                    }
                    Err(e) => {
                        if !matches!(e, RedisDown::Open) {
                            tracing::warn!(error = %e, mode = ?on_failure, "rate limiter cannot reach redis");
                        }
                        match on_failure {
                            FailMode::Open => Ok(Charge { scopes: Vec::new(), window, tokens }),
                            FailMode::Closed => Err(ApiError::new(
                                ErrorKind::Unavailable,
                                "rate limiter unavailable (redis unreachable, fail-closed)",
                            )),
                        }
                    }
                }
            }
        }
    }

    /// Corrects the token charge once the real usage is known.
    pub async fn reconcile(&self, charge: &Charge, actual_tokens: u64) {
        let delta = actual_tokens as i64 - charge.tokens as i64;
        if delta == 0 || charge.scopes.is_empty() {
            return;
        }
        match &self.backend {
            Backend::Memory(map) => {
                let mut map = map.lock().unwrap_or_else(|p| p.into_inner());
                for s in &charge.scopes {
                    if let Some(c) = map.at(&s.id, charge.window) {
                        c.tokens += delta;
                    }
                }
            }
            Backend::Redis { redis, .. } => {
                let mut pipe = redis::pipe();
                for s in &charge.scopes {
                    let key = format!("{}rl:{}:{}:t", redis.prefix(), s.id, charge.window);
                    pipe.cmd("INCRBY").arg(&key).arg(delta).ignore().cmd("EXPIRE").arg(&key).arg(120).ignore();
                }
                let mut conn = redis.conn();
                if let Err(e) = redis.run(pipe.query_async::<()>(&mut conn)).await {
                    tracing::debug!(error = %e, "rate limiter could not reconcile tokens in redis");
                }
            }
        }
    }
}

/// A cheap token estimate for admission: about four bytes per token of request body.
pub fn estimate_tokens(body_len: usize) -> u64 {
    (body_len as u64).div_ceil(4)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope(rpm: Option<u64>, tpm: Option<u64>) -> Vec<Scope> {
        vec![Scope { id: "key:a".into(), rpm, tpm }]
    }

    /// Each scope keeps its current and previous window; a third replaces the older, and scopes
    /// idle for two windows go when the minute turns.
    #[test]
    fn memory_windows_roll_over_and_idle_scopes_go() {
        let mut m = MemoryCounts::default();
        m.at("key:a", 10).unwrap().requests = 3;
        m.at("key:a", 11).unwrap().requests = 1;
        let w = &m.scopes["key:a"];
        assert_eq!((w.get(10).unwrap().requests, w.get(11).unwrap().requests), (3, 1));
        m.at("key:a", 12).unwrap().tokens = 5;
        let w = &m.scopes["key:a"];
        assert!(w.get(10).is_none());
        assert_eq!((w.get(11).unwrap().requests, w.get(12).unwrap().tokens), (1, 5));
        m.at("key:b", 12).unwrap().requests = 1;
        m.prune(13);
        assert_eq!(m.scopes.len(), 2);
        m.prune(14);
        assert!(m.scopes.is_empty());
    }

    #[tokio::test]
    async fn memory_rpm_and_tpm() {
        let l = Limiter::memory();
        for _ in 0..3 {
            l.admit(scope(Some(3), None), 10).await.unwrap();
        }
        let e = l.admit(scope(Some(3), None), 10).await.unwrap_err();
        assert_eq!(e.status, 429);
        assert!(e.retry_after.is_some() && e.message.contains("key:a"));
        let l = Limiter::memory();
        let c = l.admit(scope(None, Some(100)), 60).await.unwrap();
        assert_eq!(l.admit(scope(None, Some(100)), 60).await.unwrap_err().status, 429);
        // The first call really used 20 tokens: the refund makes room.
        l.reconcile(&c, 20).await;
        l.admit(scope(None, Some(100)), 60).await.unwrap();
    }
}

/// Corrects the limiter's token estimate with the call's real usage when it ends.
pub fn reconcile_on_end(guard: &mut CallGuard, limiter: &Arc<Limiter>, charge: Charge) {
    if charge.scopes.is_empty() {
        return;
    }
    let limiter = limiter.clone();
    guard.on_end(Box::new(move |rec| {
        let used = rec.usage.total_input() + rec.usage.output_tokens;
        // In process it never waits, so it is done here (no task per call); over Redis, in a
        // task, so the call never waits on the network.
        if limiter.redis_connection().is_none() {
            let _ = limiter.reconcile(&charge, used).now_or_never();
            return;
        }
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move { limiter.reconcile(&charge, used).await });
        }
    }));
}

layer! {
    /// Checks and charges RPM and an estimate of TPM per key and per alias (429 with Retry-After
    /// over a limit); the charge goes down with the call to be reconciled when it ends.
    RateLimitLayer => RateLimitService
}

impl<S: ModelService> ModelService for RateLimitService<S> {
    async fn call<'a, 'c: 'a>(&'a self, call: &'a mut ModelCall<'c>) -> Response<Body> {
        let scopes: Vec<Scope> = [
            call.inbound.principal.as_ref().and_then(|p| Scope::named("key", &p.name, p.rpm, p.tpm)),
            Scope::named("alias", &call.alias.name, call.alias.rpm, call.alias.tpm),
        ]
        .into_iter()
        .flatten()
        .collect();
        match call.state.limiter.admit(scopes, estimate_tokens(call.inbound.body.len())).await {
            Ok(c) => call.charge = Some(c),
            Err(e) => return call.refuse(&e, None),
        }
        self.0.call(call).await
    }
}

//! The usage record every call produces, exactly once, and the sinks that observe it (logs,
//! metrics, budgets; rate-limit reconciliation and trace attributes run as end hooks). A
//! [`CallGuard`] emits the record when the call ends, including when the client disconnects
//! mid-stream and the response body is dropped. A call refused before it was routed (bad request,
//! unknown model, key, limit, budget) emits one [`Rejection`] instead.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::ir::{Dialect, ErrorKind, Usage};

/// How a call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Success,
    /// Failed with this HTTP status and error-kind label (before or during the stream).
    Error {
        status: u16,
        kind: &'static str,
    },
    /// The client went away before the response was complete.
    ClientDisconnected,
}

impl Outcome {
    pub fn label(&self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Error { .. } => "error",
            Outcome::ClientDisconnected => "client_disconnected",
        }
    }

    /// The HTTP status the caller saw (200 for a disconnect: the headers had been sent or the
    /// caller left before any answer).
    pub fn status(&self) -> u16 {
        match self {
            Outcome::Error { status, .. } => *status,
            _ => 200,
        }
    }

    /// `2xx`, `4xx`, `5xx`, or `disconnected`.
    pub fn status_class(&self) -> &'static str {
        match self {
            Outcome::Success => "2xx",
            Outcome::Error { status, .. } => status_class(*status),
            Outcome::ClientDisconnected => "disconnected",
        }
    }

    /// Whose fault an error after routing is: the caller's request, the provider, or amux.
    pub fn fault(&self) -> Option<Fault> {
        match self {
            Outcome::Error { kind, .. } => Some(match *kind {
                "invalid_request" | "context_overflow" | "not_found" | "request_too_large" => Fault::Caller,
                "api" => Fault::Gateway,
                // Upstream 401/403/429, 5xx, timeouts, broken streams, over-limit deployments.
                _ => Fault::Provider,
            }),
            _ => None,
        }
    }
}

/// `2xx` .. `5xx` for a status code.
pub fn status_class(status: u16) -> &'static str {
    match status {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    }
}

/// Who an error is attributed to (a metric label).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The request was malformed, too large, or named an unknown model.
    Caller,
    /// A policy refused it: key, model permission, rate limit, budget.
    Policy,
    /// The upstream failed, refused, timed out or broke its stream.
    Provider,
    /// amux itself (an internal error, Redis unreachable with fail-closed).
    Gateway,
}

impl Fault {
    pub fn label(self) -> &'static str {
        match self {
            Fault::Caller => "caller",
            Fault::Policy => "policy",
            Fault::Provider => "provider",
            Fault::Gateway => "gateway",
        }
    }

    /// The fault of an error raised before the call was routed.
    pub fn of_rejection(kind: ErrorKind) -> Fault {
        match kind {
            ErrorKind::Authentication | ErrorKind::Permission | ErrorKind::RateLimit => Fault::Policy,
            ErrorKind::InvalidRequest
            | ErrorKind::ContextOverflow
            | ErrorKind::NotFound
            | ErrorKind::RequestTooLarge => Fault::Caller,
            ErrorKind::Api
            | ErrorKind::BadGateway
            | ErrorKind::ProviderAuth
            | ErrorKind::Unavailable
            | ErrorKind::Timeout => Fault::Gateway,
        }
    }
}

/// The status of a call whose client closed its connection before the request was read
/// (nginx's convention; never sent, the client is gone): a [`Rejection`] with it counts as a
/// disconnect (`status_class="disconnected"`), not as an error.
pub const CLIENT_CLOSED: u16 = 499;

/// A call refused before it was routed; emitted once instead of a [`CallRecord`].
#[derive(Debug, Clone)]
pub struct Rejection {
    pub surface: Dialect,
    pub key: Option<String>,
    pub team: Option<String>,
    /// The model the caller asked for, when the request got that far.
    pub model: Option<String>,
    pub status: u16,
    /// The error kind's label, or a finer one (`budget`).
    pub kind: &'static str,
    pub fault: Fault,
    pub duration: Duration,
}

impl Rejection {
    /// The client left before its request was read ([`CLIENT_CLOSED`]).
    pub fn client_disconnected(&self) -> bool {
        self.status == CLIENT_CLOSED
    }
}

/// One call, as seen once it ends.
#[derive(Debug, Clone)]
pub struct CallRecord {
    /// The caller's dialect.
    pub surface: Dialect,
    /// The virtual key's name and team (None on an open gateway).
    pub key: Option<String>,
    pub team: Option<String>,
    /// The model name the caller sent.
    pub model: String,
    pub provider: String,
    pub upstream_model: String,
    /// Same-dialect byte path (`true`) or translated.
    pub passthrough: bool,
    /// A raw passthrough call (`/passthrough/{provider}/...`): `upstream_model` holds the path.
    pub raw: bool,
    pub stream: bool,
    pub outcome: Outcome,
    pub usage: Usage,
    pub duration: Duration,
    /// Time spent waiting on the upstream (headers and body).
    pub upstream_time: Duration,
    /// Time to the first body byte sent to the client.
    pub time_to_first_byte: Option<Duration>,
    /// Attempts after the first (same or other deployment).
    pub retries: u32,
    /// Fallback aliases moved to.
    pub fallbacks: u32,
    /// The response cache: not consulted (None), hit, or miss.
    pub cache: Option<bool>,
    /// Why generation stopped, as the upstream (or the IR, when translated) said it.
    pub finish_reason: Option<String>,
    /// Cost in USD from the price table; `None` when the price is unknown. Filled in when the
    /// record is emitted (zero tokens cost zero, priced or not).
    pub cost: Option<f64>,
}

impl CallRecord {
    /// A fresh record for a call that is about to be routed.
    pub fn new(surface: Dialect, key: Option<String>, team: Option<String>, model: String, stream: bool) -> Self {
        CallRecord {
            surface,
            key,
            team,
            model,
            provider: String::new(),
            upstream_model: String::new(),
            passthrough: false,
            raw: false,
            stream,
            outcome: Outcome::Success,
            usage: Usage::default(),
            duration: Duration::ZERO,
            upstream_time: Duration::ZERO,
            time_to_first_byte: None,
            retries: 0,
            fallbacks: 0,
            cache: None,
            finish_reason: None,
            cost: None,
        }
    }

    /// Time spent in amux rather than waiting on the upstream.
    pub fn overhead(&self) -> Duration {
        self.duration.saturating_sub(self.upstream_time)
    }
}

/// Something that wants every [`CallRecord`] (and every [`Rejection`]).
pub trait UsageSink: Send + Sync + 'static {
    fn record(&self, rec: &CallRecord);

    /// A call refused before routing.
    fn reject(&self, _rej: &Rejection) {}
}

/// Prices a finished call: USD, or `None` when the price is unknown.
pub trait Pricer: Send + Sync + 'static {
    fn cost(&self, rec: &CallRecord) -> Option<f64>;
}

/// The configured sinks, and the pricer that fills in each record's cost before they see it.
#[derive(Clone, Default)]
pub struct UsageSinks {
    sinks: Arc<Vec<Arc<dyn UsageSink>>>,
    pricer: Option<Arc<dyn Pricer>>,
}

impl UsageSinks {
    pub fn new(sinks: Vec<Arc<dyn UsageSink>>) -> Self {
        UsageSinks { sinks: Arc::new(sinks), pricer: None }
    }

    /// These sinks plus `more`, priced by `pricer`.
    pub fn extended(&self, more: Vec<Arc<dyn UsageSink>>, pricer: Arc<dyn Pricer>) -> Self {
        let mut all: Vec<Arc<dyn UsageSink>> = self.sinks.iter().cloned().collect();
        all.extend(more);
        UsageSinks { sinks: Arc::new(all), pricer: Some(pricer) }
    }

    /// Sets the record's cost.
    fn price(&self, rec: &mut CallRecord) {
        rec.cost = match &self.pricer {
            _ if rec.usage.is_empty() => Some(0.0),
            Some(p) => p.cost(rec),
            None => None,
        };
    }

    /// Hands the priced record to every sink.
    fn record(&self, rec: &CallRecord) {
        for s in self.sinks.iter() {
            s.record(rec);
        }
    }

    /// Reports a call refused before routing.
    pub fn reject(&self, rej: &Rejection) {
        for s in self.sinks.iter() {
            s.reject(rej);
        }
    }
}

/// Logs one line per call (never a prompt or a key).
pub use crate::telemetry::usage_log::LogSink;

/// Emits its record exactly once: on [`CallGuard::finish`], or on drop as a disconnect.
/// Runs once with the final record (e.g. reconciles the rate limiter's token estimate).
pub type EndHook = Box<dyn FnOnce(&CallRecord) + Send>;

pub struct CallGuard {
    rec: Option<CallRecord>,
    hooks: Vec<EndHook>,
    /// Dropped with the guard, after the record was emitted (e.g. gauges of calls in flight).
    held: Vec<Box<dyn Send>>,
    started: Instant,
    sinks: UsageSinks,
    /// The response is complete: a later drop keeps the outcome instead of calling it a disconnect.
    complete: bool,
    /// Since when the call has been waiting on an upstream, while it is ([`Self::upstream_clock`]
    /// to [`Self::add_upstream_time`]): a call cut meanwhile (its client left, the drain
    /// deadline) counts that wait as upstream time, not as the gateway's overhead.
    waiting: Option<Instant>,
}

impl CallGuard {
    pub fn new(sinks: UsageSinks, rec: CallRecord, started: Instant) -> Self {
        CallGuard {
            rec: Some(rec),
            hooks: Vec::new(),
            held: Vec::new(),
            started,
            sinks,
            complete: false,
            waiting: None,
        }
    }

    /// A guard that records nothing (stands in after the real one moved into a response body).
    pub fn detached() -> Self {
        CallGuard {
            rec: None,
            hooks: Vec::new(),
            held: Vec::new(),
            started: Instant::now(),
            sinks: UsageSinks::default(),
            complete: true,
            waiting: None,
        }
    }

    /// Adds a hook run with the final record.
    pub fn on_end(&mut self, hook: EndHook) {
        self.hooks.push(hook);
    }

    /// Keeps `thing` alive until the call ends.
    pub fn hold(&mut self, thing: Box<dyn Send>) {
        self.held.push(thing);
    }

    /// When the call started and the time spent waiting on the upstream so far.
    pub fn timing(&self) -> (Instant, Duration) {
        (self.started, self.rec.as_ref().map(|r| r.upstream_time).unwrap_or_default())
    }

    /// Why generation stopped (the last report wins).
    pub fn finish_reason(&mut self, reason: &str) {
        if let Some(r) = &mut self.rec {
            r.finish_reason = Some(reason.to_string());
        }
    }

    /// The deployment that answered.
    pub fn route(&mut self, provider: &str, upstream_model: &str, passthrough: bool) {
        if let Some(r) = &mut self.rec {
            r.provider = provider.to_string();
            r.upstream_model = upstream_model.to_string();
            r.passthrough = passthrough;
        }
    }

    /// Whether the response cache answered.
    pub fn cache(&mut self, hit: bool) {
        if let Some(r) = &mut self.rec {
            r.cache = Some(hit);
        }
    }

    pub fn retry(&mut self) {
        if let Some(r) = &mut self.rec {
            r.retries += 1;
        }
    }

    pub fn fallback(&mut self) {
        if let Some(r) = &mut self.rec {
            r.fallbacks += 1;
        }
    }

    /// Replaces the usage with a complete final report (a stream's last usage event).
    pub fn set_usage(&mut self, u: &Usage) {
        if let Some(r) = &mut self.rec {
            r.usage = *u;
        }
    }

    /// Takes the larger of each usage field (reports are cumulative).
    pub fn usage(&mut self, u: &Usage) {
        if let Some(r) = &mut self.rec {
            r.usage.merge_max(u);
        }
    }

    /// Now, from when the call waits on an upstream until [`Self::add_upstream_time`] adds the
    /// wait.
    pub fn upstream_clock(&mut self) -> Instant {
        let now = Instant::now();
        self.waiting = Some(now);
        now
    }

    pub fn add_upstream_time(&mut self, d: Duration) {
        self.waiting = None;
        if let Some(r) = &mut self.rec {
            r.upstream_time += d;
        }
    }

    /// Marks the first byte sent to the client (first call wins).
    pub fn first_byte(&mut self) {
        let started = self.started;
        if let Some(r) = &mut self.rec
            && r.time_to_first_byte.is_none()
        {
            r.time_to_first_byte = Some(started.elapsed());
        }
    }

    /// Records an error outcome that will be emitted when the call ends.
    pub fn set_error(&mut self, status: u16, kind: &'static str) {
        if let Some(r) = &mut self.rec {
            r.outcome = Outcome::Error { status, kind };
        }
    }

    /// Ends the call; keeps an error outcome set earlier.
    pub fn finish(mut self) {
        self.emit(None);
    }

    /// The response is complete; the record is emitted when the guard is dropped.
    pub fn mark_complete(&mut self) {
        self.complete = true;
    }

    fn emit(&mut self, disconnected: Option<Outcome>) {
        if let Some(mut r) = self.rec.take() {
            if let Some(o) = disconnected
                && r.outcome == Outcome::Success
            {
                r.outcome = o;
            }
            r.duration = self.started.elapsed();
            // Cut while waiting on an upstream: that wait is the upstream's.
            if let Some(since) = self.waiting.take() {
                r.upstream_time += since.elapsed();
            }
            self.sinks.price(&mut r);
            // The call's own hooks (the rate limiter's reconciliation, the span's last
            // attributes) before the sinks: once a record is seen (a log line, a metric, a
            // budget), the limits already count its real usage.
            for hook in self.hooks.drain(..) {
                hook(&r);
            }
            self.sinks.record(&r);
        }
    }
}

impl Drop for CallGuard {
    fn drop(&mut self) {
        let outcome = if self.complete { None } else { Some(Outcome::ClientDisconnected) };
        self.emit(outcome);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, Ordering};

    use super::*;

    /// Says whether the call's hook had run when it saw the record.
    struct AfterHooks(Arc<AtomicBool>, Arc<AtomicBool>);

    impl UsageSink for AfterHooks {
        fn record(&self, _rec: &CallRecord) {
            self.1.store(self.0.load(Ordering::SeqCst), Ordering::SeqCst);
        }
    }

    #[test]
    fn sinks_see_a_record_after_the_calls_hooks_ran() {
        let (hook_ran, seen_after) = (Arc::new(AtomicBool::new(false)), Arc::new(AtomicBool::new(false)));
        let sinks = UsageSinks::new(vec![Arc::new(AfterHooks(hook_ran.clone(), seen_after.clone()))]);
        let rec = CallRecord::new(Dialect::Anthropic, None, None, "m".into(), false);
        let mut guard = CallGuard::new(sinks, rec, Instant::now());
        let flag = hook_ran.clone();
        guard.on_end(Box::new(move |_| flag.store(true, Ordering::SeqCst)));
        guard.mark_complete();
        drop(guard);
        assert!(seen_after.load(Ordering::SeqCst), "the limiter's reconciliation comes before the log line");
    }
}

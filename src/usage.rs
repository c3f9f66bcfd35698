//! The usage record every call produces, exactly once, and the sinks that observe it (logs now;
//! metrics, budgets and rate-limit reconciliation in later layers). A [`CallGuard`] emits the
//! record when the call ends, including when the client disconnects mid-stream and the response
//! body is dropped.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::ir::{Dialect, Usage};

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
}

/// Something that wants every [`CallRecord`].
pub trait UsageSink: Send + Sync + 'static {
    fn record(&self, rec: &CallRecord);
}

/// The configured sinks.
#[derive(Clone, Default)]
pub struct UsageSinks(Arc<Vec<Arc<dyn UsageSink>>>);

impl UsageSinks {
    pub fn new(sinks: Vec<Arc<dyn UsageSink>>) -> Self {
        UsageSinks(Arc::new(sinks))
    }

    fn emit(&self, rec: &CallRecord) {
        for s in self.0.iter() {
            s.record(rec);
        }
    }
}

/// Logs one line per call (never a prompt or a key).
pub struct LogSink;

impl UsageSink for LogSink {
    fn record(&self, r: &CallRecord) {
        tracing::info!(
            target: "amux::usage",
            surface = r.surface.label(),
            key = r.key.as_deref().unwrap_or("-"),
            team = r.team.as_deref().unwrap_or("-"),
            model = %r.model,
            provider = %r.provider,
            upstream_model = %r.upstream_model,
            passthrough = r.passthrough,
            stream = r.stream,
            outcome = r.outcome.label(),
            status = match r.outcome { Outcome::Error { status, .. } => status, _ => 200 },
            input_tokens = r.usage.input_tokens,
            output_tokens = r.usage.output_tokens,
            cache_read_tokens = r.usage.cache_read_tokens,
            cache_write_tokens = r.usage.cache_write_tokens,
            reasoning_tokens = r.usage.reasoning_tokens,
            duration_ms = r.duration.as_secs_f64() * 1000.0,
            upstream_ms = r.upstream_time.as_secs_f64() * 1000.0,
            retries = r.retries,
            fallbacks = r.fallbacks,
            "call"
        );
    }
}

/// Emits its record exactly once: on [`CallGuard::finish`], or on drop as a disconnect.
/// Runs once with the final record (e.g. reconciles the rate limiter's token estimate).
pub type EndHook = Box<dyn FnOnce(&CallRecord) + Send>;

pub struct CallGuard {
    rec: Option<CallRecord>,
    hooks: Vec<EndHook>,
    started: Instant,
    sinks: UsageSinks,
    /// The response is complete: a later drop keeps the outcome instead of calling it a disconnect.
    complete: bool,
}

impl CallGuard {
    pub fn new(sinks: UsageSinks, rec: CallRecord, started: Instant) -> Self {
        CallGuard { rec: Some(rec), hooks: Vec::new(), started, sinks, complete: false }
    }

    /// A guard that records nothing (stands in after the real one moved into a response body).
    pub fn detached() -> Self {
        CallGuard {
            rec: None,
            hooks: Vec::new(),
            started: Instant::now(),
            sinks: UsageSinks::default(),
            complete: true,
        }
    }

    /// Adds a hook run with the final record.
    pub fn on_end(&mut self, hook: EndHook) {
        self.hooks.push(hook);
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

    pub fn add_upstream_time(&mut self, d: Duration) {
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
            for hook in self.hooks.drain(..) {
                hook(&r);
            }
            self.sinks.emit(&r);
        }
    }
}

impl Drop for CallGuard {
    fn drop(&mut self) {
        let outcome = if self.complete { None } else { Some(Outcome::ClientDisconnected) };
        self.emit(outcome);
    }
}

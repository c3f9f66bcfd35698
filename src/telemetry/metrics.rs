//! The Prometheus metrics of one gateway: a `metrics-exporter-prometheus` recorder owned by the
//! gateway (not installed globally, so several gateways in one process, such as tests, each
//! count their own), fed by the usage sink below and by a few direct calls (gauges of calls in
//! flight and open streams, cooldowns, budget gauges), rendered on `GET /metrics`.
//!
//! Labels are low-cardinality by construction: keys and teams come from the config; free-form
//! values (model names callers send, upstream model ids) are capped per label at
//! `metrics.max_label_values` distinct values, after which they are reported as `other`.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use metrics::{Label, counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle, PrometheusRecorder};

use std::sync::OnceLock;

use super::names::*;
use super::series::SeriesCache;
use crate::ir::Dialect;
use crate::usage::{CallRecord, Outcome, Rejection, UsageSink};

/// Label value for "not applicable" (no key on an open gateway, no provider before routing).
pub const NONE: &str = "none";

/// Why the metrics could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum MetricsError {
    #[error("histogram buckets: {0}")]
    Buckets(String),
}

impl MetricsError {
    pub fn label(&self) -> &'static str {
        "metrics_buckets"
    }
}

/// Caps the distinct values of free-form labels.
struct LabelLimits {
    max: usize,
    seen: Mutex<HashMap<&'static str, HashSet<String>>>,
}

impl LabelLimits {
    fn bound(&self, label: &'static str, value: &str) -> String {
        let Ok(mut seen) = self.seen.lock() else { return "other".into() };
        let set = seen.entry(label).or_default();
        if set.contains(value) {
            return value.to_string();
        }
        if set.len() < self.max {
            set.insert(value.to_string());
            return value.to_string();
        }
        "other".into()
    }
}

/// Decrements its gauge when dropped.
pub struct GaugeGuard(metrics::Gauge);

impl Drop for GaugeGuard {
    fn drop(&mut self) {
        self.0.decrement(1.0);
    }
}

/// One gateway's metrics.
pub struct Metrics {
    recorder: PrometheusRecorder,
    handle: PrometheusHandle,
    limits: LabelLimits,
    /// Handles of the per-call series, kept across calls.
    series: SeriesCache,
    /// The in-flight and open-stream gauges of each surface, registered on first use: a call
    /// takes a handle instead of looking its series up.
    in_flight: SurfaceGauges,
    open_streams: SurfaceGauges,
}

/// One gauge handle per surface (indexed by the dialect's position).
#[derive(Default)]
struct SurfaceGauges([OnceLock<metrics::Gauge>; 8]);

impl SurfaceGauges {
    fn get(&self, m: &Metrics, name: &'static str, surface: Dialect) -> metrics::Gauge {
        let register = || m.with(|| gauge!(name, "surface" => surface.label()));
        match self.0.get(surface as usize) {
            Some(cell) => cell.get_or_init(register).clone(),
            None => register(),
        }
    }
}

fn labels(pairs: &[(&'static str, &str)]) -> Vec<Label> {
    pairs.iter().map(|(k, v)| Label::new(*k, v.to_string())).collect()
}

fn or_none(s: &str) -> &str {
    if s.is_empty() { NONE } else { s }
}

impl Metrics {
    pub fn new(max_label_values: usize) -> Result<Metrics, MetricsError> {
        let mut builder = PrometheusBuilder::new();
        for (name, buckets) in
            [(DURATION, DURATION_BUCKETS), (TTFT, TTFT_BUCKETS), (TPOT, TPOT_BUCKETS), (OVERHEAD, OVERHEAD_BUCKETS)]
        {
            builder = builder
                .set_buckets_for_metric(Matcher::Full(name.to_string()), buckets)
                .map_err(|e| MetricsError::Buckets(e.to_string()))?;
        }
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        let m = Metrics {
            recorder,
            handle,
            limits: LabelLimits { max: max_label_values.max(1), seen: Default::default() },
            series: SeriesCache::default(),
            in_flight: SurfaceGauges::default(),
            open_streams: SurfaceGauges::default(),
        };
        m.with(|| {
            for (name, kind, unit, help) in ALL {
                match (kind, unit) {
                    (Kind::Counter, _) => describe_counter!(*name, *help),
                    (Kind::Gauge, _) => describe_gauge!(*name, *help),
                    (Kind::Histogram, Some(u)) => describe_histogram!(*name, *u, *help),
                    (Kind::Histogram, None) => describe_histogram!(*name, *help),
                }
            }
            gauge!(BUILD_INFO, "version" => env!("CARGO_PKG_VERSION")).set(1.0);
            gauge!(DRAINING).set(0.0);
            gauge!(RELOAD_OK).set(1.0);
            // Present from the start, so alerts on a rise see the first one.
            counter!(SHUTDOWN_CUT).absolute(0);
            for limit in LIMITS {
                counter!(LIMIT_HITS, "limit" => *limit).absolute(0);
            }
            gauge!(CONNECTIONS).set(0.0);
            for result in ["ok", "rejected"] {
                counter!(RELOADS, "result" => result).absolute(0);
            }
        });
        Ok(m)
    }

    fn with<T>(&self, f: impl FnOnce() -> T) -> T {
        metrics::with_local_recorder(&self.recorder, f)
    }

    /// The exposition, after setting the cooldown gauge of each `(provider, upstream model)`.
    pub fn render<'a>(
        &self,
        cooldowns: impl Iterator<Item = (&'a str, &'a str, bool)>,
        redis_up: Option<bool>,
    ) -> String {
        self.with(|| {
            for (provider, model, cooling) in cooldowns {
                let l = labels(&[("provider", provider), ("upstream_model", model)]);
                gauge!(DEPLOYMENT_COOLDOWN, l).set(if cooling { 1.0 } else { 0.0 });
            }
            if let Some(up) = redis_up {
                gauge!(REDIS_UP).set(if up { 1.0 } else { 0.0 });
            }
        });
        self.handle.run_upkeep();
        self.handle.render()
    }

    /// Drains histogram samples into their buckets (run periodically, and before rendering).
    pub fn upkeep(&self) {
        self.handle.run_upkeep();
    }

    /// Counts a call in flight until the guard is dropped.
    pub fn in_flight(&self, surface: Dialect) -> GaugeGuard {
        let g = self.in_flight.get(self, IN_FLIGHT, surface);
        g.increment(1.0);
        GaugeGuard(g)
    }

    /// Counts an open stream until the guard is dropped.
    pub fn open_stream(&self, surface: Dialect) -> GaugeGuard {
        let g = self.open_streams.get(self, OPEN_STREAMS, surface);
        g.increment(1.0);
        GaugeGuard(g)
    }

    /// A deployment was put in cooldown.
    pub fn cooldown(&self, provider: &str, upstream_model: &str) {
        let model = self.limits.bound("upstream_model", upstream_model);
        self.with(|| counter!(COOLDOWNS, labels(&[("provider", provider), ("upstream_model", &model)])).increment(1));
    }

    /// A field of a translated call left out (`field` is a path shape such as
    /// `messages[].name`, from the policy's tables, so bounded like any free-form label).
    pub fn dropped(&self, field: &str, from: Dialect, to: Dialect) {
        let field = self.limits.bound("field", field);
        let l = labels(&[("field", &field), ("from", from.label()), ("to", to.label())]);
        self.with(|| counter!(TRANSLATION_DROPPED, l).increment(1));
    }

    /// SIGTERM arrived: the gateway drains.
    pub fn draining(&self) {
        self.with(|| gauge!(DRAINING).set(1.0));
    }

    /// A call or stream was ended by the drain deadline.
    pub fn shutdown_cut(&self) {
        self.with(|| counter!(SHUTDOWN_CUT).increment(1));
    }

    /// A request, connection or stream hit `limit` (one of [`LIMITS`]).
    pub fn limit_hit(&self, limit: &'static str) {
        self.with(|| counter!(LIMIT_HITS, "limit" => limit).increment(1));
    }

    /// The gauge of open client connections (a handle: updating it costs no lookup).
    pub fn connections(&self) -> metrics::Gauge {
        self.with(|| gauge!(CONNECTIONS))
    }

    /// A config reload was applied (`ok`) or rejected.
    pub fn reload(&self, ok: bool) {
        self.with(|| {
            // The gauge first: a reader that sees the new count sees the gauge it goes with.
            gauge!(RELOAD_OK).set(if ok { 1.0 } else { 0.0 });
            counter!(RELOADS, "result" => if ok { "ok" } else { "rejected" }).increment(1);
        });
    }

    /// The spend and limit of a budget after a charge.
    pub fn budget(&self, scope: &str, name: &str, period: &str, spend: f64, limit: Option<f64>) {
        let l = labels(&[("scope", scope), ("name", name), ("period", period)]);
        self.with(|| {
            gauge!(BUDGET_SPEND, l.clone()).set(spend);
            if let Some(limit) = limit {
                gauge!(BUDGET_LIMIT, l).set(limit);
            }
        });
    }
}

impl UsageSink for Metrics {
    fn record(&self, r: &CallRecord) {
        let surface = r.surface.label();
        let key = r.key.as_deref().unwrap_or(NONE);
        let team = r.team.as_deref().unwrap_or(NONE);
        let provider = or_none(&r.provider);
        let stream = if r.stream { "true" } else { "false" };
        let status_class = r.outcome.status_class();
        let path = match (r.cache, r.passthrough, r.provider.is_empty()) {
            _ if r.raw => "passthrough",
            (Some(true), _, _) => "cache",
            (_, _, true) => NONE,
            (_, true, _) => "bytes",
            (_, false, _) => "translated",
        };
        let cache = match r.cache {
            Some(true) => "hit",
            Some(false) => "miss",
            None => NONE,
        };
        let parts = [surface, key, team, &r.model, provider, &r.upstream_model, stream, status_class, path, cache];
        let s = self.series.get(&parts).unwrap_or_default();
        // The bounded label values, computed only when a handle is registered.
        let bounded = std::cell::OnceCell::new();
        let names = || {
            bounded.get_or_init(|| {
                (self.limits.bound("model", &r.model), self.limits.bound("upstream_model", or_none(&r.upstream_model)))
            })
        };
        let who = |model: &str| labels(&[("key", key), ("team", team), ("model", model)]);
        let target = |model: &str, upstream: &str| {
            let mut t = who(model);
            t.extend(labels(&[("provider", provider), ("upstream_model", upstream)]));
            t
        };
        let mp = |model: &str| labels(&[("model", model), ("provider", provider)]);
        let counter = |cell: &OnceLock<metrics::Counter>, make: &dyn Fn() -> metrics::Counter| {
            cell.get_or_init(|| self.with(make)).clone()
        };
        let histogram = |cell: &OnceLock<metrics::Histogram>, make: &dyn Fn() -> metrics::Histogram| {
            cell.get_or_init(|| self.with(make)).clone()
        };
        counter(&s.requests, &|| {
            let (m, u) = names();
            let mut l = labels(&[("surface", surface)]);
            l.extend(target(m, u));
            l.extend(labels(&[("status_class", status_class)]));
            counter!(REQUESTS, l)
        })
        .increment(1);
        if let (Some(fault), Outcome::Error { kind, .. }) = (r.outcome.fault(), r.outcome) {
            let (m, _) = names();
            let mut e = labels(&[("surface", surface)]);
            e.extend(who(m));
            e.extend(labels(&[("provider", provider), ("fault", fault.label()), ("kind", kind)]));
            self.with(|| counter!(ERRORS, e).increment(1));
        }
        let u = &r.usage;
        let kinds = ["input", "output", "cache_read", "cache_write", "reasoning"];
        let counts = [u.input_tokens, u.output_tokens, u.cache_read_tokens, u.cache_write_tokens, u.reasoning_tokens];
        for ((cell, kind), n) in s.tokens.iter().zip(kinds).zip(counts) {
            if n > 0 {
                counter(cell, &|| {
                    let (m, up) = names();
                    let mut t = target(m, up);
                    t.extend(labels(&[("kind", kind)]));
                    counter!(TOKENS, t)
                })
                .increment(n);
            }
        }
        match r.cost {
            Some(usd) => counter(&s.cost, &|| {
                let (m, up) = names();
                counter!(COST, target(m, up))
            })
            .increment((usd * 1e9).round().max(0.0) as u64),
            None => counter(&s.cost_unknown, &|| {
                let (m, up) = names();
                counter!(COST_UNKNOWN, labels(&[("model", m), ("provider", provider), ("upstream_model", up)]))
            })
            .increment(1),
        }
        if r.retries > 0 {
            counter(&s.retries, &|| counter!(RETRIES, mp(&names().0))).increment(r.retries.into());
        }
        if r.fallbacks > 0 {
            counter(&s.fallbacks, &|| counter!(FALLBACKS, labels(&[("model", &names().0)])))
                .increment(r.fallbacks.into());
        }
        if r.cache.is_some() {
            counter(&s.cache, &|| counter!(CACHE, labels(&[("team", team), ("model", &names().0), ("result", cache)])))
                .increment(1);
        }
        histogram(&s.duration, &|| {
            let d = labels(&[("surface", surface), ("model", &names().0), ("provider", provider), ("stream", stream)]);
            histogram!(DURATION, d)
        })
        .record(r.duration.as_secs_f64());
        if let Some(ttft) = r.time_to_first_byte.filter(|_| r.stream) {
            histogram(&s.ttft, &|| histogram!(TTFT, mp(&names().0))).record(ttft.as_secs_f64());
            if r.outcome == Outcome::Success && r.usage.output_tokens > 1 {
                let per = r.duration.saturating_sub(ttft).as_secs_f64() / (r.usage.output_tokens - 1) as f64;
                histogram(&s.tpot, &|| histogram!(TPOT, mp(&names().0))).record(per);
            }
        }
        histogram(&s.overhead, &|| {
            histogram!(OVERHEAD, labels(&[("surface", surface), ("path", path), ("stream", stream)]))
        })
        .record(r.overhead().as_secs_f64());
    }

    fn reject(&self, r: &Rejection) {
        let key = r.key.as_deref().unwrap_or(NONE);
        let team = r.team.as_deref().unwrap_or(NONE);
        let model = r.model.as_deref().map(|m| self.limits.bound("model", m)).unwrap_or_else(|| NONE.into());
        let who = labels(&[("surface", r.surface.label()), ("key", key), ("team", team), ("model", &model)]);
        self.with(|| {
            let rest = labels(&[("provider", NONE), ("upstream_model", NONE)]);
            // A client gone before its request was read is a disconnect, not an error.
            if r.client_disconnected() {
                counter!(REQUESTS, [who, rest, labels(&[("status_class", "disconnected")])].concat()).increment(1);
                return;
            }
            let class = labels(&[("status_class", crate::usage::status_class(r.status))]);
            counter!(REQUESTS, [who.clone(), rest, class].concat()).increment(1);
            let e = labels(&[("provider", NONE), ("fault", r.fault.label()), ("kind", r.kind)]);
            counter!(ERRORS, [who, e].concat()).increment(1);
            let l = labels(&[("key", key), ("team", team), ("model", &model)]);
            match r.kind {
                "rate_limit" => counter!(RATE_LIMITED, l).increment(1),
                "budget" => counter!(BUDGET_REJECTED, l).increment(1),
                _ => {}
            }
        });
    }
}

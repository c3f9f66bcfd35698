//! Deployment selection and health: the strategies (weighted, least-busy, lowest-latency by an
//! EWMA of time to first byte), cooldown of deployments that keep failing, and the backoff
//! between retries. The retry and fallback loop itself is in `gateway::call`.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::config::{RouterConfig, Strategy};
use axum::body::Body;
use http::Response;

use crate::gateway::attempt::Failure;
use crate::ir::{ApiError, ErrorKind};
use crate::providers::{Alias, Deployment};
use crate::stack::limits::{Scope, estimate_tokens, reconcile_on_end};
use crate::stack::service::{AttemptService, ModelCall, ModelService};

/// Weight of the newest sample in the latency average.
const EWMA_ALPHA: f64 = 0.3;

#[derive(Debug, Default)]
struct Stats {
    in_flight: u32,
    ewma_ms: Option<f64>,
    failures: VecDeque<Instant>,
    cooldown_until: Option<Instant>,
    /// Set when the cooldown is because the provider refused the gateway's credentials: the
    /// error callers get while every deployment of their alias is cooling down.
    refused: Option<ApiError>,
}

/// Shared router state: per-deployment stats, keyed by deployment id. A config reload makes a
/// new router with the new settings over the same stats ([`Router::reconfigured`]), so cooldowns
/// and latency averages survive it.
#[derive(Debug)]
pub struct Router {
    pub config: RouterConfig,
    stats: Arc<Mutex<HashMap<String, Stats, foldhash::fast::RandomState>>>,
}

/// Counts a call in flight on a deployment until dropped.
pub struct InFlight {
    router: Arc<Router>,
    id: String,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.router.with(&self.id, |s| s.in_flight = s.in_flight.saturating_sub(1));
    }
}

impl Router {
    pub fn new(config: RouterConfig) -> Self {
        Router { config, stats: Arc::new(Mutex::new(HashMap::default())) }
    }

    /// A router with new settings sharing this one's deployment stats (in-flight counts,
    /// latency averages, failures and cooldowns). Cooldowns for refused credentials end: a
    /// reload is how a rotated provider key arrives.
    pub fn reconfigured(&self, config: RouterConfig) -> Router {
        let mut map = self.stats.lock().unwrap_or_else(|p| p.into_inner());
        for s in map.values_mut() {
            if s.refused.take().is_some() {
                s.cooldown_until = None;
            }
        }
        drop(map);
        Router { config, stats: self.stats.clone() }
    }

    fn with<T>(&self, id: &str, f: impl FnOnce(&mut Stats) -> T) -> T {
        let mut map = self.stats.lock().unwrap_or_else(|p| p.into_inner());
        // Looked up by `&str`: the id is copied once per deployment, not once per call.
        if let Some(s) = map.get_mut(id) {
            return f(s);
        }
        f(map.entry(id.to_string()).or_default())
    }

    /// The alias's deployments in the order to try them, without those in cooldown. Weighted:
    /// a weighted random order; least-busy: fewest in flight first; lowest-latency: lowest EWMA
    /// first (unmeasured deployments first, so each gets measured).
    pub fn order(&self, alias: &Alias) -> Vec<Arc<Deployment>> {
        let now = Instant::now();
        let map = self.stats.lock().unwrap_or_else(|p| p.into_inner());
        let stat = |d: &Deployment| map.get(&d.id);
        let mut live: Vec<Arc<Deployment>> = alias
            .deployments
            .iter()
            .filter(|d| stat(d).and_then(|s| s.cooldown_until).is_none_or(|t| t <= now))
            .cloned()
            .collect();
        if live.len() < 2 {
            // Nothing to order (the common one-deployment alias): no shuffle, no sort.
            return live;
        }
        match alias.strategy {
            Strategy::Weighted => {
                // Efraimidis–Spirakis: sort by u^(1/w) descending, a weighted shuffle.
                let mut keyed: Vec<(f64, Arc<Deployment>)> = live
                    .drain(..)
                    .map(|d| {
                        let w = d.weight.max(1e-9);
                        (fastrand::f64().powf(1.0 / w), d)
                    })
                    .collect();
                keyed.sort_by(|a, b| b.0.total_cmp(&a.0));
                live = keyed.into_iter().map(|(_, d)| d).collect();
            }
            Strategy::LeastBusy => live.sort_by_key(|d| stat(d).map(|s| s.in_flight).unwrap_or(0)),
            Strategy::LowestLatency => live.sort_by(|a, b| {
                let ea = stat(a).and_then(|s| s.ewma_ms).unwrap_or(-1.0);
                let eb = stat(b).and_then(|s| s.ewma_ms).unwrap_or(-1.0);
                ea.total_cmp(&eb)
            }),
        }
        live
    }

    /// The soonest end of a cooldown among these deployments (for Retry-After).
    pub fn cooldown_remaining(&self, alias: &Alias) -> Option<Duration> {
        let now = Instant::now();
        let map = self.stats.lock().unwrap_or_else(|p| p.into_inner());
        alias
            .deployments
            .iter()
            .filter_map(|d| map.get(&d.id).and_then(|s| s.cooldown_until))
            .filter(|t| *t > now)
            .map(|t| t - now)
            .min()
    }

    /// The error for a call whose alias has every deployment cooling down: the provider's
    /// refusal of the gateway's credentials when that is why, else a 503; Retry-After until the
    /// soonest cooldown ends.
    pub fn cooldown_error(&self, alias: &Alias) -> ApiError {
        let refused = {
            let map = self.stats.lock().unwrap_or_else(|p| p.into_inner());
            alias.deployments.iter().find_map(|d| map.get(&d.id).and_then(|s| s.refused.clone()))
        };
        let mut e = refused.unwrap_or_else(|| {
            ApiError::new(
                ErrorKind::Unavailable,
                format!("every deployment of \"{}\" is cooling down after repeated failures", alias.name),
            )
        });
        e.retry_after = self.cooldown_remaining(alias).map(|d| d.as_secs().max(1).to_string());
        e
    }

    /// The provider refused the gateway's credentials: the same request would be refused
    /// again, so the deployment cools down at once (no retries against it; a config reload
    /// ends it early).
    pub fn refused_credentials(&self, d: &Deployment, err: &ApiError) {
        let until = Instant::now() + Duration::from_secs_f64(self.config.cooldown_secs.max(0.0));
        self.with(&d.id, |s| {
            s.failures.clear();
            s.cooldown_until = Some(until);
            s.refused = Some(err.clone());
        });
    }

    /// Whether `d` is in cooldown now.
    pub fn in_cooldown(&self, d: &Deployment) -> bool {
        let now = Instant::now();
        let map = self.stats.lock().unwrap_or_else(|p| p.into_inner());
        map.get(&d.id).and_then(|s| s.cooldown_until).is_some_and(|t| t > now)
    }

    /// Marks a call in flight on `d`.
    pub fn start(self: &Arc<Self>, d: &Deployment) -> InFlight {
        self.with(&d.id, |s| s.in_flight += 1);
        InFlight { router: self.clone(), id: d.id.clone() }
    }

    /// A success, with its time to first byte.
    pub fn success(&self, d: &Deployment, ttfb: Duration) {
        let ms = ttfb.as_secs_f64() * 1000.0;
        self.with(&d.id, |s| {
            s.ewma_ms = Some(match s.ewma_ms {
                Some(prev) => EWMA_ALPHA * ms + (1.0 - EWMA_ALPHA) * prev,
                None => ms,
            });
        });
    }

    /// A retryable failure; returns true when it put the deployment in cooldown.
    pub fn failure(&self, d: &Deployment) -> bool {
        let now = Instant::now();
        let window = Duration::from_secs_f64(self.config.cooldown_window_secs.max(0.0));
        let cooldown = Duration::from_secs_f64(self.config.cooldown_secs.max(0.0));
        let threshold = self.config.cooldown_failures.max(1) as usize;
        self.with(&d.id, |s| {
            s.failures.push_back(now);
            while s.failures.front().is_some_and(|t| now.duration_since(*t) > window) {
                s.failures.pop_front();
            }
            if s.failures.len() >= threshold {
                s.failures.clear();
                s.cooldown_until = Some(now + cooldown);
                s.refused = None;
                true
            } else {
                false
            }
        })
    }

    /// Delay before retry number `retry` (1-based): exponential with full jitter, at least the
    /// upstream's Retry-After. `None` when Retry-After asks for longer than `backoff_max_ms`.
    pub fn backoff(&self, retry: u32, retry_after: Option<&str>) -> Option<Duration> {
        let max = Duration::from_millis(self.config.backoff_max_ms);
        let base = self.config.backoff_initial_ms.saturating_mul(1u64 << retry.saturating_sub(1).min(20));
        let jittered = Duration::from_millis((base.min(self.config.backoff_max_ms) as f64 * fastrand::f64()) as u64);
        let asked = retry_after.and_then(parse_retry_after);
        match asked {
            Some(a) if a > max => None,
            Some(a) => Some(a.max(jittered)),
            None => Some(jittered),
        }
    }
}

/// Retry-After as seconds (the HTTP-date form is treated as "later than we wait").
fn parse_retry_after(v: &str) -> Option<Duration> {
    let v = v.trim();
    match v.parse::<f64>() {
        Ok(s) if s >= 0.0 && s.is_finite() => Some(Duration::from_secs_f64(s)),
        _ => Some(Duration::from_secs(3600)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::parse_str;
    use crate::providers::Registry;

    fn alias(strategy: &str) -> Arc<Alias> {
        let cfg = parse_str(&format!(
            "discover_env: false\nproviders:\n  a: {{kind: openai, base_url: 'http://a/v1'}}\n  b: {{kind: openai, base_url: 'http://b/v1'}}\nmodels:\n  - name: m\n    strategy: {strategy}\n    deployments:\n      - {{provider: a, model: x, weight: 3}}\n      - {{provider: b, model: y, weight: 1}}\n"
        ))
        .unwrap();
        Registry::build(&cfg, &|_| None).unwrap().aliases["m"].clone()
    }

    fn router() -> Arc<Router> {
        Arc::new(Router::new(RouterConfig { cooldown_failures: 2, cooldown_secs: 60.0, ..RouterConfig::default() }))
    }

    #[test]
    fn weighted_order_follows_weights() {
        let (r, a) = (router(), alias("weighted"));
        let firsts = (0..4000).filter(|_| r.order(&a)[0].id == "a/x").count();
        assert!((2700..3300).contains(&firsts), "{firsts}");
    }

    #[test]
    fn least_busy_and_lowest_latency() {
        let r = router();
        let a = alias("least-busy");
        let _busy = r.start(&a.deployments[0]);
        assert_eq!(r.order(&a)[0].id, "b/y");
        let l = alias("lowest-latency");
        r.success(&l.deployments[0], Duration::from_millis(50));
        r.success(&l.deployments[1], Duration::from_millis(500));
        assert_eq!(r.order(&l)[0].id, "a/x");
    }

    #[test]
    fn cooldown_after_repeated_failures() {
        let (r, a) = (router(), alias("weighted"));
        assert!(!r.failure(&a.deployments[0]));
        assert!(r.failure(&a.deployments[0]));
        let order: Vec<String> = r.order(&a).iter().map(|d| d.id.clone()).collect();
        assert_eq!(order, ["b/y"]);
        assert!(r.cooldown_remaining(&a).unwrap() > Duration::from_secs(50));
    }

    #[test]
    fn reconfigured_router_keeps_cooldowns() {
        let (r, a) = (router(), alias("weighted"));
        r.failure(&a.deployments[0]);
        r.failure(&a.deployments[0]);
        let next = r.reconfigured(RouterConfig { retries: 5, ..r.config.clone() });
        assert_eq!(next.config.retries, 5);
        assert!(next.in_cooldown(&a.deployments[0]));
    }

    #[test]
    fn backoff_honours_retry_after() {
        let r = router();
        assert!(r.backoff(1, None).unwrap() <= Duration::from_millis(250));
        assert_eq!(r.backoff(1, Some("2")).unwrap(), Duration::from_secs(2));
        assert_eq!(r.backoff(1, Some("60")), None, "longer than backoff_max: do not wait");
    }
}

layer! {
    /// Tries the alias's deployments in the router's order: skips those over their own RPM/TPM,
    /// retries with backoff (honouring Retry-After), puts failing ones in cooldown, falls back to
    /// the alias's fallbacks (or its larger-context alias on a context overflow).
    RouterLayer => RouterService
}

impl<S: AttemptService> ModelService for RouterService<S> {
    async fn call<'a, 'c: 'a>(&'a self, call: &'a mut ModelCall<'c>) -> Response<Body> {
        let state = call.state;
        let retries = state.router.config.retries;
        let mut chain: VecDeque<Arc<Alias>> = VecDeque::from([call.alias.clone()]);
        let mut visited = HashSet::new();
        let mut last_err: Option<ApiError> = None;
        while let Some(alias) = chain.pop_front() {
            if !visited.insert(alias.name.clone()) {
                continue;
            }
            if visited.len() > 1 {
                call.guard.fallback();
            }
            let candidates = state.router.order(&alias);
            if candidates.is_empty() {
                last_err = Some(state.router.cooldown_error(&alias));
            }
            let mut tried = HashSet::new();
            // Deployments not to try again in this call: their provider refused the gateway's
            // credentials, or their TLS failed.
            let mut refused = HashSet::new();
            let mut jump: Option<String> = None;
            for n in 0..=retries as usize {
                let Some(d) = candidates.get(n % candidates.len().max(1)) else { break };
                if refused.contains(&d.id) {
                    continue;
                }
                if !tried.insert(d.id.clone()) {
                    // A retry of a deployment that already failed in this call: back off first.
                    match state.router.backoff(n as u32, last_err.as_ref().and_then(|e| e.retry_after.as_deref())) {
                        Some(delay) => {
                            call.guard.upstream_clock();
                            tokio::time::sleep(delay).await;
                            // Waiting to retry an upstream is upstream time, not amux's overhead.
                            call.guard.add_upstream_time(delay);
                        }
                        None => break,
                    }
                }
                if n > 0 {
                    call.guard.retry();
                }
                // The deployment's own limits: over them, it is skipped like a 429 (no cooldown).
                if let Some(scope) = Scope::named("deployment", &d.id, d.rpm, d.tpm) {
                    match state.limiter.admit(vec![scope], estimate_tokens(call.inbound.body.len())).await {
                        Ok(charge) => reconcile_on_end(&mut call.guard, &state.limiter, charge),
                        Err(e) => {
                            last_err = Some(e);
                            continue;
                        }
                    }
                }
                // The attempt names its deployment in the call's record (a call that fails names
                // the one that failed last: its log line and `amux_errors_total{provider}`).
                let result = self.0.attempt(call, &alias, d).await;
                // A deployment whose TLS failed is not tried again in this call.
                let not_here = matches!(result, Err(Failure::NotHere(_)));
                match result {
                    Ok(resp) => return resp,
                    Err(Failure::Retryable(e)) if e.kind == ErrorKind::ProviderAuth => {
                        // Not retried against this deployment; another one (or a fallback) may
                        // hold working credentials.
                        tracing::warn!(deployment = %d.id, "provider refused the gateway's credentials; deployment in cooldown");
                        state.router.refused_credentials(d, &e);
                        state.obs.metrics.cooldown(&d.provider.name, &d.model);
                        refused.insert(d.id.clone());
                        last_err = Some(e);
                    }
                    Err(Failure::Retryable(e) | Failure::NotHere(e)) => {
                        if not_here {
                            refused.insert(d.id.clone());
                        }
                        if state.router.failure(d) {
                            tracing::warn!(deployment = %d.id, "deployment in cooldown");
                            state.obs.metrics.cooldown(&d.provider.name, &d.model);
                        }
                        last_err = Some(e);
                    }
                    Err(Failure::Fatal(e)) => {
                        if e.kind == ErrorKind::ContextOverflow
                            && let Some(bigger) = &alias.context_window_fallback
                        {
                            jump = Some(bigger.clone());
                            last_err = Some(e);
                            break;
                        }
                        return call.fail(e);
                    }
                }
            }
            let next: Vec<String> = match jump {
                Some(bigger) => vec![bigger],
                None => alias.fallbacks.clone(),
            };
            for name in next.iter().rev() {
                if let Some(a) = state.registry.aliases.get(name) {
                    chain.push_front(a.clone());
                }
            }
        }
        let err =
            last_err.unwrap_or_else(|| ApiError::new(ErrorKind::Unavailable, "no deployment could serve the call"));
        call.fail(err)
    }
}

//! One model call from a surface: read the model, resolve its alias, then try deployments in the
//! router's order with retries, backoff, cooldown and fallback aliases, each attempt taking the
//! same-dialect byte path or the translated path for its deployment's dialect.

use std::collections::{HashSet, VecDeque};
use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use http::{HeaderMap, Response, Uri};
use tracing::Instrument;

use super::attempt::{self, Failure, Plan};
use super::reject::{Refusal, reject};
use super::splice::TopLevel;
use super::state::AppState;
use super::{passthrough, respond, translated};
use crate::config::TranslationMode;
use crate::ir::{self, ApiError, Dialect, ErrorKind};
use crate::providers::{Alias, Deployment};
use crate::stack::auth::{self, Principal};
use crate::stack::cache::{self, Store};
use crate::stack::limits::{self, Charge, Limiter, Scope};
use crate::telemetry::metrics::GaugeGuard;
use crate::telemetry::trace;
use crate::translate;
use crate::usage::{CallGuard, CallRecord};

/// A request as a surface received it.
pub struct Inbound<'a> {
    pub dialect: Dialect,
    pub headers: &'a HeaderMap,
    pub query: Option<&'a str>,
    pub body: &'a [u8],
    pub started: Instant,
    /// The model when the surface carries it in the path (Gemini), not the body.
    pub path_model: Option<String>,
    /// Streaming when the surface says so in the path (Gemini `:streamGenerateContent`).
    pub path_stream: Option<bool>,
    /// The caller's key (None on an open gateway).
    pub principal: Option<Arc<Principal>>,
    /// Counts the call in flight until it ends.
    pub in_flight: Option<GaugeGuard>,
}

impl Inbound<'_> {
    /// Refuses the call before routing (in `span`, or a span of its own).
    fn refuse(
        &self,
        state: &AppState,
        (model, span): (Option<&str>, Option<&tracing::Span>),
        err: &ApiError,
        kind: Option<&'static str>,
    ) -> Response<Body> {
        let r = Refusal {
            dialect: self.dialect,
            principal: self.principal.as_deref(),
            model,
            started: self.started,
            span,
            headers: Some(self.headers),
        };
        reject(state, r, err, kind)
    }
}

/// The parts of a call every attempt shares.
struct Call<'a> {
    inbound: Inbound<'a>,
    top: TopLevel<'a>,
    stream: bool,
    /// The IR, decoded on the first translated attempt.
    ir: Option<ir::Request>,
    /// Strict translation asked for by the request (`x-amux-translation: strict`) or the
    /// gateway; an alias may also ask for it (`translation: strict`).
    strict: bool,
}

/// Asks for strict translation per request.
pub const TRANSLATION_HEADER: &str = "x-amux-translation";

fn strict_requested(headers: &HeaderMap, gateway: TranslationMode) -> bool {
    match headers.get(TRANSLATION_HEADER).map(|v| v.as_bytes()) {
        Some(v) if v.eq_ignore_ascii_case(b"strict") => true,
        Some(v) if v.eq_ignore_ascii_case(b"lenient") => false,
        _ => gateway == TranslationMode::Strict,
    }
}

impl Call<'_> {
    fn ir(&mut self) -> Result<&ir::Request, ApiError> {
        if self.ir.is_none() {
            let mut req = translate::decode_request(self.inbound.dialect, self.inbound.body)?;
            // Surfaces that carry the model and the stream flag in the path (Gemini).
            req.stream = self.stream;
            if let Some(m) = &self.inbound.path_model {
                req.model = m.clone();
            }
            self.ir = Some(req);
        }
        self.ir.as_ref().ok_or_else(|| ApiError::new(ErrorKind::Api, "request not decoded"))
    }
}

/// The model and stream flag of a request, from the path or the body.
fn model_and_stream(inbound: &Inbound<'_>, top: &TopLevel<'_>) -> Result<(String, bool), ApiError> {
    let model = match &inbound.path_model {
        Some(m) => m.clone(),
        None => top.string("model")?.ok_or_else(|| ApiError::invalid_field("model", "is required"))?,
    };
    let stream = match inbound.path_stream {
        Some(s) => s,
        None => top.boolean("stream")?.unwrap_or(false),
    };
    Ok((model, stream))
}

/// Handles one call end to end, in its span once the model is known; every failure is answered
/// in the caller's dialect.
pub async fn handle(state: Arc<AppState>, inbound: Inbound<'_>) -> Response<Body> {
    let top = match TopLevel::parse(inbound.body) {
        Ok(t) => t,
        Err(e) => return inbound.refuse(&state, (None, None), &e, None),
    };
    let (model, stream) = match model_and_stream(&inbound, &top) {
        Ok(x) => x,
        Err(e) => return inbound.refuse(&state, (None, None), &e, None),
    };
    let span = trace::call_span(inbound.dialect, Some(inbound.headers), Some(&model), stream);
    let p = inbound.principal.as_deref();
    trace::principal(&span, p.map(|p| p.name.as_str()), p.and_then(|p| p.team.as_deref()));
    route(state, inbound, top, (model, stream), span.clone()).instrument(span).await
}

/// Everything after the model is known: policies, cache, deployments.
async fn route(
    state: Arc<AppState>,
    mut inbound: Inbound<'_>,
    top: TopLevel<'_>,
    (model, stream): (String, bool),
    span: tracing::Span,
) -> Response<Body> {
    let dialect = inbound.dialect;
    let principal = inbound.principal.clone();
    let (key, team) = (principal.as_ref().map(|p| p.name.as_str()), principal.as_ref().and_then(|p| p.team.as_deref()));
    let alias = match state.registry.resolve(&model) {
        Ok(a) => a,
        Err(e) => return inbound.refuse(&state, (Some(model.as_str()), Some(&span)), &e, None),
    };
    if let Some(p) = &principal
        && !p.allows(&model)
    {
        return inbound.refuse(&state, (Some(model.as_str()), Some(&span)), &auth::forbidden(p, &model), None);
    }
    // Budgets of the key and its team: spent means refused, before anything is charged.
    if let Err(e) = state.obs.budgets.check(key, team).await {
        let kind = (e.kind == ErrorKind::RateLimit).then_some("budget");
        return inbound.refuse(&state, (Some(model.as_str()), Some(&span)), &e, kind);
    }
    // Rate limits of the key and the alias, charged with an estimate now, reconciled at the end.
    let scopes: Vec<Scope> = [
        principal.as_ref().and_then(|p| Scope::new(format!("key:{}", p.name), p.rpm, p.tpm)),
        Scope::new(format!("alias:{}", alias.name), alias.rpm, alias.tpm),
    ]
    .into_iter()
    .flatten()
    .collect();
    let estimate = limits::estimate_tokens(inbound.body.len());
    let charge = match state.limiter.admit(scopes, estimate).await {
        Ok(c) => c,
        Err(e) => return inbound.refuse(&state, (Some(model.as_str()), Some(&span)), &e, None),
    };
    let record = CallRecord::new(dialect, key.map(str::to_string), team.map(str::to_string), model, stream);
    let mut guard = CallGuard::new(state.sinks.clone(), record, inbound.started);
    if let Some(g) = inbound.in_flight.take() {
        guard.hold(Box::new(g));
    }
    trace_on_end(&mut guard, &state, span);
    reconcile_on_end(&mut guard, &state.limiter, charge);
    let want_cache = cache::wanted(inbound.headers, &alias);
    let strict = strict_requested(inbound.headers, state.registry.translation);
    let mut call = Call { inbound, top, stream, ir: None, strict };
    let store = if want_cache {
        let team = principal.as_ref().and_then(|p| p.team.as_deref());
        let key = match call.ir() {
            Ok(req) => cache::key(team, &alias.name, req),
            Err(e) => return passthrough_fail(dialect, &mut guard, e),
        };
        if let Some(resp) = state.cache.get(&key).await {
            return cache_hit(&mut call, resp, guard);
        }
        guard.cache(false);
        Some(Store { cache: state.cache.clone(), key })
    } else {
        None
    };
    execute(&state, call, alias, guard, store).await
}

/// Sets the span's final attributes from the call's record when it ends.
fn trace_on_end(guard: &mut CallGuard, state: &Arc<AppState>, span: tracing::Span) {
    let state = state.clone();
    guard.on_end(Box::new(move |rec| {
        let kind = state.registry.providers.get(&rec.provider).map(|p| p.preset.name);
        trace::finish(&span, rec, kind);
    }));
}

/// Answers from the cache, whole or replayed as a stream in the caller's dialect.
fn cache_hit(call: &mut Call<'_>, resp: ir::Response, mut guard: CallGuard) -> Response<Body> {
    let caller = call.inbound.dialect;
    let stream = call.stream;
    guard.cache(true);
    guard.route("cache", &resp.model, false);
    guard.mark_complete();
    let req = match call.ir() {
        Ok(r) => r,
        Err(e) => return passthrough_fail(caller, &mut guard, e),
    };
    let mut out = if stream {
        let mut r = Response::new(Body::from(translate::encode_stream(caller, req, &cache::replay(&resp))));
        respond::sse_headers(r.headers_mut());
        r
    } else {
        respond::json(http::StatusCode::OK, translate::encode_response_for(caller, &resp, req))
    };
    out.headers_mut().insert(cache::HEADER, http::HeaderValue::from_static("hit"));
    respond::overhead_header(out.headers_mut(), call.inbound.started.elapsed());
    out
}

/// Corrects the limiter's token estimate with the call's real usage when it ends.
fn reconcile_on_end(guard: &mut CallGuard, limiter: &Arc<Limiter>, charge: Charge) {
    if charge.scopes.is_empty() {
        return;
    }
    let limiter = limiter.clone();
    guard.on_end(Box::new(move |rec| {
        let used = rec.usage.total_input() + rec.usage.output_tokens;
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move { limiter.reconcile(&charge, used).await });
        }
    }));
}

/// The retry and fallback loop.
async fn execute(
    state: &AppState,
    mut call: Call<'_>,
    alias: Arc<Alias>,
    mut guard: CallGuard,
    store: Option<Store>,
) -> Response<Body> {
    let caller = call.inbound.dialect;
    let retries = state.router.config.retries;
    let mut chain: VecDeque<Arc<Alias>> = VecDeque::from([alias]);
    let mut visited = HashSet::new();
    let mut last_err: Option<ApiError> = None;
    while let Some(alias) = chain.pop_front() {
        if !visited.insert(alias.name.clone()) {
            continue;
        }
        if visited.len() > 1 {
            guard.fallback();
        }
        let candidates = state.router.order(&alias);
        if candidates.is_empty() {
            let mut e = ApiError::new(
                ErrorKind::Unavailable,
                format!("every deployment of \"{}\" is cooling down after repeated failures", alias.name),
            );
            e.retry_after = state.router.cooldown_remaining(&alias).map(|d| d.as_secs().max(1).to_string());
            last_err = Some(e);
        }
        let mut tried = HashSet::new();
        let mut jump: Option<String> = None;
        for n in 0..=retries as usize {
            let Some(d) = candidates.get(n % candidates.len().max(1)) else { break };
            if !tried.insert(d.id.clone()) {
                // A retry of a deployment that already failed in this call: back off first.
                match state.router.backoff(n as u32, last_err.as_ref().and_then(|e| e.retry_after.as_deref())) {
                    Some(delay) => {
                        tokio::time::sleep(delay).await;
                        // Waiting to retry an upstream is upstream time, not amux's overhead.
                        guard.add_upstream_time(delay);
                    }
                    None => break,
                }
            }
            if n > 0 {
                guard.retry();
            }
            // The deployment's own limits: over them, it is skipped like a 429 (no cooldown).
            if let Some(scope) = Scope::new(format!("deployment:{}", d.id), d.rpm, d.tpm) {
                match state.limiter.admit(vec![scope], limits::estimate_tokens(call.inbound.body.len())).await {
                    Ok(charge) => reconcile_on_end(&mut guard, &state.limiter, charge),
                    Err(e) => {
                        last_err = Some(e);
                        continue;
                    }
                }
            }
            match try_deployment(state, &mut call, (&alias, d), &mut guard, store.clone()).await {
                Ok(resp) => return resp,
                Err(Failure::Retryable(e)) => {
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
                    return passthrough_fail(caller, &mut guard, e);
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
    let err = last_err.unwrap_or_else(|| ApiError::new(ErrorKind::Unavailable, "no deployment could serve the call"));
    passthrough_fail(caller, &mut guard, err)
}

/// An error before any byte was sent: record it and answer in the caller's shape.
pub fn passthrough_fail(dialect: Dialect, guard: &mut CallGuard, err: ApiError) -> Response<Body> {
    guard.set_error(err.status, err.kind.label());
    guard.mark_complete();
    let (started, upstream) = guard.timing();
    let mut resp = respond::error(dialect, &err);
    respond::overhead_header(resp.headers_mut(), started.elapsed().saturating_sub(upstream));
    resp
}

/// The URL of a call to `d` in `target` dialect; Anthropic's `?beta=true` goes along on the
/// same-dialect path, other query strings (Gemini's `?key=`) carry the caller's credentials and
/// never go upstream.
fn url_for(d: &Deployment, target: Dialect, inbound: &Inbound<'_>, stream: bool) -> Result<Uri, ApiError> {
    let url = d.provider.url(target, &d.model, stream)?;
    if inbound.dialect == Dialect::Anthropic
        && target == Dialect::Anthropic
        && let Some(q) = inbound.query.filter(|q| !q.is_empty())
        && let Ok(u) = format!("{url}?{q}").parse()
    {
        return Ok(u);
    }
    Ok(url)
}

/// One attempt at `d`, answered when it succeeds.
async fn try_deployment(
    state: &AppState,
    call: &mut Call<'_>,
    (alias, d): (&Alias, &Arc<Deployment>),
    guard: &mut CallGuard,
    store: Option<Store>,
) -> Result<Response<Body>, Failure> {
    let caller = call.inbound.dialect;
    let target = d.provider.dialect_for(caller);
    let url = url_for(d, target, &call.inbound, call.stream).map_err(Failure::Fatal)?;
    let passthrough = target == caller;
    let mut dropped = Vec::new();
    let (body, strip_usage) = if passthrough {
        passthrough::prepare(&call.top, d, caller, call.stream).map_err(Failure::Fatal)?
    } else {
        let strict = call.strict || alias.translation == Some(TranslationMode::Strict);
        let req = call.ir().map_err(Failure::Fatal)?;
        let (body, lost) = translated::prepare(req, caller, d, target, strict).map_err(Failure::Fatal)?;
        report_dropped(state, &lost, caller, target);
        dropped = lost;
        (body, false)
    };
    let first_byte_timeout = std::time::Duration::from_secs_f64(state.router.config.first_byte_timeout_secs.max(0.001));
    let plan = Plan { deployment: d, target, url, body, stream: call.stream, first_byte_timeout };
    let committed = attempt::run(state, &call.inbound, plan, guard).await?;
    guard.route(&d.provider.name, &d.model, passthrough);
    if call.stream {
        guard.hold(Box::new(state.obs.metrics.open_stream(caller)));
    }
    let cached = store.is_some();
    let (started, upstream) = guard.timing();
    let guard = std::mem::replace(guard, CallGuard::detached());
    let mut resp = if passthrough {
        passthrough::respond(caller, committed, strip_usage, guard, store)
    } else {
        let req = call.ir().map_err(Failure::Fatal)?;
        translated::respond(caller, req, committed, guard, store)
    };
    if cached {
        resp.headers_mut().insert(cache::HEADER, http::HeaderValue::from_static("miss"));
    }
    respond::overhead_header(resp.headers_mut(), started.elapsed().saturating_sub(upstream));
    respond::dropped_header(resp.headers_mut(), &dropped);
    Ok(resp)
}

/// Counts and logs (at debug) the fields a translated attempt left out.
fn report_dropped(state: &AppState, dropped: &[String], caller: Dialect, target: Dialect) {
    for field in dropped {
        state.obs.metrics.dropped(&crate::policy::shape(field), caller, target);
    }
    if !dropped.is_empty() {
        tracing::debug!(dropped = %dropped.join(", "), from = caller.label(), to = target.label(), "translation dropped advisory fields");
    }
}

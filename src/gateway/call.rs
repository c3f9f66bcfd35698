//! One model call from a surface: read the model, route it, pick the upstream dialect, and take
//! the same-dialect byte path or the translated path. Also the upstream send shared by both.

use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use http::{HeaderMap, Response, Uri};
use hyper::body::Incoming;

use super::passthrough::{self, fail};
use super::splice::TopLevel;
use super::state::AppState;
use super::{translated, upstream};
use crate::ir::{ApiError, Dialect, ErrorKind};
use crate::providers::Route;
use crate::usage::{CallGuard, CallRecord, Outcome};

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
}

/// Where a routed call goes and how.
pub struct Target {
    pub route: Route,
    /// The dialect the upstream is called in.
    pub dialect: Dialect,
    pub stream: bool,
    pub url: Uri,
}

/// Handles one call end to end; every failure is answered in the caller's dialect.
pub async fn handle(state: Arc<AppState>, inbound: Inbound<'_>) -> Response<Body> {
    let dialect = inbound.dialect;
    let top = match TopLevel::parse(inbound.body) {
        Ok(t) => t,
        Err(e) => return super::respond::error(dialect, &e),
    };
    let model = match inbound.path_model.clone() {
        Some(m) => m,
        None => match top.string("model") {
            Ok(Some(m)) => m,
            Ok(None) => return super::respond::error(dialect, &ApiError::invalid_field("model", "is required")),
            Err(e) => return super::respond::error(dialect, &e),
        },
    };
    let stream = match inbound.path_stream {
        Some(s) => s,
        None => match top.boolean("stream") {
            Ok(s) => s.unwrap_or(false),
            Err(e) => return super::respond::error(dialect, &e),
        },
    };
    let route = match state.registry.resolve(&model) {
        Ok(r) => r,
        Err(e) => return super::respond::error(dialect, &e),
    };
    let target_dialect = route.provider.dialect_for(dialect);
    let mut url = match route.provider.url(target_dialect, &route.upstream_model, stream) {
        Ok(u) => u,
        Err(e) => return super::respond::error(dialect, &e),
    };
    // Anthropic's `?beta=true` is part of the same-dialect request; other query strings (Gemini's
    // `?key=`) carry the caller's credentials and never go upstream.
    if dialect == Dialect::Anthropic
        && target_dialect == Dialect::Anthropic
        && let Some(q) = inbound.query.filter(|q| !q.is_empty())
        && let Ok(u) = format!("{url}?{q}").parse()
    {
        url = u;
    }
    let passthrough = target_dialect == dialect;
    let record = CallRecord {
        surface: dialect,
        model,
        provider: route.provider.name.clone(),
        upstream_model: route.upstream_model.clone(),
        passthrough,
        stream,
        outcome: Outcome::Success,
        usage: Default::default(),
        duration: Default::default(),
        upstream_time: Default::default(),
        time_to_first_byte: None,
    };
    let guard = CallGuard::new(state.sinks.clone(), record, inbound.started);
    let target = Target { route, dialect: target_dialect, stream, url };
    if passthrough {
        passthrough::forward(state.clone(), inbound, top, target, guard).await
    } else {
        translated::forward(state.clone(), inbound, target, guard).await
    }
}

/// Sends upstream; a transport failure or non-2xx answer becomes the caller's error response.
pub async fn send_checked(
    state: &AppState,
    target: &Target,
    inbound: &Inbound<'_>,
    body: Vec<u8>,
    guard: &mut CallGuard,
) -> Result<Response<Incoming>, Response<Body>> {
    let provider = &target.route.provider;
    let dialect = inbound.dialect;
    let Some(client) = state.client(&provider.name) else {
        let e = ApiError::new(ErrorKind::Api, format!("provider {} has no client", provider.name));
        return Err(fail(dialect, guard, e));
    };
    let sent =
        upstream::send(client, provider, target.dialect, dialect, inbound.headers, target.url.clone(), body).await;
    let (resp, waited) = match sent {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!(provider = %provider.name, error = e.label(), "upstream call failed: {e}");
            return Err(fail(dialect, guard, e.to_api(&provider.name)));
        }
    };
    guard.add_upstream_time(waited);
    if resp.status().is_success() {
        return Ok(resp);
    }
    let status = resp.status().as_u16();
    let (parts, body) = resp.into_parts();
    let bytes = upstream::collect(provider, body).await.unwrap_or_default();
    let err = upstream::upstream_error(provider, target.dialect, status, &parts.headers, &bytes);
    tracing::info!(provider = %provider.name, status, kind = err.kind.label(), "upstream error");
    Err(fail(dialect, guard, err))
}

//! One model call from a surface: read the model, route it, and take the same-dialect byte path
//! or the translated path. Also the upstream send shared by both paths.

use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use http::{HeaderMap, Response};
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
}

/// Handles one call end to end; every failure is answered in the caller's dialect.
pub async fn handle(state: Arc<AppState>, inbound: Inbound<'_>) -> Response<Body> {
    let dialect = inbound.dialect;
    let top = match TopLevel::parse(inbound.body) {
        Ok(t) => t,
        Err(e) => return super::respond::error(dialect, &e),
    };
    let model = match top.string("model") {
        Ok(Some(m)) => m,
        Ok(None) => {
            return super::respond::error(
                dialect,
                &ApiError::invalid_field("model", "is required"),
            );
        }
        Err(e) => return super::respond::error(dialect, &e),
    };
    let route = match state.registry.resolve(&model) {
        Ok(r) => r,
        Err(e) => return super::respond::error(dialect, &e),
    };
    let passthrough = route.provider.dialect == dialect;
    let stream = top.boolean("stream").ok().flatten().unwrap_or(false);
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
    if passthrough {
        passthrough::forward(state.clone(), inbound, top, route, guard).await
    } else {
        translated::forward(state.clone(), inbound, route, guard).await
    }
}

/// Sends upstream; a transport failure or non-2xx answer becomes the caller's error response.
pub async fn send_checked(
    state: &AppState,
    route: &Route,
    inbound: &Inbound<'_>,
    body: Vec<u8>,
    guard: &mut CallGuard,
) -> Result<Response<Incoming>, Response<Body>> {
    let provider = &route.provider;
    let dialect = inbound.dialect;
    let Some(client) = state.client(&provider.name) else {
        let e = ApiError::new(
            ErrorKind::Api,
            format!("provider {} has no client", provider.name),
        );
        return Err(fail(dialect, guard, e));
    };
    let (resp, waited) = match upstream::send(
        client,
        provider,
        dialect,
        inbound.headers,
        inbound.query,
        body,
    )
    .await
    {
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
    let err = upstream::upstream_error(provider, status, &parts.headers, &bytes);
    tracing::info!(provider = %provider.name, status, kind = err.kind.label(), "upstream error");
    Err(fail(dialect, guard, err))
}

//! Refusing a call before it is routed (unreadable or malformed request, unknown model, key,
//! permission, budget, rate limit): the one place that answers in the caller's shape, reports a
//! [`Rejection`] to the usage sinks (logs, metrics) and marks the call's span as failed.

use std::time::Instant;

use axum::body::Body;
use http::{HeaderMap, Response};
use tracing::Span;

use super::respond;
use super::state::AppState;
use crate::ir::{ApiError, Dialect};
use crate::stack::auth::Principal;
use crate::telemetry::trace;
use crate::usage::{CLIENT_CLOSED, Fault, Outcome, Rejection};

/// Who and what was refused.
pub struct Refusal<'a> {
    pub dialect: Dialect,
    pub principal: Option<&'a Principal>,
    /// The model asked for, when the request got that far.
    pub model: Option<&'a str>,
    pub started: Instant,
    /// The call's span when it has one; else a span is made for the refusal.
    pub span: Option<&'a Span>,
    /// The request's headers (for the caller's `traceparent`), when still at hand.
    pub headers: Option<&'a HeaderMap>,
}

/// Answers `err` in the caller's shape and reports it; `kind` overrides the error kind's label in
/// logs and metrics (`budget`).
pub fn reject(state: &AppState, r: Refusal<'_>, err: &ApiError, kind: Option<&'static str>) -> Response<Body> {
    let kind = match kind {
        Some(k) => k,
        None if err.status == CLIENT_CLOSED => Outcome::ClientDisconnected.label(),
        None => err.kind.label(),
    };
    state.sinks.reject(&Rejection {
        surface: r.dialect,
        key: r.principal.map(|p| p.name.clone()),
        team: r.principal.and_then(|p| p.team.clone()),
        model: r.model.map(str::to_string),
        status: err.status,
        kind,
        fault: Fault::of_rejection(err.kind),
        duration: r.started.elapsed(),
    });
    let own;
    let span = match r.span {
        Some(s) => s,
        None => {
            own = trace::call_span(r.dialect, r.headers, r.model, false);
            &own
        }
    };
    trace::rejected(span, err.status, kind);
    let mut resp = respond::error(r.dialect, err);
    respond::overhead_header(resp.headers_mut(), r.started.elapsed());
    resp
}

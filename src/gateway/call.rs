//! One model call from a surface: read the model and the stream flag, resolve the alias, check
//! that the key may use it, and hand the typed call to the model stack (`stack::model_stack`),
//! in the call's trace span.

use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use bytes::Bytes;
use http::{HeaderMap, Response};
use tracing::Instrument;

use super::admission::InFlight;
use super::lifecycle::SHUTDOWN_KIND;
use super::reject::{Refusal, reject};
use super::splice::{TopLevel, model_hint};
use super::state::AppState;
use crate::config::TranslationMode;
use crate::ir::{self, ApiError, Dialect};
use crate::providers::Alias;
use crate::stack::auth::{self, Principal};
use crate::stack::service::{ModelCall, ModelService, Read};
use crate::stack::{self};
use crate::telemetry::trace;
use crate::translate;

/// A request as a surface received it.
pub struct Inbound<'a> {
    pub dialect: Dialect,
    pub headers: &'a HeaderMap,
    pub query: Option<&'a str>,
    /// The body as read: the same-dialect path sends slices of it upstream.
    pub body: &'a Bytes,
    pub started: Instant,
    /// The model when the surface carries it in the path (Gemini), not the body.
    pub path_model: Option<String>,
    /// Streaming when the surface says so in the path (Gemini `:streamGenerateContent`).
    pub path_stream: Option<bool>,
    /// The caller's key (None on an open gateway).
    pub principal: Option<Arc<Principal>>,
    /// The call's admission (`limits.max_in_flight`) and place in the in-flight gauge, held
    /// until it ends.
    pub in_flight: Option<InFlight>,
}

impl Inbound<'_> {
    /// Refuses the call before it is admitted (in `span`, or a span of its own): a `Rejection`,
    /// not a `CallRecord`.
    pub(crate) fn refuse(
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

/// Asks for strict translation per request.
pub const TRANSLATION_HEADER: http::HeaderName = http::HeaderName::from_static("x-amux-translation");

fn strict_requested(headers: &HeaderMap, gateway: TranslationMode) -> bool {
    match headers.get(&TRANSLATION_HEADER).map(|v| v.as_bytes()) {
        Some(v) if v.eq_ignore_ascii_case(b"strict") => true,
        Some(v) if v.eq_ignore_ascii_case(b"lenient") => false,
        _ => gateway == TranslationMode::Strict,
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

/// What [`read_first`] made of a call.
enum First<'b> {
    /// The IR, and the alias of its model.
    Decoded(&'b str, Box<ir::Request>, Arc<Alias>),
    /// The alias of the model the body likely names; the body is still to be scanned, and the
    /// alias is kept if the scan reads the same model.
    Resolved(&'b str, Arc<Alias>),
    Unread,
}

/// A call whose body likely names a model ([`model_hint`]: first, or, for a dialect with a fast
/// path, anywhere) of an alias every deployment of which translates for the caller: its IR,
/// decoded by the dialect's fast path, which reads the body whole (checking it as JSON, and that
/// no member is repeated, as the scan does), instead of a scan of the whole body for the model
/// and the stream flag before that same decode (a translated call read its body twice). The IR
/// is kept only if its model is the one guessed (a nested `model` can mislead the guess). Any
/// other call is left to the scan: no model found, a model or stream flag in the path, a
/// same-dialect deployment (which sends the scanned body on; the alias found is kept), a
/// dialect without a fast path, or a body the fast path does not take (whose error, if it has
/// one, the call then gives where it always has).
fn read_first<'b>(state: &AppState, inbound: &Inbound<'b>) -> First<'b> {
    if inbound.path_model.is_some() || inbound.path_stream.is_some() {
        return First::Unread;
    }
    let caller = inbound.dialect;
    let Some(model) = model_hint(inbound.body, translate::decodes_fast(caller)) else { return First::Unread };
    let Ok(alias) = state.registry.resolve(model) else { return First::Unread };
    if alias.deployments.iter().any(|d| d.dialect_for(caller) == caller) {
        return First::Resolved(model, alias);
    }
    match translate::decode_request_fast(caller, inbound.body) {
        Some(req) if req.model == model => First::Decoded(model, Box::new(req), alias),
        _ => First::Resolved(model, alias),
    }
}

/// Handles one call end to end, in its span once the model is known; every failure is answered
/// in the caller's dialect, including the drain deadline of a graceful shutdown.
pub async fn handle(state: Arc<AppState>, inbound: Inbound<'_>) -> Response<Body> {
    let first = read_first(&state, &inbound);
    let (read, model, stream, resolved) = match first {
        First::Decoded(model, req, alias) => {
            let stream = req.stream;
            (Read::Ir(req), model.to_string(), stream, Some(alias))
        }
        First::Resolved(..) | First::Unread => {
            let top = match TopLevel::parse(inbound.body) {
                Ok(t) => t,
                Err(e) => return inbound.refuse(&state, (None, None), &e, None),
            };
            let (model, stream) = match model_and_stream(&inbound, &top) {
                Ok(x) => x,
                Err(e) => return inbound.refuse(&state, (None, None), &e, None),
            };
            // The alias found for the guessed model, when the scan reads the same model.
            let alias = match first {
                First::Resolved(m, alias) if m == model => Some(alias),
                _ => None,
            };
            (Read::Top(top), model, stream, alias)
        }
    };
    let span = trace::call_span(inbound.dialect, Some(inbound.headers), Some(&model), stream);
    let p = inbound.principal.as_deref();
    trace::principal(&span, p.map(|p| p.name.as_str()), p.and_then(|p| p.team.as_deref()));
    let alias = match resolved.map_or_else(|| state.registry.resolve(&model), Ok) {
        Ok(a) => a,
        Err(e) => return inbound.refuse(&state, (Some(model.as_str()), Some(&span)), &e, None),
    };
    if let Some(p) = &inbound.principal
        && !p.allows(&model)
    {
        return inbound.refuse(&state, (Some(model.as_str()), Some(&span)), &auth::forbidden(p, &model), None);
    }
    let strict = strict_requested(inbound.headers, state.registry.translation);
    let mut call = ModelCall::new(&state, (inbound, read), (model, stream), alias, span.clone(), strict);
    // A call still waiting (for a limiter, an upstream's headers, a non-streamed answer) at a
    // graceful shutdown's drain deadline is answered with an error and recorded as cut by the
    // shutdown; a stream already answering ends through its body instead.
    let drain = state.lifecycle.drain();
    let stack = stack::model_stack();
    tokio::select! {
        biased;
        resp = stack.call(&mut call).instrument(span) => resp,
        () = drain.deadline() => {
            let err = drain.cut();
            let status = err.status;
            let resp = call.fail(err);
            call.guard.set_error(status, SHUTDOWN_KIND);
            resp
        }
    }
}

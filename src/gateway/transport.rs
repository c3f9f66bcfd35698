//! The transport under the router: one attempt at one deployment, on the same-dialect byte path
//! (the caller's body with only the model spliced) or the translated path (through the IR and the
//! translation policy), answered when it succeeds. The cloud transports plug in beside these.

use std::sync::Arc;

use axum::body::Body;
use http::{Response, Uri};

use super::attempt::{self, Failure, Plan};
use super::call::Inbound;
use super::state::AppState;
use super::{passthrough, respond, translated};
use crate::config::TranslationMode;
use crate::ir::{ApiError, Dialect};
use crate::providers::{Alias, Deployment};
use crate::stack::cache;
use crate::stack::service::{AttemptService, ModelCall};
use crate::usage::CallGuard;

/// Sends the call to a deployment in the dialect its provider speaks.
#[derive(Clone, Copy, Default)]
pub struct Transport;

impl AttemptService for Transport {
    async fn attempt<'a, 'c: 'a>(
        &'a self,
        call: &'a mut ModelCall<'c>,
        alias: &'a Alias,
        d: &'a Arc<Deployment>,
    ) -> Result<Response<Body>, Failure> {
        let state = call.state;
        let caller = call.inbound.dialect;
        let target = d.dialect_for(caller);
        let passthrough = target == caller;
        // The record names the deployment being tried: the one that answered, the one that
        // failed last, or the one a cut call was waiting on (the drain deadline of a graceful
        // shutdown drops this future).
        call.guard.route(&d.provider.name, &d.model, passthrough);
        let url = url_for(d, target, &call.inbound, call.stream).map_err(Failure::Fatal)?;
        let mut dropped = Vec::new();
        let (body, strip_usage) = if passthrough {
            let (stream, body, headers) = (call.stream, call.inbound.body, call.inbound.headers);
            let top = call.top().map_err(Failure::Fatal)?;
            let (body, strip_usage, lost) =
                passthrough::prepare(top, body, d, caller, stream, headers).map_err(Failure::Fatal)?;
            if !lost.is_empty() {
                report_dropped(state, &lost, caller, target);
                dropped = lost;
            }
            (body, strip_usage)
        } else {
            let strict = call.strict || alias.translation == Some(TranslationMode::Strict);
            let req = call.ir().map_err(Failure::Fatal)?;
            let (body, lost) = translated::prepare(req, caller, d, target, strict).map_err(Failure::Fatal)?;
            report_dropped(state, &lost, caller, target);
            dropped = lost;
            (body.into(), false)
        };
        // Claude on Vertex (rawPredict): the model is in the path, the version in the body.
        let body = if target == Dialect::Anthropic && d.provider.vertex.is_some() {
            crate::providers::vertex::anthropic_body(&body.contiguous(), false).map_err(Failure::Fatal)?.into()
        } else {
            body
        };
        let first_byte_timeout =
            std::time::Duration::from_secs_f64(state.router.config.first_byte_timeout_secs.max(0.001));
        let plan = Plan { deployment: d, target, url, body, stream: call.stream, first_byte_timeout };
        let committed = attempt::run(state, &call.inbound, plan, &mut call.guard).await?;
        if call.stream {
            call.guard.hold(Box::new(state.obs.metrics.open_stream(caller)));
        }
        let store = call.store.clone();
        let cached = store.is_some();
        let (started, upstream) = call.guard.timing();
        let guard = std::mem::replace(&mut call.guard, CallGuard::detached());
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
}

/// The URL of a call to `d` in `target` dialect; Anthropic's `?beta=true` goes along on the
/// same-dialect path, other query strings (Gemini's `?key=`) carry the caller's credentials and
/// never go upstream.
fn url_for(d: &Deployment, target: Dialect, inbound: &Inbound<'_>, stream: bool) -> Result<Uri, ApiError> {
    let url = d.provider.url(target, &d.model, stream)?;
    if inbound.dialect == Dialect::Anthropic
        && target == Dialect::Anthropic
        && d.provider.preset.kind != crate::config::ProviderKind::Bedrock
        && d.provider.vertex.is_none()
        && let Some(q) = inbound.query.filter(|q| !q.is_empty())
        && let Ok(u) = format!("{url}?{q}").parse()
    {
        return Ok(u);
    }
    Ok(url)
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

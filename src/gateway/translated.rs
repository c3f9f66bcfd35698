//! The cross-dialect path: caller body -> IR -> upstream dialect, and the response (whole or
//! event by event) back into the caller's dialect.

use std::sync::Arc;

use axum::body::Body;
use bytes::Bytes;
use http::{Response, StatusCode};

use super::call::{Inbound, Target, send_checked};
use super::passthrough::fail;
use super::respond;
use super::state::AppState;
use super::stream::{self, Stage};
use super::upstream;
use crate::ir::{ApiError, ErrorKind, StreamEvent};
use crate::translate::{self, StreamTranslator};
use crate::usage::CallGuard;

struct TranslateStage(StreamTranslator);

fn observe(guard: &mut CallGuard) -> impl FnMut(&StreamEvent) + '_ {
    move |ev| match ev {
        StreamEvent::MessageStart { usage, .. } | StreamEvent::MessageDelta { usage, .. } => guard.usage(usage),
        StreamEvent::Error(e) => guard.set_error(e.status, e.kind.label()),
        _ => {}
    }
}

impl Stage for TranslateStage {
    fn chunk(&mut self, chunk: Bytes, guard: &mut CallGuard) -> Bytes {
        self.0.feed(&chunk, &mut observe(guard))
    }

    fn finish(&mut self, guard: &mut CallGuard) -> Bytes {
        self.0.finish(&mut observe(guard))
    }

    fn fail(&mut self, err: ApiError, guard: &mut CallGuard) -> Bytes {
        self.0.fail(err, &mut observe(guard))
    }
}

/// Translates and forwards a cross-dialect call.
pub async fn forward(
    state: Arc<AppState>,
    inbound: Inbound<'_>,
    target: Target,
    mut guard: CallGuard,
) -> Response<Body> {
    let caller = inbound.dialect;
    let upstream_dialect = target.dialect;
    let route = &target.route;
    let mut req = match translate::decode_request(caller, inbound.body) {
        Ok(r) => r,
        Err(e) => return fail(caller, &mut guard, e),
    };
    // Surfaces that carry the model and the stream flag in the path (Gemini).
    req.stream = target.stream;
    if let Some(m) = &inbound.path_model {
        req.model = m.clone();
    }
    req.provider_params = route.params.clone();
    let body = match translate::encode_request(upstream_dialect, &req, &route.upstream_model)
        .and_then(|b| translate::merge_params(b, &route.params))
    {
        Ok(b) => b,
        Err(e) => return fail(caller, &mut guard, e),
    };
    let resp = match send_checked(&state, &target, &inbound, body, &mut guard).await {
        Ok(r) => r,
        Err(resp) => return resp,
    };
    let upstream_body = resp.into_body();
    if req.stream {
        let stage = TranslateStage(StreamTranslator::new(upstream_dialect, caller, &req));
        let mut r = Response::new(stream::body(upstream_body, stage, guard, route.provider.clone()));
        respond::sse_headers(r.headers_mut());
        return r;
    }
    let t0 = std::time::Instant::now();
    let bytes = match upstream::collect(&route.provider, upstream_body).await {
        Ok(b) => b,
        Err(e) => return fail(caller, &mut guard, e.to_api(&route.provider.name)),
    };
    guard.add_upstream_time(t0.elapsed());
    let decoded = translate::decode_response(upstream_dialect, &bytes).map_err(|e| {
        ApiError::new(
            ErrorKind::BadGateway,
            format!("provider {}: unreadable response: {}", route.provider.name, e.message),
        )
    });
    match decoded {
        Ok(r) => {
            guard.usage(&r.usage);
            guard.mark_complete();
            respond::json(StatusCode::OK, translate::encode_response(caller, &r))
        }
        Err(e) => fail(caller, &mut guard, e),
    }
}

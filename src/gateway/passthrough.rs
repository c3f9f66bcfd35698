//! The same-dialect path: the caller's body forwarded as bytes with only the model replaced (and,
//! for OpenAI streams, usage switched on), the response forwarded as it arrives while an observer
//! reads usage.

use std::sync::Arc;

use axum::body::Body;
use bytes::Bytes;
use http::{Response, StatusCode};

use super::call::{Inbound, Target, send_checked};
use super::observe::{StreamObserver, body_usage};
use super::respond;
use super::splice::TopLevel;
use super::state::AppState;
use super::stream::{self, Stage};
use super::upstream;
use crate::ir::{self, ApiError, Dialect};
use crate::translate;
use crate::usage::CallGuard;

struct ObserveStage {
    dialect: Dialect,
    observer: StreamObserver,
}

impl Stage for ObserveStage {
    fn chunk(&mut self, chunk: Bytes, guard: &mut CallGuard) -> Bytes {
        let out = self.observer.chunk(chunk);
        guard.usage(&self.observer.usage);
        out
    }

    fn finish(&mut self, guard: &mut CallGuard) -> Bytes {
        let mut out = self.observer.finish().to_vec();
        guard.usage(&self.observer.usage);
        if self.observer.saw_error {
            guard.set_error(502, "upstream_stream_error");
        } else if !self.observer.complete {
            let err = ApiError::new(ir::ErrorKind::BadGateway, "upstream stream ended before its final event");
            guard.set_error(err.status, err.kind.label());
            out.extend_from_slice(&translate::encode_stream_error(self.dialect, err));
        }
        Bytes::from(out)
    }

    fn fail(&mut self, err: ApiError, guard: &mut CallGuard) -> Bytes {
        let mut out = self.observer.finish().to_vec();
        guard.usage(&self.observer.usage);
        out.extend_from_slice(&translate::encode_stream_error(self.dialect, err));
        Bytes::from(out)
    }
}

/// Forwards a same-dialect call.
pub async fn forward(
    state: Arc<AppState>,
    inbound: Inbound<'_>,
    top: TopLevel<'_>,
    target: Target,
    mut guard: CallGuard,
) -> Response<Body> {
    let dialect = inbound.dialect;
    let (stream, route) = (target.stream, &target.route);
    let mut replace: Vec<(&str, String)> = Vec::new();
    // Gemini carries the model in the URL; the others in the body.
    if top.raw("model").is_some() {
        replace.push(("model", serde_json::Value::String(route.upstream_model.clone()).to_string()));
    }
    let mut append: Vec<(&str, String)> = Vec::new();
    let mut strip_usage = false;
    if dialect == Dialect::OpenAiChat && stream {
        match top.raw("stream_options").map(serde_json::from_str::<serde_json::Value>) {
            None | Some(Ok(serde_json::Value::Null)) => {
                append.push(("stream_options", r#"{"include_usage":true}"#.into()));
                strip_usage = true;
            }
            Some(Ok(serde_json::Value::Object(mut o))) => {
                if o.get("include_usage") != Some(&serde_json::Value::Bool(true)) {
                    o.insert("include_usage".into(), true.into());
                    replace.push(("stream_options", serde_json::Value::Object(o).to_string()));
                    strip_usage = true;
                }
            }
            _ => {
                return fail(dialect, &mut guard, ApiError::invalid_field("stream_options", "must be an object"));
            }
        }
    }
    for (k, v) in &route.params {
        let slot = if top.raw(k).is_some() { &mut replace } else { &mut append };
        slot.push((k.as_str(), v.to_string()));
    }
    let replace_refs: Vec<(&str, &str)> = replace.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let append_refs: Vec<(&str, &str)> = append.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let body = top.rewrite(&replace_refs, &append_refs);

    let resp = match send_checked(&state, &target, &inbound, body, &mut guard).await {
        Ok(r) => r,
        Err(resp) => return resp,
    };
    let (parts, upstream_body) = resp.into_parts();
    let mut out = if stream {
        let stage = ObserveStage { dialect, observer: StreamObserver::new(dialect, strip_usage) };
        let mut r = Response::new(stream::body(upstream_body, stage, guard, route.provider.clone()));
        respond::sse_headers(r.headers_mut());
        r
    } else {
        let t0 = std::time::Instant::now();
        let bytes = match upstream::collect(&route.provider, upstream_body).await {
            Ok(b) => b,
            Err(e) => return fail(dialect, &mut guard, e.to_api(&route.provider.name)),
        };
        guard.add_upstream_time(t0.elapsed());
        guard.usage(&body_usage(dialect, &bytes));
        guard.mark_complete();
        Response::new(Body::from(bytes))
    };
    *out.status_mut() = StatusCode::OK;
    respond::copy_upstream_headers(&parts.headers, out.headers_mut());
    out
}

/// An error before any byte was sent: record it and answer in the caller's shape.
pub fn fail(dialect: Dialect, guard: &mut CallGuard, err: ApiError) -> Response<Body> {
    guard.set_error(err.status, err.kind.label());
    guard.mark_complete();
    respond::error(dialect, &err)
}

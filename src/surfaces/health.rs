//! Health probes, the root path (Claude Code sends `HEAD /` first), unknown routes and panics.
//! Readiness answers 503 from the moment a graceful shutdown begins (see `gateway::shutdown`);
//! liveness stays 200 until the process exits.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use http::{Method, Response, StatusCode, Uri};
use serde_json::json;

use crate::gateway::{AppState, json_response};

pub async fn liveness() -> Response<Body> {
    json_response(StatusCode::OK, br#"{"status":"ok"}"#.to_vec())
}

pub async fn readiness(State(state): State<Arc<AppState>>) -> Response<Body> {
    if state.lifecycle.is_draining() {
        return json_response(StatusCode::SERVICE_UNAVAILABLE, br#"{"status":"draining"}"#.to_vec());
    }
    let body =
        json!({"status": "ready", "providers": state.registry.providers.len(), "models": state.registry.aliases.len()});
    json_response(StatusCode::OK, body.to_string().into_bytes())
}

pub async fn root() -> Response<Body> {
    json_response(StatusCode::OK, br#"{"name":"amux","status":"ok"}"#.to_vec())
}

pub async fn not_found(method: Method, uri: Uri) -> Response<Body> {
    let msg = format!("no route for {method} {}", uri.path());
    let body = json!({"type": "error", "error": {"type": "not_found_error", "message": msg}});
    json_response(StatusCode::NOT_FOUND, body.to_string().into_bytes())
}

pub fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response<Body> {
    let body = json!({"type": "error", "error": {"type": "api_error", "message": "internal error in amux"}});
    json_response(StatusCode::INTERNAL_SERVER_ERROR, body.to_string().into_bytes())
}

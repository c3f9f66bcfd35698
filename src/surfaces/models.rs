//! `GET /v1/models` and `GET /v1/models/{id}`: what is routable, in OpenAI's list shape, or in
//! Anthropic's when the caller sends `anthropic-version`.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, State};
use http::{HeaderMap, Response, StatusCode};
use serde_json::{Value, json};

use crate::gateway::{AppState, error_response, json_response};
use crate::ir::Dialect;

fn dialect(headers: &HeaderMap) -> Dialect {
    if headers.contains_key("anthropic-version") { Dialect::Anthropic } else { Dialect::OpenAiChat }
}

fn entry(d: Dialect, id: &str, owner: &str) -> Value {
    match d {
        Dialect::Anthropic => {
            json!({"type": "model", "id": id, "display_name": id, "created_at": "1970-01-01T00:00:00Z"})
        }
        _ => {
            json!({"id": id, "object": "model", "created": 0, "owned_by": owner})
        }
    }
}

pub async fn list(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response<Body> {
    let d = dialect(&headers);
    let data: Vec<Value> = state.registry.listed_models().into_iter().map(|(id, owner)| entry(d, id, owner)).collect();
    let body = match d {
        Dialect::Anthropic => json!({
            "data": data,
            "has_more": false,
            "first_id": data.first().and_then(|m| m.get("id")).cloned(),
            "last_id": data.last().and_then(|m| m.get("id")).cloned(),
        }),
        _ => json!({"object": "list", "data": data}),
    };
    json_response(StatusCode::OK, body.to_string().into_bytes())
}

pub async fn get_one(State(state): State<Arc<AppState>>, Path(id): Path<String>, headers: HeaderMap) -> Response<Body> {
    let d = dialect(&headers);
    match state.registry.resolve(&id) {
        Ok(route) => json_response(StatusCode::OK, entry(d, &id, &route.provider.name).to_string().into_bytes()),
        Err(e) => error_response(d, &e),
    }
}

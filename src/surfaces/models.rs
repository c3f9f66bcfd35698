//! `GET /v1/models` and `GET /v1/models/{id}`: what is routable, in OpenAI's list shape, or in
//! Anthropic's when the caller sends `anthropic-version`.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, State};
use http::{HeaderMap, Response, StatusCode, Uri};
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

pub async fn list(State(state): State<Arc<AppState>>, uri: Uri, headers: HeaderMap) -> Response<Body> {
    let d = dialect(&headers);
    let principal = match state.keys.authenticate(&headers, uri.query()) {
        Ok(p) => p,
        Err(e) => return error_response(d, &e),
    };
    let data: Vec<Value> = state
        .registry
        .listed_models()
        .into_iter()
        .filter(|(id, _)| principal.as_ref().is_none_or(|p| p.allows(id)))
        .map(|(id, owner)| entry(d, id, owner))
        .collect();
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

pub async fn get_one(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    uri: Uri,
    headers: HeaderMap,
) -> Response<Body> {
    let d = dialect(&headers);
    if let Err(e) = state.keys.authenticate(&headers, uri.query()) {
        return error_response(d, &e);
    }
    match state.registry.resolve(&id) {
        Ok(alias) => {
            let owner = alias.deployments.first().map(|x| x.provider.name.as_str()).unwrap_or("");
            json_response(StatusCode::OK, entry(d, &id, owner).to_string().into_bytes())
        }
        Err(e) => error_response(d, &e),
    }
}

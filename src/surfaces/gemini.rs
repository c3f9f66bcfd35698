//! The Gemini surface: `POST /v1beta/models/{model}:generateContent`,
//! `:streamGenerateContent` (with `?alt=sse`) and `:countTokens`, and `GET /v1beta/models[/{m}]`.
//! The model and the method share one path segment; auth is `x-goog-api-key` or `?key=`.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, Request, State};
use http::{Response, StatusCode};
use serde_json::{Value, json};

use super::messages::{Op, dispatch};
use crate::gateway::{AppState, error_response, json_response};
use crate::ir::{ApiError, Dialect, ErrorKind};

pub async fn call(State(state): State<Arc<AppState>>, Path(rest): Path<String>, req: Request) -> Response<Body> {
    let Some((model, method)) = rest.rsplit_once(':') else {
        let e =
            ApiError::new(ErrorKind::NotFound, format!("no method in \"{rest}\"; expected {{model}}:generateContent"));
        return error_response(Dialect::Gemini, &e);
    };
    let (op, stream) = match method {
        "generateContent" => (Op::Generate, false),
        "streamGenerateContent" => (Op::Generate, true),
        "countTokens" => (Op::CountTokens, false),
        other => {
            let e = ApiError::new(ErrorKind::NotFound, format!("method \"{other}\" is not served by amux"));
            return error_response(Dialect::Gemini, &e);
        }
    };
    let model = model.strip_prefix("models/").unwrap_or(model).to_string();
    dispatch(state, Dialect::Gemini, op, req, Some(model), Some(stream)).await
}

fn entry(id: &str) -> Value {
    json!({
        "name": format!("models/{id}"),
        "baseModelId": id,
        "displayName": id,
        "supportedGenerationMethods": ["generateContent", "streamGenerateContent", "countTokens"],
    })
}

pub async fn list(State(state): State<Arc<AppState>>) -> Response<Body> {
    let models: Vec<Value> = state.registry.listed_models().into_iter().map(|(id, _)| entry(id)).collect();
    json_response(StatusCode::OK, json!({"models": models}).to_string().into_bytes())
}

pub async fn get_one(State(state): State<Arc<AppState>>, Path(id): Path<String>) -> Response<Body> {
    match state.registry.resolve(&id) {
        Ok(_) => json_response(StatusCode::OK, entry(&id).to_string().into_bytes()),
        Err(e) => error_response(Dialect::Gemini, &e),
    }
}

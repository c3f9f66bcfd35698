//! The two model-call surfaces: `POST /v1/messages` (Anthropic Messages, also `?beta=true`) and
//! `POST /v1/chat/completions` (OpenAI Chat). Both read the body and hand it to the gateway.

use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::extract::{Request, State};
use http::Response;

use super::MAX_BODY;
use crate::gateway::{AppState, call, error_response};
use crate::ir::{ApiError, Dialect, ErrorKind};

async fn model_call(state: Arc<AppState>, dialect: Dialect, req: Request) -> Response<Body> {
    let started = Instant::now();
    let (parts, body) = req.into_parts();
    let bytes = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(b) => b,
        Err(e) => {
            let too_large = std::error::Error::source(&e).is_some_and(|s| s.is::<http_body_util::LengthLimitError>());
            let err = if too_large {
                ApiError::new(ErrorKind::RequestTooLarge, format!("request body exceeds {MAX_BODY} bytes"))
            } else {
                ApiError::invalid_field("body", format!("could not be read: {e}"))
            };
            return error_response(dialect, &err);
        }
    };
    let inbound = call::Inbound {
        dialect,
        headers: &parts.headers,
        query: parts.uri.query(),
        body: &bytes,
        started,
        path_model: None,
        path_stream: None,
    };
    call::handle(state, inbound).await
}

pub async fn anthropic(State(state): State<Arc<AppState>>, req: Request) -> Response<Body> {
    model_call(state, Dialect::Anthropic, req).await
}

pub async fn openai_chat(State(state): State<Arc<AppState>>, req: Request) -> Response<Body> {
    model_call(state, Dialect::OpenAiChat, req).await
}

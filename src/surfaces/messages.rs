//! The body-carrying model surfaces: `POST /v1/messages` (Anthropic, also `?beta=true`),
//! `POST /v1/chat/completions` (OpenAI Chat), `POST /v1/responses` (OpenAI Responses), and the
//! counting endpoints `POST /v1/messages/count_tokens` and `POST /v1/responses/input_tokens`.
//! Each reads the body and hands it to the gateway with its dialect.

use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::extract::{Request, State};
use bytes::Bytes;
use http::Response;
use http::request::Parts;

use super::MAX_BODY;
use crate::gateway::reject::{Refusal, reject};
use crate::gateway::{AppState, call, count, error_response};
use crate::ir::{ApiError, Dialect, ErrorKind};

/// Reads a request body, bounded; a failure is the error to answer in the caller's dialect.
pub async fn read_body(req: Request) -> Result<(Parts, Bytes), ApiError> {
    let (parts, body) = req.into_parts();
    match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(b) => Ok((parts, b)),
        Err(e) => {
            let too_large = std::error::Error::source(&e).is_some_and(|s| s.is::<http_body_util::LengthLimitError>());
            Err(if too_large {
                ApiError::new(ErrorKind::RequestTooLarge, format!("request body exceeds {MAX_BODY} bytes"))
            } else {
                ApiError::invalid_field("body", format!("could not be read: {e}"))
            })
        }
    }
}

/// What a surface asks of the gateway.
#[derive(Clone, Copy)]
pub enum Op {
    Generate,
    CountTokens,
}

/// Runs one model call or token count.
pub async fn dispatch(
    state: Arc<AppState>,
    dialect: Dialect,
    op: Op,
    req: Request,
    path_model: Option<String>,
    path_stream: Option<bool>,
) -> Response<Body> {
    let started = Instant::now();
    // Model calls are counted in flight and traced from here; token counts are not model calls.
    let generate = matches!(op, Op::Generate);
    let in_flight = generate.then(|| state.obs.metrics.in_flight(dialect));
    let refuse = |err: &ApiError, headers: Option<&http::HeaderMap>| {
        if !generate {
            return error_response(dialect, err);
        }
        let r = Refusal { dialect, principal: None, model: None, started, span: None, headers };
        reject(&state, r, err, None)
    };
    let (parts, bytes) = match read_body(req).await {
        Ok(x) => x,
        Err(e) => return refuse(&e, None),
    };
    let principal = match state.keys.authenticate(&parts.headers, parts.uri.query()) {
        Ok(p) => p,
        Err(e) => return refuse(&e, Some(&parts.headers)),
    };
    let inbound = call::Inbound {
        dialect,
        headers: &parts.headers,
        query: parts.uri.query(),
        body: &bytes,
        started,
        path_model,
        path_stream,
        principal,
        in_flight,
    };
    // A call still waiting at a graceful shutdown's drain deadline is answered with an error
    // (a stream already answering ends through its body instead).
    let drain = state.lifecycle.drain();
    let work = async {
        match op {
            Op::Generate => call::handle(state.clone(), inbound).await,
            Op::CountTokens => count::handle(state.clone(), inbound).await,
        }
    };
    tokio::select! {
        biased;
        resp = work => resp,
        () = drain.deadline() => error_response(dialect, &drain.cut()),
    }
}

pub async fn anthropic(State(state): State<Arc<AppState>>, req: Request) -> Response<Body> {
    dispatch(state, Dialect::Anthropic, Op::Generate, req, None, None).await
}

pub async fn anthropic_count(State(state): State<Arc<AppState>>, req: Request) -> Response<Body> {
    dispatch(state, Dialect::Anthropic, Op::CountTokens, req, None, None).await
}

pub async fn openai_chat(State(state): State<Arc<AppState>>, req: Request) -> Response<Body> {
    dispatch(state, Dialect::OpenAiChat, Op::Generate, req, None, None).await
}

pub async fn responses(State(state): State<Arc<AppState>>, req: Request) -> Response<Body> {
    dispatch(state, Dialect::OpenAiResponses, Op::Generate, req, None, None).await
}

pub async fn responses_count(State(state): State<Arc<AppState>>, req: Request) -> Response<Body> {
    dispatch(state, Dialect::OpenAiResponses, Op::CountTokens, req, None, None).await
}

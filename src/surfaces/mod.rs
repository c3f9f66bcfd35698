//! Inbound HTTP: which paths exist, which dialect each speaks, and the layer stack around them.
//!
//! The stack, outermost first (what each layer reads and writes):
//! 1. `CatchPanicLayer` — reads nothing; turns a handler panic into a 500 JSON error instead of
//!    a dropped connection.
//! 2. `SetSensitiveRequestHeadersLayer` — marks `authorization`, `x-api-key`, `x-goog-api-key`
//!    and `api-key` sensitive so no trace or log layer prints them.
//! 3. `TraceLayer` — one span per request (method, path; never headers or bodies).
//! 4. The surface handler — reads the body (bounded by [`MAX_BODY`], 413 in the caller's shape),
//!    then [`crate::gateway::call::handle`]: route, same-dialect bytes or translation, provider.
//!
//! Keys, rate limits, cache and routing policies are later layers in this same list.

mod health;
mod messages;
mod models;

use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};
use http::header::{AUTHORIZATION, HeaderName};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::sensitive_headers::SetSensitiveRequestHeadersLayer;
use tower_http::trace::TraceLayer;

use crate::gateway::AppState;

/// Largest request body accepted (Anthropic's own limit for Messages is 32 MB).
pub const MAX_BODY: usize = 32 * 1024 * 1024;

/// The gateway's HTTP router with its layers.
pub fn router(state: Arc<AppState>) -> Router {
    let sensitive: Arc<[HeaderName]> = Arc::new([
        AUTHORIZATION,
        HeaderName::from_static("x-api-key"),
        HeaderName::from_static("x-goog-api-key"),
        HeaderName::from_static("api-key"),
    ]);
    Router::new()
        .route("/v1/messages", post(messages::anthropic))
        .route("/v1/chat/completions", post(messages::openai_chat))
        .route("/chat/completions", post(messages::openai_chat))
        .route("/v1/models", get(models::list))
        .route("/v1/models/{*id}", get(models::get_one))
        .route("/health/liveness", get(health::liveness))
        .route("/health/readiness", get(health::readiness))
        .route("/", get(health::root).head(health::root))
        .fallback(health::not_found)
        .with_state(state)
        .layer(TraceLayer::new_for_http())
        .layer(SetSensitiveRequestHeadersLayer::from_shared(sensitive))
        .layer(CatchPanicLayer::custom(health::panic_response))
}

//! Inbound HTTP: which paths exist, which dialect each speaks, and the layer stack around them.
//!
//! The stack, outermost first (what each layer reads and writes):
//! 1. `CatchPanicLayer` — reads nothing; turns a handler panic into a 500 JSON error instead of
//!    a dropped connection.
//! 2. `SetSensitiveRequestHeadersLayer` — marks `authorization`, `x-api-key`, `x-goog-api-key`
//!    and `api-key` sensitive so no trace or log layer prints them.
//! 3. `TraceLayer` — one span per request (method and path; never the query, headers or bodies).
//! 4. The surface handler — reads the body (bounded by `limits.max_request_body_bytes` and
//!    `limits.request_body_timeout_secs`: 413 / 408 in the caller's shape; calls past
//!    `limits.max_in_flight` are shed with 503 first, see `gateway::admission`),
//!    then [`crate::gateway::call::handle`]: route, same-dialect bytes or translation, provider.
//!
//! `GET /v1/responses` with a WebSocket upgrade is the Responses WebSocket transport
//! ([`responses_ws`]): each turn is one more call through the same handler as the POST.
//!
//! Keys, budgets, rate limits, cache and routing are steps of `gateway::call` (see `stack`).
//! Operator routes: `GET /metrics` (unless `metrics.listen` moves it to its own port, or
//! `metrics.enabled` is false) and `GET /admin/spend`.

mod admin;
mod azure;
mod bedrock;
mod gemini;
mod health;
mod messages;
mod models;
pub mod responses_ws;
mod vertex;

use std::sync::Arc;

use axum::Router;
use axum::routing::{any, get, post};
use http::header::{AUTHORIZATION, HeaderName};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::sensitive_headers::SetSensitiveRequestHeadersLayer;
use tower_http::trace::TraceLayer;

use crate::gateway::LiveState;

/// `/passthrough/{provider}/{path...}`, any method: [`crate::gateway::raw`].
async fn passthrough(
    axum::extract::State(state): axum::extract::State<Arc<crate::gateway::AppState>>,
    axum::extract::Path((provider, _path)): axum::extract::Path<(String, String)>,
    req: axum::extract::Request,
) -> http::Response<axum::body::Body> {
    crate::gateway::raw::handle(state, provider, req).await
}

/// The router of the separate metrics port.
pub fn metrics_router(state: LiveState) -> Router {
    let path = state.0.current().obs.metrics_config.path.clone();
    Router::new().route(&path, get(admin::metrics)).with_state(state)
}

/// The gateway's HTTP router with its layers. Handlers extract `State<Arc<AppState>>`: the
/// config snapshot current when the request arrived.
pub fn router(state: LiveState) -> Router {
    let m = state.0.current().obs.metrics_config.clone();
    let metrics_here = m.enabled && m.listen.is_none();
    let metrics_path = m.path;
    let sensitive: Arc<[HeaderName]> = Arc::new([
        AUTHORIZATION,
        HeaderName::from_static("x-api-key"),
        HeaderName::from_static("x-goog-api-key"),
        HeaderName::from_static("api-key"),
    ]);
    let app = Router::new()
        .route("/v1/messages", post(messages::anthropic))
        .route("/v1/messages/count_tokens", post(messages::anthropic_count))
        .route("/v1/chat/completions", post(messages::openai_chat))
        .route("/chat/completions", post(messages::openai_chat))
        .route("/v1/responses", post(messages::responses).get(responses_ws::upgrade))
        .route("/responses", post(messages::responses).get(responses_ws::upgrade))
        .route("/v1/responses/input_tokens", post(messages::responses_count))
        .route("/v1beta/models", get(gemini::list))
        .route("/v1beta/models/{*rest}", post(gemini::call).get(gemini::get_one))
        .route("/bedrock/model/{model_id}/{op}", post(bedrock::call))
        .route("/bedrock/inference-profiles", get(bedrock::inference_profiles))
        .route("/vertex/{*rest}", post(vertex::call))
        .route("/passthrough/{provider}/{*path}", any(passthrough))
        .route("/openai/deployments/{deployment}/{*op}", post(azure::deployment))
        .route("/openai/responses", post(messages::responses))
        .route("/openai/v1/chat/completions", post(messages::openai_chat))
        .route("/openai/v1/responses", post(messages::responses))
        .route("/models/chat/completions", post(messages::openai_chat))
        .route("/anthropic/v1/messages", post(messages::anthropic))
        .route("/anthropic/v1/messages/count_tokens", post(messages::anthropic_count))
        .route("/v1/models", get(models::list))
        .route("/v1/models/{*id}", get(models::get_one))
        .route("/health/liveness", get(health::liveness))
        .route("/health/readiness", get(health::readiness))
        .route("/", get(health::root).head(health::root))
        .route("/admin/spend", get(admin::spend));
    let app = if metrics_here { app.route(&metrics_path, get(admin::metrics)) } else { app };
    app.fallback(health::not_found)
        .with_state(state)
        .layer(TraceLayer::new_for_http().make_span_with(|req: &http::Request<axum::body::Body>| {
            // The path only: query strings can carry keys (Gemini's `?key=`).
            tracing::debug_span!("request", method = %req.method(), path = %req.uri().path())
        }))
        .layer(SetSensitiveRequestHeadersLayer::from_shared(sensitive))
        .layer(CatchPanicLayer::custom(health::panic_response))
}

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
//! The model-call routes most calls take (`POST /v1/messages`, `/v1/chat/completions`,
//! `/chat/completions`, `/v1/responses`, `/responses`) are answered by [`Surfaces`] directly, with
//! the same three layers applied in [`Surfaces::direct`]: the router boxes and clones each route's
//! layered service per request (about two dozen allocations a call); a direct call boxes one
//! future. Every other request goes through [`router`].
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

use std::convert::Infallible;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::Router;
use axum::body::Body;
use axum::routing::{MethodRouter, any, get, post};
use futures_util::FutureExt;
use http::header::HeaderName;
use http::{Method, Request, Response};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::sensitive_headers::SetSensitiveRequestHeadersLayer;
use tower_http::trace::TraceLayer;
use tracing::Instrument;

use crate::gateway::LiveState;
use crate::ir::Dialect;
use crate::stack::auth;

/// The headers no trace or log layer may print (`SetSensitiveRequestHeadersLayer`).
const SENSITIVE: [HeaderName; 4] = [http::header::AUTHORIZATION, auth::X_API_KEY, auth::X_GOOG_API_KEY, auth::API_KEY];

/// The gateway's inbound service: the model-call routes directly, the rest through [`router`].
#[derive(Clone)]
pub struct Surfaces {
    router: Router,
    live: LiveState,
}

/// What [`Surfaces::call`] returns: the router's future (boxed: it is large, and the router
/// allocates far more per request anyway), or a direct call's.
pub enum SurfaceFuture {
    Router(Box<axum::routing::future::RouteFuture<Infallible>>),
    Direct(Pin<Box<dyn Future<Output = Response<Body>> + Send>>),
}

impl Future for SurfaceFuture {
    type Output = Response<Body>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.get_mut() {
            // `RouteFuture` is `Unpin` (it boxes its inner future).
            SurfaceFuture::Router(f) => Pin::new(&mut **f).poll(cx).map(|Ok(r)| r),
            SurfaceFuture::Direct(f) => f.as_mut().poll(cx),
        }
    }
}

/// The model-call routes and their dialects: answered directly by [`Surfaces`] (POST), and
/// registered in [`router`] as well (its 405 for other methods, `GET` WebSocket upgrades).
const MODEL_CALLS: [(&str, Dialect); 5] = [
    ("/v1/messages", Dialect::Anthropic),
    ("/v1/chat/completions", Dialect::OpenAiChat),
    ("/chat/completions", Dialect::OpenAiChat),
    ("/v1/responses", Dialect::OpenAiResponses),
    ("/responses", Dialect::OpenAiResponses),
];

/// The dialect of a model-call route answered directly, if `req` is one.
fn direct_route(method: &Method, path: &str) -> Option<Dialect> {
    if method != Method::POST {
        return None;
    }
    MODEL_CALLS.iter().find(|(p, _)| *p == path).map(|(_, d)| *d)
}

/// The router's entry for a model-call route of `dialect` (Responses: also its WebSocket).
fn model_call_route(dialect: Dialect) -> MethodRouter<LiveState> {
    match dialect {
        Dialect::Anthropic => post(messages::anthropic),
        Dialect::OpenAiResponses => post(messages::responses).get(responses_ws::upgrade),
        _ => post(messages::openai_chat),
    }
}

impl Surfaces {
    pub fn new(live: LiveState) -> Surfaces {
        Surfaces { router: router(live.clone()), live }
    }

    pub fn call(&self, req: Request<Body>) -> SurfaceFuture {
        match direct_route(req.method(), req.uri().path()) {
            Some(dialect) => SurfaceFuture::Direct(self.direct(dialect, req)),
            None => SurfaceFuture::Router(Box::new(tower::Service::call(&mut self.router.clone(), req))),
        }
    }

    /// A model call with the router's layers, outermost first: panics caught (500 JSON), the
    /// key headers marked sensitive, the `request` span (method and path, never the query).
    fn direct(&self, dialect: Dialect, mut req: Request<Body>) -> Pin<Box<dyn Future<Output = Response<Body>> + Send>> {
        for name in &SENSITIVE {
            if let Some(v) = req.headers_mut().get_mut(name) {
                v.set_sensitive(true);
            }
        }
        let span = tracing::debug_span!("request", method = %req.method(), path = %req.uri().path());
        let state = self.live.0.current();
        let call = messages::dispatch(state, dialect, messages::Op::Generate, req, None, None).instrument(span);
        Box::pin(AssertUnwindSafe(call).catch_unwind().map(|r| r.unwrap_or_else(health::panic_response)))
    }
}

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
    let sensitive: Arc<[HeaderName]> = SENSITIVE.into();
    let app = MODEL_CALLS.iter().fold(Router::new(), |app, (path, d)| app.route(path, model_call_route(*d)));
    let app = app
        .route("/v1/messages/count_tokens", post(messages::anthropic_count))
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Only POSTs to the five model-call paths skip the router; their dialects match the
    /// router's handlers for the same paths.
    #[test]
    fn direct_routes_are_the_model_call_posts() {
        let post = Method::POST;
        assert_eq!(direct_route(&post, "/v1/messages"), Some(Dialect::Anthropic));
        assert_eq!(direct_route(&post, "/v1/chat/completions"), Some(Dialect::OpenAiChat));
        assert_eq!(direct_route(&post, "/chat/completions"), Some(Dialect::OpenAiChat));
        assert_eq!(direct_route(&post, "/v1/responses"), Some(Dialect::OpenAiResponses));
        assert_eq!(direct_route(&post, "/responses"), Some(Dialect::OpenAiResponses));
        for path in ["/v1/messages/count_tokens", "/v1/responses/input_tokens", "/v1/messages/", "/health/readiness"] {
            assert_eq!(direct_route(&post, path), None, "{path}");
        }
        // `GET /v1/responses` is the WebSocket upgrade: the router's.
        assert_eq!(direct_route(&Method::GET, "/v1/responses"), None);
    }
}

//! Operator endpoints: `GET /metrics` (Prometheus exposition; on the main port, or alone on
//! `metrics.listen`) and `GET /admin/spend` (spend and budgets per key and team for the current
//! UTC day and month; needs the master key from `admin`, compared in constant time).

use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use http::{HeaderMap, HeaderValue, Response, StatusCode, header};
use serde_json::json;

use crate::gateway::{AppState, json_response};

/// The exposition, with the cooldown gauge of every configured deployment (behind
/// `metrics.key` when one is set: 401 without it, 403 with a wrong one).
pub async fn metrics(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response<Body> {
    if let Some(key) = &state.obs.metrics_key
        && let Err(e) = key.check(&headers)
    {
        let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::UNAUTHORIZED);
        let message = if e.status == 401 { "missing metrics key" } else { "invalid metrics key" };
        return admin_error(status, message);
    }
    let deployments: Vec<_> = state.registry.aliases.values().flat_map(|a| a.deployments.iter().cloned()).collect();
    let cooling: Vec<(&str, &str, bool)> =
        deployments.iter().map(|d| (d.provider.name.as_str(), d.model.as_str(), state.router.in_cooldown(d))).collect();
    let redis_up = state.limiter.redis_connection().map(|r| r.is_up());
    let text = state.obs.metrics.render(cooling.into_iter(), redis_up);
    let mut resp = Response::new(Body::from(text));
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"));
    resp
}

fn admin_error(status: StatusCode, message: &str) -> Response<Body> {
    json_response(status, json!({"error": {"message": message}}).to_string().into_bytes())
}

/// Spend per key and team (master key required).
pub async fn spend(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response<Body> {
    let Some(admin) = &state.obs.admin else {
        return admin_error(StatusCode::NOT_FOUND, "the admin API is off (set admin.key in the config)");
    };
    if let Err(e) = admin.check(&headers) {
        let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::UNAUTHORIZED);
        return admin_error(status, &e.message);
    }
    match state.obs.budgets.report().await {
        Ok(v) => json_response(StatusCode::OK, v.to_string().into_bytes()),
        Err(e) => {
            tracing::warn!(error = %e, "spend report: redis unreachable");
            admin_error(StatusCode::SERVICE_UNAVAILABLE, "spend unavailable: redis unreachable")
        }
    }
}

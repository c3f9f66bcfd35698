//! The Azure surfaces: Azure OpenAI's deployment paths and v1 paths, and Azure AI Foundry's
//! model-inference and Anthropic paths, for the openai SDK's `AzureOpenAI` client
//! (`azure_endpoint=http://amux`), Codex with an Azure provider, and Claude Code in Foundry mode
//! (`ANTHROPIC_FOUNDRY_BASE_URL=http://amux/anthropic`).
//!
//! - `POST /openai/deployments/{deployment}/chat/completions?api-version=...`: OpenAI Chat, the
//!   deployment name as the model (it replaces the body's `model`, as Azure ignores it);
//! - `POST /openai/deployments/{deployment}/responses` and `POST /openai/responses`: Responses;
//! - `POST /openai/v1/chat/completions`, `/openai/v1/responses`: the v1 API, model in the body;
//! - `POST /models/chat/completions`: Foundry's model inference (OpenAI Chat);
//! - `POST /anthropic/v1/messages` (and `/count_tokens`): Claude in Foundry (Anthropic).
//!
//! Callers authenticate with their amux key as `api-key`, `x-api-key` or a bearer token.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, Request, State};
use http::Response;

use super::messages::{Op, dispatch, read_body};
use crate::gateway::splice::TopLevel;
use crate::gateway::{AppState, error_response};
use crate::ir::{ApiError, Dialect, ErrorKind};

/// `POST /openai/deployments/{deployment}/{operation...}`.
pub async fn deployment(
    State(state): State<Arc<AppState>>,
    Path((deployment, op)): Path<(String, String)>,
    req: Request,
) -> Response<Body> {
    let dialect = match op.as_str() {
        "chat/completions" => Dialect::OpenAiChat,
        "responses" => Dialect::OpenAiResponses,
        other => {
            let e = ApiError::new(
                ErrorKind::NotFound,
                format!("\"{other}\" is not served on deployments (use /passthrough/{{provider}}/... for it)"),
            );
            return error_response(Dialect::OpenAiChat, &e);
        }
    };
    // The deployment names the model: it goes into the body, whatever the body said.
    let (parts, bytes) = match read_body(&state, req).await {
        Ok(x) => x,
        Err(e) => return error_response(dialect, &e),
    };
    let top = match TopLevel::parse(&bytes) {
        Ok(t) => t,
        Err(e) => return error_response(dialect, &e),
    };
    let model = serde_json::Value::String(deployment).to_string();
    let body = if top.raw("model").is_some() {
        top.rewrite(&[("model", &model)], &[])
    } else {
        top.rewrite(&[], &[("model", &model)])
    };
    let req = Request::from_parts(parts, Body::from(body));
    dispatch(state, dialect, Op::Generate, req, None, None).await
}

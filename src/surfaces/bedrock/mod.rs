//! The Bedrock surface: Bedrock Runtime's model operations under `/bedrock`, for boto3 and the
//! AWS SDKs (`endpoint_url=http://amux/bedrock`) and Claude Code in Bedrock mode
//! (`ANTHROPIC_BEDROCK_BASE_URL=http://amux/bedrock`).
//!
//! - `POST /bedrock/model/{modelId}/converse` and `/converse-stream`: the Converse dialect
//!   (streams in AWS event-stream framing);
//! - `POST /bedrock/model/{modelId}/invoke` and `/invoke-with-response-stream`: an Anthropic
//!   Messages body as Bedrock takes it ([`invoke`]): an Anthropic call, so it takes the byte path
//!   to Anthropic upstreams;
//! - `POST /bedrock/model/{modelId}/count-tokens`: CountTokens for either input form;
//! - `GET /bedrock/inference-profiles`: the Claude inference profiles that route, which Claude
//!   Code lists first.
//!
//! Model ids resolve as [`model_id`] says. Auth: the amux key as a Bedrock API key
//! (`Authorization: Bearer`, what `AWS_BEARER_TOKEN_BEDROCK` makes the SDKs send), or none on an
//! open gateway. A SigV4-signed request is served on an open gateway (the signature is not
//! checked: there is nothing to check it against) and refused with a 401 saying how to
//! authenticate on a gateway with keys. Errors are Bedrock's shape (`{"message"}`,
//! `x-amzn-ErrorType`).

mod invoke;
pub mod model_id;

use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::extract::{Path, Request, State};
use base64::Engine;
use http::{HeaderMap, Response, StatusCode, header};
use serde_json::{Value, json};

use super::messages::{Op, dispatch, read_body};
use crate::gateway::reject::{Refusal, reject};
use crate::gateway::{AppState, call, count, json_response};
use crate::ir::{ApiError, Dialect, ErrorKind};

/// A SigV4 `Authorization` header.
fn is_sigv4(headers: &HeaderMap) -> bool {
    headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).is_some_and(|v| v.starts_with("AWS4-HMAC-SHA256"))
}

/// Refuses a SigV4-signed request on a gateway with keys (`None`: go on).
fn sigv4_refusal(state: &AppState, headers: &HeaderMap) -> Option<ApiError> {
    if !is_sigv4(headers) || state.keys.authenticate(&HeaderMap::new(), None).is_ok() {
        return None;
    }
    Some(ApiError::new(
        ErrorKind::Authentication,
        "this gateway does not take AWS SigV4 signatures: authenticate with your amux key as a Bedrock API key \
         (Authorization: Bearer <key>; set AWS_BEARER_TOKEN_BEDROCK=<key> for the AWS SDKs and Claude Code)",
    ))
}

/// `POST /bedrock/model/{modelId}/{operation}`.
pub async fn call(
    State(state): State<Arc<AppState>>,
    Path((model_id, op)): Path<(String, String)>,
    req: Request,
) -> Response<Body> {
    if let Some(e) = sigv4_refusal(&state, req.headers()) {
        return invoke::error_response(&e);
    }
    let model = model_id::resolve(&state.registry, &model_id);
    match op.as_str() {
        "converse" => dispatch(state, Dialect::BedrockConverse, Op::Generate, req, Some(model), Some(false)).await,
        "converse-stream" => {
            dispatch(state, Dialect::BedrockConverse, Op::Generate, req, Some(model), Some(true)).await
        }
        "invoke" => invoke_model(state, req, &model, false).await,
        "invoke-with-response-stream" => invoke_model(state, req, &model, true).await,
        "count-tokens" => count_tokens(state, req, &model).await,
        other => {
            let e = ApiError::new(ErrorKind::NotFound, format!("operation \"{other}\" is not served by amux"));
            invoke::error_response(&e)
        }
    }
}

/// InvokeModel / InvokeModelWithResponseStream: an Anthropic call, answered in Bedrock's framing.
async fn invoke_model(state: Arc<AppState>, req: Request, model: &str, stream: bool) -> Response<Body> {
    let started = Instant::now();
    let retry = state.config.limits.shed_retry_after_secs;
    let admitted = state.admission.admit(&state.obs.metrics, Dialect::Anthropic, true, retry);
    let refuse = |state: &AppState, e: &ApiError, headers: Option<&HeaderMap>| {
        let r = Refusal { dialect: Dialect::Anthropic, principal: None, model: None, started, span: None, headers };
        reject(state, r, e, None)
    };
    let in_flight = match admitted {
        Ok(a) => a,
        Err(e) => return invoke::from_messages(refuse(&state, &e, None), stream).await,
    };
    let (parts, bytes) = match read_body(&state, req).await {
        Ok(x) => x,
        Err(e) => return invoke::from_messages(refuse(&state, &e, None), stream).await,
    };
    let principal = match state.keys.authenticate(&parts.headers, parts.uri.query()) {
        Ok(p) => p,
        Err(e) => return invoke::from_messages(refuse(&state, &e, Some(&parts.headers)), stream).await,
    };
    let (body, headers) = match invoke::to_messages(&bytes, &parts.headers, model, Some(stream)) {
        Ok(x) => x,
        Err(e) => return invoke::from_messages(refuse(&state, &e, Some(&parts.headers)), stream).await,
    };
    let inbound = call::Inbound {
        dialect: Dialect::Anthropic,
        headers: &headers,
        query: None,
        body: &bytes::Bytes::from(body),
        started,
        path_model: None,
        path_stream: None,
        principal,
        in_flight: Some(in_flight),
    };
    let resp = call::handle(state, inbound).await;
    invoke::from_messages(resp, stream).await
}

/// CountTokens: `{"input": {"converse": {...}}}` or `{"input": {"invokeModel": {"body": base64}}}`,
/// answered `{"inputTokens": n}` (with `x-amux-token-count: exact|estimate`).
async fn count_tokens(state: Arc<AppState>, req: Request, model: &str) -> Response<Body> {
    let started = Instant::now();
    let (parts, bytes) = match read_body(&state, req).await {
        Ok(x) => x,
        Err(e) => return invoke::error_response(&e),
    };
    let principal = match state.keys.authenticate(&parts.headers, parts.uri.query()) {
        Ok(p) => p,
        Err(e) => return invoke::error_response(&e),
    };
    let v: Value = match serde_json::from_slice(&bytes) {
        Ok(v) => v,
        Err(e) => return invoke::error_response(&ApiError::invalid_field("body", format!("invalid JSON: {e}"))),
    };
    let input = &v["input"];
    let (dialect, body, headers) = if let Some(c) = input.get("converse").filter(|c| c.is_object()) {
        (Dialect::BedrockConverse, c.to_string().into_bytes(), parts.headers.clone())
    } else if let Some(b) = input.get("invokeModel").and_then(|i| i.get("body")).and_then(Value::as_str) {
        // A blob: base64 in JSON, as the SDKs send it (a raw JSON string is taken too).
        let raw = match b.trim_start().starts_with('{') {
            true => b.as_bytes().to_vec(),
            false => match base64::engine::general_purpose::STANDARD.decode(b.trim()) {
                Ok(v) => v,
                Err(e) => {
                    let e = ApiError::invalid_field("input.invokeModel.body", format!("not valid base64: {e}"));
                    return invoke::error_response(&e);
                }
            },
        };
        match invoke::to_messages(&raw, &parts.headers, model, None) {
            Ok((body, headers)) => (Dialect::Anthropic, body, headers),
            Err(e) => return invoke::error_response(&e),
        }
    } else {
        let e = ApiError::invalid_field("input", "expected input.converse or input.invokeModel.body");
        return invoke::error_response(&e);
    };
    let inbound = call::Inbound {
        dialect,
        headers: &headers,
        query: None,
        body: &bytes::Bytes::from(body),
        started,
        path_model: Some(model.to_string()),
        path_stream: None,
        principal,
        in_flight: None,
    };
    let resp = count::handle(state, inbound).await;
    if !resp.status().is_success() {
        return invoke::from_messages(resp, false).await;
    }
    let (parts, body) = resp.into_parts();
    let bytes = axum::body::to_bytes(body, 64 * 1024).await.unwrap_or_default();
    let v: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    let n = v.get("inputTokens").or_else(|| v.get("input_tokens")).and_then(Value::as_u64).unwrap_or(0);
    let mut out = json_response(StatusCode::OK, json!({"inputTokens": n}).to_string().into_bytes());
    if let Some(h) = parts.headers.get(count::COUNT_HEADER) {
        out.headers_mut().insert(count::COUNT_HEADER, h.clone());
    }
    out
}

/// `GET /bedrock/inference-profiles`: ListInferenceProfiles, answered from what routes: the
/// Claude models of the shipped table whose Claude name routes (as `us.` and `global.`
/// profiles), and aliases named like Bedrock profile ids.
pub async fn inference_profiles(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response<Body> {
    if let Err(e) = state.keys.authenticate(&headers, None) {
        return invoke::error_response(&e);
    }
    let mut ids: Vec<String> = Vec::new();
    for (base, name) in model_id::CLAUDE_MODELS {
        if state.registry.resolve(name).is_ok() {
            ids.push(format!("us.{base}"));
            ids.push(format!("global.{base}"));
        }
    }
    for (alias, _) in state.registry.listed_models() {
        if model_id::strip_region(alias) != alias && !ids.iter().any(|i| i == alias) {
            ids.push(alias.to_string());
        }
    }
    let summaries: Vec<Value> = ids
        .iter()
        .map(|id| {
            let base = model_id::strip_region(id);
            json!({
                "inferenceProfileName": id,
                "inferenceProfileId": id,
                "inferenceProfileArn": format!("arn:aws:bedrock:us-east-1:000000000000:inference-profile/{id}"),
                "description": format!("{id} via amux"),
                "models": [{"modelArn": format!("arn:aws:bedrock:us-east-1::foundation-model/{base}")}],
                "status": "ACTIVE",
                "type": "SYSTEM_DEFINED",
                "createdAt": "2025-01-01T00:00:00Z",
                "updatedAt": "2025-01-01T00:00:00Z",
            })
        })
        .collect();
    json_response(StatusCode::OK, json!({"inferenceProfileSummaries": summaries}).to_string().into_bytes())
}

//! The Vertex AI surface: Vertex's own model paths under `/vertex`, for the google-genai SDK with
//! `vertexai=True` (`http_options.base_url=http://amux/vertex`), the anthropic SDK's
//! `AnthropicVertex` and Claude Code in Vertex mode (`base_url` /
//! `ANTHROPIC_VERTEX_BASE_URL=http://amux/vertex/v1`).
//!
//! `POST /vertex/{v1|v1beta1}/projects/{p}/locations/{l}/publishers/{publisher}/models/{m}:{method}`
//! (and the same without `projects/{p}/locations/{l}`, as Vertex express mode sends it):
//! - publisher `google`: `generateContent`, `streamGenerateContent` (`?alt=sse`), `countTokens`:
//!   the Gemini dialect;
//! - publisher `anthropic`: `rawPredict` and `streamRawPredict` with the Anthropic body
//!   (`anthropic_version: vertex-2023-10-16`, the model in the path): an Anthropic call, so it
//!   takes the byte path to Anthropic upstreams; model `count-tokens` with `rawPredict` counts
//!   (model in the body).
//! - `POST .../endpoints/openapi/chat/completions`: Vertex's OpenAI-compatible endpoint.
//!
//! The project and location in the path are accepted whatever they are: the gateway routes by
//! model. Claude ids (`claude-sonnet-4-5@20250929`) resolve to the first alias of: the id as
//! sent, `@` read as `-` (`claude-sonnet-4-5-20250929`, the Claude API name), the id without its
//! `@version`; else the Claude API name (the `anthropic` provider's). Auth: the amux key as the
//! bearer token (`Authorization: Bearer <key>`), or `x-goog-api-key` / `?key=`.

use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::extract::{Path, Request, State};
use http::{HeaderMap, Response, header};

use super::messages::{Op, dispatch, read_body};
use crate::gateway::reject::{Refusal, reject};
use crate::gateway::splice::TopLevel;
use crate::gateway::{AppState, call, count, error_response};
use crate::ir::{ApiError, Dialect, ErrorKind};
use crate::providers::Registry;

/// A parsed Vertex model path.
#[derive(Debug, PartialEq)]
pub enum Target<'a> {
    /// `publishers/{publisher}/models/{model}:{method}`.
    Model { publisher: &'a str, model: &'a str, method: &'a str },
    /// `endpoints/openapi/chat/completions`.
    OpenAiChat,
}

/// Parses what follows `/vertex/`.
pub fn parse(rest: &str) -> Option<Target<'_>> {
    let rest = rest.strip_prefix("v1/").or_else(|| rest.strip_prefix("v1beta1/"))?;
    let rest = match rest.strip_prefix("projects/") {
        Some(r) => {
            let (_project, r) = r.split_once('/')?;
            let r = r.strip_prefix("locations/")?;
            r.split_once('/')?.1
        }
        None => rest,
    };
    if rest == "endpoints/openapi/chat/completions" {
        return Some(Target::OpenAiChat);
    }
    let r = rest.strip_prefix("publishers/")?;
    let (publisher, r) = r.split_once('/')?;
    let r = r.strip_prefix("models/")?;
    let (model, method) = r.rsplit_once(':')?;
    if model.is_empty() || model.contains('/') {
        return None;
    }
    Some(Target::Model { publisher, model, method })
}

/// The gateway model a Vertex Claude id names.
pub fn resolve_claude(registry: &Registry, id: &str) -> String {
    let dashed = id.replace('@', "-");
    let base = id.split('@').next().unwrap_or(id);
    for name in [id, dashed.as_str(), base] {
        if registry.aliases.contains_key(name) {
            return name.to_string();
        }
    }
    dashed
}

fn not_found(dialect: Dialect, what: &str) -> Response<Body> {
    let e = ApiError::new(ErrorKind::NotFound, format!("{what} is not served by amux's Vertex surface"));
    error_response(dialect, &e)
}

/// `POST /vertex/{*rest}`.
pub async fn call(State(state): State<Arc<AppState>>, Path(rest): Path<String>, req: Request) -> Response<Body> {
    match parse(&rest) {
        Some(Target::OpenAiChat) => dispatch(state, Dialect::OpenAiChat, Op::Generate, req, None, None).await,
        Some(Target::Model { publisher: "google", model, method }) => {
            let (op, stream) = match method {
                "generateContent" => (Op::Generate, false),
                "streamGenerateContent" => (Op::Generate, true),
                "countTokens" => (Op::CountTokens, false),
                other => return not_found(Dialect::Gemini, &format!("method \"{other}\"")),
            };
            dispatch(state, Dialect::Gemini, op, req, Some(model.to_string()), Some(stream)).await
        }
        Some(Target::Model { publisher: "anthropic", model: "count-tokens", method: "rawPredict" }) => {
            raw_predict(state, req, None, None, true).await
        }
        Some(Target::Model { publisher: "anthropic", model, method }) => {
            let stream = match method {
                "rawPredict" => false,
                "streamRawPredict" => true,
                other => return not_found(Dialect::Anthropic, &format!("method \"{other}\"")),
            };
            let model = resolve_claude(&state.registry, model);
            raw_predict(state, req, Some(model), Some(stream), false).await
        }
        Some(Target::Model { publisher, .. }) => not_found(Dialect::Gemini, &format!("publisher \"{publisher}\"")),
        None => not_found(Dialect::Gemini, &format!("path \"/vertex/{rest}\"")),
    }
}

/// The Messages body for a rawPredict body: `anthropic_version` removed, the model from the path
/// and the stream flag of the method (`None`: a count, whose body names the model).
pub fn to_messages(body: &[u8], model: Option<&str>, stream: Option<bool>) -> Result<Vec<u8>, ApiError> {
    let top = TopLevel::parse(body)?;
    let model_json = model.map(|m| serde_json::Value::String(m.to_string()).to_string());
    let mut last: Vec<(&str, &[u8])> = Vec::new();
    if let Some(m) = &model_json {
        last.push(("model", m.as_bytes()));
    }
    // streamRawPredict streams whatever the body says; rawPredict keeps the body's flag.
    if stream == Some(true) {
        last.push(("stream", b"true"));
    }
    let keep = |key: &str| match key {
        "anthropic_version" => false,
        "model" => model.is_none(),
        "stream" => stream != Some(true),
        _ => true,
    };
    Ok(top.rebuild(&[], keep, &last))
}

/// rawPredict / streamRawPredict / count-tokens: an Anthropic call (or count).
async fn raw_predict(
    state: Arc<AppState>,
    req: Request,
    model: Option<String>,
    stream: Option<bool>,
    counting: bool,
) -> Response<Body> {
    let started = Instant::now();
    let generate = !counting;
    let refuse = |state: &AppState, e: &ApiError, headers: Option<&HeaderMap>| {
        if !generate {
            return error_response(Dialect::Anthropic, e);
        }
        let r = Refusal { dialect: Dialect::Anthropic, principal: None, model: None, started, span: None, headers };
        reject(state, r, e, None)
    };
    // Shed before reading the body, as every surface does.
    let retry = state.config.limits.shed_retry_after_secs;
    let in_flight = match state.admission.admit(&state.obs.metrics, Dialect::Anthropic, generate, retry) {
        Ok(a) => a,
        Err(e) => return refuse(&state, &e, None),
    };
    let (parts, bytes) = match read_body(&state, req).await {
        Ok(x) => x,
        Err(e) => return refuse(&state, &e, None),
    };
    let principal = match state.keys.authenticate(&parts.headers, parts.uri.query()) {
        Ok(p) => p,
        Err(e) => return refuse(&state, &e, Some(&parts.headers)),
    };
    // A count names the model in its body (as a Vertex id).
    let model = match model {
        Some(m) => Some(m),
        None => TopLevel::parse(&bytes)
            .ok()
            .and_then(|t| t.string("model").ok().flatten())
            .map(|m| resolve_claude(&state.registry, &m)),
    };
    let body = match to_messages(&bytes, model.as_deref(), stream) {
        Ok(b) => b,
        Err(e) => return refuse(&state, &e, Some(&parts.headers)),
    };
    // The caller's Google credentials never go further; the gateway's own auth already ran.
    let mut headers = parts.headers.clone();
    headers.remove(header::AUTHORIZATION);
    headers.remove("x-goog-api-key");
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
    // Both answer (and record) a call still waiting at a graceful shutdown's drain deadline.
    if generate { call::handle(state, inbound).await } else { count::handle(state, inbound).await }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        assert_eq!(
            parse(
                "v1/projects/p/locations/us-east5/publishers/anthropic/models/claude-sonnet-4-5@20250929:streamRawPredict"
            ),
            Some(Target::Model {
                publisher: "anthropic",
                model: "claude-sonnet-4-5@20250929",
                method: "streamRawPredict"
            })
        );
        assert_eq!(
            parse("v1beta1/publishers/google/models/gemini-2.5-pro:generateContent"),
            Some(Target::Model { publisher: "google", model: "gemini-2.5-pro", method: "generateContent" })
        );
        assert_eq!(
            parse("v1/projects/p/locations/global/endpoints/openapi/chat/completions"),
            Some(Target::OpenAiChat)
        );
        for bad in [
            "v2/publishers/google/models/m:x",
            "v1/projects/p/publishers/google/models/m:x",
            "v1/publishers/google/models/a/b:x",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn raw_predict_body_becomes_messages() {
        let body = br#"{"anthropic_version":"vertex-2023-10-16","max_tokens":5,"stream":true,"messages":[{"role":"user","content":"hi"}], "x" : 1}"#;
        assert_eq!(
            String::from_utf8(to_messages(body, Some("claude-x"), Some(true)).unwrap()).unwrap(),
            r#"{"max_tokens":5,"messages":[{"role":"user","content":"hi"}],"x":1,"model":"claude-x","stream":true}"#
        );
        let count = br#"{"anthropic_version":"vertex-2023-10-16","model":"claude-x","messages":[]}"#;
        assert_eq!(
            String::from_utf8(to_messages(count, None, None).unwrap()).unwrap(),
            r#"{"model":"claude-x","messages":[]}"#
        );
    }
}

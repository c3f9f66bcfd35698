//! Token counting for any routed model: `POST /v1/messages/count_tokens`, Gemini `:countTokens`
//! and `POST /v1/responses/input_tokens`. The upstream's own counter answers where it has one
//! (Anthropic, Gemini, OpenAI); otherwise a local count with a real tokenizer, marked
//! `x-amux-token-count: estimate`. Errors are 4xx/5xx in the caller's shape, never a silent zero.

use std::sync::Arc;

use axum::body::Body;
use http::{HeaderValue, Response, StatusCode, Uri};
use serde_json::{Map, Value, json};

use super::call::Inbound;
use super::splice::TopLevel;
use super::state::AppState;
use super::{respond, upstream};
use crate::config::ProviderKind;
use crate::ir::{self, ApiError, Dialect, ErrorKind};
use crate::providers::{Provider, check_path_model};
use crate::{tokens, translate};

/// Response header saying whether a count is the upstream's (`exact`) or amux's (`estimate`).
pub const COUNT_HEADER: &str = "x-amux-token-count";

/// Fields each counting endpoint accepts (the rest of a generation request is refused there).
const ANTHROPIC_FIELDS: &[&str] = &["model", "messages", "system", "tools", "tool_choice", "thinking", "mcp_servers"];
const RESPONSES_FIELDS: &[&str] = &[
    "model",
    "input",
    "instructions",
    "tools",
    "tool_choice",
    "reasoning",
    "text",
    "parallel_tool_calls",
    "conversation",
    "previous_response_id",
    "truncation",
];

fn answer(caller: Dialect, n: u64, exact: bool) -> Response<Body> {
    let body = match caller {
        Dialect::Gemini => json!({"totalTokens": n}),
        Dialect::OpenAiResponses => json!({"object": "response.input_tokens", "input_tokens": n}),
        Dialect::BedrockConverse => json!({"inputTokens": n}),
        _ => json!({"input_tokens": n}),
    };
    let mut r = respond::json(StatusCode::OK, crate::dialects::json_bytes(&body));
    r.headers_mut().insert(COUNT_HEADER, HeaderValue::from_static(if exact { "exact" } else { "estimate" }));
    r
}

fn keep_fields(body: &[u8], keep: &[&str]) -> Result<Vec<u8>, ApiError> {
    let mut obj: Map<String, Value> = serde_json::from_slice(body)
        .map_err(|e| ApiError::new(ErrorKind::Api, format!("re-reading encoded body: {e}")))?;
    obj.retain(|k, _| keep.contains(&k.as_str()));
    Ok(crate::dialects::json_bytes(&Value::Object(obj)))
}

/// The IR of a counting request (Anthropic's has no `max_tokens`, which its decoder requires).
fn decode(caller: Dialect, top: &TopLevel<'_>) -> Result<ir::Request, ApiError> {
    if caller == Dialect::Anthropic && top.raw("max_tokens").is_none() {
        let body = top.rewrite(&[], &[("max_tokens", "1")]);
        return translate::decode_request(caller, &body);
    }
    translate::decode_request(caller, top.body)
}

/// OpenAI's own API (or an `openai` provider configured for the Responses API) has
/// `/responses/input_tokens`; other OpenAI-compatible servers do not.
fn has_responses_counter(p: &Provider) -> bool {
    p.base_url.starts_with("https://api.openai.com") || p.dialects.first() == Some(&Dialect::OpenAiResponses)
}

/// Which counting endpoint of a provider to use, and its body.
fn upstream_request(
    provider: &Provider,
    caller: Dialect,
    top: &TopLevel<'_>,
    req: &ir::Request,
    model: &str,
) -> Result<Option<(Dialect, Uri, Vec<u8>)>, ApiError> {
    let base = &provider.base_url;
    let model_json = Value::String(model.to_string()).to_string();
    let same = |d: Dialect| caller == d && top.raw("model").is_some();
    let (dialect, url, body) = match provider.preset.kind {
        // Anthropic, and Claude in Foundry (its Anthropic API under /anthropic).
        ProviderKind::Anthropic | ProviderKind::Foundry
            if provider.preset.kind == ProviderKind::Anthropic
                || crate::providers::azure::foundry_dialect(model) == Dialect::Anthropic =>
        {
            let body = if same(Dialect::Anthropic) {
                top.rewrite(&[("model", &model_json)], &[])
            } else {
                translate::encode_request(Dialect::Anthropic, req, model)?
            };
            let prefix = if provider.preset.kind == ProviderKind::Foundry { "/anthropic" } else { "" };
            (
                Dialect::Anthropic,
                format!("{base}{prefix}/v1/messages/count_tokens"),
                keep_fields(&body, ANTHROPIC_FIELDS)?,
            )
        }
        ProviderKind::Openai if has_responses_counter(provider) => {
            let body = if same(Dialect::OpenAiResponses) {
                top.rewrite(&[("model", &model_json)], &[])
            } else {
                translate::encode_request(Dialect::OpenAiResponses, req, model)?
            };
            (Dialect::OpenAiResponses, format!("{base}/responses/input_tokens"), keep_fields(&body, RESPONSES_FIELDS)?)
        }
        ProviderKind::Gemini => {
            let m = check_path_model(model)?;
            let inner = if caller == Dialect::Gemini {
                top.body.to_vec()
            } else {
                translate::encode_request(Dialect::Gemini, req, model)?
            };
            let mut inner: Map<String, Value> = serde_json::from_slice(&inner)
                .map_err(|e| ApiError::invalid_field("body", format!("not a valid JSON object: {e}")))?;
            inner.insert("model".into(), Value::String(format!("models/{m}")));
            let body = json!({"generateContentRequest": inner}).to_string().into_bytes();
            (Dialect::Gemini, format!("{base}/v1beta/models/{m}:countTokens"), body)
        }
        ProviderKind::Vertex => {
            let Some(site) = provider.vertex.as_ref() else { return Ok(None) };
            use crate::providers::vertex;
            match vertex::dialect_of(model) {
                // count-tokens:rawPredict: the Messages counting body with the model and version.
                Dialect::Anthropic => {
                    let body = if same(Dialect::Anthropic) {
                        top.rewrite(&[("model", &model_json)], &[])
                    } else {
                        translate::encode_request(Dialect::Anthropic, req, model)?
                    };
                    let body = vertex::anthropic_body(&keep_fields(&body, ANTHROPIC_FIELDS)?, true)?;
                    (Dialect::Anthropic, vertex::url(site, base, Dialect::Anthropic, model, vertex::Op::Count)?, body)
                }
                // Vertex's countTokens takes the request's contents (and tools, system) directly.
                Dialect::Gemini => {
                    let body = if caller == Dialect::Gemini {
                        top.body.to_vec()
                    } else {
                        translate::encode_request(Dialect::Gemini, req, model)?
                    };
                    let mut inner: Map<String, Value> = serde_json::from_slice(&body)
                        .map_err(|e| ApiError::invalid_field("body", format!("not a valid JSON object: {e}")))?;
                    inner.retain(|k, _| {
                        matches!(k.as_str(), "contents" | "systemInstruction" | "tools" | "generationConfig")
                    });
                    let body = Value::Object(inner).to_string().into_bytes();
                    (Dialect::Gemini, vertex::url(site, base, Dialect::Gemini, model, vertex::Op::Count)?, body)
                }
                _ => return Ok(None),
            }
        }
        ProviderKind::Bedrock => {
            // CountTokens with the Converse form of the request (signed like any Bedrock call).
            let m = crate::providers::check_bedrock_model(model)?;
            let body = translate::encode_request(Dialect::BedrockConverse, req, model)?;
            let mut converse: Map<String, Value> = serde_json::from_slice(&body)
                .map_err(|e| ApiError::new(ErrorKind::Api, format!("re-reading encoded body: {e}")))?;
            converse.retain(|k, _| {
                matches!(k.as_str(), "messages" | "system" | "toolConfig" | "additionalModelRequestFields")
            });
            let body = json!({"input": {"converse": converse}}).to_string().into_bytes();
            (Dialect::BedrockConverse, format!("{base}/model/{m}/count-tokens"), body)
        }
        _ => return Ok(None),
    };
    let url = url.parse().map_err(|_| ApiError::invalid_field("model", "does not form a valid upstream URL"))?;
    Ok(Some((dialect, url, body)))
}

/// Answers a counting request.
pub async fn handle(state: Arc<AppState>, inbound: Inbound<'_>) -> Response<Body> {
    let caller = inbound.dialect;
    // A count still waiting at a graceful shutdown's drain deadline is answered with an error,
    // as `call::handle` answers a model call.
    let drain = state.lifecycle.drain();
    tokio::select! {
        biased;
        counted = count(&state, &inbound) => match counted {
            Ok((n, exact)) => answer(caller, n, exact),
            Err(e) => respond::error(caller, &e),
        },
        () = drain.deadline() => respond::error(caller, &drain.cut()),
    }
}

async fn count(state: &AppState, inbound: &Inbound<'_>) -> Result<(u64, bool), ApiError> {
    let caller = inbound.dialect;
    let top = TopLevel::parse(inbound.body)?;
    let model = match &inbound.path_model {
        Some(m) => m.clone(),
        None => top.string("model")?.ok_or_else(|| ApiError::invalid_field("model", "is required"))?,
    };
    let alias = state.registry.resolve(&model)?;
    if let Some(p) = &inbound.principal
        && !p.allows(&model)
    {
        return Err(crate::stack::auth::forbidden(p, &model));
    }
    let req = decode(caller, &top)?;
    // Counting asks the alias's first deployment: the tokenizer is the model family's.
    let Some(d) = alias.deployments.first() else {
        return Ok((tokens::count_request(&req), false));
    };
    let provider = &d.provider;
    let Some((dialect, url, body)) = upstream_request(provider, caller, &top, &req, &d.model)? else {
        return Ok((tokens::count_request(&req), false));
    };
    let client = state
        .client(&provider.name)
        .ok_or_else(|| ApiError::new(ErrorKind::Api, format!("provider {} has no client", provider.name)))?;
    let out = upstream::Outbound {
        target: dialect,
        caller,
        caller_headers: inbound.headers,
        url,
        body: body.into(),
        timeout: provider.response_timeout,
    };
    let (resp, _) = upstream::send(client, provider, out).await.map_err(|e| e.to_api(&provider.name))?;
    let status = resp.status().as_u16();
    let (parts, body) = resp.into_parts();
    let max = state.config.limits.max_upstream_response_bytes;
    let bytes = upstream::collect(provider, body, max).await.map_err(|e| {
        if matches!(e, upstream::UpstreamError::TooLarge(_)) {
            state.obs.metrics.limit_hit("upstream_response_size");
        }
        e.to_api(&provider.name)
    })?;
    // Bedrock answers 400 for models without CountTokens.
    let bedrock_refused = provider.preset.kind == ProviderKind::Bedrock && status == 400;
    if status == 404 || status == 405 || bedrock_refused {
        // The upstream has no counter after all (an OpenAI-compatible server behind `kind: openai`).
        return Ok((tokens::count_request(&req), false));
    }
    if !(200..300).contains(&status) {
        return Err(upstream::upstream_error(provider, dialect, status, &parts.headers, &bytes));
    }
    let v: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    let n = ["input_tokens", "totalTokens", "inputTokens"]
        .iter()
        .find_map(|k| v.get(*k))
        .and_then(Value::as_u64)
        .ok_or_else(|| {
            ApiError::new(
                ErrorKind::BadGateway,
                format!("provider {}: token count response has no count", provider.name),
            )
        })?;
    Ok((n, true))
}

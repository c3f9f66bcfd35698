//! Converse caller body -> IR request (content in `content_decode`). The model and the stream
//! flag come from the URL (`/model/{modelId}/converse-stream`): the surface fills them.
//!
//! - `inferenceConfig`: `maxTokens`, `temperature`, `topP`, `stopSequences`.
//! - `toolConfig.tools[].toolSpec` (`inputSchema.json`), a `cachePoint` after a tool (its cache
//!   hint), `toolChoice` `auto` / `any` / `tool`.
//! - `additionalModelRequestFields`, the model's own fields: `thinking` (Claude), `top_k`,
//!   `reasoning_config` / `reasoningConfig` (Nova), `reasoning_effort` (gpt-oss),
//!   `inferenceConfig.topK` (Nova) are read; `anthropic_beta` is recorded (advisory: no other
//!   dialect takes betas); anything else is recorded (refused across dialects: amux cannot tell
//!   what it does).
//! - `guardrailConfig`, `requestMetadata`, `performanceConfig`, `serviceTier`,
//!   `additionalModelResponseFieldPaths` are recorded (advisory); `promptVariables` and unknown
//!   fields are recorded (refused).

use serde_json::Value;

use crate::ir::{self, ApiError, Reasoning, ReasoningEffort, Schema, Tool, ToolChoice};

use super::content_decode::{cache_hint, decode_messages, decode_system};
use super::wire::{as_array, as_f64, as_object, as_str, as_u64, req_str, union};

/// Decodes a Converse / ConverseStream request body.
pub fn decode_request(body: &[u8]) -> Result<ir::Request, ApiError> {
    let root: Value =
        serde_json::from_slice(body).map_err(|e| ApiError::invalid_field("body", format!("invalid JSON: {e}")))?;
    let obj = as_object(&root, "body")?;
    let mut req = ir::Request::default();
    for (key, value) in obj {
        if value.is_null() {
            continue;
        }
        match key.as_str() {
            "messages" => req.messages = decode_messages(value, &mut req.unsupported)?,
            "system" => req.system = decode_system(value, &mut req.unsupported)?,
            "inferenceConfig" => inference_config(value, &mut req)?,
            "toolConfig" => tool_config(value, &mut req)?,
            "additionalModelRequestFields" => additional_fields(value, &mut req)?,
            // The model is in the path; SDKs never put it in the body.
            "modelId" => {}
            _ => {
                req.unsupported.insert(key.clone(), value.clone());
            }
        }
    }
    if !obj.contains_key("messages") {
        return Err(ApiError::invalid_field("messages", "required array"));
    }
    Ok(req)
}

fn inference_config(v: &Value, req: &mut ir::Request) -> Result<(), ApiError> {
    for (k, x) in as_object(v, "inferenceConfig")? {
        if x.is_null() {
            continue;
        }
        let path = format!("inferenceConfig.{k}");
        match k.as_str() {
            "maxTokens" => req.max_tokens = Some(as_u64(x, &path)?),
            "temperature" => req.temperature = Some(as_f64(x, &path)?),
            "topP" => req.top_p = Some(as_f64(x, &path)?),
            "stopSequences" => {
                req.stop_sequences = as_array(x, &path)?
                    .iter()
                    .enumerate()
                    .map(|(i, s)| as_str(s, &format!("{path}[{i}]")).map(str::to_string))
                    .collect::<Result<_, _>>()?;
            }
            _ => {
                req.unsupported.insert(path, x.clone());
            }
        }
    }
    Ok(())
}

fn tool_config(v: &Value, req: &mut ir::Request) -> Result<(), ApiError> {
    let o = as_object(v, "toolConfig")?;
    for (k, x) in o {
        if x.is_null() {
            continue;
        }
        match k.as_str() {
            "tools" => {
                for (i, t) in as_array(x, "toolConfig.tools")?.iter().enumerate() {
                    let path = format!("toolConfig.tools[{i}]");
                    match union(t, &path)? {
                        ("toolSpec", s) => {
                            let tool = tool_spec(s, &format!("{path}.toolSpec"), req)?;
                            req.tools.push(tool);
                        }
                        ("cachePoint", c) => match req.tools.last_mut() {
                            Some(last) => last.cache_control = Some(cache_hint(c)),
                            None => {
                                req.unsupported.insert(format!("{path}.cachePoint"), c.clone());
                            }
                        },
                        // systemTool (provider-run tools such as Nova grounding) and later kinds.
                        (kind, x) => {
                            req.unsupported.insert(format!("{path}.{kind}"), x.clone());
                        }
                    }
                }
            }
            "toolChoice" => {
                req.tool_choice = Some(match union(x, "toolConfig.toolChoice")? {
                    ("auto", _) => ToolChoice::Auto,
                    ("any", _) => ToolChoice::Any,
                    ("tool", t) => ToolChoice::Tool {
                        name: req_str(
                            as_object(t, "toolConfig.toolChoice.tool")?,
                            "name",
                            "toolConfig.toolChoice.tool",
                        )?
                        .to_string(),
                    },
                    (other, _) => {
                        return Err(ApiError::invalid_field(
                            "toolConfig.toolChoice",
                            format!("unknown choice {other:?}"),
                        ));
                    }
                });
            }
            _ => {
                req.unsupported.insert(format!("toolConfig.{k}"), x.clone());
            }
        }
    }
    Ok(())
}

fn tool_spec(v: &Value, path: &str, req: &mut ir::Request) -> Result<Tool, ApiError> {
    let o = as_object(v, path)?;
    let name = req_str(o, "name", path)?.to_string();
    let description = o.get("description").and_then(Value::as_str).map(str::to_string);
    let spath = format!("{path}.inputSchema");
    let input_schema = match o.get("inputSchema") {
        Some(s) => match union(s, &spath)? {
            ("json", j) => Schema::from_value(j),
            (k, _) => return Err(ApiError::invalid_field(format!("{spath}.{k}"), "only `json` schemas exist")),
        },
        None => return Err(ApiError::invalid_field(spath, "required")),
    };
    let strict = o.get("strict").and_then(Value::as_bool);
    for (k, x) in o {
        if !matches!(k.as_str(), "name" | "description" | "inputSchema" | "strict") && !x.is_null() {
            req.unsupported.insert(format!("{path}.{k}"), x.clone());
        }
    }
    Ok(Tool { name, description, input_schema, strict, cache_control: None, custom: false, namespace: None })
}

/// The model-specific fields amux understands; the rest are recorded by path.
fn additional_fields(v: &Value, req: &mut ir::Request) -> Result<(), ApiError> {
    const P: &str = "additionalModelRequestFields";
    for (k, x) in as_object(v, P)? {
        if x.is_null() {
            continue;
        }
        let path = format!("{P}.{k}");
        match k.as_str() {
            "top_k" | "topK" => req.top_k = Some(as_u64(x, &path)?),
            "thinking" => req.reasoning = Some(claude_thinking(x, &path)?),
            "reasoning_config" | "reasoningConfig" => req.reasoning = Some(nova_reasoning(x, &path)?),
            "reasoning_effort" => {
                let e = as_str(x, &path)?;
                let effort = ReasoningEffort::parse(e)
                    .ok_or_else(|| ApiError::invalid_field(&path, format!("unknown effort {e:?}")))?;
                req.reasoning = Some(Reasoning { enabled: true, effort: Some(effort), ..Reasoning::default() });
            }
            "inferenceConfig" => {
                for (ik, ix) in as_object(x, &path)? {
                    match ik.as_str() {
                        "topK" | "top_k" => req.top_k = Some(as_u64(ix, &format!("{path}.{ik}"))?),
                        _ => {
                            req.unsupported.insert(format!("{path}.{ik}"), ix.clone());
                        }
                    }
                }
            }
            _ => {
                req.unsupported.insert(path, x.clone());
            }
        }
    }
    Ok(())
}

/// Claude's `thinking`: `{type: enabled, budget_tokens}`, `{type: adaptive}`, `{type: disabled}`.
fn claude_thinking(v: &Value, path: &str) -> Result<Reasoning, ApiError> {
    let o = as_object(v, path)?;
    match req_str(o, "type", path)? {
        "enabled" => Ok(Reasoning {
            enabled: true,
            budget_tokens: o.get("budget_tokens").and_then(Value::as_u64),
            ..Reasoning::default()
        }),
        "adaptive" => Ok(Reasoning { enabled: true, adaptive: true, ..Reasoning::default() }),
        "disabled" => Ok(Reasoning::default()),
        other => Err(ApiError::invalid_field(format!("{path}.type"), format!("unknown thinking type {other:?}"))),
    }
}

/// Nova's `reasoningConfig`: `{type: enabled, maxReasoningEffort: low|medium|high}`.
fn nova_reasoning(v: &Value, path: &str) -> Result<Reasoning, ApiError> {
    let o = as_object(v, path)?;
    let enabled = o.get("type").and_then(Value::as_str) != Some("disabled");
    let effort = match o.get("maxReasoningEffort").or_else(|| o.get("max_reasoning_effort")) {
        Some(e) => {
            let s = as_str(e, &format!("{path}.maxReasoningEffort"))?;
            Some(ReasoningEffort::parse(s).ok_or_else(|| {
                ApiError::invalid_field(format!("{path}.maxReasoningEffort"), format!("unknown effort {s:?}"))
            })?)
        }
        None => None,
    };
    Ok(Reasoning { enabled, effort: effort.filter(|_| enabled), ..Reasoning::default() })
}

#[cfg(test)]
pub(super) fn decode_value(v: &Value) -> Result<ir::Request, ApiError> {
    decode_request(v.to_string().as_bytes())
}

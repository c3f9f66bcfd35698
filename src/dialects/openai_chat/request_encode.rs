//! IR request -> OpenAI-compatible Chat Completions upstream body.
//!
//! Deliberate losses (documented, not refusals):
//! - thinking and redacted-thinking blocks in the history are omitted: Chat Completions has no
//!   reasoning input;
//! - `cache_control` hints are dropped: OpenAI caches prompts automatically;
//! - a tool result's `is_error` becomes an `Error: ` prefix on its text.
//!
//! `top_k` (no OpenAI Chat field) is sent under that name to the providers that take it;
//! `crate::policy::fit` takes it out for the others. Everything else the target cannot express
//! is refused with a 400 naming the field.

use crate::ir::{self, ApiError, Block, MediaSource, ReasoningEffort, ResponseFormat, Role, ToolChoice};

use super::request_wire::{
    OutCall, OutContent, OutFile, OutFormat, OutFunction, OutJsonSchema, OutMessage, OutName, OutPart, OutRequest,
    OutTool, OutToolCall, OutToolChoice, OutUrl, StreamOptions,
};
use super::wire::{TARGET, data_url};

/// Encodes an IR request for an OpenAI-compatible upstream serving `model`.
pub fn encode_request(req: &ir::Request, model: &str) -> Result<Vec<u8>, ApiError> {
    if let Some(field) = req.unsupported.keys().next() {
        return Err(ApiError::unsupported(field.clone(), TARGET));
    }
    let mut body = OutRequest { model, messages: encode_messages(req)?, ..OutRequest::default() };
    if let Some(max) = req.max_tokens {
        if uses_max_completion_tokens(model) {
            body.max_completion_tokens = Some(max);
        } else {
            body.max_tokens = Some(max);
        }
    }
    body.temperature = req.temperature;
    // Only there when the provider takes it (vLLM, Ollama, LM Studio, Together, ...).
    body.top_k = req.top_k;
    body.top_p = req.top_p;
    if !req.stop_sequences.is_empty() {
        body.stop = Some(&req.stop_sequences);
    }
    if req.stream {
        body.stream = Some(true);
        body.stream_options = Some(StreamOptions { include_usage: true });
    }
    if !req.tools.is_empty() {
        body.tools = Some(encode_tools(req));
        body.tool_choice = req.tool_choice.as_ref().map(encode_tool_choice);
        body.parallel_tool_calls = req.parallel_tool_calls;
    } else if let Some(ToolChoice::Any | ToolChoice::Tool { .. }) = &req.tool_choice {
        return Err(ApiError::invalid_field("tool_choice", "requires a tool but the request has no tools"));
    }
    body.reasoning_effort = reasoning_effort(req);
    body.response_format = match &req.response_format {
        None | Some(ResponseFormat::Text) => None,
        Some(ResponseFormat::JsonObject) => Some(OutFormat::JsonObject { r#type: "json_object" }),
        Some(ResponseFormat::JsonSchema { name, schema, strict, description }) => Some(OutFormat::JsonSchema {
            json_schema: OutJsonSchema { description: description.as_deref(), name, schema, strict: *strict },
            r#type: "json_schema",
        }),
    };
    body.user = req.user.as_deref();
    crate::jsonwrite::to_vec_sized(&body, crate::jsonwrite::REQUEST_CAPACITY)
        .map_err(|e| ApiError::new(ir::ErrorKind::Api, format!("encoding request: {e}")))
}

/// OpenAI reasoning models (o1, o3, o4, gpt-5...) reject `max_tokens`.
fn uses_max_completion_tokens(model: &str) -> bool {
    let base = model.rsplit('/').next().unwrap_or(model);
    ["o1", "o3", "o4", "gpt-5"].iter().any(|p| base.starts_with(p))
}

fn reasoning_effort(req: &ir::Request) -> Option<&'static str> {
    let r = req.reasoning.as_ref()?;
    if !r.enabled || r.adaptive {
        return None;
    }
    let effort = r.effort.or_else(|| r.budget_tokens.map(ReasoningEffort::from_budget))?;
    Some(match effort {
        ReasoningEffort::Max => "high",
        other => other.as_str(),
    })
}

fn encode_tools(req: &ir::Request) -> Vec<OutTool<'_>> {
    req.tools
        .iter()
        .map(|t| OutTool {
            function: OutFunction {
                description: t.description.as_deref(),
                name: &t.name,
                parameters: &t.input_schema,
                strict: t.strict,
            },
            r#type: "function",
        })
        .collect()
}

fn encode_tool_choice(choice: &ToolChoice) -> OutToolChoice<'_> {
    match choice {
        ToolChoice::Auto | ToolChoice::Validated => OutToolChoice::Mode("auto"),
        ToolChoice::Any => OutToolChoice::Mode("required"),
        ToolChoice::None => OutToolChoice::Mode("none"),
        ToolChoice::Tool { name } => OutToolChoice::Function { function: OutName { name }, r#type: "function" },
    }
}

fn message<'a>(role: &'static str, content: OutContent<'a>) -> OutMessage<'a> {
    OutMessage { content, role, tool_call_id: None, tool_calls: Vec::new() }
}

fn encode_messages(req: &ir::Request) -> Result<Vec<OutMessage<'_>>, ApiError> {
    let mut out = Vec::with_capacity(req.messages.len() + 1);
    if !req.system.is_empty() {
        let text: Vec<&str> = req.system.iter().map(|b| b.text.as_str()).collect();
        out.push(message("system", OutContent::Text(text.join("\n\n"))));
    }
    for (i, m) in req.messages.iter().enumerate() {
        let path = format!("messages[{i}]");
        match m.role {
            Role::System => {
                let texts = only_text(&m.content, &path)?;
                out.push(message("system", OutContent::Text(texts.join("\n\n"))));
            }
            Role::Assistant => out.push(assistant_message(&m.content, &path)?),
            Role::User => user_messages(&m.content, &path, &mut out)?,
        }
    }
    Ok(out)
}

fn only_text<'a>(blocks: &'a [Block], path: &str) -> Result<Vec<&'a str>, ApiError> {
    blocks
        .iter()
        .enumerate()
        .map(|(j, b)| match b {
            Block::Text { text, .. } => Ok(text.as_str()),
            _ => Err(ApiError::unsupported(format!("{path}.content[{j}]"), TARGET)),
        })
        .collect()
}

fn assistant_message<'a>(blocks: &'a [Block], path: &str) -> Result<OutMessage<'a>, ApiError> {
    let mut texts = Vec::new();
    let mut calls = Vec::new();
    for (j, b) in blocks.iter().enumerate() {
        match b {
            Block::Text { text, .. } => texts.push(text.as_str()),
            Block::ToolUse { id, name, input } => calls.push(OutToolCall {
                function: OutCall { arguments: crate::dialects::json_text(input), name },
                id,
                r#type: "function",
            }),
            // Chat Completions has no reasoning input.
            Block::Thinking { .. } | Block::RedactedThinking { .. } => {}
            _ => {
                return Err(ApiError::unsupported(format!("{path}.content[{j}]"), TARGET));
            }
        }
    }
    let content = if texts.is_empty() { OutContent::Null } else { OutContent::Text(texts.join("\n\n")) };
    Ok(OutMessage { content, role: "assistant", tool_call_id: None, tool_calls: calls })
}

/// One IR user message -> `tool` messages (its tool results, first), then one user message with
/// the images those results carried and the message's other content.
fn user_messages<'a>(blocks: &'a [Block], path: &str, out: &mut Vec<OutMessage<'a>>) -> Result<(), ApiError> {
    let mut parts = Vec::new();
    let mut tool_images = Vec::new();
    for (j, b) in blocks.iter().enumerate() {
        match b {
            Block::ToolResult { tool_use_id, content, is_error, .. } => {
                let mut texts = Vec::new();
                for (k, c) in content.iter().enumerate() {
                    match c {
                        Block::Text { text, .. } => texts.push(text.as_str()),
                        Block::Image { source, .. } => {
                            tool_images.push(image_part(source, || format!("{path}.content[{j}].content[{k}]"))?);
                        }
                        _ => return Err(ApiError::unsupported(format!("{path}.content[{j}].content[{k}]"), TARGET)),
                    }
                }
                let mut text = texts.join("\n");
                if *is_error {
                    text.insert_str(0, "Error: ");
                }
                out.push(OutMessage {
                    content: OutContent::Text(text),
                    role: "tool",
                    tool_call_id: Some(tool_use_id),
                    tool_calls: Vec::new(),
                });
            }
            Block::Text { text, .. } => parts.push(OutPart::text(text.clone())),
            Block::Image { source, .. } => parts.push(image_part(source, || format!("{path}.content[{j}]"))?),
            Block::Document { source, title, .. } => {
                parts.push(document_part(source, title, || format!("{path}.content[{j}]"))?);
            }
            _ => return Err(ApiError::unsupported(format!("{path}.content[{j}]"), TARGET)),
        }
    }
    tool_images.append(&mut parts);
    let parts = tool_images;
    if parts.is_empty() {
        return Ok(());
    }
    let texts: Option<Vec<&str>> = parts
        .iter()
        .map(|p| match p {
            OutPart::Text { text, .. } => Some(text.as_str()),
            _ => None,
        })
        .collect();
    let content = match texts {
        Some(texts) => OutContent::Text(texts.join("\n\n")),
        None => OutContent::Parts(parts),
    };
    out.push(message("user", content));
    Ok(())
}

fn image_part<'a>(source: &'a MediaSource, path: impl Fn() -> String) -> Result<OutPart<'a>, ApiError> {
    let url = match source {
        MediaSource::Base64 { media_type, data } => data_url(media_type, data),
        MediaSource::Url { url } => url.clone(),
        MediaSource::Text { .. } | MediaSource::FileId { .. } => {
            return Err(ApiError::unsupported(format!("{}.source", path()), TARGET));
        }
    };
    Ok(OutPart::Image { image_url: OutUrl { url }, r#type: "image_url" })
}

fn document_part<'a>(
    source: &'a MediaSource,
    title: &'a Option<String>,
    path: impl Fn() -> String,
) -> Result<OutPart<'a>, ApiError> {
    match source {
        MediaSource::Base64 { media_type, data } => Ok(OutPart::File {
            file: OutFile {
                file_data: data_url(media_type, data),
                filename: title.as_deref().unwrap_or("document.pdf"),
            },
            r#type: "file",
        }),
        MediaSource::Text { data, .. } => {
            let text = match title {
                Some(t) => format!("{t}\n\n{data}"),
                None => data.clone(),
            };
            Ok(OutPart::text(text))
        }
        MediaSource::Url { .. } | MediaSource::FileId { .. } => {
            Err(ApiError::unsupported(format!("{}.source", path()), TARGET))
        }
    }
}

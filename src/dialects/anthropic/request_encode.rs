//! IR -> Anthropic upstream request (`encode_request`), for callers of another dialect.
//!
//! Deliberate losses, documented: thinking blocks without a signature (they came from a
//! non-Anthropic model) are omitted from the history, because Anthropic rejects unsigned thinking;
//! empty text blocks are omitted, because Anthropic rejects them.

use super::wire::{
    OutAnyTool, OutBlock, OutFormat, OutMessage, OutMetadata, OutOutputConfig, OutRequest, OutSource, OutThinking,
    OutTool, OutToolChoice, OutWebSearch,
};
use crate::ir::{self, ApiError, Block, MediaSource, ReasoningEffort, ResponseFormat, Role, ToolChoice};

/// Name of this dialect in refusals.
pub const TARGET: &str = "Anthropic Messages";

/// `max_tokens` is required by Anthropic; used when the caller gave none.
pub const DEFAULT_MAX_TOKENS: u64 = 4096;

/// The smallest thinking budget Anthropic accepts.
const MIN_BUDGET: u64 = 1024;

/// Encodes `req` as a `/v1/messages` body for the upstream `model`.
pub fn encode_request(req: &ir::Request, model: &str) -> Result<Vec<u8>, ApiError> {
    if let Some(field) = req.unsupported.keys().next() {
        return Err(ApiError::unsupported(field.clone(), TARGET));
    }
    let mut max_tokens = req.max_tokens.unwrap_or(DEFAULT_MAX_TOKENS);
    let thinking = req.reasoning.as_ref().map(|r| {
        if r.adaptive {
            OutThinking::Adaptive
        } else if !r.enabled {
            OutThinking::Disabled
        } else {
            let budget = r
                .budget_tokens
                .or(r.effort.map(ReasoningEffort::budget_tokens))
                .unwrap_or(ReasoningEffort::Medium.budget_tokens())
                .max(MIN_BUDGET);
            OutThinking::Enabled { budget_tokens: budget }
        }
    });
    if let Some(OutThinking::Enabled { budget_tokens }) = &thinking {
        if max_tokens <= *budget_tokens {
            max_tokens += budget_tokens;
        }
    }
    let thinking_on = matches!(thinking, Some(OutThinking::Enabled { .. } | OutThinking::Adaptive));
    // Extended thinking fixes sampling: temperature must be 1 and top_p at least 0.95, top_k is
    // not allowed. Harnesses send their defaults anyway (Gemini CLI: temperature 0, topP 1), so
    // with thinking on these are left to the model (documented in docs/translation.md).
    let (temperature, top_p, top_k) = if thinking_on {
        (None, req.top_p.filter(|p| *p >= 0.95), None)
    } else {
        (req.temperature, req.top_p, req.top_k)
    };
    let output_config = match &req.response_format {
        Some(ResponseFormat::JsonSchema { schema, .. }) => {
            Some(OutOutputConfig { format: OutFormat { kind: "json_schema", schema } })
        }
        Some(ResponseFormat::JsonObject) => {
            return Err(ApiError::unsupported("response_format", TARGET));
        }
        Some(ResponseFormat::Text) | None => None,
    };
    let system = req
        .system
        .iter()
        .filter(|b| !b.text.is_empty())
        .map(|b| OutBlock::Text { text: &b.text, cache_control: b.cache_control.as_ref().map(|c| &c.0) })
        .collect();
    let own = req.tools.iter().map(|t| {
        OutAnyTool::Function(OutTool {
            name: &t.name,
            description: t.description.as_deref(),
            input_schema: &t.input_schema,
            strict: t.strict,
            cache_control: t.cache_control.as_ref().map(|c| &c.0),
        })
    });
    let tools = own.chain(req.hosted_tools.iter().map(web_search)).collect();
    let out = OutRequest {
        model,
        max_tokens,
        system,
        messages: messages(&req.messages)?,
        temperature,
        top_p,
        top_k,
        stop_sequences: &req.stop_sequences,
        stream: req.stream,
        metadata: req.user.as_deref().map(|user_id| OutMetadata { user_id }),
        tools,
        tool_choice: tool_choice(req),
        thinking,
        output_config,
    };
    crate::jsonwrite::to_vec_sized(&out, crate::jsonwrite::REQUEST_CAPACITY)
        .map_err(|e| ApiError::new(ir::ErrorKind::Api, format!("encoding Anthropic request: {e}")))
}

/// Anthropic's web search server tool for a caller's web search (Anthropic takes allowed or
/// blocked domains, not both: allowed wins).
fn web_search(t: &ir::HostedTool) -> OutAnyTool<'_> {
    let blocked: &[String] = if t.allowed_domains.is_empty() { &t.blocked_domains } else { &[] };
    OutAnyTool::WebSearch(OutWebSearch {
        kind: "web_search_20250305",
        name: "web_search",
        max_uses: t.max_uses,
        allowed_domains: &t.allowed_domains,
        blocked_domains: blocked,
        user_location: t.user_location.as_ref().map(|l| {
            let mut l = l.clone();
            l.insert("type".into(), serde_json::Value::String("approximate".into()));
            serde_json::Value::Object(l)
        }),
    })
}

fn tool_choice(req: &ir::Request) -> Option<OutToolChoice<'_>> {
    let disable = req.parallel_tool_calls == Some(false);
    let (kind, name) = match &req.tool_choice {
        Some(ToolChoice::Auto | ToolChoice::Validated) => ("auto", None),
        Some(ToolChoice::Any) => ("any", None),
        Some(ToolChoice::None) => {
            return Some(OutToolChoice { kind: "none", name: None, disable_parallel_tool_use: false });
        }
        Some(ToolChoice::Tool { name }) => ("tool", Some(name.as_str())),
        None if disable && !req.tools.is_empty() => ("auto", None),
        None => return None,
    };
    Some(OutToolChoice { kind, name, disable_parallel_tool_use: disable })
}

/// Messages with unsigned thinking and empty text dropped, consecutive same-role messages merged
/// and tool results first in every user message.
fn messages(msgs: &[ir::Message]) -> Result<Vec<OutMessage<'_>>, ApiError> {
    let mut out: Vec<OutMessage<'_>> = Vec::with_capacity(msgs.len());
    for (i, m) in msgs.iter().enumerate() {
        let role = match m.role {
            Role::User => "user",
            Role::Assistant => "assistant",
            Role::System => "system",
        };
        let mut content = Vec::with_capacity(m.content.len());
        for (j, b) in m.content.iter().enumerate() {
            if let Some(b) = block(b, At::Message(i, j))? {
                content.push(b);
            }
        }
        if content.is_empty() {
            continue;
        }
        match out.last_mut() {
            Some(last) if last.role == role => last.content.append(&mut content),
            _ => out.push(OutMessage { role, content }),
        }
    }
    for m in out.iter_mut().filter(|m| m.role == "user") {
        let (mut results, rest): (Vec<_>, Vec<_>) =
            std::mem::take(&mut m.content).into_iter().partition(|b| matches!(b, OutBlock::ToolResult { .. }));
        results.extend(rest);
        m.content = results;
    }
    Ok(out)
}

/// Where a block sits, for an error that names it: spelled out only when one is raised.
#[derive(Clone, Copy)]
enum At<'p> {
    /// `messages[i].content[j]`
    Message(usize, usize),
    /// `<outer>.content[k]`
    Inner(&'p At<'p>, usize),
}

impl std::fmt::Display for At<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            At::Message(i, j) => write!(f, "messages[{i}].content[{j}]"),
            At::Inner(outer, k) => write!(f, "{outer}.content[{k}]"),
        }
    }
}

fn source<'a>(s: &'a MediaSource, path: At<'_>, image: bool) -> Result<OutSource<'a>, ApiError> {
    Ok(match s {
        MediaSource::Base64 { media_type, data } => OutSource::Base64 { media_type, data },
        MediaSource::Url { url } => OutSource::Url { url },
        MediaSource::FileId { file_id } => OutSource::File { file_id },
        MediaSource::Text { media_type, data } if !image => OutSource::Text { media_type, data },
        MediaSource::Text { .. } => {
            return Err(ApiError::invalid_field(format!("{path}.source"), "an image cannot have a text source"));
        }
    })
}

/// One block; `None` when it is deliberately omitted.
fn block<'a>(b: &'a Block, path: At<'_>) -> Result<Option<OutBlock<'a>>, ApiError> {
    Ok(Some(match b {
        Block::Text { text, cache_control } => {
            if text.is_empty() {
                return Ok(None);
            }
            OutBlock::Text { text, cache_control: cache_control.as_ref().map(|c| &c.0) }
        }
        Block::Image { source: s, cache_control } => {
            OutBlock::Image { source: source(s, path, true)?, cache_control: cache_control.as_ref().map(|c| &c.0) }
        }
        Block::Document { source: s, title, cache_control } => OutBlock::Document {
            source: source(s, path, false)?,
            title: title.as_deref(),
            cache_control: cache_control.as_ref().map(|c| &c.0),
        },
        Block::ToolUse { id, name, input } => OutBlock::ToolUse { id, name, input },
        Block::ToolResult { tool_use_id, content, is_error, cache_control } => {
            let mut inner = Vec::with_capacity(content.len());
            for (k, c) in content.iter().enumerate() {
                let cpath = At::Inner(&path, k);
                match c {
                    Block::Text { .. } | Block::Image { .. } | Block::Document { .. } => {
                        if let Some(b) = block(c, cpath)? {
                            inner.push(b);
                        }
                    }
                    _ => {
                        return Err(ApiError::invalid_field(
                            cpath.to_string(),
                            "a tool result may contain only text, image and document blocks",
                        ));
                    }
                }
            }
            OutBlock::ToolResult {
                tool_use_id,
                content: inner,
                is_error: *is_error,
                cache_control: cache_control.as_ref().map(|c| &c.0),
            }
        }
        Block::Thinking { thinking, signature } => match signature.as_deref() {
            Some(signature) if !signature.is_empty() => OutBlock::Thinking { thinking, signature },
            _ => return Ok(None),
        },
        Block::RedactedThinking { data } => OutBlock::RedactedThinking { data },
    }))
}

//! The translation policy, "degrade, don't break": what happens to a field the caller sent when
//! the call is translated to another dialect. docs/translation.md holds the same table for people.
//!
//! - *Meaning* (messages, blocks, the caller's own tools, response format, anything whose loss
//!   changes the answer): translated, or refused with a 400 naming the field.
//! - *Advisory* (hints and metadata with no equivalent: streaming and cache hints, `name` on
//!   messages, user and metadata ids, sampling knobs the target does not take, service tiers,
//!   safety settings...): dropped, and reported in `x-amux-dropped`, a metric and a debug log.
//! - *Hosted tools* (provider-run web search, code execution, file search...): web search maps to
//!   the target's own; the others are dropped as advisory (the model never calls a tool it was
//!   not offered). Tools the caller runs itself (Anthropic's bash / text editor / computer,
//!   Responses `local_shell`) are the caller's own tools: meaning.
//!
//! Two steps. [`sort`] runs once per call after decoding: decoders record everything the IR cannot
//! carry in `Request::unsupported` by path, and `sort` moves advisory entries to
//! `Request::dropped` and web search tools to `Request::hosted_tools`. [`fit`] runs per attempt:
//! it takes out of the IR what the target provider does not accept ([`Caps`]) and names what the
//! target dialect has no form for, and in strict mode turns every drop into a refusal.

use std::borrow::Cow;

use serde_json::{Map, Value};

use crate::ir::{ApiError, Block, Dialect, ErrorKind, HostedKind, HostedTool, Request};

/// Request parameters a provider accepts beyond what its dialect always carries. A property of
/// the provider (its preset, overridable in config), not of its dialect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caps {
    /// `temperature` (not Anthropic's Messages API since its 2026 revision: its request type has
    /// no sampling parameters).
    pub temperature: bool,
    /// `top_p` (not Anthropic, as for `temperature`).
    pub top_p: bool,
    /// `top_k` (vLLM, Ollama, LM Studio, Together, Fireworks, OpenRouter, Gemini; not OpenAI,
    /// Anthropic, Groq, Mistral, DeepSeek, xAI, ...).
    pub top_k: bool,
    /// `reasoning_effort` / `reasoning.effort` / thinking budgets.
    pub reasoning: bool,
    /// The dialect's hosted web search tool (Anthropic web search, OpenAI Responses
    /// `web_search`, Gemini `googleSearch`). Chat Completions has none that works on ordinary
    /// models, so a Chat target never gets one.
    pub web_search: bool,
}

impl Caps {
    /// What a provider of this upstream dialect takes when its preset says nothing more.
    pub const fn of(dialect: Dialect) -> Caps {
        let all = Caps { temperature: true, top_p: true, top_k: true, reasoning: true, web_search: true };
        match dialect {
            Dialect::Anthropic => Caps { temperature: false, top_p: false, top_k: false, ..all },
            Dialect::Gemini => all,
            Dialect::OpenAiResponses => Caps { top_k: false, ..all },
            Dialect::OpenAiChat => Caps { top_k: false, web_search: false, ..all },
            // Converse takes temperature and top_p itself; top_k is a model field Claude no longer
            // takes; no hosted web search for Claude (Nova grounding is a system tool).
            Dialect::BedrockConverse => Caps { top_k: false, web_search: false, ..all },
        }
    }
}

/// What happens to a field the IR cannot carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    Meaning,
    Advisory,
    /// A provider-run tool: mapped when it is a web search, else dropped as advisory.
    Hosted,
}

/// Advisory fields by caller dialect, as path shapes (indices written `[]`); a trailing `.*`
/// takes every field under the prefix.
const ANTHROPIC: &[&str] = &[
    "context_management",
    "service_tier",
    "inference_geo",
    "cache_control",
    "speed",
    "metadata.*",
    "tools[].eager_input_streaming",
    "tools[].defer_loading",
    "tools[].input_examples",
    "tools[].allowed_callers",
    "messages[].content[].cache_control",
    "messages[].content[].citations",
    "messages[].content[].caller",
    "system[].citations",
    "thinking.display",
];
const CHAT: &[&str] = &[
    "seed",
    "store",
    "metadata",
    "service_tier",
    "prompt_cache_key",
    "prompt_cache_retention",
    "safety_identifier",
    "stream_options.include_obfuscation",
    "presence_penalty",
    "frequency_penalty",
    "prediction",
    "verbosity",
    "messages[].name",
    "messages[].annotations",
    "messages[].content[].image_url.detail",
    "messages[].content[].cache_control",
    "messages[].cache_control",
];
const RESPONSES: &[&str] = &[
    "store",
    "include",
    "prompt_cache_key",
    "prompt_cache_retention",
    "metadata",
    "service_tier",
    "truncation",
    "safety_identifier",
    "max_tool_calls",
    "text.verbosity",
    "reasoning.summary",
    "reasoning.generate_summary",
    "stream_options.include_obfuscation",
    "input[].content[].detail",
    "client_metadata",
    "context_management",
];
const GEMINI: &[&str] = &[
    "safetySettings",
    "labels",
    "generationConfig.seed",
    "generationConfig.mediaResolution",
    "generationConfig.presencePenalty",
    "generationConfig.frequencyPenalty",
    "generationConfig.thinkingConfig.includeThoughts",
    "generationConfig.enableEnhancedCivicAnswers",
    "toolConfig.retrievalConfig",
    "tools[].functionDeclarations[].behavior",
];

const BEDROCK: &[&str] = &[
    "guardrailConfig",
    "requestMetadata",
    "performanceConfig",
    "serviceTier",
    "additionalModelResponseFieldPaths",
    "additionalModelRequestFields.anthropic_beta",
    "messages[].content[].document.citations",
    "messages[].content[].guardContent.text.qualifiers",
    "system[].guardContent.text.qualifiers",
    "messages[].content[].cachePoint",
    "system[].cachePoint",
    "toolConfig.tools[].cachePoint",
];

/// Hosted tools that run on the provider's side, by the caller's tool type (prefix match for
/// Anthropic's dated types). A web search among them is mapped; the rest are dropped.
const ANTHROPIC_HOSTED: &[&str] = &["web_search_", "web_fetch_", "code_execution_", "tool_search_tool_", "mcp_toolset"];
const RESPONSES_HOSTED: &[&str] = &[
    "web_search",
    "file_search",
    "code_interpreter",
    "image_generation",
    "computer_use_preview",
    "computer_use",
    "mcp",
];
/// Responses input items that record a hosted tool's earlier run (history, not instructions).
const RESPONSES_HOSTED_ITEMS: &[&str] = &[
    "web_search_call",
    "file_search_call",
    "code_interpreter_call",
    "image_generation_call",
    "mcp_call",
    "mcp_list_tools",
    "mcp_approval_request",
];
const GEMINI_HOSTED: &[&str] = &[
    "tools[].googleSearch",
    "tools[].googleSearchRetrieval",
    "tools[].codeExecution",
    "tools[].urlContext",
    "tools[].googleMaps",
    "tools[].enterpriseWebSearch",
    "tools[].fileSearch",
    "tools[].retrieval",
];

/// `messages[3].content[0].name` -> `messages[].content[].name`: the path's shape, a
/// low-cardinality label for metrics.
pub fn shape(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut in_index = false;
    for c in path.chars() {
        match c {
            '[' => {
                in_index = true;
                out.push('[');
            }
            ']' => {
                in_index = false;
                out.push(']');
            }
            _ if in_index => {}
            _ => out.push(c),
        }
    }
    out
}

fn listed(table: &[&str], shape: &str) -> bool {
    table.iter().any(|p| match p.strip_suffix(".*") {
        Some(prefix) => shape.strip_prefix(prefix).is_some_and(|rest| rest.starts_with('.')),
        None => *p == shape,
    })
}

fn type_of(v: &Value) -> &str {
    v.get("type").and_then(Value::as_str).unwrap_or("")
}

/// The class of an entry of `Request::unsupported` of a `caller` body.
pub fn classify(caller: Dialect, path: &str, value: &Value) -> Class {
    let shape = shape(path);
    let hosted = match caller {
        Dialect::Anthropic => {
            (shape == "tools[]" && ANTHROPIC_HOSTED.iter().any(|p| type_of(value).starts_with(p)))
                || shape == "mcp_servers"
        }
        Dialect::OpenAiChat => shape == "web_search_options",
        Dialect::OpenAiResponses => {
            (shape == "tools[]" && (RESPONSES_HOSTED.contains(&type_of(value)) || is_web_search_type(type_of(value))))
                || (shape == "input[]" && RESPONSES_HOSTED_ITEMS.contains(&type_of(value)))
        }
        Dialect::Gemini => GEMINI_HOSTED.contains(&shape.as_str()),
        Dialect::BedrockConverse => shape == "toolConfig.tools[].systemTool",
    };
    if hosted {
        return Class::Hosted;
    }
    let table = match caller {
        Dialect::Anthropic => ANTHROPIC,
        Dialect::OpenAiChat => CHAT,
        Dialect::OpenAiResponses => RESPONSES,
        Dialect::Gemini => GEMINI,
        Dialect::BedrockConverse => BEDROCK,
    };
    if listed(table, &shape) { Class::Advisory } else { Class::Meaning }
}

fn is_web_search_type(t: &str) -> bool {
    t == "web_search" || t.starts_with("web_search_preview") || t.starts_with("web_search_2")
}

/// Sorts `req.unsupported` of a request decoded from `caller`: advisory entries move to
/// `req.dropped`, web search tools to `req.hosted_tools` (other hosted tools to `dropped`);
/// what stays changes the answer and is refused by the encoders.
pub fn sort(caller: Dialect, req: &mut Request) {
    if req.unsupported.is_empty() {
        return;
    }
    let entries = std::mem::take(&mut req.unsupported);
    for (path, value) in entries {
        match classify(caller, &path, &value) {
            Class::Meaning => {
                req.unsupported.insert(path, value);
            }
            Class::Advisory => req.dropped.push(path),
            Class::Hosted => match web_search(caller, &path, &value) {
                Some(t) => req.hosted_tools.push(t),
                None => req.dropped.push(path),
            },
        }
    }
}

fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).map(str::to_string).collect())
        .unwrap_or_default()
}

/// A location object without its `type` tag (`approximate`), empty values left out.
fn location(v: Option<&Value>) -> Option<Map<String, Value>> {
    let o = v?.as_object()?;
    let m: Map<String, Value> = o
        .iter()
        .filter(|(k, v)| k.as_str() != "type" && !v.is_null() && v.as_str() != Some(""))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    (!m.is_empty()).then_some(m)
}

/// The IR form of a caller's web search tool; `None` for any other hosted tool.
fn web_search(caller: Dialect, path: &str, v: &Value) -> Option<HostedTool> {
    let mut t = HostedTool { path: path.to_string(), kind: HostedKind::WebSearch, ..HostedTool::default() };
    match caller {
        Dialect::Anthropic if type_of(v).starts_with("web_search_") => {
            t.max_uses = v.get("max_uses").and_then(Value::as_u64);
            t.allowed_domains = strings(v.get("allowed_domains"));
            t.blocked_domains = strings(v.get("blocked_domains"));
            t.user_location = location(v.get("user_location"));
        }
        Dialect::OpenAiChat => {
            t.user_location = location(v.get("user_location").and_then(|l| l.get("approximate")));
        }
        Dialect::OpenAiResponses if shape(path) == "tools[]" && is_web_search_type(type_of(v)) => {
            t.allowed_domains = strings(v.get("filters").and_then(|f| f.get("allowed_domains")));
            t.user_location = location(v.get("user_location"));
        }
        Dialect::Gemini if path.ends_with(".googleSearch") || path.ends_with(".googleSearchRetrieval") => {}
        // Nova's web grounding.
        Dialect::BedrockConverse if v.get("name").and_then(Value::as_str) == Some("nova_grounding") => {}
        _ => return None,
    }
    Some(t)
}

/// What one attempt sends: the request as the target takes it, and what was left out for it.
pub struct Fitted<'a> {
    pub req: Cow<'a, Request>,
    /// Dropped fields by their name in the caller's body: the caller's own advisory fields and
    /// what the target provider or dialect has no form for.
    pub dropped: Vec<String>,
}

/// An IR field the target may not take, named as the caller spells it.
#[derive(Clone, Copy)]
enum Field {
    TopK,
    Temperature,
    TopP,
    Reasoning,
    CacheHints,
    ThinkingHistory,
    User,
    ParallelToolCalls,
    ValidatedToolChoice,
}

impl Field {
    fn name(self, caller: Dialect) -> &'static str {
        use Dialect::*;
        match (self, caller) {
            (Field::TopK, Gemini) => "generationConfig.topK",
            (Field::TopK, BedrockConverse) => "additionalModelRequestFields.top_k",
            (Field::Temperature, BedrockConverse) => "inferenceConfig.temperature",
            (Field::TopP, BedrockConverse) => "inferenceConfig.topP",
            (Field::Reasoning, BedrockConverse) => "additionalModelRequestFields.thinking",
            (Field::CacheHints, BedrockConverse) => "cachePoint",
            (Field::ThinkingHistory, BedrockConverse) => "messages[].content[].reasoningContent",
            (Field::TopK, _) => "top_k",
            (Field::Temperature, Gemini) => "generationConfig.temperature",
            (Field::Temperature, _) => "temperature",
            (Field::TopP, Gemini) => "generationConfig.topP",
            (Field::TopP, _) => "top_p",
            (Field::Reasoning, Anthropic) => "thinking",
            (Field::Reasoning, OpenAiChat) => "reasoning_effort",
            (Field::Reasoning, OpenAiResponses) => "reasoning.effort",
            (Field::Reasoning, Gemini) => "generationConfig.thinkingConfig",
            (Field::CacheHints, _) => "cache_control",
            (Field::ThinkingHistory, Anthropic) => "messages[].content[].thinking",
            (Field::ThinkingHistory, OpenAiChat) => "messages[].reasoning_content",
            (Field::ThinkingHistory, OpenAiResponses) => "input[].reasoning",
            (Field::ThinkingHistory, Gemini) => "contents[].parts[].thought",
            (Field::User, Anthropic) => "metadata.user_id",
            (Field::User, _) => "user",
            (Field::ParallelToolCalls, Anthropic) => "tool_choice.disable_parallel_tool_use",
            (Field::ParallelToolCalls, _) => "parallel_tool_calls",
            (Field::ValidatedToolChoice, Gemini) => "toolConfig.functionCallingConfig.mode",
            (Field::ValidatedToolChoice, _) => "tool_choice",
        }
    }
}

fn has_cache_hints(req: &Request) -> bool {
    fn block(b: &Block) -> bool {
        match b {
            Block::Text { cache_control, .. }
            | Block::Image { cache_control, .. }
            | Block::Document { cache_control, .. } => cache_control.is_some(),
            Block::ToolResult { cache_control, content, .. } => cache_control.is_some() || content.iter().any(block),
            _ => false,
        }
    }
    req.system.iter().any(|s| s.cache_control.is_some())
        || req.tools.iter().any(|t| t.cache_control.is_some())
        || req.messages.iter().any(|m| m.content.iter().any(block))
}

fn has_unsigned_thinking(req: &Request, any: bool) -> bool {
    req.messages.iter().any(|m| {
        m.content.iter().any(|b| match b {
            Block::Thinking { signature, .. } => any || signature.is_none(),
            Block::RedactedThinking { .. } => any,
            _ => false,
        })
    })
}

/// Fits `req` (decoded from `caller`) to a `target` provider with `caps`: parameters the
/// provider does not take are taken out (the request is cloned only then), and every drop is
/// named; in `strict` mode the first drop is refused instead.
pub fn fit<'a>(
    req: &'a Request,
    caller: Dialect,
    target: Dialect,
    caps: Caps,
    strict: bool,
) -> Result<Fitted<'a>, ApiError> {
    let mut dropped: Vec<String> = req.dropped.clone();
    let lost = |f: Field, dropped: &mut Vec<String>| dropped.push(f.name(caller).to_string());
    let thinking_on = req.reasoning.as_ref().is_some_and(|r| r.enabled);
    // Anthropic fixes sampling while thinking (temperature 1, top_p >= 0.95, no top_k).
    let fixed = target == Dialect::Anthropic && thinking_on;
    let drop_temperature = req.temperature.is_some() && (!caps.temperature || fixed);
    let drop_top_p = req.top_p.is_some_and(|p| !caps.top_p || (fixed && p < 0.95));
    let drop_top_k = req.top_k.is_some() && (!caps.top_k || fixed);
    let drop_reasoning = req.reasoning.is_some() && !caps.reasoning;
    let drop_hosted = !req.hosted_tools.is_empty() && (!caps.web_search || target == Dialect::OpenAiChat);
    if drop_temperature {
        lost(Field::Temperature, &mut dropped);
    }
    if drop_top_p {
        lost(Field::TopP, &mut dropped);
    }
    if drop_top_k {
        lost(Field::TopK, &mut dropped);
    }
    if drop_reasoning {
        lost(Field::Reasoning, &mut dropped);
    }
    if drop_hosted {
        dropped.extend(req.hosted_tools.iter().map(|t| t.path.clone()));
    }
    // What the target dialect has no form for (its encoder leaves it out).
    // Converse carries cache hints as `cachePoint` blocks.
    if !matches!(target, Dialect::Anthropic | Dialect::BedrockConverse) && has_cache_hints(req) {
        lost(Field::CacheHints, &mut dropped);
    }
    let thinking_lost = match target {
        Dialect::OpenAiChat => has_unsigned_thinking(req, true),
        // Claude behind Converse refuses unsigned thinking as Anthropic does.
        Dialect::Anthropic | Dialect::BedrockConverse => has_unsigned_thinking(req, false),
        _ => false,
    };
    if thinking_lost {
        lost(Field::ThinkingHistory, &mut dropped);
    }
    if target != Dialect::Gemini && req.tool_choice == Some(crate::ir::ToolChoice::Validated) {
        lost(Field::ValidatedToolChoice, &mut dropped);
    }
    if matches!(target, Dialect::Gemini | Dialect::BedrockConverse) && req.user.is_some() {
        lost(Field::User, &mut dropped);
    }
    if matches!(target, Dialect::Gemini | Dialect::BedrockConverse) && req.parallel_tool_calls == Some(false) {
        lost(Field::ParallelToolCalls, &mut dropped);
    }
    dropped.dedup();
    if strict && let Some(first) = dropped.first() {
        let mut e = ApiError::new(
            ErrorKind::InvalidRequest,
            format!(
                "{first}: has no equivalent in the target's {} API and strict translation is on; \
                 amux refuses rather than drop it",
                target.label()
            ),
        );
        e.param = Some(first.clone());
        return Err(e);
    }
    let req = if drop_temperature || drop_top_p || drop_top_k || drop_reasoning || drop_hosted {
        let mut r = req.clone();
        if drop_temperature {
            r.temperature = None;
        }
        if drop_top_p {
            r.top_p = None;
        }
        if drop_top_k {
            r.top_k = None;
        }
        if drop_reasoning {
            r.reasoning = None;
        }
        if drop_hosted {
            r.hosted_tools.clear();
        }
        Cow::Owned(r)
    } else {
        Cow::Borrowed(req)
    };
    Ok(Fitted { req, dropped })
}

#[cfg(test)]
mod tests;

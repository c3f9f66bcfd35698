//! The canonical request: system blocks, messages of content blocks, tools and sampling.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::Schema;

/// One chat request, decoded from the caller's dialect.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Request {
    /// The model name as the caller sent it (routing replaces it with the upstream model).
    pub model: String,
    pub system: Vec<SystemBlock>,
    pub messages: Vec<Message>,
    pub max_tokens: Option<u64>,
    pub temperature: Option<f64>,
    pub top_p: Option<f64>,
    pub top_k: Option<u64>,
    pub stop_sequences: Vec<String>,
    pub stream: bool,
    /// The caller asked for usage in the stream (OpenAI `stream_options.include_usage`).
    pub stream_include_usage: bool,
    pub tools: Vec<Tool>,
    pub tool_choice: Option<ToolChoice>,
    /// `Some(false)` when the caller forbade parallel tool calls.
    pub parallel_tool_calls: Option<bool>,
    pub reasoning: Option<Reasoning>,
    pub response_format: Option<ResponseFormat>,
    /// End-user id (Anthropic `metadata.user_id`, OpenAI `user`).
    pub user: Option<String>,
    /// Fields of the caller's dialect the IR has no place for, by their path in the caller's
    /// body (e.g. `"logprobs"`). Decoders record every such field here; `crate::policy::sort`
    /// then moves the advisory ones to `dropped` and the hosted tools to `hosted_tools`, so what
    /// is left changes the answer and a cross-dialect encoder refuses it (400 naming the field).
    pub unsupported: Map<String, Value>,
    /// Advisory fields of the caller's body the IR does not carry (hints, metadata, names...),
    /// by their path: dropped on every cross-dialect call, and reported (`x-amux-dropped`).
    pub dropped: Vec<String>,
    /// Hosted (provider-run) tools the caller offered that have an equivalent elsewhere.
    pub hosted_tools: Vec<HostedTool>,
    /// Provider params from config, merged verbatim into the upstream body's top level by the
    /// encoder (config wins over translated fields).
    pub provider_params: Map<String, Value>,
}

/// A system prompt block.
#[derive(Debug, Clone, PartialEq)]
pub struct SystemBlock {
    pub text: String,
    pub cache_control: Option<CacheControl>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    User,
    Assistant,
    /// A system/developer message in the middle of the conversation (OpenAI allows them anywhere;
    /// newer Claude Code sends them inside `messages`). Leading system messages go to
    /// `Request::system` instead.
    System,
}

/// One turn of the conversation. Tool results are blocks of a user message (OpenAI `tool`
/// messages are decoded into those).
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub role: Role,
    pub content: Vec<Block>,
}

/// Prompt-cache hint (Anthropic `cache_control`), kept verbatim.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CacheControl(pub Value);

/// A content block (serializable so the response cache can store answers losslessly).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Block {
    Text {
        text: String,
        cache_control: Option<CacheControl>,
    },
    Image {
        source: MediaSource,
        cache_control: Option<CacheControl>,
    },
    Document {
        source: MediaSource,
        title: Option<String>,
        cache_control: Option<CacheControl>,
    },
    ToolUse {
        id: String,
        name: String,
        /// The arguments as a JSON value (OpenAI's argument string is parsed).
        input: Value,
    },
    ToolResult {
        tool_use_id: String,
        /// Text and image blocks.
        content: Vec<Block>,
        is_error: bool,
        cache_control: Option<CacheControl>,
    },
    Thinking {
        thinking: String,
        /// Anthropic's opaque signature, carried byte for byte; `None` when the source has none.
        signature: Option<String>,
    },
    RedactedThinking {
        data: String,
    },
}

/// Where an image's or document's bytes are.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum MediaSource {
    Base64 {
        media_type: String,
        data: String,
    },
    Url {
        url: String,
    },
    /// Plain-text document content.
    Text {
        media_type: String,
        data: String,
    },
    /// A provider-side file id.
    FileId {
        file_id: String,
    },
}

/// A function tool.
#[derive(Debug, Clone, PartialEq)]
pub struct Tool {
    pub name: String,
    pub description: Option<String>,
    /// JSON Schema of the arguments.
    pub input_schema: Schema,
    pub strict: Option<bool>,
    pub cache_control: Option<CacheControl>,
    /// An OpenAI Responses `custom` tool (free-form text input). It is carried as a function tool
    /// whose schema is `{"input": string}`, so the Responses codec can turn calls back into
    /// `custom_tool_call` items; `false` for every ordinary function tool.
    pub custom: bool,
    /// The Responses `namespace` the tool came in (Codex groups its sub-agent tools so): other
    /// dialects see it as `{namespace}__{name}`, and calls go back to the caller split again.
    pub namespace: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ToolChoice {
    Auto,
    /// Must call some tool (Anthropic `any`, OpenAI `required`).
    Any,
    None,
    Tool {
        name: String,
    },
    /// Calls optional and held to their schemas (Gemini's `VALIDATED`, which Copilot CLI also
    /// sends as a Chat `tool_choice` for Gemini models); other targets take `auto`, reported.
    Validated,
}

/// Reasoning / extended thinking request.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Reasoning {
    /// `false` when the caller explicitly switched thinking off.
    pub enabled: bool,
    /// Anthropic `thinking.budget_tokens`.
    pub budget_tokens: Option<u64>,
    /// OpenAI `reasoning_effort`, Anthropic `output_config.effort`.
    pub effort: Option<ReasoningEffort>,
    /// Anthropic `thinking.type: adaptive` (the model decides how much to think).
    pub adaptive: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReasoningEffort {
    Minimal,
    Low,
    Medium,
    High,
    Max,
}

impl ReasoningEffort {
    pub fn as_str(self) -> &'static str {
        match self {
            ReasoningEffort::Minimal => "minimal",
            ReasoningEffort::Low => "low",
            ReasoningEffort::Medium => "medium",
            ReasoningEffort::High => "high",
            ReasoningEffort::Max => "max",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "minimal" | "none" => ReasoningEffort::Minimal,
            "low" => ReasoningEffort::Low,
            "medium" => ReasoningEffort::Medium,
            "high" => ReasoningEffort::High,
            "max" | "xhigh" => ReasoningEffort::Max,
            _ => return None,
        })
    }

    /// A thinking budget for dialects that take tokens instead of an effort.
    pub fn budget_tokens(self) -> u64 {
        match self {
            ReasoningEffort::Minimal => 1024,
            ReasoningEffort::Low => 2048,
            ReasoningEffort::Medium => 8192,
            ReasoningEffort::High => 16384,
            ReasoningEffort::Max => 32768,
        }
    }

    /// An effort for dialects that take an effort instead of a budget.
    pub fn from_budget(budget: u64) -> Self {
        match budget {
            0..=1535 => ReasoningEffort::Minimal,
            1536..=4095 => ReasoningEffort::Low,
            4096..=12287 => ReasoningEffort::Medium,
            _ => ReasoningEffort::High,
        }
    }
}

/// A provider-run tool, mapped to the target's own (OpenAI `web_search` <-> Anthropic's web
/// search server tool <-> Gemini `googleSearch`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct HostedTool {
    /// The caller's path of the tool (`tools[4]`), for reports.
    pub path: String,
    pub kind: HostedKind,
    /// Most searches per call (Anthropic `max_uses`).
    pub max_uses: Option<u64>,
    pub allowed_domains: Vec<String>,
    pub blocked_domains: Vec<String>,
    /// Approximate user location: `city`, `region`, `country`, `timezone`.
    pub user_location: Option<Map<String, Value>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HostedKind {
    #[default]
    WebSearch,
}

/// Structured output request.
#[derive(Debug, Clone, PartialEq)]
pub enum ResponseFormat {
    Text,
    JsonObject,
    JsonSchema { name: String, schema: Value, strict: Option<bool>, description: Option<String> },
}

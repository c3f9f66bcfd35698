//! Anthropic Messages wire types: the JSON shapes amux reads and writes, declaring only the fields
//! it touches (schemas and tool inputs stay `serde_json::Value`).

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::ir::{ApiError, Schema};

// ---------------------------------------------------------------------------------------------
// Caller requests (decode side)
// ---------------------------------------------------------------------------------------------

/// A `POST /v1/messages` body. Keys not declared here land in `extra`.
#[derive(Debug, Deserialize)]
pub struct InRequest {
    #[serde(default)]
    pub model: String,
    pub messages: Vec<InMessage>,
    pub system: Option<Value>,
    pub max_tokens: Option<u64>,
    pub temperature: Option<f64>,
    pub top_p: Option<f64>,
    pub top_k: Option<u64>,
    pub stop_sequences: Option<Vec<String>>,
    pub stream: Option<bool>,
    pub metadata: Option<Map<String, Value>>,
    pub tools: Option<Vec<Value>>,
    pub tool_choice: Option<InToolChoice>,
    pub thinking: Option<InThinking>,
    pub output_config: Option<InOutputConfig>,
    /// The older structured-outputs beta parameter.
    pub output_format: Option<InFormat>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Deserialize)]
pub struct InMessage {
    pub role: String,
    /// A string or an array of blocks; blocks are dispatched on their `type` by hand so that
    /// unknown ones can be recorded (with their value) as unsupported.
    pub content: Value,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Deserialize)]
pub struct InText {
    pub text: String,
    pub cache_control: Option<Value>,
    pub citations: Option<Value>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Deserialize)]
pub struct InMedia {
    /// Checked by hand first (unknown source types name `source.type`), then read as [`InSource`].
    pub source: Value,
    pub cache_control: Option<Value>,
    pub title: Option<String>,
    pub context: Option<Value>,
    pub citations: Option<Value>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// An image or document source. `type` picks the variant.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum InSource {
    Base64 { media_type: String, data: String },
    Url { url: String },
    Text { media_type: String, data: String },
    File { file_id: String },
}

#[derive(Debug, Deserialize)]
pub struct InToolUse {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub input: Value,
    /// An advisory hint, recorded by path (see `crate::policy`).
    pub cache_control: Option<Value>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Deserialize)]
pub struct InToolResult {
    pub tool_use_id: String,
    /// A string or an array of text/image blocks.
    pub content: Option<Value>,
    #[serde(default)]
    pub is_error: Option<bool>,
    pub cache_control: Option<Value>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Deserialize)]
pub struct InThinkingBlock {
    pub thinking: String,
    pub signature: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Deserialize)]
pub struct InRedacted {
    pub data: String,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Deserialize)]
pub struct InTool {
    pub name: String,
    pub description: Option<String>,
    pub input_schema: Value,
    pub strict: Option<bool>,
    pub cache_control: Option<Value>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Deserialize)]
pub struct InToolChoice {
    #[serde(rename = "type")]
    pub kind: String,
    pub name: Option<String>,
    pub disable_parallel_tool_use: Option<bool>,
}

#[derive(Debug, Deserialize)]
pub struct InThinking {
    #[serde(rename = "type")]
    pub kind: String,
    pub budget_tokens: Option<u64>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Deserialize)]
pub struct InOutputConfig {
    pub effort: Option<String>,
    pub format: Option<InFormat>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Deserialize)]
pub struct InFormat {
    #[serde(rename = "type")]
    pub kind: String,
    pub schema: Option<Value>,
}

// ---------------------------------------------------------------------------------------------
// Upstream requests (encode side)
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Serialize)]
pub struct OutRequest<'a> {
    pub model: &'a str,
    pub max_tokens: u64,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub system: Vec<OutBlock<'a>>,
    pub messages: Vec<OutMessage<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub top_k: Option<u64>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    pub stop_sequences: &'a [String],
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub stream: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<OutMetadata<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tools: Vec<OutAnyTool<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<OutToolChoice<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thinking: Option<OutThinking>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output_config: Option<OutOutputConfig<'a>>,
}

#[derive(Debug, Serialize)]
pub struct OutMetadata<'a> {
    pub user_id: &'a str,
}

#[derive(Debug, Serialize)]
pub struct OutMessage<'a> {
    pub role: &'static str,
    pub content: Vec<OutBlock<'a>>,
}

/// A request content block.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum OutBlock<'a> {
    Text {
        text: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        cache_control: Option<&'a Value>,
    },
    Image {
        source: OutSource<'a>,
        #[serde(skip_serializing_if = "Option::is_none")]
        cache_control: Option<&'a Value>,
    },
    Document {
        source: OutSource<'a>,
        #[serde(skip_serializing_if = "Option::is_none")]
        title: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        cache_control: Option<&'a Value>,
    },
    ToolUse {
        id: &'a str,
        name: &'a str,
        input: &'a Value,
    },
    ToolResult {
        tool_use_id: &'a str,
        content: Vec<OutBlock<'a>>,
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        is_error: bool,
        #[serde(skip_serializing_if = "Option::is_none")]
        cache_control: Option<&'a Value>,
    },
    Thinking {
        thinking: &'a str,
        signature: &'a str,
    },
    RedactedThinking {
        data: &'a str,
    },
}

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum OutSource<'a> {
    Base64 { media_type: &'a str, data: &'a str },
    Url { url: &'a str },
    Text { media_type: &'a str, data: &'a str },
    File { file_id: &'a str },
}

#[derive(Debug, Serialize)]
pub struct OutTool<'a> {
    pub name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<&'a str>,
    pub input_schema: &'a Schema,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub strict: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache_control: Option<&'a Value>,
}

/// A tool of an upstream request: the caller's own, or Anthropic's web search server tool.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum OutAnyTool<'a> {
    Function(OutTool<'a>),
    WebSearch(OutWebSearch<'a>),
}

/// Anthropic's web search server tool (`web_search_20250305`).
#[derive(Debug, Serialize)]
pub struct OutWebSearch<'a> {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub name: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_uses: Option<u64>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    pub allowed_domains: &'a [String],
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    pub blocked_domains: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_location: Option<Value>,
}

#[derive(Debug, Serialize)]
pub struct OutToolChoice<'a> {
    #[serde(rename = "type")]
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<&'a str>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub disable_parallel_tool_use: bool,
}

#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum OutThinking {
    Enabled { budget_tokens: u64 },
    Disabled,
    Adaptive,
}

#[derive(Debug, Serialize)]
pub struct OutOutputConfig<'a> {
    pub format: OutFormat<'a>,
}

#[derive(Debug, Serialize)]
pub struct OutFormat<'a> {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub schema: &'a Value,
}

// ---------------------------------------------------------------------------------------------
// Responses, usage, errors (both directions)
// ---------------------------------------------------------------------------------------------

/// A non-streaming Message as an upstream sends it.
#[derive(Debug, Deserialize)]
pub struct InResponse {
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub model: String,
    #[serde(default)]
    pub content: Vec<Value>,
    pub stop_reason: Option<String>,
    pub stop_sequence: Option<String>,
    #[serde(default)]
    pub usage: WireUsage,
}

/// A response content block (text, thinking, redacted thinking, tool use).
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum InRespBlock {
    Text {
        text: String,
    },
    Thinking {
        thinking: String,
        #[serde(default)]
        signature: Option<String>,
    },
    RedactedThinking {
        data: String,
    },
    ToolUse {
        id: String,
        name: String,
        #[serde(default)]
        input: Value,
    },
}

/// `usage` of a Message, `message_start` or `message_delta`. Every count is optional on the wire.
#[derive(Debug, Default, Clone, Copy, Deserialize, Serialize)]
pub struct WireUsage {
    #[serde(default, deserialize_with = "null_as_zero")]
    pub input_tokens: u64,
    #[serde(default, deserialize_with = "null_as_zero")]
    pub cache_creation_input_tokens: u64,
    #[serde(default, deserialize_with = "null_as_zero")]
    pub cache_read_input_tokens: u64,
    #[serde(default, deserialize_with = "null_as_zero")]
    pub output_tokens: u64,
}

fn null_as_zero<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    Ok(Option::<u64>::deserialize(d)?.unwrap_or(0))
}

/// A Message as amux sends it to an Anthropic caller.
#[derive(Debug, Serialize)]
pub struct OutResponse<'a> {
    pub id: &'a str,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub role: &'static str,
    pub model: &'a str,
    pub content: Vec<OutBlock<'a>>,
    pub stop_reason: Option<&'static str>,
    pub stop_sequence: Option<&'a str>,
    pub usage: WireUsage,
}

/// `{"type":"error","error":{"type":..,"message":..}}`.
#[derive(Debug, Deserialize, Serialize)]
pub struct ErrorEnvelope<E> {
    #[serde(rename = "type", default = "error_str")]
    pub kind: String,
    pub error: E,
}

fn error_str() -> String {
    "error".to_string()
}

#[derive(Debug, Deserialize, Serialize)]
pub struct ErrorDetail {
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default)]
    pub message: String,
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// Deserializes `v` into `T`; a failure names the field as `path` plus the path inside `v`.
pub fn from_value_at<T: DeserializeOwned>(v: Value, path: &str) -> Result<T, ApiError> {
    serde_path_to_error::deserialize(v).map_err(|e| {
        let field = join_path(path, &e.path().to_string());
        ApiError::invalid_field(field, e.into_inner())
    })
}

/// `prefix` + an inner serde path (`.` means none; `[0].x` attaches without a dot).
pub fn join_path(prefix: &str, inner: &str) -> String {
    match inner {
        "" | "." => prefix.to_string(),
        _ if prefix.is_empty() => inner.to_string(),
        _ if inner.starts_with('[') => format!("{prefix}{inner}"),
        _ => format!("{prefix}.{inner}"),
    }
}

pub use crate::dialects::is_default;

//! OpenAI Chat Completions wire types read from upstreams (completions, chunks, usage) and the
//! small helpers shared by the codec: data URLs, finish reasons, usage conversion, tool-call ids.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::ir::{StopReason, Usage};

/// Name used in refusals (`ApiError::unsupported`).
pub const TARGET: &str = "OpenAI Chat Completions";

/// A non-streaming `chat.completion` body (only the fields amux reads).
#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct Completion {
    pub id: Option<String>,
    pub model: Option<String>,
    pub choices: Vec<Choice>,
    pub usage: Option<WireUsage>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct Choice {
    pub index: Option<u64>,
    pub message: Option<ChoiceMessage>,
    pub finish_reason: Option<String>,
}

/// `choices[].message` of a completion, or `choices[].delta` of a chunk (same field names).
#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct ChoiceMessage {
    /// A string; some servers (Mistral) send an array of text parts instead.
    pub content: Option<Value>,
    pub refusal: Option<String>,
    /// Non-standard: DeepSeek, vLLM, SGLang.
    pub reasoning_content: Option<String>,
    /// Non-standard: OpenRouter, Ollama, newer vLLM.
    pub reasoning: Option<String>,
    pub tool_calls: Option<Vec<WireToolCall>>,
}

impl ChoiceMessage {
    /// The content as text: a string, or text parts joined. `Err` names an unknown part type.
    pub fn content_text(&self) -> Result<Option<String>, String> {
        match &self.content {
            None => Ok(None),
            Some(v) => content_value_text(v),
        }
    }

    /// The reasoning text under whichever name the server used.
    pub fn reasoning_text(&self) -> Option<&str> {
        self.reasoning_content.as_deref().filter(|s| !s.is_empty()).or(self.reasoning.as_deref())
    }
}

/// A message's `content` value as text: a string, or text parts joined; `None` for null. `Err`
/// names an unknown part type.
pub fn content_value_text(content: &Value) -> Result<Option<String>, String> {
    match content {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s.clone())),
        Value::Array(parts) => {
            let mut text = String::new();
            for part in parts {
                match (part.get("type").and_then(Value::as_str), part.get("text")) {
                    (Some("text"), Some(Value::String(t))) => text.push_str(t),
                    (kind, _) => {
                        return Err(format!(
                            "unsupported content part type {:?} in upstream message",
                            kind.unwrap_or("")
                        ));
                    }
                }
            }
            Ok(Some(text))
        }
        other => Err(format!("content is neither a string nor parts: {other}")),
    }
}

/// A tool call in a message, or a piece of one in a chunk delta.
#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct WireToolCall {
    pub index: Option<u64>,
    pub id: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub function: Option<WireFunction>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct WireFunction {
    pub name: Option<String>,
    pub arguments: Option<String>,
}

/// A streamed `chat.completion.chunk`.
#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct Chunk {
    pub id: Option<String>,
    pub model: Option<String>,
    pub choices: Vec<ChunkChoice>,
    pub usage: Option<WireUsage>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct ChunkChoice {
    pub index: Option<u64>,
    pub delta: Option<ChoiceMessage>,
    pub finish_reason: Option<String>,
}

/// `usage` as OpenAI and the compatible servers report it.
#[derive(Debug, Deserialize, Default, Clone)]
#[serde(default)]
pub struct WireUsage {
    pub prompt_tokens: Option<u64>,
    pub completion_tokens: Option<u64>,
    pub prompt_tokens_details: Option<PromptDetails>,
    pub completion_tokens_details: Option<CompletionDetails>,
    /// DeepSeek's name for cached prompt tokens.
    pub prompt_cache_hit_tokens: Option<u64>,
}

#[derive(Debug, Deserialize, Default, Clone)]
#[serde(default)]
pub struct PromptDetails {
    pub cached_tokens: Option<u64>,
    /// Prompt tokens written to the cache (the openai SDK's `cache_write_tokens`).
    pub cache_write_tokens: Option<u64>,
}

#[derive(Debug, Deserialize, Default, Clone)]
#[serde(default)]
pub struct CompletionDetails {
    pub reasoning_tokens: Option<u64>,
}

impl WireUsage {
    /// Converts to IR usage: OpenAI's `prompt_tokens` includes cached tokens; the IR's
    /// `input_tokens` does not.
    pub fn to_ir(&self) -> Usage {
        let prompt = self.prompt_tokens.unwrap_or(0);
        let details = self.prompt_tokens_details.as_ref();
        let cached = details.and_then(|d| d.cached_tokens).or(self.prompt_cache_hit_tokens).unwrap_or(0);
        let written = details.and_then(|d| d.cache_write_tokens).unwrap_or(0);
        Usage {
            input_tokens: prompt.saturating_sub(cached).saturating_sub(written),
            output_tokens: self.completion_tokens.unwrap_or(0),
            cache_read_tokens: cached,
            cache_write_tokens: written,
            reasoning_tokens: self.completion_tokens_details.as_ref().and_then(|d| d.reasoning_tokens).unwrap_or(0),
        }
    }
}

/// OpenAI's `usage` object as amux writes it, in an answer and in a stream's usage chunk (keys in
/// sorted order, as a `Value` wrote them).
#[derive(Serialize)]
pub struct OutUsage {
    completion_tokens: u64,
    completion_tokens_details: OutReasoningDetails,
    prompt_tokens: u64,
    prompt_tokens_details: OutPromptDetails,
    total_tokens: u64,
}

#[derive(Serialize)]
struct OutReasoningDetails {
    reasoning_tokens: u64,
}

#[derive(Serialize)]
struct OutPromptDetails {
    cache_write_tokens: u64,
    cached_tokens: u64,
}

impl OutUsage {
    pub fn from_ir(u: &Usage) -> OutUsage {
        OutUsage {
            completion_tokens: u.output_tokens,
            completion_tokens_details: OutReasoningDetails { reasoning_tokens: u.reasoning_tokens },
            prompt_tokens: u.total_input(),
            prompt_tokens_details: OutPromptDetails {
                cache_write_tokens: u.cache_write_tokens,
                cached_tokens: u.cache_read_tokens,
            },
            total_tokens: u.total_input() + u.output_tokens,
        }
    }
}

/// Upstream `finish_reason` -> IR stop reason. Unknown non-null values (some servers send
/// `eos` or `end_turn`) count as a normal end of turn.
pub fn stop_reason(finish: &str) -> StopReason {
    match finish {
        "length" => StopReason::MaxTokens,
        "tool_calls" | "function_call" => StopReason::ToolUse,
        "content_filter" => StopReason::ContentFilter,
        _ => StopReason::EndTurn,
    }
}

/// IR stop reason -> OpenAI `finish_reason`.
pub fn finish_reason(stop: StopReason) -> &'static str {
    match stop {
        StopReason::EndTurn | StopReason::StopSequence | StopReason::PauseTurn => "stop",
        StopReason::MaxTokens | StopReason::ContextWindowExceeded => "length",
        StopReason::ToolUse => "tool_calls",
        StopReason::Refusal | StopReason::ContentFilter => "content_filter",
    }
}

/// A fresh tool-call id for upstreams that send none (or a duplicate).
pub fn generated_call_id() -> String {
    let tail: String = std::iter::repeat_with(fastrand::alphanumeric).take(24).collect();
    format!("call_{tail}")
}

/// Splits `data:<media type>;base64,<data>`; `None` when `url` is not a base64 data URL.
pub fn parse_data_url(url: &str) -> Option<(&str, &str)> {
    let rest = url.strip_prefix("data:")?;
    let (meta, data) = rest.split_once(',')?;
    let media_type = meta.strip_suffix(";base64")?;
    Some((media_type, data))
}

/// Builds `data:<media type>;base64,<data>`.
pub fn data_url(media_type: &str, data: &str) -> String {
    format!("data:{media_type};base64,{data}")
}

/// Seconds since the Unix epoch (OpenAI's `created`).
pub fn now_secs() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_urls_round_trip() {
        let url = data_url("image/png", "iVBORw0KGgo=");
        assert_eq!(parse_data_url(&url), Some(("image/png", "iVBORw0KGgo=")));
        assert_eq!(parse_data_url("data:text/plain,hello"), None);
        assert_eq!(parse_data_url("https://example.com/a.png"), None);
    }

    #[test]
    fn usage_subtracts_cached_and_reads_deepseek() {
        let u: WireUsage = serde_json::from_str(
            r#"{"prompt_tokens":100,"completion_tokens":20,
                "prompt_tokens_details":{"cached_tokens":60},
                "completion_tokens_details":{"reasoning_tokens":5}}"#,
        )
        .unwrap();
        assert_eq!(
            u.to_ir(),
            Usage {
                input_tokens: 40,
                output_tokens: 20,
                cache_read_tokens: 60,
                cache_write_tokens: 0,
                reasoning_tokens: 5
            }
        );
        let d: WireUsage = serde_json::from_str(r#"{"prompt_tokens":10,"prompt_cache_hit_tokens":4}"#).unwrap();
        assert_eq!(d.to_ir().cache_read_tokens, 4);
        assert_eq!(d.to_ir().input_tokens, 6);
    }

    #[test]
    fn generated_ids_are_distinct() {
        let a = generated_call_id();
        assert!(a.starts_with("call_") && a.len() == 29);
        assert_ne!(a, generated_call_id());
    }
}

//! The canonical non-streaming response.

use serde::{Deserialize, Serialize};

use super::{Block, Usage};

/// A complete model answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Response {
    pub id: String,
    /// The model as the upstream named it.
    pub model: String,
    /// Assistant content: text, thinking, redacted thinking and tool_use blocks.
    pub content: Vec<Block>,
    pub stop_reason: Option<StopReason>,
    /// The stop sequence that matched, when `stop_reason` is `StopSequence`.
    pub stop_sequence: Option<String>,
    pub usage: Usage,
}

/// Why generation stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum StopReason {
    EndTurn,
    MaxTokens,
    StopSequence,
    ToolUse,
    /// The model declined (Anthropic `refusal`).
    Refusal,
    /// A server tool loop paused (Anthropic `pause_turn`).
    PauseTurn,
    /// Output filtered (OpenAI `content_filter`).
    ContentFilter,
    /// The prompt plus output exceeded the context window mid-generation.
    ContextWindowExceeded,
}

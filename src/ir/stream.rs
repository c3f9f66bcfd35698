//! The canonical stream: message start, explicitly opened and closed blocks, deltas, the final
//! stop reason with usage, and errors.
//!
//! Invariants every decoder upholds and every encoder may rely on: `MessageStart` comes first;
//! blocks are indexed 0..n in order, each opened by `BlockStart` before its deltas and closed by
//! `BlockStop`, at most one open at a time; deltas match their block's kind; `MessageDelta` comes
//! after the last block is closed, then `MessageStop`. `Error` may come at any point and ends the
//! stream.

use super::{ApiError, StopReason, Usage};

#[derive(Debug, Clone, PartialEq)]
pub enum StreamEvent {
    MessageStart {
        id: String,
        model: String,
        /// Usage known at the start (Anthropic reports input tokens here).
        usage: Usage,
    },
    BlockStart {
        index: usize,
        block: BlockStart,
    },
    BlockDelta {
        index: usize,
        delta: BlockDelta,
    },
    BlockStop {
        index: usize,
    },
    /// Final stop reason and cumulative usage.
    MessageDelta {
        stop_reason: Option<StopReason>,
        stop_sequence: Option<String>,
        usage: Usage,
    },
    MessageStop,
    /// Keep-alive.
    Ping,
    /// An error after the stream began; nothing follows it.
    Error(ApiError),
}

#[derive(Debug, Clone, PartialEq)]
pub enum BlockStart {
    Text,
    Thinking,
    RedactedThinking { data: String },
    ToolUse { id: String, name: String },
}

#[derive(Debug, Clone, PartialEq)]
pub enum BlockDelta {
    Text(String),
    Thinking(String),
    Signature(String),
    /// A piece of a tool call's JSON arguments.
    InputJson(String),
}

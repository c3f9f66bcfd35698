//! The canonical intermediate representation every dialect translates to and from.
//!
//! It is a content-block model (a superset of the Anthropic Messages and OpenAI Chat shapes):
//! requests are messages of [`Block`]s, responses are blocks plus a stop reason and [`Usage`], and
//! streams are a sequence of [`StreamEvent`]s with explicit block boundaries. The same-dialect path
//! never goes through the IR; only cross-dialect translation does.

mod error;
mod request;
mod response;
mod schema;
mod stream;
mod usage;

pub use error::{ApiError, ErrorKind, looks_like_context_overflow};
pub use request::{
    Block, CacheControl, HostedKind, HostedTool, MediaSource, Message, Reasoning, ReasoningEffort, Request,
    ResponseFormat, Role, SystemBlock, Tool, ToolChoice,
};
pub use response::{Response, StopReason};
pub use schema::Schema;
pub use stream::{BlockDelta, BlockStart, StreamEvent, check_order};
pub use usage::Usage;

/// A wire format spoken by a caller (surface) or an upstream (provider).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dialect {
    /// Anthropic Messages (`/v1/messages`).
    Anthropic,
    /// OpenAI Chat Completions (`/v1/chat/completions`), also every OpenAI-compatible API.
    OpenAiChat,
    /// OpenAI Responses (`/v1/responses`), what Codex speaks.
    OpenAiResponses,
    /// Gemini `generateContent` (`/v1beta/models/{model}:generateContent`), what Gemini CLI speaks.
    Gemini,
}

impl Dialect {
    /// Every dialect.
    pub const ALL: [Dialect; 4] = [Dialect::Anthropic, Dialect::OpenAiChat, Dialect::OpenAiResponses, Dialect::Gemini];

    /// Low-cardinality label for logs and metrics.
    pub fn label(self) -> &'static str {
        match self {
            Dialect::Anthropic => "anthropic",
            Dialect::OpenAiChat => "openai_chat",
            Dialect::OpenAiResponses => "openai_responses",
            Dialect::Gemini => "gemini",
        }
    }
}

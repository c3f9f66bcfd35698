//! OpenAI Chat Completions dialect, for OpenAI callers and every OpenAI-compatible upstream
//! (OpenAI, Groq, Mistral, DeepSeek, OpenRouter, Ollama, vLLM...).
//!
//! - `wire`: the upstream wire types and shared helpers (usage, finish reasons, data URLs);
//!   `wire_stream`: a stream chunk read straight from its text, borrowing its strings;
//! - `request_decode` (+ `request_messages`, and `request_fast`, its one-pass path for ordinary
//!   bodies) / `request_encode` (+ `request_wire`): caller body -> IR, IR -> upstream body;
//! - `response`: non-streaming completions both ways (`response_fast`: an upstream's completion
//!   read in one pass);
//! - `stream_decode` / `stream_encode`: SSE chunks both ways;
//! - `error`: error bodies both ways.
//!
//! The translation rules are those of `notes/mapping.md` (OpenAI sections); each file documents
//! what it drops on purpose.

pub(crate) mod error;
mod request_decode;
mod request_encode;
mod request_fast;
mod request_messages;
mod request_wire;
mod response;
mod response_fast;
mod stream_decode;
mod stream_encode;
mod wire;
mod wire_stream;

#[cfg(test)]
mod tests;

pub use error::{decode_error, encode_error};
pub use request_decode::decode_request;
pub use request_encode::encode_request;
pub(crate) use request_fast::decode_fast as decode_request_fast;
#[doc(hidden)]
pub use request_fast::reader_agrees as fast_request_reader_agrees;
pub use response::{decode_response, encode_response};
pub use stream_decode::StreamDecoder;
pub use stream_encode::StreamEncoder;

/// For the fuzz target: whether an upstream completion decoded with the one-pass reader first is
/// what the derived code alone gives, errors included.
#[doc(hidden)]
pub fn response_reader_agrees(body: &[u8]) -> bool {
    super::response_reader_agrees(|reader| response::decode_response_by(body, reader))
}

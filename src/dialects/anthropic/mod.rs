//! The Anthropic Messages dialect (`/v1/messages`): request, response, stream and error codecs
//! following the contract in [`crate::dialects`] and the rules in the translation notes.
//!
//! Files: `wire` / `wire_stream` (serde wire types), `request_decode` (caller body -> IR, every field the IR cannot hold recorded by path; `request_fast` is its one-pass path for ordinary bodies), `request_encode` (IR -> upstream body), `response` (Message both
//! ways, stop reasons, usage; `response_fast` reads an upstream's Message in one pass), `stream_decode` / `stream_encode` (SSE both ways), `error`.

mod error;
mod request_decode;
mod request_encode;
mod request_fast;
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
pub use request_encode::{DEFAULT_MAX_TOKENS, encode_request};
pub(crate) use request_fast::decode_fast as decode_request_fast;
pub use request_fast::reader_agrees as fast_request_reader_agrees;
pub use response::{decode_response, encode_response};
pub use stream_decode::StreamDecoder;
pub use stream_encode::StreamEncoder;

/// For the fuzz target: whether an upstream Message decoded with the one-pass reader first is
/// what the derived code alone gives, errors included.
#[doc(hidden)]
pub fn response_reader_agrees(body: &[u8]) -> bool {
    super::response_reader_agrees(|reader| response::decode_response_by(body, reader))
}

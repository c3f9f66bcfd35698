//! Gemini `generateContent` dialect (`/v1beta/models/{model}:generateContent` and
//! `:streamGenerateContent?alt=sse`), what Gemini CLI and the google-genai SDKs speak.
//!
//! - `wire`: field lookup under both spellings, finish reasons, usage, ids;
//! - `schema`: Gemini's OpenAPI-subset `Schema` -> JSON Schema;
//! - `request_decode` (+ `request_contents`) / `request_encode`: caller body -> IR, IR ->
//!   upstream body;
//! - `parts`: IR assistant blocks -> model parts, with thought-signature placement;
//! - `response`: non-streaming answers both ways;
//! - `stream_decode` / `stream_encode`: SSE chunks both ways;
//! - `error`: Google API error bodies both ways.
//!
//! The translation rules are those of `notes/mapping3.md` (gemini section); each file documents
//! what it drops on purpose.

mod error;
mod parts;
mod request_contents;
mod request_decode;
mod request_encode;
mod response;
mod schema;
mod signature;
mod stream_decode;
mod stream_encode;
mod wire;

#[cfg(test)]
mod tests;

pub use error::{decode_error, encode_error};
pub use request_decode::decode_request;
pub use request_encode::encode_request;
pub use response::{decode_response, encode_response};
pub use stream_decode::StreamDecoder;
pub use stream_encode::StreamEncoder;

//! Amazon Bedrock Converse dialect (`POST /model/{modelId}/converse` and `/converse-stream`),
//! what boto3's `bedrock-runtime` client and the AWS SDKs speak for every model family.
//!
//! - `wire`: getters, stop reasons, usage, image formats, base64 blobs;
//! - `content_decode` / `content_encode`: content blocks (with `cachePoint` <-> cache hints)
//!   both ways;
//! - `request_decode` / `request_encode`: caller body -> IR, IR -> upstream body (model fields
//!   spelled per model family);
//! - `response`: non-streaming answers both ways;
//! - `stream_decode` / `stream_encode`: Converse events in AWS event-stream frames
//!   ([`crate::eventstream`]) both ways; the stream decoder is fed decoded messages, not SSE;
//! - `error`: error bodies with `x-amzn-ErrorType`, and stream exceptions, both ways.
//!
//! The model id and the stream flag are in the URL, never in the body.

mod content_decode;
mod content_encode;
mod error;
mod request_decode;
mod request_encode;
mod response;
mod stream_decode;
mod stream_encode;
mod wire;

#[cfg(test)]
mod tests;

pub use error::{
    ERROR_TYPE_HEADER, decode_error, decode_exception, decode_typed, encode_error, error_type, exception_payload,
    exception_type,
};
pub use request_decode::decode_request;
pub use request_encode::encode_request;
pub use response::{decode_response, encode_response};
pub use stream_decode::StreamDecoder;
pub use stream_encode::StreamEncoder;
pub use wire::{is_claude, is_gpt_oss, is_nova};

//! Wire formats. One module per dialect; each is pure (no I/O) and exposes the same surface:
//!
//! ```text
//! decode_request(body: &[u8]) -> Result<ir::Request, ApiError>          caller body -> IR
//! encode_request(req: &ir::Request, model: &str) -> Result<Vec<u8>, ApiError>
//!                                                                       IR -> upstream body
//! decode_response(body: &[u8]) -> Result<ir::Response, ApiError>        upstream body -> IR
//! encode_response(resp: &ir::Response) -> Vec<u8>                       IR -> caller body
//! decode_error(status: u16, body: &[u8]) -> ApiError                    upstream error -> IR
//! encode_error(err: &ApiError) -> Vec<u8>                               IR -> caller error body
//! StreamDecoder::new(), ::feed(&SseEvent, &mut Vec<StreamEvent>), ::finish(&mut Vec<StreamEvent>)
//!                                                                       upstream SSE -> IR events
//!     (bedrock_converse: ::feed(&eventstream::Message, ..), its streams being event-stream frames)
//! StreamEncoder::new(&ir::Request), ::encode(&StreamEvent, &mut BytesMut)
//!                                                                       IR events -> caller SSE
//!                                                                       (or event-stream frames)
//! ```
//!
//! `encode_request` refuses (400 naming the field) whatever the target cannot express, including
//! every entry of `Request::unsupported`. Stream decoders uphold the invariants documented in
//! [`crate::ir::StreamEvent`]; they end a truncated stream with `StreamEvent::Error`.
//! [`crate::translate`] dispatches over [`crate::ir::Dialect`].

use serde_json::Value;

pub mod anthropic;
pub mod bedrock_converse;
pub mod gemini;
pub mod openai_chat;
pub mod openai_responses;

/// The compact JSON text of `v` ([`crate::jsonwrite`]). `Value`'s `Display` writes through `fmt`
/// and checks every fragment's UTF-8 again; this writes straight into the buffer. Serializing a
/// `Value` cannot fail: its keys are strings and its numbers finite.
pub fn json_bytes(v: &Value) -> Vec<u8> {
    crate::jsonwrite::to_vec(v).unwrap_or_default()
}

/// [`json_bytes`] as a `String`.
pub fn json_text(v: &Value) -> String {
    String::from_utf8(json_bytes(v)).unwrap_or_default()
}

/// True for values that mean "not set": null, false, "", [], {} and `{"enabled": false}`.
pub fn is_default(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty() || (o.len() == 1 && o.get("enabled") == Some(&Value::Bool(false))),
        Value::Number(_) => false,
    }
}

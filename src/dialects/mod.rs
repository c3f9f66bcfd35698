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

/// The wire body of a request fast path (`request_fast` in the Anthropic and OpenAI Chat
/// dialects), read by its hand `reader`, and where that steps aside by serde's derived code; with
/// `only`, one way alone (the tests and fuzz targets hold the two to the same answers).
pub(crate) fn fast_wire<'a, W: serde::Deserialize<'a>>(
    body: &'a [u8],
    reader: fn(&'a str) -> Option<W>,
    only: Option<bool>,
) -> Option<W> {
    // One UTF-8 check of the whole body (16 bytes a step when it is ASCII) instead of one per string.
    let text = crate::bytescan::text(body).ok()?;
    match only {
        None => reader(text).or_else(|| serde_json::from_str(text).ok()),
        Some(true) => reader(text),
        Some(false) => serde_json::from_str(text).ok(),
    }
}

/// Whether a hand reader, wherever it reads a body (`read(true)`), reads what the derived code
/// reads (`read(false)`).
pub(crate) fn reader_agrees<T: PartialEq>(read: impl Fn(bool) -> Option<T>) -> bool {
    read(true).is_none_or(|r| Some(r) == read(false))
}

/// Whether an upstream answer decoded with a dialect's one-pass reader first (`decode_by(true)`)
/// is what its derived code alone gives (`decode_by(false)`), errors included. A tool call
/// without an id gets a random one: both readings start from the same seed.
pub(crate) fn response_reader_agrees<T: PartialEq>(decode_by: impl Fn(bool) -> T) -> bool {
    fastrand::seed(7);
    let fast = decode_by(true);
    fastrand::seed(7);
    fast == decode_by(false)
}

/// For the fast paths' tests: each text and `n` seeded mutations of it read both ways by
/// `decode_by` (reader, derived code); asserts they agree wherever the reader reads, and returns
/// how many the reader read and how many the derived code read.
#[cfg(test)]
pub(crate) fn reader_agreement<T: PartialEq + std::fmt::Debug>(
    texts: &[String],
    (n, seed): (usize, u64),
    decode_by: impl Fn(&[u8], bool) -> Option<T>,
) -> (usize, usize) {
    let (mut both, mut total) = (0, 0);
    for (i, text) in texts.iter().enumerate() {
        let mut all = crate::jsonscan::mutations(text.as_bytes(), n, seed + i as u64);
        all.push(text.clone().into_bytes());
        for b in &all {
            let (read, serde) = (decode_by(b, true), decode_by(b, false));
            if let Some(read) = read {
                assert_eq!(Some(read), serde, "{}", String::from_utf8_lossy(b));
                both += 1;
            }
            total += usize::from(serde.is_some());
        }
    }
    (both, total)
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

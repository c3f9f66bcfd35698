//! Claude on Bedrock by InvokeModel, the same-dialect path of Anthropic callers: the caller's
//! Messages body becomes Bedrock's, and Bedrock's response stream becomes Messages SSE. Pure.
//!
//! Request: `model` and `stream` are removed (the model is in the path, the stream flag is the
//! operation), `anthropic_version: bedrock-2023-05-31` is added, and the caller's
//! `anthropic-beta` header goes into `anthropic_beta`, keeping only the betas Bedrock takes
//! ([`BEDROCK_BETAS`]); every other top-level value is copied byte for byte.
//!
//! Response stream: `chunk` frames carry `{"bytes": base64(event JSON)}`; each becomes
//! `event: <type>` / `data: <the JSON as Bedrock sent it>`. An exception frame becomes an Anthropic
//! `error` event, and a frame that fails its checks ends the stream with one.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::{Bytes, BytesMut};
use http::HeaderMap;
use serde::Deserialize;
use serde_json::Value;

use crate::dialects::bedrock_converse;
use crate::eventstream::{self, Kind};
use crate::gateway::splice::TopLevel;
use crate::ir::{ApiError, ErrorKind};
use crate::sse::write_event;

/// The InvokeModel version string of Anthropic bodies.
pub const ANTHROPIC_VERSION: &str = "bedrock-2023-05-31";

/// Betas Claude on Bedrock takes (from AWS's Claude Messages API page); others are left out.
pub const BEDROCK_BETAS: &[&str] = &[
    "computer-use-2024-10-22",
    "computer-use-2025-01-24",
    "token-efficient-tools-2025-02-19",
    "interleaved-thinking-2025-05-14",
    "output-128k-2025-02-19",
    "dev-full-thinking-2025-05-14",
    "context-1m-2025-08-07",
    "context-management-2025-06-27",
    "effort-2025-11-24",
    "tool-search-tool-2025-10-19",
    "tool-examples-2025-10-29",
];

/// The InvokeModel body for a Messages body, and the betas left out.
pub fn invoke_body(
    top: &TopLevel<'_>,
    headers: &HeaderMap,
    params: &serde_json::Map<String, Value>,
) -> Result<(Vec<u8>, Vec<String>), ApiError> {
    let mut betas: Vec<String> = headers
        .get_all("anthropic-beta")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|b| b.trim().to_string())
        .filter(|b| !b.is_empty())
        .collect();
    betas.extend(top.strings("anthropic_beta")?.unwrap_or_default());
    let (kept, dropped): (Vec<String>, Vec<String>) =
        betas.into_iter().partition(|b| BEDROCK_BETAS.contains(&b.as_str()));
    let version = Value::String(ANTHROPIC_VERSION.into()).to_string();
    let kept = (!kept.is_empty()).then(|| Value::from(kept).to_string());
    let params: Vec<(&str, String)> = params.iter().map(|(k, v)| (k.as_str(), v.to_string())).collect();
    let mut last: Vec<(&str, &[u8])> = kept.iter().map(|k| ("anthropic_beta", k.as_bytes())).collect();
    last.extend(params.iter().map(|(k, v)| (*k, v.as_bytes())));
    let skip = |key: &str| {
        matches!(key, "model" | "stream" | "anthropic_version" | "anthropic_beta")
            || params.iter().any(|(k, _)| *k == key)
    };
    let out = top.rebuild(&[("anthropic_version", version.as_bytes())], |k| !skip(k), &last);
    Ok((out, dropped))
}

/// The value of a JSON object's first member when the object starts with `prefix` (`{"name":"`)
/// and the string has no escapes: how Bedrock writes a chunk (`{"bytes":"<base64>",...}`) and
/// Anthropic an event (`{"type":"<name>",...}`). `None` sends the caller to a full JSON parse.
fn leading_string<'a>(json: &'a [u8], prefix: &[u8]) -> Option<&'a [u8]> {
    let rest = json.strip_prefix(prefix)?;
    let end = memchr::memchr2(b'"', b'\\', rest)?;
    (rest[end] == b'"').then_some(&rest[..end])
}

#[derive(Deserialize)]
struct Chunk {
    bytes: String,
}

#[derive(Deserialize)]
struct EventType {
    #[serde(rename = "type")]
    kind: String,
}

/// InvokeModelWithResponseStream frames -> Messages SSE, incrementally.
#[derive(Default)]
pub struct InvokeStream {
    frames: eventstream::Decoder,
    messages: Vec<eventstream::Message>,
    done: bool,
}

impl InvokeStream {
    /// Feeds frame bytes; returns the SSE they complete.
    pub fn feed(&mut self, chunk: &[u8]) -> Bytes {
        if self.done {
            return Bytes::new();
        }
        let result = self.frames.feed(chunk, &mut self.messages);
        let mut out = BytesMut::new();
        for m in std::mem::take(&mut self.messages) {
            if let Err(e) = self.message(&m, &mut out) {
                self.error(&e, &mut out);
                return out.freeze();
            }
        }
        if let Err(e) = result {
            let err =
                ApiError::new(ErrorKind::BadGateway, format!("upstream stream is not valid event-stream framing: {e}"));
            self.error(&err, &mut out);
        }
        out.freeze()
    }

    /// Ends the stream; an unfinished frame is an error event.
    pub fn finish(&mut self) -> Bytes {
        let mut out = BytesMut::new();
        if !self.done
            && let Err(e) = self.frames.finish()
        {
            let err = ApiError::new(ErrorKind::BadGateway, format!("upstream stream ended badly: {e}"));
            self.error(&err, &mut out);
        }
        out.freeze()
    }

    fn message(&mut self, m: &eventstream::Message, out: &mut BytesMut) -> Result<(), ApiError> {
        let bad = |what: String| ApiError::new(ErrorKind::BadGateway, what);
        match m.kind() {
            Kind::Event("chunk") => {
                let json = match leading_string(&m.payload, b"{\"bytes\":\"") {
                    Some(b64) => STANDARD.decode(b64),
                    None => {
                        let c: Chunk = serde_json::from_slice(&m.payload)
                            .map_err(|e| bad(format!("upstream chunk is not JSON: {e}")))?;
                        STANDARD.decode(c.bytes.trim())
                    }
                }
                .map_err(|e| bad(format!("upstream chunk bytes: {e}")))?;
                let text = String::from_utf8(json).map_err(|_| bad("upstream chunk is not UTF-8".into()))?;
                match leading_string(text.as_bytes(), b"{\"type\":\"").and_then(|t| std::str::from_utf8(t).ok()) {
                    Some(kind) => write_event(out, Some(kind), &text),
                    None => {
                        let ty: EventType =
                            serde_json::from_str(&text).map_err(|e| bad(format!("upstream event has no type: {e}")))?;
                        write_event(out, Some(&ty.kind), &text);
                    }
                }
                Ok(())
            }
            Kind::Event(_) => Ok(()),
            Kind::Exception(t) => Err(bedrock_converse::decode_exception(t, &m.payload)),
            Kind::Error(code) => Err(bad(format!("upstream stream error {code}"))),
        }
    }

    fn error(&mut self, err: &ApiError, out: &mut BytesMut) {
        self.done = true;
        out.extend_from_slice(&crate::translate::encode_stream_error(crate::ir::Dialect::Anthropic, err.clone()));
    }
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;

    use super::*;
    use crate::eventstream::Message;

    #[test]
    fn body_for_bedrock_keeps_values_and_filters_betas() {
        let body = br#"{"model":"claude-x","stream":true,"max_tokens":9,"messages":[{"role":"user","content":[{"type":"thinking","thinking":"t","signature":"EqQB\u00e9=="}]}]}"#;
        let top = TopLevel::parse(body).unwrap();
        let mut h = HeaderMap::new();
        h.insert("anthropic-beta", HeaderValue::from_static("claude-code-20250219,interleaved-thinking-2025-05-14"));
        let (out, dropped) = invoke_body(&top, &h, &serde_json::Map::new()).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"{"anthropic_version":"bedrock-2023-05-31","max_tokens":9,"messages":[{"role":"user","content":[{"type":"thinking","thinking":"t","signature":"EqQB\u00e9=="}]}],"anthropic_beta":["interleaved-thinking-2025-05-14"]}"#
        );
        assert_eq!(dropped, ["claude-code-20250219"]);
    }

    #[test]
    fn leading_strings_are_read_only_when_plain() {
        assert_eq!(leading_string(br#"{"bytes":"eyJ0=","p":"x"}"#, br#"{"bytes":""#), Some(&b"eyJ0="[..]));
        assert_eq!(leading_string(br#"{"bytes":"a\/b"}"#, br#"{"bytes":""#), None);
        assert_eq!(leading_string(br#"{"p":"x","bytes":"eyJ0="}"#, br#"{"bytes":""#), None);
        assert_eq!(leading_string(br#"{"bytes":"unterminated"#, br#"{"bytes":""#), None);
        // Either way the same SSE comes out.
        let ev = r#"{"type":"ping"}"#;
        let b64 = STANDARD.encode(ev);
        for payload in [format!(r#"{{"bytes":"{b64}"}}"#), format!(r#"{{"p":"abc","bytes":"{b64}"}}"#)] {
            let frame = eventstream::to_bytes(&Message::event("chunk", payload)).unwrap();
            assert_eq!(InvokeStream::default().feed(&frame), "event: ping\ndata: {\"type\":\"ping\"}\n\n");
        }
    }

    #[test]
    fn chunk_frames_become_sse_and_exceptions_errors() {
        let ev = r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi"}}"#;
        let mut wire = BytesMut::new();
        let payload = serde_json::json!({"bytes": STANDARD.encode(ev), "p": "abc"}).to_string();
        eventstream::encode(&Message::event("chunk", payload), &mut wire).unwrap();
        eventstream::encode(&Message::exception("throttlingException", r#"{"message":"slow"}"#), &mut wire).unwrap();
        let mut s = InvokeStream::default();
        let mut out = s.feed(&wire[..7]).to_vec();
        out.extend_from_slice(&s.feed(&wire[7..]));
        out.extend_from_slice(&s.finish());
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with(&format!("event: content_block_delta\ndata: {ev}\n\n")), "{text}");
        assert!(text.contains("event: error") && text.contains("rate_limit_error") && text.contains("slow"), "{text}");
        let mut t = InvokeStream::default();
        t.feed(&wire[..20]);
        assert!(String::from_utf8(t.finish().to_vec()).unwrap().contains("event: error"));
    }
}

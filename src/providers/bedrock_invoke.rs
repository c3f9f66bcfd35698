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
//! `error` event, and a frame that fails its checks ends the stream with one. Frames are read in
//! place and decoded into one reused buffer; each event is also handed to the caller as it is
//! written, so that usage is read from it without parsing the SSE again.

use base64_simd::AsOut;
use bytes::{Bytes, BytesMut};
use http::HeaderMap;
use serde::Deserialize;
use serde_json::Value;

use crate::dialects::{anthropic, bedrock_converse};
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

/// InvokeModelWithResponseStream frames -> Messages SSE, incrementally. Each event written is
/// also handed to the caller's `seen` (its name and JSON data), so that usage can be read from
/// it without parsing the SSE again.
pub struct InvokeStream {
    decoder: eventstream::Decoder,
    writer: Writer,
}

/// Writes the SSE of one frame at a time.
struct Writer {
    /// The current frame's base64-decoded event, at the front (kept for its size).
    json: Vec<u8>,
    /// `limits.max_stream_event_bytes`: a longer event ends the stream.
    max_event: usize,
    overflowed: bool,
    done: bool,
}

impl Default for InvokeStream {
    fn default() -> Self {
        InvokeStream::new(crate::sse::DEFAULT_MAX_EVENT)
    }
}

impl InvokeStream {
    /// A stream whose events may be at most `max_event` bytes of JSON.
    pub fn new(max_event: usize) -> Self {
        InvokeStream {
            decoder: eventstream::Decoder::default(),
            writer: Writer { json: Vec::new(), max_event, overflowed: false, done: false },
        }
    }

    /// An event passed `max_event`: nothing more is read, and the caller ends the stream with
    /// its own error (as when an SSE upstream's event is too long).
    pub fn overflowed(&self) -> bool {
        self.writer.overflowed
    }

    /// Feeds frame bytes; returns the SSE they complete, each event also given to `seen`.
    pub fn feed(&mut self, chunk: &[u8], mut seen: impl FnMut(&str, &str)) -> Bytes {
        let w = &mut self.writer;
        if w.done {
            return Bytes::new();
        }
        // The SSE is smaller than the frames it comes from (base64 is 4/3 of its bytes).
        let mut out = BytesMut::with_capacity(chunk.len());
        let result = self.decoder.feed_frames(chunk, |f| {
            if !w.done
                && let Err(e) = w.frame(&f, &mut out, &mut seen)
            {
                w.error(&e, &mut out, &mut seen);
            }
        });
        if let Err(e) = result
            && !w.done
        {
            let err =
                ApiError::new(ErrorKind::BadGateway, format!("upstream stream is not valid event-stream framing: {e}"));
            w.error(&err, &mut out, &mut seen);
        }
        out.freeze()
    }

    /// Ends the stream; an unfinished frame is an error event.
    pub fn finish(&mut self, mut seen: impl FnMut(&str, &str)) -> Bytes {
        let mut out = BytesMut::new();
        if !self.writer.done
            && let Err(e) = self.decoder.finish()
        {
            let err = ApiError::new(ErrorKind::BadGateway, format!("upstream stream ended badly: {e}"));
            self.writer.error(&err, &mut out, &mut seen);
        }
        out.freeze()
    }
}

impl Writer {
    fn frame(
        &mut self,
        f: &eventstream::Frame,
        out: &mut BytesMut,
        seen: &mut impl FnMut(&str, &str),
    ) -> Result<(), ApiError> {
        let bad = |what: String| ApiError::new(ErrorKind::BadGateway, what);
        if !f.is_event("chunk") {
            return match f.kind() {
                Kind::Event(_) => Ok(()),
                Kind::Exception(t) => Err(bedrock_converse::decode_exception(t, f.payload())),
                Kind::Error(code) => Err(bad(format!("upstream stream error {code}"))),
            };
        }
        let len = match leading_string(f.payload(), b"{\"bytes\":\"") {
            Some(b64) => self.decode(b64),
            None => {
                let c: Chunk =
                    serde_json::from_slice(f.payload()).map_err(|e| bad(format!("upstream chunk is not JSON: {e}")))?;
                self.decode(c.bytes.trim().as_bytes())
            }
        }
        .map_err(|e| bad(format!("upstream chunk bytes: {e}")))?;
        let Some(len) = len else {
            self.overflowed = true;
            self.done = true;
            return Ok(());
        };
        let text = std::str::from_utf8(&self.json[..len]).map_err(|_| bad("upstream chunk is not UTF-8".into()))?;
        const TYPE: &[u8] = b"{\"type\":\"";
        // The name sits between two ASCII quotes of `text`: slicing it there needs no UTF-8 check.
        match leading_string(text.as_bytes(), TYPE).and_then(|t| text.get(TYPE.len()..TYPE.len() + t.len())) {
            Some(kind) => {
                write_event(out, Some(kind), text);
                seen(kind, text);
            }
            None => {
                let ty: EventType =
                    serde_json::from_str(text).map_err(|e| bad(format!("upstream event has no type: {e}")))?;
                write_event(out, Some(&ty.kind), text);
                seen(&ty.kind, text);
            }
        }
        Ok(())
    }

    /// Decodes base64 (strictly: padded, canonical) into the reused buffer, which only ever
    /// grows (so it is not zeroed again for every event); returns the decoded length, or `None`
    /// for an event longer than `max_event` (told from the base64 length, before any decoding
    /// or buffering). SIMD (`base64-simd`): the scalar `base64` decoder was a third of this
    /// path's time per event.
    fn decode(&mut self, b64: &[u8]) -> Result<Option<usize>, base64_simd::Error> {
        let engine = base64_simd::STANDARD;
        // At least the exact length (which `decode` asserts), and at most 2 more.
        let need = engine.estimated_decoded_length(b64.len());
        if need > self.max_event.saturating_add(2) {
            return Ok(None);
        }
        if self.json.len() < need {
            self.json.resize(need, 0);
        }
        let len = engine.decode(b64, self.json.as_mut_slice().as_out())?.len();
        Ok((len <= self.max_event).then_some(len))
    }

    /// Writes `err` as the stream's last event.
    fn error(&mut self, err: &ApiError, out: &mut BytesMut, seen: &mut impl FnMut(&str, &str)) {
        self.done = true;
        let data = anthropic::encode_error(err);
        let data = String::from_utf8_lossy(&data);
        write_event(out, Some("error"), &data);
        seen("error", &data);
    }
}

#[cfg(test)]
mod tests {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
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
            assert_eq!(InvokeStream::default().feed(&frame, |_, _| {}), "event: ping\ndata: {\"type\":\"ping\"}\n\n");
        }
    }

    /// Feeds `wire` in two pieces split at `at`; returns the SSE and the events seen.
    fn run(s: &mut InvokeStream, wire: &[u8], at: usize) -> (String, Vec<(String, String)>) {
        let mut seen = Vec::new();
        let mut see = |n: &str, d: &str| seen.push((n.to_string(), d.to_string()));
        let mut out = s.feed(&wire[..at], &mut see).to_vec();
        out.extend_from_slice(&s.feed(&wire[at..], &mut see));
        out.extend_from_slice(&s.finish(&mut see));
        (String::from_utf8(out).unwrap(), seen)
    }

    #[test]
    fn chunk_frames_become_sse_and_exceptions_errors() {
        let ev = r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi"}}"#;
        let mut wire = BytesMut::new();
        let payload = serde_json::json!({"bytes": STANDARD.encode(ev), "p": "abc"}).to_string();
        eventstream::encode(&Message::event("chunk", payload.clone()), &mut wire).unwrap();
        eventstream::encode(&Message::event("chunk", payload), &mut wire).unwrap();
        eventstream::encode(&Message::exception("throttlingException", r#"{"message":"slow"}"#), &mut wire).unwrap();
        eventstream::encode(&Message::event("chunk", r#"{"bytes":"e30="}"#), &mut wire).unwrap();
        let (text, seen) = run(&mut InvokeStream::default(), &wire, 7);
        let err = bedrock_converse::decode_exception("throttlingException", br#"{"message":"slow"}"#);
        let err_sse = crate::translate::encode_stream_error(crate::ir::Dialect::Anthropic, err);
        let delta = format!("event: content_block_delta\ndata: {ev}\n\n");
        // The error event is the one the Anthropic stream encoder writes, and nothing follows it.
        assert_eq!(text, format!("{delta}{delta}{}", String::from_utf8_lossy(&err_sse)));
        assert!(text.contains("rate_limit_error") && text.contains("slow"), "{text}");
        let names: Vec<&str> = seen.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["content_block_delta", "content_block_delta", "error"]);
        assert_eq!(seen[0].1, ev);
        assert!(err_sse.ends_with(format!("data: {}\n\n", seen[2].1).as_bytes()));
        let mut t = InvokeStream::default();
        let (cut, seen) = run(&mut t, &wire[..20], 10);
        assert!(cut.starts_with("event: error\n") && cut.contains("ended badly"), "{cut}");
        assert_eq!(seen.len(), 1);
    }

    #[test]
    fn corrupt_frames_and_odd_payloads_end_the_stream_with_an_error() {
        let good = eventstream::to_bytes(&Message::event(
            "chunk",
            format!(r#"{{"bytes":"{}"}}"#, STANDARD.encode("{\"type\":\"ping\"}")),
        ))
        .unwrap();
        let mut corrupt = good.to_vec();
        let n = corrupt.len();
        corrupt[n - 6] ^= 1;
        let mut wire = good.to_vec();
        wire.extend_from_slice(&corrupt);
        let (text, seen) = run(&mut InvokeStream::default(), &wire, wire.len());
        assert!(text.starts_with("event: ping\n") && text.contains("message CRC mismatch"), "{text}");
        assert_eq!(seen.last().unwrap().0, "error");
        for payload in [r#"{"bytes":"!!!"}"#, r#"not json"#, r#"{"bytes":"/w=="}"#, r#"{"bytes":"e30="}"#] {
            let frame = eventstream::to_bytes(&Message::event("chunk", payload)).unwrap();
            let (text, seen) = run(&mut InvokeStream::default(), &frame, 3);
            assert!(text.starts_with("event: error\n"), "{payload}: {text}");
            assert_eq!(seen.len(), 1, "{payload}");
        }
        // Other events are skipped; an unmodelled error ends the stream.
        let mut wire = eventstream::to_bytes(&Message::event("initial-response", "{}")).unwrap().to_vec();
        wire.extend_from_slice(
            &eventstream::to_bytes(&Message::new(
                &[(":message-type", "error"), (":error-code", "InternalFailure")],
                "",
            ))
            .unwrap(),
        );
        let (text, _) = run(&mut InvokeStream::default(), &wire, 1);
        assert!(text.starts_with("event: error\n") && text.contains("InternalFailure"), "{text}");
    }

    #[test]
    fn an_event_past_the_limit_stops_the_stream_for_the_caller_to_end() {
        let small = r#"{"type":"ping"}"#;
        let big = format!(r#"{{"type":"content_block_delta","pad":"{}"}}"#, "x".repeat(100));
        let mut wire = BytesMut::new();
        for ev in [small, &big, small] {
            let payload = format!(r#"{{"bytes":"{}"}}"#, STANDARD.encode(ev));
            eventstream::encode(&Message::event("chunk", payload), &mut wire).unwrap();
        }
        let mut s = InvokeStream::new(64);
        let (text, seen) = run(&mut s, &wire, wire.len());
        assert_eq!(text, format!("event: ping\ndata: {small}\n\n"));
        assert_eq!(seen.len(), 1);
        assert!(s.overflowed());
        assert!(s.feed(&wire, |_, _| {}).is_empty());
        // The bound is exact, whatever the base64 padding.
        for pad in 0..3 {
            let ev = format!("{big}{}", " ".repeat(pad));
            let frame =
                eventstream::to_bytes(&Message::event("chunk", format!(r#"{{"bytes":"{}"}}"#, STANDARD.encode(&ev))))
                    .unwrap();
            let mut at = InvokeStream::new(ev.len());
            assert_eq!(run(&mut at, &frame, 5).1.len(), 1, "pad {pad}");
            let mut under = InvokeStream::new(ev.len() - 1);
            assert!(run(&mut under, &frame, 5).0.is_empty() && under.overflowed(), "pad {pad}");
        }
    }
}

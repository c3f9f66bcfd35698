//! InvokeModel with an Anthropic body, as Bedrock takes it, turned into an Anthropic Messages call
//! and back.
//!
//! In: the body is the Messages body with `anthropic_version: bedrock-2023-05-31`, betas in
//! `anthropic_beta` (or the `anthropic-beta` header, as Claude Code sends them), no `model` and no
//! `stream`. The call amux makes of it has `anthropic_version` and `anthropic_beta` removed, the
//! betas in the `anthropic-beta` header, `model` from the path and `stream` from the operation;
//! every other top-level value is copied byte for byte (so the same-dialect path to an Anthropic
//! upstream still forwards signatures and unknown fields untouched).
//!
//! Out: a whole answer is the Messages JSON (what Bedrock returns too); a stream is the Messages
//! SSE re-framed as InvokeModelWithResponseStream frames (`:event-type: chunk`, payload
//! `{"bytes": base64(event JSON)}`), an `error` event an exception frame; an error before the
//! first byte is Bedrock's error shape (`{"message"}` with `x-amzn-ErrorType`). As Bedrock does,
//! the `message_stop` event carries `amazon-bedrock-invocationMetrics` (token counts from the
//! stream's usage, latencies measured here), which Bedrock clients read usage from.

use axum::body::Body;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;
use http::{HeaderMap, HeaderValue, Response, StatusCode, header};
use serde_json::{Value, json};

use crate::dialects::{anthropic, bedrock_converse};
use crate::eventstream::{self, Message};
use crate::gateway::event_usage;
use crate::gateway::splice::TopLevel;
use crate::ir::{ApiError, Dialect, Usage};
use crate::sse::{SseEvent, SseParser};

/// Largest error body read back to re-shape it.
const MAX_ERROR_BODY: usize = 1024 * 1024;

/// The Anthropic Messages body and headers for an InvokeModel body.
pub fn to_messages(
    body: &[u8],
    headers: &HeaderMap,
    model: &str,
    stream: Option<bool>,
) -> Result<(Vec<u8>, HeaderMap), ApiError> {
    let top = TopLevel::parse(body)?;
    let betas = top.strings("anthropic_beta")?.unwrap_or_default();
    let model = Value::String(model.to_string()).to_string();
    let mut last: Vec<(&str, &[u8])> = vec![("model", model.as_bytes())];
    if let Some(s) = stream {
        last.push(("stream", if s { b"true" } else { b"false" }));
    }
    let keep = |key: &str| match key {
        "anthropic_version" | "anthropic_beta" | "model" => false,
        "stream" => stream.is_none(),
        _ => true,
    };
    let out = top.rebuild(&[], keep, &last);
    let mut headers = headers.clone();
    if !betas.is_empty() {
        let mut all: Vec<String> =
            headers.get_all("anthropic-beta").iter().filter_map(|v| v.to_str().ok()).map(str::to_string).collect();
        all.extend(betas);
        let joined = all.join(",");
        let v = HeaderValue::from_str(&joined)
            .map_err(|_| ApiError::invalid_field("anthropic_beta", "contains characters a header cannot carry"))?;
        headers.insert("anthropic-beta", v);
    }
    // The caller's Bedrock credentials never go further; the gateway's own auth already ran.
    headers.remove(header::AUTHORIZATION);
    Ok((out, headers))
}

/// A Bedrock error response.
pub fn error_response(err: &ApiError) -> Response<Body> {
    crate::gateway::error_response(Dialect::BedrockConverse, err)
}

/// Re-shapes the Anthropic answer of an InvokeModel call for a Bedrock caller.
pub async fn from_messages(resp: Response<Body>, stream: bool) -> Response<Body> {
    let status = resp.status();
    if !status.is_success() {
        let (parts, body) = resp.into_parts();
        let bytes = axum::body::to_bytes(body, MAX_ERROR_BODY).await.unwrap_or_default();
        let mut err = anthropic::decode_error(status.as_u16(), &bytes);
        err.status = status.as_u16();
        let mut out = error_response(&err);
        for (k, v) in &parts.headers {
            if k == header::RETRY_AFTER || k.as_str().starts_with("x-amux-") {
                out.headers_mut().insert(k.clone(), v.clone());
            }
        }
        return out;
    }
    if !stream {
        return resp;
    }
    let (mut parts, body) = resp.into_parts();
    let mut reframer = Reframer::default();
    let frames = body.into_data_stream().map(move |chunk| {
        Ok::<Bytes, std::convert::Infallible>(match chunk {
            Ok(c) => reframer.feed(&c),
            Err(e) => {
                let err = ApiError::new(crate::ir::ErrorKind::BadGateway, format!("stream failed: {e}"));
                reframer.exception(&err)
            }
        })
    });
    parts.headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(eventstream::CONTENT_TYPE));
    parts.headers.insert("x-amzn-bedrock-content-type", HeaderValue::from_static("application/json"));
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.status = StatusCode::OK;
    Response::from_parts(parts, Body::from_stream(frames))
}

/// Anthropic SSE -> InvokeModelWithResponseStream frames, incrementally.
pub struct Reframer {
    parser: SseParser,
    events: Vec<SseEvent>,
    done: bool,
    started: std::time::Instant,
    first_byte: Option<std::time::Duration>,
    /// Usage seen in the stream (`message_start`'s, then `message_delta`'s).
    usage: Usage,
}

impl Default for Reframer {
    fn default() -> Self {
        Reframer {
            parser: SseParser::default(),
            events: Vec::new(),
            done: false,
            started: std::time::Instant::now(),
            first_byte: None,
            usage: Usage::default(),
        }
    }
}

impl Reframer {
    /// Feeds SSE bytes; returns the frames of the events they complete.
    pub fn feed(&mut self, chunk: &[u8]) -> Bytes {
        self.parser.feed(chunk, &mut self.events);
        let mut out = BytesMut::new();
        for ev in std::mem::take(&mut self.events) {
            if self.done {
                break;
            }
            if ev.event.as_deref() == Some("error") || ev.data.starts_with("{\"type\":\"error\"") {
                let err = anthropic::decode_error(500, ev.data.as_bytes());
                out.extend_from_slice(&self.exception(&err));
                continue;
            }
            self.first_byte.get_or_insert_with(|| self.started.elapsed());
            let kind = ev.event.as_deref().unwrap_or_default();
            if matches!(kind, "message_start" | "message_delta")
                && let Some(u) = event_usage(Dialect::Anthropic, &ev.data)
            {
                self.usage.merge_max(&u);
            }
            let data = match kind {
                "message_stop" => self.with_metrics(&ev.data),
                _ => None,
            };
            let data = data.as_deref().unwrap_or(&ev.data);
            let payload = json!({"bytes": STANDARD.encode(data.as_bytes())}).to_string();
            let _ = eventstream::encode(&Message::event("chunk", payload), &mut out);
        }
        out.freeze()
    }

    /// `message_stop`'s JSON with Bedrock's `amazon-bedrock-invocationMetrics` added (unless the
    /// upstream, Bedrock itself, already put them there).
    fn with_metrics(&self, data: &str) -> Option<String> {
        let Ok(Value::Object(mut o)) = serde_json::from_str::<Value>(data) else { return None };
        if o.contains_key("amazon-bedrock-invocationMetrics") {
            return None;
        }
        let ms = |d: std::time::Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        let u = &self.usage;
        let mut m = json!({
            "inputTokenCount": u.input_tokens,
            "outputTokenCount": u.output_tokens,
            "invocationLatency": ms(self.started.elapsed()),
            "firstByteLatency": ms(self.first_byte.unwrap_or_default()),
        });
        if u.cache_read_tokens > 0 {
            m["cacheReadInputTokenCount"] = u.cache_read_tokens.into();
        }
        if u.cache_write_tokens > 0 {
            m["cacheWriteInputTokenCount"] = u.cache_write_tokens.into();
        }
        o.insert("amazon-bedrock-invocationMetrics".into(), m);
        Some(Value::Object(o).to_string())
    }

    /// An exception frame; nothing follows it.
    pub fn exception(&mut self, err: &ApiError) -> Bytes {
        if self.done {
            return Bytes::new();
        }
        self.done = true;
        let ty = bedrock_converse::exception_type(err);
        eventstream::to_bytes(&Message::exception(ty, bedrock_converse::exception_payload(err))).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_is_rewritten_keeping_every_other_value() {
        let body = br#"{"anthropic_version":"bedrock-2023-05-31", "anthropic_beta":["interleaved-thinking-2025-05-14"],"max_tokens":5,"messages":[{"role":"user","content":[{"type":"thinking","thinking":"t","signature":"EqQB\u00e9=="}]}],"x_unknown":{"a" : 1}}"#;
        let mut h = HeaderMap::new();
        h.insert("anthropic-beta", HeaderValue::from_static("context-1m-2025-08-07"));
        h.insert("authorization", HeaderValue::from_static("Bearer k"));
        let (out, headers) = to_messages(body, &h, "claude-sonnet-4-5", Some(true)).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"{"max_tokens":5,"messages":[{"role":"user","content":[{"type":"thinking","thinking":"t","signature":"EqQB\u00e9=="}]}],"x_unknown":{"a" : 1},"model":"claude-sonnet-4-5","stream":true}"#
        );
        assert_eq!(headers["anthropic-beta"], "context-1m-2025-08-07,interleaved-thinking-2025-05-14");
        assert!(headers.get("authorization").is_none());
        assert!(to_messages(br#"{"anthropic_beta":"x"}"#, &HeaderMap::new(), "m", None).is_err());
    }

    #[test]
    fn sse_becomes_chunk_frames_and_errors_exceptions() {
        let mut r = Reframer::default();
        let sse = b"event: message_start\ndata: {\"type\":\"message_start\"}\n\nevent: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n";
        let mut out = r.feed(&sse[..20]).to_vec();
        out.extend_from_slice(&r.feed(&sse[20..]));
        let mut d = eventstream::Decoder::default();
        let mut msgs = Vec::new();
        d.feed(&out, &mut msgs).unwrap();
        assert_eq!(msgs[0].kind(), eventstream::Kind::Event("chunk"));
        let payload: Value = serde_json::from_slice(&msgs[0].payload).unwrap();
        let inner = STANDARD.decode(payload["bytes"].as_str().unwrap()).unwrap();
        assert_eq!(inner, br#"{"type":"message_start"}"#);
        assert_eq!(msgs[1].kind(), eventstream::Kind::Exception("serviceUnavailableException"));
        assert_eq!(msgs.len(), 2);
    }

    #[test]
    fn message_stop_carries_invocation_metrics() {
        let mut r = Reframer::default();
        let sse = concat!(
            "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"usage\":{\"input_tokens\":30,\"output_tokens\":1,\"cache_read_input_tokens\":8}}}\n\n",
            "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":6}}\n\n",
            "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n",
        );
        let out = r.feed(sse.as_bytes());
        let mut msgs = Vec::new();
        eventstream::Decoder::default().feed(&out, &mut msgs).unwrap();
        let payload: Value = serde_json::from_slice(&msgs[2].payload).unwrap();
        let inner: Value =
            serde_json::from_slice(&STANDARD.decode(payload["bytes"].as_str().unwrap()).unwrap()).unwrap();
        let m = &inner["amazon-bedrock-invocationMetrics"];
        assert_eq!((m["inputTokenCount"].as_u64(), m["outputTokenCount"].as_u64()), (Some(30), Some(6)));
        assert_eq!(m["cacheReadInputTokenCount"], 8);
        assert!(m["invocationLatency"].is_u64() && m["firstByteLatency"].is_u64());
        assert_eq!(inner["type"], "message_stop");
    }
}

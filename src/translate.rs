//! Cross-dialect translation: dispatch over [`Dialect`] to the dialect codecs, and the stream
//! translator that turns upstream stream bytes into caller stream bytes event by event.
//!
//! Streams are framed per dialect: SSE for most, AWS event-stream frames for Bedrock
//! ([`Dialect::event_stream`]). The upstream side of the translator owns the framing parser of
//! its dialect ([`Decoder`]); encoders write their own framing, so the caller side needs nothing
//! more than the response's content type ([`stream_content_type`]).

use bytes::{Bytes, BytesMut};
use serde_json::{Map, Value};

use crate::dialects::{anthropic, bedrock_converse, gemini, openai_chat, openai_responses};
use crate::eventstream;
use crate::ir::{self, ApiError, Dialect, StreamEvent};
use crate::sse::{SseParser, SseRef};

/// Runs `$body` with `$m` bound to the dialect module of `$d`.
macro_rules! dispatch {
    ($d:expr, $m:ident => $body:expr) => {
        match $d {
            Dialect::Anthropic => {
                use anthropic as $m;
                $body
            }
            Dialect::OpenAiChat => {
                use openai_chat as $m;
                $body
            }
            Dialect::OpenAiResponses => {
                use openai_responses as $m;
                $body
            }
            Dialect::Gemini => {
                use gemini as $m;
                $body
            }
            Dialect::BedrockConverse => {
                use bedrock_converse as $m;
                $body
            }
        }
    };
}

/// Decodes a caller's request body, its untranslatable fields sorted by [`crate::policy`].
pub fn decode_request(dialect: Dialect, body: &[u8]) -> Result<ir::Request, ApiError> {
    let mut req = dispatch!(dialect, m => m::decode_request(body))?;
    crate::policy::sort(dialect, &mut req);
    Ok(req)
}

/// Whether [`decode_request_fast`] reads `dialect` (Anthropic, OpenAI Chat).
pub fn decodes_fast(dialect: Dialect) -> bool {
    matches!(dialect, Dialect::Anthropic | Dialect::OpenAiChat)
}

/// [`decode_request`] by the dialect's fast path alone (Anthropic and OpenAI Chat have one):
/// `None` for a body it does not take. The fast path reads closed types and refuses a repeated
/// member, so a body it takes is a JSON object whose members are each named once, as the
/// same-dialect scan (`gateway::splice::TopLevel`) requires.
pub fn decode_request_fast(dialect: Dialect, body: &[u8]) -> Option<ir::Request> {
    let mut req = match dialect {
        Dialect::Anthropic => crate::dialects::anthropic::decode_request_fast(body),
        Dialect::OpenAiChat => crate::dialects::openai_chat::decode_request_fast(body),
        _ => None,
    }?;
    crate::policy::sort(dialect, &mut req);
    Some(req)
}

/// Encodes an IR request for an upstream, with `model` as the upstream model.
pub fn encode_request(dialect: Dialect, req: &ir::Request, model: &str) -> Result<Vec<u8>, ApiError> {
    dispatch!(dialect, m => m::encode_request(req, model))
}

/// Decodes an upstream's non-streaming response.
pub fn decode_response(dialect: Dialect, body: &[u8]) -> Result<ir::Response, ApiError> {
    dispatch!(dialect, m => m::decode_response(body))
}

/// Encodes a response for the caller.
pub fn encode_response(dialect: Dialect, resp: &ir::Response) -> Vec<u8> {
    dispatch!(dialect, m => m::encode_response(resp))
}

/// Encodes a response for a caller who sent `req` (Responses callers need it: calls of their
/// custom tools come back as `custom_tool_call` items).
pub fn encode_response_for(dialect: Dialect, resp: &ir::Response, req: &ir::Request) -> Vec<u8> {
    match dialect {
        Dialect::OpenAiResponses => openai_responses::encode_response_for(resp, req),
        d => encode_response(d, resp),
    }
}

/// Decodes an upstream error body.
pub fn decode_error(dialect: Dialect, status: u16, body: &[u8]) -> ApiError {
    dispatch!(dialect, m => m::decode_error(status, body))
}

/// Encodes an error body for the caller (the status is `err.status`).
pub fn encode_error(dialect: Dialect, err: &ApiError) -> Vec<u8> {
    dispatch!(dialect, m => m::encode_error(err))
}

/// One stream error event in the caller's stream format (an error after the first byte).
pub fn encode_stream_error(dialect: Dialect, err: ApiError) -> Bytes {
    let mut out = BytesMut::new();
    let ev = StreamEvent::Error(err);
    let req = ir::Request::default();
    dispatch!(dialect, m => m::StreamEncoder::new(&req).encode(&ev, &mut out));
    out.freeze()
}

/// Merges provider params from config into an encoded JSON object body (config wins).
pub fn merge_params(body: Vec<u8>, params: &Map<String, Value>) -> Result<Vec<u8>, ApiError> {
    if params.is_empty() {
        return Ok(body);
    }
    let mut obj: Map<String, Value> = serde_json::from_slice(&body)
        .map_err(|e| ApiError::new(ir::ErrorKind::Api, format!("re-reading encoded body: {e}")))?;
    for (k, v) in params {
        obj.insert(k.clone(), v.clone());
    }
    crate::jsonwrite::to_vec(&obj).map_err(|e| ApiError::new(ir::ErrorKind::Api, format!("encoding body: {e}")))
}

/// Upstream stream decoders of the SSE dialects.
enum SseDecoder {
    Anthropic(anthropic::StreamDecoder),
    OpenAiChat(openai_chat::StreamDecoder),
    OpenAiResponses(openai_responses::StreamDecoder),
    Gemini(gemini::StreamDecoder),
}

impl SseDecoder {
    fn feed(&mut self, ev: SseRef<'_>, out: &mut Vec<StreamEvent>) {
        match self {
            SseDecoder::Anthropic(d) => d.feed(ev, out),
            SseDecoder::OpenAiChat(d) => d.feed(ev, out),
            SseDecoder::OpenAiResponses(d) => d.feed(ev, out),
            SseDecoder::Gemini(d) => d.feed(ev, out),
        }
    }

    fn finish(&mut self, out: &mut Vec<StreamEvent>) {
        match self {
            SseDecoder::Anthropic(d) => d.finish(out),
            SseDecoder::OpenAiChat(d) => d.finish(out),
            SseDecoder::OpenAiResponses(d) => d.finish(out),
            SseDecoder::Gemini(d) => d.finish(out),
        }
    }
}

/// An upstream stream decoder with the framing parser of its dialect: bytes in, IR events out.
enum Decoder {
    Sse {
        parser: SseParser,
        decoder: SseDecoder,
    },
    EventStream {
        frames: eventstream::Decoder,
        messages: Vec<eventstream::Message>,
        decoder: bedrock_converse::StreamDecoder,
    },
}

impl Decoder {
    fn new(d: Dialect) -> Self {
        let sse = |decoder| Decoder::Sse { parser: SseParser::new(), decoder };
        match d {
            Dialect::Anthropic => sse(SseDecoder::Anthropic(anthropic::StreamDecoder::new())),
            Dialect::OpenAiChat => sse(SseDecoder::OpenAiChat(openai_chat::StreamDecoder::new())),
            Dialect::OpenAiResponses => sse(SseDecoder::OpenAiResponses(openai_responses::StreamDecoder::new())),
            Dialect::Gemini => sse(SseDecoder::Gemini(gemini::StreamDecoder::new())),
            Dialect::BedrockConverse => Decoder::EventStream {
                frames: eventstream::Decoder::default(),
                messages: Vec::new(),
                decoder: bedrock_converse::StreamDecoder::new(),
            },
        }
    }

    /// Bounds one SSE line or event to `max` bytes (before any input; event-stream frames
    /// have their own bound).
    fn set_max_event(&mut self, max: usize) {
        if let Decoder::Sse { parser, .. } = self {
            *parser = SseParser::with_max(max);
        }
    }

    /// An SSE line or event passed its bound: the stream cannot be read on.
    fn overflowed(&self) -> bool {
        match self {
            Decoder::Sse { parser, .. } => parser.overflowed(),
            Decoder::EventStream { .. } => false,
        }
    }

    /// Feeds upstream bytes; appends the IR events they complete.
    fn feed(&mut self, chunk: &[u8], out: &mut Vec<StreamEvent>) {
        match self {
            Decoder::Sse { parser, decoder } => {
                // Each event borrowed from the parser's buffers as it completes.
                parser.feed_with(chunk, &mut |event, data| decoder.feed(SseRef { event, data }, out));
            }
            Decoder::EventStream { frames, messages, decoder } => {
                let result = frames.feed(chunk, messages);
                for m in messages.drain(..) {
                    decoder.feed(&m, out);
                }
                if let Err(e) = result {
                    decoder.frame_error(&e, out);
                }
            }
        }
    }

    /// Ends the upstream stream.
    fn finish(&mut self, out: &mut Vec<StreamEvent>) {
        match self {
            Decoder::Sse { parser, decoder } => {
                parser.finish_with(&mut |event, data| decoder.feed(SseRef { event, data }, out));
                decoder.finish(out);
            }
            Decoder::EventStream { frames, decoder, .. } => {
                if let Err(e) = frames.finish() {
                    decoder.frame_error(&e, out);
                }
                decoder.finish(out);
            }
        }
    }
}

enum Encoder {
    Anthropic(anthropic::StreamEncoder),
    OpenAiChat(openai_chat::StreamEncoder),
    OpenAiResponses(openai_responses::StreamEncoder),
    Gemini(gemini::StreamEncoder),
    BedrockConverse(bedrock_converse::StreamEncoder),
}

impl Encoder {
    fn new(d: Dialect, req: &ir::Request) -> Self {
        match d {
            Dialect::Anthropic => Encoder::Anthropic(anthropic::StreamEncoder::new(req)),
            Dialect::OpenAiChat => Encoder::OpenAiChat(openai_chat::StreamEncoder::new(req)),
            Dialect::OpenAiResponses => Encoder::OpenAiResponses(openai_responses::StreamEncoder::new(req)),
            Dialect::Gemini => Encoder::Gemini(gemini::StreamEncoder::new(req)),
            Dialect::BedrockConverse => Encoder::BedrockConverse(bedrock_converse::StreamEncoder::new(req)),
        }
    }

    fn encode(&mut self, ev: &StreamEvent, out: &mut BytesMut) {
        match self {
            Encoder::Anthropic(e) => e.encode(ev, out),
            Encoder::OpenAiChat(e) => e.encode(ev, out),
            Encoder::OpenAiResponses(e) => e.encode(ev, out),
            Encoder::Gemini(e) => e.encode(ev, out),
            Encoder::BedrockConverse(e) => e.encode(ev, out),
        }
    }
}

/// The content type of a streamed answer in `dialect`.
pub fn stream_content_type(dialect: Dialect) -> &'static str {
    if dialect.event_stream() { eventstream::CONTENT_TYPE } else { "text/event-stream; charset=utf-8" }
}

/// Headers an error response in `dialect` carries besides its body (Bedrock names the error
/// type in `x-amzn-ErrorType`).
pub fn error_headers(dialect: Dialect, err: &ApiError) -> Option<(&'static str, &'static str)> {
    match dialect {
        Dialect::BedrockConverse => Some((bedrock_converse::ERROR_TYPE_HEADER, bedrock_converse::error_type(err))),
        _ => None,
    }
}

/// Decodes an upstream stream into IR events (no re-encoding): the response cache's view of a
/// same-dialect stream.
pub struct EventDecoder {
    decoder: Decoder,
}

impl EventDecoder {
    pub fn new(upstream: Dialect) -> Self {
        EventDecoder { decoder: Decoder::new(upstream) }
    }

    /// Bounds one SSE line or event to `max` bytes.
    pub fn max_event(mut self, max: usize) -> Self {
        self.decoder.set_max_event(max);
        self
    }

    pub fn feed(&mut self, chunk: &[u8], out: &mut Vec<StreamEvent>) {
        self.decoder.feed(chunk, out);
    }

    pub fn finish(&mut self, out: &mut Vec<StreamEvent>) {
        self.decoder.finish(out);
    }
}

/// Encodes a whole IR event sequence as the caller's stream (a cached answer replayed).
pub fn encode_stream(caller: Dialect, req: &ir::Request, events: &[StreamEvent]) -> Bytes {
    let mut enc = Encoder::new(caller, req);
    let mut out = BytesMut::new();
    for ev in events {
        enc.encode(ev, &mut out);
    }
    out.freeze()
}

/// Translates an upstream byte stream into the caller's byte stream (each in its dialect's
/// framing), event by event. Every IR event it produces is also shown to `observe` (usage
/// accounting).
pub struct StreamTranslator {
    decoder: Decoder,
    encoder: Encoder,
    events: Vec<StreamEvent>,
    /// Set once an `Error` or `MessageStop` has been encoded; later input is ignored.
    done: bool,
    /// Scrubs credentials out of the upstream's error events.
    redact: Option<std::sync::Arc<crate::redact::Redactor>>,
}

impl StreamTranslator {
    pub fn new(upstream: Dialect, caller: Dialect, req: &ir::Request) -> Self {
        StreamTranslator {
            decoder: Decoder::new(upstream),
            encoder: Encoder::new(caller, req),
            events: Vec::new(),
            done: false,
            redact: None,
        }
    }

    /// Bounds one upstream SSE line or event to `max` bytes (`limits.max_stream_event_bytes`).
    pub fn max_event(mut self, max: usize) -> Self {
        self.decoder.set_max_event(max);
        self
    }

    /// An upstream line or event passed its bound: nothing more is read; the caller's stream
    /// is to be ended with [`StreamTranslator::fail`].
    pub fn overflowed(&self) -> bool {
        self.decoder.overflowed()
    }

    /// Scrubs the text of the upstream's error events with `r` before they are encoded.
    pub fn redacting(mut self, r: std::sync::Arc<crate::redact::Redactor>) -> Self {
        self.redact = Some(r);
        self
    }

    /// Feeds upstream bytes; returns the caller bytes they complete (possibly empty).
    pub fn feed(&mut self, chunk: &[u8], observe: &mut dyn FnMut(&StreamEvent)) -> Bytes {
        if !self.done {
            self.decoder.feed(chunk, &mut self.events);
        }
        self.drain(observe)
    }

    /// Ends the upstream stream (normally or not); returns the final caller bytes.
    pub fn finish(&mut self, observe: &mut dyn FnMut(&StreamEvent)) -> Bytes {
        if !self.done {
            self.decoder.finish(&mut self.events);
        }
        self.drain(observe)
    }

    /// Encodes an error event (e.g. the upstream connection failed mid-stream) and ends.
    pub fn fail(&mut self, err: ApiError, observe: &mut dyn FnMut(&StreamEvent)) -> Bytes {
        if self.done {
            return Bytes::new();
        }
        let ev = StreamEvent::Error(err);
        observe(&ev);
        let mut out = BytesMut::new();
        self.encoder.encode(&ev, &mut out);
        self.done = true;
        out.freeze()
    }

    /// True once the caller's stream is complete (stop or error encoded).
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// The bytes the waiting events are likely to take once encoded: their own text plus a
    /// caller event's envelope each (an OpenAI chunk's fixed members and tail are about 200
    /// bytes). Too little only costs a reallocation, too much is freed once the bytes are sent.
    fn out_hint(&self) -> usize {
        self.events.iter().map(|e| e.text_len() + 256).sum()
    }

    fn drain(&mut self, observe: &mut dyn FnMut(&StreamEvent)) -> Bytes {
        // Room for the whole batch up front: an upstream burst's events (a whole short answer)
        // grew the buffer by doubling about seven times, each a reallocation and a copy.
        let mut out = BytesMut::with_capacity(self.out_hint());
        for mut ev in self.events.drain(..) {
            if self.done {
                break;
            }
            if let (StreamEvent::Error(e), Some(r)) = (&mut ev, &self.redact) {
                r.scrub(e);
            }
            observe(&ev);
            self.encoder.encode(&ev, &mut out);
            if matches!(ev, StreamEvent::MessageStop | StreamEvent::Error(_)) {
                self.done = true;
            }
        }
        out.freeze()
    }
}

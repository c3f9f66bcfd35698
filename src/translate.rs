//! Cross-dialect translation: dispatch over [`Dialect`] to the dialect codecs, and the stream
//! translator that turns upstream SSE bytes into caller SSE bytes event by event.

use bytes::{Bytes, BytesMut};
use serde_json::{Map, Value};

use crate::dialects::{anthropic, gemini, openai_chat, openai_responses};
use crate::ir::{self, ApiError, Dialect, StreamEvent};
use crate::sse::{SseEvent, SseParser};

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
        }
    };
}

/// Decodes a caller's request body, its untranslatable fields sorted by [`crate::policy`].
pub fn decode_request(dialect: Dialect, body: &[u8]) -> Result<ir::Request, ApiError> {
    let mut req = dispatch!(dialect, m => m::decode_request(body))?;
    crate::policy::sort(dialect, &mut req);
    Ok(req)
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
    serde_json::to_vec(&obj).map_err(|e| ApiError::new(ir::ErrorKind::Api, format!("encoding body: {e}")))
}

enum Decoder {
    Anthropic(anthropic::StreamDecoder),
    OpenAiChat(openai_chat::StreamDecoder),
    OpenAiResponses(openai_responses::StreamDecoder),
    Gemini(gemini::StreamDecoder),
}

enum Encoder {
    Anthropic(anthropic::StreamEncoder),
    OpenAiChat(openai_chat::StreamEncoder),
    OpenAiResponses(openai_responses::StreamEncoder),
    Gemini(gemini::StreamEncoder),
}

impl Decoder {
    fn new(d: Dialect) -> Self {
        match d {
            Dialect::Anthropic => Decoder::Anthropic(anthropic::StreamDecoder::new()),
            Dialect::OpenAiChat => Decoder::OpenAiChat(openai_chat::StreamDecoder::new()),
            Dialect::OpenAiResponses => Decoder::OpenAiResponses(openai_responses::StreamDecoder::new()),
            Dialect::Gemini => Decoder::Gemini(gemini::StreamDecoder::new()),
        }
    }

    fn feed(&mut self, ev: &SseEvent, out: &mut Vec<StreamEvent>) {
        match self {
            Decoder::Anthropic(d) => d.feed(ev, out),
            Decoder::OpenAiChat(d) => d.feed(ev, out),
            Decoder::OpenAiResponses(d) => d.feed(ev, out),
            Decoder::Gemini(d) => d.feed(ev, out),
        }
    }

    fn finish(&mut self, out: &mut Vec<StreamEvent>) {
        match self {
            Decoder::Anthropic(d) => d.finish(out),
            Decoder::OpenAiChat(d) => d.finish(out),
            Decoder::OpenAiResponses(d) => d.finish(out),
            Decoder::Gemini(d) => d.finish(out),
        }
    }
}

impl Encoder {
    fn new(d: Dialect, req: &ir::Request) -> Self {
        match d {
            Dialect::Anthropic => Encoder::Anthropic(anthropic::StreamEncoder::new(req)),
            Dialect::OpenAiChat => Encoder::OpenAiChat(openai_chat::StreamEncoder::new(req)),
            Dialect::OpenAiResponses => Encoder::OpenAiResponses(openai_responses::StreamEncoder::new(req)),
            Dialect::Gemini => Encoder::Gemini(gemini::StreamEncoder::new(req)),
        }
    }

    fn encode(&mut self, ev: &StreamEvent, out: &mut BytesMut) {
        match self {
            Encoder::Anthropic(e) => e.encode(ev, out),
            Encoder::OpenAiChat(e) => e.encode(ev, out),
            Encoder::OpenAiResponses(e) => e.encode(ev, out),
            Encoder::Gemini(e) => e.encode(ev, out),
        }
    }
}

/// Decodes an upstream SSE byte stream into IR events (no re-encoding): the response cache's view
/// of a same-dialect stream.
pub struct EventDecoder {
    parser: SseParser,
    decoder: Decoder,
    sse: Vec<SseEvent>,
}

impl EventDecoder {
    pub fn new(upstream: Dialect) -> Self {
        EventDecoder { parser: SseParser::new(), decoder: Decoder::new(upstream), sse: Vec::new() }
    }

    pub fn feed(&mut self, chunk: &[u8], out: &mut Vec<StreamEvent>) {
        self.parser.feed(chunk, &mut self.sse);
        for ev in self.sse.drain(..) {
            self.decoder.feed(&ev, out);
        }
    }

    pub fn finish(&mut self, out: &mut Vec<StreamEvent>) {
        self.parser.finish(&mut self.sse);
        for ev in self.sse.drain(..) {
            self.decoder.feed(&ev, out);
        }
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

/// Translates an upstream SSE byte stream into the caller's SSE byte stream, event by event.
/// Every IR event it produces is also shown to `observe` (usage accounting).
pub struct StreamTranslator {
    parser: SseParser,
    decoder: Decoder,
    encoder: Encoder,
    sse: Vec<SseEvent>,
    events: Vec<StreamEvent>,
    /// Set once an `Error` or `MessageStop` has been encoded; later input is ignored.
    done: bool,
}

impl StreamTranslator {
    pub fn new(upstream: Dialect, caller: Dialect, req: &ir::Request) -> Self {
        StreamTranslator {
            parser: SseParser::new(),
            decoder: Decoder::new(upstream),
            encoder: Encoder::new(caller, req),
            sse: Vec::new(),
            events: Vec::new(),
            done: false,
        }
    }

    /// Feeds upstream bytes; returns the caller bytes they complete (possibly empty).
    pub fn feed(&mut self, chunk: &[u8], observe: &mut dyn FnMut(&StreamEvent)) -> Bytes {
        self.parser.feed(chunk, &mut self.sse);
        self.drain(false, observe)
    }

    /// Ends the upstream stream (normally or not); returns the final caller bytes.
    pub fn finish(&mut self, observe: &mut dyn FnMut(&StreamEvent)) -> Bytes {
        self.parser.finish(&mut self.sse);
        self.drain(true, observe)
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

    fn drain(&mut self, finish: bool, observe: &mut dyn FnMut(&StreamEvent)) -> Bytes {
        for ev in self.sse.drain(..) {
            if self.done {
                break;
            }
            self.decoder.feed(&ev, &mut self.events);
        }
        if finish && !self.done {
            self.decoder.finish(&mut self.events);
        }
        let mut out = BytesMut::new();
        for ev in self.events.drain(..) {
            if self.done {
                break;
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

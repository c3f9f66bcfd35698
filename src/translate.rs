//! Cross-dialect translation: dispatch over [`Dialect`] to the dialect codecs, and the stream
//! translator that turns upstream SSE bytes into caller SSE bytes event by event.

use bytes::{Bytes, BytesMut};
use serde_json::{Map, Value};

use crate::dialects::{anthropic, openai_chat};
use crate::ir::{self, ApiError, Dialect, StreamEvent};
use crate::sse::{SseEvent, SseParser};

/// Decodes a caller's request body.
pub fn decode_request(dialect: Dialect, body: &[u8]) -> Result<ir::Request, ApiError> {
    match dialect {
        Dialect::Anthropic => anthropic::decode_request(body),
        Dialect::OpenAiChat => openai_chat::decode_request(body),
    }
}

/// Encodes an IR request for an upstream, with `model` as the upstream model.
pub fn encode_request(
    dialect: Dialect,
    req: &ir::Request,
    model: &str,
) -> Result<Vec<u8>, ApiError> {
    match dialect {
        Dialect::Anthropic => anthropic::encode_request(req, model),
        Dialect::OpenAiChat => openai_chat::encode_request(req, model),
    }
}

/// Decodes an upstream's non-streaming response.
pub fn decode_response(dialect: Dialect, body: &[u8]) -> Result<ir::Response, ApiError> {
    match dialect {
        Dialect::Anthropic => anthropic::decode_response(body),
        Dialect::OpenAiChat => openai_chat::decode_response(body),
    }
}

/// Encodes a response for the caller.
pub fn encode_response(dialect: Dialect, resp: &ir::Response) -> Vec<u8> {
    match dialect {
        Dialect::Anthropic => anthropic::encode_response(resp),
        Dialect::OpenAiChat => openai_chat::encode_response(resp),
    }
}

/// Decodes an upstream error body.
pub fn decode_error(dialect: Dialect, status: u16, body: &[u8]) -> ApiError {
    match dialect {
        Dialect::Anthropic => anthropic::decode_error(status, body),
        Dialect::OpenAiChat => openai_chat::decode_error(status, body),
    }
}

/// Encodes an error body for the caller (the status is `err.status`).
pub fn encode_error(dialect: Dialect, err: &ApiError) -> Vec<u8> {
    match dialect {
        Dialect::Anthropic => anthropic::encode_error(err),
        Dialect::OpenAiChat => openai_chat::encode_error(err),
    }
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
    serde_json::to_vec(&obj)
        .map_err(|e| ApiError::new(ir::ErrorKind::Api, format!("encoding body: {e}")))
}

enum Decoder {
    Anthropic(anthropic::StreamDecoder),
    OpenAiChat(openai_chat::StreamDecoder),
}

enum Encoder {
    Anthropic(anthropic::StreamEncoder),
    OpenAiChat(openai_chat::StreamEncoder),
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
        let decoder = match upstream {
            Dialect::Anthropic => Decoder::Anthropic(anthropic::StreamDecoder::new()),
            Dialect::OpenAiChat => Decoder::OpenAiChat(openai_chat::StreamDecoder::new()),
        };
        let encoder = match caller {
            Dialect::Anthropic => Encoder::Anthropic(anthropic::StreamEncoder::new(req)),
            Dialect::OpenAiChat => Encoder::OpenAiChat(openai_chat::StreamEncoder::new(req)),
        };
        StreamTranslator {
            parser: SseParser::new(),
            decoder,
            encoder,
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
        self.encode(&ev, &mut out);
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
            match &mut self.decoder {
                Decoder::Anthropic(d) => d.feed(&ev, &mut self.events),
                Decoder::OpenAiChat(d) => d.feed(&ev, &mut self.events),
            }
        }
        if finish && !self.done {
            match &mut self.decoder {
                Decoder::Anthropic(d) => d.finish(&mut self.events),
                Decoder::OpenAiChat(d) => d.finish(&mut self.events),
            }
        }
        let mut out = BytesMut::new();
        let events = std::mem::take(&mut self.events);
        for ev in &events {
            if self.done {
                break;
            }
            observe(ev);
            self.encode(ev, &mut out);
            if matches!(ev, StreamEvent::MessageStop | StreamEvent::Error(_)) {
                self.done = true;
            }
        }
        self.events = events;
        self.events.clear();
        out.freeze()
    }

    fn encode(&mut self, ev: &StreamEvent, out: &mut BytesMut) {
        match &mut self.encoder {
            Encoder::Anthropic(e) => e.encode(ev, out),
            Encoder::OpenAiChat(e) => e.encode(ev, out),
        }
    }
}

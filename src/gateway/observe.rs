//! Reading usage (and why generation stopped) out of same-dialect responses without changing
//! them: the body bytes are forwarded as they arrive while a side parser looks only at the events
//! that carry usage or a finish reason.
//!
//! One exception: an OpenAI Chat caller that streamed without `stream_options.include_usage` gets
//! it switched on upstream (amux needs usage), and the usage-only chunk it did not ask for is then
//! filtered out of its stream; every other event is forwarded with its data unchanged.

use bytes::{Bytes, BytesMut};

use super::envelope::Envelope;
use crate::eventstream;
use crate::ir::{Dialect, Usage};
use crate::sse::{SseParser, write_event};

/// The usage one stream event of this dialect reports (top level, or in its `message` /
/// `response`), if any.
pub fn event_usage(dialect: Dialect, data: &str) -> Option<Usage> {
    Envelope::parse(data.as_bytes())?.nested_usage(dialect)
}

/// Usage and finish reason of a complete (non-streaming) response body of this dialect.
pub fn body_usage(dialect: Dialect, body: &[u8]) -> (Usage, Option<String>) {
    match Envelope::parse(body) {
        Some(e) => (e.usage(dialect).unwrap_or_default(), e.finish_reason(dialect)),
        None => (Usage::default(), None),
    }
}

/// Watches a same-dialect SSE stream for usage, its terminal event and in-stream errors.
pub struct StreamObserver {
    dialect: Dialect,
    parser: SseParser,
    /// The kept events, rewritten, when usage-only chunks are stripped.
    filtered: BytesMut,
    /// Bedrock Converse streams are event-stream frames, read by their own decoder.
    frames: Option<eventstream::Decoder>,
    messages: Vec<eventstream::Message>,
    /// Drop usage-only chunks (OpenAI Chat, when amux asked for usage and the caller did not).
    strip_usage_chunks: bool,
    pub usage: Usage,
    /// The last finish reason seen.
    pub finish_reason: Option<String>,
    /// An error event went by.
    pub saw_error: bool,
    /// The stream's terminal event went by.
    pub complete: bool,
}

impl StreamObserver {
    pub fn new(dialect: Dialect, strip_usage_chunks: bool) -> Self {
        StreamObserver {
            dialect,
            parser: SseParser::new(),
            filtered: BytesMut::new(),
            frames: dialect.event_stream().then(eventstream::Decoder::default),
            messages: Vec::new(),
            strip_usage_chunks,
            usage: Usage::default(),
            finish_reason: None,
            saw_error: false,
            complete: false,
        }
    }

    /// Bounds one SSE line or event to `max` bytes (`limits.max_stream_event_bytes`).
    pub fn max_event(mut self, max: usize) -> Self {
        self.parser = SseParser::with_max(max);
        self
    }

    /// True when the chunks go to the caller as they came (not rebuilt event by event).
    pub fn forwards_chunks(&self) -> bool {
        self.frames.is_none() && !self.strip_usage_chunks
    }

    /// A line or event passed its bound: nothing more is read (the chunks go on being
    /// returned as they are, unless filtering); the stream is to be ended with an error.
    pub fn overflowed(&self) -> bool {
        self.parser.overflowed()
    }

    /// Observes a chunk; returns what to forward (the chunk itself unless filtering).
    pub fn chunk(&mut self, chunk: Bytes) -> Bytes {
        if let Some(frames) = &mut self.frames {
            if frames.feed(&chunk, &mut self.messages).is_err() {
                self.saw_error = true;
            }
            for m in std::mem::take(&mut self.messages) {
                self.inspect_frame(&m);
            }
            return chunk;
        }
        self.read(|parser, on| parser.feed_with(&chunk, on));
        if self.strip_usage_chunks { self.filtered.split().freeze() } else { chunk }
    }

    /// Runs the parser over new input, each event inspected as it completes (borrowed from the
    /// parser's buffers: nothing is allocated per event); kept events are rewritten into
    /// `filtered` when usage-only chunks are stripped.
    fn read(&mut self, feed: impl FnOnce(&mut SseParser, &mut dyn FnMut(Option<&str>, &str))) {
        let mut parser = std::mem::take(&mut self.parser);
        let mut filtered = std::mem::take(&mut self.filtered);
        feed(&mut parser, &mut |name, data| {
            let keep = self.inspect(name, data);
            if self.strip_usage_chunks && keep {
                write_event(&mut filtered, name, data);
            }
        });
        self.parser = parser;
        self.filtered = filtered;
    }

    /// Reads one Converse stream message: the stop reason, usage (on `metadata`), exceptions.
    fn inspect_frame(&mut self, m: &eventstream::Message) {
        match m.kind() {
            eventstream::Kind::Event("messageStop") => {
                if let Some(env) = Envelope::parse(&m.payload) {
                    self.finish_reason = env.finish_reason(self.dialect);
                }
                self.complete = true;
            }
            eventstream::Kind::Event("metadata") => {
                if let Some(env) = Envelope::parse(&m.payload)
                    && let Some(u) = env.usage(self.dialect)
                {
                    self.usage = u;
                }
            }
            eventstream::Kind::Event(_) => {}
            eventstream::Kind::Exception(_) | eventstream::Kind::Error(_) => self.saw_error = true,
        }
    }

    /// Ends the stream; returns any bytes still held back by filtering.
    pub fn finish(&mut self) -> Bytes {
        if let Some(frames) = &mut self.frames {
            if frames.finish().is_err() {
                self.complete = false;
            }
            return Bytes::new();
        }
        self.read(|parser, on| parser.finish_with(on));
        self.filtered.split().freeze()
    }

    /// Observes one event of a stream that was decoded elsewhere and never passes through
    /// [`StreamObserver::chunk`] (Claude on Bedrock: the InvokeModel frames are turned into
    /// Messages events, and each is read here as it is written, not parsed again from SSE).
    pub fn event(&mut self, name: &str, data: &str) {
        self.inspect(Some(name), data);
    }

    /// Only events that can carry usage, an end or an error are parsed.
    fn worth_parsing(&self, event: Option<&str>, data: &str) -> bool {
        match self.dialect {
            Dialect::Anthropic => {
                matches!(event, Some("message_start" | "message_delta" | "message_stop" | "error"))
            }
            Dialect::OpenAiResponses => event.is_some_and(|e| {
                matches!(e, "response.completed" | "response.incomplete" | "response.failed" | "error")
            }),
            // Every Chat chunk carries `"usage":null` once usage is on: only a usage object counts;
            // the chunk with a finish reason is read for it.
            Dialect::OpenAiChat => {
                data.contains("\"usage\":{")
                    || data.contains("\"usage\": {")
                    || data.contains("\"error\"")
                    || data.contains("\"finish_reason\":\"")
            }
            // Converse streams are event-stream frames, read by `inspect_frame`.
            Dialect::BedrockConverse => false,
            Dialect::Gemini => {
                data.contains("\"usageMetadata\"") || data.contains("\"error\"") || data.contains("\"finishReason\"")
            }
        }
    }

    /// Reads one event; returns false for a usage-only chunk to be stripped.
    fn inspect(&mut self, event: Option<&str>, data: &str) -> bool {
        if self.dialect == Dialect::OpenAiChat && data == "[DONE]" {
            self.complete = true;
            return true;
        }
        if !self.worth_parsing(event, data) {
            return true;
        }
        match (self.dialect, event) {
            (Dialect::Anthropic, Some("message_stop")) | (Dialect::OpenAiResponses, Some("response.completed")) => {
                self.complete = true
            }
            (Dialect::OpenAiResponses, Some("response.incomplete")) => self.complete = true,
            (_, Some("error" | "response.failed")) => self.saw_error = true,
            _ => {}
        }
        let Some(env) = Envelope::parse(data.as_bytes()) else {
            return true;
        };
        if let Some(u) = env.nested_usage(self.dialect) {
            if self.dialect == Dialect::Gemini {
                // Each usageMetadata is a snapshot of the whole call so far.
                self.usage = u;
            } else {
                self.usage.merge_max(&u);
            }
        }
        if let Some(r) = env.finish_reason(self.dialect) {
            self.finish_reason = Some(r);
        }
        if env.error.is_some() && env.choices.is_none() && env.candidates.is_none() {
            self.saw_error = true;
        }
        if self.dialect == Dialect::Gemini
            && env.candidates.as_ref().is_some_and(|c| c.iter().any(|c| c.finish_reason.is_some()))
        {
            self.complete = true;
        }
        // A usage-only Chat chunk (`choices: []`) is what the caller did not ask for.
        !(self.dialect == Dialect::OpenAiChat
            && env.usage.is_some()
            && env.choices.as_ref().is_some_and(|c| c.is_empty()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anthropic_stream_usage_is_merged() {
        let mut o = StreamObserver::new(Dialect::Anthropic, false);
        let a = Bytes::from_static(b"event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"usage\":{\"input_tokens\":12,\"cache_read_input_tokens\":100,\"output_tokens\":1}}}\n\nevent: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{},\"usage\":{\"output_tokens\":30}}\n\nevent: message_stop\ndata: {}\n\n");
        let (x, y) = a.split_at(50);
        assert_eq!(o.chunk(Bytes::copy_from_slice(x)), x);
        assert_eq!(o.chunk(Bytes::copy_from_slice(y)), y);
        assert_eq!(o.usage, Usage { input_tokens: 12, cache_read_tokens: 100, output_tokens: 30, ..Usage::default() });
        assert!(o.complete && !o.saw_error);
        assert_eq!(o.finish_reason, None, "the message_delta above has no stop_reason");
        o.chunk(Bytes::from_static(b"event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"tool_use\"},\"usage\":{\"output_tokens\":31}}\n\n"));
        assert_eq!(o.finish_reason.as_deref(), Some("tool_use"));
    }

    #[test]
    fn openai_usage_chunk_is_stripped_when_asked() {
        let mut o = StreamObserver::new(Dialect::OpenAiChat, true);
        let input = "data: {\"choices\":[{\"delta\":{\"content\":\"hi\"}}],\"usage\":null}\n\ndata: {\"choices\":[],\"usage\":{\"prompt_tokens\":10,\"completion_tokens\":2,\"prompt_tokens_details\":{\"cached_tokens\":4}}}\n\ndata: [DONE]\n\n";
        let out = o.chunk(Bytes::from(input));
        let out = String::from_utf8(out.to_vec()).unwrap();
        assert_eq!(out, "data: {\"choices\":[{\"delta\":{\"content\":\"hi\"}}],\"usage\":null}\n\ndata: [DONE]\n\n");
        let mut f = StreamObserver::new(Dialect::OpenAiChat, false);
        f.chunk(Bytes::from("data: {\"choices\":[{\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n"));
        assert_eq!(f.finish_reason.as_deref(), Some("stop"));
        assert_eq!(o.usage, Usage { input_tokens: 6, cache_read_tokens: 4, output_tokens: 2, ..Usage::default() });
        assert!(o.complete);
    }

    #[test]
    fn responses_and_gemini_streams() {
        let mut o = StreamObserver::new(Dialect::OpenAiResponses, false);
        o.chunk(Bytes::from("event: response.completed\ndata: {\"type\":\"response.completed\",\"response\":{\"usage\":{\"input_tokens\":50,\"input_tokens_details\":{\"cached_tokens\":20},\"output_tokens\":9,\"output_tokens_details\":{\"reasoning_tokens\":4}}}}\n\n"));
        assert_eq!(
            o.usage,
            Usage {
                input_tokens: 30,
                cache_read_tokens: 20,
                output_tokens: 9,
                reasoning_tokens: 4,
                ..Usage::default()
            }
        );
        assert!(o.complete);
        let mut g = StreamObserver::new(Dialect::Gemini, false);
        g.chunk(Bytes::from("data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"a\"}]}}],\"usageMetadata\":{\"promptTokenCount\":10}}\n\n"));
        assert!(!g.complete);
        g.chunk(Bytes::from("data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"b\"}]},\"finishReason\":\"STOP\"}],\"usageMetadata\":{\"promptTokenCount\":10,\"candidatesTokenCount\":3,\"thoughtsTokenCount\":2}}\n\n"));
        assert_eq!(g.usage, Usage { input_tokens: 10, output_tokens: 5, reasoning_tokens: 2, ..Usage::default() });
        assert!(g.complete);
    }

    #[test]
    fn body_usage_of_every_dialect() {
        let (u, r) = body_usage(
            Dialect::Anthropic,
            br#"{"stop_reason":"end_turn","usage":{"input_tokens":5,"output_tokens":7,"cache_creation_input_tokens":3}}"#,
        );
        assert_eq!(u, Usage { input_tokens: 5, output_tokens: 7, cache_write_tokens: 3, ..Usage::default() });
        assert_eq!(r.as_deref(), Some("end_turn"));
        let (u, r) = body_usage(Dialect::OpenAiChat, br#"{"choices":[{"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":5,"completion_tokens":7,"completion_tokens_details":{"reasoning_tokens":2}}}"#);
        assert_eq!(u, Usage { input_tokens: 5, output_tokens: 7, reasoning_tokens: 2, ..Usage::default() });
        assert_eq!(r.as_deref(), Some("tool_calls"));
        let (u, r) = body_usage(
            Dialect::Gemini,
            br#"{"candidates":[{"finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":8,"cachedContentTokenCount":6,"candidatesTokenCount":1}}"#,
        );
        assert_eq!(u, Usage { input_tokens: 2, cache_read_tokens: 6, output_tokens: 1, ..Usage::default() });
        assert_eq!(r.as_deref(), Some("STOP"));
        let (_, r) = body_usage(
            Dialect::OpenAiResponses,
            br#"{"status":"incomplete","incomplete_details":{"reason":"max_output_tokens"}}"#,
        );
        assert_eq!(r.as_deref(), Some("max_output_tokens"));
    }

    /// `body_usage` gives what serde_json reading the whole body gives, on every recorded answer
    /// of every dialect (and on bodies the reader leaves to serde_json).
    #[test]
    fn body_usage_is_what_serde_reads() {
        let whole = |d: Dialect, body: &[u8]| match serde_json::from_slice::<Envelope>(body) {
            Ok(e) => (e.usage(d).unwrap_or_default(), e.finish_reason(d)),
            Err(_) => (Usage::default(), None),
        };
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
        let mut checked = 0;
        for (dir, d) in [
            ("anthropic", Dialect::Anthropic),
            ("openai_chat", Dialect::OpenAiChat),
            ("openai_responses", Dialect::OpenAiResponses),
            ("gemini", Dialect::Gemini),
            ("bedrock_converse", Dialect::BedrockConverse),
        ] {
            for f in std::fs::read_dir(root.join(dir).join("responses")).unwrap() {
                let body = std::fs::read(f.unwrap().path()).unwrap();
                assert_eq!(body_usage(d, &body), whole(d, &body));
                checked += 1;
            }
        }
        assert!(checked > 20, "{checked}");
        for body in [&b"not json"[..], b"[1]", br#"{"usage":{"input_tokens":1},"usage":{"input_tokens":2}}"#] {
            assert_eq!(body_usage(Dialect::Anthropic, body), whole(Dialect::Anthropic, body));
        }
    }
}

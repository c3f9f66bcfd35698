//! Reading usage (and why generation stopped) out of same-dialect responses without changing
//! them: the body bytes are forwarded as they arrive while a side parser looks only at the events
//! that carry usage or a finish reason.
//!
//! One exception: an OpenAI Chat caller that streamed without `stream_options.include_usage` gets
//! it switched on upstream (amux needs usage), and the usage-only chunk it did not ask for is then
//! filtered out of its stream; every other event is forwarded with its data unchanged.

use bytes::{Bytes, BytesMut};
use serde::Deserialize;

use crate::eventstream;
use crate::ir::{Dialect, Usage};
use crate::sse::{SseParser, write_event};

#[derive(Deserialize, Default)]
#[serde(default)]
struct Details {
    cached_tokens: Option<u64>,
    reasoning_tokens: Option<u64>,
}

/// Usage as any of the four dialects spells it (each uses a disjoint set of names).
#[derive(Deserialize, Default)]
#[serde(default)]
struct AnyUsage {
    // Anthropic
    input_tokens: Option<u64>,
    output_tokens: Option<u64>,
    cache_creation_input_tokens: Option<u64>,
    cache_read_input_tokens: Option<u64>,
    // OpenAI Chat
    prompt_tokens: Option<u64>,
    completion_tokens: Option<u64>,
    prompt_tokens_details: Option<Details>,
    completion_tokens_details: Option<Details>,
    // OpenAI Responses (input_tokens / output_tokens above)
    input_tokens_details: Option<Details>,
    output_tokens_details: Option<Details>,
    // Gemini usageMetadata
    #[serde(rename = "promptTokenCount")]
    prompt_token_count: Option<u64>,
    #[serde(rename = "candidatesTokenCount")]
    candidates_token_count: Option<u64>,
    #[serde(rename = "cachedContentTokenCount")]
    cached_content_token_count: Option<u64>,
    #[serde(rename = "thoughtsTokenCount")]
    thoughts_token_count: Option<u64>,
    // Bedrock Converse usage
    #[serde(rename = "inputTokens")]
    bedrock_input_tokens: Option<u64>,
    #[serde(rename = "outputTokens")]
    bedrock_output_tokens: Option<u64>,
    #[serde(rename = "cacheReadInputTokens")]
    bedrock_cache_read: Option<u64>,
    #[serde(rename = "cacheWriteInputTokens")]
    bedrock_cache_write: Option<u64>,
}

impl AnyUsage {
    fn to_ir(&self, dialect: Dialect) -> Usage {
        let n = |v: Option<u64>| v.unwrap_or(0);
        match dialect {
            Dialect::Anthropic => Usage {
                input_tokens: n(self.input_tokens),
                output_tokens: n(self.output_tokens),
                cache_write_tokens: n(self.cache_creation_input_tokens),
                cache_read_tokens: n(self.cache_read_input_tokens),
                reasoning_tokens: 0,
            },
            Dialect::OpenAiChat => {
                let cached = n(self.prompt_tokens_details.as_ref().and_then(|d| d.cached_tokens));
                Usage {
                    input_tokens: n(self.prompt_tokens).saturating_sub(cached),
                    output_tokens: n(self.completion_tokens),
                    cache_read_tokens: cached,
                    cache_write_tokens: 0,
                    reasoning_tokens: n(self.completion_tokens_details.as_ref().and_then(|d| d.reasoning_tokens)),
                }
            }
            Dialect::OpenAiResponses => {
                let cached = n(self.input_tokens_details.as_ref().and_then(|d| d.cached_tokens));
                Usage {
                    input_tokens: n(self.input_tokens).saturating_sub(cached),
                    output_tokens: n(self.output_tokens),
                    cache_read_tokens: cached,
                    cache_write_tokens: 0,
                    reasoning_tokens: n(self.output_tokens_details.as_ref().and_then(|d| d.reasoning_tokens)),
                }
            }
            Dialect::Gemini => {
                let cached = n(self.cached_content_token_count);
                let thoughts = n(self.thoughts_token_count);
                Usage {
                    input_tokens: n(self.prompt_token_count).saturating_sub(cached),
                    output_tokens: n(self.candidates_token_count) + thoughts,
                    cache_read_tokens: cached,
                    cache_write_tokens: 0,
                    reasoning_tokens: thoughts,
                }
            }
            Dialect::BedrockConverse => Usage {
                input_tokens: n(self.bedrock_input_tokens),
                output_tokens: n(self.bedrock_output_tokens),
                cache_read_tokens: n(self.bedrock_cache_read),
                cache_write_tokens: n(self.bedrock_cache_write),
                reasoning_tokens: 0,
            },
        }
    }
}

#[derive(Deserialize)]
struct Candidate {
    #[serde(default, rename = "finishReason")]
    finish_reason: Option<String>,
}

/// An OpenAI Chat choice (only its finish reason).
#[derive(Deserialize)]
struct Choice {
    #[serde(default)]
    finish_reason: Option<String>,
}

/// Anthropic `message_delta.delta` (only its stop reason).
#[derive(Deserialize, Default)]
#[serde(default)]
struct Delta {
    stop_reason: Option<String>,
}

/// OpenAI Responses `incomplete_details`.
#[derive(Deserialize, Default)]
#[serde(default)]
struct Incomplete {
    reason: Option<String>,
}

/// The parts of a body or event that carry usage, completion or an error, in any dialect.
#[derive(Deserialize, Default)]
#[serde(default)]
struct Envelope {
    usage: Option<AnyUsage>,
    /// Anthropic `message_start.message`, Responses `response.*.response`.
    message: Option<Box<Envelope>>,
    response: Option<Box<Envelope>>,
    #[serde(rename = "usageMetadata")]
    usage_metadata: Option<AnyUsage>,
    choices: Option<Vec<Choice>>,
    candidates: Option<Vec<Candidate>>,
    error: Option<serde::de::IgnoredAny>,
    /// Anthropic: a whole message's `stop_reason`, or `message_delta.delta.stop_reason`.
    stop_reason: Option<String>,
    delta: Option<Delta>,
    /// Responses: `status` (`completed`, `incomplete`, `failed`) and why it is incomplete.
    status: Option<String>,
    incomplete_details: Option<Incomplete>,
    /// Bedrock Converse `stopReason`.
    #[serde(rename = "stopReason")]
    bedrock_stop_reason: Option<String>,
}

impl Envelope {
    fn usage(&self, dialect: Dialect) -> Option<Usage> {
        let u = self.usage.as_ref().or(self.usage_metadata.as_ref())?;
        Some(u.to_ir(dialect))
    }

    fn nested_usage(&self, dialect: Dialect) -> Option<Usage> {
        self.usage(dialect)
            .or_else(|| self.message.as_ref().and_then(|m| m.usage(dialect)))
            .or_else(|| self.response.as_ref().and_then(|r| r.usage(dialect)))
    }

    /// Why generation stopped, as this dialect says it.
    fn finish_reason(&self, dialect: Dialect) -> Option<String> {
        match dialect {
            Dialect::Anthropic => {
                self.stop_reason.clone().or_else(|| self.delta.as_ref().and_then(|d| d.stop_reason.clone()))
            }
            Dialect::OpenAiChat => self.choices.as_ref()?.iter().find_map(|c| c.finish_reason.clone()),
            Dialect::OpenAiResponses => {
                let r = self.response.as_deref().unwrap_or(self);
                let reason = r.incomplete_details.as_ref().and_then(|i| i.reason.clone());
                reason.or_else(|| r.status.clone().filter(|s| s != "in_progress" && s != "queued"))
            }
            Dialect::Gemini => self.candidates.as_ref()?.iter().find_map(|c| c.finish_reason.clone()),
            Dialect::BedrockConverse => self.bedrock_stop_reason.clone(),
        }
    }
}

/// The usage one stream event of this dialect reports (top level, or in its `message` /
/// `response`), if any.
pub fn event_usage(dialect: Dialect, data: &str) -> Option<Usage> {
    serde_json::from_str::<Envelope>(data).ok()?.nested_usage(dialect)
}

/// Usage and finish reason of a complete (non-streaming) response body of this dialect.
///
/// Only a few top-level members matter, and the answer's content (most of the body) does not:
/// the body scan ([`crate::jsonscan::members`]) skips it a block at a time where serde_json would
/// walk it byte by byte, and serde_json reads the members that matter. A body the scan is not
/// sure of is read by serde_json whole, as before.
pub fn body_usage(dialect: Dialect, body: &[u8]) -> (Usage, Option<String>) {
    let envelope = match crate::jsonscan::members(body) {
        Some(members) => {
            let mut e = Envelope::default();
            for (key, range) in members {
                let v = &body[range];
                match key.as_ref() {
                    "usage" => e.usage = serde_json::from_slice(v).ok(),
                    "usageMetadata" => e.usage_metadata = serde_json::from_slice(v).ok(),
                    "choices" => e.choices = serde_json::from_slice(v).ok(),
                    "candidates" => e.candidates = serde_json::from_slice(v).ok(),
                    "stop_reason" => e.stop_reason = serde_json::from_slice(v).ok().flatten(),
                    "stopReason" => e.bedrock_stop_reason = serde_json::from_slice(v).ok().flatten(),
                    "status" => e.status = serde_json::from_slice(v).ok().flatten(),
                    "incomplete_details" => e.incomplete_details = serde_json::from_slice(v).ok(),
                    "response" => e.response = serde_json::from_slice(v).ok(),
                    _ => {}
                }
            }
            Some(e)
        }
        None => serde_json::from_slice::<Envelope>(body).ok(),
    };
    match envelope {
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
                if let Ok(env) = serde_json::from_slice::<Envelope>(&m.payload) {
                    self.finish_reason = env.finish_reason(self.dialect);
                }
                self.complete = true;
            }
            eventstream::Kind::Event("metadata") => {
                if let Ok(env) = serde_json::from_slice::<Envelope>(&m.payload)
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
        let Ok(env) = serde_json::from_str::<Envelope>(data) else {
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

    /// Reading the members that matter gives what serde_json reading the whole body gives, on
    /// every recorded answer of every dialect (and on bodies the scan leaves to serde_json).
    #[test]
    fn body_usage_by_members_is_body_usage_by_serde() {
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

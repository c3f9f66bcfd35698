//! Reading usage out of same-dialect responses without changing them: the body bytes are
//! forwarded as they arrive while a side parser looks only at the events that carry usage.
//!
//! One exception: an OpenAI caller that streamed without `stream_options.include_usage` gets it
//! switched on upstream (amux needs usage), and the usage-only chunk it did not ask for is then
//! filtered out of its stream; every other event is forwarded with its data unchanged.

use bytes::{Bytes, BytesMut};
use serde::Deserialize;

use crate::ir::{Dialect, Usage};
use crate::sse::{SseEvent, SseParser, write_event};

#[derive(Deserialize, Default)]
struct AnthropicUsage {
    #[serde(default)]
    input_tokens: Option<u64>,
    #[serde(default)]
    output_tokens: Option<u64>,
    #[serde(default)]
    cache_creation_input_tokens: Option<u64>,
    #[serde(default)]
    cache_read_input_tokens: Option<u64>,
}

#[derive(Deserialize, Default)]
struct Details {
    #[serde(default)]
    cached_tokens: Option<u64>,
    #[serde(default)]
    reasoning_tokens: Option<u64>,
}

#[derive(Deserialize, Default)]
struct OpenAiUsage {
    #[serde(default)]
    prompt_tokens: u64,
    #[serde(default)]
    completion_tokens: u64,
    #[serde(default)]
    prompt_tokens_details: Option<Details>,
    #[serde(default)]
    completion_tokens_details: Option<Details>,
}

#[derive(Deserialize)]
struct WithUsage<U> {
    #[serde(default = "none")]
    usage: Option<U>,
    #[serde(default)]
    message: Option<Box<WithUsageInner>>,
    #[serde(default)]
    choices: Option<Vec<serde::de::IgnoredAny>>,
}

#[derive(Deserialize)]
struct WithUsageInner {
    #[serde(default)]
    usage: Option<AnthropicUsage>,
}

fn none<U>() -> Option<U> {
    None
}

fn from_anthropic(u: &AnthropicUsage) -> Usage {
    Usage {
        input_tokens: u.input_tokens.unwrap_or(0),
        output_tokens: u.output_tokens.unwrap_or(0),
        cache_write_tokens: u.cache_creation_input_tokens.unwrap_or(0),
        cache_read_tokens: u.cache_read_input_tokens.unwrap_or(0),
        reasoning_tokens: 0,
    }
}

fn from_openai(u: &OpenAiUsage) -> Usage {
    let cached = u
        .prompt_tokens_details
        .as_ref()
        .and_then(|d| d.cached_tokens)
        .unwrap_or(0);
    Usage {
        input_tokens: u.prompt_tokens.saturating_sub(cached),
        output_tokens: u.completion_tokens,
        cache_read_tokens: cached,
        cache_write_tokens: 0,
        reasoning_tokens: u
            .completion_tokens_details
            .as_ref()
            .and_then(|d| d.reasoning_tokens)
            .unwrap_or(0),
    }
}

/// Usage in a complete (non-streaming) response body of this dialect.
pub fn body_usage(dialect: Dialect, body: &[u8]) -> Usage {
    match dialect {
        Dialect::Anthropic => serde_json::from_slice::<WithUsage<AnthropicUsage>>(body)
            .ok()
            .and_then(|w| w.usage)
            .map(|u| from_anthropic(&u))
            .unwrap_or_default(),
        Dialect::OpenAiChat => serde_json::from_slice::<WithUsage<OpenAiUsage>>(body)
            .ok()
            .and_then(|w| w.usage)
            .map(|u| from_openai(&u))
            .unwrap_or_default(),
    }
}

/// Watches a same-dialect SSE stream for usage and in-stream errors.
pub struct StreamObserver {
    dialect: Dialect,
    parser: SseParser,
    events: Vec<SseEvent>,
    /// Drop usage-only chunks (OpenAI, when amux asked for usage and the caller did not).
    strip_usage_chunks: bool,
    pub usage: Usage,
    /// An error event went by.
    pub saw_error: bool,
    /// The stream's terminal event went by (`message_stop` / `[DONE]`).
    pub complete: bool,
}

impl StreamObserver {
    pub fn new(dialect: Dialect, strip_usage_chunks: bool) -> Self {
        StreamObserver {
            dialect,
            parser: SseParser::new(),
            events: Vec::new(),
            strip_usage_chunks,
            usage: Usage::default(),
            saw_error: false,
            complete: false,
        }
    }

    /// Observes a chunk; returns what to forward (the chunk itself unless filtering).
    pub fn chunk(&mut self, chunk: Bytes) -> Bytes {
        self.parser.feed(&chunk, &mut self.events);
        self.drain(Some(chunk))
    }

    /// Ends the stream; returns any bytes still held back by filtering.
    pub fn finish(&mut self) -> Bytes {
        self.parser.finish(&mut self.events);
        self.drain(None)
    }

    fn drain(&mut self, passthrough: Option<Bytes>) -> Bytes {
        let mut out = BytesMut::new();
        for ev in std::mem::take(&mut self.events) {
            let keep = self.inspect(&ev);
            if self.strip_usage_chunks && keep {
                write_event(&mut out, ev.event.as_deref(), &ev.data);
            }
        }
        match passthrough {
            Some(chunk) if !self.strip_usage_chunks => chunk,
            _ => out.freeze(),
        }
    }

    /// Reads usage from one event; returns false for a usage-only chunk to be stripped.
    fn inspect(&mut self, ev: &SseEvent) -> bool {
        match self.dialect {
            Dialect::Anthropic => match ev.event.as_deref() {
                Some("message_start") | Some("message_delta") => {
                    if let Ok(w) = serde_json::from_str::<WithUsage<AnthropicUsage>>(&ev.data) {
                        let u = w.usage.or(w.message.and_then(|m| m.usage));
                        if let Some(u) = u {
                            self.usage.merge_max(&from_anthropic(&u));
                        }
                    }
                    true
                }
                Some("message_stop") => {
                    self.complete = true;
                    true
                }
                Some("error") => {
                    self.saw_error = true;
                    true
                }
                _ => true,
            },
            Dialect::OpenAiChat => {
                if ev.data == "[DONE]" {
                    self.complete = true;
                    return true;
                }
                if !ev.data.contains("\"usage\"") && !ev.data.contains("\"error\"") {
                    return true;
                }
                let Ok(w) = serde_json::from_str::<WithUsage<OpenAiUsage>>(&ev.data) else {
                    return true;
                };
                if w.choices.is_none() && ev.data.contains("\"error\"") {
                    self.saw_error = true;
                }
                if let Some(u) = &w.usage {
                    self.usage.merge_max(&from_openai(u));
                    return !w.choices.as_ref().is_some_and(|c| c.is_empty());
                }
                true
            }
        }
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
        assert_eq!(
            o.usage,
            Usage {
                input_tokens: 12,
                cache_read_tokens: 100,
                output_tokens: 30,
                ..Usage::default()
            }
        );
        assert!(o.complete && !o.saw_error);
    }

    #[test]
    fn openai_usage_chunk_is_stripped_when_asked() {
        let mut o = StreamObserver::new(Dialect::OpenAiChat, true);
        let input = "data: {\"choices\":[{\"delta\":{\"content\":\"hi\"}}],\"usage\":null}\n\ndata: {\"choices\":[],\"usage\":{\"prompt_tokens\":10,\"completion_tokens\":2,\"prompt_tokens_details\":{\"cached_tokens\":4}}}\n\ndata: [DONE]\n\n";
        let out = o.chunk(Bytes::from(input));
        let out = String::from_utf8(out.to_vec()).unwrap();
        assert_eq!(
            out,
            "data: {\"choices\":[{\"delta\":{\"content\":\"hi\"}}],\"usage\":null}\n\ndata: [DONE]\n\n"
        );
        assert_eq!(
            o.usage,
            Usage {
                input_tokens: 6,
                cache_read_tokens: 4,
                output_tokens: 2,
                ..Usage::default()
            }
        );
    }

    #[test]
    fn body_usage_of_both_dialects() {
        let u = body_usage(
            Dialect::Anthropic,
            br#"{"usage":{"input_tokens":5,"output_tokens":7,"cache_creation_input_tokens":3}}"#,
        );
        assert_eq!(
            u,
            Usage {
                input_tokens: 5,
                output_tokens: 7,
                cache_write_tokens: 3,
                ..Usage::default()
            }
        );
        let u = body_usage(Dialect::OpenAiChat, br#"{"usage":{"prompt_tokens":5,"completion_tokens":7,"completion_tokens_details":{"reasoning_tokens":2}}}"#);
        assert_eq!(
            u,
            Usage {
                input_tokens: 5,
                output_tokens: 7,
                reasoning_tokens: 2,
                ..Usage::default()
            }
        );
    }
}

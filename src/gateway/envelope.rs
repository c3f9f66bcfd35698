//! The parts of an answer (a whole body, or one stream event) that carry usage, why generation
//! stopped, or an error, in any dialect: [`Envelope`], read by [`Envelope::parse`].
//!
//! Serde reads an answer's envelope through derived types that dispatch on every member name and
//! copy what they keep; most of an answer (its content) is skipped anyway. [`Envelope::parse`]
//! first reads the few members with [`Reader`], which checks what it skips as serde_json would;
//! where the reader is unsure (a number that is not a plain `u64`, an escaped key, a repeated
//! member, text that is not JSON) it gives up and serde_json reads the text, so the answer is
//! always serde's (tests hold the two to that).

use serde::Deserialize;

use crate::ir::{Dialect, Usage};
use crate::jsonscan::Reader;

#[derive(Deserialize, Default, Debug, PartialEq)]
#[serde(default)]
pub(super) struct Details {
    pub(super) cached_tokens: Option<u64>,
    pub(super) reasoning_tokens: Option<u64>,
}

/// Usage as any of the four dialects spells it (each uses a disjoint set of names).
#[derive(Deserialize, Default, Debug, PartialEq)]
#[serde(default)]
pub(super) struct AnyUsage {
    // Anthropic
    pub(super) input_tokens: Option<u64>,
    pub(super) output_tokens: Option<u64>,
    pub(super) cache_creation_input_tokens: Option<u64>,
    pub(super) cache_read_input_tokens: Option<u64>,
    // OpenAI Chat
    pub(super) prompt_tokens: Option<u64>,
    pub(super) completion_tokens: Option<u64>,
    pub(super) prompt_tokens_details: Option<Details>,
    pub(super) completion_tokens_details: Option<Details>,
    // OpenAI Responses (input_tokens / output_tokens above)
    pub(super) input_tokens_details: Option<Details>,
    pub(super) output_tokens_details: Option<Details>,
    // Gemini usageMetadata
    #[serde(rename = "promptTokenCount")]
    pub(super) prompt_token_count: Option<u64>,
    #[serde(rename = "candidatesTokenCount")]
    pub(super) candidates_token_count: Option<u64>,
    #[serde(rename = "cachedContentTokenCount")]
    pub(super) cached_content_token_count: Option<u64>,
    #[serde(rename = "thoughtsTokenCount")]
    pub(super) thoughts_token_count: Option<u64>,
    // Bedrock Converse usage
    #[serde(rename = "inputTokens")]
    pub(super) bedrock_input_tokens: Option<u64>,
    #[serde(rename = "outputTokens")]
    pub(super) bedrock_output_tokens: Option<u64>,
    #[serde(rename = "cacheReadInputTokens")]
    pub(super) bedrock_cache_read: Option<u64>,
    #[serde(rename = "cacheWriteInputTokens")]
    pub(super) bedrock_cache_write: Option<u64>,
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

#[derive(Deserialize, Debug, PartialEq)]
pub(super) struct Candidate {
    #[serde(default, rename = "finishReason")]
    pub(super) finish_reason: Option<String>,
}

/// An OpenAI Chat choice (only its finish reason).
#[derive(Deserialize, Debug, PartialEq)]
pub(super) struct Choice {
    #[serde(default)]
    pub(super) finish_reason: Option<String>,
}

/// Anthropic `message_delta.delta` (only its stop reason).
#[derive(Deserialize, Default, Debug, PartialEq)]
#[serde(default)]
pub(super) struct Delta {
    pub(super) stop_reason: Option<String>,
}

/// OpenAI Responses `incomplete_details`.
#[derive(Deserialize, Default, Debug, PartialEq)]
#[serde(default)]
pub(super) struct Incomplete {
    pub(super) reason: Option<String>,
}

/// The parts of a body or event that carry usage, completion or an error, in any dialect.
#[derive(Deserialize, Default, Debug, PartialEq)]
#[serde(default)]
pub(super) struct Envelope {
    pub(super) usage: Option<AnyUsage>,
    /// Anthropic `message_start.message`, Responses `response.*.response`.
    pub(super) message: Option<Box<Envelope>>,
    pub(super) response: Option<Box<Envelope>>,
    #[serde(rename = "usageMetadata")]
    pub(super) usage_metadata: Option<AnyUsage>,
    pub(super) choices: Option<Vec<Choice>>,
    pub(super) candidates: Option<Vec<Candidate>>,
    pub(super) error: Option<serde::de::IgnoredAny>,
    /// Anthropic: a whole message's `stop_reason`, or `message_delta.delta.stop_reason`.
    pub(super) stop_reason: Option<String>,
    pub(super) delta: Option<Delta>,
    /// Responses: `status` (`completed`, `incomplete`, `failed`) and why it is incomplete.
    pub(super) status: Option<String>,
    pub(super) incomplete_details: Option<Incomplete>,
    /// Bedrock Converse `stopReason`.
    #[serde(rename = "stopReason")]
    pub(super) bedrock_stop_reason: Option<String>,
}

impl Envelope {
    pub(super) fn usage(&self, dialect: Dialect) -> Option<Usage> {
        let u = self.usage.as_ref().or(self.usage_metadata.as_ref())?;
        Some(u.to_ir(dialect))
    }

    pub(super) fn nested_usage(&self, dialect: Dialect) -> Option<Usage> {
        self.usage(dialect)
            .or_else(|| self.message.as_ref().and_then(|m| m.usage(dialect)))
            .or_else(|| self.response.as_ref().and_then(|r| r.usage(dialect)))
    }

    /// Why generation stopped, as this dialect says it.
    pub(super) fn finish_reason(&self, dialect: Dialect) -> Option<String> {
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

impl Details {
    fn read(r: &mut Reader<'_>) -> Option<Details> {
        let [cached_tokens, reasoning_tokens] = r.each(["cached_tokens", "reasoning_tokens"], Reader::opt_u64)?;
        Some(Details { cached_tokens, reasoning_tokens })
    }
}

impl AnyUsage {
    const NAMES: [&'static str; 18] = [
        "input_tokens",
        "output_tokens",
        "cache_creation_input_tokens",
        "cache_read_input_tokens",
        "prompt_tokens",
        "completion_tokens",
        "prompt_tokens_details",
        "completion_tokens_details",
        "input_tokens_details",
        "output_tokens_details",
        "promptTokenCount",
        "candidatesTokenCount",
        "cachedContentTokenCount",
        "thoughtsTokenCount",
        "inputTokens",
        "outputTokens",
        "cacheReadInputTokens",
        "cacheWriteInputTokens",
    ];

    fn read(r: &mut Reader<'_>) -> Option<AnyUsage> {
        let mut u = AnyUsage::default();
        r.fields(Self::NAMES, |r, i| {
            let details = match i {
                6 => &mut u.prompt_tokens_details,
                7 => &mut u.completion_tokens_details,
                8 => &mut u.input_tokens_details,
                9 => &mut u.output_tokens_details,
                _ => {
                    let n = match i {
                        0 => &mut u.input_tokens,
                        1 => &mut u.output_tokens,
                        2 => &mut u.cache_creation_input_tokens,
                        3 => &mut u.cache_read_input_tokens,
                        4 => &mut u.prompt_tokens,
                        5 => &mut u.completion_tokens,
                        10 => &mut u.prompt_token_count,
                        11 => &mut u.candidates_token_count,
                        12 => &mut u.cached_content_token_count,
                        13 => &mut u.thoughts_token_count,
                        14 => &mut u.bedrock_input_tokens,
                        15 => &mut u.bedrock_output_tokens,
                        16 => &mut u.bedrock_cache_read,
                        _ => &mut u.bedrock_cache_write,
                    };
                    *n = r.opt_u64()?;
                    return Some(());
                }
            };
            *details = r.opt(Details::read)?;
            Some(())
        })?;
        Some(u)
    }
}

impl Envelope {
    /// The envelope of a body or event: read by [`Reader`] where it can, else by serde_json
    /// (`None` when serde_json refuses the text).
    pub(super) fn parse(text: &[u8]) -> Option<Envelope> {
        crate::bytescan::text(text).ok().and_then(Self::read_text).or_else(|| serde_json::from_slice(text).ok())
    }

    /// For the fuzz target: whether the reader, where it reads `text`, reads what serde_json
    /// reads.
    #[doc(hidden)]
    pub fn reader_agrees(text: &[u8]) -> bool {
        let Some(read) = crate::bytescan::text(text).ok().and_then(Self::read_text) else { return true };
        serde_json::from_slice::<Envelope>(text).is_ok_and(|s| s == read)
    }

    /// The reader's reading of a whole text (`None`: left to serde_json).
    fn read_text(text: &str) -> Option<Envelope> {
        let mut r = Reader::new(text);
        let e = Self::read(&mut r)?;
        r.end()?;
        Some(e)
    }

    fn read(r: &mut Reader<'_>) -> Option<Envelope> {
        let mut e = Envelope::default();
        let names = [
            "usage",
            "message",
            "response",
            "usageMetadata",
            "choices",
            "candidates",
            "error",
            "stop_reason",
            "delta",
            "status",
            "incomplete_details",
            "stopReason",
        ];
        r.fields(names, |r, i| {
            match i {
                0 => e.usage = r.opt(AnyUsage::read)?,
                1 => e.message = r.opt(|r| Self::read(r).map(Box::new))?,
                2 => e.response = r.opt(|r| Self::read(r).map(Box::new))?,
                3 => e.usage_metadata = r.opt(AnyUsage::read)?,
                4 => e.choices = r.opt(|r| r.list(Choice::read))?,
                5 => e.candidates = r.opt(|r| r.list(Candidate::read))?,
                6 => {
                    e.error = r.opt(|r| r.skip().map(|()| serde::de::IgnoredAny))?;
                }
                7 => e.stop_reason = r.opt_string()?,
                8 => e.delta = r.opt(Delta::read)?,
                9 => e.status = r.opt_string()?,
                10 => e.incomplete_details = r.opt(Incomplete::read)?,
                _ => e.bedrock_stop_reason = r.opt_string()?,
            }
            Some(())
        })?;
        Some(e)
    }
}

/// An object with one string member the envelope reads (`name`; the others are skipped).
fn one_string(r: &mut Reader<'_>, name: &str) -> Option<Option<String>> {
    let mut v = None;
    r.fields([name], |r, _| {
        v = r.opt_string()?;
        Some(())
    })?;
    Some(v)
}

impl Choice {
    fn read(r: &mut Reader<'_>) -> Option<Choice> {
        one_string(r, "finish_reason").map(|finish_reason| Choice { finish_reason })
    }
}

impl Candidate {
    fn read(r: &mut Reader<'_>) -> Option<Candidate> {
        one_string(r, "finishReason").map(|finish_reason| Candidate { finish_reason })
    }
}

impl Delta {
    fn read(r: &mut Reader<'_>) -> Option<Delta> {
        one_string(r, "stop_reason").map(|stop_reason| Delta { stop_reason })
    }
}

impl Incomplete {
    fn read(r: &mut Reader<'_>) -> Option<Incomplete> {
        one_string(r, "reason").map(|reason| Incomplete { reason })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jsonscan::mutations;
    use crate::sse::SseParser;

    /// Every recorded answer body and stream event of every dialect, as texts.
    fn recorded() -> Vec<Vec<u8>> {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
        let mut out = Vec::new();
        for dir in ["anthropic", "openai_chat", "openai_responses", "gemini", "bedrock_converse"] {
            for kind in ["responses", "streams", "errors"] {
                let Ok(files) = std::fs::read_dir(root.join(dir).join(kind)) else { continue };
                for f in files {
                    let bytes = std::fs::read(f.unwrap().path()).unwrap();
                    if kind == "streams" {
                        let mut events = Vec::new();
                        let mut p = SseParser::new();
                        p.feed(&bytes, &mut events);
                        p.finish(&mut events);
                        out.extend(events.into_iter().map(|e| e.data.into_bytes()));
                    } else {
                        out.push(bytes);
                    }
                }
            }
        }
        out
    }

    /// The reader gives serde_json's envelope on every recorded answer and event, and on seeded
    /// mutations of them; it reads every recorded object serde reads (a mutation often is not
    /// JSON any more: at least a quarter of all the texts is read by the reader).
    #[test]
    fn the_reader_reads_what_serde_reads() {
        let texts = recorded();
        assert!(texts.len() > 100, "{}", texts.len());
        let (mut read, mut total) = (0, 0);
        for (n, text) in texts.iter().enumerate() {
            let mut all = mutations(text, 40, 7 + n as u64);
            all.push(text.clone());
            for t in &all {
                let serde = serde_json::from_slice::<Envelope>(t).ok();
                assert_eq!(Envelope::parse(t), serde, "{}", String::from_utf8_lossy(t));
                total += 1;
                if let Ok(s) = std::str::from_utf8(t)
                    && let Some(e) = Envelope::read_text(s)
                {
                    assert_eq!(Some(e), serde);
                    read += 1;
                }
            }
            // (An array is a struct to serde, field by field in order: the reader leaves it.)
            if let Ok(s) = std::str::from_utf8(text)
                && s.trim_start().starts_with('{')
                && serde_json::from_str::<Envelope>(s).is_ok()
            {
                assert!(Envelope::read_text(s).is_some() || s.contains('\\'), "left to serde: {s}");
            }
        }
        assert!(read * 4 > total, "the reader read {read} of {total}");
    }

    #[test]
    fn null_members_and_shapes_serde_refuses() {
        for text in [
            r#"{"usage":null,"choices":null,"error":null,"message":null,"stop_reason":null}"#,
            r#"{"usage":{"input_tokens":null,"prompt_tokens_details":null}}"#,
            r#"{"error":{"type":"x"},"choices":[{"finish_reason":"stop"},{}]}"#,
            r#"{"usage":{"input_tokens":1.5}}"#,
            r#"{"usage":{"input_tokens":-1}}"#,
            r#"{"usage":{"input_tokens":18446744073709551616}}"#,
            r#"{"usage":[1,2]}"#,
            r#"{"usage":{"input_tokens":1,"input_tokens":2}}"#,
            r#"{"stop_reason":1}"#,
            r#"{"stop_reason":"a\u00e9"}"#,
            r#"{"message":{"message":{"usage":{"output_tokens":3}}}}"#,
            r#"{"choices":[1]}"#,
            r#"{} x"#,
        ] {
            let serde = serde_json::from_str::<Envelope>(text).ok();
            assert_eq!(Envelope::parse(text.as_bytes()), serde, "{text}");
        }
    }
}

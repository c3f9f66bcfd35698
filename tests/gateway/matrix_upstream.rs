//! The four upstream dialects' canned answers for the matrix tests: one text answer
//! ("Hello" + " from <dialect>") with the same usage in every dialect's spelling (20 uncached
//! input tokens, 10 read from the cache, 7 output), as JSON and as an SSE stream.

/// Upstream dialects (and the alias of the matrix config that reaches each).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Up {
    Anthropic,
    Chat,
    Responses,
    Gemini,
}

impl Up {
    pub fn alias(self) -> &'static str {
        match self {
            Up::Anthropic => "m-anthropic",
            Up::Chat => "m-chat",
            Up::Responses => "m-responses",
            Up::Gemini => "m-gemini",
        }
    }

    /// The text the upstream answers.
    pub fn text(self) -> String {
        format!("Hello{}", self.tail())
    }

    fn tail(self) -> &'static str {
        match self {
            Up::Anthropic => " from anthropic",
            Up::Chat => " from chat",
            Up::Responses => " from responses",
            Up::Gemini => " from gemini",
        }
    }

    /// The path (and query) amux must call.
    pub fn path(self, stream: bool) -> &'static str {
        match (self, stream) {
            (Up::Anthropic, _) => "/v1/messages",
            (Up::Chat, _) => "/v1/chat/completions",
            (Up::Responses, _) => "/v1/responses",
            (Up::Gemini, false) => "/v1beta/models/up-model:generateContent",
            (Up::Gemini, true) => "/v1beta/models/up-model:streamGenerateContent?alt=sse",
        }
    }

    pub fn json(self) -> String {
        let tail = self.tail();
        match self {
            Up::Anthropic => format!(
                r#"{{"id":"msg_01","type":"message","role":"assistant","model":"up-model","content":[{{"type":"text","text":"Hello{tail}"}}],"stop_reason":"end_turn","stop_sequence":null,"usage":{{"input_tokens":20,"cache_read_input_tokens":10,"cache_creation_input_tokens":0,"output_tokens":7}}}}"#
            ),
            Up::Chat => format!(
                r#"{{"id":"chatcmpl-1","object":"chat.completion","created":1700000000,"model":"up-model","choices":[{{"index":0,"message":{{"role":"assistant","content":"Hello{tail}"}},"finish_reason":"stop","logprobs":null}}],"usage":{{"prompt_tokens":30,"completion_tokens":7,"total_tokens":37,"prompt_tokens_details":{{"cached_tokens":10}}}}}}"#
            ),
            Up::Responses => format!(
                r#"{{"id":"resp_1","object":"response","created_at":1700000000,"status":"completed","model":"up-model","output":[{}],"usage":{}}}"#,
                responses_message(&format!("Hello{tail}"), "completed"),
                RESPONSES_USAGE
            ),
            Up::Gemini => format!(
                r#"{{"candidates":[{{"content":{{"role":"model","parts":[{{"text":"Hello{tail}"}}]}},"finishReason":"STOP","index":0}}],"usageMetadata":{GEMINI_USAGE},"modelVersion":"up-model","responseId":"r1"}}"#
            ),
        }
    }

    pub fn sse(self) -> String {
        let tail = self.tail();
        match self {
            Up::Anthropic => [
                r#"event: message_start
data: {"type":"message_start","message":{"id":"msg_01","type":"message","role":"assistant","model":"up-model","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":20,"cache_read_input_tokens":10,"cache_creation_input_tokens":0,"output_tokens":1}}}"#.to_string(),
                r#"event: content_block_start
data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#.to_string(),
                r#"event: ping
data: {"type":"ping"}"#.to_string(),
                r#"event: content_block_delta
data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hello"}}"#.to_string(),
                format!(
                    r#"event: content_block_delta
data: {{"type":"content_block_delta","index":0,"delta":{{"type":"text_delta","text":"{tail}"}}}}"#
                ),
                r#"event: content_block_stop
data: {"type":"content_block_stop","index":0}"#.to_string(),
                r#"event: message_delta
data: {"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":7}}"#.to_string(),
                r#"event: message_stop
data: {"type":"message_stop"}"#.to_string(),
            ]
            .map(|f| f + "\n\n")
            .concat(),
            Up::Chat => {
                let chunk = |delta: &str, finish: &str| {
                    format!(
                        r#"data: {{"id":"c1","object":"chat.completion.chunk","created":1,"model":"up-model","choices":[{{"index":0,"delta":{delta},"finish_reason":{finish}}}]}}"#
                    )
                };
                [
                    chunk(r#"{"role":"assistant","content":""}"#, "null"),
                    chunk(r#"{"content":"Hello"}"#, "null"),
                    chunk(&format!(r#"{{"content":"{tail}"}}"#), "null"),
                    chunk("{}", r#""stop""#),
                    r#"data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"up-model","choices":[],"usage":{"prompt_tokens":30,"completion_tokens":7,"total_tokens":37,"prompt_tokens_details":{"cached_tokens":10}}}"#.to_string(),
                    "data: [DONE]".to_string(),
                ]
                .map(|f| f + "\n\n")
                .concat()
            }
            Up::Responses => {
                let text = format!("Hello{tail}");
                let response = |status: &str, output: &str, usage: &str| {
                    format!(
                        r#"{{"id":"resp_1","object":"response","created_at":1700000000,"status":"{status}","model":"up-model","output":[{output}],"usage":{usage}}}"#
                    )
                };
                let part = |t: &str| format!(r#"{{"type":"output_text","text":"{t}","annotations":[],"logprobs":[]}}"#);
                let at = r#""item_id":"msg_1","output_index":0,"content_index":0"#;
                let events = [
                    format!(r#"{{"type":"response.created","response":{}}}"#, response("in_progress", "", "null")),
                    format!(r#"{{"type":"response.in_progress","response":{}}}"#, response("in_progress", "", "null")),
                    format!(
                        r#"{{"type":"response.output_item.added","output_index":0,"item":{}}}"#,
                        responses_message("", "in_progress")
                    ),
                    format!(r#"{{"type":"response.content_part.added",{at},"part":{}}}"#, part("")),
                    format!(r#"{{"type":"response.output_text.delta",{at},"delta":"Hello","logprobs":[]}}"#),
                    format!(r#"{{"type":"response.output_text.delta",{at},"delta":"{tail}","logprobs":[]}}"#),
                    format!(r#"{{"type":"response.output_text.done",{at},"text":"{text}","logprobs":[]}}"#),
                    format!(r#"{{"type":"response.content_part.done",{at},"part":{}}}"#, part(&text)),
                    format!(
                        r#"{{"type":"response.output_item.done","output_index":0,"item":{}}}"#,
                        responses_message(&text, "completed")
                    ),
                    format!(
                        r#"{{"type":"response.completed","response":{}}}"#,
                        response("completed", &responses_message(&text, "completed"), RESPONSES_USAGE)
                    ),
                ];
                events
                    .iter()
                    .enumerate()
                    .map(|(i, e)| {
                        let v: serde_json::Value = serde_json::from_str(e).expect("canned event is JSON");
                        let mut v = v;
                        v["sequence_number"] = i.into();
                        format!("event: {}\ndata: {v}\n\n", v["type"].as_str().unwrap_or(""))
                    })
                    .collect()
            }
            Up::Gemini => [
                r#"data: {"candidates":[{"content":{"role":"model","parts":[{"text":"Hello"}]},"index":0}],"modelVersion":"up-model","responseId":"r1"}"#.to_string(),
                format!(
                    r#"data: {{"candidates":[{{"content":{{"role":"model","parts":[{{"text":"{tail}"}}]}},"finishReason":"STOP","index":0}}],"usageMetadata":{GEMINI_USAGE},"modelVersion":"up-model","responseId":"r1"}}"#
                ),
            ]
            .map(|f| f + "\r\n\r\n")
            .concat(),
        }
    }
}

const RESPONSES_USAGE: &str = r#"{"input_tokens":30,"input_tokens_details":{"cached_tokens":10,"cache_write_tokens":0},"output_tokens":7,"output_tokens_details":{"reasoning_tokens":0},"total_tokens":37}"#;
const GEMINI_USAGE: &str =
    r#"{"promptTokenCount":30,"cachedContentTokenCount":10,"candidatesTokenCount":7,"totalTokenCount":37}"#;

fn responses_message(text: &str, status: &str) -> String {
    let content = if text.is_empty() {
        String::new()
    } else {
        format!(r#"{{"type":"output_text","text":"{text}","annotations":[],"logprobs":[]}}"#)
    };
    format!(r#"{{"id":"msg_1","type":"message","status":"{status}","role":"assistant","content":[{content}]}}"#)
}

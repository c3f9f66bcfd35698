//! amux calling Bedrock (provider kind `bedrock`) against a mock that speaks Bedrock Runtime's
//! protocol: Converse JSON, ConverseStream event-stream frames, errors named by
//! `x-amzn-ErrorType`, exceptions mid-stream. The mock checks every request's SigV4 signature:
//! it signs what it received (method, path as sent, the headers the signature names, the body)
//! with the test credentials at the request's `x-amz-date` and compares (the signer itself is
//! checked against AWS's published test vector in `providers::aws`).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::Request;
use bytes::{Bytes, BytesMut};
use http::{HeaderMap, Response};
use http_body_util::BodyExt;
use serde_json::{Value, json};

use amux::eventstream::{self, Message};

use crate::support::*;

pub(crate) const AKID: &str = "AKIDEXAMPLE";
pub(crate) const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
pub(crate) const TOKEN: &str = "session-token-example";

#[derive(Clone)]
pub(crate) enum BedrockReply {
    Json(u16, Vec<(&'static str, &'static str)>, String),
    Frames(Vec<Message>),
}

#[derive(Clone, Debug)]
pub(crate) struct Seen {
    pub(crate) path: String,
    pub(crate) body: Value,
    pub(crate) raw: String,
    pub(crate) signature_ok: Result<(), String>,
}

pub(crate) struct BedrockMock {
    pub(crate) addr: SocketAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
    replies: Arc<Mutex<Vec<BedrockReply>>>,
}

/// Checks the request's SigV4 signature against the test credentials.
fn check_signature(path: &str, headers: &HeaderMap, body: &[u8]) -> Result<(), String> {
    let want = crate::support::sigv4::Expected {
        access_key_id: AKID,
        secret: SECRET,
        session_token: Some(TOKEN),
        region: "us-west-2",
        service: "bedrock",
    };
    crate::support::sigv4::verify("POST", path, headers, body, &want)
}

impl BedrockMock {
    pub(crate) async fn start() -> BedrockMock {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let replies: Arc<Mutex<Vec<BedrockReply>>> = Arc::new(Mutex::new(Vec::new()));
        let (s, r) = (seen.clone(), replies.clone());
        let app = axum::Router::new().fallback(move |req: Request| {
            let (s, r) = (s.clone(), r.clone());
            async move {
                let (parts, body) = req.into_parts();
                let body = body.collect().await.unwrap().to_bytes();
                let path = parts.uri.path_and_query().map(|p| p.to_string()).unwrap_or_default();
                let signature_ok = check_signature(&path, &parts.headers, &body);
                let body_json = serde_json::from_slice(&body).unwrap_or(Value::Null);
                let raw = String::from_utf8_lossy(&body).into_owned();
                s.lock().unwrap().push(Seen { path, body: body_json, raw, signature_ok: signature_ok.clone() });
                if let Err(e) = signature_ok {
                    let msg = json!({"message": format!("The request signature we calculated does not match: {e}")});
                    return Response::builder()
                        .status(403)
                        .header("x-amzn-errortype", "InvalidSignatureException:http://internal.amazon.com/coral/")
                        .body(Body::from(msg.to_string()))
                        .unwrap();
                }
                let reply = r.lock().unwrap().remove(0);
                match reply {
                    BedrockReply::Json(status, headers, body) => {
                        let mut b = Response::builder().status(status).header("content-type", "application/json");
                        for (k, v) in headers {
                            b = b.header(k, v);
                        }
                        b.body(Body::from(body)).unwrap()
                    }
                    BedrockReply::Frames(msgs) => {
                        let mut out = BytesMut::new();
                        for m in &msgs {
                            eventstream::encode(m, &mut out).unwrap();
                        }
                        // Delivered in pieces that cut frames, as TCP may.
                        let pieces: Vec<Result<Bytes, std::io::Error>> =
                            out.freeze().chunks(29).map(|c| Ok(Bytes::copy_from_slice(c))).collect();
                        Response::builder()
                            .header("content-type", eventstream::CONTENT_TYPE)
                            .body(Body::from_stream(futures_util::stream::iter(pieces)))
                            .unwrap()
                    }
                }
            }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        BedrockMock { addr, seen, replies }
    }

    pub(crate) fn push(&self, r: BedrockReply) {
        self.replies.lock().unwrap().push(r);
    }

    pub(crate) fn last(&self) -> Seen {
        self.seen.lock().unwrap().last().cloned().unwrap()
    }
}

fn config(mock: &BedrockMock) -> String {
    format!(
        "discover_env: false
router: {{retries: 0}}
providers:
  aws:
    kind: bedrock
    region: us-west-2
    base_url: 'http://{addr}'
    aws_access_key_id: {AKID}
    aws_secret_access_key: {SECRET}
    aws_session_token: {TOKEN}
    timeouts: {{response_secs: 5, idle_secs: 5}}
models:
  - {{name: claude-bedrock, provider: aws, model: 'us.anthropic.claude-sonnet-4-5-20250929-v1:0'}}
  - {{name: nova, provider: aws, model: 'us.amazon.nova-2-lite-v1:0'}}
",
        addr = mock.addr
    )
}

pub(crate) const CONVERSE_ANSWER: &str = r#"{"output":{"message":{"role":"assistant","content":[{"text":"Hello from Bedrock"}]}},"stopReason":"end_turn","usage":{"inputTokens":12,"outputTokens":4,"totalTokens":20,"cacheReadInputTokens":4},"metrics":{"latencyMs":100}}"#;

const MESSAGES_ANSWER: &str = r#"{"id":"msg_bdrk_1","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929","content":[{"type":"text","text":"Hello from Claude on Bedrock"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":12,"output_tokens":4,"cache_read_input_tokens":4,"cache_creation_input_tokens":0}}"#;

#[tokio::test]
async fn an_anthropic_caller_reaches_claude_by_invoke_model_bytes_spliced() {
    let mock = BedrockMock::start().await;
    mock.push(BedrockReply::Json(200, vec![], MESSAGES_ANSWER.into()));
    let gw = start_gateway(&config(&mock)).await;
    let body = r#"{"model":"claude-bedrock","max_tokens":50,"system":"Be brief.","messages":[{"role":"user","content":[{"type":"thinking","thinking":"t","signature":"EqQB\u00e9=="},{"type":"text","text":"Hi"}]}],"x_unknown":{"kept":true}}"#;
    let beta = [
        ("anthropic-beta", "interleaved-thinking-2025-05-14,claude-code-20250219"),
        ("anthropic-version", "2023-06-01"),
    ];
    let a = post(gw.addr, "/v1/messages?beta=true", &beta, body).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body, MESSAGES_ANSWER, "the answer's bytes are forwarded");
    assert_eq!(a.headers["x-amux-dropped"], "anthropic_beta[claude-code-20250219]");
    let seen = mock.last();
    seen.signature_ok.unwrap();
    assert_eq!(seen.path, "/model/us.anthropic.claude-sonnet-4-5-20250929-v1%3A0/invoke");
    assert_eq!(
        seen.raw,
        r#"{"anthropic_version":"bedrock-2023-05-31","max_tokens":50,"system":"Be brief.","messages":[{"role":"user","content":[{"type":"thinking","thinking":"t","signature":"EqQB\u00e9=="},{"type":"text","text":"Hi"}]}],"x_unknown":{"kept":true},"anthropic_beta":["interleaved-thinking-2025-05-14"]}"#
    );
    let recs = gw.records.wait_for(1).await;
    assert!(recs[0].passthrough);
    assert_eq!(recs[0].usage.cache_read_tokens, 4);
}

#[tokio::test]
async fn an_anthropic_stream_from_invoke_model_chunks() {
    let events = [
        r#"{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"claude","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":30,"output_tokens":1}}}"#,
        r#"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#,
        r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi"}}"#,
        r#"{"type":"content_block_stop","index":0}"#,
        r#"{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":6}}"#,
        r#"{"type":"message_stop","amazon-bedrock-invocationMetrics":{"inputTokenCount":30,"outputTokenCount":6,"invocationLatency":300,"firstByteLatency":100}}"#,
    ];
    let mock = BedrockMock::start().await;
    let b64 = |e: &str| base64::Engine::encode(&base64::engine::general_purpose::STANDARD, e);
    mock.push(BedrockReply::Frames(
        events.iter().map(|e| Message::event("chunk", json!({"bytes": b64(e), "p": "abcd"}).to_string())).collect(),
    ));
    let gw = start_gateway(&config(&mock)).await;
    let body =
        r#"{"model":"claude-bedrock","max_tokens":50,"stream":true,"messages":[{"role":"user","content":"Hi"}]}"#;
    let a = post(gw.addr, "/v1/messages", &[], body).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert!(a.headers["content-type"].to_str().unwrap().starts_with("text/event-stream"));
    let seen = mock.last();
    seen.signature_ok.unwrap();
    assert_eq!(seen.path, "/model/us.anthropic.claude-sonnet-4-5-20250929-v1%3A0/invoke-with-response-stream");
    assert!(seen.body.get("stream").is_none() && seen.body.get("model").is_none());
    let got = sse_events(&a.body);
    let want: Vec<(Option<String>, String)> = events
        .iter()
        .map(|e| (serde_json::from_str::<Value>(e).unwrap()["type"].as_str().map(str::to_string), e.to_string()))
        .collect();
    assert_eq!(got, want, "each event's JSON as Bedrock sent it");
    let recs = gw.records.wait_for(1).await;
    assert_eq!((recs[0].usage.input_tokens, recs[0].usage.output_tokens), (30, 6));
    assert_eq!(recs[0].outcome, amux::usage::Outcome::Success);
}

#[tokio::test]
async fn an_invoke_model_stream_ends_with_the_callers_error_on_an_exception_or_an_oversized_event() {
    let b64 = |e: &str| base64::Engine::encode(&base64::engine::general_purpose::STANDARD, e);
    let chunk = |e: &str| Message::event("chunk", json!({"bytes": b64(e)}).to_string());
    let start = r#"{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"claude","content":[],"usage":{"input_tokens":30,"output_tokens":1}}}"#;
    let mock = BedrockMock::start().await;
    mock.push(BedrockReply::Frames(vec![
        chunk(start),
        Message::exception("throttlingException", r#"{"message":"Too many tokens, slow down."}"#),
        chunk(r#"{"type":"message_stop"}"#),
    ]));
    let big = format!(
        r#"{{"type":"content_block_delta","index":0,"delta":{{"type":"text_delta","text":"{}"}}}}"#,
        "z".repeat(3000)
    );
    mock.push(BedrockReply::Frames(vec![chunk(start), chunk(&big), chunk(r#"{"type":"message_stop"}"#)]));
    let gw = start_gateway(&format!("{}limits: {{max_stream_event_bytes: 2000}}\n", config(&mock))).await;
    let body =
        r#"{"model":"claude-bedrock","max_tokens":50,"stream":true,"messages":[{"role":"user","content":"Hi"}]}"#;
    // An exception mid-stream: the Anthropic error event, and nothing after it.
    let a = post(gw.addr, "/v1/messages", &[], body).await;
    assert_eq!(a.status, 200, "{}", a.body);
    let events = sse_events(&a.body);
    assert_eq!(events.len(), 2, "{}", a.body);
    assert_eq!(events[0], (Some("message_start".to_string()), start.to_string()));
    let (name, data) = &events[1];
    assert_eq!(name.as_deref(), Some("error"));
    assert!(data.contains("rate_limit_error") && data.contains("slow down"), "{data}");
    let recs = gw.records.wait_for(1).await;
    assert_eq!(recs[0].usage.input_tokens, 30, "usage read from the events before the exception");
    assert!(matches!(recs[0].outcome, amux::usage::Outcome::Error { status: 502, .. }), "{:?}", recs[0].outcome);
    // An event past limits.max_stream_event_bytes: the limit's error event, as for an SSE upstream.
    let a = post(gw.addr, "/v1/messages", &[], body).await;
    let events = sse_events(&a.body);
    assert_eq!(events.len(), 2, "{}", a.body);
    let (name, data) = &events[1];
    assert_eq!(name.as_deref(), Some("error"));
    assert!(data.contains("max_stream_event_bytes") && data.contains("larger than 2000 bytes"), "{data}");
    let recs = gw.records.wait_for(2).await;
    assert!(matches!(recs[1].outcome, amux::usage::Outcome::Error { status: 502, .. }), "{:?}", recs[1].outcome);
    assert_eq!(recs[1].usage.input_tokens, 30);
}

#[tokio::test]
async fn an_openai_caller_reaches_claude_by_converse() {
    let mock = BedrockMock::start().await;
    mock.push(BedrockReply::Json(200, vec![], CONVERSE_ANSWER.into()));
    let gw = start_gateway(&config(&mock)).await;
    let body = r#"{"model":"claude-bedrock","max_tokens":50,"temperature":0.5,"top_p":0.9,"messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Hi"}]}"#;
    let a = post(gw.addr, "/v1/chat/completions", &[], body).await;
    assert_eq!(a.status, 200, "{}", a.body);
    let seen = mock.last();
    seen.signature_ok.unwrap();
    assert_eq!(seen.path, "/model/us.anthropic.claude-sonnet-4-5-20250929-v1%3A0/converse");
    assert_eq!(seen.body["system"], json!([{"text": "Be brief."}]));
    assert_eq!(a.json()["choices"][0]["message"]["content"], "Hello from Bedrock");
    // Claude takes no sampling parameters, on Bedrock as on Anthropic's API: left out, reported.
    assert_eq!(seen.body["inferenceConfig"], json!({"maxTokens": 50}));
    assert_eq!(a.headers["x-amux-dropped"], "temperature, top_p");
    // Other families on Bedrock take them.
    mock.push(BedrockReply::Json(200, vec![], CONVERSE_ANSWER.into()));
    let a = post(gw.addr, "/v1/chat/completions", &[], &body.replace("claude-bedrock", "nova")).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(mock.last().body["inferenceConfig"], json!({"maxTokens": 50, "temperature": 0.5, "topP": 0.9}));
    assert!(a.headers.get("x-amux-dropped").is_none());
}

#[tokio::test]
async fn an_openai_stream_from_converse_stream_frames() {
    let mock = BedrockMock::start().await;
    let ev = |t: &str, p: Value| Message::event(t, p.to_string());
    mock.push(BedrockReply::Frames(vec![
        ev("messageStart", json!({"p": "abcdef", "role": "assistant"})),
        ev("contentBlockDelta", json!({"contentBlockIndex": 0, "delta": {"text": "Hel"}})),
        ev("contentBlockDelta", json!({"contentBlockIndex": 0, "delta": {"text": "lo"}})),
        ev("contentBlockStop", json!({"contentBlockIndex": 0})),
        ev("messageStop", json!({"stopReason": "end_turn"})),
        ev(
            "metadata",
            json!({"usage": {"inputTokens": 9, "outputTokens": 2, "totalTokens": 11}, "metrics": {"latencyMs": 5}}),
        ),
    ]));
    let gw = start_gateway(&config(&mock)).await;
    let body = r#"{"model":"nova","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"Hi"}],"reasoning_effort":"high"}"#;
    let a = post(gw.addr, "/v1/chat/completions", &[], body).await;
    assert_eq!(a.status, 200, "{}", a.body);
    let seen = mock.last();
    seen.signature_ok.unwrap();
    assert_eq!(seen.path, "/model/us.amazon.nova-2-lite-v1%3A0/converse-stream");
    assert_eq!(seen.body["additionalModelRequestFields"]["reasoningConfig"]["maxReasoningEffort"], "high");
    let events = sse_events(&a.body);
    let text: String = events
        .iter()
        .filter_map(|(_, d)| serde_json::from_str::<Value>(d).ok())
        .filter_map(|v| v["choices"][0]["delta"]["content"].as_str().map(str::to_string))
        .collect();
    assert_eq!(text, "Hello");
    assert_eq!(events.last().unwrap().1, "[DONE]");
    let recs = gw.records.wait_for(1).await;
    assert_eq!((recs[0].usage.input_tokens, recs[0].usage.output_tokens), (9, 2));
}

#[tokio::test]
async fn bedrock_errors_keep_their_meaning() {
    let mock = BedrockMock::start().await;
    mock.push(BedrockReply::Json(
        429,
        vec![("x-amzn-errortype", "ThrottlingException:http://internal.amazon.com/coral/com.amazon.bedrock/")],
        r#"{"message":"Too many requests, please wait before trying again."}"#.into(),
    ));
    mock.push(BedrockReply::Json(
        400,
        vec![("x-amzn-errortype", "ValidationException")],
        r#"{"message":"Input is too long for requested model."}"#.into(),
    ));
    mock.push(BedrockReply::Frames(vec![
        Message::event("messageStart", r#"{"role":"assistant"}"#),
        Message::event("contentBlockDelta", r#"{"contentBlockIndex":0,"delta":{"text":"Part"}}"#),
        Message::exception("modelStreamErrorException", r#"{"message":"The model stopped.","originalStatusCode":500}"#),
    ]));
    let gw = start_gateway(&config(&mock)).await;
    let body = r#"{"model":"claude-bedrock","max_tokens":50,"messages":[{"role":"user","content":"Hi"}]}"#;
    let a = post(gw.addr, "/v1/messages", &[], body).await;
    assert_eq!(a.status, 429, "{}", a.body);
    assert_eq!(a.json()["error"]["type"], "rate_limit_error");
    let a = post(gw.addr, "/v1/messages", &[], body).await;
    assert_eq!(a.status, 400);
    assert!(a.json()["error"]["message"].as_str().unwrap().contains("prompt is too long"), "{}", a.body);
    let stream = body.replace("\"max_tokens\":50", "\"max_tokens\":50,\"stream\":true");
    let a = post(gw.addr, "/v1/messages", &[], &stream).await;
    assert_eq!(a.status, 200);
    let events = sse_events(&a.body);
    let (name, data) = events.last().unwrap();
    assert_eq!(name.as_deref(), Some("error"));
    assert!(data.contains("The model stopped."), "{data}");
    assert!(mock.seen.lock().unwrap().iter().all(|s| s.signature_ok.is_ok()));
}

#[tokio::test]
async fn count_tokens_asks_bedrock_signed_and_falls_back_to_the_estimate() {
    let mock = BedrockMock::start().await;
    mock.push(BedrockReply::Json(200, vec![], r#"{"inputTokens":17}"#.into()));
    mock.push(BedrockReply::Json(
        400,
        vec![("x-amzn-errortype", "ValidationException")],
        r#"{"message":"The provided model doesn't support counting tokens."}"#.into(),
    ));
    let gw = start_gateway(&config(&mock)).await;
    let body = r#"{"model":"claude-bedrock","messages":[{"role":"user","content":"Hi there"}]}"#;
    let a = post(gw.addr, "/v1/messages/count_tokens", &[], body).await;
    assert_eq!((a.status, a.json()["input_tokens"].as_u64()), (200, Some(17)), "{}", a.body);
    assert_eq!(a.headers["x-amux-token-count"], "exact");
    let seen = mock.last();
    seen.signature_ok.unwrap();
    assert_eq!(seen.path, "/model/us.anthropic.claude-sonnet-4-5-20250929-v1%3A0/count-tokens");
    assert_eq!(seen.body["input"]["converse"]["messages"][0]["content"][0]["text"], "Hi there");
    let a = post(gw.addr, "/v1/messages/count_tokens", &[], &body.replace("claude-bedrock", "nova")).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.headers["x-amux-token-count"], "estimate");
}

#[tokio::test]
async fn a_converse_caller_reaches_bedrock_on_the_byte_path() {
    let mock = BedrockMock::start().await;
    mock.push(BedrockReply::Json(200, vec![], CONVERSE_ANSWER.into()));
    let ev = |t: &str, p: Value| Message::event(t, p.to_string());
    let frames = vec![
        ev("messageStart", json!({"role": "assistant"})),
        ev("contentBlockDelta", json!({"contentBlockIndex": 0, "delta": {"text": "Hi"}})),
        ev("contentBlockStop", json!({"contentBlockIndex": 0})),
        ev("messageStop", json!({"stopReason": "end_turn"})),
        ev(
            "metadata",
            json!({"usage": {"inputTokens": 7, "outputTokens": 1, "totalTokens": 8}, "metrics": {"latencyMs": 5}}),
        ),
    ];
    mock.push(BedrockReply::Frames(frames.clone()));
    let gw = start_gateway(&config(&mock)).await;
    // Guardrails have no form in another dialect; between Bedrock and Bedrock they are carried.
    let body = r#"{"messages":[{"role":"user","content":[{"text":"Hi"}]}],"guardrailConfig":{"guardrailIdentifier":"gr-1","guardrailVersion":"1"}}"#;
    let a = post(gw.addr, "/bedrock/model/nova/converse", &[], body).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body, CONVERSE_ANSWER);
    let seen = mock.last();
    seen.signature_ok.unwrap();
    assert_eq!((seen.path.as_str(), seen.raw.as_str()), ("/model/us.amazon.nova-2-lite-v1%3A0/converse", body));
    let r = {
        let req = http::Request::post(format!("http://{}/bedrock/model/nova/converse-stream", gw.addr))
            .body(http_body_util::Full::new(Bytes::from(body)))
            .unwrap();
        let resp = client().request(req).await.unwrap();
        assert_eq!(resp.headers()["content-type"], eventstream::CONTENT_TYPE);
        resp.into_body().collect().await.unwrap().to_bytes()
    };
    let mut expected = BytesMut::new();
    for m in &frames {
        eventstream::encode(m, &mut expected).unwrap();
    }
    assert_eq!(r, expected.freeze(), "frames forwarded as they came");
    let recs = gw.records.wait_for(2).await;
    assert!(recs.iter().all(|r| r.passthrough));
    let streamed = recs.iter().find(|r| r.stream).unwrap();
    assert_eq!((streamed.usage.input_tokens, streamed.usage.output_tokens), (7, 1));
    assert_eq!(streamed.outcome, amux::usage::Outcome::Success);
}

#[tokio::test]
async fn raw_passthrough_to_bedrock_is_signed() {
    let mock = BedrockMock::start().await;
    mock.push(BedrockReply::Json(200, vec![], CONVERSE_ANSWER.into()));
    let gw = start_gateway(&config(&mock)).await;
    // The caller's own SigV4 headers are dropped; amux signs the exact request it sends.
    let headers = [("authorization", "AWS4-HMAC-SHA256 Credential=caller/x"), ("x-amz-date", "20200101T000000Z")];
    let body = r#"{"messages":[{"role":"user","content":[{"text":"Hi"}]}]}"#;
    let a = post(gw.addr, "/passthrough/aws/model/us.amazon.nova-2-lite-v1%3A0/converse", &headers, body).await;
    assert_eq!(a.status, 200, "{}", a.body);
    let seen = mock.last();
    seen.signature_ok.unwrap();
    assert_eq!(seen.path, "/model/us.amazon.nova-2-lite-v1%3A0/converse");
    assert_eq!(seen.raw, body);
    let recs = gw.records.wait_for(1).await;
    assert!(recs[0].raw);
    assert_eq!(recs[0].usage.output_tokens, 4, "Converse usage observed");
}

//! The Bedrock surface end to end: Converse and ConverseStream to upstreams of other dialects,
//! InvokeModel (and its stream) on the byte path to an Anthropic upstream, model ids as Bedrock
//! callers send them, errors in Bedrock's shape, CountTokens, inference profiles, SigV4 callers.

use std::time::Duration;

use base64::Engine;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use serde_json::{Value, json};

use amux::eventstream::{self, Kind, Message};

use crate::support::*;

const EXTRA: &str = "  - {name: claude-sonnet-4-5-20250929, provider: anth, model: claude-up}\n";

struct Raw {
    status: u16,
    headers: http::HeaderMap,
    body: Bytes,
}

impl Raw {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.body))
    }

    fn frames(&self) -> Vec<Message> {
        let mut d = eventstream::Decoder::default();
        let mut out = Vec::new();
        d.feed(&self.body, &mut out).unwrap();
        d.finish().unwrap();
        out
    }
}

async fn call(addr: std::net::SocketAddr, path: &str, headers: &[(&str, &str)], body: &str) -> Raw {
    let mut req = http::Request::builder().method("POST").uri(format!("http://{addr}{path}"));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let fut = client().request(req.body(Full::new(Bytes::from(body.to_string()))).unwrap());
    let resp = tokio::time::timeout(Duration::from_secs(10), fut).await.unwrap().unwrap();
    let (status, headers) = (resp.status().as_u16(), resp.headers().clone());
    let body = tokio::time::timeout(Duration::from_secs(10), resp.into_body().collect()).await.unwrap().unwrap();
    Raw { status, headers, body: body.to_bytes() }
}

fn payload(m: &Message) -> Value {
    serde_json::from_slice(&m.payload).unwrap()
}

const CONVERSE: &str = r#"{"messages":[{"role":"user","content":[{"text":"Hi"}]}],"system":[{"text":"Be brief."},{"cachePoint":{"type":"default"}}],"inferenceConfig":{"maxTokens":100}}"#;

const ANTHROPIC_ANSWER: &str = r#"{"id":"msg_1","type":"message","role":"assistant","model":"claude-up","content":[{"type":"text","text":"Hello"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":11,"output_tokens":5,"cache_read_input_tokens":7,"cache_creation_input_tokens":0}}"#;

#[tokio::test]
async fn converse_reaches_an_anthropic_upstream_by_a_profile_id() {
    let mock = Mock::start().await;
    mock.push(Reply::ok(ANTHROPIC_ANSWER));
    let gw = start_gateway(&mock_config(&mock, EXTRA)).await;
    let r =
        call(gw.addr, "/bedrock/model/us.anthropic.claude-sonnet-4-5-20250929-v1%3A0/converse", &[], CONVERSE).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let up = mock.last().json();
    assert_eq!(up["model"], "claude-up");
    assert_eq!(up["system"][0]["cache_control"], json!({"type": "ephemeral"}));
    let a = r.json();
    assert_eq!(a["output"]["message"]["content"], json!([{"text": "Hello"}]));
    assert_eq!(a["stopReason"], "end_turn");
    assert_eq!(a["usage"], json!({"inputTokens": 11, "outputTokens": 5, "totalTokens": 23, "cacheReadInputTokens": 7}));
    let recs = gw.records.wait_for(1).await;
    assert_eq!(recs[0].model, "claude-sonnet-4-5-20250929");
}

const OPENAI_SSE: &str = "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-up\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"Hi\"},\"finish_reason\":null}]}\n\ndata: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-up\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\" there\"},\"finish_reason\":\"stop\"}]}\n\ndata: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-up\",\"choices\":[],\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":2,\"total_tokens\":11}}\n\ndata: [DONE]\n\n";

#[tokio::test]
async fn converse_stream_from_an_openai_upstream_is_event_stream_frames() {
    let mock = Mock::start().await;
    mock.push(Reply::sse(OPENAI_SSE));
    let gw = start_gateway(&mock_config(&mock, "")).await;
    let r = call(gw.addr, "/bedrock/model/gpt-test/converse-stream", &[], CONVERSE).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.headers["content-type"], "application/vnd.amazon.eventstream");
    let frames = r.frames();
    let types: Vec<&str> = frames.iter().filter_map(|m| m.str_header(":event-type")).collect();
    assert_eq!(
        types,
        ["messageStart", "contentBlockDelta", "contentBlockDelta", "contentBlockStop", "messageStop", "metadata"]
    );
    assert_eq!(payload(&frames[2])["delta"]["text"], " there");
    assert_eq!(payload(&frames[5])["usage"]["inputTokens"], 9);
    assert_eq!(mock.last().json()["stream"], true);
}

const INVOKE_BODY: &str = r#"{"anthropic_version":"bedrock-2023-05-31","anthropic_beta":["interleaved-thinking-2025-05-14"],"max_tokens":64,"messages":[{"role":"user","content":[{"type":"thinking","thinking":"hm","signature":"EqQBCg\u00e9+/=="},{"type":"text","text":"hi"}]}]}"#;

#[tokio::test]
async fn invoke_model_takes_the_byte_path_to_anthropic() {
    let mock = Mock::start().await;
    mock.push(Reply::ok(ANTHROPIC_ANSWER));
    let gw = start_gateway(&mock_config(&mock, EXTRA)).await;
    let arn = "arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3Ainference-profile%2Fglobal.anthropic.claude-sonnet-4-5-20250929-v1%3A0";
    let r = call(
        gw.addr,
        &format!("/bedrock/model/{arn}/invoke"),
        &[("anthropic-beta", "context-1m-2025-08-07")],
        INVOKE_BODY,
    )
    .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(&r.body[..], ANTHROPIC_ANSWER.as_bytes(), "answer bytes unchanged");
    let up = mock.last();
    assert_eq!(up.path_and_query, "/v1/messages");
    assert_eq!(
        String::from_utf8(up.body.to_vec()).unwrap(),
        r#"{"max_tokens":64,"messages":[{"role":"user","content":[{"type":"thinking","thinking":"hm","signature":"EqQBCg\u00e9+/=="},{"type":"text","text":"hi"}]}],"model":"claude-up","stream":false}"#
    );
    assert_eq!(up.headers["anthropic-beta"], "context-1m-2025-08-07,interleaved-thinking-2025-05-14");
    assert!(gw.records.wait_for(1).await[0].passthrough);
}

const ANTHROPIC_SSE: &str = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-up\",\"content\":[],\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":20,\"output_tokens\":1}}}\n\nevent: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\nevent: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hello\"}}\n\nevent: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\nevent: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":9}}\n\nevent: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";

#[tokio::test]
async fn invoke_with_response_stream_is_chunk_frames_of_the_anthropic_events() {
    let mock = Mock::start().await;
    mock.push(Reply::sse(ANTHROPIC_SSE));
    let gw = start_gateway(&mock_config(&mock, EXTRA)).await;
    let path = "/bedrock/model/us.anthropic.claude-sonnet-4-5-20250929-v1:0/invoke-with-response-stream";
    let r = call(gw.addr, path, &[], INVOKE_BODY).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.headers["content-type"], "application/vnd.amazon.eventstream");
    let frames = r.frames();
    let datas: Vec<String> = frames
        .iter()
        .map(|m| {
            assert_eq!(m.kind(), Kind::Event("chunk"));
            let b64 = payload(m)["bytes"].as_str().unwrap().to_string();
            String::from_utf8(base64::engine::general_purpose::STANDARD.decode(b64).unwrap()).unwrap()
        })
        .collect();
    let mut expected: Vec<String> = sse_events(ANTHROPIC_SSE).into_iter().map(|(_, d)| d).collect();
    // Every event as the upstream sent it, and message_stop with Bedrock's invocation metrics.
    let last: serde_json::Value = serde_json::from_str(datas.last().unwrap()).unwrap();
    let m = &last["amazon-bedrock-invocationMetrics"];
    assert_eq!((m["inputTokenCount"].as_u64(), m["outputTokenCount"].as_u64()), (Some(20), Some(9)), "{last}");
    expected.pop();
    assert_eq!(datas[..datas.len() - 1], expected[..]);
    assert_eq!(mock.last().json()["stream"], true);
    let recs = gw.records.wait_for(1).await;
    assert_eq!((recs[0].usage.input_tokens, recs[0].usage.output_tokens), (20, 9));
}

#[tokio::test]
async fn errors_are_bedrock_shaped() {
    let mock = Mock::start().await;
    mock.push(Reply::Json {
        status: 429,
        headers: vec![("retry-after", "7".into())],
        body: r#"{"type":"error","error":{"type":"rate_limit_error","message":"slow down"}}"#.into(),
    });
    let gw = start_gateway(&mock_config(&mock, EXTRA)).await;
    let r = call(gw.addr, "/bedrock/model/claude-test/invoke", &[], INVOKE_BODY).await;
    assert_eq!(r.status, 429);
    assert_eq!(r.headers["x-amzn-errortype"], "ThrottlingException");
    assert_eq!(r.headers["retry-after"], "7");
    assert_eq!(r.json(), json!({"message": "slow down"}));
    let r = call(gw.addr, "/bedrock/model/us.meta.llama3-3-70b-instruct-v1%3A0/converse", &[], CONVERSE).await;
    assert_eq!(r.status, 404);
    assert_eq!(r.headers["x-amzn-errortype"], "ResourceNotFoundException");
    assert!(r.json()["message"].as_str().unwrap().contains("meta.llama3-3-70b-instruct-v1:0"), "{:?}", r.body);
    let r = call(
        gw.addr,
        "/bedrock/model/claude-test/converse",
        &[],
        r#"{"messages":[{"role":"user","content":[{"video":{}}]}]}"#,
    )
    .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.headers["x-amzn-errortype"], "ValidationException");
    let r = call(gw.addr, "/bedrock/model/claude-test/retrieve", &[], "{}").await;
    assert_eq!(r.status, 404);
}

#[tokio::test]
async fn sigv4_callers_are_served_on_an_open_gateway_and_told_how_to_authenticate_otherwise() {
    let sigv4 = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20250101/us-east-1/bedrock/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc";
    let mock = Mock::start().await;
    mock.push(Reply::ok(ANTHROPIC_ANSWER));
    let gw = start_gateway(&mock_config(&mock, "")).await;
    let r = call(gw.addr, "/bedrock/model/claude-test/converse", &[("authorization", sigv4)], CONVERSE).await;
    assert_eq!(r.status, 200);
    assert!(mock.last().headers.get("authorization").is_none());

    let keys = format!("keys:\n{}", key_entry("dev", "amux-dev-key", ""));
    let gw = start_gateway(&mock_config(&mock, &keys)).await;
    let r = call(gw.addr, "/bedrock/model/claude-test/converse", &[("authorization", sigv4)], CONVERSE).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.headers["x-amzn-errortype"], "UnrecognizedClientException");
    assert!(r.json()["message"].as_str().unwrap().contains("AWS_BEARER_TOKEN_BEDROCK"));
    mock.push(Reply::ok(ANTHROPIC_ANSWER));
    let bearer = [("authorization", "Bearer amux-dev-key")];
    let r = call(gw.addr, "/bedrock/model/claude-test/invoke", &bearer, INVOKE_BODY).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let r = call(gw.addr, "/bedrock/model/claude-test/invoke", &[("authorization", "Bearer wrong")], INVOKE_BODY).await;
    assert_eq!((r.status, r.headers["x-amzn-errortype"].to_str().unwrap()), (401, "UnrecognizedClientException"));
}

#[tokio::test]
async fn count_tokens_takes_both_input_forms() {
    let mock = Mock::start().await;
    mock.push(Reply::ok(r#"{"input_tokens":42}"#));
    mock.push(Reply::ok(r#"{"input_tokens":43}"#));
    let gw = start_gateway(&mock_config(&mock, EXTRA)).await;
    let body = json!({"input": {"converse": serde_json::from_str::<Value>(CONVERSE).unwrap()}}).to_string();
    let r = call(gw.addr, "/bedrock/model/claude-test/count-tokens", &[], &body).await;
    assert_eq!((r.status, r.json()), (200, json!({"inputTokens": 42})));
    assert_eq!(r.headers["x-amux-token-count"], "exact");
    assert_eq!(mock.last().path_and_query, "/v1/messages/count_tokens");
    let blob = base64::engine::general_purpose::STANDARD.encode(INVOKE_BODY);
    let body = json!({"input": {"invokeModel": {"body": blob}}}).to_string();
    let r = call(gw.addr, "/bedrock/model/claude-test/count-tokens", &[], &body).await;
    assert_eq!((r.status, r.json()), (200, json!({"inputTokens": 43})));
    let sent = mock.last().json();
    assert!(sent.get("anthropic_version").is_none() && sent["model"] == "claude-up", "{sent}");
    let r = call(gw.addr, "/bedrock/model/claude-test/count-tokens", &[], r#"{"input":{}}"#).await;
    assert_eq!(r.status, 400);
}

#[tokio::test]
async fn inference_profiles_list_what_routes() {
    let mock = Mock::start().await;
    let gw = start_gateway(&mock_config(&mock, EXTRA)).await;
    let a = get(gw.addr, "/bedrock/inference-profiles?type=SYSTEM_DEFINED", &[]).await;
    assert_eq!(a.status, 200);
    let ids: Vec<String> = a.json()["inferenceProfileSummaries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["inferenceProfileId"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        ids,
        ["us.anthropic.claude-sonnet-4-5-20250929-v1:0", "global.anthropic.claude-sonnet-4-5-20250929-v1:0"]
    );
}

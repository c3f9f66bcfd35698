//! Traces end to end: amux exports spans over OTLP/HTTP to a small in-test receiver (decoded with
//! opentelemetry-proto) with the GenAI semantic-convention attributes, continues the caller's
//! W3C trace, and sends the upstream attempt's `traceparent` upstream. Its own test binary: the
//! tracing subscriber is process-wide.

#[path = "support/mod.rs"]
mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::trace::v1::Span;
use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
use prost::Message;
use support::*;

const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT_ID: &str = "00f067aa0ba902b7";
const PROMPT: &str = "a secret prompt nobody may export";

const ANT_JSON: &str = r#"{"id":"msg_1","type":"message","role":"assistant","model":"claude-up","content":[{"type":"text","text":"the secret answer"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":100,"output_tokens":50,"cache_read_input_tokens":1000,"cache_creation_input_tokens":200}}"#;
const ANT_SSE: &str = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_2\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-up\",\"content\":[],\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":7,\"output_tokens\":1}}}\n\nevent: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\nevent: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"hi\"}}\n\nevent: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\nevent: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"max_tokens\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":20}}\n\nevent: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";

/// A minimal OTLP/HTTP traces receiver.
async fn receiver() -> (std::net::SocketAddr, Arc<Mutex<Vec<Span>>>) {
    let spans: Arc<Mutex<Vec<Span>>> = Arc::default();
    let s = spans.clone();
    let app = axum::Router::new().route(
        "/v1/traces",
        axum::routing::post(move |headers: http::HeaderMap, body: Bytes| {
            let s = s.clone();
            async move {
                assert_eq!(headers["content-type"], "application/x-protobuf");
                let req = ExportTraceServiceRequest::decode(body).expect("OTLP protobuf");
                for rs in req.resource_spans {
                    let resource = rs.resource.expect("a resource");
                    assert!(resource.attributes.iter().any(|a| a.key == "service.name" && text(&a.value) == "amux"));
                    for ss in rs.scope_spans {
                        s.lock().unwrap().extend(ss.spans);
                    }
                }
                ""
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (addr, spans)
}

fn text(v: &Option<opentelemetry_proto::tonic::common::v1::AnyValue>) -> String {
    match v.as_ref().and_then(|v| v.value.as_ref()) {
        Some(Value::StringValue(s)) => s.clone(),
        Some(Value::IntValue(i)) => i.to_string(),
        Some(Value::DoubleValue(d)) => d.to_string(),
        Some(Value::BoolValue(b)) => b.to_string(),
        Some(Value::ArrayValue(a)) => {
            let items: Vec<String> = a.values.iter().map(|v| text(&Some(v.clone()))).collect();
            format!("[{}]", items.join(","))
        }
        _ => String::new(),
    }
}

fn attr(span: &Span, key: &str) -> String {
    span.attributes.iter().find(|a| a.key == key).map(|a| text(&a.value)).unwrap_or_default()
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spans_reach_an_otlp_receiver_with_genai_attributes_and_trace_context_goes_upstream() {
    let (addr, spans) = receiver().await;
    let cfg = amux::config::TracingConfig { otlp_endpoint: Some(format!("http://{addr}")), ..Default::default() };
    let traces = Arc::new(amux::telemetry::otel::init(&cfg, true, &|_| None).expect("tracing starts"));
    assert!(traces.exporting());

    let mock = Mock::start().await;
    let gw = start_gateway(&mock_config(&mock, "")).await;
    mock.push(Reply::ok(ANT_JSON));
    let body =
        format!(r#"{{"model":"claude-test","max_tokens":20,"messages":[{{"role":"user","content":"{PROMPT}"}}]}}"#);
    let traceparent = format!("00-{TRACE_ID}-{PARENT_ID}-01");
    let a = post(gw.addr, "/v1/messages", &[("traceparent", &traceparent)], &body).await;
    assert_eq!(a.status, 200, "{}", a.body);
    let upstream_tp = mock.last().headers["traceparent"].to_str().unwrap().to_string();
    // A translated stream (OpenAI caller, Anthropic upstream), in a trace of its own.
    mock.push(Reply::sse(ANT_SSE));
    let s = post(
        gw.addr,
        "/v1/chat/completions",
        &[],
        r#"{"model":"claude-test","stream":true,"messages":[{"role":"user","content":"x"}]}"#,
    )
    .await;
    assert!(s.body.ends_with("data: [DONE]\n\n"));
    gw.records.wait_for(2).await;

    // Export, then wait (bounded) for both call spans.
    let mut got = Vec::new();
    for _ in 0..100 {
        let t = traces.clone();
        tokio::task::spawn_blocking(move || t.flush()).await.unwrap();
        got = spans.lock().unwrap().clone();
        if got.iter().filter(|s| s.kind == SpanKind::Server as i32).count() >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let server: Vec<&Span> = got.iter().filter(|s| s.kind == SpanKind::Server as i32).collect();
    assert_eq!(server.len(), 2, "{got:#?}");

    // The whole call: continues the caller's trace, GenAI attributes.
    let call = server.iter().find(|s| hex(&s.trace_id) == TRACE_ID).expect("the caller's trace is continued");
    assert_eq!(call.name, "chat claude-test");
    assert_eq!(hex(&call.parent_span_id), PARENT_ID);
    for (k, v) in [
        ("gen_ai.operation.name", "chat"),
        ("gen_ai.request.model", "claude-test"),
        ("gen_ai.response.model", "claude-up"),
        ("gen_ai.system", "anthropic"),
        ("gen_ai.provider.name", "anthropic"),
        ("gen_ai.usage.input_tokens", "1300"),
        ("gen_ai.usage.output_tokens", "50"),
        ("gen_ai.usage.cache_read.input_tokens", "1000"),
        ("gen_ai.usage.cache_creation.input_tokens", "200"),
        ("gen_ai.response.finish_reasons", "[end_turn]"),
        ("http.response.status_code", "200"),
        ("amux.surface", "anthropic"),
        ("amux.provider", "anth"),
    ] {
        assert_eq!(attr(call, k), v, "{k} in {call:#?}");
    }
    // The upstream attempt: a client span under it, whose id went upstream as the parent.
    let up = got
        .iter()
        .find(|s| s.kind == SpanKind::Client as i32 && s.parent_span_id == call.span_id)
        .expect("an upstream span under the call span");
    assert_eq!(up.name, "POST anth");
    assert_eq!(attr(up, "server.address"), "127.0.0.1");
    assert_eq!(attr(up, "http.response.status_code"), "200");
    assert_eq!(attr(up, "gen_ai.request.model"), "claude-up");
    assert_eq!(upstream_tp, format!("00-{TRACE_ID}-{}-01", hex(&up.span_id)));

    // The translated stream: IR finish reason, streamed output usage.
    let streamed = server.iter().find(|s| hex(&s.trace_id) != TRACE_ID).unwrap();
    assert_eq!(attr(streamed, "gen_ai.response.finish_reasons"), "[max_tokens]");
    assert_eq!(attr(streamed, "gen_ai.usage.output_tokens"), "20");
    assert_eq!(attr(streamed, "amux.surface"), "openai_chat");
    assert_eq!(attr(streamed, "amux.stream"), "true");

    // Never a prompt, an answer or a key.
    let dump = format!("{got:?}");
    for secret in [PROMPT, "the secret answer", "sk-ant-upstream"] {
        assert!(!dump.contains(secret), "{secret} was exported");
    }
}

//! Raw passthrough (`/passthrough/{provider}/{path...}`): any method and path under the
//! provider's base URL, the provider's credentials injected and the caller's stripped, bodies
//! streamed both ways, the key's permission, budget and RPM applied, usage observed on paths amux
//! understands, and every path-escape attempt refused before anything is sent.

use std::net::SocketAddr;
use std::time::Duration;

use axum::body::Body;
use axum::extract::Request;
use bytes::Bytes;
use futures_util::StreamExt;
use http::Response;
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::*;

fn config(mock: &Mock, extra_provider: &str, keys: &str) -> String {
    let base = mock_config(mock, "");
    let base = base.replace(
        "providers:\n",
        &format!(
            "providers:\n  gem: {{kind: gemini, base_url: 'http://{}', api_key: gm-upstream}}\n{extra_provider}",
            mock.addr
        ),
    );
    format!("{base}keys:\n{keys}")
}

fn keys() -> String {
    key_entry("alice", "sk-alice", ", permissions: [passthrough], rpm: 100") + &key_entry("bob", "sk-bob", "")
}

#[tokio::test]
async fn credentials_are_swapped_and_any_method_goes_through() {
    let mock = Mock::start().await;
    let gw = start_gateway(&config(&mock, "", &keys())).await;
    mock.push(Reply::ok(r#"{"id":"file-1","object":"file"}"#));
    let r = post(
        gw.addr,
        "/passthrough/oai/files?purpose=batch",
        &[("authorization", "Bearer sk-alice"), ("x-api-key", "sk-alice"), ("cookie", "c=1"), ("x-custom", "kept")],
        r#"{"file":"data"}"#,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["id"], "file-1");
    let up = mock.last();
    assert_eq!(up.path_and_query, "/v1/files?purpose=batch");
    assert_eq!(up.headers["authorization"], "Bearer sk-oai-upstream");
    assert!(up.headers.get("x-api-key").is_none() && up.headers.get("cookie").is_none());
    assert_eq!(up.headers["x-custom"], "kept");
    assert_eq!(&up.body[..], br#"{"file":"data"}"#);

    // GET with the caller's `key=` query parameter: it never goes upstream.
    mock.push(Reply::ok(r#"{"data":[]}"#));
    let r = get(gw.addr, "/passthrough/oai/models?key=sk-alice&limit=2", &[]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(mock.last().path_and_query, "/v1/models?limit=2");

    // Anthropic's and Gemini's own key headers.
    mock.push(Reply::ok("{}"));
    let r = get(gw.addr, "/passthrough/anth/v1/models", &[("x-api-key", "sk-alice")]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let up = mock.last();
    assert_eq!(up.headers["x-api-key"], "sk-ant-upstream");
    assert_eq!(up.headers["anthropic-version"], "2023-06-01");
    mock.push(Reply::ok("{}"));
    let r = get(gw.addr, "/passthrough/gem/v1beta/models", &[("x-goog-api-key", "sk-alice")]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(mock.last().headers["x-goog-api-key"], "gm-upstream");

    // DELETE, and an upstream error status comes back as it is.
    mock.push(Reply::status(404, r#"{"error":{"message":"No such file"}}"#));
    let req = http::Request::delete(format!("http://{}/passthrough/oai/files/file-9", gw.addr))
        .header("authorization", "Bearer sk-alice")
        .body(http_body_util::Full::new(Bytes::new()))
        .unwrap();
    let resp = client().request(req).await.unwrap();
    assert_eq!(resp.status(), 404);
    assert_eq!(mock.last().path_and_query, "/v1/files/file-9");

    let recs = gw.records.wait_for(5).await;
    assert!(recs.iter().all(|r| r.raw && r.model == "passthrough" && r.key.as_deref() == Some("alice")), "{recs:?}");
}

#[tokio::test]
async fn keys_need_the_permission_and_prefixes_restrict() {
    let mock = Mock::start().await;
    let extra = "  files-only: {kind: openai, base_url: 'http://MOCK/v1', api_key: k, passthrough_paths: ['/files']}\n"
        .replace("MOCK", &mock.addr.to_string());
    let gw = start_gateway(&config(&mock, &extra, &keys())).await;
    let r = get(gw.addr, "/passthrough/oai/models", &[]).await;
    assert_eq!(r.status, 401, "{}", r.body);
    let r = get(gw.addr, "/passthrough/oai/models", &[("authorization", "Bearer sk-bob")]).await;
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(r.body.contains("passthrough permission"), "{}", r.body);
    let r = get(gw.addr, "/passthrough/nope/models", &[("authorization", "Bearer sk-alice")]).await;
    assert_eq!(r.status, 404, "{}", r.body);
    let r = get(gw.addr, "/passthrough/files-only/models", &[("authorization", "Bearer sk-alice")]).await;
    assert_eq!(r.status, 403, "{}", r.body);
    let r = get(gw.addr, "/passthrough/files-only/filesystem", &[("authorization", "Bearer sk-alice")]).await;
    assert_eq!(r.status, 403, "{}", r.body);
    mock.push(Reply::ok("{}"));
    let r = get(gw.addr, "/passthrough/files-only/files/f1", &[("authorization", "Bearer sk-alice")]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(mock.count(), 1, "only the allowed call went upstream");
}

/// Sends a request line as it is (no client normalizes the path) and returns the status.
async fn raw_status(addr: SocketAddr, target: &str) -> u16 {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let req =
        format!("GET {target} HTTP/1.1\r\nhost: x\r\nauthorization: Bearer sk-alice\r\nconnection: close\r\n\r\n");
    s.write_all(req.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut out)).await;
    let text = String::from_utf8_lossy(&out);
    text.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0)
}

#[tokio::test]
async fn every_path_escape_is_refused() {
    let mock = Mock::start().await;
    mock.always(Reply::ok("{}"));
    let gw = start_gateway(&config(&mock, "", &keys())).await;
    for target in [
        "/passthrough/oai/../../admin/spend",
        "/passthrough/oai/files/../../../etc/passwd",
        "/passthrough/oai/./files",
        "/passthrough/oai/%2e%2e/%2e%2e/x",
        "/passthrough/oai/%2E%2E/x",
        "/passthrough/oai/files%2f..%2f..%2fx",
        "/passthrough/oai/files%2F..%2Fx",
        "/passthrough/oai/%5c..%5cx",
        "/passthrough/oai//evil.example/x",
        "/passthrough/oai/http://evil.example/x",
        "/passthrough/oai/%252e%252e/x",
        "/passthrough/oai/files/%00",
        "/passthrough/oai/files/%",
        "/passthrough/oai/@evil.example/x",
    ] {
        let status = raw_status(gw.addr, target).await;
        // `@evil.example` stays a path segment under the base URL: allowed, and it went to the mock.
        if target.contains('@') {
            assert_eq!(status, 200, "{target}");
            assert!(mock.last().path_and_query.starts_with("/v1/@evil.example"), "{target}");
            continue;
        }
        assert!(status == 400 || status == 404, "{target}: {status}");
    }
    // Absolute-form request targets name another host: the path amux sees is still under /passthrough.
    let status = raw_status(gw.addr, "http://evil.example/passthrough/oai/../x").await;
    assert!(status == 400 || status == 404, "{status}");
    assert_eq!(mock.count(), 1, "only the @ request reached the upstream");
}

/// An echo upstream: streams each request body frame straight back.
async fn echo() -> SocketAddr {
    let app = axum::Router::new().fallback(|req: Request| async move {
        let frames = req.into_body().into_data_stream().map(|c| c.map(Frame::data));
        Response::builder()
            .header("content-type", "application/octet-stream")
            .body(Body::new(StreamBody::new(frames)))
            .unwrap()
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

#[tokio::test]
async fn bodies_stream_both_ways() {
    let mock = Mock::start().await;
    let up = echo().await;
    let extra = format!("  echo: {{kind: openai, base_url: 'http://{up}/v1', api_key: k}}\n");
    let gw = start_gateway(&config(&mock, &extra, &keys())).await;
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Frame<Bytes>, std::convert::Infallible>>(1);
    let body = StreamBody::new(tokio_stream_from(rx));
    let req = http::Request::post(format!("http://{}/passthrough/echo/upload", gw.addr))
        .header("authorization", "Bearer sk-alice")
        .body(body)
        .unwrap();
    let c: Client<_, StreamBody<_>> = Client::builder(TokioExecutor::new()).build_http();
    tx.send(Ok(Frame::data(Bytes::from_static(b"first-chunk;")))).await.unwrap();
    let resp = tokio::time::timeout(Duration::from_secs(5), c.request(req))
        .await
        .expect("headers before the body ended")
        .unwrap();
    assert_eq!(resp.status(), 200);
    let mut body = resp.into_body();
    // The first chunk comes back while the request body is still open: nothing was buffered whole.
    let first = tokio::time::timeout(Duration::from_secs(5), body.frame())
        .await
        .expect("echo of the first chunk")
        .unwrap()
        .unwrap();
    assert_eq!(first.into_data().unwrap(), Bytes::from_static(b"first-chunk;"));
    tx.send(Ok(Frame::data(Bytes::from_static(b"second-chunk")))).await.unwrap();
    let second = tokio::time::timeout(Duration::from_secs(5), body.frame()).await.unwrap().unwrap().unwrap();
    assert_eq!(second.into_data().unwrap(), Bytes::from_static(b"second-chunk"));
    drop(tx);
    assert!(tokio::time::timeout(Duration::from_secs(5), body.frame()).await.unwrap().is_none());
}

fn tokio_stream_from<T: Send + 'static>(mut rx: tokio::sync::mpsc::Receiver<T>) -> impl futures_util::Stream<Item = T> {
    futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx))
}

#[tokio::test]
async fn usage_is_observed_on_paths_amux_knows() {
    let mock = Mock::start().await;
    let gw = start_gateway(&config(&mock, "", &keys())).await;
    mock.push(Reply::ok(
        r#"{"id":"m","type":"message","role":"assistant","model":"claude-up","content":[{"type":"text","text":"hi"}],"stop_reason":"end_turn","usage":{"input_tokens":11,"output_tokens":4}}"#,
    ));
    let r = post(
        gw.addr,
        "/passthrough/anth/v1/messages",
        &[("x-api-key", "sk-alice")],
        r#"{"model":"claude-up","max_tokens":5,"messages":[]}"#,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    mock.push(Reply::sse(
        "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"x\"},\"finish_reason\":\"stop\"}]}\n\ndata: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[],\"usage\":{\"prompt_tokens\":7,\"completion_tokens\":2,\"total_tokens\":9}}\n\ndata: [DONE]\n\n",
    ));
    let r = post(
        gw.addr,
        "/passthrough/oai/chat/completions",
        &[("authorization", "Bearer sk-alice")],
        r#"{"model":"gpt-up","stream":true,"messages":[]}"#,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("[DONE]"), "{}", r.body);
    let recs = gw.records.wait_for(2).await;
    assert_eq!((recs[0].usage.input_tokens, recs[0].usage.output_tokens), (11, 4), "{:?}", recs[0]);
    // The answer's model is the upstream model, so the call is priced like any other.
    assert_eq!(recs[0].upstream_model, "claude-up");
    assert_eq!(recs[1].upstream_model, "/chat/completions", "no model in that answer's chunks");
    assert_eq!((recs[1].usage.input_tokens, recs[1].usage.output_tokens), (7, 2), "{:?}", recs[1]);
    assert!(recs.iter().all(|r| r.raw && r.outcome == amux::usage::Outcome::Success));
}

//! An HTTP/2 client that stops reading one stream (its flow-control window stays shut) while it
//! keeps using the connection: that stream's call is ended after `client_write_stall_secs`
//! (recorded as `client_disconnected`, its upstream call cancelled, counted), and the other
//! streams on the same connection are served before and after.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::{TokioExecutor, TokioIo};

use amux::usage::Outcome;

use crate::support::*;

const ANT_JSON: &str = r#"{"id":"msg_1","type":"message","role":"assistant","model":"claude-up","content":[{"type":"text","text":"hi"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":3,"output_tokens":1}}"#;
const ANT_START: &str = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-up\",\"content\":[],\"usage\":{\"input_tokens\":1,\"output_tokens\":0}}}\n\n";

fn request(stream: bool) -> http::Request<Full<Bytes>> {
    let body = format!(
        r#"{{"model":"claude-test","max_tokens":5,"stream":{stream},"messages":[{{"role":"user","content":"x"}}]}}"#
    );
    http::Request::post("http://amux/v1/messages")
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body)))
        .unwrap()
}

#[tokio::test]
async fn an_http2_stream_left_unread_is_ended_and_its_neighbours_are_served() {
    let mock = Mock::start().await;
    // Far more than one stream's 64 KiB window and the buffers behind it.
    let delta = format!(
        "event: content_block_delta\ndata: {{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{{\"type\":\"text_delta\",\"text\":\"{}\"}}}}\n\n",
        "w".repeat(60_000)
    );
    let mut pieces = vec![(Duration::ZERO, ANT_START.to_string())];
    pieces.extend((0..300).map(|_| (Duration::from_millis(1), delta.clone())));
    mock.push(Reply::Sse { pieces });
    mock.always(Reply::ok(ANT_JSON));
    let gw = start_gateway(&mock_config(&mock, "limits: {client_write_stall_secs: 0.5}\n")).await;

    let tcp = tokio::net::TcpStream::connect(gw.addr).await.unwrap();
    let (mut h2, conn) = hyper::client::conn::http2::Builder::new(TokioExecutor::new())
        .adaptive_window(false)
        .initial_stream_window_size(65_535)
        .initial_connection_window_size(64 << 20)
        .handshake::<_, Full<Bytes>>(TokioIo::new(tcp))
        .await
        .unwrap();
    tokio::spawn(conn);

    // The stream nobody reads: its headers arrive, then its window shuts.
    let unread = tokio::time::timeout(Duration::from_secs(5), h2.send_request(request(true))).await.unwrap().unwrap();
    assert_eq!(unread.status(), 200);
    let t0 = Instant::now();

    // Its neighbour on the same connection is answered.
    let next = h2.send_request(request(false)).await.unwrap();
    assert_eq!(next.status(), 200);
    let body = next.into_body().collect().await.unwrap().to_bytes();
    assert!(String::from_utf8_lossy(&body).contains("\"hi\""));
    assert_eq!(gw.records.wait_for(1).await[0].outcome, Outcome::Success);

    // The unread stream's call ends near the limit, as a disconnect, its upstream cancelled.
    let recs = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            let all = gw.records.all();
            if all.len() >= 2 {
                return all;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("the unread stream's call ended");
    let took = t0.elapsed();
    assert!(took >= Duration::from_millis(400) && took < Duration::from_secs(3), "ended after {took:?}");
    assert_eq!(recs[1].outcome, Outcome::ClientDisconnected, "{:?}", recs[1]);
    let cancelled = mock.stream_cancelled.clone();
    tokio::time::timeout(Duration::from_secs(5), async {
        while !cancelled.load(Ordering::SeqCst) {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("the upstream stream was cancelled");
    let m = get(gw.addr, "/metrics", &[]).await.body;
    assert!(m.contains("amux_limit_hits_total{limit=\"client_write_stall\"} 1"), "{m}");

    // The connection still serves new streams.
    let after = h2.send_request(request(false)).await.unwrap();
    assert_eq!(after.status(), 200);
    after.into_body().collect().await.unwrap();
    assert_eq!(gw.records.wait_for(3).await[2].outcome, Outcome::Success);

    // Read now, the ended stream is reset after what was buffered, never a clean end.
    let read = tokio::time::timeout(Duration::from_secs(5), unread.into_body().collect()).await;
    assert!(matches!(read, Ok(Err(_))), "the stream was not presented as complete");
    assert_eq!(gw.records.all().len(), 3, "one record per call");
}

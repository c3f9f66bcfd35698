//! A slow upstream stream, with the provider's idle gap (`timeouts.idle_secs`) set to 0.3 s: one
//! whose events come slower than usual but within the gap runs to its end intact, however long
//! it takes in all; one that goes quiet past the gap is cut with an error event in the caller's
//! dialect, its upstream connection closed. Every path: same-dialect and translated, Anthropic
//! and OpenAI callers. One usage record each.

use std::time::{Duration, Instant};

use amux::usage::Outcome;

use crate::disconnects::{Path, config, settle};
use crate::support::scripted::{Scripted, Step};
use crate::support::*;

const IDLE: f64 = 0.3;

/// The caller's stream ended normally: Anthropic's `message_stop`, OpenAI's `[DONE]`.
fn ended_normally(path: &Path, body: &str) -> bool {
    let events = sse_events(body);
    if path.anthropic_caller {
        events.last().is_some_and(|e| e.0.as_deref() == Some("message_stop"))
            && !events.iter().any(|e| e.0.as_deref() == Some("error"))
    } else {
        events.last().is_some_and(|e| e.1 == "[DONE]") && !body.contains("\"error\"")
    }
}

/// The error event ending the caller's stream, in its dialect.
fn error_event(path: &Path, body: &str) -> serde_json::Value {
    let events = sse_events(body);
    let e = if path.anthropic_caller {
        let last = events.last().unwrap_or_else(|| panic!("empty stream: {body}"));
        assert_eq!(last.0.as_deref(), Some("error"), "{path:?}: {body}");
        serde_json::from_str::<serde_json::Value>(&last.1).unwrap()
    } else {
        events
            .iter()
            .filter_map(|e| serde_json::from_str::<serde_json::Value>(&e.1).ok())
            .find(|v| v.get("error").is_some())
            .unwrap_or_else(|| panic!("{path:?}: no error chunk: {body}"))
    };
    if path.anthropic_caller {
        assert_eq!(e["type"], "error", "{e}");
    }
    e
}

#[tokio::test]
async fn a_slow_drip_within_the_idle_gap_completes_intact() {
    let up = Scripted::start().await;
    let gw = start_gateway(&config(up.addr, IDLE, "")).await;
    for (i, path) in Path::ALL.into_iter().enumerate() {
        // 5 deltas 0.15 s apart: 0.9 s in all, three times the bound, each gap inside it.
        up.push(path.upstream_stream(5, Duration::from_millis(150)));
        let t0 = Instant::now();
        let a = post(gw.addr, path.url_path(), &[], &path.body(true)).await;
        assert!(t0.elapsed() >= Duration::from_millis(850), "{path:?}: the drip took its time: {:?}", t0.elapsed());
        assert_eq!(a.status, 200);
        assert!(ended_normally(&path, &a.body), "{path:?}: {}", a.body);
        let ticks = a.body.matches("tick").count();
        let sent = if path.anthropic_upstream { 5 } else { 6 };
        assert_eq!(ticks, sent, "{path:?}: every delta arrived: {}", a.body);
        let recs = gw.records.wait_for(i + 1).await;
        assert_eq!(recs.len(), i + 1);
        assert_eq!(recs[i].outcome, Outcome::Success, "{path:?}: {:?}", recs[i]);
        assert_eq!(recs[i].usage.output_tokens, 9, "{path:?}: the final usage was read: {:?}", recs[i]);
    }
    assert_eq!(up.finished.load(std::sync::atomic::Ordering::SeqCst), 4);
    settle(gw.addr).await;
}

#[tokio::test]
async fn an_upstream_quiet_past_the_idle_gap_is_cut_with_an_error_event() {
    let up = Scripted::start().await;
    let gw = start_gateway(&config(up.addr, IDLE, "")).await;
    for (i, path) in Path::ALL.into_iter().enumerate() {
        // Two deltas, then 5 s of silence before the rest.
        let mut steps = path.upstream_stream(2, Duration::from_millis(100));
        let at = steps.len() - 2;
        steps.insert(at, Step::Wait(Duration::from_secs(5)));
        up.push(steps);
        let t0 = Instant::now();
        let a = post(gw.addr, path.url_path(), &[], &path.body(true)).await;
        let took = t0.elapsed();
        assert!(took < Duration::from_secs(2), "{path:?}: cut near the 0.3 s gap, after {took:?}");
        assert_eq!(a.status, 200, "the stream had started");
        assert!(a.body.contains("tick"), "what came before the silence went through: {}", a.body);
        let e = error_event(&path, &a.body);
        let msg = e["error"]["message"].as_str().unwrap_or_default();
        let provider = if path.anthropic_upstream { "provider anth" } else { "provider oai" };
        assert!(msg.contains(provider) && msg.contains("no response within"), "{path:?}: {e}");
        let recs = gw.records.wait_for(i + 1).await;
        tokio::time::sleep(Duration::from_millis(30)).await;
        assert_eq!(gw.records.all().len(), i + 1, "one record per call");
        assert!(
            matches!(recs[i].outcome, Outcome::Error { status: 504, kind: "timeout" }),
            "{path:?}: {:?}",
            recs[i].outcome
        );
        assert!(
            Scripted::wait(&up.closed_early, i + 1, Duration::from_secs(3)).await,
            "{path:?}: the quiet upstream's connection was closed"
        );
    }
    settle(gw.addr).await;
    let m = get(gw.addr, "/metrics", &[]).await.body;
    assert!(m.contains("amux_limit_hits_total{limit=\"upstream_idle\"} 4"), "{m}");
}

//! An https upstream whose TLS fails: a certificate from an issuer amux does not trust, a
//! connection reset in the middle of the handshake, a handshake that never answers. Each caller
//! (Anthropic and OpenAI, same-dialect and translated, streamed or not) gets a gateway-side
//! error in its own shape naming the provider, within the provider's timeouts; each call is one
//! usage record counted as the provider's fault, and a fallback deployment answers instead. A
//! refused certificate is not retried on the same deployment (it would be refused again); a
//! reset or a timeout is.
//! (A certificate for another host name needs a trusted CA: `tests/lifecycle/upstream_tls.rs`.)

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use amux::usage::{Fault, Outcome};

use crate::disconnects::Path;
use crate::support::scripted::{reset_in_handshake, silent, tls_upstream};
use crate::support::*;

const ANT_OK: &str = r#"{"id":"msg_1","type":"message","role":"assistant","model":"m","content":[{"type":"text","text":"from the fallback"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":3,"output_tokens":2}}"#;

/// `claude-test` (Anthropic) and `gpt-test` (OpenAI) on the https upstream `bad`; `safe` on
/// `bad` with a fallback to `ok` on the plain-http `good`.
fn config(bad: SocketAddr, good: SocketAddr, response_secs: f64) -> String {
    format!(
        "discover_env: false
router: {{retries: 1, backoff_initial_ms: 1, cooldown_failures: 1000}}
providers:
  anth: {{kind: anthropic, base_url: 'https://{bad}', api_key: sk-ant-tls-0123456789, timeouts: {{connect_secs: 1, response_secs: {response_secs}, idle_secs: 2}}}}
  oai: {{kind: openai, base_url: 'https://{bad}/v1', api_key: sk-oai-tls-0123456789, timeouts: {{connect_secs: 1, response_secs: {response_secs}, idle_secs: 2}}}}
  good: {{kind: anthropic, base_url: 'http://{good}', api_key: k}}
models:
  - {{name: claude-test, provider: anth, model: claude-up}}
  - {{name: gpt-test, provider: oai, model: gpt-up}}
  - {{name: safe, provider: anth, model: claude-up, fallbacks: [ok]}}
  - {{name: ok, provider: good, model: good-up}}
"
    )
}

/// The error message the caller got, from its own error shape.
fn message(path: &Path, a: &Answer) -> String {
    let v = a.json();
    if path.anthropic_caller {
        assert_eq!(v["type"], "error", "Anthropic's error shape: {}", a.body);
    }
    v["error"]["message"].as_str().unwrap_or_else(|| panic!("no error message: {}", a.body)).to_string()
}

/// Every path, streamed and not, against `bad`: a 5xx in the caller's shape whose message
/// names the provider and contains `reason`; one record each, the provider's fault. Returns the
/// number of calls made.
async fn each_path(what: &str, bad: SocketAddr, reason: &str, response_secs: f64) -> usize {
    let mock = Mock::start().await;
    mock.always(Reply::ok(ANT_OK));
    let gw = start_gateway(&config(bad, mock.addr, response_secs)).await;
    let mut n = 0;
    for path in Path::ALL {
        for stream in [false, true] {
            let t0 = Instant::now();
            let a = post(gw.addr, path.url_path(), &[], &path.body(stream)).await;
            n += 1;
            let took = t0.elapsed();
            assert!(took < Duration::from_secs(5), "{what} {path:?}: answered after {took:?}");
            assert!(a.status >= 500, "{what} {path:?} stream {stream}: {} {}", a.status, a.body);
            let msg = message(&path, &a);
            if n == 1 {
                eprintln!("{what}: {} {msg}", a.status);
            }
            let provider = if path.anthropic_upstream { "provider anth" } else { "provider oai" };
            assert!(msg.contains(provider) && msg.contains(reason), "{what} {path:?}: {msg}");
            assert!(!msg.contains("sk-"), "no key in the message: {msg}");
            let recs = gw.records.wait_for(n).await;
            tokio::time::sleep(Duration::from_millis(30)).await;
            assert_eq!(gw.records.all().len(), n, "{what}: one record per call");
            let o = recs[n - 1].outcome;
            assert!(matches!(o, Outcome::Error { status, .. } if status == a.status), "{what}: {o:?} vs {}", a.status);
            assert_eq!(o.fault(), Some(Fault::Provider), "{what}: {o:?}");
            let provider = if path.anthropic_upstream { "anth" } else { "oai" };
            assert_eq!(recs[n - 1].provider, provider, "the record names the provider that failed");
        }
    }
    // The router moves on to the fallback deployment.
    let a = post(
        gw.addr,
        "/v1/messages",
        &[],
        r#"{"model":"safe","max_tokens":5,"messages":[{"role":"user","content":"x"}]}"#,
    )
    .await;
    assert_eq!(a.status, 200, "{what}: {}", a.body);
    assert!(a.body.contains("from the fallback"), "{}", a.body);
    let recs = gw.records.wait_for(n + 1).await;
    assert_eq!((recs[n].outcome, recs[n].fallbacks), (Outcome::Success, 1), "{what}: {:?}", recs[n]);
    let m = get(gw.addr, "/metrics", &[]).await.body;
    assert!(m.lines().any(|l| l.starts_with("amux_errors_total{") && l.contains("fault=\"provider\"")), "{m}");
    n + 1
}

#[tokio::test]
async fn a_certificate_from_an_untrusted_issuer() {
    let (bad, accepted) = tls_upstream("127.0.0.1", ANT_OK).await;
    let calls = each_path("untrusted issuer", bad, "certificate", 1.5).await;
    // retries: 1, yet one handshake a call: the router moved on (to the fallback, or to the
    // error) instead of trying the same certificate again.
    assert_eq!(accepted.load(std::sync::atomic::Ordering::SeqCst), calls);
}

#[tokio::test]
async fn a_reset_during_the_handshake() {
    each_path("reset in handshake", reset_in_handshake().await, "connect", 1.5).await;
}

#[tokio::test]
async fn a_handshake_that_never_answers_times_out() {
    each_path("silent handshake", silent().await, "no response within", 0.3).await;
}

//! An https upstream whose certificate is for another host: the real `amux serve` trusting the
//! test CA (`SSL_CERT_FILE`, read with the system's trust store), one upstream presenting a
//! certificate valid for its address (answered) and one reached at an address its certificate
//! does not name (refused: a 503 in the caller's shape naming the provider, and one usage line).

use std::time::Duration;

use crate::process::{Served, temp_dir, try_post};
use crate::support::scripted::tls_upstream;

const ANT_OK: &str = r#"{"id":"msg_1","type":"message","role":"assistant","model":"m","content":[{"type":"text","text":"over TLS"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":3,"output_tokens":2}}"#;

fn ask(model: &str) -> String {
    format!(r#"{{"model":"{model}","max_tokens":5,"messages":[{{"role":"user","content":"x"}}]}}"#)
}

#[tokio::test]
async fn a_certificate_for_another_host_is_refused_as_the_providers_fault() {
    // cert-a names 127.0.0.1 and localhost; 127.0.0.2 is loopback too, but not in it.
    let (right, _) = tls_upstream("127.0.0.1", ANT_OK).await;
    let (wrong, _) = tls_upstream("127.0.0.2", ANT_OK).await;
    let dir = temp_dir("upstream-tls");
    let file = dir.join("amux.yaml");
    let timeouts = "timeouts: {connect_secs: 1, response_secs: 3}";
    std::fs::write(
        &file,
        format!(
            "discover_env: false
router: {{retries: 0}}
providers:
  right: {{kind: anthropic, base_url: 'https://{right}', api_key: sk-right-0123456789, {timeouts}}}
  wrong: {{kind: anthropic, base_url: 'https://{wrong}', api_key: sk-wrong-0123456789, {timeouts}}}
models:
  - {{name: r, provider: right, model: up}}
  - {{name: w, provider: wrong, model: up}}
"
        ),
    )
    .unwrap();
    let ca = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tls/ca.pem");
    let amux = Served::start_with(&file, &[("SSL_CERT_FILE", ca.to_str().unwrap()), ("RUST_LOG", "info")]).await;

    let ok = try_post(amux.addr, "/v1/messages", &[], &ask("r")).await.expect("answered");
    assert_eq!(ok.status, 200, "the test CA is trusted: {}\n{}", ok.body, amux.log());
    assert!(ok.body.contains("over TLS"), "{}", ok.body);

    let bad = try_post(amux.addr, "/v1/messages", &[], &ask("w")).await.expect("answered");
    assert_eq!(bad.status, 502, "a TLS failure is a bad gateway: {}", bad.body);
    assert_eq!(bad.json()["type"], "error", "Anthropic's error shape: {}", bad.body);
    let msg = bad.json()["error"]["message"].as_str().unwrap().to_string();
    assert!(msg.contains("provider wrong") && msg.contains("not valid for name"), "{msg}");

    // One usage line per call, the refused one an error counted as the provider's.
    assert!(amux.wait_log("provider=wrong").await, "{}", amux.log());
    tokio::time::sleep(Duration::from_millis(100)).await;
    let log = amux.log();
    let lines: Vec<&str> = log.lines().filter(|l| l.contains("outcome=")).collect();
    assert_eq!(lines.len(), 2, "{log}");
    assert!(lines.iter().any(|l| l.contains("provider=right") && l.contains("outcome=success")), "{log}");
    assert!(
        lines.iter().any(|l| l.contains("provider=wrong upstream_model=up")
            && l.contains("outcome=error")
            && l.contains("status=502")),
        "{log}"
    );
}

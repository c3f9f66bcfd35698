//! Secrets never leak: the real `amux serve` process at the most verbose log level (`trace`,
//! JSON lines) with traces exported over OTLP, driven through calls of every kind (success,
//! streams, translation, an upstream 401/403 that echoes the provider key, other upstream
//! errors echoing it, a retry, a cache hit, a budget refusal, a wrong virtual key, a token
//! count, a mid-stream error event, translated and same-dialect), then `/metrics` and
//! `/admin/spend`, then the launcher's `--dry-run`. Every log line, every exported span, the metrics, every response body and
//! header is scanned for the provider keys, the virtual keys and the admin key. Its own test
//! binary: it owns a child process and an OTLP receiver.

#[path = "support/mod.rs"]
mod support;

use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use prost::Message;
use support::*;

const ANT_KEY: &str = "sk-ant-api03-LEAKCHECK-anthropic-0123456789abcdef";
const OAI_KEY: &str = "sk-proj-LEAKCHECK-openai-0123456789abcdef";
const GEM_KEY: &str = "AIzaSyLEAKCHECK-gemini-0123456789abcd";
const VK_ALICE: &str = "amux-vk-alice-LEAKCHECK-0123456789abcdef";
const VK_BOB: &str = "amux-vk-bob-LEAKCHECK-0123456789abcdef";
const VK_WRONG: &str = "amux-vk-wrong-LEAKCHECK-0123456789abcdef";
const ADMIN_KEY: &str = "amux-admin-LEAKCHECK-0123456789abcdef";
const SECRETS: &[&str] = &[ANT_KEY, OAI_KEY, GEM_KEY, VK_ALICE, VK_BOB, VK_WRONG, ADMIN_KEY];

const ANT_OK: &str = r#"{"id":"msg_1","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[{"type":"text","text":"hi"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":1000,"output_tokens":500}}"#;
const ANT_SSE: &str = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_2\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-sonnet-4-5\",\"content\":[],\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":7,\"output_tokens\":1}}}\n\nevent: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\nevent: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"hi\"}}\n\nevent: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\nevent: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":2}}\n\nevent: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";

/// Every piece of a secret long enough to identify it: the whole, its head and its tail.
fn pieces() -> Vec<String> {
    SECRETS.iter().flat_map(|s| [s.to_string(), s[..s.len() / 2].to_string(), s[s.len() / 2..].to_string()]).collect()
}

fn assert_clean(what: &str, text: &str) {
    for p in pieces() {
        assert!(!text.contains(&p), "{what} leaks {p}:\n{}", &text[..text.len().min(20_000)]);
    }
}

/// An OTLP/HTTP traces receiver keeping every request's decoded spans (as debug text).
async fn receiver() -> (std::net::SocketAddr, Arc<Mutex<Vec<String>>>) {
    let spans: Arc<Mutex<Vec<String>>> = Arc::default();
    let s = spans.clone();
    let app = axum::Router::new().route(
        "/v1/traces",
        axum::routing::post(move |body: Bytes| {
            let s = s.clone();
            async move {
                let req = ExportTraceServiceRequest::decode(body).expect("OTLP protobuf");
                for rs in req.resource_spans {
                    for ss in rs.scope_spans {
                        s.lock().unwrap().extend(ss.spans.iter().map(|sp| format!("{sp:?}")));
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

/// Kills the child when a failed assertion unwinds past it (else it would outlive the test).
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn ask(model: &str, stream: bool) -> String {
    format!(r#"{{"model":"{model}","max_tokens":20,"stream":{stream},"messages":[{{"role":"user","content":"x"}}]}}"#)
}

fn chat(model: &str, stream: bool) -> String {
    format!(r#"{{"model":"{model}","stream":{stream},"messages":[{{"role":"user","content":"x"}}]}}"#)
}

/// Everything a caller saw: status, headers and body.
fn seen(a: &Answer) -> String {
    format!("{} {:?} {}", a.status, a.headers, a.body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_key_reaches_a_caller_a_log_line_a_span_or_a_metric() {
    let (otlp, spans) = receiver().await;
    let mock = Mock::start().await;
    let dir = std::env::temp_dir().join(format!("amux-secrets-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let hash = amux::stack::auth::hash_key;
    let config = format!(
        "discover_env: false
router: {{retries: 1, backoff_initial_ms: 1, backoff_max_ms: 5, cooldown_secs: 0}}
providers:
  anth: {{kind: anthropic, base_url: 'http://{m}', api_key: {ANT_KEY}}}
  oai: {{kind: openai, base_url: 'http://{m}/v1', api_key: {OAI_KEY}}}
  gem: {{kind: gemini, base_url: 'http://{m}', api_key: {GEM_KEY}}}
models:
  - {{name: claude-test, provider: anth, model: claude-sonnet-4-5}}
  - {{name: gpt-test, provider: oai, model: gpt-4o}}
  - {{name: gem-test, provider: gem, model: gemini-2.5-flash}}
  - {{name: cached, provider: anth, model: claude-sonnet-4-5, cache: true}}
keys:
  - {{name: alice, team: t-alice, key_sha256: {a}}}
  - {{name: bob, team: t-bob, key_sha256: {b}, budget: {{daily_usd: 0.000001}}}}
admin: {{key: {ADMIN_KEY}}}
tracing: {{otlp_endpoint: 'http://{otlp}'}}
",
        m = mock.addr,
        a = hash(VK_ALICE),
        b = hash(VK_BOB),
    );
    let cfg_path = dir.join("amux.yaml");
    std::fs::write(&cfg_path, config).unwrap();
    let log_path = dir.join("amux.log");
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let addr: std::net::SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let mut child = KillOnDrop(
        Command::new(env!("CARGO_BIN_EXE_amux"))
            .args(["serve", "--log-format", "json", "--config"])
            .arg(&cfg_path)
            .env_clear()
            .env("AMUX_LISTEN", addr.to_string())
            .env("RUST_LOG", "trace")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log_path).unwrap())
            .spawn()
            .expect("amux starts"),
    );
    let until = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(Ok(resp)) = tokio::time::timeout(
            Duration::from_secs(1),
            client().request(
                http::Request::get(format!("http://{addr}/health/readiness"))
                    .body(http_body_util::Full::new(Bytes::new()))
                    .unwrap(),
            ),
        )
        .await
            && resp.status() == 200
        {
            break;
        }
        assert!(Instant::now() < until, "amux not ready");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let alice = [("x-api-key", VK_ALICE)];
    let alice_bearer = format!("Bearer {VK_ALICE}");
    let alice_oai = [("authorization", alice_bearer.as_str())];
    let mut answers = Vec::new();

    // Success: same dialect, whole and streamed; translated stream.
    mock.push(Reply::ok(ANT_OK));
    answers.push(post(addr, "/v1/messages", &alice, &ask("claude-test", false)).await);
    mock.push(Reply::sse(ANT_SSE));
    answers.push(post(addr, "/v1/messages", &alice, &ask("claude-test", true)).await);
    mock.push(Reply::sse(ANT_SSE));
    answers.push(post(addr, "/v1/chat/completions", &alice_oai, &chat("claude-test", true)).await);
    assert!(answers.iter().all(|a| a.status == 200), "{}", seen(&answers[2]));

    // An upstream 401 echoing the key it was sent (as some OpenAI-compatible servers do): a 502
    // naming the provider, in the caller's shape, not retried.
    let before = mock.count();
    mock.push(Reply::status(
        401,
        format!(
            r#"{{"error":{{"message":"Incorrect API key provided: Bearer {OAI_KEY}","type":"invalid_request_error","code":"invalid_api_key"}}}}"#
        ),
    ));
    let a = post(addr, "/v1/chat/completions", &alice_oai, &chat("gpt-test", false)).await;
    assert_eq!(a.status, 502, "{}", seen(&a));
    let msg = a.json()["error"]["message"].as_str().unwrap().to_string();
    assert!(msg.contains("provider oai") && msg.contains("credentials"), "{msg}");
    assert_eq!(mock.count(), before + 1, "a refused credential is not retried");
    answers.push(a);
    // A 403 echoing x-api-key, to an Anthropic caller.
    mock.push(Reply::status(
        403,
        format!(r#"{{"type":"error","error":{{"type":"permission_error","message":"x-api-key: {ANT_KEY} may not use this model"}}}}"#),
    ));
    let a = post(addr, "/v1/messages", &alice, &ask("claude-test", false)).await;
    assert_eq!((a.status, a.json()["error"]["type"].as_str()), (502, Some("api_error")), "{}", seen(&a));
    answers.push(a);
    // Gemini's way of refusing a key: 400 API_KEY_INVALID, echoing part of it.
    mock.push(Reply::status(
        400,
        format!(
            r#"{{"error":{{"code":400,"message":"API key not valid: {}... Please pass a valid API key.","status":"INVALID_ARGUMENT","details":[{{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"API_KEY_INVALID"}}]}}}}"#,
            &GEM_KEY[..24]
        ),
    ));
    let a = post(
        addr,
        "/v1beta/models/gem-test:generateContent",
        &[("x-goog-api-key", VK_ALICE)],
        r#"{"contents":[{"role":"user","parts":[{"text":"x"}]}]}"#,
    )
    .await;
    assert_eq!(a.status, 502, "{}", seen(&a));
    answers.push(a);

    // A 500 echoing the key, then a retry that succeeds.
    mock.push(Reply::status(
        500,
        format!(r#"{{"type":"error","error":{{"type":"api_error","message":"auth {ANT_KEY} ok, then broke"}}}}"#),
    ));
    mock.push(Reply::ok(ANT_OK));
    let a = post(addr, "/v1/messages", &alice, &ask("claude-test", false)).await;
    assert_eq!(a.status, 200, "{}", seen(&a));
    answers.push(a);
    // Errors passed on: a 429 and a 400 whose text holds the key; a 500 on both attempts.
    for (status, n) in [(429, 2), (400, 1), (500, 2)] {
        for _ in 0..n {
            mock.push(Reply::status(
                status,
                format!(r#"{{"type":"error","error":{{"type":"api_error","message":"key={ANT_KEY}; Authorization: Bearer {ANT_KEY}"}}}}"#),
            ));
        }
        let a = post(addr, "/v1/messages", &alice, &ask("claude-test", false)).await;
        assert_eq!(a.status, if status == 500 { 502 } else { status }, "{}", seen(&a));
        answers.push(a);
    }
    // A translated stream that fails with an error event echoing the key.
    mock.push(Reply::sse(&format!(
        "event: message_start\ndata: {{\"type\":\"message_start\",\"message\":{{\"id\":\"m\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-sonnet-4-5\",\"content\":[],\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{{\"input_tokens\":1,\"output_tokens\":1}}}}}}\n\nevent: error\ndata: {{\"type\":\"error\",\"error\":{{\"type\":\"overloaded_error\",\"message\":\"x-api-key {ANT_KEY} overloaded\"}}}}\n\n"
    )));
    let a = post(addr, "/v1/chat/completions", &alice_oai, &chat("claude-test", true)).await;
    assert!(a.body.contains("overloaded"), "{}", seen(&a));
    answers.push(a);
    // The same error event in a same-dialect stream (forwarded as bytes, but scrubbed once an
    // error event goes by).
    let failing = format!(
        "event: message_start\ndata: {{\"type\":\"message_start\",\"message\":{{\"id\":\"m\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-sonnet-4-5\",\"content\":[],\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{{\"input_tokens\":1,\"output_tokens\":1}}}}}}\n\nevent: error\ndata: {{\"type\":\"error\",\"error\":{{\"type\":\"overloaded_error\",\"message\":\"x-api-key {ANT_KEY} overloaded\"}}}}\n\n"
    );
    mock.push(Reply::sse(&failing));
    let a = post(addr, "/v1/messages", &alice, &ask("claude-test", true)).await;
    assert!(a.body.contains("event: error") && a.body.contains("[redacted]"), "{}", seen(&a));
    answers.push(a);
    // A token count the upstream refuses with the key in its text.
    mock.push(Reply::status(
        401,
        format!(
            r#"{{"type":"error","error":{{"type":"authentication_error","message":"invalid x-api-key {ANT_KEY}"}}}}"#
        ),
    ));
    let a = post(
        addr,
        "/v1/messages/count_tokens",
        &alice,
        r#"{"model":"claude-test","messages":[{"role":"user","content":"x"}]}"#,
    )
    .await;
    assert_eq!(a.status, 502, "{}", seen(&a));
    answers.push(a);

    // The cache: a miss then a hit.
    mock.push(Reply::ok(ANT_OK));
    answers.push(post(addr, "/v1/messages", &alice, &ask("cached", false)).await);
    let hit = post(addr, "/v1/messages", &alice, &ask("cached", false)).await;
    assert_eq!(hit.headers["x-amux-cache"], "hit", "{}", seen(&hit));
    answers.push(hit);
    // A budget: bob's first call spends it, the next is refused.
    mock.push(Reply::ok(ANT_OK));
    answers.push(post(addr, "/v1/messages", &[("x-api-key", VK_BOB)], &ask("claude-test", false)).await);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let refused = post(addr, "/v1/messages", &[("x-api-key", VK_BOB)], &ask("claude-test", false)).await;
    assert_eq!(refused.status, 429, "{}", seen(&refused));
    answers.push(refused);
    // A wrong virtual key, in every header it may come in.
    for h in ["x-api-key", "authorization", "x-goog-api-key"] {
        let v = if h == "authorization" { format!("Bearer {VK_WRONG}") } else { VK_WRONG.to_string() };
        let a = post(addr, "/v1/messages", &[(h, v.as_str())], &ask("claude-test", false)).await;
        assert_eq!(a.status, 401, "{}", seen(&a));
        answers.push(a);
    }
    // Operator endpoints.
    let metrics = get(addr, "/metrics", &[]).await;
    assert!(metrics.body.contains("amux_requests_total"), "{}", metrics.body);
    assert!(metrics.body.contains("kind=\"provider_auth\""), "{}", metrics.body);
    answers.push(metrics);
    let bearer_admin = format!("Bearer {ADMIN_KEY}");
    let spend = get(addr, "/admin/spend", &[("authorization", bearer_admin.as_str())]).await;
    assert_eq!(spend.status, 200, "{}", spend.body);
    answers.push(spend);
    for a in &answers {
        assert_clean("a response", &seen(a));
    }

    // Stop: SIGTERM drains and flushes the exporter.
    let pid = libc::pid_t::try_from(child.0.id()).unwrap();
    // SAFETY: kill(2) on our own child's pid.
    unsafe { libc::kill(pid, libc::SIGTERM) };
    let until = Instant::now() + Duration::from_secs(30);
    while child.0.try_wait().unwrap().is_none() {
        assert!(Instant::now() < until, "amux did not exit");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let log = std::fs::read_to_string(&log_path).unwrap();
    let lines: Vec<&str> = log.lines().collect();
    assert!(lines.iter().any(|l| l.contains("\"level\":\"TRACE\"")), "trace level was on");
    assert!(lines.iter().any(|l| l.contains("rejected the gateway's credentials") || l.contains("provider_auth")));
    for l in &lines {
        assert_clean("a log line", l);
    }
    let spans = spans.lock().unwrap().clone();
    assert!(spans.len() >= 10, "spans were exported: {}", spans.len());
    for s in &spans {
        assert_clean("a span", s);
    }

    // The launcher's dry run, direct and through a gateway.
    let home = dir.join("home");
    std::fs::create_dir_all(&home).unwrap();
    for args in [
        vec!["launch", "claude", "anthropic", "--model", "claude-sonnet-4-5", "--dry-run"],
        vec!["launch", "codex", "openai", "--model", "gpt-4o", "--dry-run", "--json"],
        vec![
            "launch",
            "claude",
            "--model",
            "claude-test",
            "--gateway",
            "http://127.0.0.1:9",
            "--key",
            VK_ALICE,
            "--dry-run",
        ],
        vec!["launch", "gemini", "gemini", "--model", "gemini-2.5-flash", "--dry-run"],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_amux"))
            .args(&args)
            .env_clear()
            .env("HOME", &home)
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("ANTHROPIC_API_KEY", ANT_KEY)
            .env("OPENAI_API_KEY", OAI_KEY)
            .env("GEMINI_API_KEY", GEM_KEY)
            .env("RUST_LOG", "trace")
            .output()
            .unwrap();
        let text = format!("{}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert!(!out.stdout.is_empty(), "{args:?}: {text}");
        assert_clean(&format!("amux {}", args.join(" ")), &text);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

//! `/metrics` after calls of every kind (streamed or not, same-dialect or translated,
//! disconnected, failed upstream, cached, refused before routing, unpriced): counts, tokens and
//! costs exactly (cache tokens at their own rates); `promtool check metrics` accepts the
//! exposition; the dashboard and alert rules reference only metrics that exist.

use std::time::Duration;

use crate::support::*;

/// Sum of the samples of `name` whose labels include every pair of `want`.
pub fn metric(expo: &str, name: &str, want: &[(&str, &str)]) -> f64 {
    expo.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let (series, value) = l.rsplit_once(' ')?;
            let (n, labels) = match series.find('{') {
                Some(i) => (&series[..i], &series[i..]),
                None => (series, ""),
            };
            let has = |(k, v): &(&str, &str)| {
                labels.contains(&format!("{{{k}=\"{v}\"")) || labels.contains(&format!(",{k}=\"{v}\""))
            };
            (n == name && want.iter().all(has)).then(|| value.parse::<f64>().ok()).flatten()
        })
        .sum()
}

/// Names of the metrics in an exposition (histogram series folded into their metric).
pub fn names_in(expo: &str) -> std::collections::BTreeSet<String> {
    expo.lines()
        .filter(|l| l.starts_with("# TYPE "))
        .filter_map(|l| l.split_whitespace().nth(2).map(str::to_string))
        .collect()
}

pub async fn scrape(addr: std::net::SocketAddr) -> String {
    let m = get(addr, "/metrics", &[]).await;
    assert_eq!(m.status, 200);
    assert!(m.headers["content-type"].to_str().unwrap().starts_with("text/plain"));
    m.body
}

/// Prices of the mock's models, USD per million tokens.
pub const PRICES: &str = "prices:
  anth:
    claude-up: {input: 3, output: 15, cache_read: 0.3, cache_write: 3.75}
  oai:
    gpt-up: {input: 1, output: 2, cache_read: 0.5}
";

// 100 in + 50 out + 1000 cache read + 200 cache write: 300 + 750 + 300 + 750 = 2100 micro-USD.
pub const ANT_JSON: &str = r#"{"id":"msg_1","type":"message","role":"assistant","model":"claude-up","content":[{"type":"text","text":"ok"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":100,"output_tokens":50,"cache_read_input_tokens":1000,"cache_creation_input_tokens":200}}"#;
pub const ANT_JSON_NANO: f64 = 2_100_000.0;

// 10 in + 2000 cache read + 40 out: 30 + 600 + 600 = 1230 micro-USD.
const ANT_SSE: &str = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-up\",\"content\":[],\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":10,\"cache_read_input_tokens\":2000,\"output_tokens\":1}}}\n\nevent: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\nevent: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"hi\"}}\n\nevent: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\nevent: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":40}}\n\nevent: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";
const ANT_SSE_NANO: f64 = 1_230_000.0;

// 1000 prompt of which 400 cached, 100 out of which 20 reasoning: 600 + 200 + 200 = 1000 micro-USD.
const OAI_JSON: &str = r#"{"id":"c1","object":"chat.completion","created":1,"model":"gpt-up","choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1000,"completion_tokens":100,"total_tokens":1100,"prompt_tokens_details":{"cached_tokens":400},"completion_tokens_details":{"reasoning_tokens":20}}}"#;
const OAI_JSON_NANO: f64 = 1_000_000.0;

// Disconnected after message_start: 5 in + 1 out = 15 + 15 = 30 micro-USD.
const DISCONNECT_NANO: f64 = 30_000.0;

pub fn ask(model: &str, stream: bool) -> String {
    format!(r#"{{"model":"{model}","max_tokens":20,"stream":{stream},"messages":[{{"role":"user","content":"hi"}}]}}"#)
}

fn overhead_ms(a: &Answer) -> f64 {
    a.headers.get("x-amux-overhead-ms").expect("overhead header").to_str().unwrap().parse().unwrap()
}

/// Every kind of call through one gateway; returns the exposition after checking it.
pub async fn calls_of_every_kind() -> String {
    let mock = Mock::start().await;
    let keys = key_entry("alice", "sk-alice", ", budget: {daily_usd: 100}")
        + &key_entry("bob", "sk-bob", ", rpm: 1, models: ['anth/*']")
        + &key_entry("carol", "sk-carol", ", budget: {daily_usd: 0.001}");
    let cfg = mock_config(&mock, "  - {name: cached, provider: anth, model: claude-up, cache: true}\n")
        + PRICES
        + "keys:\n"
        + &keys;
    let gw = start_gateway(&cfg).await;
    let alice = [("x-api-key", "sk-alice")];
    let alice_oai = [("authorization", "Bearer sk-alice")];

    // Same dialect, whole and streamed.
    mock.push(Reply::ok(ANT_JSON));
    let a = post(gw.addr, "/v1/messages", &alice, &ask("claude-test", false)).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert!(overhead_ms(&a) >= 0.0);
    mock.push(Reply::sse(ANT_SSE));
    let s = post(gw.addr, "/v1/messages", &alice, &ask("claude-test", true)).await;
    assert_eq!(s.body, ANT_SSE);
    assert!(overhead_ms(&s) >= 0.0);
    // Translated, streamed (OpenAI caller, Anthropic upstream) and whole (the other way).
    mock.push(Reply::sse(ANT_SSE));
    let t = post(gw.addr, "/v1/chat/completions", &alice_oai, &ask("claude-test", true)).await;
    assert!(t.body.ends_with("data: [DONE]\n\n"), "{}", t.body);
    mock.push(Reply::ok(OAI_JSON));
    let w = post(gw.addr, "/v1/messages", &alice, &ask("gpt-test", false)).await;
    assert_eq!(w.status, 200, "{}", w.body);
    // Disconnected mid-stream.
    let start = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-up\",\"content\":[],\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":5,\"output_tokens\":1}}}\n\n";
    let mut pieces = vec![(Duration::ZERO, start.to_string())];
    pieces.extend((0..100).map(|_| (Duration::from_millis(20), "event: ping\ndata: {\"type\":\"ping\"}\n\n".into())));
    mock.push(Reply::Sse { pieces });
    disconnect_after_first_chunk(gw.addr, "sk-alice", &ask("claude-test", true)).await;
    // Failed upstream.
    mock.push(Reply::status(500, r#"{"type":"error","error":{"type":"api_error","message":"boom"}}"#));
    let f = post(gw.addr, "/v1/messages", &alice, &ask("claude-test", false)).await;
    assert_eq!(f.status, 502);
    assert!(overhead_ms(&f) >= 0.0);
    // Cached: a miss, then a hit.
    mock.push(Reply::ok(ANT_JSON));
    assert_eq!(post(gw.addr, "/v1/messages", &alice, &ask("cached", false)).await.headers["x-amux-cache"], "miss");
    gw.records.wait_for(7).await;
    let hit = post(gw.addr, "/v1/messages", &alice, &ask("cached", false)).await;
    assert_eq!(hit.headers["x-amux-cache"], "hit");
    assert!(overhead_ms(&hit) >= 0.0);
    // Refused before routing: no key, unknown model, malformed body; bob: not allowed, limited.
    assert_eq!(post(gw.addr, "/v1/messages", &[], &ask("claude-test", false)).await.status, 401);
    let nf = post(gw.addr, "/v1/messages", &alice, &ask("nope", false)).await;
    assert_eq!(nf.status, 404);
    assert!(overhead_ms(&nf) >= 0.0);
    assert_eq!(post(gw.addr, "/v1/chat/completions", &alice_oai, "{not json").await.status, 400);
    let bob = [("x-api-key", "sk-bob")];
    mock.push(Reply::ok(ANT_JSON));
    assert_eq!(post(gw.addr, "/v1/messages", &bob, &ask("anth/claude-unpriced", false)).await.status, 200);
    assert_eq!(post(gw.addr, "/v1/messages", &bob, &ask("claude-test", false)).await.status, 403);
    assert_eq!(post(gw.addr, "/v1/messages", &bob, &ask("anth/claude-unpriced", false)).await.status, 429);
    // carol's first call spends more than her daily budget; the next one is refused.
    let carol = [("x-api-key", "sk-carol")];
    mock.push(Reply::ok(ANT_JSON));
    assert_eq!(post(gw.addr, "/v1/messages", &carol, &ask("claude-test", false)).await.status, 200);
    gw.records.wait_for(10).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    let over = post(gw.addr, "/v1/messages", &carol, &ask("claude-test", false)).await;
    assert_eq!(over.status, 429);
    assert!(over.json()["error"]["message"].as_str().unwrap().starts_with("budget exceeded"), "{}", over.body);

    let recs = gw.records.wait_for(10).await;
    assert_eq!(recs.len(), 10, "one record per routed call");
    let alice_cost: f64 = recs.iter().filter(|r| r.key.as_deref() == Some("alice")).filter_map(|r| r.cost).sum();
    let want = ANT_JSON_NANO + 2.0 * ANT_SSE_NANO + OAI_JSON_NANO + DISCONNECT_NANO + ANT_JSON_NANO;
    assert!((alice_cost * 1e9 - want).abs() < 1e-3, "{alice_cost}");
    // Budget gauges are set by a background task after each call.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let expo = scrape(gw.addr).await;

    let m = |name: &str, labels: &[(&str, &str)]| metric(&expo, name, labels);
    let al = ("key", "alice");
    // Requests by outcome, including those refused before routing.
    assert_eq!(m("amux_requests_total", &[al, ("status_class", "2xx")]), 6.0);
    assert_eq!(m("amux_requests_total", &[al, ("status_class", "disconnected")]), 1.0);
    assert_eq!(m("amux_requests_total", &[al, ("status_class", "5xx")]), 1.0);
    assert_eq!(m("amux_requests_total", &[al, ("status_class", "4xx"), ("provider", "none")]), 2.0);
    assert_eq!(m("amux_requests_total", &[("key", "none"), ("status_class", "4xx")]), 1.0);
    assert_eq!(m("amux_requests_total", &[("key", "bob")]), 3.0);
    assert_eq!(m("amux_requests_total", &[("surface", "openai_chat"), al, ("status_class", "2xx")]), 1.0);
    // Errors by fault domain.
    assert_eq!(m("amux_errors_total", &[("fault", "provider"), ("kind", "bad_gateway")]), 1.0);
    assert_eq!(m("amux_errors_total", &[("fault", "policy"), ("kind", "authentication")]), 1.0);
    assert_eq!(m("amux_errors_total", &[("fault", "policy"), ("kind", "permission"), ("key", "bob")]), 1.0);
    assert_eq!(m("amux_errors_total", &[("fault", "policy"), ("kind", "rate_limit"), ("key", "bob")]), 1.0);
    assert_eq!(m("amux_errors_total", &[("fault", "caller"), ("kind", "not_found"), ("model", "nope")]), 1.0);
    assert_eq!(m("amux_errors_total", &[("fault", "caller"), ("kind", "invalid_request")]), 1.0);
    assert_eq!(m("amux_errors_total", &[("fault", "policy"), ("kind", "budget"), ("key", "carol")]), 1.0);
    assert_eq!(m("amux_errors_total", &[]), 7.0);
    assert_eq!(m("amux_rate_limit_rejections_total", &[("key", "bob")]), 1.0);
    assert_eq!(m("amux_budget_rejections_total", &[("key", "carol"), ("team", "t-carol")]), 1.0);
    // Tokens by kind: claude-test = whole + 2 streams + disconnected; cached = the miss only.
    let ct = [al, ("model", "claude-test"), ("upstream_model", "claude-up")];
    let tok = |kind: &str| m("amux_tokens_total", &[ct[0], ct[1], ct[2], ("kind", kind)]);
    assert_eq!((tok("input"), tok("output"), tok("cache_read"), tok("cache_write")), (125.0, 131.0, 5000.0, 200.0));
    let gt = |kind: &str| m("amux_tokens_total", &[al, ("model", "gpt-test"), ("kind", kind)]);
    assert_eq!((gt("input"), gt("cache_read"), gt("output"), gt("reasoning")), (600.0, 400.0, 100.0, 20.0));
    assert_eq!(m("amux_tokens_total", &[("model", "cached"), ("kind", "cache_read")]), 1000.0);
    // Cost in nano-USD, cache tokens at their own rates.
    let cost = |model: &str| m("amux_cost_nanodollars_total", &[al, ("model", model)]);
    assert_eq!(cost("claude-test"), ANT_JSON_NANO + 2.0 * ANT_SSE_NANO + DISCONNECT_NANO);
    assert_eq!(cost("gpt-test"), OAI_JSON_NANO);
    assert_eq!(cost("cached"), ANT_JSON_NANO, "the hit costs nothing");
    assert_eq!(m("amux_cost_nanodollars_total", &[("team", "t-alice")]), want);
    assert_eq!(m("amux_cost_unknown_total", &[("upstream_model", "claude-unpriced"), ("provider", "anth")]), 1.0);
    assert_eq!(m("amux_cost_nanodollars_total", &[("key", "bob")]), 0.0);
    // Cache, gauges, histograms.
    assert_eq!(m("amux_cache_lookups_total", &[("model", "cached"), ("result", "miss")]), 1.0);
    assert_eq!(m("amux_cache_lookups_total", &[("model", "cached"), ("result", "hit")]), 1.0);
    assert_eq!(m("amux_requests_in_flight", &[]), 0.0);
    assert_eq!(m("amux_open_streams", &[]), 0.0);
    assert_eq!(m("amux_time_to_first_token_seconds_count", &[("model", "claude-test")]), 3.0);
    assert_eq!(m("amux_time_per_output_token_seconds_count", &[("model", "claude-test")]), 2.0);
    assert_eq!(m("amux_request_duration_seconds_count", &[]), 10.0);
    assert_eq!(m("amux_gateway_overhead_seconds_count", &[]), 10.0);
    assert_eq!(m("amux_gateway_overhead_seconds_count", &[("path", "cache")]), 1.0);
    assert_eq!(m("amux_gateway_overhead_seconds_count", &[("path", "translated")]), 2.0);
    assert_eq!(m("amux_deployment_cooldown", &[("upstream_model", "claude-up")]), 0.0);
    assert_eq!(m("amux_budget_limit_usd", &[("scope", "key"), ("name", "alice"), ("period", "day")]), 100.0);
    let spend = m("amux_budget_spend_usd", &[("scope", "key"), ("name", "alice"), ("period", "day")]);
    assert!((spend * 1e9 - want).abs() < 1e-3, "{spend}");
    assert_eq!(m("amux_build_info", &[]), 1.0);
    expo
}

async fn disconnect_after_first_chunk(addr: std::net::SocketAddr, key: &str, body: &str) {
    use http_body_util::BodyExt;
    let req = http::Request::builder()
        .method("POST")
        .uri(format!("http://{addr}/v1/messages"))
        .header("x-api-key", key)
        .body(http_body_util::Full::new(bytes::Bytes::from(body.to_string())))
        .unwrap();
    let resp = client().request(req).await.unwrap();
    let mut body = resp.into_body();
    let first = body.frame().await.unwrap().unwrap();
    assert!(String::from_utf8_lossy(first.data_ref().unwrap()).contains("message_start"));
}

/// Retries, fallbacks and cooldowns through a second gateway; returns its exposition.
pub async fn router_events() -> String {
    let mock = Mock::start().await;
    let models = "  - name: flaky\n    strategy: lowest-latency\n    deployments:\n      - {provider: anth, model: down}\n      - {provider: anth, model: claude-up}\n  - {name: fb, provider: anth, model: gone, fallbacks: [claude-test]}\n";
    let cfg = (mock_config(&mock, models) + PRICES)
        .replace("router: {retries: 0}", "router: {retries: 1, cooldown_failures: 1, backoff_initial_ms: 1}");
    let gw = start_gateway(&cfg).await;
    let boom = || Reply::status(500, r#"{"type":"error","error":{"type":"api_error","message":"boom"}}"#);
    mock.push(boom());
    mock.push(Reply::ok(ANT_JSON));
    assert_eq!(post(gw.addr, "/v1/messages", &[], &ask("flaky", false)).await.status, 200);
    // fb: its one deployment fails twice (first try and the retry), then the fallback answers.
    mock.push(boom());
    mock.push(boom());
    mock.push(Reply::ok(ANT_JSON));
    assert_eq!(post(gw.addr, "/v1/messages", &[], &ask("fb", false)).await.status, 200);
    // A translated call with an advisory field the target has no form for.
    mock.push(Reply::ok(ANT_JSON));
    let chat = r#"{"model":"anth/claude-up","seed":7,"messages":[{"role":"user","content":"hi"}]}"#;
    let t = post(gw.addr, "/v1/chat/completions", &[], chat).await;
    assert_eq!(t.status, 200, "{}", t.body);
    assert_eq!(t.headers.get("x-amux-dropped").and_then(|v| v.to_str().ok()), Some("seed"));
    gw.records.wait_for(3).await;
    let expo = scrape(gw.addr).await;
    let m = |name: &str, labels: &[(&str, &str)]| metric(&expo, name, labels);
    assert_eq!(m("amux_retries_total", &[("model", "flaky"), ("provider", "anth")]), 1.0);
    assert_eq!(m("amux_fallbacks_total", &[("model", "fb")]), 1.0);
    assert_eq!(m("amux_cooldowns_total", &[("upstream_model", "down")]), 1.0);
    assert_eq!(m("amux_retries_total", &[("model", "fb")]), 1.0);
    assert_eq!(m("amux_cooldowns_total", &[("upstream_model", "gone")]), 2.0);
    assert_eq!(m("amux_deployment_cooldown", &[("upstream_model", "down")]), 1.0);
    assert_eq!(m("amux_deployment_cooldown", &[("upstream_model", "claude-up")]), 0.0);
    assert_eq!(m("amux_cost_nanodollars_total", &[("key", "none")]), 3.0 * ANT_JSON_NANO);
    let dropped = [("field", "seed"), ("from", "openai_chat"), ("to", "anthropic")];
    assert_eq!(m("amux_translation_dropped_total", &dropped), 1.0);
    expo
}

#[tokio::test]
async fn every_kind_of_call_is_counted_exactly() {
    calls_of_every_kind().await;
}

#[tokio::test]
async fn retries_fallbacks_and_cooldowns_are_counted() {
    router_events().await;
}

fn promtool(args: &[&str], stdin: Option<&str>) -> (bool, String) {
    use std::io::Write;
    let mut child = std::process::Command::new("promtool")
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("promtool is installed (Debian package prometheus; scripts/test.sh installs it)");
    if let Some(text) = stdin {
        child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

fn repo_file(rel: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(rel);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `amux_*` metric names mentioned in a text, histogram suffixes folded.
fn referenced(text: &str) -> std::collections::BTreeSet<String> {
    let mut out = std::collections::BTreeSet::new();
    let b = text.as_bytes();
    let mut i = 0;
    while let Some(at) = text[i..].find("amux_") {
        let s = i + at;
        let mut e = s;
        while e < b.len() && (b[e].is_ascii_lowercase() || b[e].is_ascii_digit() || b[e] == b'_') {
            e += 1;
        }
        let name = &text[s..e];
        let base = ["_bucket", "_sum", "_count"].iter().find_map(|x| name.strip_suffix(x)).unwrap_or(name);
        out.insert(base.to_string());
        i = e;
    }
    out
}

#[tokio::test]
async fn exposition_passes_promtool_and_dashboard_and_rules_use_only_real_metrics() {
    let (a, b) = (calls_of_every_kind().await, router_events().await);
    for expo in [&a, &b] {
        let (ok, out) = promtool(&["check", "metrics"], Some(expo));
        assert!(ok, "promtool check metrics:\n{out}\n{expo}");
    }
    // `amux_redis_up` is exported only with Redis configured: a gateway whose Redis is down.
    let c = {
        let mock = Mock::start().await;
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let gw = start_gateway(&mock_config(&mock, &format!("redis: {{url: 'redis://127.0.0.1:{port}'}}\n"))).await;
        get(gw.addr, "/metrics", &[]).await.body
    };
    assert!(c.contains("amux_redis_up 0"), "{c}");
    let exported: std::collections::BTreeSet<String> =
        names_in(&a).union(&names_in(&b)).cloned().chain(names_in(&c)).collect();
    let declared: std::collections::BTreeSet<String> =
        amux::telemetry::names::ALL.iter().map(|(n, ..)| n.to_string()).collect();
    assert_eq!(exported, declared, "every declared metric is exported by the calls above, and nothing else");
    for file in ["deploy/grafana/amux-dashboard.json", "deploy/prometheus/amux-rules.yaml"] {
        let text = repo_file(file);
        let used = referenced(&text);
        assert!(used.len() >= 5, "{file} references metrics");
        let unknown: Vec<&String> = used.difference(&exported).collect();
        assert!(unknown.is_empty(), "{file} references metrics that do not exist: {unknown:?}");
    }
    serde_json::from_str::<serde_json::Value>(&repo_file("deploy/grafana/amux-dashboard.json")).unwrap();
    let rules = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/prometheus/amux-rules.yaml");
    let (ok, out) = promtool(&["check", "rules", rules.to_str().unwrap()], None);
    assert!(ok, "promtool check rules:\n{out}");
}

#[tokio::test]
async fn metrics_behind_a_key() {
    let mock = Mock::start().await;
    let key = "scrape-key-0123456789";
    let gw = start_gateway(&mock_config(&mock, &format!("metrics: {{key: {key}}}\n"))).await;
    assert_eq!(get(gw.addr, "/metrics", &[]).await.status, 401);
    assert_eq!(get(gw.addr, "/metrics", &[("authorization", "Bearer wrong-key-0123456789")]).await.status, 403);
    let bearer = format!("Bearer {key}");
    let ok = get(gw.addr, "/metrics", &[("authorization", bearer.as_str())]).await;
    assert_eq!(ok.status, 200);
    assert!(ok.body.contains("amux_build_info"), "{}", ok.body);
    assert_eq!(get(gw.addr, "/metrics", &[("x-api-key", key)]).await.status, 200);
}

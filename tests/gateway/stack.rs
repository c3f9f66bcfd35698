//! Keys and rate limits through the running gateway: 401/403 in each caller's shape, RPM and TPM
//! per key, per alias and per deployment, in process and shared by two gateways through Redis.

use crate::support::*;

const ANT_OK: &str = r#"{"id":"msg_1","type":"message","role":"assistant","model":"m","content":[{"type":"text","text":"ok"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":100,"output_tokens":50}}"#;

fn ask(model: &str) -> String {
    format!(r#"{{"model":"{model}","max_tokens":20,"messages":[{{"role":"user","content":"hi"}}]}}"#)
}

fn with_keys(mock: &Mock, keys: &str, extra: &str) -> String {
    format!("{}keys:\n{keys}{extra}", mock_config(mock, ""))
}

#[tokio::test]
async fn keys_are_required_and_scoped_to_models() {
    let mock = Mock::start().await;
    let keys = key_entry("alice", "sk-alice", ", models: ['claude-*']") + &key_entry("bob", "sk-bob", "");
    let gw = start_gateway(&with_keys(&mock, &keys, "")).await;
    // No key, a wrong key: 401 in each shape, nothing sent upstream.
    let a = post(gw.addr, "/v1/messages", &[], &ask("claude-test")).await;
    assert_eq!((a.status, a.json()["error"]["type"].as_str()), (401, Some("authentication_error")));
    let o = post(gw.addr, "/v1/chat/completions", &[("authorization", "Bearer nope")], &ask("gpt-test")).await;
    assert_eq!(o.status, 401);
    assert!(!o.body.contains("nope"), "the presented key is never echoed");
    // A key outside its model globs: 403.
    let f = post(gw.addr, "/v1/chat/completions", &[("authorization", "Bearer sk-alice")], &ask("gpt-test")).await;
    assert_eq!(f.status, 403, "{}", f.body);
    assert_eq!(mock.count(), 0);
    // The right key in each surface's native header.
    for (h, k) in [("x-api-key", "sk-alice"), ("authorization", "Bearer sk-bob")] {
        mock.push(Reply::ok(ANT_OK));
        let ok = post(gw.addr, "/v1/messages", &[(h, k)], &ask("claude-test")).await;
        assert_eq!(ok.status, 200, "{}", ok.body);
    }
    let recs = gw.records.wait_for(2).await;
    assert_eq!(recs[0].key.as_deref(), Some("alice"));
    assert_eq!(recs[1].team.as_deref(), Some("t-bob"));
    // The models list shows what the key may use.
    let list = get(gw.addr, "/v1/models", &[("authorization", "Bearer sk-alice")]).await.json();
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn rpm_per_key_and_per_alias() {
    let mock = Mock::start().await;
    let keys = key_entry("alice", "sk-a", ", rpm: 2") + &key_entry("bob", "sk-b", "");
    let cfg = with_keys(&mock, &keys, "").replace(
        "  - {name: gpt-test, provider: oai, model: gpt-up}",
        "  - {name: gpt-test, provider: oai, model: gpt-up}\n  - {name: capped, provider: anth, model: c, rpm: 1}",
    );
    let gw = start_gateway(&cfg).await;
    for _ in 0..2 {
        mock.push(Reply::ok(ANT_OK));
        assert_eq!(post(gw.addr, "/v1/messages", &[("x-api-key", "sk-a")], &ask("claude-test")).await.status, 200);
    }
    let over = post(gw.addr, "/v1/messages", &[("x-api-key", "sk-a")], &ask("claude-test")).await;
    assert_eq!(over.status, 429);
    assert_eq!(over.json()["error"]["type"], "rate_limit_error");
    assert!(over.headers.contains_key("retry-after"));
    // Another key is not limited by alice's RPM, but the alias cap applies to everyone.
    mock.push(Reply::ok(ANT_OK));
    assert_eq!(post(gw.addr, "/v1/messages", &[("x-api-key", "sk-b")], &ask("capped")).await.status, 200);
    let capped = post(gw.addr, "/v1/chat/completions", &[("authorization", "Bearer sk-b")], &ask("capped")).await;
    assert_eq!(capped.status, 429);
    assert_eq!(capped.json()["error"]["type"], "rate_limit_error");
    assert_eq!(mock.count(), 3);
}

#[tokio::test]
async fn tpm_is_reconciled_with_real_usage() {
    let mock = Mock::start().await;
    // 150 tokens per call (100 in + 50 out); a 400-token budget admits calls while below it.
    let keys = key_entry("alice", "sk-a", ", tpm: 400");
    let gw = start_gateway(&with_keys(&mock, &keys, "")).await;
    let mut ok = 0;
    for _ in 0..5 {
        mock.push(Reply::ok(ANT_OK));
        let a = post(gw.addr, "/v1/messages", &[("x-api-key", "sk-a")], &ask("claude-test")).await;
        if a.status == 200 {
            ok += 1;
            // A record is handed to the sinks after the call's hooks ran: the in-memory
            // limiter has reconciled the call's real usage by the time it is seen.
            gw.records.wait_for(ok).await;
        } else {
            assert_eq!(a.status, 429);
        }
    }
    assert_eq!(ok, 3, "150 + 150 + 150 crosses 400 on the third call; the fourth is refused");
}

#[tokio::test]
async fn deployment_limits_move_traffic_to_the_other_deployment() {
    let mock = Mock::start().await;
    let cfg = mock_config(&mock, "  - name: pool\n    strategy: lowest-latency\n    deployments:\n      - {provider: anth, model: small, rpm: 1}\n      - {provider: anth, model: big}\n")
        .replace("router: {retries: 0}", "router: {retries: 1}");
    let gw = start_gateway(&cfg).await;
    for _ in 0..3 {
        mock.push(Reply::ok(ANT_OK));
        assert_eq!(post(gw.addr, "/v1/messages", &[], &ask("pool")).await.status, 200);
    }
    assert_eq!(mock.count_model("small"), 1);
    assert_eq!(mock.count_model("big"), 2);
}

#[tokio::test]
async fn two_gateways_share_one_limit_through_redis() {
    let redis = RedisServer::start().await;
    let mock = Mock::start().await;
    let keys = key_entry("alice", "sk-a", ", rpm: 10");
    let cfg = with_keys(&mock, &keys, &format!("redis: {{url: '{}', timeout_ms: 2000}}\n", redis.url));
    let (g1, g2) = (start_gateway(&cfg).await, start_gateway(&cfg).await);
    for _ in 0..40 {
        mock.push(Reply::ok(ANT_OK));
    }
    let mut admitted = 0;
    for i in 0..20 {
        let gw = if i % 2 == 0 { &g1 } else { &g2 };
        let a = post(gw.addr, "/v1/messages", &[("x-api-key", "sk-a")], &ask("claude-test")).await;
        if a.status == 200 {
            admitted += 1;
        } else {
            assert_eq!(a.status, 429, "{}", a.body);
        }
    }
    // A minute boundary inside the loop could admit up to 10 more; the window is one minute.
    assert!(admitted == 10 || (admitted > 10 && admitted <= 20 && mock.count() == admitted), "admitted {admitted}");
    assert_eq!(mock.count(), admitted);
}

#[tokio::test]
async fn redis_down_fails_open_or_closed_as_configured() {
    let mock = Mock::start().await;
    let redis = RedisServer::start().await;
    let keys = key_entry("alice", "sk-a", ", rpm: 10");
    for (mode, expect) in [("open", 200), ("closed", 503)] {
        let cfg = with_keys(&mock, &keys, &format!("redis: {{url: '{}', on_failure: {mode}}}\n", redis.url));
        let gw = start_gateway(&cfg).await;
        gw_redis_down(&redis).await;
        mock.push(Reply::ok(ANT_OK));
        let a = post(gw.addr, "/v1/messages", &[("x-api-key", "sk-a")], &ask("claude-test")).await;
        assert_eq!(a.status, expect, "{mode}: {}", a.body);
    }
}

/// Makes Redis refuse every write (as a primary that lost its replicas does), so the limiter's
/// script fails while the connection stays up.
async fn gw_redis_down(redis: &RedisServer) {
    let port: u16 = redis.url.rsplit(':').next().unwrap().parse().unwrap();
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    s.write_all(b"CONFIG SET min-replicas-to-write 1\r\n").await.unwrap();
    let mut buf = [0u8; 5];
    s.read_exact(&mut buf).await.unwrap();
}

#[tokio::test]
async fn two_gateways_share_one_tpm_budget_through_redis() {
    let redis = RedisServer::start().await;
    let mock = Mock::start().await;
    let body = ask("claude-test");
    // The upstream reports exactly the admission estimate (body bytes / 4), so the shared count
    // is exact and 10 calls fill a 10-call budget.
    let per_call = body.len().div_ceil(4);
    let reply = ANT_OK.replace(
        "\"input_tokens\":100,\"output_tokens\":50",
        &format!("\"input_tokens\":{per_call},\"output_tokens\":0"),
    );
    let keys = key_entry("alice", "sk-a", &format!(", tpm: {}", per_call * 10));
    let cfg = with_keys(&mock, &keys, &format!("redis: {{url: '{}', timeout_ms: 2000}}\n", redis.url));
    let (g1, g2) = (start_gateway(&cfg).await, start_gateway(&cfg).await);
    let mut admitted = 0;
    for i in 0..16 {
        mock.push(Reply::ok(reply.clone()));
        let gw = if i % 2 == 0 { &g1 } else { &g2 };
        let a = post(gw.addr, "/v1/messages", &[("x-api-key", "sk-a")], &body).await;
        if a.status == 200 {
            admitted += 1;
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        } else {
            assert_eq!(a.status, 429, "{}", a.body);
            assert!(a.body.contains("tokens"), "{}", a.body);
        }
    }
    assert!(
        admitted == 10 || admitted > 10 && admitted <= 16,
        "admitted {admitted} (10 unless a minute boundary passed)"
    );
}

/// One call's wall time and status.
async fn timed(gw: &TestGateway, mock: &Mock) -> (u16, std::time::Duration) {
    mock.push(Reply::ok(ANT_OK));
    let t0 = std::time::Instant::now();
    let a = post(gw.addr, "/v1/messages", &[("x-api-key", "sk-a")], &ask("claude-test")).await;
    (a.status, t0.elapsed())
}

#[tokio::test]
async fn redis_down_at_start_fails_open_or_closed_at_once() {
    let mock = Mock::start().await;
    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let keys = key_entry("alice", "sk-a", ", rpm: 1, budget: {daily_usd: 100}");
    for (mode, expect) in [("open", 200), ("closed", 503)] {
        // A long timeout, so that waiting for it shows plainly against a loaded machine's noise.
        let redis = format!("redis: {{url: 'redis://127.0.0.1:{port}', on_failure: {mode}, timeout_ms: 2000}}\n");
        let gw = start_gateway(&with_keys(&mock, &keys, &redis)).await;
        for _ in 0..5 {
            let (status, took) = timed(&gw, &mock).await;
            assert_eq!(status, expect, "{mode}");
            eprintln!("redis down at start, on_failure {mode}: a call took {took:?}");
            assert!(took < std::time::Duration::from_millis(1000), "{mode}: a call took {took:?}");
        }
        let _ = mock.replies_left();
    }
}

#[tokio::test]
async fn redis_going_away_mid_run_costs_milliseconds_and_comes_back() {
    let mock = Mock::start().await;
    let mut redis = RedisServer::start().await;
    let keys = key_entry("alice", "sk-a", ", rpm: 2");
    for mode in ["open", "closed"] {
        redis.restart().await;
        let extra =
            format!("redis: {{url: '{}', on_failure: {mode}, retry_interval_ms: 100, timeout_ms: 2000}}\n", redis.url);
        let gw = start_gateway(&with_keys(&mock, &keys, &extra)).await;
        assert_eq!(timed(&gw, &mock).await.0, 200, "{mode}: redis up");
        redis.kill();
        // The first call after the kill finds the connection reset; later ones do not ask Redis.
        let expect = if mode == "open" { 200 } else { 503 };
        let mut times = Vec::new();
        for _ in 0..10 {
            let (status, took) = timed(&gw, &mock).await;
            assert_eq!(status, expect, "{mode}: redis down");
            times.push(took);
        }
        eprintln!("redis killed, on_failure {mode}: call times {times:?}");
        // No call waits for the (2 s) timeout; most take a few milliseconds.
        assert!(times.iter().all(|t| *t < std::time::Duration::from_millis(1000)), "{mode}: {times:?}");
        times.sort();
        assert!(times[5] < std::time::Duration::from_millis(100), "{mode}: median {:?} ({times:?})", times[5]);
        assert!(get(gw.addr, "/metrics", &[]).await.body.contains("amux_redis_up 0"), "{mode}");
        // Back (empty): within a few probe intervals the limit is enforced through Redis again
        // (fail-open alone would admit every call; two per minute are allowed).
        redis.restart().await;
        let mut refused = false;
        for _ in 0..100 {
            let (status, _) = timed(&gw, &mock).await;
            if status == 429 {
                refused = true;
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        assert!(refused, "{mode}: the limiter uses redis again once it is back");
        assert!(get(gw.addr, "/metrics", &[]).await.body.contains("amux_redis_up 1"), "{mode}");
        let _ = mock.replies_left();
    }
}

#[tokio::test]
async fn a_hung_redis_costs_one_timeout_then_nothing() {
    let mock = Mock::start().await;
    let redis = RedisServer::start().await;
    let keys = key_entry("alice", "sk-a", ", rpm: 1000");
    let extra = format!("redis: {{url: '{}', timeout_ms: 500, retry_interval_ms: 100}}\n", redis.url);
    let gw = start_gateway(&with_keys(&mock, &keys, &extra)).await;
    assert_eq!(timed(&gw, &mock).await.0, 200);
    // Frozen: connections stay open and nothing answers.
    redis.signal(libc::SIGSTOP);
    let mut times = Vec::new();
    for _ in 0..10 {
        let (status, took) = timed(&gw, &mock).await;
        assert_eq!(status, 200);
        times.push(took);
    }
    redis.signal(libc::SIGCONT);
    eprintln!("redis frozen: call times {times:?}");
    // One timeout is 500 ms: the first call waits it (and not much more), the others do not.
    assert!(times[0] < std::time::Duration::from_millis(1500), "the first call waits one timeout at most: {times:?}");
    assert!(times[1..].iter().all(|t| *t < std::time::Duration::from_millis(250)), "then none: {times:?}");
}

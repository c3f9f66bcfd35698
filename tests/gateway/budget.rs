//! Budgets through the running gateway: a key's and a team's USD budget refuses calls with a 429
//! in each caller's shape once spent, nothing reaches the upstream, `/admin/spend` (master key
//! only) shows spend per key and team, and two replicas share spend through Redis.

use std::time::Duration;

use crate::metrics::{ANT_JSON, PRICES, ask};
use crate::support::*;

const ADMIN: &str = "admin-master-key-0123456789";

/// One call's cost: ANT_JSON at PRICES.
const CALL_USD: f64 = 0.0021;

fn config(mock: &Mock, keys: &str, extra: &str) -> String {
    format!("{}{PRICES}keys:\n{keys}admin: {{key: '{ADMIN}'}}\n{extra}", mock_config(mock, ""))
}

/// A call as alice that the mock answers; waits until its cost is charged.
async fn paid_call(gw: &TestGateway, mock: &Mock, key: &str, n: usize) {
    mock.push(Reply::ok(ANT_JSON));
    let a = post(gw.addr, "/v1/messages", &[("x-api-key", key)], &ask("claude-test", false)).await;
    assert_eq!(a.status, 200, "{}", a.body);
    gw.records.wait_for(n).await;
}

/// Waits (bounded) until `gw` reports `calls` paid calls of the first key today: with Redis the
/// charge is written by a task of its own after the call's record.
async fn wait_spend(gw: &TestGateway, calls: f64) {
    let until = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let s = spend(gw.addr).await;
        if close(&s["keys"][0]["day"]["spend_usd"], calls * CALL_USD) {
            return;
        }
        assert!(std::time::Instant::now() < until, "spend never reached {calls} calls: {s}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn spend(addr: std::net::SocketAddr) -> serde_json::Value {
    let r = get(addr, "/admin/spend", &[("authorization", &format!("Bearer {ADMIN}"))]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()
}

fn close(a: &serde_json::Value, b: f64) -> bool {
    a.as_f64().is_some_and(|a| (a - b).abs() < 1e-12)
}

#[tokio::test]
async fn spent_budgets_refuse_in_each_callers_shape_and_admin_shows_spend() {
    let mock = Mock::start().await;
    let keys = key_entry("alice", "sk-a", ", budget: {daily_usd: 0.003}") + &key_entry("bob", "sk-b", "");
    let gw = start_gateway(&config(&mock, &keys, "teams:\n  t-bob: {budget: {monthly_usd: 0.002}}\n")).await;
    // 0.0021 < 0.003: admitted; 0.0042 >= 0.003: refused.
    paid_call(&gw, &mock, "sk-a", 1).await;
    paid_call(&gw, &mock, "sk-a", 2).await;
    let a = post(gw.addr, "/v1/messages", &[("x-api-key", "sk-a")], &ask("claude-test", false)).await;
    assert_eq!(a.status, 429);
    assert_eq!(a.json()["error"]["type"], "rate_limit_error");
    let msg = a.json()["error"]["message"].as_str().unwrap().to_string();
    assert!(msg.starts_with("budget exceeded: key \"alice\" has spent $0.0042 of its $0.003 daily budget"), "{msg}");
    assert!(a.headers.contains_key("retry-after"));
    let o =
        post(gw.addr, "/v1/chat/completions", &[("authorization", "Bearer sk-a")], &ask("claude-test", false)).await;
    assert_eq!(o.status, 429);
    assert!(o.json()["error"]["message"].as_str().unwrap().starts_with("budget exceeded"), "{}", o.body);
    let g = post(
        gw.addr,
        "/v1beta/models/claude-test:generateContent",
        &[("x-goog-api-key", "sk-a")],
        r#"{"contents":[{"role":"user","parts":[{"text":"hi"}]}]}"#,
    )
    .await;
    assert_eq!((g.status, g.json()["error"]["status"].as_str()), (429, Some("RESOURCE_EXHAUSTED")));
    assert_eq!(mock.count(), 2, "refused calls never reach the upstream");
    // The team budget covers all of the team's keys.
    paid_call(&gw, &mock, "sk-b", 3).await;
    let b = post(gw.addr, "/v1/messages", &[("x-api-key", "sk-b")], &ask("claude-test", false)).await;
    assert_eq!(b.status, 429);
    assert!(b.json()["error"]["message"].as_str().unwrap().contains("team \"t-bob\""), "{}", b.body);
    assert!(b.json()["error"]["message"].as_str().unwrap().contains("monthly"), "{}", b.body);
    // The admin API: master key only, compared in constant time.
    assert_eq!(get(gw.addr, "/admin/spend", &[]).await.status, 401);
    assert_eq!(get(gw.addr, "/admin/spend", &[("x-api-key", "sk-a")]).await.status, 403);
    let s = spend(gw.addr).await;
    let alice = s["keys"].as_array().unwrap().iter().find(|k| k["name"] == "alice").unwrap();
    assert!(close(&alice["day"]["spend_usd"], 2.0 * CALL_USD), "{alice}");
    assert!(close(&alice["month"]["spend_usd"], 2.0 * CALL_USD), "{alice}");
    assert_eq!(alice["day"]["budget_usd"], 0.003);
    assert_eq!(alice["team"], "t-alice");
    let team = s["teams"].as_array().unwrap().iter().find(|t| t["name"] == "t-bob").unwrap();
    assert!(close(&team["month"]["spend_usd"], CALL_USD), "{team}");
    assert_eq!(team["month"]["budget_usd"], 0.002);
    assert!(close(
        &s["teams"].as_array().unwrap().iter().find(|t| t["name"] == "t-alice").unwrap()["day"]["spend_usd"],
        2.0 * CALL_USD
    ));
    // Refusals are counted as budget rejections.
    let expo = crate::metrics::scrape(gw.addr).await;
    assert_eq!(crate::metrics::metric(&expo, "amux_budget_rejections_total", &[("key", "alice")]), 3.0);
    assert_eq!(crate::metrics::metric(&expo, "amux_budget_rejections_total", &[("team", "t-bob")]), 1.0);
}

#[tokio::test]
async fn admin_api_is_off_without_a_master_key() {
    let mock = Mock::start().await;
    let gw = start_gateway(&mock_config(&mock, "")).await;
    assert_eq!(get(gw.addr, "/admin/spend", &[("authorization", &format!("Bearer {ADMIN}"))]).await.status, 404);
}

#[tokio::test]
async fn two_replicas_share_spend_through_redis() {
    let redis = RedisServer::start().await;
    let mock = Mock::start().await;
    let keys = key_entry("alice", "sk-a", "");
    let extra = format!(
        "teams:\n  t-alice: {{budget: {{daily_usd: 0.005}}}}\nredis: {{url: '{}', timeout_ms: 2000}}\n",
        redis.url
    );
    let cfg = config(&mock, &keys, &extra);
    let (g1, g2) = (start_gateway(&cfg).await, start_gateway(&cfg).await);
    // 0.0021, 0.0042 (both below 0.005), 0.0063: the fourth call is refused on either replica.
    paid_call(&g1, &mock, "sk-a", 1).await;
    wait_spend(&g2, 1.0).await;
    paid_call(&g2, &mock, "sk-a", 1).await;
    wait_spend(&g1, 2.0).await;
    paid_call(&g1, &mock, "sk-a", 2).await;
    wait_spend(&g2, 3.0).await;
    for gw in [&g2, &g1] {
        let r = post(gw.addr, "/v1/messages", &[("x-api-key", "sk-a")], &ask("claude-test", false)).await;
        assert_eq!(r.status, 429, "{}", r.body);
        assert!(r.body.contains("team \\\"t-alice\\\" has spent $0.0063"), "{}", r.body);
    }
    assert_eq!(mock.count(), 3);
    for gw in [&g1, &g2] {
        let s = spend(gw.addr).await;
        assert!(close(&s["keys"][0]["day"]["spend_usd"], 3.0 * CALL_USD), "{s}");
        assert!(close(&s["teams"][0]["day"]["spend_usd"], 3.0 * CALL_USD), "{s}");
        assert_eq!(s["teams"][0]["day"]["budget_usd"], 0.005);
    }
}

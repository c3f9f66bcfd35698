//! The response cache: hits and misses, streamed and not, across dialects, per team, never for
//! errors, and shared by two gateways through Redis.

use crate::support::*;

const ANT_OK: &str = r#"{"id":"msg_1","type":"message","role":"assistant","model":"claude-up","content":[{"type":"text","text":"cached answer"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":10,"output_tokens":3}}"#;
const ANT_SSE: &str = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-up\",\"content\":[],\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":10,\"output_tokens\":1}}}\n\nevent: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\nevent: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"cached \"}}\n\nevent: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"answer\"}}\n\nevent: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\nevent: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":3}}\n\nevent: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";

fn anthropic(model: &str, stream: bool) -> String {
    format!(
        r#"{{"model":"{model}","max_tokens":20,"stream":{stream},"messages":[{{"role":"user","content":"what is 2+2?"}}]}}"#
    )
}

fn openai(model: &str, stream: bool) -> String {
    format!(
        r#"{{"model":"{model}","max_tokens":20,"stream":{stream},"messages":[{{"role":"user","content":"what is 2+2?"}}]}}"#
    )
}

fn cached_config(mock: &Mock, extra: &str) -> String {
    mock_config(mock, "  - {name: cached, provider: anth, model: claude-up, cache: true}\n") + extra
}

fn text_of_sse(body: &str) -> String {
    sse_events(body)
        .iter()
        .filter_map(|(_, d)| serde_json::from_str::<serde_json::Value>(d).ok())
        .filter_map(|v| {
            v["delta"]["text"].as_str().or(v["choices"][0]["delta"]["content"].as_str()).map(str::to_string)
        })
        .collect()
}

#[tokio::test]
async fn hit_after_miss_streamed_or_not_and_across_dialects() {
    let mock = Mock::start().await;
    mock.push(Reply::sse(ANT_SSE));
    let gw = start_gateway(&cached_config(&mock, "")).await;
    let first = post(gw.addr, "/v1/messages", &[], &anthropic("cached", true)).await;
    assert_eq!(first.headers["x-amux-cache"], "miss");
    assert_eq!(first.body, ANT_SSE, "a miss streams the upstream's bytes");
    gw.records.wait_for(1).await;
    // The streamed answer is now cached: replayed as a stream, as JSON, and to an OpenAI caller.
    let again = post(gw.addr, "/v1/messages", &[], &anthropic("cached", true)).await;
    assert_eq!(again.headers["x-amux-cache"], "hit");
    assert_eq!(text_of_sse(&again.body), "cached answer");
    assert_eq!(sse_events(&again.body).last().unwrap().0.as_deref(), Some("message_stop"));
    let whole = post(gw.addr, "/v1/messages", &[], &anthropic("cached", false)).await;
    assert_eq!(whole.headers["x-amux-cache"], "hit");
    assert_eq!(whole.json()["content"][0]["text"], "cached answer");
    let oai = post(gw.addr, "/v1/chat/completions", &[], &openai("cached", true)).await;
    assert_eq!(oai.headers["x-amux-cache"], "hit");
    assert_eq!(text_of_sse(&oai.body), "cached answer");
    assert_eq!(mock.count(), 1);
    let recs = gw.records.wait_for(4).await;
    assert_eq!(recs.iter().filter(|r| r.cache == Some(true)).count(), 3);
}

#[tokio::test]
async fn errors_are_never_cached_and_opt_in_is_per_alias_or_header() {
    let mock = Mock::start().await;
    mock.push(Reply::status(500, r#"{"type":"error","error":{"type":"api_error","message":"x"}}"#));
    mock.push(Reply::ok(ANT_OK));
    mock.push(Reply::ok(ANT_OK));
    mock.push(Reply::ok(ANT_OK));
    let gw = start_gateway(&cached_config(&mock, "")).await;
    assert_eq!(post(gw.addr, "/v1/messages", &[], &anthropic("cached", false)).await.status, 502);
    assert_eq!(post(gw.addr, "/v1/messages", &[], &anthropic("cached", false)).await.headers["x-amux-cache"], "miss");
    assert_eq!(post(gw.addr, "/v1/messages", &[], &anthropic("cached", false)).await.headers["x-amux-cache"], "hit");
    // `off` skips the cache; an alias without `cache: true` is not cached unless asked.
    let off = post(gw.addr, "/v1/messages", &[("x-amux-cache", "off")], &anthropic("cached", false)).await;
    assert!(!off.headers.contains_key("x-amux-cache"));
    let plain = post(gw.addr, "/v1/messages", &[], &anthropic("claude-test", false)).await;
    assert!(!plain.headers.contains_key("x-amux-cache"));
    assert_eq!(mock.count(), 4);
    mock.push(Reply::ok(ANT_OK));
    let on = post(gw.addr, "/v1/messages", &[("x-amux-cache", "on")], &anthropic("claude-test", false)).await;
    assert_eq!(on.headers["x-amux-cache"], "miss");
    let on2 = post(gw.addr, "/v1/messages", &[("x-amux-cache", "on")], &anthropic("claude-test", false)).await;
    assert_eq!(on2.headers["x-amux-cache"], "hit");
    assert_eq!(mock.count(), 5);
}

#[tokio::test]
async fn entries_are_scoped_per_team() {
    let mock = Mock::start().await;
    let keys = key_entry("a1", "sk-a1", ", team: red")
        + &key_entry("a2", "sk-a2", ", team: red")
        + &key_entry("b", "sk-b", ", team: blue");
    // key_entry sets team t-<name>; the explicit team above wins as the later key.
    let cfg = cached_config(
        &mock,
        &format!("keys:\n{}", keys.replace("team: t-a1, ", "").replace("team: t-a2, ", "").replace("team: t-b, ", "")),
    );
    let gw = start_gateway(&cfg).await;
    for _ in 0..2 {
        mock.push(Reply::ok(ANT_OK));
    }
    let h = |k: &'static str| [("x-api-key", k)];
    assert_eq!(
        post(gw.addr, "/v1/messages", &h("sk-a1"), &anthropic("cached", false)).await.headers["x-amux-cache"],
        "miss"
    );
    assert_eq!(
        post(gw.addr, "/v1/messages", &h("sk-a2"), &anthropic("cached", false)).await.headers["x-amux-cache"],
        "hit"
    );
    assert_eq!(
        post(gw.addr, "/v1/messages", &h("sk-b"), &anthropic("cached", false)).await.headers["x-amux-cache"],
        "miss"
    );
    assert_eq!(mock.count(), 2);
}

#[tokio::test]
async fn two_gateways_share_the_cache_through_redis() {
    let redis = RedisServer::start().await;
    let mock = Mock::start().await;
    mock.push(Reply::sse(ANT_SSE));
    let cfg = cached_config(
        &mock,
        &format!("redis: {{url: '{}', timeout_ms: 2000}}\ncache: {{backend: redis, ttl_secs: 60}}\n", redis.url),
    );
    let (g1, g2) = (start_gateway(&cfg).await, start_gateway(&cfg).await);
    let a = post(g1.addr, "/v1/messages", &[], &anthropic("cached", true)).await;
    assert_eq!(a.headers["x-amux-cache"], "miss");
    // The store is written in the background: wait (bounded) until the other replica sees it.
    let (mut hit, mut misses) = (None, 0);
    for _ in 0..50 {
        mock.push(Reply::ok(ANT_OK));
        let b = post(g2.addr, "/v1/chat/completions", &[], &openai("cached", false)).await;
        if b.headers.get("x-amux-cache").is_some_and(|v| v == "hit") {
            hit = Some(b);
            break;
        }
        misses += 1;
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let b = hit.expect("the second replica hits the entry the first one stored");
    assert_eq!(b.json()["choices"][0]["message"]["content"], "cached answer");
    assert_eq!(mock.count(), 1 + misses);
}

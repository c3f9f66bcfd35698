use super::parse::{format_asked, parse};
use super::*;

fn args(a: &[&str]) -> Vec<String> {
    a.iter().map(|s| s.to_string()).collect()
}

#[test]
fn machine_readable_flags_are_recognised_only_when_asked() {
    assert_eq!(format_asked("claude", &args(&["--output-format", "stream-json", "--verbose"])), Some("claude"));
    assert_eq!(format_asked("claude", &args(&["--output-format=json"])), Some("claude"));
    assert_eq!(format_asked("claude", &args(&["--output-format", "text"])), None);
    assert_eq!(format_asked("codex", &args(&["--skip-git-repo-check", "--json"])), Some("codex"));
    assert_eq!(format_asked("gemini", &args(&["-o", "json"])), Some("gemini"));
    assert_eq!(format_asked("qwen", &args(&["--output-format", "json"])), Some("gemini"));
    assert_eq!(format_asked("opencode", &args(&["--format", "json"])), None);
}

#[test]
fn codex_turns_carry_usage_with_cached_tokens_split_out() {
    let out = [
        r#"{"type":"thread.started","thread_id":"t"}"#,
        r#"{"type":"turn.started"}"#,
        r#"{"type":"turn.completed","usage":{"input_tokens":120,"cached_input_tokens":100,"output_tokens":7,"reasoning_output_tokens":3}}"#,
        r#"{"type":"turn.failed","error":{"message":"boom"}}"#,
    ]
    .join("\n");
    let p = parse("codex", &out).unwrap();
    assert_eq!(p.lines.len(), 2);
    assert_eq!(p.lines[0].tokens, Some(Tokens { input: 20, output: 7, cache_read: 100, cache_write: 0, reasoning: 3 }));
    assert_eq!(p.lines[0].cost_usd, None);
    assert_eq!(p.lines[1].error.as_deref(), Some("boom"));
    let mut s = Summary::new(p.source);
    for l in &p.lines {
        s.add(l);
    }
    assert_eq!((s.turns, s.calls, s.errors), (Some(2), None, 1));
    assert_eq!(s.waiting_ms, None);
}

#[test]
fn gemini_json_gives_totals_by_model() {
    let out = r#"Loaded cached credentials.
{
  "response": "hi",
  "stats": {"models": {"gemini-2.5-flash": {
    "api": {"totalRequests": 2, "totalErrors": 1, "totalLatencyMs": 1500},
    "tokens": {"prompt": 300, "candidates": 20, "total": 330, "cached": 100, "thoughts": 10, "tool": 0}}}}
}"#;
    let p = parse("gemini", out).unwrap();
    let t = p.totals.unwrap();
    assert_eq!((t.calls, t.errors, t.waiting_ms), (Some(2), 1, Some(1500.0)));
    assert_eq!(t.tokens, Some(Tokens { input: 200, output: 30, cache_read: 100, cache_write: 0, reasoning: 10 }));
    assert_eq!(t.cost_usd, None, "Gemini CLI reports no price");
    assert!(parse("gemini", "no json here").is_none());
}

#[test]
fn claude_json_result_alone_gives_totals_and_cost() {
    let out = r#"{"type":"result","subtype":"success","is_error":false,"num_turns":3,"duration_api_ms":900,"total_cost_usd":0.02,"modelUsage":{"claude-haiku-4-5":{"inputTokens":5,"outputTokens":2,"cacheReadInputTokens":0,"cacheCreationInputTokens":0,"costUSD":0.001},"claude-sonnet-4-5":{"inputTokens":50,"outputTokens":20,"costUSD":0.019}}}"#;
    let p = parse("claude", out).unwrap();
    assert!(p.lines.is_empty());
    let t = p.totals.unwrap();
    assert_eq!(t.turns, Some(3));
    assert_eq!(t.by_model.len(), 2);
    assert!((t.cost_usd.unwrap() - 0.02).abs() < 1e-12);
    assert_eq!(t.tokens.unwrap().output, 22);
}

fn record(model: &str, cost: Option<f64>, outcome: crate::usage::Outcome) -> CallRecord {
    let mut r = CallRecord::new(crate::ir::Dialect::Anthropic, None, None, model.into(), true);
    r.provider = "p".into();
    r.upstream_model = format!("{model}-up");
    r.usage = crate::ir::Usage { input_tokens: 10, output_tokens: 5, ..Default::default() };
    r.duration = Duration::from_millis(200);
    r.upstream_time = Duration::from_millis(150);
    r.time_to_first_byte = Some(Duration::from_millis(40));
    r.retries = 1;
    r.outcome = outcome;
    r.cost = cost;
    r
}

#[test]
fn the_summary_adds_calls_by_model_and_keeps_unknown_prices_apart() {
    let mut s = Summary::new("gateway");
    let now = SystemTime::now();
    s.add(&CallLine::from_record(&record("a", Some(0.01), crate::usage::Outcome::Success), now));
    s.add(&CallLine::from_record(&record("a", None, crate::usage::Outcome::Success), now));
    let err = crate::usage::Outcome::Error { status: 502, kind: "bad_gateway" };
    s.add(&CallLine::from_record(&record("b", Some(0.0), err), now));
    assert_eq!((s.calls, s.errors), (Some(3), 1));
    assert_eq!(s.tokens.unwrap().input, 30);
    assert_eq!(s.waiting_ms, Some(450.0));
    let a = &s.by_model["a-up"];
    assert_eq!((a.calls, a.cost_usd, a.unpriced_calls), (2, Some(0.01), 1));
    let text = s.to_text("id", Path::new("/d/id.calls.jsonl"));
    assert!(text.contains("3 calls, 1 errors, 0.5 s waiting on models"), "{text}");
    assert!(text.contains("a-up $0.01 + 1 calls of unknown price"), "{text}");
    let line = CallLine::from_record(&record("a", None, crate::usage::Outcome::Success), now);
    let v = serde_json::to_value(&line).unwrap();
    assert_eq!(v["cost_usd"], serde_json::Value::Null, "unknown is null, present");
    assert_eq!((v["ttft_ms"].as_f64(), v["retries"].as_u64()), (Some(40.0), Some(1)));
}

#[test]
fn recorder_writes_lines_and_the_session_file_and_sessions_reads_them_back() {
    let dir = std::env::temp_dir().join(format!("amux-observe-unit-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let meta = SessionFile {
        harness: "claude".into(),
        route: "in-process gateway".into(),
        model: "m".into(),
        ..Default::default()
    };
    let budget = Arc::new(SessionBudget::new(1.0));
    let r = Recorder::start(&dir, meta, Some(budget.clone())).unwrap();
    r.record(&record("m", Some(0.25), crate::usage::Outcome::Success));
    budget.charge(Some(0.25));
    let s = r.finish(Some(0), |_| {});
    assert_eq!(s.calls, Some(1));
    assert_eq!(s.budget.unwrap().spent_usd, 0.25);
    let text = std::fs::read_to_string(r.calls_path()).unwrap();
    assert_eq!(text.lines().count(), 1);
    let listed = sessions::load(&dir);
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].exit_code, Some(0));
    assert_eq!(listed[0].summary.as_ref().unwrap().calls, Some(1));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777, 0o700);
        assert_eq!(std::fs::metadata(r.calls_path()).unwrap().permissions().mode() & 0o777, 0o600);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn dollars() {
    assert_eq!(usd(0.0), "0");
    assert_eq!(usd(0.018), "0.018");
    assert_eq!(usd(12.5), "12.50");
}

//! `--observe`, `--max-budget-usd` and `--max-turns` through the fake harness.

use serde_json::Value;

use crate::fake::{World, ok};
use crate::mock_ollama::{MockOllama, PullMode};

const MODEL: &str = "qwen3:8b";

/// A world whose `ollama` calls cost $0.009 each (5 + 4 tokens at $1000 per million).
fn priced_world(name: &str) -> (World, MockOllama, std::path::PathBuf) {
    let mock = MockOllama::start(&[MODEL], PullMode::Succeed);
    let mut w = World::new(name);
    w.set("OLLAMA_HOST", mock.host());
    let cfg = w.write("amux.yaml", "discover_env: true\nprices:\n  ollama:\n    \"*\": {input: 1000, output: 1000}\n");
    (w, mock, cfg)
}

fn lines(path: &str) -> Vec<Value> {
    std::fs::read_to_string(path).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

fn session_json(stderr: &str) -> Value {
    let line = stderr.lines().find(|l| l.starts_with("{\"session\"")).unwrap_or_else(|| panic!("{stderr}"));
    serde_json::from_str(line).unwrap()
}

#[test]
fn observe_records_every_gateway_call_and_the_budget_stops_the_session() {
    let (mut w, _mock, cfg) = priced_world("observe-budget");
    w.set("FAKE_CALL", "3");
    let dir = w.root.join("sessions");
    let observe = format!("--observe={}", dir.display());
    let out = w.launch(&[
        "claude",
        "ollama",
        "--model",
        MODEL,
        "--config",
        cfg.to_str().unwrap(),
        "--prompt",
        "hi",
        &observe,
        "--max-budget-usd",
        "0.01",
        "--json",
    ]);
    ok(&out);
    let stderr = String::from_utf8_lossy(&out.stderr);
    // The harness's output reached amux's stdout unchanged, and its copy is beside the calls.
    assert_eq!(String::from_utf8_lossy(&out.stdout), "fake harness done\n");
    let s = session_json(&stderr);
    let summary = &s["session"]["summary"];
    assert_eq!(summary["source"], "gateway");
    assert_eq!(summary["calls"], 2, "{summary}");
    assert_eq!(summary["refused"], 1, "{summary}");
    assert_eq!(summary["errors"], 1, "{summary}");
    assert_eq!(summary["tokens"]["input"], 10);
    assert_eq!(summary["tokens"]["output"], 8);
    assert!((summary["cost_usd"].as_f64().unwrap() - 0.018).abs() < 1e-9, "{summary}");
    assert_eq!(summary["budget"]["reached"], true);
    assert_eq!(summary["budget"]["refused"], 1);
    assert_eq!(summary["by_model"][MODEL]["calls"], 2, "{summary}");
    // The third call got a clear budget error in the harness's dialect (Anthropic).
    let responses = w.recorded("claude", "responses");
    let third = responses.lines().nth(2).unwrap();
    assert!(third.starts_with("403 "), "{third}");
    let body: Value = serde_json::from_str(&third[4..]).unwrap();
    assert_eq!(body["type"], "error");
    assert_eq!(body["error"]["type"], "permission_error");
    assert!(body["error"]["message"].as_str().unwrap().contains("--max-budget-usd"), "{body}");
    // The calls file: two calls, one refusal, with every field present.
    let calls = lines(s["session"]["calls"].as_str().unwrap());
    assert_eq!(calls.len(), 3, "{calls:?}");
    assert_eq!(calls[0]["kind"], "call");
    assert_eq!(calls[0]["provider"], "ollama");
    assert_eq!(calls[0]["outcome"], "success");
    assert!(calls[0]["duration_ms"].is_number() && calls[0]["upstream_ms"].is_number());
    assert_eq!(calls[0]["stream"], false);
    assert_eq!(calls[0]["retries"], 0);
    assert!((calls[0]["cost_usd"].as_f64().unwrap() - 0.009).abs() < 1e-9);
    assert_eq!(calls[2]["kind"], "refused");
    assert_eq!(calls[2]["error"], "budget");
    // `amux sessions` lists it with its totals.
    let listed = std::process::Command::new(env!("CARGO_BIN_EXE_amux"))
        .args(["sessions", "--json", "--dir", dir.to_str().unwrap()])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&listed.stdout).unwrap();
    assert_eq!(v["sessions"].as_array().unwrap().len(), 1, "{v}");
    assert_eq!(v["sessions"][0]["harness"], "claude");
    assert_eq!(v["sessions"][0]["exit_code"], 0);
    assert_eq!(v["sessions"][0]["summary"]["calls"], 2);
    let stdout_log = v["sessions"][0]["files"]["stdout"].as_str().unwrap();
    assert_eq!(std::fs::read_to_string(stdout_log).unwrap(), "fake harness done\n");
    let text = std::process::Command::new(env!("CARGO_BIN_EXE_amux"))
        .args(["sessions", "--dir", dir.to_str().unwrap()])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.starts_with("SESSION") && text.contains("claude") && text.contains("$0.018"), "{text}");
}

#[test]
fn observe_summary_on_stderr_and_default_dir_under_xdg_state() {
    let (mut w, _mock, _cfg) = priced_world("observe-text");
    w.set("FAKE_CALL", "1");
    let state = w.root.join("state");
    w.set("XDG_STATE_HOME", state.display().to_string());
    let out = w.launch(&["claude", "ollama", "--model", MODEL, "--prompt", "hi", "--observe"]);
    ok(&out);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("amux: session ") && stderr.contains("1 calls, 0 errors"), "{stderr}");
    assert!(stderr.contains("tokens: input 5, output 4"), "{stderr}");
    let dir = state.join("amux/sessions");
    let n = std::fs::read_dir(&dir)
        .unwrap()
        .filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().ends_with(".calls.jsonl"));
    assert_eq!(n.count(), 1);
}

#[test]
fn direct_harness_output_is_parsed_when_machine_readable_and_unknown_otherwise() {
    let mut w = World::new("observe-direct");
    w.set("ANTHROPIC_API_KEY", "sk-ant-test");
    let stream = [
        r#"{"type":"system","subtype":"init","model":"claude-sonnet-4-5"}"#,
        r#"{"type":"assistant","message":{"id":"msg_1","model":"claude-sonnet-4-5","usage":{"input_tokens":10,"output_tokens":3,"cache_read_input_tokens":100,"cache_creation_input_tokens":7}}}"#,
        r#"{"type":"assistant","message":{"id":"msg_1","model":"claude-sonnet-4-5","usage":{"input_tokens":10,"output_tokens":5,"cache_read_input_tokens":100,"cache_creation_input_tokens":7}}}"#,
        r#"{"type":"assistant","message":{"id":"msg_2","model":"claude-sonnet-4-5","usage":{"input_tokens":2,"output_tokens":1}}}"#,
        r#"{"type":"result","subtype":"success","is_error":false,"num_turns":2,"total_cost_usd":0.0123,"modelUsage":{"claude-sonnet-4-5":{"inputTokens":12,"outputTokens":6,"costUSD":0.0123}}}"#,
    ]
    .join("\n");
    w.set("FAKE_STDOUT", stream.clone());
    let dir = w.root.join("s");
    let observe = format!("--observe={}", dir.display());
    let out = w.launch(&[
        "claude",
        "anthropic",
        "--model",
        "claude-sonnet-4-5",
        "--prompt",
        "hi",
        &observe,
        "--json",
        "--",
        "--output-format",
        "stream-json",
        "--verbose",
    ]);
    ok(&out);
    assert_eq!(String::from_utf8_lossy(&out.stdout), format!("{stream}\n"));
    let s = session_json(&String::from_utf8_lossy(&out.stderr));
    let summary = &s["session"]["summary"];
    assert_eq!(summary["source"], "claude stream-json");
    assert_eq!(summary["calls"], 2, "{summary}");
    assert_eq!(summary["tokens"]["output"], 6, "{summary}");
    assert_eq!(summary["tokens"]["cache_read"], 100);
    assert_eq!(summary["cost_usd"], 0.0123);
    assert_eq!(summary["waiting_ms"], Value::Null, "unknown, not guessed");
    let calls = lines(s["session"]["calls"].as_str().unwrap());
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[0]["cost_usd"], Value::Null);
    assert_eq!(calls[0]["ttft_ms"], Value::Null);

    // Without the machine-readable flag nothing is guessed.
    w.set("FAKE_STDOUT", "plain text answer");
    let out = w.launch(&["claude", "anthropic", "--model", "claude-sonnet-4-5", "--prompt", "hi", &observe, "--json"]);
    ok(&out);
    let s = session_json(&String::from_utf8_lossy(&out.stderr));
    let summary = &s["session"]["summary"];
    assert_eq!(summary["source"], "none");
    assert_eq!(summary["calls"], Value::Null);
    assert_eq!(summary["cost_usd"], Value::Null);
    assert!(summary["unknown"][0].as_str().unwrap().contains("--output-format stream-json"), "{summary}");
}

#[test]
fn limits_go_to_harnesses_that_have_them_and_are_refused_otherwise() {
    let mut w = World::new("observe-limits");
    w.set("ANTHROPIC_API_KEY", "sk-ant-test").set("OPENAI_API_KEY", "sk-test");
    // Claude Code direct and headless: its own flags.
    let out = w.launch(&[
        "claude",
        "anthropic",
        "--model",
        "claude-sonnet-4-5",
        "--prompt",
        "hi",
        "--max-turns",
        "3",
        "--max-budget-usd",
        "0.5",
    ]);
    ok(&out);
    let args = w.args_of("claude");
    assert!(args.windows(2).any(|a| a == ["--max-turns", "3"]), "{args:?}");
    assert!(args.windows(2).any(|a| a == ["--max-budget-usd", "0.5"]), "{args:?}");
    // Codex direct to OpenAI: no budget flag, no turn limit.
    let out = w.launch(&["codex", "openai", "--model", "gpt-5", "--prompt", "hi", "--max-budget-usd", "1"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--max-budget-usd") && err.contains("--with-gateway"), "{err}");
    let out = w.launch(&["codex", "openai", "--model", "gpt-5", "--prompt", "hi", "--max-turns", "4"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no turn limit"), "{out:?}");
    // Gemini CLI: the setting in its system settings file.
    w.set("GEMINI_API_KEY", "g-test");
    let out = w.launch(&["gemini", "gemini", "--model", "gemini-2.5-flash", "--prompt", "hi", "--max-turns", "5"]);
    ok(&out);
    let settings = w.json("gemini", "gemini-system-settings.json");
    assert_eq!(settings["model"]["maxSessionTurns"], 5, "{settings}");
}

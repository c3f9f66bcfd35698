//! Reading a harness's own machine-readable output when it went direct to its provider (no
//! gateway records): Claude Code `--output-format stream-json` (or `json`), Codex `exec --json`,
//! Gemini CLI and Qwen Code `--output-format json`. Each is read as the harness prints it; what
//! it does not report stays unknown (`null`).

use std::collections::BTreeMap;
use std::time::SystemTime;

use serde_json::Value;

use super::{CallLine, ModelTotals, Summary, Tokens, rfc3339};

/// What a harness's output told.
#[derive(Debug, Default)]
pub struct Parsed {
    pub source: &'static str,
    /// Per call (Claude Code) or per turn (Codex).
    pub lines: Vec<CallLine>,
    /// Costs by model as the harness itself computed them (Claude Code's `modelUsage`).
    pub model_costs: BTreeMap<String, f64>,
    /// Totals by model when the harness reports only those (Gemini CLI): they replace the
    /// summary's calls, tokens and models.
    pub totals: Option<Summary>,
    pub unknown: Vec<String>,
}

/// The machine-readable output flag a harness has, when the user passed it.
pub fn format_asked(harness: &str, args: &[String]) -> Option<&'static str> {
    let has = |flag: &str, values: &[&str]| {
        args.iter().enumerate().any(|(i, a)| match a.split_once('=') {
            Some((f, v)) => f == flag && values.contains(&v),
            None => a == flag && args.get(i + 1).is_some_and(|v| values.contains(&v.as_str())),
        })
    };
    match harness {
        "claude" if has("--output-format", &["stream-json", "json"]) => Some("claude"),
        "codex" if args.iter().any(|a| a == "--json" || a == "--experimental-json") => Some("codex"),
        "gemini" | "qwen" if has("--output-format", &["json"]) || has("-o", &["json"]) => Some("gemini"),
        _ => None,
    }
}

/// How to get machine-readable output from a harness, for the summary's note.
pub fn how_to_ask(harness: &str) -> Option<&'static str> {
    match harness {
        "claude" => Some("-- --output-format stream-json --verbose"),
        "codex" => Some("-- --json"),
        "gemini" | "qwen" => Some("-- --output-format json"),
        _ => None,
    }
}

pub fn parse(kind: &str, stdout: &str) -> Option<Parsed> {
    match kind {
        "claude" => Some(claude(stdout)),
        "codex" => Some(codex(stdout)),
        "gemini" => gemini(stdout),
        _ => None,
    }
}

fn u(v: &Value, k: &str) -> u64 {
    v.get(k).and_then(Value::as_u64).unwrap_or(0)
}

/// JSON objects of the output: one per line, or one document.
fn objects(stdout: &str) -> Vec<Value> {
    let lines: Vec<Value> = stdout
        .lines()
        .filter(|l| l.trim_start().starts_with('{'))
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(Value::is_object)
        .collect();
    if !lines.is_empty() {
        return lines;
    }
    // A pretty-printed document (Gemini CLI's `json`): from the first `{` to the end.
    stdout.find('{').and_then(|i| serde_json::from_str::<Value>(&stdout[i..]).ok()).into_iter().collect()
}

fn line(source: &str, kind: &str) -> CallLine {
    CallLine { time: rfc3339(SystemTime::now()), kind: kind.into(), source: source.into(), ..Default::default() }
}

/// Claude Code: each API response is an `assistant` event (repeated per content block with the
/// same message id and usage; the last wins); the `result` event has the cost by model.
fn claude(stdout: &str) -> Parsed {
    const SRC: &str = "claude stream-json";
    let mut p = Parsed { source: SRC, ..Default::default() };
    let mut order: Vec<String> = Vec::new();
    let mut calls: BTreeMap<String, CallLine> = BTreeMap::new();
    let mut saw_result = false;
    for v in objects(stdout) {
        match v.get("type").and_then(Value::as_str) {
            Some("assistant") => {
                let Some(m) = v.get("message") else { continue };
                let id = m.get("id").and_then(Value::as_str).unwrap_or_default().to_string();
                let usage = m.get("usage");
                let mut l = line(SRC, "call");
                l.model = m.get("model").and_then(Value::as_str).map(str::to_string);
                l.outcome = Some("success".into());
                l.tokens = usage.map(|us| Tokens {
                    input: u(us, "input_tokens"),
                    output: u(us, "output_tokens"),
                    cache_read: u(us, "cache_read_input_tokens"),
                    cache_write: u(us, "cache_creation_input_tokens"),
                    reasoning: 0,
                });
                if !calls.contains_key(&id) {
                    order.push(id.clone());
                }
                calls.insert(id, l);
            }
            Some("result") => {
                saw_result = true;
                if let Some(mu) = v.get("modelUsage").and_then(Value::as_object) {
                    for (model, m) in mu {
                        if let Some(c) = m.get("costUSD").and_then(Value::as_f64) {
                            p.model_costs.insert(model.clone(), c);
                        }
                    }
                }
                if order.is_empty() {
                    // `--output-format json`: only the result; totals by model.
                    let mut s = Summary::new(SRC);
                    if let Some(mu) = v.get("modelUsage").and_then(Value::as_object) {
                        for (model, m) in mu {
                            let t = Tokens {
                                input: u(m, "inputTokens"),
                                output: u(m, "outputTokens"),
                                cache_read: u(m, "cacheReadInputTokens"),
                                cache_write: u(m, "cacheCreationInputTokens"),
                                reasoning: 0,
                            };
                            s.tokens.get_or_insert_with(Tokens::default).add(&t);
                            let cost = m.get("costUSD").and_then(Value::as_f64);
                            if let Some(c) = cost {
                                *s.cost_usd.get_or_insert(0.0) += c;
                            }
                            s.by_model.insert(
                                model.clone(),
                                ModelTotals { calls: 0, tokens: t, cost_usd: cost, unpriced_calls: 0 },
                            );
                        }
                    }
                    s.turns = v.get("num_turns").and_then(Value::as_u64);
                    s.waiting_ms = v.get("duration_api_ms").and_then(Value::as_f64);
                    s.errors = u64::from(v.get("is_error").and_then(Value::as_bool).unwrap_or(false));
                    p.totals = Some(s);
                    p.unknown.push("model calls (`--output-format json` reports totals only)".into());
                }
            }
            _ => {}
        }
    }
    p.lines = order.into_iter().filter_map(|id| calls.remove(&id)).collect();
    p.unknown.push("per-call cost, TTFT, duration and retries (Claude Code does not report them)".into());
    if !saw_result {
        p.unknown.push("the cost (no `result` event: the run did not finish)".into());
    }
    p
}

/// Codex `exec --json`: `turn.completed` carries the turn's usage (input includes cached
/// tokens, as in OpenAI's usage); `turn.failed` and `error` are errors.
fn codex(stdout: &str) -> Parsed {
    const SRC: &str = "codex exec --json";
    let mut p = Parsed { source: SRC, ..Default::default() };
    for v in objects(stdout) {
        match v.get("type").and_then(Value::as_str) {
            Some("turn.completed") => {
                let mut l = line(SRC, "turn");
                l.outcome = Some("success".into());
                l.tokens = v.get("usage").map(|us| {
                    let cached = u(us, "cached_input_tokens");
                    Tokens {
                        input: u(us, "input_tokens").saturating_sub(cached),
                        output: u(us, "output_tokens"),
                        cache_read: cached,
                        cache_write: 0,
                        reasoning: u(us, "reasoning_output_tokens"),
                    }
                });
                p.lines.push(l);
            }
            Some("turn.failed") => {
                let mut l = line(SRC, "turn");
                l.outcome = Some("error".into());
                l.error = v.pointer("/error/message").and_then(Value::as_str).map(str::to_string);
                p.lines.push(l);
            }
            _ => {}
        }
    }
    p.unknown
        .push("model calls, model, cost, TTFT and time waiting on models (Codex reports usage per turn only)".into());
    p
}

/// Gemini CLI / Qwen Code `--output-format json`: one document whose `stats.models` has requests,
/// errors, latency and tokens per model.
fn gemini(stdout: &str) -> Option<Parsed> {
    const SRC: &str = "gemini json";
    let doc = objects(stdout).into_iter().rev().find(|v| v.pointer("/stats/models").is_some())?;
    let models = doc.pointer("/stats/models")?.as_object()?;
    let mut s = Summary::new(SRC);
    let mut waiting = 0.0;
    for (model, m) in models {
        let api = m.get("api").cloned().unwrap_or(Value::Null);
        let tok = m.get("tokens").cloned().unwrap_or(Value::Null);
        let cached = u(&tok, "cached");
        let prompt = u(&tok, "prompt").max(u(&tok, "input") + cached);
        let thoughts = u(&tok, "thoughts");
        let t = Tokens {
            input: prompt.saturating_sub(cached),
            output: u(&tok, "candidates") + thoughts,
            cache_read: cached,
            cache_write: 0,
            reasoning: thoughts,
        };
        let calls = u(&api, "totalRequests");
        *s.calls.get_or_insert(0) += calls;
        s.errors += u(&api, "totalErrors");
        waiting += api.get("totalLatencyMs").and_then(Value::as_f64).unwrap_or(0.0);
        s.tokens.get_or_insert_with(Tokens::default).add(&t);
        s.by_model.insert(model.clone(), ModelTotals { calls, tokens: t, cost_usd: None, unpriced_calls: calls });
    }
    s.waiting_ms = Some(waiting);
    Some(Parsed {
        source: SRC,
        lines: Vec::new(),
        model_costs: BTreeMap::new(),
        totals: Some(s),
        unknown: vec!["per-call records and cost (the CLI reports totals by model, without prices)".into()],
    })
}

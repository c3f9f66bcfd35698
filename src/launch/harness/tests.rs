//! Plan tests for every harness: what each one gets for a given route.

use serde_json::{Value, json};

use super::{Ctx, Endpoint, find};
use crate::ir::Dialect;
use crate::launch::args::Session;
use crate::launch::env::Env;
use crate::launch::plan::{FileEdit, Op, Plan};

fn env(home: &str, extra: &[(&str, &str)]) -> Env {
    let mut pairs = vec![("HOME".to_string(), home.to_string())];
    pairs.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    Env::from_pairs(pairs)
}

fn endpoint(dialect: Dialect, base: &str) -> Endpoint {
    Endpoint {
        dialect,
        base_url: base.into(),
        key: "sk-secret".into(),
        model: "qwen3:32b".into(),
        provider_id: "amux".into(),
        cloud: None,
    }
}

fn plan_with(
    h: &str,
    dialect: Dialect,
    base: &str,
    e: &Env,
    prompt: Option<&str>,
    session: Session,
    args: &[&str],
) -> Plan {
    let user: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let harness = find(h).unwrap();
    let ctx = Ctx {
        endpoint: endpoint(dialect, base),
        via_gateway: true,
        context_window: Some(32768),
        prompt,
        session,
        user_args: &user,
        env: e,
        temp_dir: "/tmp/amux-run".into(),
        responses_websocket: false,
        max_turns: None,
        max_budget_usd: None,
    };
    harness.plan(&ctx).unwrap()
}

fn plan(h: &str, prompt: Option<&str>) -> Plan {
    let e = env("/home/u", &[]);
    let d = find(h).unwrap().dialects()[0];
    let base = match d {
        Dialect::OpenAiChat | Dialect::OpenAiResponses => "http://127.0.0.1:9/v1",
        _ => "http://127.0.0.1:9",
    };
    plan_with(h, d, base, &e, prompt, Session::New, &[])
}

fn env_of(p: &Plan, k: &str) -> Option<String> {
    p.env.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone())
}

#[test]
fn claude_through_a_gateway() {
    let p = plan("claude", Some("say hi"));
    assert_eq!(env_of(&p, "ANTHROPIC_BASE_URL").as_deref(), Some("http://127.0.0.1:9"));
    assert_eq!(env_of(&p, "ANTHROPIC_AUTH_TOKEN").as_deref(), Some("sk-secret"));
    for v in [
        "ANTHROPIC_DEFAULT_OPUS_MODEL",
        "ANTHROPIC_DEFAULT_SONNET_MODEL",
        "ANTHROPIC_DEFAULT_HAIKU_MODEL",
        "CLAUDE_CODE_SUBAGENT_MODEL",
    ] {
        assert_eq!(env_of(&p, v).as_deref(), Some("qwen3:32b"), "{v}");
    }
    assert_eq!(env_of(&p, "CLAUDE_CODE_AUTO_COMPACT_WINDOW").as_deref(), Some("32768"));
    assert!(p.env_remove.contains(&"ANTHROPIC_API_KEY".to_string()));
    assert_eq!(p.args, ["-p", "say hi"]);
    assert!(!p.interactive);
}

#[test]
fn every_harness_gives_the_prompt_exactly_once() {
    for h in super::all() {
        let p = plan(h.name(), Some("PROMPT-XYZ"));
        let n = p.args.iter().filter(|a| a.contains("PROMPT-XYZ")).count();
        assert_eq!(n, 1, "{}: {:?}", h.name(), p.args);
        assert!(!p.interactive, "{}", h.name());
        let p = plan(h.name(), None);
        assert!(p.interactive, "{}", h.name());
        assert!(p.secrets.contains(&"sk-secret".to_string()), "{}", h.name());
    }
}

#[test]
fn codex_flags_come_before_the_subcommand() {
    let e = env("/home/u", &[("CODEX_HOME", "/ch")]);
    let p = plan_with(
        "codex",
        Dialect::OpenAiResponses,
        "http://g/v1",
        &e,
        Some("fix it"),
        Session::Last,
        &["--full-auto"],
    );
    let exec = p.args.iter().position(|a| a == "exec").unwrap();
    assert_eq!(&p.args[..2], ["--profile", "amux"]);
    assert!(p.args[..exec].contains(&"model_providers.amux.wire_api=\"responses\"".to_string()));
    assert_eq!(&p.args[exec..], ["exec", "resume", "--last", "--full-auto", "fix it"]);
    let paths: Vec<String> = p.files.iter().map(|f| f.path().display().to_string()).collect();
    assert_eq!(paths, ["/ch/amux-model-catalog.json", "/ch/amux.config.toml"]);
    assert_eq!(env_of(&p, "AMUX_CODEX_API_KEY").as_deref(), Some("sk-secret"));
}

#[test]
fn gemini_uses_its_own_system_settings_file() {
    let dir = std::env::temp_dir().join(format!("amux-gem-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let sys = dir.join("system.json");
    std::fs::write(&sys, r#"{"privacy": {"usageStatisticsEnabled": false}, "model": {"maxSessionTurns": 5}}"#).unwrap();
    let e = env("/home/u", &[("GEMINI_CLI_SYSTEM_SETTINGS_PATH", sys.to_str().unwrap())]);
    let p = plan_with("gemini", Dialect::Gemini, "http://127.0.0.1:9", &e, None, Session::Id("abc".into()), &[]);
    let Some(FileEdit::Temp { path, contents }) = p.files.first() else { panic!("{:?}", p.files) };
    assert_eq!(env_of(&p, "GEMINI_CLI_SYSTEM_SETTINGS_PATH").as_deref(), path.to_str());
    let v: Value = serde_json::from_str(contents).unwrap();
    assert_eq!(
        v,
        json!({"privacy": {"usageStatisticsEnabled": false}, "model": {"maxSessionTurns": 5, "name": "qwen3:32b"},
               "security": {"auth": {"selectedType": "gemini-api-key"}}})
    );
    assert_eq!(env_of(&p, "GOOGLE_GEMINI_BASE_URL").as_deref(), Some("http://127.0.0.1:9"));
    assert_eq!(env_of(&p, "GEMINI_API_KEY").as_deref(), Some("sk-secret"));
    assert!(p.args.windows(2).any(|w| w == ["--resume", "abc"]));
}

#[test]
fn opencode_merges_an_existing_inline_config() {
    let e = env("/home/u", &[("OPENCODE_CONFIG_CONTENT", r#"{"permission": {"edit": "ask"}, "provider": {"x": {}}}"#)]);
    let p = plan_with("opencode", Dialect::OpenAiChat, "http://127.0.0.1:9/v1", &e, None, Session::New, &[]);
    let v: Value = serde_json::from_str(&env_of(&p, "OPENCODE_CONFIG_CONTENT").unwrap()).unwrap();
    assert_eq!(v["permission"], json!({"edit": "ask"}));
    assert!(v["provider"]["x"].is_object());
    assert_eq!(v["provider"]["amux"]["options"]["baseURL"], json!("http://127.0.0.1:9/v1"));
    assert_eq!(v["model"], json!("amux/qwen3:32b"));
    let Some(FileEdit::Merge { path, ops, .. }) = p.files.first() else { panic!() };
    assert_eq!(path.display().to_string(), "/home/u/.local/state/opencode/model.json");
    assert!(matches!(&ops[0], Op::Insert { front: true, .. }));
}

#[test]
fn goose_splits_host_and_path() {
    let p = plan("goose", None);
    assert_eq!(env_of(&p, "OPENAI_HOST").as_deref(), Some("http://127.0.0.1:9"));
    assert_eq!(env_of(&p, "OPENAI_BASE_PATH").as_deref(), Some("v1/chat/completions"));
    assert_eq!(p.args, ["session"]);
    let e = env("/h", &[]);
    let p = plan_with("goose", Dialect::Anthropic, "http://a:1", &e, Some("x"), Session::New, &[]);
    assert_eq!(env_of(&p, "GOOSE_PROVIDER").as_deref(), Some("anthropic"));
    assert_eq!(p.args, ["run", "-t", "x"]);
}

#[test]
fn unsupported_session_flags_are_refused_clearly() {
    let e = env("/h", &[]);
    let h = find("qwen").unwrap();
    let user: Vec<String> = vec![];
    let ctx = Ctx {
        endpoint: endpoint(Dialect::OpenAiChat, "http://x/v1"),
        via_gateway: true,
        context_window: None,
        prompt: None,
        session: Session::Last,
        user_args: &user,
        env: &e,
        temp_dir: "/t".into(),
        responses_websocket: false,
        max_turns: None,
        max_budget_usd: None,
    };
    let err = h.plan(&ctx).unwrap_err();
    assert_eq!(err.label(), "unsupported_flag");
    assert!(err.to_string().contains("--resume"), "{err}");
}

#[test]
fn amp_and_cursor_are_refused() {
    for h in ["amp", "cursor"] {
        let Err(e) = find(h) else { panic!("{h}") };
        assert_eq!(e.label(), "unsupported_harness");
    }
    assert_eq!(find("nope").err().map(|e| e.label()), Some("unknown_harness"));
}

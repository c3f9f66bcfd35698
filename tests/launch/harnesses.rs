//! Each harness's plan as the fake harness saw it, against a mock Ollama (`ollama` provider,
//! model `qwen3:8b` present, 40960-token context).

use serde_json::json;

use crate::fake::{World, ok};
use crate::mock_ollama::{MockOllama, PullMode};

const MODEL: &str = "qwen3:8b";

fn world(name: &str) -> (World, MockOllama) {
    let mock = MockOllama::start(&[MODEL], PullMode::Succeed);
    let mut w = World::new(name);
    w.set("OLLAMA_HOST", mock.host());
    (w, mock)
}

fn base(mock: &MockOllama) -> String {
    format!("http://{}", mock.host())
}

#[test]
fn claude_goes_through_the_in_process_gateway_and_gets_an_answer() {
    let (mut w, mock) = world("claude");
    w.set("ANTHROPIC_API_KEY", "real-key-must-not-leak");
    let python = std::process::Command::new("python3").arg("--version").output().is_ok();
    if python {
        w.set("FAKE_CALL", "1");
    }
    let out = w.launch(&["claude", "ollama", "--model", MODEL, "--prompt", "say hi"]);
    ok(&out);
    let url = w.env_of("claude", "ANTHROPIC_BASE_URL").unwrap();
    assert!(url.starts_with("http://127.0.0.1:") && !url.ends_with("/v1"), "{url}");
    let port = url.rsplit(':').next().unwrap();
    assert!(w.recorded("claude", "probe").contains(&format!("{port} up")), "the gateway was not listening");
    assert!(w.env_of("claude", "ANTHROPIC_AUTH_TOKEN").unwrap().starts_with("amux-session-"));
    assert_eq!(w.env_of("claude", "ANTHROPIC_API_KEY"), None);
    for v in [
        "ANTHROPIC_MODEL",
        "ANTHROPIC_DEFAULT_OPUS_MODEL",
        "ANTHROPIC_DEFAULT_SONNET_MODEL",
        "ANTHROPIC_DEFAULT_HAIKU_MODEL",
        "CLAUDE_CODE_SUBAGENT_MODEL",
    ] {
        assert_eq!(w.env_of("claude", v).as_deref(), Some(MODEL), "{v}");
    }
    assert_eq!(w.env_of("claude", "CLAUDE_CODE_AUTO_COMPACT_WINDOW").as_deref(), Some("40960"));
    assert_eq!(w.args_of("claude"), ["-p", "say hi"]);
    if python {
        let resp: serde_json::Value = serde_json::from_str(&w.recorded("claude", "response")).unwrap();
        assert_eq!(resp["content"][0]["text"], json!("hello from mock ollama"), "{resp}");
        let chat = mock.state.lock().unwrap().chat.clone();
        assert_eq!(chat[0]["model"], json!(MODEL));
    }
    // The gateway is gone once the harness exited.
    assert!(std::net::TcpStream::connect(format!("127.0.0.1:{port}")).is_err());
}

#[test]
fn codex_gets_a_profile_overrides_and_a_catalog_entry() {
    let (mut w, _mock) = world("codex");
    w.set("FAKE_VERSION", "codex-cli 0.140.1");
    let user_cfg = w.write(".codex/config.toml", "model = \"gpt-5\"\n[mcp_servers.x]\ncommand = \"x\"\n");
    let before = std::fs::read_to_string(&user_cfg).unwrap();
    let profile = w.home.join(".codex/amux.config.toml");
    let catalog = w.home.join(".codex/amux-model-catalog.json");
    w.set("FAKE_FILES", format!("{}:{}", profile.display(), catalog.display()));
    let out = w.launch(&["codex", "ollama", "--model", MODEL, "--prompt", "fix it", "--", "--skip-git-repo-check"]);
    ok(&out);
    let args = w.args_of("codex");
    let exec = args.iter().position(|a| a == "exec").unwrap();
    assert_eq!(&args[..2], ["--profile", "amux"]);
    assert!(args[..exec].iter().any(|a| a == "model_providers.amux.wire_api=\"responses\""), "{args:?}");
    assert!(
        args[..exec].iter().any(|a| a.starts_with("model_providers.amux.base_url=\"http://127.0.0.1:")),
        "{args:?}"
    );
    assert_eq!(&args[exec..], ["exec", "--skip-git-repo-check", "fix it"]);
    let prof = w.recorded("codex", "amux.config.toml");
    assert!(prof.contains("wire_api = \"responses\"") && prof.contains("model = \"qwen3:8b\""), "{prof}");
    assert!(prof.contains("model_context_window = 40960"), "{prof}");
    // The in-process gateway serves Responses over WebSocket: Codex is told so.
    assert!(prof.contains("supports_websockets = true"), "{prof}");
    assert!(args[..exec].iter().any(|a| a == "model_providers.amux.supports_websockets=true"), "{args:?}");
    let cat = w.json("codex", "amux-model-catalog.json");
    assert_eq!(cat["models"][0]["slug"], json!(MODEL));
    assert_eq!(cat["models"][0]["context_window"], json!(40960));
    assert!(w.env_of("codex", "AMUX_CODEX_API_KEY").unwrap().starts_with("amux-session-"));
    // Afterwards: our files are gone, the user's config untouched.
    assert!(!profile.exists() && !catalog.exists());
    assert_eq!(std::fs::read_to_string(&user_cfg).unwrap(), before);
}

#[test]
fn codex_version_and_conflicting_args_are_refused() {
    let (mut w, _mock) = world("codex-old");
    w.set("FAKE_VERSION", "codex-cli 0.120.0");
    let out = w.launch(&["codex", "ollama", "--model", MODEL]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("0.120.0 is too old") && err.contains("0.134.0"), "{err}");
    w.set("FAKE_VERSION", "0.141.0");
    let out = w.launch(&["codex", "ollama", "--model", MODEL, "--", "-c", "model_provider=\"openai\""]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("conflicts"), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(!w.has_record("codex", "args"), "the harness must not run");
}

#[test]
fn gemini_gets_base_url_key_and_api_key_auth() {
    let (w, _mock) = world("gemini");
    ok(&w.launch(&["gemini", "ollama", "--model", MODEL, "--prompt", "hi"]));
    let url = w.env_of("gemini", "GOOGLE_GEMINI_BASE_URL").unwrap();
    assert!(url.starts_with("http://127.0.0.1:") && !url.ends_with("/v1"), "{url}");
    assert!(w.env_of("gemini", "GEMINI_API_KEY").unwrap().starts_with("amux-session-"));
    let s = w.json("gemini", "gemini-system-settings.json");
    assert_eq!(s["security"]["auth"]["selectedType"], json!("gemini-api-key"));
    assert_eq!(s["model"]["name"], json!(MODEL));
    assert_eq!(w.args_of("gemini"), ["-m", MODEL, "-p", "hi"]);
}

#[test]
fn opencode_inline_config_and_recent_models_merged_then_restored() {
    let (mut w, mock) = world("opencode");
    let user_json = "{\n  // my setup\n  \"agent\": {\"review\": {\"tools\": {\"write\": false}}},\n  \"permission\": {\"bash\": \"ask\"}\n}\n";
    w.write(".config/opencode/opencode.json", user_json);
    let state_text = "{\"recent\":[{\"providerID\":\"anthropic\",\"modelID\":\"claude-sonnet-4-5\"}],\"favorite\":[]}";
    let state = w.write(".local/state/opencode/model.json", state_text);
    w.set("FAKE_FILES", state.display().to_string());
    ok(&w.launch(&["opencode", "ollama", "--model", MODEL]));
    // Direct: OpenCode speaks OpenAI Chat Completions like Ollama.
    let cfg: serde_json::Value =
        serde_json::from_str(&w.env_of("opencode", "OPENCODE_CONFIG_CONTENT").unwrap()).unwrap();
    assert_eq!(cfg["provider"]["amux"]["options"]["baseURL"], json!(format!("{}/v1", base(&mock))));
    assert_eq!(cfg["provider"]["amux"]["npm"], json!("@ai-sdk/openai-compatible"));
    assert_eq!(cfg["model"], json!("amux/qwen3:8b"));
    assert_eq!(cfg["provider"]["amux"]["models"][MODEL]["limit"]["context"], json!(40960));
    // Only our delta is inline: the user's agents and permissions stay in their file.
    assert!(cfg.get("agent").is_none() && cfg.get("permission").is_none());
    assert_eq!(std::fs::read_to_string(w.home.join(".config/opencode/opencode.json")).unwrap(), user_json);
    let during = w.json("opencode", "model.json");
    assert_eq!(during["recent"][0], json!({"providerID": "amux", "modelID": MODEL}));
    assert_eq!(during["recent"][1]["providerID"], json!("anthropic"));
    assert_eq!(std::fs::read_to_string(&state).unwrap(), state_text, "model.json restored byte for byte");
    assert_eq!(w.args_of("opencode"), ["-m", "amux/qwen3:8b"]);
}

#[test]
fn copilot_gets_provider_variables() {
    let (w, mock) = world("copilot");
    ok(&w.launch(&["copilot", "ollama", "--model", MODEL, "--resume", "--prompt", "x"]));
    assert_eq!(w.env_of("copilot", "COPILOT_PROVIDER_BASE_URL"), Some(format!("{}/v1", base(&mock))));
    assert_eq!(w.env_of("copilot", "COPILOT_PROVIDER_TYPE").as_deref(), Some("openai"));
    assert_eq!(w.env_of("copilot", "COPILOT_MODEL").as_deref(), Some(MODEL));
    assert!(w.env_of("copilot", "COPILOT_PROVIDER_API_KEY").is_some());
    assert_eq!(w.args_of("copilot"), ["--continue", "-p", "x"]);
}

#[test]
fn droid_custom_model_merged_then_restored() {
    let (mut w, mock) = world("droid");
    let original = "{\n  \"customModels\": [{\"model\": \"mine\", \"displayName\": \"Mine\", \"baseUrl\": \"https://x/v1\", \"apiKey\": \"k\", \"provider\": \"openai\"}],\n  \"diffMode\": \"unified\"\n}\n";
    let settings = w.write(".factory/settings.json", original);
    w.set("FAKE_FILES", settings.display().to_string());
    ok(&w.launch(&["droid", "ollama", "--model", MODEL]));
    let during = w.json("droid", "settings.json");
    assert_eq!(during["diffMode"], json!("unified"));
    assert_eq!(during["customModels"][0]["model"], json!("mine"));
    let ours = &during["customModels"][1];
    assert_eq!(ours["model"], json!(MODEL));
    assert_eq!(ours["baseUrl"], json!(format!("{}/v1", base(&mock))));
    assert_eq!(ours["provider"], json!("generic-chat-completion-api"));
    assert_eq!(ours["apiKey"], json!("${AMUX_DROID_API_KEY}"));
    assert_eq!(during["sessionDefaultSettings"]["model"], ours["id"]);
    assert_eq!(std::fs::read_to_string(&settings).unwrap(), original);
    assert!(w.env_of("droid", "AMUX_DROID_API_KEY").is_some());
}

#[test]
fn pi_provider_merged_then_restored() {
    let (mut w, mock) = world("pi");
    let original =
        "{\"providers\": {\"mine\": {\"baseUrl\": \"https://x\", \"api\": \"openai-completions\", \"models\": []}}}";
    let models = w.write(".pi/agent/models.json", original);
    w.set("FAKE_FILES", models.display().to_string());
    ok(&w.launch(&["pi", "ollama", "--model", MODEL, "--prompt", "p"]));
    let during = w.json("pi", "models.json");
    assert!(during["providers"]["mine"].is_object());
    assert_eq!(during["providers"]["amux"]["baseUrl"], json!(format!("{}/v1", base(&mock))));
    assert_eq!(during["providers"]["amux"]["api"], json!("openai-completions"));
    assert_eq!(during["providers"]["amux"]["models"][0]["contextWindow"], json!(40960));
    assert_eq!(w.args_of("pi"), ["--provider", "amux", "--model", MODEL, "-p", "p"]);
    assert_eq!(std::fs::read_to_string(&models).unwrap(), original);
}

#[test]
fn qwen_gets_openai_environment() {
    let (w, mock) = world("qwen");
    ok(&w.launch(&["qwen", "ollama", "--model", MODEL, "--prompt", "p"]));
    assert_eq!(w.env_of("qwen", "OPENAI_BASE_URL"), Some(format!("{}/v1", base(&mock))));
    assert_eq!(w.env_of("qwen", "OPENAI_MODEL").as_deref(), Some(MODEL));
    assert_eq!(w.args_of("qwen"), ["--auth-type", "openai", "--model", MODEL, "-p", "p"]);
}

#[test]
fn hermes_yaml_merged_then_restored() {
    let (mut w, mock) = world("hermes");
    let original = "# my hermes\nmodel:\n  default: anthropic/claude-opus-4.6\n  provider: openrouter\nterminal:\n  backend: local\n";
    let cfg = w.write(".hermes/config.yaml", original);
    w.set("FAKE_FILES", cfg.display().to_string());
    ok(&w.launch(&["hermes", "ollama", "--model", MODEL, "--prompt", "p"]));
    let during = w.recorded("hermes", "config.yaml");
    let v: serde_json::Value = serde_norway::from_str(&during).unwrap();
    assert_eq!(v["terminal"]["backend"], json!("local"));
    assert_eq!(v["model"]["provider"], json!("custom"));
    assert_eq!(v["model"]["default"], json!(MODEL));
    assert_eq!(v["model"]["base_url"], json!(format!("{}/v1", base(&mock))));
    assert_eq!(w.args_of("hermes"), ["chat", "-q", "p"]);
    assert_eq!(std::fs::read_to_string(&cfg).unwrap(), original);
}

#[test]
fn aider_gets_environment_and_a_temporary_metadata_file() {
    let (w, mock) = world("aider");
    ok(&w.launch(&["aider", "ollama", "--model", MODEL, "--prompt", "p"]));
    assert_eq!(w.env_of("aider", "OPENAI_API_BASE"), Some(format!("{}/v1", base(&mock))));
    let args = w.args_of("aider");
    assert_eq!(&args[..2], ["--model", "openai/qwen3:8b"]);
    let meta_path = &args[args.iter().position(|a| a == "--model-metadata-file").unwrap() + 1];
    let meta = w.json("aider", "arg-aider-model-metadata.json");
    assert_eq!(meta["openai/qwen3:8b"]["max_input_tokens"], json!(40960));
    assert!(!std::path::Path::new(meta_path).exists(), "temporary file removed");
    assert_eq!(&args[args.len() - 2..], ["--message", "p"]);
}

#[test]
fn omp_and_openclaw_merged_then_restored() {
    let (mut w, mock) = world("omp-openclaw");
    let omp_original = "providers:\n  mine:\n    baseUrl: https://x/v1\n";
    let omp = w.write(".omp/agent/models.yml", omp_original);
    let claw_original =
        "{\"agents\": {\"defaults\": {\"workspace\": \"~/w\", \"model\": {\"primary\": \"anthropic/claude\"}}}}";
    let claw = w.write(".openclaw/openclaw.json", claw_original);
    w.set("FAKE_FILES", format!("{}:{}", omp.display(), claw.display()));
    ok(&w.launch(&["omp", "ollama", "--model", MODEL]));
    let v: serde_json::Value = serde_norway::from_str(&w.recorded("omp", "models.yml")).unwrap();
    assert_eq!(v["providers"]["mine"]["baseUrl"], json!("https://x/v1"));
    assert_eq!(v["providers"]["amux"]["baseUrl"], json!(format!("{}/v1", base(&mock))));
    assert_eq!(w.args_of("omp"), ["--model", "amux/qwen3:8b"]);
    assert_eq!(std::fs::read_to_string(&omp).unwrap(), omp_original);

    ok(&w.launch(&["openclaw", "ollama", "--model", MODEL, "--prompt", "p", "--session", "s1"]));
    let v = w.json("openclaw", "openclaw.json");
    assert_eq!(v["agents"]["defaults"]["workspace"], json!("~/w"));
    assert_eq!(v["agents"]["defaults"]["model"]["primary"], json!("amux/qwen3:8b"));
    assert_eq!(v["models"]["providers"]["amux"]["api"], json!("openai-completions"));
    assert_eq!(w.args_of("openclaw"), ["agent", "--local", "--session-id", "s1", "--message", "p"]);
    assert_eq!(std::fs::read_to_string(&claw).unwrap(), claw_original);
}

#[test]
fn goose_gets_environment() {
    let (w, mock) = world("goose");
    ok(&w.launch(&["goose", "ollama", "--model", MODEL, "--prompt", "p"]));
    assert_eq!(w.env_of("goose", "GOOSE_PROVIDER").as_deref(), Some("openai"));
    assert_eq!(w.env_of("goose", "OPENAI_HOST"), Some(base(&mock)));
    assert_eq!(w.env_of("goose", "OPENAI_BASE_PATH").as_deref(), Some("v1/chat/completions"));
    assert_eq!(w.args_of("goose"), ["run", "-t", "p"]);
}

#[test]
fn restore_after_a_crash() {
    let (mut w, _mock) = world("crash");
    let original = "{\"customModels\": []}";
    let settings = w.write(".factory/settings.json", original);
    // The fake harness kills amux itself (SIGKILL: no cleanup can run).
    w.set("FAKE_SLEEP", "0");
    let manifest = w.home.join(".amux/launch/droid.json");
    let killer = "#!/bin/bash\nkill -KILL $PPID\nsleep 1\n";
    std::fs::write(w.bin.join("droid"), killer).unwrap();
    let out = w.launch(&["droid", "ollama", "--model", MODEL]);
    assert!(!out.status.success());
    assert!(manifest.exists(), "the manifest survives the crash");
    assert_ne!(std::fs::read_to_string(&settings).unwrap(), original);
    let out = w.launch(&["--restore", "droid"]);
    ok(&out);
    assert!(String::from_utf8_lossy(&out.stdout).contains("restored"), "{}", String::from_utf8_lossy(&out.stdout));
    assert_eq!(std::fs::read_to_string(&settings).unwrap(), original);
    assert!(!manifest.exists());
    let again = w.launch(&["--restore", "droid"]);
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("nothing to restore"));
}

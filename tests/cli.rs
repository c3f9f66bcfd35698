//! The `amux` binary: zero-config start, `config check`, the committed JSON Schema, and the
//! example configs.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use amux::config;
use amux::providers::Registry;

fn amux() -> Command {
    Command::new(env!("CARGO_BIN_EXE_amux"))
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn committed_schema_is_current() {
    let committed = std::fs::read_to_string(root().join("config/amux.schema.json"))
        .expect("config/amux.schema.json exists");
    assert!(
        committed == config::schema_json(),
        "config/amux.schema.json is stale: run `cargo run -- config schema > config/amux.schema.json`"
    );
}

#[test]
fn example_configs_load() {
    let env = |k: &str| {
        (k.ends_with("_KEY") || k.ends_with("_TOKEN")).then(|| format!("test-value-for-{k}"))
    };
    let mut n = 0;
    for entry in std::fs::read_dir(root().join("config")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            let cfg =
                config::load_file(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            // api_key_file points at a Kubernetes secret mount; check everything else resolves.
            let mut cfg = cfg.clone();
            for p in cfg.providers.values_mut() {
                if p.api_key_file.is_some() {
                    p.api_key_file = None;
                    p.api_key = Some("test".into());
                }
            }
            Registry::build(&cfg, &env).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            n += 1;
        }
    }
    assert!(n >= 2, "expected the example configs");
}

#[test]
fn config_check_reports_every_error_with_its_path() {
    let dir = std::env::temp_dir().join(format!("amux-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("bad.yaml");
    std::fs::write(
        &file,
        "providers:\n  a: {kind: anthropic, api_key: x}\nmodels:\n  - {name: m1, provider: a, model: x}\n  - {name: m2, provider: a, model: x}\n  - {name: m3, provider: antrhopic, model: x}\n  - {name: m4, provider: a}\n",
    )
    .unwrap();
    let out = amux()
        .args(["config", "check"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("models[2].provider: unknown provider \"antrhopic\""),
        "{err}"
    );
    assert!(
        err.contains("models[3].model: missing field `model`")
            || err.contains("models[3]: missing field `model`"),
        "{err}"
    );
    assert!(err.contains("2 error(s)"), "{err}");
    let ok = amux()
        .args(["config", "check"])
        .arg(root().join("config/local.yaml"))
        .output()
        .unwrap();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
}

#[test]
fn zero_config_serve_discovers_providers_and_answers() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = amux()
        .arg("serve")
        .env_clear()
        .env("AMUX_LISTEN", format!("127.0.0.1:{port}"))
        .env("ANTHROPIC_API_KEY", "sk-ant-secret-value")
        .env("GROQ_API_KEY", "gsk-secret-value")
        .env("RUST_LOG", "info")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut log = String::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline && !log.contains("listening on") {
        if let Ok(line) = rx.recv_timeout(Duration::from_millis(200)) {
            log.push_str(&line);
            log.push('\n');
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    while let Ok(line) = rx.try_recv() {
        log.push_str(&line);
    }
    assert!(
        log.contains(&format!("listening on http://127.0.0.1:{port}")),
        "{log}"
    );
    for p in ["anthropic", "groq", "ollama"] {
        assert!(
            log.contains(&format!("provider={p}")),
            "provider {p} not reported: {log}"
        );
    }
    assert!(!log.contains("secret-value"), "a key was logged: {log}");
}

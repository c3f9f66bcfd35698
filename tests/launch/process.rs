//! Exit codes, signal forwarding, `--dry-run` / `--json`, and the gateway decision as seen from
//! the command line.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::fake::{World, ok};
use crate::mock_ollama::{MockOllama, PullMode};

#[test]
fn exit_code_is_the_harness_s() {
    let mock = MockOllama::start(&["m:1"], PullMode::Succeed);
    let mut w = World::new("exit");
    w.set("OLLAMA_HOST", mock.host()).set("FAKE_EXIT", "7");
    let out = w.launch(&["qwen", "ollama", "--model", "m:1", "--prompt", "x"]);
    assert_eq!(out.status.code(), Some(7));
}

#[cfg(unix)]
#[test]
fn sigterm_is_forwarded_and_cleanup_still_runs() {
    let mock = MockOllama::start(&["m:1"], PullMode::Succeed);
    let mut w = World::new("signal");
    let settings = w.write(".factory/settings.json", "{}");
    w.set("OLLAMA_HOST", mock.host()).set("FAKE_SLEEP", "30");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_amux"))
        .args(["launch", "droid", "ollama", "--model", "m:1", "--prompt", "x"])
        .env_clear()
        .envs(w.env.iter().cloned())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the fake harness is running (it records before sleeping).
    let deadline = Instant::now() + Duration::from_secs(20);
    while !w.has_record("droid", "args") {
        assert!(Instant::now() < deadline, "the harness never started");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_ne!(std::fs::read_to_string(&settings).unwrap(), "{}", "merged while running");
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(start.elapsed() < Duration::from_secs(10), "amux did not end after SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    // The harness died of SIGTERM: 128 + 15. amux itself exited normally after cleaning up.
    assert_eq!(status.code(), Some(143));
    assert_eq!(std::fs::read_to_string(&settings).unwrap(), "{}", "restored after the signal");
    assert!(!w.home.join(".amux/launch/droid.json").exists());
}

#[test]
fn dry_run_masks_secrets_and_touches_nothing() {
    let mut w = World::new("dry");
    w.set("ANTHROPIC_API_KEY", "sk-ant-very-secret");
    let settings = w.write(".factory/settings.json", "{}");
    let out = w.launch(&["claude", "anthropic", "--model", "claude-sonnet-4-5", "--dry-run"]);
    ok(&out);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("ANTHROPIC_API_KEY=***") && !text.contains("sk-ant-very-secret"), "{text}");
    assert!(text.contains("route: direct"), "{text}");
    assert!(!w.has_record("claude", "args"), "dry run must not run the harness");
    let out = w.launch(&["droid", "anthropic", "--model", "claude-sonnet-4-5", "--dry-run", "--json"]);
    ok(&out);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["harness"], json!("droid"));
    assert_eq!(v["files"][0]["kind"], json!("merge"));
    assert!(!v.to_string().contains("sk-ant-very-secret"));
    assert_eq!(std::fs::read_to_string(&settings).unwrap(), "{}");
}

#[test]
fn errors_are_one_clear_line_and_json_when_asked() {
    let w = World::new("errors");
    let out = w.launch(&["claude", "ollama", "--model", "m", "--no-gateway", "--dry-run"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("Anthropic Messages") && err.contains("OpenAI Chat Completions"), "{err}");
    let out = w.launch(&["cursor", "--model", "m", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stderr).unwrap();
    assert_eq!(v["error"]["label"], json!("unsupported_harness"));
    let out = w.launch(&["claude", "groq", "--model", "m"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("GROQ_API_KEY"));
    let mut w2 = World::new("errors2");
    let empty = w2.root.join("no-bin").display().to_string();
    w2.set("PATH", empty);
    let out = w2.launch(&["gemini", "anthropic", "--model", "m"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("not installed") && err.contains("npm install -g @google/gemini-cli"), "{err}");
}

#[test]
fn team_gateway_is_used_as_given() {
    let mut w = World::new("team");
    w.set("AMUX_GATEWAY_URL", "https://amux.example.com").set("AMUX_API_KEY", "team-key");
    ok(&w.launch(&["claude", "ollama", "--model", "qwen3:32b", "--prompt", "x"]));
    assert_eq!(w.env_of("claude", "ANTHROPIC_BASE_URL").as_deref(), Some("https://amux.example.com"));
    assert_eq!(w.env_of("claude", "ANTHROPIC_AUTH_TOKEN").as_deref(), Some("team-key"));
    assert_eq!(w.env_of("claude", "ANTHROPIC_MODEL").as_deref(), Some("ollama/qwen3:32b"));
}

/// Interactive runs get a pseudo-terminal of amux's size, keystrokes pass through, a resize is
/// forwarded, and the exit code is 128 + the signal that ended the harness.
#[cfg(unix)]
#[test]
fn interactive_runs_get_a_pty_with_resize() {
    use portable_pty::{CommandBuilder, PtySize, native_pty_system};
    use std::io::{Read, Write};
    let mut w = World::new("pty");
    w.set("ANTHROPIC_API_KEY", "k").set("TERM", "xterm");
    let script = "#!/bin/bash\nif [ \"$1\" = --version ]; then echo 1.0.0; exit 0; fi\n[ -t 0 ] && echo \"size1: $(stty size)\"\nread -r line\necho \"got: $line size2: $(stty size)\"\nkill -TERM $$\n";
    std::fs::write(w.bin.join("claude"), script).unwrap();
    let size = |rows, cols| PtySize { rows, cols, pixel_width: 0, pixel_height: 0 };
    let pair = native_pty_system().openpty(size(40, 100)).unwrap();
    let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_amux"));
    cmd.args(["launch", "claude", "anthropic", "--model", "claude-sonnet-4-5"]);
    cmd.env_clear();
    for (k, v) in &w.env {
        cmd.env(k, v);
    }
    cmd.cwd(&w.root);
    let mut child = pair.slave.spawn_command(cmd).unwrap();
    drop(pair.slave);
    let mut reader = pair.master.try_clone_reader().unwrap();
    let mut writer = pair.master.take_writer().unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<Vec<u8>>();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = reader.read(&mut buf) {
            if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    let mut out = String::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut sent = false;
    while Instant::now() < deadline && !out.contains("size2") {
        if let Ok(chunk) = rx.recv_timeout(Duration::from_millis(100)) {
            out.push_str(&String::from_utf8_lossy(&chunk));
        }
        if out.contains("size1") && !sent {
            pair.master.resize(size(50, 120)).unwrap();
            std::thread::sleep(Duration::from_millis(500));
            writer.write_all(b"hello\r").unwrap();
            sent = true;
        }
    }
    let status = child.wait().unwrap();
    while let Ok(chunk) = rx.recv_timeout(Duration::from_millis(200)) {
        out.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(out.contains("size1: 40 100"), "{out}");
    assert!(out.contains("got: hello size2: 50 120"), "{out}");
    assert_eq!(status.exit_code(), 143, "{out}");
}

//! The Ollama lifecycle against the mock API: a present model (no pull), a pull with progress,
//! a failed pull, a server that is down, and `ollama serve` started and stopped by amux.

use std::time::Duration;

use amux::launch::Env;
use amux::launch::ollama::{self, Options, api::PullProgress};

use crate::fake::{World, ok};
use crate::mock_ollama::{MockOllama, PullMode};

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap()
}

fn env(path: &str) -> Env {
    Env::from_pairs([("PATH".to_string(), path.to_string()), ("HOME".to_string(), "/nonexistent".to_string())])
}

fn prepare(
    origin: &str,
    model: &str,
    e: &Env,
    events: &mut Vec<PullProgress>,
) -> Result<ollama::Prepared, amux::launch::LaunchError> {
    let opts = Options { origin, model, dry_run: false, start_timeout: Duration::from_secs(15) };
    let mut on = |p: &PullProgress| events.push(p.clone());
    ollama::prepare(&rt(), e, &opts, &mut on)
}

#[test]
fn present_model_is_not_pulled_and_its_window_is_read() {
    let mock = MockOllama::start(&["qwen3:32b"], PullMode::Succeed);
    let mut events = Vec::new();
    let p = prepare(&format!("http://{}", mock.host()), "qwen3:32b", &env("/usr/bin"), &mut events).unwrap();
    assert_eq!(p.context_window, Some(40960));
    assert!(events.is_empty());
    assert_eq!(mock.calls(), ["version", "tags", "show qwen3:32b"]);
}

#[test]
fn missing_model_is_pulled_with_progress() {
    let mock = MockOllama::start(&["qwen3:32b"], PullMode::Succeed);
    let mut events = Vec::new();
    // Exact name and tag: qwen3:8b is not qwen3:32b.
    let p = prepare(&format!("http://{}", mock.host()), "qwen3:8b", &env("/usr/bin"), &mut events).unwrap();
    assert_eq!(p.context_window, Some(40960));
    assert!(mock.calls().contains(&"pull qwen3:8b".to_string()), "{:?}", mock.calls());
    let completed: Vec<u64> = events.iter().filter_map(|e| e.completed).collect();
    assert_eq!(completed, [0, 600, 1000]);
    assert_eq!(events.iter().find_map(|e| e.total), Some(1000));
    assert_eq!(events.last().map(|e| e.status.as_str()), Some("success"));
}

#[test]
fn failed_pull_is_one_clear_error() {
    let mock = MockOllama::start(&[], PullMode::Fail);
    let mut events = Vec::new();
    let err = prepare(&format!("http://{}", mock.host()), "nope:1b", &env("/usr/bin"), &mut events).err().unwrap();
    assert_eq!(err.label(), "ollama_pull");
    let msg = err.to_string();
    assert!(msg.contains("nope:1b") && msg.contains("file does not exist"), "{msg}");
    assert_eq!(events.len(), 1, "the progress before the error was reported");
}

#[test]
fn down_and_not_installed() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut events = Vec::new();
    let err = prepare(&format!("http://127.0.0.1:{port}"), "m", &env("/nonexistent-bin"), &mut events).err().unwrap();
    assert!(err.to_string().contains("ollama.com/download"), "{err}");
}

/// A fake `ollama` whose `serve` answers the API (Python), to prove amux starts it and stops it.
const FAKE_OLLAMA: &str = r#"#!/usr/bin/env python3
import json, os, sys
from http.server import BaseHTTPRequestHandler, HTTPServer
if len(sys.argv) < 2 or sys.argv[1] != "serve":
    sys.exit(0)
host, port = os.environ["OLLAMA_HOST"].rsplit(":", 1)
class H(BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def reply(self, v):
        b = json.dumps(v).encode()
        self.send_response(200); self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(b))); self.end_headers(); self.wfile.write(b)
    def do_GET(self):
        self.reply({"version": "0.0.1"} if self.path == "/api/version" else {"models": [{"name": "m:1"}]})
    def do_POST(self):
        self.rfile.read(int(self.headers.get("content-length", 0)))
        self.reply({"model_info": {"general.architecture": "x", "x.context_length": 8192}})
HTTPServer((host, int(port)), H).serve_forever()
"#;

#[cfg(unix)]
#[test]
fn ollama_serve_is_started_and_stopped() {
    if std::process::Command::new("python3").arg("--version").output().is_err() {
        eprintln!("skipped: no python3");
        return;
    }
    let mut w = World::new("serve");
    let bin = w.bin.join("ollama");
    std::fs::write(&bin, FAKE_OLLAMA).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let host = format!("127.0.0.1:{port}");
    w.set("OLLAMA_HOST", host.clone());
    // Through the command line: started, used (context window from /api/show), stopped.
    let out = w.launch(&["claude", "ollama", "--model", "m:1", "--prompt", "x"]);
    ok(&out);
    assert_eq!(w.env_of("claude", "CLAUDE_CODE_AUTO_COMPACT_WINDOW").as_deref(), Some("8192"));
    std::thread::sleep(Duration::from_millis(300));
    assert!(std::net::TcpStream::connect(&host).is_err(), "amux stops the ollama it started");
    // One that was already running is left running.
    let mock = MockOllama::start(&["m:1"], PullMode::Succeed);
    w.set("OLLAMA_HOST", mock.host());
    ok(&w.launch(&["claude", "ollama", "--model", "m:1", "--prompt", "x"]));
    assert!(std::net::TcpStream::connect(mock.host()).is_ok());
}

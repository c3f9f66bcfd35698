//! A fake harness: one shell script installed under every harness's binary name. It records its
//! environment, arguments and the config files it was pointed at, probes the gateway it was
//! given, optionally makes one real call through it, and exits as told.

use std::path::PathBuf;
use std::process::{Command, Output};

pub const SCRIPT: &str = r#"#!/bin/bash
name=$(basename "$0")
if [ "$1" = "--version" ]; then echo "${FAKE_VERSION:-9.9.9}"; exit 0; fi
out="$RECORD_DIR/$name"
mkdir -p "$out"
env > "$out/env"
printf '%s\n' "$@" > "$out/args"
IFS=':' read -ra files <<< "$FAKE_FILES"
for f in "${files[@]}"; do
  if [ -f "$f" ]; then cp "$f" "$out/$(basename "$f")"; fi
done
if [ -n "$GEMINI_CLI_SYSTEM_SETTINGS_PATH" ] && [ -f "$GEMINI_CLI_SYSTEM_SETTINGS_PATH" ]; then
  cp "$GEMINI_CLI_SYSTEM_SETTINGS_PATH" "$out/gemini-system-settings.json"
fi
for a in "$@"; do
  if [ -f "$a" ]; then cp "$a" "$out/arg-$(basename "$a")"; fi
done
for port in $(env | grep -o '127\.0\.0\.1:[0-9][0-9]*' | cut -d: -f2 | sort -u); do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "$port up" >> "$out/probe"; fi
done
if [ -n "$FAKE_CALL" ]; then
  python3 - "$out/response" <<'PY'
import json, os, sys, urllib.error, urllib.request
base = os.environ["ANTHROPIC_BASE_URL"]
# FAKE_CALL=N makes N calls; the first answer goes to `response`, every status and body to `responses`.
n = int(os.environ["FAKE_CALL"])
for i in range(n):
    req = urllib.request.Request(base + "/v1/messages", method="POST",
        data=json.dumps({"model": os.environ["ANTHROPIC_MODEL"], "max_tokens": 64,
                         "messages": [{"role": "user", "content": "hi"}]}).encode(),
        headers={"content-type": "application/json", "anthropic-version": "2023-06-01",
                 "authorization": "Bearer " + os.environ["ANTHROPIC_AUTH_TOKEN"]})
    try:
        with urllib.request.urlopen(req, timeout=20) as r:
            status, body = r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        status, body = e.code, e.read().decode()
    if i == 0:
        open(sys.argv[1], "w").write(body)
    with open(sys.argv[1] + "s", "a") as f:
        f.write(f"{status} {body}\n")
print("fake harness done")
PY
fi
if [ -n "$FAKE_STDOUT" ]; then printf '%s\n' "$FAKE_STDOUT"; fi
if [ -n "$FAKE_SLEEP" ]; then sleep "$FAKE_SLEEP"; fi
exit "${FAKE_EXIT:-0}"
"#;

pub const HARNESSES: &[&str] = &[
    "claude", "codex", "gemini", "opencode", "copilot", "droid", "pi", "qwen", "hermes", "aider", "omp", "openclaw",
    "goose",
];

/// A scratch world: a home directory, a bin directory with the fake harnesses, a record dir.
pub struct World {
    pub root: PathBuf,
    pub home: PathBuf,
    pub bin: PathBuf,
    pub record: PathBuf,
    pub env: Vec<(String, String)>,
}

impl World {
    pub fn new(name: &str) -> World {
        let root = std::env::temp_dir().join(format!("amux-launch-it-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let (home, bin, record) = (root.join("home"), root.join("bin"), root.join("record"));
        for d in [&home, &bin, &record] {
            std::fs::create_dir_all(d).unwrap();
        }
        for h in HARNESSES {
            let p = bin.join(h);
            std::fs::write(&p, SCRIPT).unwrap();
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
            }
        }
        let env = vec![
            ("HOME".to_string(), home.display().to_string()),
            ("PATH".to_string(), format!("{}:/usr/local/bin:/usr/bin:/bin", bin.display())),
            ("RECORD_DIR".to_string(), record.display().to_string()),
            ("RUST_LOG".to_string(), "warn".to_string()),
        ];
        World { root, home, bin, record, env }
    }

    pub fn set(&mut self, k: &str, v: impl Into<String>) -> &mut Self {
        self.env.retain(|(n, _)| n != k);
        self.env.push((k.to_string(), v.into()));
        self
    }

    pub fn write(&self, rel: &str, contents: &str) -> PathBuf {
        let p = self.home.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, contents).unwrap();
        p
    }

    pub fn launch(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_amux"))
            .arg("launch")
            .args(args)
            .env_clear()
            .envs(self.env.iter().cloned())
            .current_dir(&self.root)
            .output()
            .unwrap()
    }

    pub fn recorded(&self, harness: &str, file: &str) -> String {
        let p = self.record.join(harness).join(file);
        std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
    }

    pub fn has_record(&self, harness: &str, file: &str) -> bool {
        self.record.join(harness).join(file).exists()
    }

    /// The harness's recorded environment variable.
    pub fn env_of(&self, harness: &str, var: &str) -> Option<String> {
        let text = self.recorded(harness, "env");
        text.lines().find_map(|l| l.strip_prefix(&format!("{var}=")).map(str::to_string))
    }

    pub fn args_of(&self, harness: &str) -> Vec<String> {
        self.recorded(harness, "args").lines().map(str::to_string).collect()
    }

    pub fn json(&self, harness: &str, file: &str) -> serde_json::Value {
        serde_json::from_str(&self.recorded(harness, file)).unwrap()
    }
}

impl Drop for World {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

pub fn ok(out: &Output) {
    assert!(
        out.status.success(),
        "amux launch failed: {:?}\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

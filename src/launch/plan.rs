//! The plan of one launch: what the harness gets (environment, files, arguments), how it runs,
//! and how it is printed for `--dry-run` with every secret masked.

use std::path::PathBuf;

use serde_json::{Value, json};

/// A file the launcher writes for one run.
#[derive(Debug, Clone, PartialEq)]
pub enum FileEdit {
    /// A file in the run's own temporary directory, deleted when the run ends.
    Temp { path: PathBuf, contents: String },
    /// A file created for the run in the harness's config directory (e.g. a Codex profile). A file
    /// already there is backed up and put back; otherwise it is removed when the run ends.
    Owned { path: PathBuf, contents: String },
    /// A user's file, merged with these operations (never overwritten), backed up first and
    /// restored when the run ends: byte for byte if nobody changed it meanwhile, else by undoing
    /// exactly these operations.
    Merge { path: PathBuf, format: Format, ops: Vec<Op> },
}

impl FileEdit {
    pub fn path(&self) -> &PathBuf {
        match self {
            FileEdit::Temp { path, .. } | FileEdit::Owned { path, .. } | FileEdit::Merge { path, .. } => path,
        }
    }
}

/// How a merged file is parsed and written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// JSON; `//` and `/* */` comments and trailing commas are accepted when reading.
    Json,
    Yaml,
}

/// One change to a merged file.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "op", rename_all = "lowercase")]
pub enum Op {
    /// Sets the value at this path of object keys, creating objects on the way.
    Set { path: Vec<String>, value: Value },
    /// Adds the element to the array at this path (created if missing) unless an equal element
    /// is already there.
    Insert { path: Vec<String>, value: Value, front: bool },
}

/// Everything needed to run one harness.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Plan {
    pub harness: &'static str,
    pub program: String,
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
    /// Variables removed from the harness's environment (so that they cannot win over ours).
    pub env_remove: Vec<String>,
    pub files: Vec<FileEdit>,
    /// Run under a pseudo-terminal (interactive TUIs); headless runs get plain pipes.
    pub interactive: bool,
    pub notes: Vec<String>,
    /// Values never printed (keys, tokens).
    pub secrets: Vec<String>,
    /// The launcher's limits this harness applies itself (`--max-turns`, `--max-budget-usd`).
    pub limits: Vec<&'static str>,
}

impl Plan {
    pub fn new(harness: &'static str, program: &str) -> Plan {
        Plan { harness, program: program.to_string(), ..Default::default() }
    }

    pub fn env(&mut self, name: &str, value: impl Into<String>) -> &mut Self {
        let value = value.into();
        self.env.retain(|(k, _)| k != name);
        self.env.push((name.to_string(), value));
        self
    }

    pub fn remove_env(&mut self, name: &str) -> &mut Self {
        if !self.env_remove.iter().any(|n| n == name) {
            self.env_remove.push(name.to_string());
        }
        self
    }

    pub fn arg(&mut self, a: impl Into<String>) -> &mut Self {
        self.args.push(a.into());
        self
    }

    pub fn args<I: IntoIterator<Item = S>, S: Into<String>>(&mut self, args: I) -> &mut Self {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Marks a value as secret. Its JSON-escaped form is masked too: a key with a quote or a
    /// backslash appears escaped inside inline JSON config (OpenCode's) and TOML strings.
    pub fn secret(&mut self, s: &str) -> &mut Self {
        let escaped = serde_json::to_string(s).ok().map(|q| q[1..q.len() - 1].to_string());
        for form in std::iter::once(s.to_string()).chain(escaped) {
            if !form.is_empty() && !self.secrets.contains(&form) {
                self.secrets.push(form);
            }
        }
        self
    }

    pub fn note(&mut self, n: impl Into<String>) -> &mut Self {
        self.notes.push(n.into());
        self
    }

    pub fn file(&mut self, f: FileEdit) -> &mut Self {
        self.files.push(f);
        self
    }

    /// Replaces every secret in `s` with `***`.
    pub fn mask(&self, s: &str) -> String {
        let mut out = s.to_string();
        let mut secrets: Vec<&String> = self.secrets.iter().collect();
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        for sec in secrets {
            out = out.replace(sec.as_str(), "***");
        }
        out
    }

    /// The plan as JSON, secrets masked.
    pub fn to_json(&self, header: &Value) -> Value {
        let files: Vec<Value> = self
            .files
            .iter()
            .map(|f| match f {
                FileEdit::Temp { path, contents } => {
                    json!({"kind": "temp", "path": path, "contents": self.mask(contents)})
                }
                FileEdit::Owned { path, contents } => {
                    json!({"kind": "owned", "path": path, "contents": self.mask(contents)})
                }
                FileEdit::Merge { path, format, ops } => {
                    let ops = serde_json::to_value(ops).map(|v| self.mask_value(v)).unwrap_or(Value::Null);
                    json!({"kind": "merge", "path": path, "format": format, "ops": ops})
                }
            })
            .collect();
        let env: serde_json::Map<String, Value> =
            self.env.iter().map(|(k, v)| (k.clone(), Value::String(self.mask(v)))).collect();
        json!({
            "launch": header,
            "harness": self.harness,
            "program": self.program,
            "args": self.args.iter().map(|a| self.mask(a)).collect::<Vec<_>>(),
            "env": env,
            "env_removed": self.env_remove,
            "files": files,
            "pty": self.interactive,
            "notes": self.notes,
        })
    }

    fn mask_value(&self, v: Value) -> Value {
        match v {
            Value::String(s) => Value::String(self.mask(&s)),
            Value::Array(a) => Value::Array(a.into_iter().map(|x| self.mask_value(x)).collect()),
            Value::Object(o) => Value::Object(o.into_iter().map(|(k, x)| (k, self.mask_value(x))).collect()),
            other => other,
        }
    }

    /// The plan as text for a person, secrets masked.
    pub fn to_text(&self, header: &[(String, String)]) -> String {
        let mut s = String::new();
        for (k, v) in header {
            s.push_str(&format!("{k}: {}\n", self.mask(v)));
        }
        s.push_str(&format!("run: {}", self.program));
        for a in &self.args {
            s.push(' ');
            s.push_str(&shell_quote(&self.mask(a)));
        }
        s.push_str(if self.interactive { "   (in a pseudo-terminal)\n" } else { "   (headless)\n" });
        if !self.env.is_empty() {
            s.push_str("environment:\n");
            for (k, v) in &self.env {
                s.push_str(&format!("  {k}={}\n", self.mask(v)));
            }
        }
        if !self.env_remove.is_empty() {
            s.push_str(&format!("environment removed: {}\n", self.env_remove.join(" ")));
        }
        for f in &self.files {
            match f {
                FileEdit::Temp { path, contents } => {
                    s.push_str(&format!("temporary file {} (deleted afterwards):\n", path.display()));
                    s.push_str(&indent(&self.mask(contents)));
                }
                FileEdit::Owned { path, contents } => {
                    s.push_str(&format!(
                        "file {} (written for this run; removed or put back afterwards):\n",
                        path.display()
                    ));
                    s.push_str(&indent(&self.mask(contents)));
                }
                FileEdit::Merge { path, ops, .. } => {
                    s.push_str(&format!("merge into {} (backed up first, restored afterwards):\n", path.display()));
                    for op in ops {
                        let line = match op {
                            Op::Set { path, value } => format!("set {} = {}", path.join("."), value),
                            Op::Insert { path, value, front } => {
                                format!(
                                    "add to {} ({}): {}",
                                    path.join("."),
                                    if *front { "first" } else { "last" },
                                    value
                                )
                            }
                        };
                        s.push_str(&format!("  {}\n", self.mask(&line)));
                    }
                }
            }
        }
        for n in &self.notes {
            s.push_str(&format!("note: {}\n", self.mask(n)));
        }
        s
    }
}

fn indent(text: &str) -> String {
    let mut out = String::new();
    for line in text.lines() {
        out.push_str("  | ");
        out.push_str(line);
        out.push('\n');
    }
    out
}

fn shell_quote(a: &str) -> String {
    if !a.is_empty() && a.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_./:=@,+%".contains(&b)) {
        a.to_string()
    } else {
        format!("'{}'", a.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_secrets_everywhere() {
        let mut p = Plan::new("claude", "claude");
        p.env("ANTHROPIC_AUTH_TOKEN", "tok-123").secret("tok-123").arg("--key=tok-123");
        p.file(FileEdit::Temp { path: "/t/x.json".into(), contents: "{\"k\":\"tok-123\"}".into() });
        p.file(FileEdit::Merge {
            path: "/h/s.json".into(),
            format: Format::Json,
            ops: vec![Op::Set { path: vec!["a".into()], value: json!({"apiKey": "tok-123"}) }],
        });
        let text = p.to_text(&[("gateway".into(), "http://x".into())]);
        let js = p.to_json(&json!({})).to_string();
        assert!(!text.contains("tok-123") && !js.contains("tok-123"), "{text}\n{js}");
        assert!(text.contains("ANTHROPIC_AUTH_TOKEN=***"), "{text}");
    }

    #[test]
    fn masks_secrets_escaped_in_json() {
        let key = r#"s3cr"et\9"#;
        let mut p = Plan::new("opencode", "opencode");
        p.secret(key);
        let inline = json!({"options": {"apiKey": key}}).to_string();
        p.env("OPENCODE_CONFIG_CONTENT", inline);
        let js = p.to_json(&json!({})).to_string();
        let text = p.to_text(&[]);
        for out in [&js, &text] {
            assert!(!out.contains("s3cr") && !out.contains("et\\9"), "{out}");
            assert!(out.contains("***"), "{out}");
        }
    }

    #[test]
    fn quotes_for_the_shell() {
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote("-c"), "-c");
    }
}

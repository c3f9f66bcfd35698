//! Writing the plan's files with a manifest and backups first, and putting everything back:
//! when the run ends, on `amux launch --restore <harness>`, or at the next launch after a crash.
//!
//! The manifest (`$AMUX_HOME/launch/<harness>.json`) is written before any file is touched, so a
//! run killed at any point can be undone. Originals are copied to
//! `$AMUX_HOME/backups/<harness>/<time>-<pid>/` (mode 0600) and removed once restored.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::doc::{self, Undo};
use super::env::Env;
use super::error::LaunchError;
use super::plan::{FileEdit, Format};

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct Manifest {
    harness: String,
    pid: u32,
    backup_dir: PathBuf,
    entries: Vec<Entry>,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct Entry {
    path: PathBuf,
    kind: Kind,
    format: Option<Format>,
    /// Copy of the file as it was; `None` when it did not exist.
    original: Option<PathBuf>,
    /// Fingerprint of what the launcher wrote (to see whether anyone changed it since).
    written: String,
    undo: Vec<Undo>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
enum Kind {
    Temp,
    Owned,
    Merge,
}

fn manifest_path(env: &Env, harness: &str) -> Result<PathBuf, LaunchError> {
    Ok(env.amux_home()?.join("launch").join(format!("{harness}.json")))
}

/// FNV-1a of the bytes and their length: enough to notice a change, and no secret at rest.
fn fingerprint(bytes: &[u8]) -> String {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x100000001b3);
    }
    format!("{:016x}-{}", h, bytes.len())
}

fn write_private(path: &Path, bytes: &[u8]) -> Result<(), LaunchError> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| LaunchError::io(format!("creating {}", dir.display()), e))?;
    }
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut f = opts.open(path).map_err(|e| LaunchError::io(format!("writing {}", path.display()), e))?;
    f.write_all(bytes).map_err(|e| LaunchError::io(format!("writing {}", path.display()), e))
}

fn read_opt(path: &Path) -> Result<Option<Vec<u8>>, LaunchError> {
    match std::fs::read(path) {
        Ok(b) => Ok(Some(b)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(LaunchError::io(format!("reading {}", path.display()), e)),
    }
}

fn save(path: &Path, m: &Manifest) -> Result<(), LaunchError> {
    let text = serde_json::to_vec_pretty(m).map_err(|e| LaunchError::file(path, e.to_string()))?;
    write_private(path, &text)
}

fn pid_alive(pid: u32) -> bool {
    #[cfg(unix)]
    {
        // Signal 0 checks for existence without sending anything.
        let Ok(pid) = libc::pid_t::try_from(pid) else { return false };
        // SAFETY: kill with signal 0 has no effect on the target process.
        unsafe { libc::kill(pid, 0) == 0 }
    }
    #[cfg(not(unix))]
    {
        let _ = pid;
        false
    }
}

/// Files written for one run; [`Applied::restore`] puts everything back.
#[derive(Debug)]
pub struct Applied {
    env: Env,
    harness: String,
    done: bool,
}

/// Restores what an earlier, crashed run of this harness left behind; refuses if that run is
/// still alive. Returns what was done, for a message.
pub fn recover_leftover(env: &Env, harness: &str) -> Result<Vec<String>, LaunchError> {
    let path = manifest_path(env, harness)?;
    let Some(bytes) = read_opt(&path)? else { return Ok(Vec::new()) };
    let m: Manifest = serde_json::from_slice(&bytes).map_err(|e| LaunchError::file(&path, e.to_string()))?;
    if m.pid != std::process::id() && pid_alive(m.pid) {
        return Err(LaunchError::Busy { harness: harness.to_string(), pid: m.pid });
    }
    restore(env, harness)
}

/// Writes the files: manifest and backups first.
pub fn apply(env: &Env, harness: &str, edits: &[FileEdit]) -> Result<Applied, LaunchError> {
    let mpath = manifest_path(env, harness)?;
    let stamp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let backup_dir = env.amux_home()?.join("backups").join(harness).join(format!("{stamp}-{}", std::process::id()));
    let mut m = Manifest { harness: harness.to_string(), pid: std::process::id(), backup_dir, entries: Vec::new() };
    let applied = Applied { env: env.clone(), harness: harness.to_string(), done: false };
    save(&mpath, &m)?;
    for (i, edit) in edits.iter().enumerate() {
        let path = edit.path().clone();
        let before = read_opt(&path)?;
        let (kind, format, new_bytes, undo) = match edit {
            FileEdit::Temp { contents, .. } => (Kind::Temp, None, contents.clone().into_bytes(), Vec::new()),
            FileEdit::Owned { contents, .. } => (Kind::Owned, None, contents.clone().into_bytes(), Vec::new()),
            FileEdit::Merge { format, ops, .. } => {
                let text = before.as_deref().map(String::from_utf8_lossy).unwrap_or_default();
                let mut d = doc::parse(*format, &text)
                    .map_err(|e| LaunchError::file(&path, format!("{e}; not changed (fix or move it, then retry)")))?;
                let mut undo = Vec::new();
                for op in ops {
                    undo.push(doc::apply(&mut d, op).map_err(|e| LaunchError::file(&path, e))?);
                }
                let out = doc::render(*format, &d).map_err(|e| LaunchError::file(&path, e))?;
                (Kind::Merge, Some(*format), out.into_bytes(), undo)
            }
        };
        let original = match &before {
            Some(b) => {
                let copy = m.backup_dir.join(format!("{i}.orig"));
                write_private(&copy, b)?;
                Some(copy)
            }
            None => None,
        };
        m.entries.push(Entry { path: path.clone(), kind, format, original, written: fingerprint(&new_bytes), undo });
        save(&mpath, &m)?;
        if before.is_some() {
            std::fs::write(&path, &new_bytes).map_err(|e| LaunchError::io(format!("writing {}", path.display()), e))?;
        } else {
            write_private(&path, &new_bytes)?;
        }
    }
    Ok(applied)
}

impl Applied {
    /// Puts everything back (idempotent).
    pub fn restore(&mut self) -> Result<Vec<String>, LaunchError> {
        if self.done {
            return Ok(Vec::new());
        }
        self.done = true;
        restore(&self.env, &self.harness)
    }
}

impl Drop for Applied {
    fn drop(&mut self) {
        if let Err(e) = self.restore() {
            eprintln!("amux: restoring files failed: {e}; run `amux launch --restore {}`", self.harness);
        }
    }
}

/// Restores the files recorded for this harness. Returns one line per file.
pub fn restore(env: &Env, harness: &str) -> Result<Vec<String>, LaunchError> {
    let mpath = manifest_path(env, harness)?;
    let Some(bytes) = read_opt(&mpath)? else {
        return Err(LaunchError::NothingToRestore(harness.to_string()));
    };
    let m: Manifest = serde_json::from_slice(&bytes).map_err(|e| LaunchError::file(&mpath, e.to_string()))?;
    let mut report = Vec::new();
    let mut failed = Vec::new();
    for e in m.entries.iter().rev() {
        match restore_one(e) {
            Ok(line) => report.push(line),
            Err(err) => failed.push(err.to_string()),
        }
    }
    if !failed.is_empty() {
        return Err(LaunchError::file(&mpath, format!("could not restore: {}", failed.join("; "))));
    }
    let _ = std::fs::remove_dir_all(&m.backup_dir);
    std::fs::remove_file(&mpath).map_err(|e| LaunchError::io(format!("removing {}", mpath.display()), e))?;
    Ok(report)
}

fn restore_one(e: &Entry) -> Result<String, LaunchError> {
    let current = read_opt(&e.path)?;
    let original = match &e.original {
        Some(p) => {
            Some(std::fs::read(p).map_err(|err| LaunchError::io(format!("reading backup {}", p.display()), err))?)
        }
        None => None,
    };
    let unchanged = current.as_deref().map(fingerprint).as_deref() == Some(e.written.as_str());
    let shown = e.path.display();
    if unchanged || e.kind != Kind::Merge {
        return match original {
            Some(orig) => {
                std::fs::write(&e.path, orig).map_err(|err| LaunchError::io(format!("writing {shown}"), err))?;
                Ok(format!("restored {shown}"))
            }
            None => {
                if current.is_some() {
                    std::fs::remove_file(&e.path).map_err(|err| LaunchError::io(format!("removing {shown}"), err))?;
                }
                Ok(format!("removed {shown}"))
            }
        };
    }
    // Changed since the launcher wrote it (the harness saved its own state): undo only the
    // launcher's operations and keep everything else.
    let Some(cur) = current else { return Ok(format!("{shown} is gone; nothing to undo")) };
    let format = e.format.unwrap_or(Format::Json);
    let mut d = doc::parse(format, &String::from_utf8_lossy(&cur)).map_err(|err| LaunchError::file(&e.path, err))?;
    for u in e.undo.iter().rev() {
        doc::undo(&mut d, u);
    }
    let out = doc::render(format, &d).map_err(|err| LaunchError::file(&e.path, err))?;
    std::fs::write(&e.path, out).map_err(|err| LaunchError::io(format!("writing {shown}"), err))?;
    Ok(format!("undid amux's changes in {shown} (kept changes made since)"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::launch::plan::Op;
    use serde_json::json;

    fn env_in(dir: &Path) -> Env {
        Env::from_pairs([("HOME".to_string(), dir.display().to_string())])
    }

    fn tmp(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("amux-files-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn merge_backup_and_byte_exact_restore() {
        let d = tmp("exact");
        let env = env_in(&d);
        let user = d.join("settings.json");
        let original = "{\n  // mine\n  \"theme\": \"dark\"\n}\n";
        std::fs::write(&user, original).unwrap();
        let owned = d.join("profile.toml");
        let edits = vec![
            FileEdit::Merge {
                path: user.clone(),
                format: Format::Json,
                ops: vec![Op::Set { path: vec!["model".into()], value: json!("m") }],
            },
            FileEdit::Owned { path: owned.clone(), contents: "x = 1\n".into() },
        ];
        let mut a = apply(&env, "t", &edits).unwrap();
        let merged: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&user).unwrap()).unwrap();
        assert_eq!(merged, json!({"theme": "dark", "model": "m"}));
        assert!(owned.exists());
        a.restore().unwrap();
        assert_eq!(std::fs::read_to_string(&user).unwrap(), original);
        assert!(!owned.exists());
        assert!(matches!(restore(&env, "t"), Err(LaunchError::NothingToRestore(_))));
    }

    #[test]
    fn restore_after_the_harness_changed_the_file_keeps_its_changes() {
        let d = tmp("undo");
        let env = env_in(&d);
        let user = d.join("model.json");
        std::fs::write(&user, r#"{"recent":[{"providerID":"a","modelID":"b"}]}"#).unwrap();
        let ours = json!({"providerID": "amux", "modelID": "m"});
        let edits = vec![FileEdit::Merge {
            path: user.clone(),
            format: Format::Json,
            ops: vec![Op::Insert { path: vec!["recent".into()], value: ours.clone(), front: true }],
        }];
        let a = apply(&env, "oc", &edits).unwrap();
        // The harness writes its own state meanwhile.
        let mut cur: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&user).unwrap()).unwrap();
        cur["favorite"] = json!(["x"]);
        std::fs::write(&user, cur.to_string()).unwrap();
        // A crash: the next launch recovers.
        std::mem::forget(a);
        let lines = recover_leftover(&env, "oc").unwrap();
        assert_eq!(lines.len(), 1, "{lines:?}");
        let after: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&user).unwrap()).unwrap();
        assert_eq!(after, json!({"recent": [{"providerID": "a", "modelID": "b"}], "favorite": ["x"]}));
    }

    #[test]
    fn a_broken_user_file_is_left_alone() {
        let d = tmp("broken");
        let env = env_in(&d);
        let user = d.join("s.json");
        std::fs::write(&user, "{ nope").unwrap();
        let edits = vec![FileEdit::Merge { path: user.clone(), format: Format::Json, ops: vec![] }];
        let err = apply(&env, "b", &edits).unwrap_err();
        assert!(err.to_string().contains("not valid JSON"), "{err}");
        assert_eq!(std::fs::read_to_string(&user).unwrap(), "{ nope");
    }
}

//! Running the harness: a real pseudo-terminal for interactive TUIs (when amux itself has a
//! terminal), plain pipes for headless `--prompt` runs. The exit code is the harness's, or
//! 128 + the signal that killed it.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use super::error::LaunchError;
use super::plan::Plan;

/// The harness's environment: amux's own, minus the removed variables, plus the plan's.
pub fn child_env(plan: &Plan, base: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    let mut out = base.clone();
    for k in &plan.env_remove {
        out.remove(k);
    }
    for (k, v) in &plan.env {
        out.insert(k.clone(), v.clone());
    }
    out
}

/// Where a headless run's output is copied as well (`--observe`).
#[derive(Debug, Clone)]
pub struct Capture {
    pub stdout: PathBuf,
    pub stderr: PathBuf,
}

/// Runs the plan's program to completion and returns its exit code. With `capture`, a headless
/// run's stdout and stderr go through pipes: each chunk is written to amux's own stdout or stderr
/// as soon as it is read, unchanged, and appended to the capture file (an interactive run in a
/// pseudo-terminal is never captured).
pub fn run(
    plan: &Plan,
    program: &Path,
    vars: &BTreeMap<String, String>,
    rt: &tokio::runtime::Runtime,
    capture: Option<&Capture>,
) -> Result<i32, LaunchError> {
    #[cfg(unix)]
    {
        use std::io::IsTerminal;
        if plan.interactive && std::io::stdin().is_terminal() && std::io::stdout().is_terminal() {
            return super::pty::run(plan, program, vars, rt);
        }
        run_plain(plan, program, vars, rt, capture.filter(|_| !plan.interactive))
    }
    #[cfg(not(unix))]
    {
        let _ = (rt, capture);
        let status = std::process::Command::new(program)
            .args(&plan.args)
            .env_clear()
            .envs(vars)
            .status()
            .map_err(|e| LaunchError::Spawn { program: plan.program.clone(), source: e })?;
        Ok(status.code().unwrap_or(1))
    }
}

#[cfg(unix)]
fn run_plain(
    plan: &Plan,
    program: &Path,
    vars: &BTreeMap<String, String>,
    rt: &tokio::runtime::Runtime,
    capture: Option<&Capture>,
) -> Result<i32, LaunchError> {
    use std::os::unix::process::{CommandExt, ExitStatusExt};
    let mut cmd = std::process::Command::new(program);
    cmd.args(&plan.args).env_clear().envs(vars);
    if !plan.interactive {
        cmd.stdin(std::process::Stdio::null());
    }
    let files = match capture {
        Some(c) => {
            cmd.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped());
            Some((create(&c.stdout)?, create(&c.stderr)?))
        }
        None => None,
    };
    // Its own process group: amux forwards signals to it (and is not killed by them first).
    cmd.process_group(0);
    // Register the handlers before the child exists so that no signal is lost in between.
    let signals = {
        let _guard = rt.enter();
        super::signals::Signals::register()
    };
    let mut child = cmd.spawn().map_err(|e| LaunchError::Spawn { program: plan.program.clone(), source: e })?;
    let mut tees = Vec::new();
    if let Some((out_file, err_file)) = files {
        if let Some(out) = child.stdout.take() {
            tees.push(tee(out, std::io::stdout(), out_file));
        }
        if let Some(err) = child.stderr.take() {
            tees.push(tee(err, std::io::stderr(), err_file));
        }
    }
    let pid = i32::try_from(child.id()).unwrap_or(i32::MAX);
    let forwarder = rt.spawn(signals.forward(pid, None));
    let status = child.wait().map_err(|e| LaunchError::io("waiting for the harness", e));
    forwarder.abort();
    // The last of the output, without hanging on grandchildren that still hold the pipes.
    let deadline = std::time::Instant::now() + std::time::Duration::from_millis(1000);
    while tees.iter().any(|t| !t.is_finished()) && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let status = status?;
    Ok(match (status.code(), status.signal()) {
        (Some(c), _) => c,
        (None, Some(s)) => 128 + s,
        (None, None) => 1,
    })
}

#[cfg(unix)]
fn create(path: &Path) -> Result<std::fs::File, LaunchError> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .create(true)
        .truncate(true)
        .write(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| LaunchError::io(format!("creating {}", path.display()), e))
}

/// Copies `from` to `to` chunk by chunk as it arrives (each chunk flushed at once), and to `file`.
#[cfg(unix)]
fn tee(
    mut from: impl Read + Send + 'static,
    mut to: impl Write + Send + 'static,
    mut file: std::fs::File,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let mut buf = [0u8; 8192];
        let mut to_ok = true;
        loop {
            match from.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    if to_ok {
                        to_ok = to.write_all(&buf[..n]).and_then(|_| to.flush()).is_ok();
                    }
                    let _ = file.write_all(&buf[..n]);
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(_) => break,
            }
        }
    })
}

//! Running the harness: a real pseudo-terminal for interactive TUIs (when amux itself has a
//! terminal), plain pipes for headless `--prompt` runs. The exit code is the harness's, or
//! 128 + the signal that killed it.

use std::collections::BTreeMap;
use std::path::Path;

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

/// Runs the plan's program to completion and returns its exit code.
pub fn run(
    plan: &Plan,
    program: &Path,
    vars: &BTreeMap<String, String>,
    rt: &tokio::runtime::Runtime,
) -> Result<i32, LaunchError> {
    #[cfg(unix)]
    {
        use std::io::IsTerminal;
        if plan.interactive && std::io::stdin().is_terminal() && std::io::stdout().is_terminal() {
            return super::pty::run(plan, program, vars, rt);
        }
        run_plain(plan, program, vars, rt)
    }
    #[cfg(not(unix))]
    {
        let _ = rt;
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
) -> Result<i32, LaunchError> {
    use std::os::unix::process::{CommandExt, ExitStatusExt};
    let mut cmd = std::process::Command::new(program);
    cmd.args(&plan.args).env_clear().envs(vars);
    if !plan.interactive {
        cmd.stdin(std::process::Stdio::null());
    }
    // Its own process group: amux forwards signals to it (and is not killed by them first).
    cmd.process_group(0);
    // Register the handlers before the child exists so that no signal is lost in between.
    let signals = {
        let _guard = rt.enter();
        super::signals::Signals::register()
    };
    let mut child = cmd.spawn().map_err(|e| LaunchError::Spawn { program: plan.program.clone(), source: e })?;
    let pid = i32::try_from(child.id()).unwrap_or(i32::MAX);
    let forwarder = rt.spawn(signals.forward(pid, None));
    let status = child.wait().map_err(|e| LaunchError::io("waiting for the harness", e));
    forwarder.abort();
    let status = status?;
    Ok(match (status.code(), status.signal()) {
        (Some(c), _) => c,
        (None, Some(s)) => 128 + s,
        (None, None) => 1,
    })
}

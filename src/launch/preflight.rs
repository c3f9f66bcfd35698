//! Checks before anything is written or started: the harness is installed (else the command
//! that installs it) and, where it matters, new enough. Provider credentials are checked when
//! the route is resolved.

use std::path::PathBuf;
use std::time::Duration;

use super::env::Env;
use super::error::LaunchError;
use super::harness::Harness;

/// The harness's executable on `$PATH`.
pub fn installed(h: &dyn Harness, env: &Env) -> Result<PathBuf, LaunchError> {
    env.which(h.binary()).ok_or(LaunchError::NotInstalled {
        harness: h.name(),
        binary: h.binary(),
        install: h.install(),
    })
}

/// The first `x.y.z` in a `--version` output.
pub fn parse_version(text: &str) -> Option<[u64; 3]> {
    for word in text.split(|c: char| !(c.is_ascii_digit() || c == '.')) {
        let parts: Vec<&str> = word.split('.').collect();
        if parts.len() >= 3
            && let (Ok(a), Ok(b), Ok(c)) = (parts[0].parse(), parts[1].parse(), parts[2].parse())
        {
            return Some([a, b, c]);
        }
    }
    None
}

fn show(v: [u64; 3]) -> String {
    format!("{}.{}.{}", v[0], v[1], v[2])
}

/// Runs `<binary> --version` (10 s at most) and compares with the harness's minimum.
pub fn version(h: &dyn Harness, program: &PathBuf, env: &Env) -> Result<(), LaunchError> {
    let Some(min) = h.min_version() else { return Ok(()) };
    let mut child = std::process::Command::new(program)
        .arg("--version")
        .env_clear()
        .envs(env.pairs())
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| LaunchError::VersionUnknown { harness: h.name(), detail: e.to_string() })?;
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if std::time::Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(LaunchError::VersionUnknown {
                    harness: h.name(),
                    detail: "`--version` did not answer".into(),
                });
            }
        }
    }
    let out = child
        .wait_with_output()
        .map_err(|e| LaunchError::VersionUnknown { harness: h.name(), detail: e.to_string() })?;
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    let found = parse_version(&text).ok_or_else(|| LaunchError::VersionUnknown {
        harness: h.name(),
        detail: format!("no version in {:?}", text.trim()),
    })?;
    if found < min {
        return Err(LaunchError::VersionTooOld {
            harness: h.name(),
            found: show(found),
            minimum: show(min),
            update: h.install(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::parse_version;

    #[test]
    fn versions() {
        assert_eq!(parse_version("codex-cli 0.134.2\n"), Some([0, 134, 2]));
        assert_eq!(parse_version("2.1.197 (Claude Code)"), Some([2, 1, 197]));
        assert_eq!(parse_version("v1.2"), None);
        assert!([0, 133, 9] < [0, 134, 0]);
    }
}

//! Ollama end to end: the server at `OLLAMA_HOST` (or localhost:11434) answers `/api/version`, or
//! `ollama serve` is started when it is installed (and stopped afterwards, only if amux started
//! it); the model is present by exact `name:tag` in `/api/tags`, or pulled with a progress bar
//! from the `/api/pull` stream; its context window comes from `/api/show`.

pub mod api;

use std::time::Duration;

use api::{Api, PullProgress};

use super::env::Env;
use super::error::LaunchError;

/// What the lifecycle found out (and started).
pub struct Prepared {
    pub context_window: Option<u64>,
    pub notes: Vec<String>,
    started: Option<std::process::Child>,
}

impl Prepared {
    /// Stops `ollama serve` if amux started it.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.started.take() {
            #[cfg(unix)]
            if let Ok(pid) = i32::try_from(child.id()) {
                super::signals::send(pid, libc::SIGTERM);
            }
            #[cfg(not(unix))]
            let _ = child.kill();
            let deadline = std::time::Instant::now() + Duration::from_secs(5);
            while std::time::Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Prepared {
    fn drop(&mut self) {
        self.stop();
    }
}

/// `name` matches `have` exactly, a bare name meaning `:latest`.
pub fn same_model(name: &str, have: &str) -> bool {
    let full = |n: &str| if n.contains(':') { n.to_string() } else { format!("{n}:latest") };
    full(name) == full(have)
}

fn is_local(origin: &str) -> bool {
    let host = origin.split("://").nth(1).unwrap_or(origin);
    let host = host.rsplit_once(':').map(|(h, _)| h).unwrap_or(host);
    matches!(host, "localhost" | "127.0.0.1" | "[::1]" | "0.0.0.0") || host.starts_with("127.")
}

/// Options for [`prepare`].
pub struct Options<'a> {
    pub origin: &'a str,
    pub model: &'a str,
    /// Look only: start nothing, pull nothing.
    pub dry_run: bool,
    /// How long to wait for a started `ollama serve` to answer.
    pub start_timeout: Duration,
}

/// Runs the lifecycle; `on_pull` sees each pull progress line.
pub fn prepare(
    rt: &tokio::runtime::Runtime,
    env: &Env,
    opts: &Options,
    on_pull: &mut (dyn FnMut(&PullProgress) + Send),
) -> Result<Prepared, LaunchError> {
    let api = Api::new(opts.origin)?;
    let mut out = Prepared { context_window: None, notes: Vec::new(), started: None };
    if rt.block_on(api.version()).is_err() {
        if opts.dry_run {
            out.notes.push(format!("Ollama is not answering at {}; it would be started first", opts.origin));
            return Ok(out);
        }
        let Some(bin) = env.which("ollama") else {
            return Err(LaunchError::Ollama(format!(
                "nothing answers at {} and `ollama` is not installed: install it from https://ollama.com/download, or set OLLAMA_HOST",
                opts.origin
            )));
        };
        if !is_local(opts.origin) {
            return Err(LaunchError::Ollama(format!(
                "nothing answers at {} (OLLAMA_HOST is not this machine)",
                opts.origin
            )));
        }
        out.started = Some(start_server(&bin, env)?);
        let deadline = std::time::Instant::now() + opts.start_timeout;
        loop {
            if rt.block_on(api.version()).is_ok() {
                out.notes.push(format!("started `ollama serve` at {} (stopped afterwards)", opts.origin));
                break;
            }
            if std::time::Instant::now() > deadline {
                out.stop();
                return Err(LaunchError::Ollama(format!("started `ollama serve`, but {} did not answer", opts.origin)));
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }
    let tags = rt.block_on(api.tags())?;
    if !tags.iter().any(|t| same_model(opts.model, t)) {
        if opts.dry_run {
            out.notes.push(format!("{} is not in Ollama; it would be pulled", opts.model));
            return Ok(out);
        }
        rt.block_on(interruptible(api.pull(opts.model, on_pull)))?;
    }
    out.context_window = rt.block_on(api.context_window(opts.model))?;
    Ok(out)
}

/// Runs `fut` unless SIGINT or SIGTERM arrives first (then the launch stops cleanly, stopping an
/// `ollama serve` it started, instead of amux dying mid-pull).
async fn interruptible<T>(fut: impl std::future::Future<Output = Result<T, LaunchError>>) -> Result<T, LaunchError> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let (Ok(mut int), Ok(mut term)) = (signal(SignalKind::interrupt()), signal(SignalKind::terminate())) else {
            return fut.await;
        };
        tokio::select! {
            r = fut => r,
            _ = int.recv() => Err(LaunchError::Ollama("interrupted".into())),
            _ = term.recv() => Err(LaunchError::Ollama("interrupted".into())),
        }
    }
    #[cfg(not(unix))]
    fut.await
}

fn start_server(bin: &std::path::Path, env: &Env) -> Result<std::process::Child, LaunchError> {
    let mut cmd = std::process::Command::new(bin);
    cmd.arg("serve")
        .env_clear()
        .envs(env.pairs())
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
    cmd.spawn().map_err(|e| LaunchError::Spawn { program: "ollama serve".into(), source: e })
}

/// A progress bar on stderr for a pull (hidden when stderr is not a terminal).
pub fn progress_bar(model: &str) -> impl FnMut(&PullProgress) + Send {
    let bar = indicatif::ProgressBar::new(0);
    let style = indicatif::ProgressStyle::with_template("{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} {eta}")
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
    bar.set_style(style.progress_chars("=> "));
    let model = model.to_string();
    let mut digest: Option<String> = None;
    move |p: &PullProgress| {
        if p.digest != digest {
            digest = p.digest.clone();
            bar.set_position(0);
        }
        if let Some(t) = p.total {
            bar.set_length(t);
        }
        if let Some(c) = p.completed {
            bar.set_position(c);
        }
        bar.set_message(format!("pulling {model}: {}", p.status));
        if p.status == "success" {
            bar.finish_with_message(format!("pulled {model}"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_names() {
        assert!(same_model("qwen3:32b", "qwen3:32b"));
        assert!(same_model("llama3", "llama3:latest"));
        assert!(!same_model("qwen3:32b", "qwen3:8b"));
        assert!(!same_model("qwen3", "qwen3:32b"));
    }

    #[test]
    fn local_hosts() {
        assert!(is_local("http://127.0.0.1:11434"));
        assert!(is_local("http://localhost:11434"));
        assert!(!is_local("https://ollama.example.com:443"));
    }
}

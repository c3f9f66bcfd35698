//! What triggers a live reload of `amux serve --config FILE`: SIGHUP, and a change in the content
//! of the config file, its `keys_file` or a provider's `api_key_file`, checked every
//! `lifecycle.watch_interval_secs`. Content is compared rather than modification times, so a
//! Kubernetes ConfigMap or Secret update (a symlink swap of the mounted directory) counts. A
//! rejected config is not retried until a file changes again or SIGHUP arrives.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use super::live::Live;
use super::signals::Hangup;
use crate::config::Config;
use crate::providers::expand_env;

/// The environment lookup a watcher resolves `${VAR}` with.
pub type Env = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// Watches for reload triggers until the runtime stops. Without a config file SIGHUP is logged
/// and ignored (there is nothing to reload), rather than terminating the process.
pub fn spawn(live: Arc<Live>, path: Option<PathBuf>, env: Env) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut hangup = Hangup::new();
        let Some(path) = path else {
            loop {
                hangup.recv().await;
                tracing::warn!("SIGHUP: no config file to reload (amux serve was started without --config)");
            }
        };
        let mut seen = fingerprint(&watched(&path, &live.current().config, &*env));
        loop {
            let interval = live.current().config.lifecycle.watch_interval_secs;
            let trigger = tokio::select! {
                () = hangup.recv() => "sighup",
                () = tokio::time::sleep(Duration::from_secs_f64(interval)), if interval > 0.0 => "file_change",
            };
            if trigger == "file_change" && fingerprint(&watched(&path, &live.current().config, &*env)) == seen {
                continue;
            }
            // Building a snapshot reads files and may load TLS roots: off the async workers.
            let (l, p, e) = (live.clone(), path.clone(), env.clone());
            let result = tokio::task::spawn_blocking(move || l.reload_file(&p, &*e)).await;
            let Ok(result) = result else {
                tracing::error!(trigger, "config reload panicked; the previous config keeps serving");
                continue;
            };
            match result {
                Ok(()) => tracing::info!(trigger, file = %path.display(), "config reloaded"),
                Err(e) => {
                    tracing::error!(trigger, file = %path.display(), error = e.label(), "config rejected; the previous config keeps serving");
                    for line in e.to_string().lines() {
                        tracing::error!(file = %path.display(), "{line}");
                    }
                }
            }
            // The files of the config now serving (a new keys_file, say), as they are now.
            seen = fingerprint(&watched(&path, &live.current().config, &*env));
        }
    })
}

/// The config file and the files it names.
fn watched(path: &Path, config: &Config, env: &dyn Fn(&str) -> Option<String>) -> Vec<PathBuf> {
    let named = config.keys_file.iter().chain(config.providers.values().filter_map(|p| p.api_key_file.as_ref()));
    let mut out = vec![path.to_path_buf()];
    out.extend(named.filter_map(|f| expand_env(f, env).ok()).map(PathBuf::from));
    out
}

/// A hash of each file's content (`None` when unreadable).
fn fingerprint(files: &[PathBuf]) -> Vec<Option<u64>> {
    files
        .iter()
        .map(|f| {
            std::fs::read(f).ok().map(|bytes| {
                let mut h = DefaultHasher::new();
                bytes.hash(&mut h);
                h.finish()
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn watches_the_config_keys_file_and_key_files() {
        let cfg = crate::config::parse_str(
            "keys_file: ${DIR}/keys.yaml\nproviders:\n  a: {kind: openai, api_key_file: /run/a-key}\n",
        )
        .unwrap();
        let env = |k: &str| (k == "DIR").then(|| "/run/s".to_string());
        let files = watched(Path::new("/etc/amux/amux.yaml"), &cfg, &env);
        let names: Vec<&str> = files.iter().filter_map(|p| p.to_str()).collect();
        assert_eq!(names, ["/etc/amux/amux.yaml", "/run/s/keys.yaml", "/run/a-key"]);
    }

    #[test]
    fn fingerprint_follows_content() {
        let dir = std::env::temp_dir().join(format!("amux-watch-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("c.yaml");
        std::fs::write(&f, "a").unwrap();
        let one = fingerprint(std::slice::from_ref(&f));
        assert_eq!(one, fingerprint(std::slice::from_ref(&f)));
        std::fs::write(&f, "b").unwrap();
        assert_ne!(one, fingerprint(std::slice::from_ref(&f)));
        std::fs::remove_file(&f).unwrap();
        assert_eq!(fingerprint(std::slice::from_ref(&f)), [None]);
        let _ = std::fs::remove_dir_all(&dir);
    }
}

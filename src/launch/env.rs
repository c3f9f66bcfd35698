//! A snapshot of the environment the launcher reads (injected in tests), and where its own state
//! lives (`$AMUX_HOME`, default `~/.amux`).

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::error::LaunchError;

/// Environment variables, read once.
#[derive(Debug, Clone, Default)]
pub struct Env(BTreeMap<String, String>);

impl Env {
    pub fn from_process() -> Env {
        Env(std::env::vars_os().filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?))).collect())
    }

    pub fn from_pairs<I: IntoIterator<Item = (String, String)>>(pairs: I) -> Env {
        Env(pairs.into_iter().collect())
    }

    /// A variable that is set and not empty.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(|s| s.as_str()).filter(|s| !s.is_empty())
    }

    pub fn owned(&self, name: &str) -> Option<String> {
        self.get(name).map(str::to_string)
    }

    /// Every variable, for a child's environment.
    pub fn pairs(&self) -> impl Iterator<Item = (&String, &String)> {
        self.0.iter()
    }

    pub fn vars(&self) -> &BTreeMap<String, String> {
        &self.0
    }

    pub fn set(&mut self, name: &str, value: &str) {
        self.0.insert(name.to_string(), value.to_string());
    }

    pub fn home(&self) -> Result<PathBuf, LaunchError> {
        self.get("HOME").map(PathBuf::from).ok_or_else(|| LaunchError::Usage("HOME is not set".into()))
    }

    /// Where amux keeps launch manifests and backups.
    pub fn amux_home(&self) -> Result<PathBuf, LaunchError> {
        match self.get("AMUX_HOME") {
            Some(h) => Ok(PathBuf::from(h)),
            None => Ok(self.home()?.join(".amux")),
        }
    }

    /// `$XDG_<kind>_HOME` or its default under the home directory.
    pub fn xdg(&self, var: &str, default_rel: &str) -> Result<PathBuf, LaunchError> {
        match self.get(var) {
            Some(d) => Ok(PathBuf::from(d)),
            None => Ok(self.home()?.join(default_rel)),
        }
    }

    /// Finds an executable on `$PATH`.
    pub fn which(&self, binary: &str) -> Option<PathBuf> {
        let path = self.get("PATH")?;
        std::env::split_paths(path).map(|d| d.join(binary)).find(|p| is_executable(p))
    }
}

#[cfg(unix)]
fn is_executable(p: &std::path::Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0).unwrap_or(false)
}

#[cfg(not(unix))]
fn is_executable(p: &std::path::Path) -> bool {
    p.is_file()
}

//! Virtual keys: each surface's native credential header -> a [`Principal`]. Keys are stored as
//! SHA-256 hashes; a presented key is hashed, the stored hashes that start with the same 8 bytes
//! are found in a map (one lookup, however many keys a team has), and each is compared with it
//! in constant time. The map's timing can only tell about the presented key's hash, which does
//! not lead back to any key. Keys never reach a log, a metric or an error message.

use std::collections::HashMap;
use std::sync::Arc;

use aws_lc_rs::constant_time::verify_slices_are_equal;
use aws_lc_rs::digest::{SHA256, digest};
use http::header::AUTHORIZATION;
use http::{HeaderMap, HeaderName};

use crate::config::{AdminConfig, BudgetConfig, ConfigError, ConfigErrors, KeyConfig, Permission};
use crate::ir::{ApiError, ErrorKind};
use crate::providers::expand_env;

/// Who is calling, from their key.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Principal {
    pub name: String,
    pub team: Option<String>,
    /// Model globs this key may use; empty means all.
    pub models: Vec<String>,
    pub rpm: Option<u64>,
    pub tpm: Option<u64>,
    /// Spending cap of this key.
    pub budget: Option<BudgetConfig>,
    /// Permissions beyond model calls (`passthrough`).
    pub permissions: Vec<Permission>,
}

impl Principal {
    /// Whether this key may call `model` (an alias or a `provider/model` name).
    pub fn allows(&self, model: &str) -> bool {
        self.models.is_empty() || self.models.iter().any(|g| glob_match(g, model))
    }
}

/// `*` matches any run of characters (including `/`); everything else matches itself.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let (p, t) = (pattern.as_bytes(), text.as_bytes());
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && p[pi] == b'*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if pi < p.len() && p[pi] == t[ti] {
            pi += 1;
            ti += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == b'*')
}

/// The map key of a hash: its first 8 bytes (0 for a shorter slice, which no SHA-256 is).
fn prefix(hash: &[u8]) -> u64 {
    hash.first_chunk::<8>().map_or(0, |b| u64::from_le_bytes(*b))
}

/// Hex SHA-256 of a key.
pub fn hash_key(key: &str) -> String {
    digest(&SHA256, key.as_bytes()).as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<[u8; 32]> {
    let s = s.trim();
    if s.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, chunk) in s.as_bytes().chunks(2).enumerate() {
        let hi = (chunk[0] as char).to_digit(16)?;
        let lo = (chunk[1] as char).to_digit(16)?;
        out[i] = (hi * 16 + lo) as u8;
    }
    Some(out)
}

/// A fresh random key (`amux-` + 48 hex characters from the system CSPRNG).
pub fn new_key() -> Result<String, ApiError> {
    let mut buf = [0u8; 24];
    aws_lc_rs::rand::fill(&mut buf).map_err(|_| ApiError::new(ErrorKind::Api, "no system randomness"))?;
    Ok(format!("amux-{}", buf.iter().map(|b| format!("{b:02x}")).collect::<String>()))
}

/// The configured keys.
#[derive(Debug, Default)]
pub struct Keys {
    entries: Vec<([u8; 32], Arc<Principal>)>,
    /// The first 8 bytes of each stored hash -> its entries, in config order (one, short of a
    /// repeated key or a 64-bit prefix shared by chance).
    index: HashMap<u64, Vec<usize>, foldhash::fast::RandomState>,
}

impl Keys {
    /// From `keys` and `keys_file` in the config.
    pub fn from_config(
        keys: &[KeyConfig],
        keys_file: Option<&str>,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Keys, ConfigErrors> {
        let mut errors = Vec::new();
        let mut all: Vec<(String, KeyConfig)> =
            keys.iter().enumerate().map(|(i, k)| (format!("keys[{i}]"), k.clone())).collect();
        if let Some(file) = keys_file {
            match expand_env(file, env)
                .and_then(|f| std::fs::read_to_string(&f).map_err(|e| format!("cannot read {f}: {e}")))
            {
                Ok(text) => match serde_norway::from_str::<Vec<KeyConfig>>(&text) {
                    Ok(list) => all.extend(list.into_iter().enumerate().map(|(i, k)| (format!("keys_file[{i}]"), k))),
                    Err(e) => errors
                        .push(ConfigError { path: "keys_file".into(), message: format!("not a list of keys: {e}") }),
                },
                Err(e) => errors.push(ConfigError { path: "keys_file".into(), message: e }),
            }
        }
        let mut keys = Keys::default();
        for (path, k) in all {
            let Some(hash) = unhex(&k.key_sha256) else {
                errors.push(ConfigError {
                    path: format!("{path}.key_sha256"),
                    message: "must be 64 hex characters".into(),
                });
                continue;
            };
            let p = Principal {
                name: k.name,
                team: k.team,
                models: k.models,
                rpm: k.rpm,
                tpm: k.tpm,
                budget: k.budget,
                permissions: k.permissions,
            };
            keys.push(hash, Arc::new(p));
        }
        if errors.is_empty() { Ok(keys) } else { Err(ConfigErrors(errors)) }
    }

    fn push(&mut self, hash: [u8; 32], principal: Arc<Principal>) {
        self.index.entry(prefix(&hash)).or_default().push(self.entries.len());
        self.entries.push((hash, principal));
    }

    /// Adds a key (the launcher's session token).
    pub fn add(&mut self, key: &str, principal: Principal) {
        if let Some(h) = unhex(&hash_key(key)) {
            self.push(h, Arc::new(principal));
        }
    }

    /// Every configured principal.
    pub fn principals(&self) -> impl Iterator<Item = &Principal> {
        self.entries.iter().map(|(_, p)| p.as_ref())
    }

    /// True when keys are enforced.
    pub fn enabled(&self) -> bool {
        !self.entries.is_empty()
    }

    /// The principal of a request; `Ok(None)` when no keys are configured (open gateway).
    pub fn authenticate(&self, headers: &HeaderMap, query: Option<&str>) -> Result<Option<Arc<Principal>>, ApiError> {
        if self.entries.is_empty() {
            return Ok(None);
        }
        let Some(key) = credential(headers, query) else {
            return Err(ApiError::new(
                ErrorKind::Authentication,
                "missing API key (send Authorization: Bearer, x-api-key, x-goog-api-key, api-key or ?key=)",
            ));
        };
        let presented = digest(&SHA256, key.as_bytes());
        // The first entry with this hash, as config order gives it.
        let found = self
            .index
            .get(&prefix(presented.as_ref()))
            .into_iter()
            .flatten()
            .filter_map(|&i| self.entries.get(i))
            .find(|(hash, _)| verify_slices_are_equal(presented.as_ref(), hash).is_ok());
        found.map(|(_, p)| Some(p.clone())).ok_or_else(|| ApiError::new(ErrorKind::Authentication, "invalid API key"))
    }
}

/// The master key of the admin API, kept as its SHA-256.
#[derive(Debug)]
pub struct AdminKey {
    hash: [u8; 32],
}

impl AdminKey {
    /// From `admin` in the config; `None` when no master key is set (the admin API is off).
    pub fn from_config(
        cfg: &AdminConfig,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Option<AdminKey>, ConfigErrors> {
        AdminKey::from_parts("admin", cfg.key.as_deref(), cfg.key_sha256.as_deref(), env)
    }

    /// A key given as `{section}.key` (expanded, at least 16 characters) or
    /// `{section}.key_sha256`; `None` when neither is set.
    pub fn from_parts(
        section: &str,
        key: Option<&str>,
        key_sha256: Option<&str>,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Option<AdminKey>, ConfigErrors> {
        let bad = |path: String, message: String| ConfigErrors(vec![ConfigError { path, message }]);
        let hash = match (key, key_sha256) {
            (Some(_), Some(_)) => return Err(bad(section.into(), "set key or key_sha256, not both".into())),
            (Some(k), None) => {
                let key = expand_env(k, env).map_err(|e| bad(format!("{section}.key"), e))?;
                if key.len() < 16 {
                    return Err(bad(format!("{section}.key"), "must be at least 16 characters".into()));
                }
                unhex(&hash_key(&key))
            }
            (None, Some(h)) => {
                Some(unhex(h).ok_or_else(|| bad(format!("{section}.key_sha256"), "must be 64 hex characters".into()))?)
            }
            (None, None) => None,
        };
        Ok(hash.map(|hash| AdminKey { hash }))
    }

    /// Checks the presented master key in constant time: 401 when missing, 403 when wrong.
    pub fn check(&self, headers: &HeaderMap) -> Result<(), ApiError> {
        let Some(key) = credential(headers, None) else {
            return Err(ApiError::new(ErrorKind::Authentication, "missing admin key"));
        };
        let presented = digest(&SHA256, key.as_bytes());
        verify_slices_are_equal(presented.as_ref(), &self.hash)
            .map_err(|_| ApiError::new(ErrorKind::Permission, "invalid admin key"))
    }
}

/// The key headers besides `authorization` (names, not `&str`: a `&str` is parsed as a header
/// name on every lookup).
pub const X_API_KEY: HeaderName = HeaderName::from_static("x-api-key");
pub const X_GOOG_API_KEY: HeaderName = HeaderName::from_static("x-goog-api-key");
pub const API_KEY: HeaderName = HeaderName::from_static("api-key");

/// The credential in whichever header (or query parameter) the caller's SDK uses.
fn credential<'a>(headers: &'a HeaderMap, query: Option<&'a str>) -> Option<&'a str> {
    let header =
        |name: &HeaderName| headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim).filter(|v| !v.is_empty());
    if let Some(v) = header(&AUTHORIZATION) {
        let token = v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")).unwrap_or(v).trim();
        if !token.is_empty() {
            return Some(token);
        }
    }
    header(&X_API_KEY)
        .or_else(|| header(&X_GOOG_API_KEY))
        .or_else(|| header(&API_KEY))
        .or_else(|| query?.split('&').find_map(|kv| kv.strip_prefix("key=")).filter(|k| !k.is_empty()))
}

/// A 403 for a model the key may not use.
pub fn forbidden(principal: &Principal, model: &str) -> ApiError {
    let mut e =
        ApiError::new(ErrorKind::Permission, format!("key \"{}\" may not use model \"{model}\"", principal.name));
    e.param = Some("model".into());
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> Keys {
        let k = KeyConfig {
            name: "alice".into(),
            team: Some("core".into()),
            key_sha256: hash_key("secret-1"),
            models: vec!["sonnet".into(), "groq/*".into()],
            rpm: Some(5),
            tpm: None,
            budget: None,
            permissions: vec![],
        };
        Keys::from_config(&[k], None, &|_| None).unwrap()
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn every_native_header_and_the_query() {
        let k = keys();
        for h in [
            headers(&[("authorization", "Bearer secret-1")]),
            headers(&[("x-api-key", "secret-1")]),
            headers(&[("x-goog-api-key", "secret-1")]),
            headers(&[("api-key", "secret-1")]),
        ] {
            assert_eq!(k.authenticate(&h, None).unwrap().unwrap().name, "alice");
        }
        assert!(k.authenticate(&HeaderMap::new(), Some("alt=sse&key=secret-1")).unwrap().is_some());
        let bad = k.authenticate(&headers(&[("x-api-key", "secret-2")]), None).unwrap_err();
        assert_eq!(bad.status, 401);
        assert!(!bad.message.contains("secret"), "{}", bad.message);
        assert_eq!(k.authenticate(&HeaderMap::new(), None).unwrap_err().status, 401);
        assert!(Keys::default().authenticate(&HeaderMap::new(), None).unwrap().is_none());
    }

    #[test]
    fn globs() {
        let p = keys().authenticate(&headers(&[("x-api-key", "secret-1")]), None).unwrap().unwrap();
        assert!(p.allows("sonnet") && p.allows("groq/llama-3.3-70b") && !p.allows("opus"));
        assert!(glob_match("gpt-*", "gpt-5") && glob_match("*", "x/y") && !glob_match("gpt-*", "o3"));
        assert!(glob_match("a*b*c", "axxbyyc") && !glob_match("a*b*c", "axxbyy"));
    }

    /// A thousand keys: each finds its own principal; a repeated hash keeps the first entry, as
    /// the scan over every entry did; a key added later (the launcher's) is found too.
    #[test]
    fn many_keys_each_find_their_own() {
        let mut cfg: Vec<KeyConfig> = (0..1000)
            .map(|i| KeyConfig {
                name: format!("dev-{i}"),
                team: None,
                key_sha256: hash_key(&format!("key-{i}")),
                models: vec![],
                rpm: None,
                tpm: None,
                budget: None,
                permissions: vec![],
            })
            .collect();
        let mut twin = cfg[7].clone();
        twin.name = "twin".into();
        cfg.push(twin);
        let mut k = Keys::from_config(&cfg, None, &|_| None).unwrap();
        for i in [0, 7, 500, 999] {
            let p = k.authenticate(&headers(&[("x-api-key", &format!("key-{i}"))]), None).unwrap().unwrap();
            assert_eq!(p.name, format!("dev-{i}"));
        }
        assert_eq!(k.authenticate(&headers(&[("x-api-key", "key-1000")]), None).unwrap_err().status, 401);
        k.add("session-token", Principal { name: "launcher".into(), ..Principal::default() });
        let p = k.authenticate(&headers(&[("authorization", "Bearer session-token")]), None).unwrap().unwrap();
        assert_eq!(p.name, "launcher");
        assert_eq!(k.principals().count(), 1002);
    }

    #[test]
    fn new_keys_hash_to_64_hex() {
        let k = new_key().unwrap();
        assert!(k.starts_with("amux-") && k.len() == 53);
        assert_eq!(hash_key(&k).len(), 64);
        assert_ne!(k, new_key().unwrap());
    }
}

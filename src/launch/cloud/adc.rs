//! A Google access token got the way Claude Code and Gemini CLI get one (google-auth-library's
//! Application Default Credentials), for the Vertex pre-flight: the JSON file at
//! `GOOGLE_APPLICATION_CREDENTIALS` (a service-account key or gcloud user credentials), else
//! gcloud's `application_default_credentials.json` (under `CLOUDSDK_CONFIG`, else
//! `~/.config/gcloud`), else the metadata server (`GCE_METADATA_HOST` / `GCE_METADATA_IP`, else
//! 169.254.169.254, as on GCE, Cloud Run and GKE with workload identity).
//!
//! The token is asked for and dropped: only where it came from is kept, for the plan. The token
//! endpoints are the ones the files name (`token_uri`), so that a test can point them at a mock;
//! google-auth-library itself always uses `https://oauth2.googleapis.com/token`, which is what
//! real files name.

use std::path::PathBuf;
use std::time::Duration;

use http_body_util::{BodyExt, Limited};

use crate::launch::env::Env;
use crate::providers::{client, gcp};

/// Where gcloud user credentials are refreshed when the file names no `token_uri`.
const GOOGLE_TOKEN_URI: &str = "https://oauth2.googleapis.com/token";

/// The metadata server's address when no variable names one.
const METADATA_IP: &str = "169.254.169.254";

/// How long the default metadata address is given: off Google Cloud nothing answers there.
const METADATA_PROBE: Duration = Duration::from_secs(3);

/// What the pre-flight found.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// A token was issued; where it came from.
    Token(String),
    /// Credentials of a kind the pre-flight cannot exercise (workload identity federation,
    /// impersonation); the harness is left to use them.
    Unchecked(String),
}

/// A token from the first source that exists, or what was tried and why it failed.
/// `key_file` (the provider's `credentials_file`) comes before `GOOGLE_APPLICATION_CREDENTIALS`,
/// as the launcher hands it to the harness under that name.
pub async fn token(env: &Env, key_file: Option<&str>) -> Result<Outcome, String> {
    if let Some(path) = key_file.or_else(|| env.get("GOOGLE_APPLICATION_CREDENTIALS").filter(|s| !s.is_empty())) {
        return from_file(&PathBuf::from(path)).await.map_err(|e| format!("{path}: {e}"));
    }
    let well_known = well_known_file(env);
    if let Some(path) = well_known.as_ref().filter(|p| p.is_file()) {
        return from_file(path).await.map_err(|e| format!("{}: {e}", path.display()));
    }
    let (host, default) = match env.get("GCE_METADATA_HOST").or_else(|| env.get("GCE_METADATA_IP")) {
        Some(h) if !h.is_empty() => (h.to_string(), false),
        _ => (METADATA_IP.to_string(), true),
    };
    let asked = async { gcp::metadata_token(&host).await.map_err(|e| e.0) };
    let answer = if default {
        tokio::time::timeout(METADATA_PROBE, asked).await.unwrap_or_else(|_| Err("no answer".into()))
    } else {
        asked.await
    };
    match answer {
        Ok(_) => Ok(Outcome::Token(format!("the metadata server at {host}"))),
        Err(e) if default => Err(format!(
            "GOOGLE_APPLICATION_CREDENTIALS is not set, there is no {}, and no metadata server answered at \
             {host} ({e})",
            well_known.map(|p| p.display().to_string()).unwrap_or_else(|| "gcloud credentials file".into())
        )),
        Err(e) => Err(e),
    }
}

/// gcloud's ADC file: `$CLOUDSDK_CONFIG/application_default_credentials.json`, else under
/// `~/.config/gcloud`.
fn well_known_file(env: &Env) -> Option<PathBuf> {
    let dir = match env.get("CLOUDSDK_CONFIG").filter(|s| !s.is_empty()) {
        Some(d) => PathBuf::from(d),
        None => env.home().ok()?.join(".config").join("gcloud"),
    };
    Some(dir.join("application_default_credentials.json"))
}

#[derive(serde::Deserialize)]
struct CredentialsFile {
    #[serde(rename = "type")]
    kind: Option<String>,
    client_email: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    refresh_token: Option<String>,
    token_uri: Option<String>,
}

async fn from_file(path: &std::path::Path) -> Result<Outcome, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read it: {e}"))?;
    let file: CredentialsFile =
        serde_json::from_str(&text).map_err(|e| format!("not a Google credentials file: {e}"))?;
    match file.kind.as_deref() {
        Some("service_account") => service_account(&text, file.client_email.as_deref()).await,
        Some("authorized_user") => {
            let (Some(id), Some(secret), Some(refresh)) = (&file.client_id, &file.client_secret, &file.refresh_token)
            else {
                return Err("gcloud user credentials without client_id, client_secret and refresh_token".into());
            };
            let uri = file.token_uri.as_deref().unwrap_or(GOOGLE_TOKEN_URI);
            refresh_user(uri, id, secret, refresh).await?;
            Ok(Outcome::Token(format!("gcloud user credentials ({})", path.display())))
        }
        Some(other) => Ok(Outcome::Unchecked(format!(
            "credentials of type {other} ({}): the harness exchanges them itself; not checked before the start",
            path.display()
        ))),
        None => Err("no \"type\": not a Google credentials file".into()),
    }
}

#[cfg(feature = "gcp")]
async fn service_account(text: &str, email: Option<&str>) -> Result<Outcome, String> {
    use gcp_auth::TokenProvider;
    let key = gcp_auth::CustomServiceAccount::from_json(text).map_err(|e| client::error_chain(&e))?;
    key.token(&[gcp::SCOPE]).await.map_err(|e| client::error_chain(&e))?;
    Ok(Outcome::Token(format!("the service-account key of {}", email.unwrap_or("an unnamed account"))))
}

#[cfg(not(feature = "gcp"))]
async fn service_account(_text: &str, email: Option<&str>) -> Result<Outcome, String> {
    Ok(Outcome::Unchecked(format!(
        "the service-account key of {}: amux was built without the `gcp` feature, not checked",
        email.unwrap_or("an unnamed account")
    )))
}

/// `application/x-www-form-urlencoded` escaping of one value.
fn form_value(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'*' => out.push(b as char),
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[derive(serde::Deserialize)]
struct TokenAnswer {
    access_token: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

/// The OAuth refresh-token grant gcloud user credentials are exchanged by.
async fn refresh_user(uri: &str, client_id: &str, client_secret: &str, refresh: &str) -> Result<(), String> {
    let body = format!(
        "grant_type=refresh_token&client_id={}&client_secret={}&refresh_token={}",
        form_value(client_id),
        form_value(client_secret),
        form_value(refresh)
    );
    let req = http::Request::post(uri)
        .header(http::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(client::UpBody::from(body.into_bytes()))
        .map_err(|_| format!("bad token_uri {uri}"))?;
    let http = client::build(super::PREFLIGHT_TIMEOUT).map_err(|e| e.to_string())?;
    let resp = http.request(req).await.map_err(|e| format!("token endpoint {uri}: {}", client::error_chain(&e)))?;
    let status = resp.status();
    let bytes = Limited::new(resp.into_body(), 64 * 1024)
        .collect()
        .await
        .map(|b| b.to_bytes())
        .map_err(|e| format!("token endpoint {uri}: {e}"))?;
    let answer: Option<TokenAnswer> = serde_json::from_slice(&bytes).ok();
    match answer {
        Some(TokenAnswer { access_token: Some(t), .. }) if status.is_success() && !t.is_empty() => Ok(()),
        Some(TokenAnswer { error: Some(e), error_description, .. }) => {
            Err(format!("token endpoint {uri} answered {status}: {e}: {}", error_description.unwrap_or_default()))
        }
        _ => Err(format!("token endpoint {uri} answered {status} without an access token")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Env {
        Env::from_pairs(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())))
    }

    #[test]
    fn form_values_are_escaped() {
        assert_eq!(form_value("1//0a-b_c.d"), "1%2F%2F0a-b_c.d");
        assert_eq!(form_value("a b&c=d"), "a+b%26c%3Dd");
    }

    #[test]
    fn the_gcloud_file_follows_cloudsdk_config() {
        let p = well_known_file(&env(&[("HOME", "/h")])).unwrap();
        assert_eq!(p, PathBuf::from("/h/.config/gcloud/application_default_credentials.json"));
        let p = well_known_file(&env(&[("HOME", "/h"), ("CLOUDSDK_CONFIG", "/c")])).unwrap();
        assert_eq!(p, PathBuf::from("/c/application_default_credentials.json"));
    }

    #[tokio::test]
    async fn files_that_are_not_credentials_are_named() {
        let dir = std::env::temp_dir().join(format!("amux-adc-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("bad.json");
        std::fs::write(&f, "{\"hello\": 1}").unwrap();
        let e = token(&env(&[("GOOGLE_APPLICATION_CREDENTIALS", f.to_str().unwrap())]), None).await.unwrap_err();
        assert!(e.contains("bad.json") && e.contains("not a Google credentials file"), "{e}");
        std::fs::write(&f, "{\"type\": \"external_account\"}").unwrap();
        let o = token(&env(&[]), Some(f.to_str().unwrap())).await.unwrap();
        assert!(matches!(o, Outcome::Unchecked(ref s) if s.contains("external_account")), "{o:?}");
        std::fs::write(&f, "{\"type\": \"authorized_user\", \"client_id\": \"x\"}").unwrap();
        let e = token(&env(&[]), Some(f.to_str().unwrap())).await.unwrap_err();
        assert!(e.contains("refresh_token"), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}

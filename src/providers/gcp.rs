//! Google Cloud credentials of the `vertex` provider: OAuth access tokens for the
//! `cloud-platform` scope, sent as `Authorization: Bearer`.
//!
//! Where tokens come from, first match wins:
//! 1. `credentials_file` in the config: a service-account key (JSON), through `gcp_auth`'s
//!    `CustomServiceAccount` (a JWT signed with the key, exchanged at the key's `token_uri`);
//! 2. `GCE_METADATA_HOST` set (what Google's client libraries read to find the metadata server, as
//!    on GKE with workload identity or a test double): the metadata server's
//!    `/computeMetadata/v1/instance/service-accounts/default/token`, asked by amux itself
//!    (`gcp_auth` knows only `metadata.google.internal`);
//! 3. otherwise Application Default Credentials by `gcp_auth::provider()`:
//!    `GOOGLE_APPLICATION_CREDENTIALS`, gcloud's `application_default_credentials.json` (user
//!    credentials), the metadata server at `metadata.google.internal`, then `gcloud auth
//!    print-access-token`.
//!
//! Tokens are cached and fetched again [`REFRESH_BEFORE`] before they expire (`gcp_auth` keeps
//! its own cache with the same margin). Tokens never reach a log.

use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use super::Secret;

/// The OAuth scope of Vertex AI calls.
pub const SCOPE: &str = "https://www.googleapis.com/auth/cloud-platform";

/// Fetch a new token this long before the cached one expires.
pub const REFRESH_BEFORE: Duration = Duration::from_secs(20);

/// Why no token could be had.
#[derive(Debug, thiserror::Error)]
#[error("no Google credentials: {0}")]
pub struct GcpError(pub String);

/// Where a provider's tokens come from.
#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    /// A service-account key file.
    KeyFile(String),
    /// A metadata server at this host (`GCE_METADATA_HOST`).
    Metadata(String),
    /// Application Default Credentials.
    Adc,
}

/// A provider's Google identity and its cached token.
pub struct GcpAuth {
    source: Source,
    #[cfg(feature = "gcp")]
    provider: tokio::sync::OnceCell<std::sync::Arc<dyn gcp_auth::TokenProvider>>,
    cached: Mutex<Option<(Secret, SystemTime)>>,
}

impl std::fmt::Debug for GcpAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GcpAuth").field("source", &self.source).finish_non_exhaustive()
    }
}

impl GcpAuth {
    pub fn new(source: Source) -> GcpAuth {
        GcpAuth {
            source,
            #[cfg(feature = "gcp")]
            provider: tokio::sync::OnceCell::new(),
            cached: Mutex::new(None),
        }
    }

    /// Where tokens come from.
    pub fn source(&self) -> &Source {
        &self.source
    }

    /// Where tokens come from, for the startup log.
    pub fn describe(&self) -> &'static str {
        match self.source {
            Source::KeyFile(_) => "service-account key file",
            Source::Metadata(_) => "metadata server (GCE_METADATA_HOST)",
            Source::Adc => "application default credentials",
        }
    }

    /// A token for the next request: cached while it has more than [`REFRESH_BEFORE`] left.
    pub async fn token(&self) -> Result<Secret, GcpError> {
        let now = SystemTime::now();
        if let Ok(guard) = self.cached.lock()
            && let Some((t, exp)) = guard.as_ref()
            && *exp > now + REFRESH_BEFORE
        {
            return Ok(t.clone());
        }
        let (token, expires) = match &self.source {
            Source::Metadata(host) => metadata_token(host).await?,
            _ => self.library_token().await?,
        };
        if let Ok(mut guard) = self.cached.lock() {
            *guard = Some((token.clone(), expires));
        }
        Ok(token)
    }

    #[cfg(feature = "gcp")]
    async fn library_token(&self) -> Result<(Secret, SystemTime), GcpError> {
        let provider = self
            .provider
            .get_or_try_init(|| async {
                match &self.source {
                    Source::KeyFile(path) => gcp_auth::CustomServiceAccount::from_file(path)
                        .map(|p| std::sync::Arc::new(p) as std::sync::Arc<dyn gcp_auth::TokenProvider>)
                        .map_err(|e| GcpError(format!("{path}: {}", super::client::error_chain(&e)))),
                    _ => gcp_auth::provider().await.map_err(|e| GcpError(super::client::error_chain(&e))),
                }
            })
            .await?;
        let t = provider.token(&[SCOPE]).await.map_err(|e| GcpError(super::client::error_chain(&e)))?;
        let secs = t.expires_at().timestamp();
        let expires = SystemTime::UNIX_EPOCH + Duration::from_secs(u64::try_from(secs).unwrap_or(0));
        Ok((Secret::new(t.as_str()), expires))
    }

    #[cfg(not(feature = "gcp"))]
    async fn library_token(&self) -> Result<(Secret, SystemTime), GcpError> {
        Err(GcpError("amux was built without the `gcp` feature (service-account keys and ADC need it)".into()))
    }
}

#[derive(serde::Deserialize)]
struct MetadataToken {
    access_token: String,
    expires_in: u64,
}

/// A token from a metadata server (`Metadata-Flavor: Google`); also the launcher's Vertex
/// pre-flight.
pub async fn metadata_token(host: &str) -> Result<(Secret, SystemTime), GcpError> {
    use http_body_util::BodyExt;
    let host = host.trim_end_matches('/');
    let base = if host.contains("://") { host.to_string() } else { format!("http://{host}") };
    let url = format!("{base}/computeMetadata/v1/instance/service-accounts/default/token?scopes={SCOPE}");
    let client = super::client::build(Duration::from_secs(5)).map_err(|e| GcpError(e.to_string()))?;
    let req = http::Request::get(&url)
        .header("metadata-flavor", "Google")
        .body(crate::providers::client::UpBody::default())
        .map_err(|e| GcpError(e.to_string()))?;
    let resp = tokio::time::timeout(Duration::from_secs(10), client.request(req))
        .await
        .map_err(|_| GcpError(format!("metadata server {host}: no answer within 10 s")))?
        .map_err(|e| GcpError(format!("metadata server {host}: {}", super::client::error_chain(&e))))?;
    let status = resp.status();
    let body = resp.into_body().collect().await.map_err(|e| GcpError(e.to_string()))?.to_bytes();
    if !status.is_success() {
        return Err(GcpError(format!("metadata server {host} answered {status}")));
    }
    let t: MetadataToken = serde_json::from_slice(&body)
        .map_err(|e| GcpError(format!("metadata server {host}: unreadable token: {e}")))?;
    Ok((Secret::new(t.access_token), SystemTime::now() + Duration::from_secs(t.expires_in)))
}

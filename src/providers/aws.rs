//! AWS authentication of the `bedrock` provider: credentials and SigV4.
//!
//! Credentials come from static keys in the config when it sets them, else from the standard AWS
//! chain (`aws-config`: environment, shared config and credentials files with SSO, web identity
//! as on EKS with IRSA, EKS Pod Identity, ECS, instance metadata), built on first use for the
//! provider's region and profile; with a role to assume, those authorize an STS AssumeRole
//! (`aws-config`'s `AssumeRoleProvider`, session name `amux`). amux caches them and asks the chain again when they are within
//! five minutes of expiring. Every request is signed with `aws-sigv4` (service `bedrock`) over the
//! exact bytes sent, after every other header is set. Secrets never reach a log: [`Secret`] and
//! `aws-credential-types` print as redacted.

use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use http::HeaderMap;

use super::Secret;

/// The service name Bedrock Runtime signs with.
pub const SERVICE: &str = "bedrock";

/// Refresh credentials this long before they expire.
const REFRESH_BEFORE: Duration = Duration::from_secs(300);

/// Why a request could not be signed.
#[derive(Debug, thiserror::Error)]
pub enum AwsError {
    #[error("no AWS credentials: {0}")]
    Credentials(String),
    #[error("cannot sign the request: {0}")]
    Sign(String),
}

impl AwsError {
    pub fn label(&self) -> &'static str {
        match self {
            AwsError::Credentials(_) => "aws_credentials",
            AwsError::Sign(_) => "aws_sign",
        }
    }
}

/// Static keys from the config.
#[derive(Debug, Clone)]
pub struct StaticKeys {
    pub access_key_id: String,
    pub secret_access_key: Secret,
    pub session_token: Option<Secret>,
}

/// A provider's AWS identity: region, where credentials come from, and the cached credentials.
#[derive(Debug)]
pub struct AwsAuth {
    pub region: String,
    profile: Option<String>,
    keys: Option<StaticKeys>,
    role_arn: Option<String>,
    chain: tokio::sync::OnceCell<SharedCredentialsProvider>,
    cached: Mutex<Option<Credentials>>,
}

impl AwsAuth {
    /// The static keys' parts that could be echoed back (the access key id is sent in every
    /// signature; the session token is a header), and the secret key.
    pub fn static_secrets(&self) -> Vec<String> {
        let Some(k) = &self.keys else { return Vec::new() };
        let mut out = vec![k.access_key_id.clone(), k.secret_access_key.expose().to_string()];
        out.extend(k.session_token.as_ref().map(|t| t.expose().to_string()));
        out
    }

    pub fn new(region: String, profile: Option<String>, keys: Option<StaticKeys>) -> AwsAuth {
        AwsAuth { region, profile, keys, role_arn: None, chain: tokio::sync::OnceCell::new(), cached: Mutex::new(None) }
    }

    /// Assumes `role_arn` with the credentials found otherwise.
    pub fn assuming(mut self, role_arn: Option<String>) -> AwsAuth {
        self.role_arn = role_arn;
        self
    }

    /// The shared-config profile, when one is set.
    pub fn profile(&self) -> Option<&str> {
        self.profile.as_deref()
    }

    /// The static keys from the config, when set.
    pub fn static_keys(&self) -> Option<&StaticKeys> {
        self.keys.as_ref()
    }

    /// The role assumed with the credentials, when set.
    pub fn role_arn(&self) -> Option<&str> {
        self.role_arn.as_deref()
    }

    /// Where credentials come from, for the startup log (never the keys themselves).
    pub fn source(&self) -> &'static str {
        match (&self.role_arn, &self.keys, &self.profile) {
            (Some(_), _, _) => "assumed role",
            (None, Some(_), _) => "static keys",
            (None, None, Some(_)) => "AWS profile",
            (None, None, None) => "AWS default chain",
        }
    }

    fn static_credentials(k: &StaticKeys) -> Credentials {
        Credentials::new(
            &k.access_key_id,
            k.secret_access_key.expose(),
            k.session_token.as_ref().map(|t| t.expose().to_string()),
            None,
            "amux-config",
        )
    }

    async fn chain(&self) -> &SharedCredentialsProvider {
        self.chain
            .get_or_init(|| async {
                let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest())
                    .region(aws_config::Region::new(self.region.clone()));
                if let Some(p) = &self.profile {
                    loader = loader.profile_name(p);
                }
                if let Some(k) = &self.keys {
                    loader = loader.credentials_provider(Self::static_credentials(k));
                }
                let conf = loader.load().await;
                let base = conf.credentials_provider().unwrap_or_else(|| SharedCredentialsProvider::new(Missing));
                match &self.role_arn {
                    Some(role) => SharedCredentialsProvider::new(
                        aws_config::sts::AssumeRoleProvider::builder(role)
                            .session_name("amux")
                            .configure(&conf)
                            .build_from_provider(base)
                            .await,
                    ),
                    None => base,
                }
            })
            .await
    }

    /// Credentials for the next request: cached while they have more than five minutes left.
    pub async fn credentials(&self) -> Result<Credentials, AwsError> {
        if let (Some(k), None) = (&self.keys, &self.role_arn) {
            return Ok(Self::static_credentials(k));
        }
        let fresh = |c: &Credentials| c.expiry().is_none_or(|e| e > SystemTime::now() + REFRESH_BEFORE);
        if let Ok(guard) = self.cached.lock()
            && let Some(c) = guard.as_ref().filter(|c| fresh(c))
        {
            return Ok(c.clone());
        }
        let c = self
            .chain()
            .await
            .provide_credentials()
            .await
            .map_err(|e| AwsError::Credentials(super::client::error_chain(&e)))?;
        if let Ok(mut guard) = self.cached.lock() {
            *guard = Some(c.clone());
        }
        Ok(c)
    }
}

/// No credentials anywhere in the chain.
#[derive(Debug)]
struct Missing;

impl ProvideCredentials for Missing {
    fn provide_credentials<'a>(&'a self) -> aws_credential_types::provider::future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        aws_credential_types::provider::future::ProvideCredentials::ready(Err(
            aws_credential_types::provider::error::CredentialsError::not_loaded("the AWS default chain found none"),
        ))
    }
}

/// Signs a request (SigV4, `service` in `region`, at `time`): adds `x-amz-date`, the session
/// token when there is one, and `authorization` to `headers`. `uri` is the full request URL as
/// sent (its path already percent-encoded once).
pub fn sign_request(
    creds: &Credentials,
    (region, service): (&str, &str),
    time: SystemTime,
    (method, uri): (&str, &str),
    headers: &mut HeaderMap,
    body: &[u8],
) -> Result<(), AwsError> {
    let identity = creds.clone().into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(service)
        .time(time)
        .settings(SigningSettings::default())
        .build()
        .map_err(|e| AwsError::Sign(e.to_string()))?
        .into();
    let pairs: Vec<(&str, &str)> =
        headers.iter().filter_map(|(k, v)| v.to_str().ok().map(|v| (k.as_str(), v))).collect();
    // The body's SHA-256 by aws-lc (assembly, SHA extensions where the CPU has them) rather than
    // the signer's portable one: the request body is the only large input of a signature.
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, body);
    let body_hash = hex(digest.as_ref());
    let signable = SignableRequest::new(method, uri, pairs.into_iter(), SignableBody::Precomputed(body_hash))
        .map_err(|e| AwsError::Sign(e.to_string()))?;
    let (instructions, _) = sign(signable, &params).map_err(|e| AwsError::Sign(e.to_string()))?.into_parts();
    for (name, value) in instructions.headers() {
        let mut v = http::HeaderValue::from_str(value).map_err(|e| AwsError::Sign(e.to_string()))?;
        if name == "authorization" || name == "x-amz-security-token" {
            v.set_sensitive(true);
        }
        let n = http::HeaderName::from_bytes(name.as_bytes()).map_err(|e| AwsError::Sign(e.to_string()))?;
        headers.insert(n, v);
    }
    Ok(())
}

/// Lowercase hex, as SigV4 spells hashes.
fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 15)]));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// AWS's published SigV4 test suite, case `get-vanilla`.
    #[test]
    fn published_get_vanilla_signature() {
        let creds = Credentials::new("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", None, None, "test");
        let time = SystemTime::UNIX_EPOCH + Duration::from_secs(1_440_938_160); // 2015-08-30T12:36:00Z
        let mut h = HeaderMap::new();
        h.insert("host", http::HeaderValue::from_static("example.amazonaws.com"));
        sign_request(&creds, ("us-east-1", "service"), time, ("GET", "https://example.amazonaws.com/"), &mut h, b"")
            .unwrap();
        assert_eq!(h["x-amz-date"], "20150830T123600Z");
        assert_eq!(
            h["authorization"],
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
             SignedHeaders=host;x-amz-date, \
             Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
        );
    }

    /// The precomputed body hash signs exactly as the signer's own hashing of the body does.
    #[test]
    fn precomputed_body_hash_matches_the_signers() {
        let creds = Credentials::new("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", None, None, "test");
        let time = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let body = br#"{"messages":[{"role":"user","content":[{"text":"Hello"}]}]}"#;
        let url = "https://bedrock-runtime.us-east-1.amazonaws.com/model/m/converse";
        let mut h = HeaderMap::new();
        h.insert("host", http::HeaderValue::from_static("bedrock-runtime.us-east-1.amazonaws.com"));
        h.insert("content-type", http::HeaderValue::from_static("application/json"));
        let pairs: Vec<(String, String)> =
            h.iter().map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap().to_string())).collect();
        sign_request(&creds, ("us-east-1", "bedrock"), time, ("POST", url), &mut h, body).unwrap();
        let identity = creds.into();
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region("us-east-1")
            .name("bedrock")
            .time(time)
            .settings(SigningSettings::default())
            .build()
            .unwrap()
            .into();
        let signable = SignableRequest::new(
            "POST",
            url,
            pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())),
            SignableBody::Bytes(body),
        )
        .unwrap();
        let (instructions, _) = sign(signable, &params).unwrap().into_parts();
        let want = instructions.headers().find(|(n, _)| *n == "authorization").map(|(_, v)| v.to_string());
        assert_eq!(h["authorization"].to_str().ok().map(str::to_string), want);
        assert_eq!(hex(&[0x00, 0xab, 0x7f]), "00ab7f");
    }

    #[tokio::test]
    async fn static_keys_need_no_chain() {
        let keys = StaticKeys {
            access_key_id: "AKID".into(),
            secret_access_key: Secret::new("s"),
            session_token: Some(Secret::new("t")),
        };
        let a = AwsAuth::new("eu-west-1".into(), None, Some(keys));
        let c = a.credentials().await.unwrap();
        assert_eq!((c.access_key_id(), c.session_token()), ("AKID", Some("t")));
        assert!(!format!("{a:?}").contains("\"s\""), "secrets never print");
    }
}

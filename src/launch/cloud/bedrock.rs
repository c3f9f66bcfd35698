//! Claude Code on Amazon Bedrock in its own mode (`CLAUDE_CODE_USE_BEDROCK=1` with the user's
//! AWS setup), and the pre-flight that checks the AWS side before the harness starts (region,
//! model id shape, and who the credentials are, by STS `GetCallerIdentity` with a timeout), so
//! that a wrong setup fails with a clear message instead of a harness that cannot answer.

use std::time::SystemTime;

use bytes::Bytes;
use http_body_util::{BodyExt, Limited};

use super::PREFLIGHT_TIMEOUT;
use crate::launch::env::Env;
use crate::launch::error::LaunchError;
use crate::providers::{Provider, Secret, aws, bedrock_models, client};

/// Claude Code's Bedrock mode: where, and which credentials it reads.
#[derive(Debug, Clone, PartialEq)]
pub struct BedrockMode {
    pub region: String,
    pub profile: Option<String>,
    /// The provider's base URL when it is not Bedrock Runtime's own endpoint for the region.
    pub endpoint: Option<String>,
    pub credentials: BedrockCredentials,
}

/// What the harness authenticates with.
#[derive(Debug, Clone, PartialEq)]
pub enum BedrockCredentials {
    /// The standard AWS chain, read by the harness itself (environment, profiles, SSO, ...).
    Chain,
    /// Static keys from the amux config.
    Static { access_key_id: String, secret_access_key: Secret, session_token: Option<Secret> },
    /// A Bedrock API key (`AWS_BEARER_TOKEN_BEDROCK`).
    Bearer(Secret),
}

/// Claude Code's Bedrock mode for a `bedrock` provider, or why it cannot take it (then the
/// launcher goes through its in-process gateway, which signs every call itself).
pub fn bedrock_mode(p: &Provider) -> Result<BedrockMode, String> {
    let region = p.region.clone().ok_or("the provider has no region")?;
    let default_base = format!("https://bedrock-runtime.{region}.amazonaws.com");
    let endpoint = (p.base_url != default_base).then(|| p.base_url.clone());
    let (profile, credentials) = match (&p.api_key, &p.aws) {
        (Some(key), _) => (None, BedrockCredentials::Bearer(key.clone())),
        (None, Some(a)) => {
            if a.role_arn().is_some() {
                return Err("aws_role_arn is assumed by amux's gateway; Claude Code cannot assume it".into());
            }
            let creds = match a.static_keys() {
                Some(k) => BedrockCredentials::Static {
                    access_key_id: k.access_key_id.clone(),
                    secret_access_key: k.secret_access_key.clone(),
                    session_token: k.session_token.clone(),
                },
                None => BedrockCredentials::Chain,
            };
            (a.profile().map(str::to_string), creds)
        }
        (None, None) => return Err("the provider has no AWS credentials".into()),
    };
    Ok(BedrockMode { region, profile, endpoint, credentials })
}

/// A model id Bedrock can take, checked before anything starts.
pub fn check_model_id(model: &str) -> Result<(), LaunchError> {
    if bedrock_models::looks_like_id(model) {
        return Ok(());
    }
    Err(LaunchError::Preflight {
        what: "model id",
        detail: format!(
            "\"{model}\" is not a Bedrock model id: use a foundation model id \
             (anthropic.claude-sonnet-4-5-20250929-v1:0), an inference profile \
             (us.anthropic.claude-sonnet-4-5-20250929-v1:0), an ARN, or a Claude name amux maps \
             (claude-sonnet-4-5)"
        ),
    })
}

/// Checks the AWS side before Claude Code starts in Bedrock mode; returns notes for the plan.
/// `--dry-run` makes no network call.
pub fn preflight(
    rt: &tokio::runtime::Runtime,
    p: &Provider,
    mode: &BedrockMode,
    env: &Env,
    dry_run: bool,
) -> Result<Vec<String>, LaunchError> {
    let mut notes = vec![format!("Claude Code in its own Bedrock mode, region {}", mode.region)];
    if let BedrockCredentials::Bearer(_) = mode.credentials {
        notes.push("a Bedrock API key: STS cannot check it before the start".into());
        return Ok(notes);
    }
    let Some(auth) = &p.aws else { return Ok(notes) };
    if dry_run {
        notes.push("pre-flight (STS GetCallerIdentity) skipped: --dry-run".into());
        return Ok(notes);
    }
    let url = sts_url(env, &mode.region);
    let arn = rt.block_on(async {
        tokio::time::timeout(PREFLIGHT_TIMEOUT, caller_identity(auth, &url)).await.unwrap_or_else(|_| {
            Err(format!("no answer within {} s (credentials or {url})", PREFLIGHT_TIMEOUT.as_secs()))
        })
    });
    let arn = arn.map_err(|detail| LaunchError::Preflight { what: "AWS credentials", detail })?;
    notes.push(format!("AWS identity: {arn}"));
    Ok(notes)
}

/// STS's endpoint: `AWS_ENDPOINT_URL_STS`, then `AWS_ENDPOINT_URL` (as the AWS SDKs read them),
/// else the regional endpoint.
fn sts_url(env: &Env, region: &str) -> String {
    match env.get("AWS_ENDPOINT_URL_STS").or_else(|| env.get("AWS_ENDPOINT_URL")) {
        Some(u) => format!("{}/", u.trim_end_matches('/')),
        None => format!("https://sts.{region}.amazonaws.com/"),
    }
}

/// `GetCallerIdentity`, signed with the provider's credentials: the caller's ARN, or why not.
async fn caller_identity(auth: &aws::AwsAuth, url: &str) -> Result<String, String> {
    let creds = auth.credentials().await.map_err(|e| e.to_string())?;
    let uri: http::Uri = url.parse().map_err(|_| format!("bad STS endpoint {url}"))?;
    let host = uri.authority().map(|a| a.to_string()).ok_or(format!("bad STS endpoint {url}"))?;
    let body = Bytes::from_static(b"Action=GetCallerIdentity&Version=2011-06-15");
    let mut headers = http::HeaderMap::new();
    let value = |s: &str| http::HeaderValue::from_str(s).map_err(|e| e.to_string());
    headers.insert(http::header::HOST, value(&host)?);
    headers.insert(http::header::CONTENT_TYPE, value("application/x-www-form-urlencoded; charset=utf-8")?);
    aws::sign_request(&creds, (&auth.region, "sts"), SystemTime::now(), ("POST", url), &mut headers, &body)
        .map_err(|e| e.to_string())?;
    let mut req = http::Request::post(uri).body(client::UpBody::from(body)).map_err(|e| e.to_string())?;
    *req.headers_mut() = headers;
    let http = client::build(PREFLIGHT_TIMEOUT).map_err(|e| e.to_string())?;
    let resp = http.request(req).await.map_err(|e| format!("STS at {url}: {}", client::error_chain(&e)))?;
    let status = resp.status();
    let text = Limited::new(resp.into_body(), 64 * 1024)
        .collect()
        .await
        .map(|b| String::from_utf8_lossy(&b.to_bytes()).into_owned())
        .map_err(|e| format!("STS at {url}: {e}"))?;
    if status.is_success() {
        return xml_text(&text, "Arn").map(str::to_string).ok_or(format!("STS answered without an Arn: {text}"));
    }
    let code = xml_text(&text, "Code").unwrap_or("error");
    let message = xml_text(&text, "Message").unwrap_or("");
    Err(format!("STS GetCallerIdentity answered {status}: {code}: {message}"))
}

/// The text of the first `<tag>...</tag>` in an STS XML answer.
fn xml_text<'a>(xml: &'a str, tag: &str) -> Option<&'a str> {
    let open = format!("<{tag}>");
    let start = xml.find(&open)? + open.len();
    let len = xml[start..].find(&format!("</{tag}>"))?;
    Some(xml[start..start + len].trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_sts_answers() {
        let ok = "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><GetCallerIdentityResult><Arn>arn:aws:iam::123456789012:user/dev</Arn><UserId>AIDA</UserId><Account>123456789012</Account></GetCallerIdentityResult></GetCallerIdentityResponse>";
        assert_eq!(xml_text(ok, "Arn"), Some("arn:aws:iam::123456789012:user/dev"));
        let err = "<ErrorResponse><Error><Type>Sender</Type><Code>InvalidClientTokenId</Code><Message>The security token included in the request is invalid.</Message></Error></ErrorResponse>";
        assert_eq!(xml_text(err, "Code"), Some("InvalidClientTokenId"));
        assert_eq!(xml_text(err, "Arn"), None);
    }

    #[test]
    fn sts_endpoint_from_the_sdk_variables() {
        let e = |pairs: &[(&str, &str)]| Env::from_pairs(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        assert_eq!(sts_url(&e(&[]), "eu-west-1"), "https://sts.eu-west-1.amazonaws.com/");
        assert_eq!(sts_url(&e(&[("AWS_ENDPOINT_URL", "http://127.0.0.1:9/")]), "x"), "http://127.0.0.1:9/");
        assert_eq!(
            sts_url(&e(&[("AWS_ENDPOINT_URL", "http://a"), ("AWS_ENDPOINT_URL_STS", "http://b")]), "x"),
            "http://b/"
        );
    }

    #[test]
    fn model_ids_are_checked() {
        assert!(check_model_id("us.anthropic.claude-sonnet-4-5-20250929-v1:0").is_ok());
        let e = check_model_id("sonnet").unwrap_err();
        assert_eq!(e.label(), "preflight");
        assert!(e.to_string().contains("\"sonnet\" is not a Bedrock model id"), "{e}");
    }
}

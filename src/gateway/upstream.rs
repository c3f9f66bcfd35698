//! Sending one request to a provider: URL, auth and forwarded headers, timeouts, and the mapping
//! of transport failures and upstream error bodies to an [`ApiError`] naming the provider.

use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Method, Request, Response, Uri, header};
use http_body_util::BodyExt;

use crate::config::ProviderKind;
use crate::dialects::bedrock_converse;
use crate::ir::{ApiError, Dialect, ErrorKind};
use crate::providers::Provider;
use crate::providers::client::{UpBody, error_chain};
use crate::providers::pool::{PoolError, UpIncoming, Upstream};
use crate::providers::{Secret, sensitive_header};
use crate::translate;

/// Transport-level failures talking to an upstream.
#[derive(Debug, thiserror::Error)]
pub enum UpstreamError {
    #[error("could not connect: {0}")]
    Connect(String),
    #[error("TLS with the upstream failed: {0}")]
    Tls(String),
    #[error("no response within {0:?}")]
    Timeout(Duration),
    #[error("connection failed: {0}")]
    Transport(String),
    #[error(transparent)]
    Aws(#[from] crate::providers::aws::AwsError),
    #[error("answer larger than {0} bytes (limits.max_upstream_response_bytes)")]
    TooLarge(usize),
    #[error(transparent)]
    Gcp(#[from] crate::providers::gcp::GcpError),
    #[error(transparent)]
    Azure(#[from] crate::providers::azure::AzureError),
}

impl UpstreamError {
    /// Low-cardinality label for logs and metrics.
    pub fn label(&self) -> &'static str {
        match self {
            UpstreamError::Connect(_) => "connect",
            UpstreamError::Tls(_) => "tls",
            UpstreamError::Timeout(_) => "timeout",
            UpstreamError::Transport(_) => "transport",
            UpstreamError::Aws(e) => e.label(),
            UpstreamError::TooLarge(_) => "too_large",
            UpstreamError::Gcp(_) => "gcp_credentials",
            UpstreamError::Azure(_) => "azure_credentials",
        }
    }

    /// The caller-facing error: 503 when unreachable, 504 on timeout, 502 otherwise (a TLS
    /// failure among them, as nginx answers it). Its text is
    /// scrubbed of credential shapes (the transport's own words; no upstream body is in it).
    pub fn to_api(&self, provider: &str) -> ApiError {
        let kind = match self {
            UpstreamError::Connect(_) => ErrorKind::Unavailable,
            UpstreamError::Timeout(_) => ErrorKind::Timeout,
            UpstreamError::Tls(_) | UpstreamError::Transport(_) | UpstreamError::TooLarge(_) => ErrorKind::BadGateway,
            // amux's own AWS setup failed (no credentials): not the caller's fault.
            UpstreamError::Aws(_) | UpstreamError::Gcp(_) | UpstreamError::Azure(_) => ErrorKind::Api,
        };
        ApiError::new(kind, crate::redact::redact_shapes(&format!("provider {provider}: {self}")).into_owned())
    }
}

/// Longest upstream error message passed on (characters).
const MAX_ERROR_MESSAGE: usize = 8192;

/// Caller headers forwarded to an upstream of the same dialect. Auth headers never are.
const FORWARD_ANTHROPIC: [HeaderName; 2] = [ANTHROPIC_VERSION, ANTHROPIC_BETA];

/// One upstream request: in which dialect, for which caller, to which URL, with what body.
pub struct Outbound<'a> {
    pub target: Dialect,
    pub caller: Dialect,
    pub caller_headers: &'a HeaderMap,
    pub url: Uri,
    pub body: UpBody,
    /// Until the response headers.
    pub timeout: Duration,
}

/// Builds and sends the upstream request; returns the response once its headers arrived, and how
/// long that took.
pub async fn send(
    client: &Upstream,
    provider: &Provider,
    out: Outbound<'_>,
) -> Result<(Response<UpIncoming>, Duration), UpstreamError> {
    let Outbound { target, caller, caller_headers, url, body, timeout } = out;
    // Only SigV4 needs the URL as text.
    let url_text = provider.aws.as_ref().map(|_| url.to_string());
    let mut req = Request::builder().method(Method::POST).uri(url);
    let headers = req.headers_mut().ok_or_else(|| UpstreamError::Transport("request builder".into()))?;
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(header::USER_AGENT, HeaderValue::from_static(concat!("amux/", env!("CARGO_PKG_VERSION"))));
    let key = provider.api_key.as_ref();
    match target {
        // Bedrock (Converse, or InvokeModel with the Anthropic body): the version and betas are
        // in the body; a Bedrock API key is a bearer token, else the request is signed below.
        Dialect::Anthropic if provider.preset.kind == ProviderKind::Bedrock => {
            insert_secret(headers, header::AUTHORIZATION, key.and_then(Secret::bearer_header));
        }
        // Claude on Vertex: the version is in the body; betas Vertex takes go as the header.
        Dialect::Anthropic if provider.vertex.is_some() => {
            if caller == Dialect::Anthropic
                && let Some(b) = crate::providers::vertex::betas(caller_headers)
                && let Ok(v) = HeaderValue::from_str(&b)
            {
                headers.insert(ANTHROPIC_BETA, v);
            }
        }
        Dialect::Anthropic => {
            if caller == Dialect::Anthropic {
                for name in &FORWARD_ANTHROPIC {
                    for v in caller_headers.get_all(name) {
                        headers.append(name.clone(), v.clone());
                    }
                }
            }
            if !headers.contains_key(&ANTHROPIC_VERSION) {
                headers.insert(ANTHROPIC_VERSION, HeaderValue::from_static("2023-06-01"));
            }
            insert_secret(headers, X_API_KEY, key.and_then(Secret::header));
        }
        // Azure OpenAI and Foundry's model inference take their key as `api-key`.
        Dialect::OpenAiChat | Dialect::OpenAiResponses
            if matches!(provider.preset.kind, ProviderKind::Azure | ProviderKind::Foundry) =>
        {
            insert_secret(headers, API_KEY, key.and_then(Secret::header));
        }
        // A Bedrock API key is a bearer token (what `AWS_BEARER_TOKEN_BEDROCK` holds).
        Dialect::OpenAiChat | Dialect::OpenAiResponses | Dialect::BedrockConverse => {
            insert_secret(headers, header::AUTHORIZATION, key.and_then(Secret::bearer_header));
        }
        Dialect::Gemini => insert_secret(headers, X_GOOG_API_KEY, key.and_then(Secret::header)),
    }
    // Vertex: a Google access token for the cloud-platform scope (boxed like the AWS future).
    if let Some(gcp) = &provider.gcp {
        let token = Box::pin(gcp.token()).await?;
        insert_secret(headers, header::AUTHORIZATION, sensitive_header(&format!("Bearer {}", token.expose())));
    }
    // Azure and Foundry without a key: a Microsoft Entra ID token.
    if let Some(azure) = &provider.azure {
        let token = Box::pin(azure.token()).await?;
        insert_secret(headers, header::AUTHORIZATION, sensitive_header(&format!("Bearer {}", token.expose())));
    }
    for (k, v) in &provider.headers {
        headers.insert(k.clone(), v.clone());
    }
    // W3C trace context of the current (upstream attempt) span, when traces are exported.
    crate::telemetry::trace::inject(headers);
    // SigV4 last: it signs every header set above and the exact body.
    if let (Some(aws), Some(url_text)) = (&provider.aws, &url_text) {
        // Boxed: the AWS credential chain's future is large, and every other call's future
        // would carry its size (and move it at each await).
        let creds = Box::pin(aws.credentials()).await?;
        let (region, service) = (aws.region.as_str(), crate::providers::aws::SERVICE);
        let now = std::time::SystemTime::now();
        crate::providers::aws::sign_request(
            &creds,
            (region, service),
            now,
            ("POST", url_text),
            headers,
            &body.contiguous(),
        )?;
    }
    let req = req.body(body).map_err(|e| UpstreamError::Transport(e.to_string()))?;
    let started = Instant::now();
    match tokio::time::timeout(timeout, client.request(req)).await {
        Err(_) => Err(UpstreamError::Timeout(timeout)),
        Ok(Err(PoolError::Connect(e))) => Err(UpstreamError::Connect(e)),
        Ok(Err(PoolError::Tls(e))) => Err(UpstreamError::Tls(e)),
        Ok(Err(PoolError::Transport(e))) => Err(UpstreamError::Transport(e)),
        Ok(Ok(resp)) => Ok((resp, started.elapsed())),
    }
}

/// Names of the upstream headers set per call, built once (a name given as `&str` is copied
/// into a new `HeaderName` on every insert).
const ANTHROPIC_VERSION: HeaderName = HeaderName::from_static("anthropic-version");
const ANTHROPIC_BETA: HeaderName = HeaderName::from_static("anthropic-beta");
const X_API_KEY: HeaderName = HeaderName::from_static("x-api-key");
const API_KEY: HeaderName = HeaderName::from_static("api-key");
const X_GOOG_API_KEY: HeaderName = HeaderName::from_static("x-goog-api-key");

/// Sets a credential header; `value` is already marked sensitive.
fn insert_secret(headers: &mut HeaderMap, name: HeaderName, value: Option<HeaderValue>) {
    if let Some(v) = value {
        headers.insert(name, v);
    }
}

/// Reads a whole body of at most `max` bytes, with the provider's timeouts. A body declaring more
/// (`Content-Length`) is refused before reading; one that sends more is refused as soon as it
/// passes `max`, so no more than `max` bytes (and one chunk) are ever held.
pub async fn collect(provider: &Provider, body: UpIncoming, max: usize) -> Result<Bytes, UpstreamError> {
    use hyper::body::Body as _;
    if body.size_hint().lower() > max as u64 {
        return Err(UpstreamError::TooLarge(max));
    }
    let limited = http_body_util::Limited::new(body, max);
    match tokio::time::timeout(provider.response_timeout, limited.collect()).await {
        Err(_) => Err(UpstreamError::Timeout(provider.response_timeout)),
        Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => Err(UpstreamError::TooLarge(max)),
        Ok(Err(e)) => Err(UpstreamError::Transport(error_chain(&*e))),
        Ok(Ok(c)) => Ok(c.to_bytes()),
    }
}

/// Turns an upstream non-2xx answer into an [`ApiError`]: the body decoded in the upstream's
/// dialect, its text scrubbed of credentials (some servers echo the key they were sent),
/// Retry-After kept, 5xx reworded to name the provider (502/503/504). A 401/403 is about the
/// gateway's own credentials for the provider (the caller's never go upstream): a 502
/// `provider_auth` naming the provider, never the caller's 401 (so is Gemini's 400
/// `API_KEY_INVALID`).
pub fn upstream_error(
    provider: &Provider,
    dialect: Dialect,
    status: u16,
    headers: &HeaderMap,
    body: &[u8],
) -> ApiError {
    let bedrock = dialect == Dialect::BedrockConverse || provider.preset.kind == ProviderKind::Bedrock;
    let mut err = match dialect {
        // Bedrock names the error in a header, not in the body.
        _ if bedrock => {
            let ty = headers.get(bedrock_converse::ERROR_TYPE_HEADER).and_then(|v| v.to_str().ok());
            bedrock_converse::decode_typed(status, ty, body)
        }
        _ => translate::decode_error(dialect, status, body),
    };
    // An upstream may send a huge error message: callers and logs get its head.
    if let Some((cut, _)) = err.message.char_indices().nth(MAX_ERROR_MESSAGE) {
        err.message.truncate(cut);
        err.message.push_str(" [truncated]");
    }
    provider.redact.scrub(&mut err);
    // Gemini refuses a bad API key with a 400 whose reason is API_KEY_INVALID.
    let gemini_key = status == 400
        && dialect == Dialect::Gemini
        && body.windows(b"API_KEY_INVALID".len()).any(|w| w == b"API_KEY_INVALID");
    if status == 401 || status == 403 || gemini_key {
        return ApiError::new(
            ErrorKind::ProviderAuth,
            format!(
                "provider {} rejected the gateway's credentials for it (upstream {status}): {}; \
                 the gateway's configuration must be fixed, not the caller's key",
                provider.name, err.message
            ),
        );
    }
    // For 4xx the upstream's HTTP status is authoritative; the body's error type only refines it
    // (a 429 whose body says `api_error` is still a rate limit).
    if (400..500).contains(&status) && err.kind != ErrorKind::ContextOverflow {
        if err.kind.status() != status && ErrorKind::from_status(status).status() == status {
            err.kind = ErrorKind::from_status(status);
        }
        err.status = status;
    }
    err.retry_after = headers.get(header::RETRY_AFTER).and_then(|v| v.to_str().ok()).map(str::to_string);
    if status >= 500 {
        let kind = match status {
            503 | 529 => ErrorKind::Unavailable,
            504 => ErrorKind::Timeout,
            _ => ErrorKind::BadGateway,
        };
        let mut e = ApiError::new(kind, format!("provider {} returned {status}: {}", provider.name, err.message));
        e.retry_after = err.retry_after;
        return e;
    }
    err
}

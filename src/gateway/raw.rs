//! Raw passthrough: `/passthrough/{provider}/{path...}` forwards any method and path of a
//! configured provider's API (files, batches, embeddings, model lists, endpoints amux does not
//! model) to `{base_url}{path}`, with the provider's credentials in place of the caller's.
//!
//! - The path is checked before anything is sent ([`check_path`]): no `.`/`..` segments, no empty
//!   segments (`//`), no backslashes, no percent-encoded `/`, `\`, `.`, `%`, `?`, `#` or control
//!   bytes; the joined URL is parsed again and must keep the base URL's scheme, host, port and
//!   path prefix. A provider's `passthrough_paths` restricts it to those prefixes.
//! - The caller's credentials (`authorization`, `x-api-key`, `x-goog-api-key`, `api-key`,
//!   `cookie`, `x-amz-*`, a `key=` query parameter) and hop-by-hop headers are removed; the
//!   provider's are added: its API key in its dialect's header, a Google token (`vertex`), or a
//!   SigV4 signature over the exact request (`bedrock`: the one case where the request body is
//!   read whole first, since the signature covers its hash).
//! - Bodies stream both ways: the request body goes up as it arrives, the answer comes back as
//!   it arrives. When the path is one amux understands (`/v1/messages`, `/chat/completions`,
//!   `/responses`, `:generateContent`, `:streamGenerateContent`, `/converse`, `:rawPredict`...),
//!   usage is read from the answer on the side, so tokens and cost are counted.
//! - The caller's key must carry the `passthrough` permission (any caller on an open gateway);
//!   its budget and RPM apply, and the call is recorded like any other (logs, metrics with
//!   `path="passthrough"`, budgets), model `passthrough`.

use std::future::Future as _;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::Request;
use bytes::{Bytes, BytesMut};
use http::{HeaderMap, HeaderName, HeaderValue, Response, Uri, header};
use hyper::body::{Frame, Incoming};

use super::observe::{StreamObserver, body_usage};
use super::state::AppState;
use crate::config::{Permission, ProviderKind};
use crate::ir::{ApiError, Dialect, ErrorKind};
use crate::providers::Provider;
use crate::providers::client::{StreamingClient, build_streaming, error_chain};
use crate::stack::limits::{Scope, reconcile_on_end};
use crate::usage::{CallGuard, CallRecord};

/// The model name passthrough calls are recorded under.
pub const MODEL: &str = "passthrough";

/// Largest answer copied aside to read its usage (a whole JSON answer).
const MAX_OBSERVED: usize = 4 * 1024 * 1024;

/// Headers never forwarded either way (hop-by-hop), and the caller's credentials.
const HOP_BY_HOP: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];
const CALLER_CREDENTIALS: &[&str] = &["authorization", "x-api-key", "x-goog-api-key", "api-key", "cookie"];

/// Checks the path a caller asked for (what follows `/passthrough/{provider}`, as sent, still
/// percent-encoded) against escapes and the provider's prefixes.
pub fn check_path(path: &str, prefixes: Option<&[String]>) -> Result<(), String> {
    if !path.starts_with('/') {
        return Err("the path must start with /".into());
    }
    if path.contains("//") || path.contains('\\') {
        return Err("empty path segments and backslashes are not allowed".into());
    }
    let b = path.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                let hex = path.get(i + 1..i + 3).ok_or("a truncated percent-encoding")?;
                let v = u8::from_str_radix(hex, 16).map_err(|_| "an invalid percent-encoding")?;
                if matches!(v, b'/' | b'\\' | b'.' | b'%' | b'?' | b'#') || v < 0x20 || v == 0x7f {
                    return Err(format!("the encoded character %{hex} is not allowed"));
                }
                i += 3;
            }
            c if c < 0x20 || c == 0x7f || c == b'#' => return Err("control characters are not allowed".into()),
            _ => i += 1,
        }
    }
    if path.split('/').any(|seg| seg == "." || seg == "..") {
        return Err("`.` and `..` segments are not allowed".into());
    }
    if let Some(prefixes) = prefixes {
        let allowed = prefixes.iter().any(|p| {
            let p = p.trim_end_matches('/');
            path == p || path.starts_with(&format!("{p}/")) || p.is_empty()
        });
        if !allowed {
            return Err(format!("this provider allows passthrough only under {}", prefixes.join(", ")));
        }
    }
    Ok(())
}

/// The upstream URL: base URL + path (+ the caller's query without `key=`), checked to stay
/// under the base URL.
pub fn join(base: &str, path: &str, query: Option<&str>) -> Result<Uri, String> {
    let query: Vec<&str> =
        query.unwrap_or("").split('&').filter(|kv| !kv.is_empty() && !kv.starts_with("key=")).collect();
    let mut url = format!("{}{path}", base.trim_end_matches('/'));
    if !query.is_empty() {
        url.push('?');
        url.push_str(&query.join("&"));
    }
    let uri: Uri = url.parse().map_err(|_| "the path does not form a valid URL".to_string())?;
    let b: Uri = base.parse().map_err(|_| "the provider's base URL is invalid".to_string())?;
    let base_path = b.path().trim_end_matches('/');
    let same_origin = uri.scheme() == b.scheme() && uri.authority() == b.authority();
    let under = uri.path() == base_path || uri.path().starts_with(&format!("{base_path}/"));
    if !same_origin || !under {
        return Err("the path leaves the provider's base URL".into());
    }
    Ok(uri)
}

/// A bounded label for a path (metrics, logs): word segments and versions kept, ids and model
/// names as `*`, at most four segments (`/v1/files/file-abc/content` -> `/v1/files/*/content`).
pub fn route_label(path: &str) -> String {
    let word = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_lowercase() || b == b'_' || b == b'-');
    let version = |s: &str| {
        s.strip_prefix('v').is_some_and(|r| {
            r.starts_with(|c: char| c.is_ascii_digit()) && r.bytes().all(|b| b.is_ascii_alphanumeric())
        })
    };
    let segs: Vec<&str> =
        path.split('/').skip(1).take(4).map(|s| if word(s) || version(s) { s } else { "*" }).collect();
    format!("/{}", segs.join("/"))
}

/// The dialect whose usage an upstream path's answer carries, when amux knows the path.
pub fn dialect_of_path(path: &str) -> Option<Dialect> {
    let last = path.rsplit('/').next().unwrap_or("");
    if path.ends_with("/messages") || last.ends_with(":rawPredict") || last.ends_with(":streamRawPredict") {
        return Some(Dialect::Anthropic);
    }
    if path.ends_with("/chat/completions") {
        return Some(Dialect::OpenAiChat);
    }
    if path.ends_with("/responses") {
        return Some(Dialect::OpenAiResponses);
    }
    if last.ends_with(":generateContent") || last.ends_with(":streamGenerateContent") {
        return Some(Dialect::Gemini);
    }
    if path.ends_with("/converse") || path.ends_with("/converse-stream") {
        return Some(Dialect::BedrockConverse);
    }
    None
}

/// One pool for every passthrough call (request bodies stream, so it is not the providers'
/// pools, whose bodies are whole).
fn client() -> Result<&'static StreamingClient, ApiError> {
    static CLIENT: OnceLock<Option<StreamingClient>> = OnceLock::new();
    CLIENT
        .get_or_init(|| build_streaming(Duration::from_secs(10)).ok())
        .as_ref()
        .ok_or_else(|| ApiError::new(ErrorKind::Api, "no HTTP client for passthrough"))
}

/// Handles `/{provider}/{path...}` under `/passthrough`.
pub async fn handle(state: Arc<AppState>, provider: String, req: Request) -> Response<Body> {
    let started = Instant::now();
    let Some(p) = state.registry.providers.get(&provider).cloned() else {
        let e = ApiError::new(ErrorKind::NotFound, format!("no provider \"{provider}\" is configured"));
        return super::respond::error(Dialect::OpenAiChat, &e);
    };
    let dialect = p.dialects[0];
    let refuse = |e: &ApiError| super::respond::error(dialect, e);
    let principal = match state.keys.authenticate(req.headers(), req.uri().query()) {
        Ok(p) => p,
        Err(e) => return refuse(&e),
    };
    if let Some(pr) = &principal
        && !pr.permissions.contains(&Permission::Passthrough)
    {
        let e = ApiError::new(ErrorKind::Permission, format!("key \"{}\" has no passthrough permission", pr.name));
        return refuse(&e);
    }
    // The path as the caller sent it, still percent-encoded.
    let full = req.uri().path();
    let path = full.strip_prefix("/passthrough/").and_then(|r| r.strip_prefix(provider.as_str())).unwrap_or("");
    let path = if path.is_empty() { "/" } else { path };
    if let Err(why) = check_path(path, p.passthrough_paths.as_deref()) {
        let kind =
            if why.starts_with("this provider allows") { ErrorKind::Permission } else { ErrorKind::InvalidRequest };
        return refuse(&ApiError::new(kind, format!("passthrough path refused: {why}")));
    }
    let url = match join(&p.base_url, path, req.uri().query()) {
        Ok(u) => u,
        Err(why) => {
            return refuse(&ApiError::new(ErrorKind::InvalidRequest, format!("passthrough path refused: {why}")));
        }
    };
    let (key, team) = (principal.as_ref().map(|p| p.name.clone()), principal.as_ref().and_then(|p| p.team.clone()));
    if let Err(e) = state.obs.budgets.check(key.as_deref(), team.as_deref()).await {
        return refuse(&e);
    }
    let scopes: Vec<Scope> =
        principal.as_ref().and_then(|p| Scope::named("key", &p.name, p.rpm, p.tpm)).into_iter().collect();
    let length = req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse().ok()).unwrap_or(0);
    let charge = match state.limiter.admit(scopes, crate::stack::limits::estimate_tokens(length)).await {
        Ok(c) => c,
        Err(e) => return refuse(&e),
    };
    let observed = dialect_of_path(path);
    let surface = observed.unwrap_or(dialect);
    let mut rec = CallRecord::new(surface, key, team, MODEL.to_string(), false);
    rec.raw = true;
    let mut guard = CallGuard::new(state.sinks.clone(), rec, started);
    reconcile_on_end(&mut guard, &state.limiter, charge);
    let label = route_label(path);
    guard.route(&p.name, &label, true);
    let (parts, body) = req.into_parts();
    // A trace span like a model call's upstream attempt (the model is the route).
    let span = crate::telemetry::trace::upstream_span(&p.name, p.preset.name, &label, url.host());
    let sent = tracing::Instrument::instrument(
        send(&p, (parts.method, url), &parts.headers, body, state.config.limits.max_request_body_bytes),
        span.clone(),
    )
    .await;
    let resp = match sent {
        Ok(r) => r,
        Err(e) => {
            crate::telemetry::trace::upstream_status(&span, None, Some(e.kind.label()));
            guard.set_error(e.status, e.kind.label());
            guard.mark_complete();
            return refuse(&e);
        }
    };
    guard.add_upstream_time(started.elapsed());
    let status = resp.status();
    crate::telemetry::trace::upstream_status(&span, Some(status.as_u16()), None);
    if !status.is_success() {
        guard.set_error(status.as_u16(), ErrorKind::from_status(status.as_u16()).label());
    }
    let (mut parts, body) = resp.into_parts();
    let streamed = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("text/event-stream") || ct.starts_with(crate::eventstream::CONTENT_TYPE));
    strip(&mut parts.headers, &[]);
    parts.headers.remove(header::SET_COOKIE);
    let watch = match observed.filter(|_| status.is_success()) {
        Some(d) if streamed => Watch::Stream(Box::new(StreamObserver::new(d, false))),
        Some(d) => Watch::Whole(d, BytesMut::new()),
        None => Watch::Nothing,
    };
    let looking = observed.is_some();
    let body = Observed {
        inner: body,
        watch,
        guard: Some(guard),
        idle: p.idle_timeout,
        sleep: None,
        provider: p.name.clone(),
        model_seen: if looking { 0 } else { usize::MAX },
    };
    Response::from_parts(parts, Body::new(body))
}

/// Removes hop-by-hop headers (and those the `connection` header names) and `extra`.
fn strip(headers: &mut HeaderMap, extra: &[&str]) {
    let named: Vec<HeaderName> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|n| HeaderName::from_bytes(n.trim().as_bytes()).ok())
        .collect();
    for n in named {
        headers.remove(n);
    }
    for n in HOP_BY_HOP.iter().chain(extra) {
        headers.remove(*n);
    }
}

fn secret(v: &str) -> Result<HeaderValue, ApiError> {
    let mut v =
        HeaderValue::from_str(v).map_err(|_| ApiError::new(ErrorKind::Api, "credential is not a header value"))?;
    v.set_sensitive(true);
    Ok(v)
}

/// Sends the request with the provider's credentials; the response once its headers arrived.
async fn send(
    p: &Provider,
    (method, url): (http::Method, Uri),
    caller: &HeaderMap,
    body: Body,
    max_body: usize,
) -> Result<Response<Incoming>, ApiError> {
    let mut headers = caller.clone();
    strip(&mut headers, CALLER_CREDENTIALS);
    headers.remove(header::HOST);
    let amz: Vec<HeaderName> = headers.keys().filter(|k| k.as_str().starts_with("x-amz-")).cloned().collect();
    let amux: Vec<HeaderName> = headers.keys().filter(|k| k.as_str().starts_with("x-amux-")).cloned().collect();
    for k in amz.into_iter().chain(amux) {
        headers.remove(k);
    }
    let key = p.api_key.as_ref().map(|k| k.expose());
    if let Some(k) = key {
        match p.preset.kind {
            ProviderKind::Anthropic => {
                headers.insert("x-api-key", secret(k)?);
                if !headers.contains_key("anthropic-version") {
                    headers.insert("anthropic-version", HeaderValue::from_static("2023-06-01"));
                }
            }
            ProviderKind::Gemini => {
                headers.insert("x-goog-api-key", secret(k)?);
            }
            ProviderKind::Azure | ProviderKind::Foundry => {
                headers.insert("api-key", secret(k)?);
            }
            _ => {
                headers.insert(header::AUTHORIZATION, secret(&format!("Bearer {k}"))?);
            }
        }
    }
    if let Some(gcp) = &p.gcp {
        let token = Box::pin(gcp.token())
            .await
            .map_err(|e| ApiError::new(ErrorKind::Api, format!("provider {}: {e}", p.name)))?;
        headers.insert(header::AUTHORIZATION, secret(&format!("Bearer {}", token.expose()))?);
    }
    if let Some(azure) = &p.azure {
        let token = Box::pin(azure.token())
            .await
            .map_err(|e| ApiError::new(ErrorKind::Api, format!("provider {}: {e}", p.name)))?;
        headers.insert(header::AUTHORIZATION, secret(&format!("Bearer {}", token.expose()))?);
    }
    for (k, v) in &p.headers {
        headers.insert(k.clone(), v.clone());
    }
    let body = match &p.aws {
        // SigV4 covers the body's hash: read it whole (bounded) and sign the exact request.
        Some(aws) => {
            let bytes = axum::body::to_bytes(body, max_body)
                .await
                .map_err(|e| ApiError::invalid_field("body", format!("could not be read: {e}")))?;
            headers.remove(header::CONTENT_LENGTH);
            if let Some(h) = url.authority().map(|a| a.as_str().to_string())
                && let Ok(v) = HeaderValue::from_str(&h)
            {
                headers.insert(header::HOST, v);
            }
            let creds = Box::pin(aws.credentials())
                .await
                .map_err(|e| ApiError::new(ErrorKind::Api, format!("provider {}: {e}", p.name)))?;
            let now = std::time::SystemTime::now();
            crate::providers::aws::sign_request(
                &creds,
                (aws.region.as_str(), crate::providers::aws::SERVICE),
                now,
                (method.as_str(), &url.to_string()),
                &mut headers,
                &bytes,
            )
            .map_err(|e| ApiError::new(ErrorKind::Api, format!("provider {}: {e}", p.name)))?;
            Body::from(bytes)
        }
        None => body,
    };
    let mut req = http::Request::builder().method(method).uri(url);
    if let Some(h) = req.headers_mut() {
        *h = headers;
    }
    let req = req.body(body).map_err(|e| ApiError::new(ErrorKind::Api, e.to_string()))?;
    let client = client()?;
    match tokio::time::timeout(p.response_timeout, client.request(req)).await {
        Err(_) => Err(ApiError::new(
            ErrorKind::Timeout,
            format!("provider {}: no response within {:?}", p.name, p.response_timeout),
        )),
        Ok(Err(e)) if e.is_connect() => Err(ApiError::new(
            ErrorKind::Unavailable,
            format!("provider {}: could not connect: {}", p.name, error_chain(&e)),
        )),
        Ok(Err(e)) => Err(ApiError::new(ErrorKind::BadGateway, format!("provider {}: {}", p.name, error_chain(&e)))),
        Ok(Ok(r)) => Ok(r),
    }
}

/// What is read from an answer on its way through.
enum Watch {
    Nothing,
    Stream(Box<StreamObserver>),
    /// A whole answer: a copy (bounded) read for usage at the end.
    Whole(Dialect, BytesMut),
}

/// The upstream body, forwarded frame by frame while usage is read aside; the call is recorded
/// when it ends (or when the caller goes away).
struct Observed {
    inner: Incoming,
    watch: Watch,
    guard: Option<CallGuard>,
    idle: Duration,
    sleep: Option<Pin<Box<tokio::time::Sleep>>>,
    provider: String,
    /// Bytes searched so far for the answer's model name (`usize::MAX`: found, or not looked for).
    model_seen: usize,
}

/// Searched for the model name at most this far into an answer.
const MODEL_SEARCH: usize = 64 * 1024;

/// The first `"model":"..."` (or Gemini's `"modelVersion":"..."`) value in a piece of JSON or SSE.
pub fn find_model(chunk: &[u8]) -> Option<String> {
    for key in [&b"\"model\":"[..], &b"\"modelVersion\":"[..]] {
        if let Some(i) = memchr::memmem::find(chunk, key) {
            let rest = &chunk[i + key.len()..];
            let start = rest.iter().position(|b| !b.is_ascii_whitespace())?;
            let rest = rest.get(start..)?.strip_prefix(b"\"")?;
            let end = rest.iter().position(|b| *b == b'"' || *b == b'\\')?;
            let m = std::str::from_utf8(&rest[..end]).ok()?;
            if !m.is_empty() && m.len() <= 200 {
                return Some(m.to_string());
            }
        }
    }
    None
}

impl Observed {
    fn finish(&mut self) {
        let Some(mut guard) = self.guard.take() else { return };
        match &mut self.watch {
            Watch::Stream(o) => {
                o.finish();
                guard.set_usage(&o.usage);
                if let Some(r) = &o.finish_reason {
                    guard.finish_reason(r);
                }
            }
            Watch::Whole(d, bytes) => {
                let (usage, finish) = body_usage(*d, bytes);
                guard.usage(&usage);
                if let Some(r) = finish {
                    guard.finish_reason(&r);
                }
            }
            Watch::Nothing => {}
        }
        guard.mark_complete();
    }
}

impl hyper::body::Body for Observed {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Pending => {
                // A silent upstream ends the answer after the provider's idle timeout.
                let idle = this.idle;
                let sleep = this.sleep.get_or_insert_with(|| Box::pin(tokio::time::sleep(idle)));
                if sleep.as_mut().poll(cx).is_ready() {
                    if let Some(g) = this.guard.as_mut() {
                        g.set_error(504, "timeout");
                    }
                    this.finish();
                    return Poll::Ready(None);
                }
                Poll::Pending
            }
            Poll::Ready(None) => {
                this.finish();
                Poll::Ready(None)
            }
            Poll::Ready(Some(Err(e))) => {
                if let Some(g) = this.guard.as_mut() {
                    g.set_error(502, "upstream_stream_error");
                }
                this.finish();
                Poll::Ready(Some(Err(e)))
            }
            Poll::Ready(Some(Ok(frame))) => {
                this.sleep = None;
                if let (Some(data), Some(g)) = (frame.data_ref(), this.guard.as_mut()) {
                    g.first_byte();
                    // The answer's model names the upstream model, so the call is priced.
                    if this.model_seen < MODEL_SEARCH {
                        this.model_seen += data.len();
                        if let Some(m) = find_model(data) {
                            g.route(&this.provider, &m, true);
                            this.model_seen = usize::MAX;
                        }
                    }
                    match &mut this.watch {
                        Watch::Stream(o) => {
                            o.chunk(data.clone());
                        }
                        Watch::Whole(_, copy) if copy.len() + data.len() <= MAX_OBSERVED => {
                            copy.extend_from_slice(data)
                        }
                        _ => {}
                    }
                }
                // A body of known length is done with its last byte: a server that counts
                // bytes may not poll again.
                if hyper::body::Body::is_end_stream(&this.inner) {
                    this.finish();
                }
                Poll::Ready(Some(Ok(frame)))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.guard.is_none() && hyper::body::Body::is_end_stream(&self.inner)
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        hyper::body::Body::size_hint(&self.inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_are_refused() {
        for bad in [
            "/../x",
            "/v1/../../etc/passwd",
            "/v1/./x",
            "/v1/%2e%2e/x",
            "/v1/%2E%2E/x",
            "/v1/.%2e/x",
            "/v1%2f..%2fx",
            "/v1/%2F/x",
            "/v1/%5c..%5cx",
            "/v1\\..\\x",
            "//evil.example/x",
            "/http://evil.example/",
            "/v1/%252e%252e/x",
            "/v1/%00",
            "/v1/%",
            "/v1/%zz",
            "v1/x",
            "/v1/x#frag",
        ] {
            assert!(check_path(bad, None).is_err(), "{bad}");
        }
        for good in [
            "/",
            "/v1/files",
            "/v1/files/file-abc123/content",
            "/v1/models/gemini-2.5-pro:generateContent",
            "/v1/a%20b",
        ] {
            assert!(check_path(good, None).is_ok(), "{good}");
        }
    }

    #[test]
    fn prefixes_restrict_at_segment_boundaries() {
        let p = vec!["/v1/files".to_string(), "/v1/batches/".to_string()];
        assert!(check_path("/v1/files", Some(&p)).is_ok());
        assert!(check_path("/v1/files/f1", Some(&p)).is_ok());
        assert!(check_path("/v1/batches/b1", Some(&p)).is_ok());
        assert!(check_path("/v1/filesystem", Some(&p)).is_err());
        assert!(check_path("/v1/messages", Some(&p)).is_err());
        assert!(check_path("/v1/files", Some(&[])).is_err(), "an empty list allows nothing");
    }

    #[test]
    fn joined_urls_stay_under_the_base() {
        assert_eq!(
            join("https://api.openai.com/v1", "/files", Some("purpose=batch&key=secret")).unwrap().to_string(),
            "https://api.openai.com/v1/files?purpose=batch"
        );
        assert_eq!(
            join("http://127.0.0.1:9/", "/v1/messages", None).unwrap().to_string(),
            "http://127.0.0.1:9/v1/messages"
        );
        // A path that would change the authority is caught by the second check too.
        assert!(join("https://api.x.com/v1", "@evil.com/x", None).is_err());
        assert!(join("https://api.x.com/v1", ".evil.com/x", None).is_err());
        assert!(join("https://api.x.com/v1", ":8443/x", None).is_err());
    }

    #[test]
    fn models_are_found_in_answers() {
        assert_eq!(find_model(br#"{"id":"m","model": "claude-up","usage":{}}"#).as_deref(), Some("claude-up"));
        assert_eq!(find_model(b"data: {\"modelVersion\":\"gemini-2.5-flash\"}").as_deref(), Some("gemini-2.5-flash"));
        assert_eq!(find_model(br#"{"object":"list"}"#), None);
    }

    #[test]
    fn route_labels_are_bounded() {
        assert_eq!(route_label("/v1/messages"), "/v1/messages");
        assert_eq!(route_label("/v1/files/file-abc123/content"), "/v1/files/*/content");
        assert_eq!(route_label("/v1beta/models/gemini-2.5-flash:countTokens"), "/v1beta/models/*");
        assert_eq!(route_label("/a/b/c/d/e/f"), "/a/b/c/d");
    }

    #[test]
    fn known_paths_are_observed() {
        assert_eq!(dialect_of_path("/v1/messages"), Some(Dialect::Anthropic));
        assert_eq!(dialect_of_path("/chat/completions"), Some(Dialect::OpenAiChat));
        assert_eq!(dialect_of_path("/v1beta/models/g:streamGenerateContent"), Some(Dialect::Gemini));
        assert_eq!(dialect_of_path("/model/x/converse-stream"), Some(Dialect::BedrockConverse));
        assert_eq!(dialect_of_path("/v1/files"), None);
    }
}

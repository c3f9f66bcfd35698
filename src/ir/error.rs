//! Errors as every dialect can express them: a kind (what went wrong), a status and a message.
//!
//! Upstream errors are decoded into an [`ApiError`] by the upstream's dialect and re-encoded in
//! the caller's dialect, so a 429 from OpenAI reaches a Claude Code caller as an Anthropic
//! `rate_limit_error` with the same Retry-After.

use std::fmt;

/// What went wrong, independent of any wire format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// 400: the request is malformed or asks for something the target cannot do.
    InvalidRequest,
    /// 400: the prompt does not fit the model's context window.
    ContextOverflow,
    /// 401.
    Authentication,
    /// 403.
    Permission,
    /// 404: unknown model or route.
    NotFound,
    /// 413.
    RequestTooLarge,
    /// 429.
    RateLimit,
    /// 500 from the upstream or inside amux.
    Api,
    /// 502: the upstream answered with something unusable, or failed with a 5xx.
    BadGateway,
    /// 502: the upstream refused the gateway's own credentials for it (an upstream 401/403): a
    /// gateway configuration fault, never the caller's authentication error.
    ProviderAuth,
    /// 503 / Anthropic 529: the upstream is overloaded or could not be reached.
    Unavailable,
    /// 504: the upstream did not answer in time.
    Timeout,
}

impl ErrorKind {
    /// The HTTP status amux answers with for this kind.
    pub fn status(self) -> u16 {
        match self {
            ErrorKind::InvalidRequest | ErrorKind::ContextOverflow => 400,
            ErrorKind::Authentication => 401,
            ErrorKind::Permission => 403,
            ErrorKind::NotFound => 404,
            ErrorKind::RequestTooLarge => 413,
            ErrorKind::RateLimit => 429,
            ErrorKind::Api => 500,
            ErrorKind::BadGateway | ErrorKind::ProviderAuth => 502,
            ErrorKind::Unavailable => 503,
            ErrorKind::Timeout => 504,
        }
    }

    /// Kind for an HTTP status from an upstream (before looking at its body).
    pub fn from_status(status: u16) -> ErrorKind {
        match status {
            401 => ErrorKind::Authentication,
            403 => ErrorKind::Permission,
            404 => ErrorKind::NotFound,
            413 => ErrorKind::RequestTooLarge,
            429 => ErrorKind::RateLimit,
            400..=499 => ErrorKind::InvalidRequest,
            503 | 529 => ErrorKind::Unavailable,
            504 => ErrorKind::Timeout,
            _ => ErrorKind::BadGateway,
        }
    }

    /// Low-cardinality label for logs and metrics.
    pub fn label(self) -> &'static str {
        match self {
            ErrorKind::InvalidRequest => "invalid_request",
            ErrorKind::ContextOverflow => "context_overflow",
            ErrorKind::Authentication => "authentication",
            ErrorKind::Permission => "permission",
            ErrorKind::NotFound => "not_found",
            ErrorKind::RequestTooLarge => "request_too_large",
            ErrorKind::RateLimit => "rate_limit",
            ErrorKind::Api => "api",
            ErrorKind::BadGateway => "bad_gateway",
            ErrorKind::ProviderAuth => "provider_auth",
            ErrorKind::Unavailable => "unavailable",
            ErrorKind::Timeout => "timeout",
        }
    }
}

/// An error to report to the caller, in whichever dialect the caller speaks.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub kind: ErrorKind,
    /// HTTP status to answer with; normally `kind.status()`.
    pub status: u16,
    pub message: String,
    /// The request field at fault, when known (OpenAI's `param`).
    pub param: Option<String>,
    /// Retry-After from the upstream, passed through verbatim.
    pub retry_after: Option<String>,
    /// The upstream's own error code when it has one (OpenAI's `code`, e.g.
    /// `previous_response_not_found`), passed on to callers of the same family.
    pub code: Option<String>,
}

impl ApiError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        ApiError { kind, status: kind.status(), message: message.into(), param: None, retry_after: None, code: None }
    }

    /// A 400 naming the field at fault.
    pub fn invalid_field(field: impl Into<String>, message: impl fmt::Display) -> Self {
        let field = field.into();
        let mut e = ApiError::new(ErrorKind::InvalidRequest, format!("{field}: {message}"));
        e.param = Some(field);
        e
    }

    /// A 400 for a feature the target dialect cannot express.
    pub fn unsupported(field: impl Into<String>, target: &str) -> Self {
        let field = field.into();
        let msg = format!("{field}: not supported when translating to {target}; amux refuses rather than drop it");
        let mut e = ApiError::new(ErrorKind::InvalidRequest, msg);
        e.param = Some(field);
        e
    }

    /// A context-window overflow; the message always contains `prompt is too long`.
    pub fn context_overflow(detail: &str) -> Self {
        let message = if detail.contains("prompt is too long") {
            detail.to_string()
        } else {
            format!("prompt is too long: {detail}")
        };
        ApiError::new(ErrorKind::ContextOverflow, message)
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}): {}", self.status, self.kind.label(), self.message)
    }
}

impl std::error::Error for ApiError {}

/// Heuristic shared by every dialect: does an upstream error message describe a context overflow?
pub fn looks_like_context_overflow(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    m.contains("prompt is too long")
        || m.contains("context_length_exceeded")
        || m.contains("maximum context length")
        || m.contains("context window")
        || m.contains("context length")
        || m.contains("too many tokens")
        || m.contains("input is too long")
}

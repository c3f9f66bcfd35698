//! Building responses in the caller's dialect: errors (status, body, Retry-After) and headers.

use axum::body::Body;
use http::{HeaderMap, HeaderName, HeaderValue, Response, StatusCode, header};

use crate::ir::{ApiError, Dialect};
use crate::translate;

/// An error response in the caller's wire format.
pub fn error(dialect: Dialect, err: &ApiError) -> Response<Body> {
    let status = StatusCode::from_u16(err.status).unwrap_or(StatusCode::BAD_GATEWAY);
    let mut resp = Response::new(Body::from(translate::encode_error(dialect, err)));
    *resp.status_mut() = status;
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if let Some((name, value)) = translate::error_headers(dialect, err) {
        resp.headers_mut().insert(name, HeaderValue::from_static(value));
    }
    if let Some(ra) = &err.retry_after
        && let Ok(v) = HeaderValue::from_str(ra)
    {
        resp.headers_mut().insert(header::RETRY_AFTER, v);
    }
    resp
}

/// Upstream response headers worth passing to the caller on the same-dialect path.
pub fn copy_upstream_headers(from: &HeaderMap, to: &mut HeaderMap) {
    for (k, v) in from {
        let name = k.as_str();
        if name == "content-type" {
            to.insert(k.clone(), v.clone());
        } else if name == "retry-after"
            || name == "request-id"
            || name == "x-request-id"
            || name.starts_with("anthropic-ratelimit-")
            || name.starts_with("x-ratelimit-")
        {
            to.append(k.clone(), v.clone());
        }
    }
}

/// A JSON response.
pub fn json(status: StatusCode, body: Vec<u8>) -> Response<Body> {
    let mut resp = Response::new(Body::from(body));
    *resp.status_mut() = status;
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    resp
}

/// Time spent in amux for this call, up to the response headers (for streams, the body that
/// follows is not included; see the `amux_gateway_overhead_seconds` histogram for whole calls).
pub const OVERHEAD_HEADER: &str = "x-amux-overhead-ms";

/// Names the caller's fields a translated call left out (`crate::policy`), comma-separated.
pub const DROPPED_HEADER: &str = "x-amux-dropped";

/// Sets [`DROPPED_HEADER`] (nothing when nothing was dropped).
pub fn dropped_header(h: &mut http::HeaderMap, dropped: &[String]) {
    if dropped.is_empty() {
        return;
    }
    if let Ok(v) = http::HeaderValue::try_from(dropped.join(", ")) {
        h.insert(DROPPED_HEADER, v);
    }
}

/// [`OVERHEAD_HEADER`] as a name built once (a `&str` name is copied on every insert).
const OVERHEAD: HeaderName = HeaderName::from_static(OVERHEAD_HEADER);

/// Sets [`OVERHEAD_HEADER`] in milliseconds with microsecond precision.
pub fn overhead_header(h: &mut HeaderMap, overhead: std::time::Duration) {
    // Digits written from the right into a buffer: `format!` cost more than the rest of the
    // header (its machinery and a string allocated to be copied again).
    let mut n = u64::try_from(overhead.as_micros()).unwrap_or(u64::MAX);
    let mut buf = [0u8; 24];
    let mut i = buf.len();
    for k in 0.. {
        if k == 3 {
            i -= 1;
            buf[i] = b'.';
        }
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if k >= 3 && n == 0 {
            break;
        }
    }
    if let Ok(v) = HeaderValue::from_bytes(&buf[i..]) {
        h.insert(OVERHEAD, v);
    }
}

/// Headers of a streamed response in `dialect` (SSE, or AWS event-stream for Bedrock).
pub fn stream_headers(h: &mut HeaderMap, dialect: Dialect) {
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(translate::stream_content_type(dialect)));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overhead_is_written_in_milliseconds_with_three_decimals() {
        for (us, text) in [
            (0, "0.000"),
            (5, "0.005"),
            (999, "0.999"),
            (1_000, "1.000"),
            (12_345, "12.345"),
            (u64::MAX, "18446744073709551.615"),
        ] {
            let mut h = HeaderMap::new();
            overhead_header(&mut h, std::time::Duration::from_micros(us));
            assert_eq!(h[OVERHEAD_HEADER], text, "{us} µs");
            let us = u128::from(us);
            assert_eq!(text, format!("{}.{:03}", us / 1000, us % 1000));
        }
    }
}

//! The body-carrying model surfaces: `POST /v1/messages` (Anthropic, also `?beta=true`),
//! `POST /v1/chat/completions` (OpenAI Chat), `POST /v1/responses` (OpenAI Responses), and the
//! counting endpoints `POST /v1/messages/count_tokens` and `POST /v1/responses/input_tokens`.
//! Each reads the body and hands it to the gateway with its dialect.

use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::extract::{Request, State};
use bytes::Bytes;
use http::Response;
use http::header::CONTENT_LENGTH;
use http::request::Parts;

use crate::config::LimitsConfig;
use crate::gateway::reject::{Refusal, reject};
use crate::gateway::{AppState, call, count, error_response};
use crate::ir::{ApiError, Dialect, ErrorKind};
use crate::usage::CLIENT_CLOSED;

/// Reads a request body within `limits.max_request_body_bytes` and
/// `limits.request_body_timeout_secs`; a failure is the error to answer in the caller's dialect.
/// A declared `Content-Length` over the limit is refused before any of the body is read.
pub async fn read_body(state: &AppState, req: Request) -> Result<(Parts, Bytes), ApiError> {
    let limits = &state.config.limits;
    let max = limits.max_request_body_bytes;
    let (parts, body) = req.into_parts();
    let declared = parts.headers.get(CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > max as u64) {
        state.obs.metrics.limit_hit("request_body_size");
        return Err(too_large(max));
    }
    let timeout = LimitsConfig::secs(limits.request_body_timeout_secs);
    match tokio::time::timeout(timeout, collect(body, max, declared)).await {
        Ok(Ok(b)) => Ok((parts, b)),
        Ok(Err(Unread::TooLarge)) => {
            state.obs.metrics.limit_hit("request_body_size");
            Err(too_large(max))
        }
        Ok(Err(Unread::Failed(e))) => {
            if client_left(&e) {
                let mut e = ApiError::new(
                    ErrorKind::InvalidRequest,
                    "the client closed the connection before its request body was complete",
                );
                e.status = CLIENT_CLOSED;
                return Err(e);
            }
            Err(ApiError::invalid_field("body", format!("could not be read: {e}")))
        }
        Err(_) => {
            state.obs.metrics.limit_hit("request_body_timeout");
            let mut e = ApiError::new(
                ErrorKind::InvalidRequest,
                format!("request body not received within {} s", limits.request_body_timeout_secs),
            );
            e.status = 408;
            Err(e)
        }
    }
}

/// Why a body was not read whole.
enum Unread {
    TooLarge,
    Failed(axum::Error),
}

/// The body whole, at most `max` bytes. A body that came in one chunk is kept as it came (no
/// copy); one in several is copied into one buffer, sized by the declared length, as each chunk
/// arrives. Holding every chunk until the end (as collecting them does) keeps hyper from reusing
/// its read buffer, and it allocates a new one for every read of a large body.
async fn collect(mut body: Body, max: usize, declared: Option<u64>) -> Result<Bytes, Unread> {
    use http_body_util::BodyExt;
    let mut first: Option<Bytes> = None;
    let mut buf = bytes::BytesMut::new();
    while let Some(frame) = body.frame().await {
        let Ok(data) = frame.map_err(Unread::Failed)?.into_data() else { continue };
        let have = first.as_ref().map_or(buf.len(), Bytes::len);
        if have + data.len() > max {
            return Err(Unread::TooLarge);
        }
        if first.is_none() && buf.is_empty() {
            first = Some(data);
            continue;
        }
        // A second chunk: from here on, each is copied into one buffer.
        if let Some(f) = first.take() {
            buf.reserve(declared.map_or(0, |n| n as usize).clamp(have + data.len(), max));
            buf.extend_from_slice(&f);
        }
        buf.extend_from_slice(&data);
    }
    Ok(first.unwrap_or_else(|| buf.freeze()))
}

/// Whether a body read failed because the client went away (its connection closed or reset, or
/// its HTTP/2 stream reset) rather than because it sent something malformed.
fn client_left(e: &axum::Error) -> bool {
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        if let Some(h) = s.downcast_ref::<hyper::Error>()
            && (h.is_incomplete_message() || h.is_canceled() || h.is_closed())
        {
            return true;
        }
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            use std::io::ErrorKind::*;
            return matches!(io.kind(), UnexpectedEof | ConnectionReset | ConnectionAborted | BrokenPipe);
        }
        if let Some(h2) = s.downcast_ref::<h2::Error>() {
            return h2.is_reset() || h2.is_go_away() || h2.is_io();
        }
        source = s.source();
    }
    false
}

fn too_large(max: usize) -> ApiError {
    ApiError::new(ErrorKind::RequestTooLarge, format!("request body exceeds {max} bytes"))
}

/// What a surface asks of the gateway.
#[derive(Clone, Copy)]
pub enum Op {
    Generate,
    CountTokens,
}

/// Runs one model call or token count.
pub async fn dispatch(
    state: Arc<AppState>,
    dialect: Dialect,
    op: Op,
    req: Request,
    path_model: Option<String>,
    path_stream: Option<bool>,
) -> Response<Body> {
    let started = Instant::now();
    // Model calls are counted in flight and traced from here; token counts are not model calls.
    let generate = matches!(op, Op::Generate);
    let refuse = |err: &ApiError, headers: Option<&http::HeaderMap>| {
        if !generate {
            return error_response(dialect, err);
        }
        let r = Refusal { dialect, principal: None, model: None, started, span: None, headers };
        reject(&state, r, err, None)
    };
    // Shed before reading the body: an overloaded gateway spends nothing more on the call.
    let retry = state.config.limits.shed_retry_after_secs;
    let in_flight = match state.admission.admit(&state.obs.metrics, dialect, generate, retry) {
        Ok(a) => a,
        Err(e) => return refuse(&e, None),
    };
    let (parts, bytes) = match read_body(&state, req).await {
        Ok(x) => x,
        Err(e) => return refuse(&e, None),
    };
    let principal = match state.keys.authenticate(&parts.headers, parts.uri.query()) {
        Ok(p) => p,
        Err(e) => return refuse(&e, Some(&parts.headers)),
    };
    let inbound = call::Inbound {
        dialect,
        headers: &parts.headers,
        query: parts.uri.query(),
        body: &bytes,
        started,
        path_model,
        path_stream,
        principal,
        in_flight: Some(in_flight),
    };
    // Both answer (and record) a call still waiting at a graceful shutdown's drain deadline.
    match op {
        Op::Generate => call::handle(state, inbound).await,
        Op::CountTokens => count::handle(state, inbound).await,
    }
}

pub async fn anthropic(State(state): State<Arc<AppState>>, req: Request) -> Response<Body> {
    dispatch(state, Dialect::Anthropic, Op::Generate, req, None, None).await
}

pub async fn anthropic_count(State(state): State<Arc<AppState>>, req: Request) -> Response<Body> {
    dispatch(state, Dialect::Anthropic, Op::CountTokens, req, None, None).await
}

pub async fn openai_chat(State(state): State<Arc<AppState>>, req: Request) -> Response<Body> {
    dispatch(state, Dialect::OpenAiChat, Op::Generate, req, None, None).await
}

pub async fn responses(State(state): State<Arc<AppState>>, req: Request) -> Response<Body> {
    dispatch(state, Dialect::OpenAiResponses, Op::Generate, req, None, None).await
}

pub async fn responses_count(State(state): State<Arc<AppState>>, req: Request) -> Response<Body> {
    dispatch(state, Dialect::OpenAiResponses, Op::CountTokens, req, None, None).await
}

#[cfg(test)]
mod tests {
    use super::{Unread, client_left, collect};
    use axum::body::Body;
    use bytes::Bytes;
    use std::io::{Error, ErrorKind};

    fn chunked(parts: &[&'static [u8]]) -> Body {
        let chunks: Vec<Result<Bytes, Error>> = parts.iter().map(|p| Ok(Bytes::from_static(p))).collect();
        Body::from_stream(futures_util::stream::iter(chunks))
    }

    /// One chunk is kept as it came; several are joined in order, whatever the declared length
    /// says; past the limit is refused, the limit itself is not.
    #[tokio::test]
    async fn a_body_is_read_whole_within_its_limit() {
        let one = Bytes::from_static(b"{\"a\":1}");
        let got = collect(Body::from(one.clone()), 100, Some(7)).await.ok().unwrap();
        assert_eq!(got.as_ptr(), one.as_ptr());
        for declared in [None, Some(3), Some(11), Some(1000)] {
            let got = collect(chunked(&[b"{\"a\"", b"", b":", b"[1,2]}"]), 100, declared).await.ok().unwrap();
            assert_eq!(got, Bytes::from_static(b"{\"a\":[1,2]}"));
        }
        assert!(collect(chunked(&[b"12345", b"6"]), 6, None).await.is_ok());
        assert!(matches!(collect(chunked(&[b"12345", b"67"]), 6, None).await, Err(Unread::TooLarge)));
        assert!(matches!(collect(chunked(&[b"1234567"]), 6, Some(7)).await, Err(Unread::TooLarge)));
    }

    #[test]
    fn a_body_cut_by_the_connection_is_the_client_leaving_and_bad_framing_is_not() {
        for kind in [ErrorKind::UnexpectedEof, ErrorKind::ConnectionReset, ErrorKind::BrokenPipe] {
            assert!(client_left(&axum::Error::new(Error::new(kind, "cut"))), "{kind:?}");
        }
        // Malformed chunked framing: the caller's bad request.
        assert!(!client_left(&axum::Error::new(Error::new(ErrorKind::InvalidData, "bad chunk size"))));
        assert!(!client_left(&axum::Error::new("something else")));
        // A local HTTP/2 protocol error (not a reset from the client) is not a departure. (A
        // client's reset cannot be made outside h2.)
        assert!(!client_left(&axum::Error::new(h2::Error::from(h2::Reason::PROTOCOL_ERROR))));
    }
}

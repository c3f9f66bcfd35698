//! The cross-dialect path: caller body -> IR -> upstream dialect, and the answer (whole or event
//! by event) back into the caller's dialect.

use axum::body::Body;
use bytes::Bytes;
use http::{Response, StatusCode};

use super::attempt::{Answer, Committed};
use super::respond;
use super::stream::{self, Stage};
use crate::ir::{self, ApiError, Dialect, ErrorKind, StreamEvent};
use crate::providers::Deployment;
use crate::translate::{self, StreamTranslator};
use crate::usage::CallGuard;

struct TranslateStage(StreamTranslator);

fn observe(guard: &mut CallGuard) -> impl FnMut(&StreamEvent) + '_ {
    move |ev| match ev {
        StreamEvent::MessageStart { usage, .. } | StreamEvent::MessageDelta { usage, .. } => guard.usage(usage),
        StreamEvent::Error(e) => guard.set_error(e.status, e.kind.label()),
        _ => {}
    }
}

impl Stage for TranslateStage {
    fn chunk(&mut self, chunk: Bytes, guard: &mut CallGuard) -> Bytes {
        self.0.feed(&chunk, &mut observe(guard))
    }

    fn finish(&mut self, guard: &mut CallGuard) -> Bytes {
        self.0.finish(&mut observe(guard))
    }

    fn fail(&mut self, err: ApiError, guard: &mut CallGuard) -> Bytes {
        self.0.fail(err, &mut observe(guard))
    }
}

/// The upstream body for deployment `d` in dialect `target`.
pub fn prepare(req: &ir::Request, d: &Deployment, target: Dialect) -> Result<Vec<u8>, ApiError> {
    let body = translate::encode_request(target, req, &d.model)?;
    translate::merge_params(body, &d.params)
}

/// The caller's response for a committed translated answer.
pub fn respond(caller: Dialect, req: &ir::Request, c: Committed, mut guard: CallGuard) -> Response<Body> {
    let provider = c.deployment.provider.clone();
    match c.answer {
        Answer::Stream { first, body } => {
            let stage = TranslateStage(StreamTranslator::new(c.target, caller, req));
            let mut r = Response::new(stream::body(Some(first), body, stage, guard, provider, Box::new(c.hold)));
            respond::sse_headers(r.headers_mut());
            r
        }
        Answer::Full(bytes) => match translate::decode_response(c.target, &bytes) {
            Ok(r) => {
                guard.usage(&r.usage);
                guard.mark_complete();
                respond::json(StatusCode::OK, translate::encode_response_for(caller, &r, req))
            }
            Err(e) => {
                let msg = format!("provider {}: unreadable response: {}", provider.name, e.message);
                let err = ApiError::new(ErrorKind::BadGateway, msg);
                guard.set_error(err.status, err.kind.label());
                guard.mark_complete();
                respond::error(caller, &err)
            }
        },
    }
}

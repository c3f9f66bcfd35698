//! The cross-dialect path: caller body -> IR -> upstream dialect, and the answer (whole or event
//! by event) back into the caller's dialect.

use axum::body::Body;
use bytes::Bytes;
use http::{Response, StatusCode};

use super::attempt::{Answer, Committed};
use super::respond;
use super::stream::{self, Stage};
use crate::ir::{self, ApiError, Dialect, ErrorKind, StreamEvent};
use crate::policy;
use crate::providers::Deployment;
use crate::stack::cache::{Recorder, Store};
use crate::translate::{self, StreamTranslator};
use crate::usage::CallGuard;

struct TranslateStage {
    translator: StreamTranslator,
    /// Collects the answer when it is to be cached.
    recorder: Option<Recorder>,
}

fn observe<'a>(guard: &'a mut CallGuard, recorder: &'a mut Option<Recorder>) -> impl FnMut(&StreamEvent) + 'a {
    move |ev| {
        if let Some(r) = recorder.as_mut() {
            r.acc.push(ev);
        }
        match ev {
            StreamEvent::MessageStart { usage, .. } => guard.usage(usage),
            // The decoders put the call's complete usage on the message delta.
            StreamEvent::MessageDelta { usage, stop_reason, .. } => {
                guard.set_usage(usage);
                if let Some(r) = stop_reason {
                    guard.finish_reason(stop_label(*r));
                }
            }
            StreamEvent::Error(e) => guard.set_error(e.status, e.kind.label()),
            _ => {}
        }
    }
}

impl Stage for TranslateStage {
    fn chunk(&mut self, chunk: Bytes, guard: &mut CallGuard) -> Bytes {
        self.translator.feed(&chunk, &mut observe(guard, &mut self.recorder))
    }

    fn finish(&mut self, guard: &mut CallGuard) -> Bytes {
        let out = self.translator.finish(&mut observe(guard, &mut self.recorder));
        if let Some(r) = self.recorder.take() {
            r.finish();
        }
        out
    }

    fn fail(&mut self, err: ApiError, guard: &mut CallGuard) -> Bytes {
        self.recorder = None;
        self.translator.fail(err, &mut observe(guard, &mut self.recorder))
    }

    fn overflowed(&self) -> bool {
        self.translator.overflowed()
    }
}

/// The IR stop reason as a finish-reason string (Anthropic's spelling).
fn stop_label(r: ir::StopReason) -> &'static str {
    match r {
        ir::StopReason::EndTurn => "end_turn",
        ir::StopReason::MaxTokens => "max_tokens",
        ir::StopReason::StopSequence => "stop_sequence",
        ir::StopReason::ToolUse => "tool_use",
        ir::StopReason::Refusal => "refusal",
        ir::StopReason::PauseTurn => "pause_turn",
        ir::StopReason::ContentFilter => "content_filter",
        ir::StopReason::ContextWindowExceeded => "model_context_window_exceeded",
    }
}

/// The upstream body for deployment `d` in dialect `target`, and the fields of the caller's
/// request left out of it (`crate::policy`: refused instead when `strict`).
pub fn prepare(
    req: &ir::Request,
    caller: Dialect,
    d: &Deployment,
    target: Dialect,
    strict: bool,
) -> Result<(Vec<u8>, Vec<String>), ApiError> {
    let fitted = policy::fit(req, caller, target, d.caps(), strict)?;
    let body = translate::encode_request(target, &fitted.req, &d.model)?;
    Ok((translate::merge_params(body, &d.params)?, fitted.dropped))
}

/// The caller's response for a committed translated answer.
pub fn respond(
    caller: Dialect,
    req: &ir::Request,
    c: Committed,
    mut guard: CallGuard,
    store: Option<Store>,
) -> Response<Body> {
    let provider = c.deployment.provider.clone();
    match c.answer {
        Answer::Stream { first, body } => {
            let stage = TranslateStage {
                translator: StreamTranslator::new(c.target, caller, req)
                    .max_event(c.limits.max_event)
                    .redacting(provider.redact.clone()),
                recorder: store.map(Recorder::new),
            };
            // The deployment's in-flight count lasts as long as the stream.
            guard.hold(Box::new(c.hold));
            let mut r = Response::new(stream::body(Some(first), body, stage, guard, provider, c.drain, c.limits));
            respond::stream_headers(r.headers_mut(), caller);
            r
        }
        Answer::Full(bytes) => match translate::decode_response(c.target, &bytes) {
            Ok(r) => {
                if let Some(s) = store {
                    s.cache.put(s.key, &r);
                }
                guard.usage(&r.usage);
                if let Some(reason) = r.stop_reason {
                    guard.finish_reason(stop_label(reason));
                }
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

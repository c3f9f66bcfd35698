//! The same-dialect path: the caller's body forwarded as bytes with only the model replaced (and,
//! for OpenAI Chat streams, usage switched on), the answer forwarded as it arrives while an
//! observer reads usage.

use axum::body::Body;
use bytes::Bytes;
use http::{Response, StatusCode};

use super::attempt::{Answer, Committed};
use super::observe::{StreamObserver, body_usage};
use super::respond;
use super::scrub::EventScrubber;
use super::splice::TopLevel;
use super::stream::{self, Stage};
use super::unframe::{Decoded, Unframed};
use crate::config::ProviderKind;
use crate::ir::{self, ApiError, Dialect};
use crate::providers::client::UpBody;
use crate::providers::{Deployment, bedrock_invoke};
use crate::stack::cache::{Recorder, Store};
use crate::translate::{self, EventDecoder};
use crate::usage::CallGuard;

struct ObserveStage {
    dialect: Dialect,
    observer: StreamObserver,
    /// Decodes the stream on the side when its answer is to be cached.
    recorder: Option<(EventDecoder, Recorder)>,
    /// SSE streams: whole events out, and scrubbed once an error event went by.
    scrub: Option<EventScrubber>,
}

impl ObserveStage {
    /// Hands the usage and finish reason seen so far to the call's record.
    fn report(&self, guard: &mut CallGuard) {
        guard.set_usage(&self.observer.usage);
        if let Some(r) = &self.observer.finish_reason {
            guard.finish_reason(r);
        }
    }

    fn record(&mut self, chunk: Option<&[u8]>) {
        let Some((decoder, rec)) = &mut self.recorder else { return };
        let mut events = Vec::new();
        match chunk {
            Some(c) => decoder.feed(c, &mut events),
            None => decoder.finish(&mut events),
        }
        for ev in &events {
            rec.acc.push(ev);
        }
        if chunk.is_none()
            && let Some((_, rec)) = self.recorder.take()
        {
            rec.finish();
        }
    }
}

impl Stage for ObserveStage {
    fn chunk(&mut self, chunk: Bytes, guard: &mut CallGuard) -> Bytes {
        self.record(Some(&chunk));
        let out = self.observer.chunk(chunk);
        self.report(guard);
        match &mut self.scrub {
            Some(s) => s.pass(out, self.observer.saw_error),
            None => out,
        }
    }

    fn finish(&mut self, guard: &mut CallGuard) -> Bytes {
        self.record(None);
        let last = self.observer.finish();
        // A final event without its blank line is complete now: it goes out (scrubbed if an
        // error event went by), then whatever the observer still held.
        let mut out = match &mut self.scrub {
            Some(s) => s.finish(self.observer.saw_error).to_vec(),
            None => Vec::new(),
        };
        out.extend_from_slice(&last);
        self.report(guard);
        if self.observer.saw_error {
            guard.set_error(502, "upstream_stream_error");
        } else if !self.observer.complete {
            let err = ApiError::new(ir::ErrorKind::BadGateway, "upstream stream ended before its final event");
            guard.set_error(err.status, err.kind.label());
            out.extend_from_slice(&translate::encode_stream_error(self.dialect, err));
        }
        Bytes::from(out)
    }

    fn fail(&mut self, err: ApiError, guard: &mut CallGuard) -> Bytes {
        // An incomplete event held back is dropped: the caller gets whole events, then the error.
        if let Some(s) = &mut self.scrub {
            s.finish(false);
        }
        let mut out = self.observer.finish().to_vec();
        guard.set_usage(&self.observer.usage);
        if self.observer.overflowed() && self.observer.forwards_chunks() {
            // The caller got the start of the oversized line: end it, so that the error
            // event is read as an event of its own.
            out.extend_from_slice(b"\n\n");
        }
        out.extend_from_slice(&translate::encode_stream_error(self.dialect, err));
        Bytes::from(out)
    }

    fn overflowed(&self) -> bool {
        self.observer.overflowed()
    }
}

impl Decoded for ObserveStage {
    fn event(&mut self, name: &str, data: &str) {
        self.observer.event(name, data);
    }

    fn decoded(&mut self, sse: Bytes, guard: &mut CallGuard) -> Bytes {
        self.record(Some(&sse));
        self.report(guard);
        sse
    }
}

/// The upstream body for deployment `d`; also whether the usage chunk must be stripped, and
/// what was left out (as `x-amux-dropped` names it).
pub fn prepare(
    top: &TopLevel<'_>,
    whole: &Bytes,
    d: &Deployment,
    dialect: Dialect,
    stream: bool,
    headers: &http::HeaderMap,
) -> Result<(UpBody, bool, Vec<String>), ApiError> {
    if d.provider.preset.kind == ProviderKind::Bedrock && dialect == Dialect::Anthropic {
        // Claude on Bedrock: the InvokeModel body (betas from the header into the body); the
        // betas Bedrock does not take are advisory, left out and reported.
        let (body, betas) = bedrock_invoke::invoke_body(top, headers, &d.params)?;
        let dropped = betas.iter().map(|b| format!("anthropic_beta[{b}]")).collect();
        return Ok((body.into(), false, dropped));
    }
    // Gemini carries the model in the URL; the others in the body.
    let model: &[(&str, &str)] = if top.raw("model").is_some() { &[("model", &d.model_json)] } else { &[] };
    // OpenAI Chat streams carry usage only when asked: amux asks, and strips what it asked for.
    let want_usage = dialect == Dialect::OpenAiChat && stream;
    if d.params.is_empty() && !want_usage {
        // Most calls: the model is all that changes.
        return Ok((top.splice(whole, model, &[]), false, Vec::new()));
    }
    let mut replace: Vec<(&str, String)> = model.iter().map(|(k, v)| (*k, v.to_string())).collect();
    let mut append: Vec<(&str, String)> = Vec::new();
    let mut strip_usage = false;
    if want_usage {
        match top.raw("stream_options").map(serde_json::from_str::<serde_json::Value>) {
            None | Some(Ok(serde_json::Value::Null)) => {
                append.push(("stream_options", r#"{"include_usage":true}"#.into()));
                strip_usage = true;
            }
            Some(Ok(serde_json::Value::Object(mut o))) => {
                if o.get("include_usage") != Some(&serde_json::Value::Bool(true)) {
                    o.insert("include_usage".into(), true.into());
                    replace.push(("stream_options", serde_json::Value::Object(o).to_string()));
                    strip_usage = true;
                }
            }
            _ => return Err(ApiError::invalid_field("stream_options", "must be an object")),
        }
    }
    for (k, v) in &d.params {
        let slot = if top.raw(k).is_some() { &mut replace } else { &mut append };
        slot.push((k.as_str(), v.to_string()));
    }
    let replace_refs: Vec<(&str, &str)> = replace.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let append_refs: Vec<(&str, &str)> = append.iter().map(|(k, v)| (*k, v.as_str())).collect();
    Ok((top.splice(whole, &replace_refs, &append_refs), strip_usage, Vec::new()))
}

/// The caller's response for a committed same-dialect answer.
pub fn respond(
    dialect: Dialect,
    c: Committed,
    strip_usage: bool,
    mut guard: CallGuard,
    store: Option<Store>,
) -> Response<Body> {
    let provider = c.deployment.provider.clone();
    // Bedrock's InvokeModel streams are event-stream frames: turned into the Messages SSE first.
    // (A Converse caller's frames go through as they are.)
    let unframe = provider.preset.kind == ProviderKind::Bedrock && dialect == Dialect::Anthropic;
    let mut out = match c.answer {
        Answer::Stream { first, body } => {
            let max = c.limits.max_event;
            let recorder = store.map(|s| (EventDecoder::new(dialect).max_event(max), Recorder::new(s)));
            let observer = StreamObserver::new(dialect, strip_usage).max_event(max);
            // The SSE the stage forwards as it came (an unframed InvokeModel stream is written
            // by amux, event by event, through `Decoded`).
            let scrub = (!unframe && !dialect.event_stream()).then(|| EventScrubber::new(provider.redact.clone()));
            let stage = ObserveStage { dialect, observer, recorder, scrub };
            // The deployment's in-flight count lasts as long as the stream.
            guard.hold(Box::new(c.hold));
            let body = if unframe {
                stream::body(Some(first), body, Unframed::new(stage, max), guard, provider, c.drain, c.limits)
            } else {
                stream::body(Some(first), body, stage, guard, provider, c.drain, c.limits)
            };
            let mut r = Response::new(body);
            respond::stream_headers(r.headers_mut(), dialect);
            r
        }
        Answer::Full(bytes) => {
            if let Some(s) = store
                && let Ok(r) = translate::decode_response(dialect, &bytes)
            {
                s.cache.put(s.key, &r);
            }
            let (usage, finish) = body_usage(dialect, &bytes);
            guard.usage(&usage);
            if let Some(r) = finish {
                guard.finish_reason(&r);
            }
            guard.mark_complete();
            Response::new(Body::from(bytes))
        }
    };
    *out.status_mut() = StatusCode::OK;
    let content_type = out.headers().get(http::header::CONTENT_TYPE).cloned();
    respond::copy_upstream_headers(&c.headers, out.headers_mut());
    if unframe && let Some(ct) = content_type {
        out.headers_mut().insert(http::header::CONTENT_TYPE, ct);
    }
    out
}

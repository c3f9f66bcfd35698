//! A stream stage for Claude on Bedrock (InvokeModelWithResponseStream): the upstream's
//! event-stream frames are turned into the Messages SSE an Anthropic caller reads
//! ([`crate::providers::bedrock_invoke::InvokeStream`]), and each event is handed to the
//! same-dialect stage as it is written, so that the stage reads usage from it without parsing the
//! SSE again.

use bytes::{Bytes, BytesMut};

use super::stream::Stage;
use crate::ir::ApiError;
use crate::providers::bedrock_invoke::InvokeStream;
use crate::usage::CallGuard;

/// The stage under [`Unframed`]: it takes Messages SSE whose events it was already shown.
pub trait Decoded: Stage {
    /// One event of the SSE about to be passed on: its name and JSON data.
    fn event(&mut self, name: &str, data: &str);
    /// SSE whose every event went through [`Decoded::event`]; returns the bytes for the client.
    fn decoded(&mut self, sse: Bytes, guard: &mut CallGuard) -> Bytes;
}

/// Wraps a stage that reads Messages SSE.
pub struct Unframed<S> {
    inner: S,
    frames: InvokeStream,
}

impl<S: Decoded> Unframed<S> {
    /// `max_event`: `limits.max_stream_event_bytes`, the bound on one decoded event.
    pub fn new(inner: S, max_event: usize) -> Self {
        Unframed { inner, frames: InvokeStream::new(max_event) }
    }
}

impl<S: Decoded> Stage for Unframed<S> {
    fn chunk(&mut self, chunk: Bytes, guard: &mut CallGuard) -> Bytes {
        let inner = &mut self.inner;
        let sse = self.frames.feed(&chunk, |name, data| inner.event(name, data));
        if sse.is_empty() { sse } else { inner.decoded(sse, guard) }
    }

    fn finish(&mut self, guard: &mut CallGuard) -> Bytes {
        let inner = &mut self.inner;
        let tail = self.frames.finish(|name, data| inner.event(name, data));
        let tail = if tail.is_empty() { tail } else { inner.decoded(tail, guard) };
        let end = inner.finish(guard);
        if tail.is_empty() {
            return end;
        }
        let mut out = BytesMut::with_capacity(tail.len() + end.len());
        out.extend_from_slice(&tail);
        out.extend_from_slice(&end);
        out.freeze()
    }

    fn fail(&mut self, err: ApiError, guard: &mut CallGuard) -> Bytes {
        self.inner.fail(err, guard)
    }

    fn overflowed(&self) -> bool {
        self.frames.overflowed() || self.inner.overflowed()
    }
}

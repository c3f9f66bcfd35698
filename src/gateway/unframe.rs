//! A stream stage for Claude on Bedrock (InvokeModelWithResponseStream): the upstream's
//! event-stream frames are turned into the Messages SSE an Anthropic caller reads
//! ([`crate::providers::bedrock_invoke::InvokeStream`]) before the same-dialect stage observes
//! and forwards them.

use bytes::Bytes;

use super::stream::Stage;
use crate::ir::ApiError;
use crate::providers::bedrock_invoke::InvokeStream;
use crate::usage::CallGuard;

/// Wraps a stage that reads Messages SSE.
pub struct Unframed<S> {
    inner: S,
    frames: InvokeStream,
}

impl<S: Stage> Unframed<S> {
    pub fn new(inner: S) -> Self {
        Unframed { inner, frames: InvokeStream::default() }
    }
}

impl<S: Stage> Stage for Unframed<S> {
    fn chunk(&mut self, chunk: Bytes, guard: &mut CallGuard) -> Bytes {
        let sse = self.frames.feed(&chunk);
        if sse.is_empty() { sse } else { self.inner.chunk(sse, guard) }
    }

    fn finish(&mut self, guard: &mut CallGuard) -> Bytes {
        let tail = self.frames.finish();
        let mut out = if tail.is_empty() { Vec::new() } else { self.inner.chunk(tail, guard).to_vec() };
        out.extend_from_slice(&self.inner.finish(guard));
        Bytes::from(out)
    }

    fn fail(&mut self, err: ApiError, guard: &mut CallGuard) -> Bytes {
        self.inner.fail(err, guard)
    }

    fn overflowed(&self) -> bool {
        self.inner.overflowed()
    }
}

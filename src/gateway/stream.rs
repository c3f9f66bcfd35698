//! The streaming response body shared by both paths: pulls upstream frames under the provider's
//! idle timeout, passes each through a [`Stage`] (observer or translator), flushes what it
//! returns to the client at once, and ends the [`CallGuard`]. When the client disconnects the
//! body is dropped, which drops the upstream response (cancelling the upstream request) and
//! emits the usage seen so far. At a graceful shutdown's drain deadline the stream ends through
//! [`Stage::fail`], so the client gets an error event in its own dialect instead of a cut
//! connection. Two limits end a stream the same way: `limits.max_stream_duration_secs` (counted
//! from the first byte) and an upstream line or event past `limits.max_stream_event_bytes`
//! ([`Stage::overflowed`]); the provider's `timeouts.idle_secs` bounds the gap between chunks.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use bytes::Bytes;
use http_body_util::BodyExt;

use super::lifecycle::{Drain, SHUTDOWN_KIND};
use super::upstream::UpstreamError;
use crate::ir::{ApiError, ErrorKind};
use crate::providers::Provider;
use crate::providers::pool::UpIncoming;
use crate::telemetry::metrics::Metrics;
use crate::usage::CallGuard;

/// The limits a streamed answer runs under (from the config snapshot of its call).
#[derive(Clone)]
pub struct StreamLimits {
    /// `limits.max_stream_duration_secs`.
    pub max_duration: Duration,
    /// `limits.max_stream_event_bytes`, for the stage's parsers.
    pub max_event: usize,
    pub metrics: Arc<Metrics>,
}

/// What happens to upstream bytes on their way to the client.
pub trait Stage: Send + 'static {
    /// A chunk of upstream body; returns the bytes for the client (may be empty).
    fn chunk(&mut self, chunk: Bytes, guard: &mut CallGuard) -> Bytes;
    /// The upstream body ended.
    fn finish(&mut self, guard: &mut CallGuard) -> Bytes;
    /// The upstream failed mid-body; returns a final error event for the client.
    fn fail(&mut self, err: ApiError, guard: &mut CallGuard) -> Bytes;
    /// An upstream line or event passed `limits.max_stream_event_bytes`: the stage reads no
    /// more, and the stream ends through [`Stage::fail`].
    fn overflowed(&self) -> bool {
        false
    }
}

struct State<S> {
    /// The first chunk, already read while choosing a deployment.
    first: Option<Bytes>,
    body: UpIncoming,
    stage: S,
    guard: CallGuard,
    provider: Arc<Provider>,
    idle: Duration,
    done: bool,
    drain: Drain,
    /// Resolves at the drain deadline (created once, polled across chunks).
    deadline: std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>,
    /// When `limits.max_stream_duration_secs` ends the stream.
    end: tokio::time::Instant,
    limits: StreamLimits,
}

/// A response body streaming `upstream` through `stage`.
pub fn body<S: Stage>(
    first: Option<Bytes>,
    upstream: UpIncoming,
    stage: S,
    guard: CallGuard,
    provider: Arc<Provider>,
    drain: Drain,
    limits: StreamLimits,
) -> Body {
    let idle = provider.idle_timeout;
    let deadline = Box::pin(drain.deadline());
    let end = tokio::time::Instant::now() + limits.max_duration;
    let state =
        State { first, body: upstream, stage, guard, provider, idle, done: false, drain, deadline, end, limits };
    let stream = futures_util::stream::unfold(state, |mut st| async move {
        if let Some(first) = st.first.take() {
            let mut out = st.stage.chunk(first, &mut st.guard);
            if st.stage.overflowed() {
                out = too_large(&mut st, out);
            }
            if !out.is_empty() {
                st.guard.first_byte();
                return Some((Ok::<Bytes, std::convert::Infallible>(out), st));
            }
        }
        loop {
            if st.done {
                return None;
            }
            let t0 = Instant::now();
            // One timer for both the idle gap and the stream's duration.
            let wake = (tokio::time::Instant::from_std(t0) + st.idle).min(st.end);
            let frame = tokio::select! {
                biased;
                () = &mut st.deadline => None,
                f = tokio::time::timeout_at(wake, st.body.frame()) => Some(f),
            };
            st.guard.add_upstream_time(t0.elapsed());
            let Some(frame) = frame else {
                st.done = true;
                let err = st.drain.cut();
                let status = err.status;
                let out = st.stage.fail(err, &mut st.guard);
                // After the stage, which records the error event's own kind (`unavailable`).
                st.guard.set_error(status, SHUTDOWN_KIND);
                st.guard.mark_complete();
                return Some((Ok::<Bytes, std::convert::Infallible>(out), st));
            };
            let out = match frame {
                Ok(Some(Ok(frame))) => match frame.into_data() {
                    Ok(data) => {
                        let out = st.stage.chunk(data, &mut st.guard);
                        if st.stage.overflowed() { too_large(&mut st, out) } else { out }
                    }
                    Err(_) => continue, // trailers
                },
                Ok(None) => {
                    st.done = true;
                    st.stage.finish(&mut st.guard)
                }
                Ok(Some(Err(e))) => {
                    st.done = true;
                    let err = UpstreamError::Transport(e.to_string()).to_api(&st.provider.name);
                    st.guard.set_error(err.status, err.kind.label());
                    st.stage.fail(err, &mut st.guard)
                }
                Err(_) => {
                    st.done = true;
                    let err = if tokio::time::Instant::now() >= st.end {
                        st.limits.metrics.limit_hit("stream_duration");
                        let secs = st.limits.max_duration.as_secs_f64();
                        let msg = format!(
                            "the answer streamed longer than amux's limit of {secs} s (limits.max_stream_duration_secs) and was ended"
                        );
                        ApiError::new(ErrorKind::Timeout, msg)
                    } else {
                        st.limits.metrics.limit_hit("upstream_idle");
                        UpstreamError::Timeout(st.idle).to_api(&st.provider.name)
                    };
                    st.guard.set_error(err.status, err.kind.label());
                    st.stage.fail(err, &mut st.guard)
                }
            };
            if st.done {
                st.guard.mark_complete();
            }
            if !out.is_empty() {
                st.guard.first_byte();
                return Some((Ok::<Bytes, std::convert::Infallible>(out), st));
            }
        }
    });
    Body::from_stream(stream)
}

/// Ends a stream whose upstream sent a line or event past `limits.max_stream_event_bytes`:
/// `out` (what the stage returned for the chunk), then the error event.
fn too_large<S: Stage>(st: &mut State<S>, out: Bytes) -> Bytes {
    st.done = true;
    st.limits.metrics.limit_hit("stream_event_size");
    let msg = format!(
        "provider {}: stream event larger than {} bytes (limits.max_stream_event_bytes)",
        st.provider.name, st.limits.max_event
    );
    let err = ApiError::new(ErrorKind::BadGateway, msg);
    st.guard.set_error(err.status, err.kind.label());
    let tail = st.stage.fail(err, &mut st.guard);
    st.guard.mark_complete();
    if out.is_empty() {
        return tail;
    }
    let mut all = Vec::with_capacity(out.len() + tail.len());
    all.extend_from_slice(&out);
    all.extend_from_slice(&tail);
    Bytes::from(all)
}

//! The streaming response body shared by both paths: pulls upstream frames under the provider's
//! idle timeout, passes each through a [`Stage`] (observer or translator), flushes what it
//! returns to the client at once, and ends the [`CallGuard`]. When the client disconnects the
//! body is dropped, which drops the upstream response (cancelling the upstream request) and
//! emits the usage seen so far. At a graceful shutdown's drain deadline the stream ends through
//! [`Stage::fail`], so the client gets an error event in its own dialect instead of a cut
//! connection.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::Incoming;

use super::lifecycle::{Drain, SHUTDOWN_KIND};
use super::upstream::UpstreamError;
use crate::ir::ApiError;
use crate::providers::Provider;
use crate::usage::CallGuard;

/// What happens to upstream bytes on their way to the client.
pub trait Stage: Send + 'static {
    /// A chunk of upstream body; returns the bytes for the client (may be empty).
    fn chunk(&mut self, chunk: Bytes, guard: &mut CallGuard) -> Bytes;
    /// The upstream body ended.
    fn finish(&mut self, guard: &mut CallGuard) -> Bytes;
    /// The upstream failed mid-body; returns a final error event for the client.
    fn fail(&mut self, err: ApiError, guard: &mut CallGuard) -> Bytes;
}

struct State<S> {
    /// The first chunk, already read while choosing a deployment.
    first: Option<Bytes>,
    /// Held until the stream ends (e.g. the deployment's in-flight count).
    _hold: Box<dyn Send>,
    body: Incoming,
    stage: S,
    guard: CallGuard,
    provider: Arc<Provider>,
    idle: Duration,
    done: bool,
    drain: Drain,
    /// Resolves at the drain deadline (created once, polled across chunks).
    deadline: std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>,
}

/// A response body streaming `upstream` through `stage`.
pub fn body<S: Stage>(
    first: Option<Bytes>,
    upstream: Incoming,
    stage: S,
    guard: CallGuard,
    provider: Arc<Provider>,
    hold: Box<dyn Send>,
    drain: Drain,
) -> Body {
    let idle = provider.idle_timeout;
    let deadline = Box::pin(drain.deadline());
    let state =
        State { first, _hold: hold, body: upstream, stage, guard, provider, idle, done: false, drain, deadline };
    let stream = futures_util::stream::unfold(state, |mut st| async move {
        if let Some(first) = st.first.take() {
            let out = st.stage.chunk(first, &mut st.guard);
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
            let frame = tokio::select! {
                biased;
                () = &mut st.deadline => None,
                f = tokio::time::timeout(st.idle, st.body.frame()) => Some(f),
            };
            st.guard.add_upstream_time(t0.elapsed());
            let Some(frame) = frame else {
                st.done = true;
                let err = st.drain.cut();
                st.guard.set_error(err.status, SHUTDOWN_KIND);
                st.guard.mark_complete();
                let out = st.stage.fail(err, &mut st.guard);
                return Some((Ok::<Bytes, std::convert::Infallible>(out), st));
            };
            let out = match frame {
                Ok(Some(Ok(frame))) => match frame.into_data() {
                    Ok(data) => st.stage.chunk(data, &mut st.guard),
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
                    let err = UpstreamError::Timeout(st.idle).to_api(&st.provider.name);
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

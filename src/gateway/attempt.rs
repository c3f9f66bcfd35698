//! One attempt at one deployment: send, classify the failure (retryable or not), and for streams
//! read the first chunk under the first-byte timeout before committing, so that a deployment that
//! fails before its first byte can still fall back.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Uri};
use http_body_util::BodyExt;
use tracing::Instrument;

use super::call::Inbound;
use super::lifecycle::Drain;
use super::state::AppState;
use super::stream::StreamLimits;
use super::upstream::{self, Outbound, UpstreamError};
use crate::ir::{ApiError, Dialect, ErrorKind};
use crate::providers::Deployment;
use crate::providers::client::UpBody;
use crate::providers::pool::UpIncoming;
use crate::stack::router::InFlight;
use crate::telemetry::trace;
use crate::usage::CallGuard;

/// An upstream answer that was accepted.
pub enum Answer {
    /// A whole non-streaming body.
    Full(Bytes),
    /// A stream whose first chunk has arrived.
    Stream { first: Bytes, body: UpIncoming },
}

/// The attempt that answers the caller.
pub struct Committed {
    pub headers: HeaderMap,
    pub answer: Answer,
    pub deployment: Arc<Deployment>,
    /// The dialect the upstream was called in.
    pub target: Dialect,
    /// Keeps the deployment's in-flight count until the answer is delivered.
    pub hold: InFlight,
    /// The graceful shutdown's deadline, for a streamed answer.
    pub drain: Drain,
    /// The limits a streamed answer runs under.
    pub limits: StreamLimits,
}

/// Why an attempt failed.
pub enum Failure {
    /// 429, 5xx, connect errors, timeouts: another attempt may succeed.
    Retryable(ApiError),
    /// This deployment cannot serve the call and trying it again will not change that (its TLS
    /// failed: a certificate amux does not trust), but another deployment may: the router
    /// moves on without retrying it.
    NotHere(ApiError),
    /// Anything else: the caller gets this error.
    Fatal(ApiError),
}

impl Failure {
    fn of(err: ApiError) -> Failure {
        let retryable = err.status == 429
            || err.status >= 500
            || matches!(
                err.kind,
                ErrorKind::Timeout | ErrorKind::Unavailable | ErrorKind::BadGateway | ErrorKind::RateLimit
            );
        if retryable { Failure::Retryable(err) } else { Failure::Fatal(err) }
    }
}

/// What one attempt sends.
pub struct Plan<'a> {
    pub deployment: &'a Arc<Deployment>,
    pub target: Dialect,
    pub url: Uri,
    pub body: UpBody,
    pub stream: bool,
    pub first_byte_timeout: Duration,
}

/// Runs one attempt.
pub async fn run(
    state: &AppState,
    inbound: &Inbound<'_>,
    plan: Plan<'_>,
    guard: &mut CallGuard,
) -> Result<Committed, Failure> {
    let d = plan.deployment;
    let provider = &d.provider;
    let Some(client) = state.client(&provider.name) else {
        return Err(Failure::Fatal(ApiError::new(ErrorKind::Api, format!("provider {} has no client", provider.name))));
    };
    let hold = state.router.start(d);
    // Open until the answer is committed (headers, and the first chunk of a stream).
    let span = trace::upstream_span(&provider.name, provider.preset.name, &d.model, plan.url.host());
    let started = guard.upstream_clock();
    let out = Outbound {
        target: plan.target,
        caller: inbound.dialect,
        caller_headers: inbound.headers,
        url: plan.url,
        body: plan.body,
        timeout: d.response_timeout,
    };
    let sent = upstream::send(client, provider, out).instrument(span.clone()).await;
    let (resp, waited) = match sent {
        Ok(r) => r,
        Err(e) => {
            let err = e.to_api(&provider.name);
            tracing::warn!(deployment = %d.id, error = e.label(), "upstream call failed: {}", err.message);
            trace::upstream_status(&span, None, Some(e.label()));
            guard.add_upstream_time(started.elapsed());
            return Err(if matches!(e, UpstreamError::Tls(_)) { Failure::NotHere(err) } else { Failure::of(err) });
        }
    };
    guard.add_upstream_time(waited);
    let status = resp.status().as_u16();
    trace::upstream_status(&span, Some(status), None);
    let (parts, body) = resp.into_parts();
    let max = state.config.limits.max_upstream_response_bytes;
    if !(200..300).contains(&status) {
        let t0 = guard.upstream_clock();
        let bytes = match upstream::collect(provider, body, max).await {
            Ok(b) => b,
            Err(e) => {
                if matches!(e, UpstreamError::TooLarge(_)) {
                    state.obs.metrics.limit_hit("upstream_response_size");
                }
                Bytes::new()
            }
        };
        guard.add_upstream_time(t0.elapsed());
        let err = upstream::upstream_error(provider, plan.target, status, &parts.headers, &bytes);
        tracing::info!(deployment = %d.id, status, kind = err.kind.label(), "upstream error");
        trace::upstream_status(&span, None, Some(err.kind.label()));
        return Err(Failure::of(err));
    }
    let t0 = guard.upstream_clock();
    let answer = if plan.stream {
        let mut body = body;
        let first = first_chunk(&mut body, plan.first_byte_timeout).await;
        guard.add_upstream_time(t0.elapsed());
        match first {
            Ok(first) => Answer::Stream { first, body },
            Err(e) => {
                let err = e.to_api(&provider.name);
                tracing::warn!(deployment = %d.id, error = e.label(), "stream failed before its first byte: {}", err.message);
                trace::upstream_status(&span, None, Some(e.label()));
                return Err(Failure::Retryable(err));
            }
        }
    } else {
        let bytes = match upstream::collect(provider, body, max).await {
            Ok(b) => b,
            Err(e) => {
                tracing::warn!(deployment = %d.id, error = e.label(), "upstream answer unreadable: {e}");
                trace::upstream_status(&span, None, Some(e.label()));
                guard.add_upstream_time(t0.elapsed());
                return Err(match e {
                    // Another deployment would most likely answer as large: not retried.
                    UpstreamError::TooLarge(_) => {
                        state.obs.metrics.limit_hit("upstream_response_size");
                        Failure::Fatal(e.to_api(&provider.name))
                    }
                    e => Failure::of(e.to_api(&provider.name)),
                });
            }
        };
        guard.add_upstream_time(t0.elapsed());
        Answer::Full(bytes)
    };
    state.router.success(d, started.elapsed());
    let drain = state.lifecycle.drain();
    let l = &state.config.limits;
    let limits = StreamLimits {
        max_duration: crate::config::LimitsConfig::secs(l.max_stream_duration_secs),
        max_event: l.max_stream_event_bytes,
        metrics: state.obs.metrics.clone(),
    };
    let (headers, target) = (parts.headers, plan.target);
    Ok(Committed { headers, answer, deployment: d.clone(), target, hold, drain, limits })
}

/// The first data chunk of a stream, within `timeout`.
async fn first_chunk(body: &mut UpIncoming, timeout: Duration) -> Result<Bytes, UpstreamError> {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        match tokio::time::timeout_at(deadline, body.frame()).await {
            Err(_) => return Err(UpstreamError::Timeout(timeout)),
            Ok(None) => return Err(UpstreamError::Transport("stream ended before its first byte".into())),
            Ok(Some(Err(e))) => return Err(UpstreamError::Transport(e.to_string())),
            Ok(Some(Ok(frame))) => {
                if let Ok(data) = frame.into_data()
                    && !data.is_empty()
                {
                    return Ok(data);
                }
            }
        }
    }
}

//! Config of the gateway's limits on what comes in: connections, request heads and bodies, calls
//! in flight, upstream answers and streams. Every limit has a safe default; docs/operations.md
//! says what hitting each looks like and how to tune it. Hits are counted in
//! `amux_limit_hits_total{limit}`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Limits on connections, requests, calls in flight, upstream answers and streams.
///
/// The connection settings (`header_read_timeout_secs`, `keep_alive_idle_secs`,
/// `client_write_stall_secs`, `max_connections`) and `max_in_flight` are read at start; the
/// others apply to each new call and follow a reload.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsConfig {
    /// Seconds a client has to send a complete request head: from accepting the connection, or
    /// from the first byte of each next request on a kept-alive connection. Past it the
    /// connection is closed (nothing can be answered: there is no request yet).
    pub header_read_timeout_secs: f64,
    /// Seconds a connection may stay open with no request in flight (HTTP/1.1 keep-alive, idle
    /// HTTP/2) before amux closes it gracefully.
    pub keep_alive_idle_secs: f64,
    /// Seconds a client may leave the bytes amux is writing unread (its socket's buffers full)
    /// before its connection is closed: a stuck client cannot hold a call, its upstream
    /// connection and their buffers forever. On HTTP/2 a single stream left unread that long
    /// (its flow-control window shut) is ended alone; the connection's other streams run on.
    pub client_write_stall_secs: f64,
    /// Open client connections at most. Past it, new connections are closed at once (each
    /// open connection costs a file descriptor and some kilobytes of buffers).
    pub max_connections: usize,
    /// Model calls and token counts being handled at most (reading their body, waiting on the
    /// upstream, or streaming the answer). Past it, calls are shed at once with 503 and
    /// `Retry-After` in the caller's format, before their body is read.
    pub max_in_flight: usize,
    /// Seconds `Retry-After` tells a shed call to wait.
    pub shed_retry_after_secs: u64,
    /// Largest request body in bytes (Anthropic's own limit is 32 MB). A declared
    /// `Content-Length` over it is refused at once with 413; a chunked body is refused as soon
    /// as it passes the limit, having read no more than that.
    pub max_request_body_bytes: usize,
    /// Seconds a client has to send its whole request body once its head arrived (408 past it).
    pub request_body_timeout_secs: f64,
    /// Largest non-streamed upstream answer in bytes (error bodies included); a larger one is
    /// refused as a 502 naming the provider, having read no more than the limit.
    pub max_upstream_response_bytes: usize,
    /// Largest upstream stream event (SSE line or event; AWS event-stream frames have their own
    /// 16 MiB bound) in bytes. A larger one ends the stream with an error event in the caller's
    /// dialect, having buffered no more than the limit.
    pub max_stream_event_bytes: usize,
    /// Longest a streamed answer may run, in seconds, from its first byte; then it ends with an
    /// error event in the caller's dialect. The idle gap between two upstream chunks is each
    /// provider's `timeouts.idle_secs`.
    pub max_stream_duration_secs: f64,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        LimitsConfig {
            header_read_timeout_secs: 30.0,
            keep_alive_idle_secs: 120.0,
            client_write_stall_secs: 60.0,
            max_connections: 4096,
            max_in_flight: 256,
            shed_retry_after_secs: 1,
            max_request_body_bytes: 32 * 1024 * 1024,
            request_body_timeout_secs: 120.0,
            max_upstream_response_bytes: 32 * 1024 * 1024,
            max_stream_event_bytes: 16 * 1024 * 1024,
            max_stream_duration_secs: 3600.0,
        }
    }
}

impl LimitsConfig {
    /// Problems types alone cannot catch, as `(field, message)`.
    pub fn problems(&self) -> Vec<(&'static str, &'static str)> {
        let mut out = Vec::new();
        let positive = |v: f64| v > 0.0 && v.is_finite() && v < 1e9;
        for (field, v) in [
            ("header_read_timeout_secs", self.header_read_timeout_secs),
            ("keep_alive_idle_secs", self.keep_alive_idle_secs),
            ("client_write_stall_secs", self.client_write_stall_secs),
            ("request_body_timeout_secs", self.request_body_timeout_secs),
            ("max_stream_duration_secs", self.max_stream_duration_secs),
        ] {
            if !positive(v) {
                out.push((field, "must be a positive number of seconds"));
            }
        }
        for (field, v) in [
            ("max_connections", self.max_connections),
            ("max_in_flight", self.max_in_flight),
            ("max_request_body_bytes", self.max_request_body_bytes),
            ("max_upstream_response_bytes", self.max_upstream_response_bytes),
            ("max_stream_event_bytes", self.max_stream_event_bytes),
        ] {
            if v == 0 {
                out.push((field, "must be 1 or more"));
            }
        }
        // tokio's semaphore holds at most usize::MAX >> 3 permits.
        if self.max_in_flight > (u32::MAX as usize) {
            out.push(("max_in_flight", "must be at most 4294967295"));
        }
        out
    }

    /// The settings read only at start differ between `self` and `other`.
    pub fn start_only_differ(&self, other: &LimitsConfig) -> bool {
        self.header_read_timeout_secs != other.header_read_timeout_secs
            || self.keep_alive_idle_secs != other.keep_alive_idle_secs
            || self.client_write_stall_secs != other.client_write_stall_secs
            || self.max_connections != other.max_connections
            || self.max_in_flight != other.max_in_flight
    }

    /// Seconds as a duration (the values are checked positive and finite at load).
    pub fn secs(v: f64) -> std::time::Duration {
        std::time::Duration::from_secs_f64(if v.is_finite() && v > 0.0 { v.min(1e9) } else { 1e9 })
    }
}

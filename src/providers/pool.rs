//! The gateway's upstream connections: one pool per provider over hyper's own HTTP/1 and HTTP/2
//! client connections (rustls, HTTP/2 where the upstream offers it by ALPN), used for every model
//! call. It does what hyper-util's pooled client did for these calls, with less work per call:
//!
//! - An HTTP/1 connection goes back to its host's idle list when its answer's body ends (the
//!   [`UpIncoming`] body hands it back), not through a task spawned per call to wait for it.
//! - A provider has one or two hosts, so a host is found by comparing its authority in a short
//!   list, not by SipHash in a map; the idle list is a stack (the warmest connection first).
//! - An HTTP/2 connection is shared by every call to its host while it is open.
//! - A request that a reused HTTP/1 connection refused before sending it (the upstream closed
//!   the connection while it sat idle) is sent again on another connection, as hyper-util does.
//! - Idle connections close after the idle timeout (checked when a connection is taken or given
//!   back, and by a reaper task every few seconds), and at most `max_idle` are kept per host. The
//!   shared HTTP/2 connection is let go once no call took it for the idle timeout (counted in
//!   reaper ticks, so taking it reads no clock).
//!
//! Each connection runs in its own task (hyper's connection future, spawned once per
//! connection), so it notices an upstream close while idle. Measured on `benches/overhead.sh`'s
//! floor proxy, this design costs ~2 µs less CPU per call than hyper-util's pool; polling the
//! connection inside the call's own task instead cost more (docs/benchmarks.md).

use std::future::poll_fn;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::uri::{Authority, Scheme};
use http::{HeaderValue, Request, Response, Uri, header};
use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper::client::conn::{http1, http2};
use hyper_rustls::{HttpsConnector, MaybeHttpsStream};
use hyper_util::client::legacy::connect::{Connection as _, HttpConnector};
use hyper_util::rt::{TokioExecutor, TokioIo};
use tower::Service as _;

use super::client::{ClientError, UpBody, error_chain};

type Io = MaybeHttpsStream<TokioIo<tokio::net::TcpStream>>;

/// How often the reaper closes connections idle past the timeout (more often when the timeout is
/// shorter than two of these).
const REAP_EVERY: Duration = Duration::from_secs(5);

/// Attempts at sending one request when reused connections turn out closed.
const MAX_SENDS: usize = 4;

/// Why a request got no answer.
#[derive(Debug, thiserror::Error)]
pub enum PoolError {
    /// No connection: DNS, TCP connect (or its timeout), or the HTTP/2 handshake.
    #[error("{0}")]
    Connect(String),
    /// TLS with the upstream failed: its certificate was refused, or the two sides did not agree
    /// (rustls said so; a connection cut during the handshake is [`PoolError::Connect`]). Not a
    /// failure that goes away by trying the same upstream again.
    #[error("{0}")]
    Tls(String),
    /// The connection failed while sending the request or reading the answer's head.
    #[error("{0}")]
    Transport(String),
}

impl PoolError {
    /// Low-cardinality label for logs and metrics.
    pub fn label(&self) -> &'static str {
        match self {
            PoolError::Connect(_) => "connect",
            PoolError::Tls(_) => "tls",
            PoolError::Transport(_) => "transport",
        }
    }
}

/// A provider's pool of upstream connections. Cloning shares it.
#[derive(Clone)]
pub struct Upstream {
    inner: Arc<Inner>,
}

struct Inner {
    connector: HttpsConnector<HttpConnector>,
    hosts: Mutex<Vec<Host>>,
    idle_timeout: Duration,
    max_idle: usize,
    reaping: AtomicBool,
    /// Reaper ticks so far: the pool's coarse clock for HTTP/2 idleness.
    ticks: AtomicU64,
}

/// One upstream host (scheme and authority) and its connections.
struct Host {
    https: bool,
    authority: Authority,
    /// Idle HTTP/1 connections, the most recently used last.
    idle: Vec<Idle>,
    /// The shared HTTP/2 connection, when the host negotiated HTTP/2.
    h2: Option<http2::SendRequest<UpBody>>,
    /// The reaper tick at which a call last took `h2`.
    h2_taken: u64,
}

struct Idle {
    tx: http1::SendRequest<UpBody>,
    since: Instant,
}

/// A connection taken for one request.
enum Taken {
    H1(http1::SendRequest<UpBody>),
    H2(http2::SendRequest<UpBody>),
}

impl Upstream {
    /// A pool whose new connections time out after `connect_timeout`, with the gateway's idle
    /// policy (90 s, 256 idle connections per host).
    pub fn new(connect_timeout: Duration) -> Result<Upstream, ClientError> {
        Ok(Upstream::with_connector(super::client::connector(connect_timeout)?, Duration::from_secs(90), 256))
    }

    /// A pool over this connector (tests use one trusting their own CA).
    pub fn with_connector(
        connector: HttpsConnector<HttpConnector>,
        idle_timeout: Duration,
        max_idle: usize,
    ) -> Upstream {
        let inner = Inner {
            connector,
            hosts: Mutex::new(Vec::new()),
            idle_timeout,
            max_idle,
            reaping: AtomicBool::new(false),
            ticks: AtomicU64::new(0),
        };
        Upstream { inner: Arc::new(inner) }
    }

    /// Sends `req` (an absolute URL) and returns the answer once its head arrived.
    pub async fn request(&self, mut req: Request<UpBody>) -> Result<Response<UpIncoming>, PoolError> {
        let url = req.uri().clone();
        let https = match url.scheme() {
            Some(s) if *s == Scheme::HTTPS => true,
            Some(s) if *s == Scheme::HTTP => false,
            _ => return Err(PoolError::Connect(format!("unsupported URL {url}: not http(s)"))),
        };
        let Some(authority) = url.authority().cloned() else {
            return Err(PoolError::Connect(format!("URL without a host: {url}")));
        };
        for _ in 0..MAX_SENDS {
            let (taken, reused) = self.take(https, &authority).await?;
            let sent = match taken {
                Taken::H1(mut tx) => {
                    http1_form(&mut req, &url, https);
                    match tx.try_send_request(req).await {
                        Ok(resp) => {
                            let back = Checkin { pool: Arc::downgrade(&self.inner), https, authority, tx };
                            return Ok(resp.map(|inner| UpIncoming { inner, back: Some(back) }));
                        }
                        Err(e) => e,
                    }
                }
                Taken::H2(mut tx) => {
                    *req.uri_mut() = url.clone();
                    match tx.try_send_request(req).await {
                        Ok(resp) => return Ok(resp.map(|inner| UpIncoming { inner, back: None })),
                        Err(e) => {
                            self.forget_h2(https, &authority);
                            e
                        }
                    }
                }
            };
            let mut err = sent;
            match err.take_message() {
                // Never written: a reused connection that had closed. Another one may take it.
                Some(r) if reused => req = r,
                _ => return Err(PoolError::Transport(error_chain(&err.into_error()))),
            }
        }
        Err(PoolError::Transport(format!("{MAX_SENDS} pooled connections to {authority} closed before sending")))
    }

    /// An idle or shared connection to the host, else a new one; and whether it was reused.
    async fn take(&self, https: bool, authority: &Authority) -> Result<(Taken, bool), PoolError> {
        loop {
            let found = {
                let mut hosts = self.inner.hosts.lock().unwrap_or_else(|p| p.into_inner());
                match hosts.iter_mut().find(|h| h.is(https, authority)) {
                    Some(host) => host.take(self.inner.idle_timeout, self.inner.ticks.load(Ordering::Relaxed)),
                    None => None,
                }
            };
            match found {
                Some(Taken::H1(mut tx)) => {
                    // Ready at once, or after its task has seen the last answer's end; an
                    // error means the upstream closed it.
                    if tx.ready().await.is_ok() {
                        return Ok((Taken::H1(tx), true));
                    }
                }
                Some(Taken::H2(mut tx)) => {
                    if tx.ready().await.is_ok() {
                        return Ok((Taken::H2(tx), true));
                    }
                    self.forget_h2(https, authority);
                }
                // Boxed: connecting (TLS, the HTTP/2 handshake) is a large future, and every
                // call's future would carry its size and copy it at each move.
                None => return Box::pin(self.connect(https, authority)).await.map(|t| (t, false)),
            }
        }
    }

    /// Opens a connection: TCP (and TLS), then the HTTP/1 or HTTP/2 handshake ALPN chose.
    async fn connect(&self, https: bool, authority: &Authority) -> Result<Taken, PoolError> {
        self.start_reaper();
        let scheme = if https { Scheme::HTTPS } else { Scheme::HTTP };
        let dst = Uri::builder()
            .scheme(scheme)
            .authority(authority.clone())
            .path_and_query("/")
            .build()
            .map_err(|e| PoolError::Connect(e.to_string()))?;
        let mut connector = self.inner.connector.clone();
        poll_fn(|cx| connector.poll_ready(cx)).await.map_err(|e| PoolError::Connect(error_chain(&*e)))?;
        let io: Io = connector.call(dst).await.map_err(|e| {
            if tls_refused(&*e) { PoolError::Tls(error_chain(&*e)) } else { PoolError::Connect(error_chain(&*e)) }
        })?;
        if io.connected().is_negotiated_h2() {
            let (tx, conn) = http2::Builder::new(TokioExecutor::new())
                .adaptive_window(true)
                .handshake(io)
                .await
                .map_err(|e| PoolError::Connect(error_chain(&e)))?;
            tokio::spawn(async move {
                if let Err(e) = conn.await {
                    tracing::debug!(error = %e, "upstream HTTP/2 connection ended");
                }
            });
            let mut hosts = self.inner.hosts.lock().unwrap_or_else(|p| p.into_inner());
            let host = host_entry(&mut hosts, https, authority);
            host.h2 = Some(tx.clone());
            host.h2_taken = self.inner.ticks.load(Ordering::Relaxed);
            return Ok(Taken::H2(tx));
        }
        let (tx, conn) = http1::handshake(io).await.map_err(|e| PoolError::Connect(error_chain(&e)))?;
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, "upstream HTTP/1 connection ended");
            }
        });
        Ok(Taken::H1(tx))
    }

    /// Drops the host's HTTP/2 connection once it failed (the next call opens another).
    fn forget_h2(&self, https: bool, authority: &Authority) {
        let mut hosts = self.inner.hosts.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(h) = hosts.iter_mut().find(|h| h.is(https, authority))
            && h.h2.as_ref().is_some_and(|tx| tx.is_closed())
        {
            h.h2 = None;
        }
    }

    /// Starts, once per pool, the task that closes connections idle past the timeout. It holds
    /// the pool weakly and ends with it (a reloaded configuration drops replaced pools).
    fn start_reaper(&self) {
        if self.inner.reaping.swap(true, Ordering::Relaxed) {
            return;
        }
        let weak = Arc::downgrade(&self.inner);
        let timeout = self.inner.idle_timeout;
        tokio::spawn(async move {
            let every = REAP_EVERY.min(timeout / 2).max(Duration::from_millis(1));
            let mut tick = tokio::time::interval(every);
            // Whole ticks an HTTP/2 connection may go untaken (at least the timeout's length).
            let idle_ticks = u64::try_from(timeout.as_nanos().div_ceil(every.as_nanos())).unwrap_or(u64::MAX);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                let Some(inner) = weak.upgrade() else { return };
                let now = Instant::now();
                let ticks = inner.ticks.fetch_add(1, Ordering::Relaxed) + 1;
                let mut hosts = inner.hosts.lock().unwrap_or_else(|p| p.into_inner());
                for h in hosts.iter_mut() {
                    h.idle.retain(|i| !i.tx.is_closed() && now.duration_since(i.since) < timeout);
                    // Closed, or untaken for the idle timeout: let go (calls still on it keep
                    // their own handles; the connection closes after the last).
                    if h.h2.as_ref().is_some_and(|tx| tx.is_closed()) || ticks.saturating_sub(h.h2_taken) > idle_ticks {
                        h.h2 = None;
                    }
                }
                hosts.retain(|h| !h.idle.is_empty() || h.h2.is_some());
            }
        });
    }

    /// Idle HTTP/1 connections kept now, over all hosts.
    #[cfg(test)]
    fn idle_count(&self) -> usize {
        self.inner.hosts.lock().unwrap_or_else(|p| p.into_inner()).iter().map(|h| h.idle.len()).sum()
    }
}

impl Host {
    fn is(&self, https: bool, authority: &Authority) -> bool {
        self.https == https && self.authority == *authority
    }

    /// The shared HTTP/2 connection if open, else the warmest idle HTTP/1 connection still open
    /// and within the idle timeout (colder ones past it are dropped on the way).
    fn take(&mut self, idle_timeout: Duration, tick: u64) -> Option<Taken> {
        if let Some(tx) = &self.h2 {
            if !tx.is_closed() {
                self.h2_taken = tick;
                return Some(Taken::H2(tx.clone()));
            }
            self.h2 = None;
        }
        let mut now = None;
        while let Some(i) = self.idle.pop() {
            if i.tx.is_closed() {
                continue;
            }
            let now = *now.get_or_insert_with(Instant::now);
            if now.duration_since(i.since) < idle_timeout {
                return Some(Taken::H1(i.tx));
            }
        }
        None
    }
}

fn host_entry<'a>(hosts: &'a mut Vec<Host>, https: bool, authority: &Authority) -> &'a mut Host {
    let i = match hosts.iter().position(|h| h.is(https, authority)) {
        Some(i) => i,
        None => {
            hosts.push(Host { https, authority: authority.clone(), idle: Vec::new(), h2: None, h2_taken: 0 });
            hosts.len() - 1
        }
    };
    &mut hosts[i]
}

/// An HTTP/1 request names its path alone (origin form) and its host in `Host`, without the
/// scheme's default port.
fn http1_form(req: &mut Request<UpBody>, url: &Uri, https: bool) {
    if !req.headers().contains_key(header::HOST)
        && let Some(a) = url.authority()
    {
        let default_port = if https { 443 } else { 80 };
        let host = match a.port_u16() {
            Some(p) if p != default_port => HeaderValue::from_str(a.as_str()),
            _ => HeaderValue::from_str(a.host()),
        };
        if let Ok(v) = host {
            req.headers_mut().insert(header::HOST, v);
        }
    }
    *req.uri_mut() = match url.path_and_query() {
        Some(pq) => Uri::from(pq.clone()),
        None => Uri::from_static("/"),
    };
}

/// Gives an HTTP/1 connection back to its host's idle list.
#[derive(Debug)]
struct Checkin {
    pool: Weak<Inner>,
    https: bool,
    authority: Authority,
    tx: http1::SendRequest<UpBody>,
}

impl Checkin {
    fn give_back(self) {
        let Some(inner) = self.pool.upgrade() else { return };
        if self.tx.is_closed() {
            return;
        }
        let now = Instant::now();
        let mut hosts = inner.hosts.lock().unwrap_or_else(|p| p.into_inner());
        let host = host_entry(&mut hosts, self.https, &self.authority);
        // The coldest first: drop those past the timeout, and one when the list is full.
        while host.idle.first().is_some_and(|i| now.duration_since(i.since) >= inner.idle_timeout) {
            host.idle.remove(0);
        }
        if host.idle.len() >= inner.max_idle {
            if inner.max_idle == 0 {
                return;
            }
            host.idle.remove(0);
        }
        host.idle.push(Idle { tx: self.tx, since: now });
    }
}

/// An upstream answer's body. An HTTP/1 answer read to its end gives its connection back to the
/// pool; one dropped before its end, or failed, closes it (hyper cannot reuse it).
#[derive(Debug)]
pub struct UpIncoming {
    inner: Incoming,
    back: Option<Checkin>,
}

impl UpIncoming {
    fn end(&mut self) {
        if let Some(b) = self.back.take() {
            b.give_back();
        }
    }
}

impl Drop for UpIncoming {
    /// An answer whose end was reached without a last poll (an empty body) still gives its
    /// connection back.
    fn drop(&mut self) {
        if self.inner.is_end_stream() {
            self.end();
        }
    }
}

impl Body for UpIncoming {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        match &polled {
            Poll::Ready(None) => self.end(),
            Poll::Ready(Some(Ok(_))) if self.inner.is_end_stream() => self.end(),
            Poll::Ready(Some(Err(_))) => self.back = None,
            _ => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// Whether rustls refused the connection (a certificate, a protocol version, an alert from the
/// upstream): somewhere in the error's chain, or inside an I/O error (which hides the error it
/// wraps from `source`; hyper-rustls wraps rustls' error in two).
fn tls_refused(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur = Some(e);
    while let Some(e) = cur {
        if e.is::<rustls::Error>() {
            return true;
        }
        cur = match e.downcast_ref::<std::io::Error>().and_then(|io| io.get_ref()) {
            Some(inner) => Some(inner),
            None => e.source(),
        };
    }
    false
}

#[cfg(test)]
mod tests;

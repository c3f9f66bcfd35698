//! amux's accept loop: hyper's HTTP/1.1 + HTTP/2 server on each connection, under the connection
//! limits of `limits:` (read at start):
//!
//! - `max_connections`: a connection past it is closed as soon as it is accepted;
//! - `header_read_timeout_secs`: a request head must be complete within it, counted from the
//!   connection's start or from the first byte of each next request; else the connection closes;
//! - `keep_alive_idle_secs`: a connection with no request in flight that long is closed
//!   gracefully (an HTTP/2 GOAWAY, or the HTTP/1.1 connection shut);
//! - `client_write_stall_secs`: a client that leaves amux's writes unread that long (its socket
//!   buffers full) has its connection closed, which drops its calls (and their upstream calls).
//!   On HTTP/2 one stream can stall alone (its flow-control window shut) while the connection
//!   keeps working: hyper then stops polling that stream's body, so each HTTP/2 response body
//!   notes when it last handed hyper a frame, and the connection's watch ends (drops) a body
//!   left waiting that long, checked every half of the limit: its call ends as a disconnect and
//!   its upstream call is cancelled, the other streams run on. The stream itself is reset when
//!   hyper next polls it.
//!
//! hyper's own `header_read_timeout` is not used: for HTTP/1.1 it starts as soon as a connection
//! waits for its next request, so it would also close every kept-alive connection idle for that
//! long, and HTTP/2 has none. Each connection is watched instead by its task: a per-connection
//! count of requests in flight (a request ends when its response body is dropped) and when the
//! current head began arriving. The watch costs, per request, two atomic adds and one clock read;
//! per read on an idle connection, one atomic load.
//!
//! Every hit is counted in `amux_limit_hits_total{limit}`; open connections in
//! `amux_connections_open`. Shutdown follows `axum::serve`: when `stop` resolves the listener
//! closes, every connection is told to finish gracefully, and the future resolves when all have.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::task::{Context, Poll, ready};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::serve::Listener;
use bytes::Bytes;
use http::{Request, Response};
use hyper::body::{Frame, Incoming, SizeHint};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::{Semaphore, watch};
use tokio::time::Sleep;

use crate::config::LimitsConfig;
use crate::surfaces::{SurfaceFuture, Surfaces};
use crate::telemetry::metrics::Metrics;

/// The connection limits, from `limits:` at start.
#[derive(Clone)]
pub struct ConnLimits {
    pub header_read: Duration,
    pub keep_alive_idle: Duration,
    pub write_stall: Duration,
    pub max_connections: usize,
    pub metrics: Arc<Metrics>,
}

impl ConnLimits {
    pub fn new(l: &LimitsConfig, metrics: Arc<Metrics>) -> ConnLimits {
        ConnLimits {
            header_read: LimitsConfig::secs(l.header_read_timeout_secs),
            keep_alive_idle: LimitsConfig::secs(l.keep_alive_idle_secs),
            write_stall: LimitsConfig::secs(l.client_write_stall_secs),
            max_connections: l.max_connections.clamp(1, Semaphore::MAX_PERMITS),
            metrics,
        }
    }
}

/// How long an idle connection told to close gets before it is dropped (when still idle).
const CLOSE_GRACE: Duration = Duration::from_secs(5);

/// Serves `app` on `listener` until `stop` resolves, then drains (see the module doc).
pub async fn serve<L>(
    mut listener: L,
    app: Surfaces,
    limits: ConnLimits,
    stop: impl Future<Output = ()>,
) -> io::Result<()>
where
    L: Listener,
    L::Io: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let open = limits.metrics.connections();
    // Connections watch `signal` (closed: finish gracefully) and hold `close` (all dropped: done).
    let (signal_tx, signal_rx) = watch::channel(());
    let (close_tx, close_rx) = watch::channel(());
    tokio::pin!(stop);
    loop {
        let (io, _addr) = tokio::select! {
            conn = listener.accept() => conn,
            () = &mut stop => break,
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            limits.metrics.limit_hit("max_connections");
            drop(io);
            continue;
        };
        open.increment(1.0);
        let conn = Arc::new(ConnState::new());
        let io = Watched::new(io, conn.clone(), &limits);
        let svc = ConnService { app: app.clone(), conn: conn.clone() };
        let (limits, open, mut signal, close) = (limits.clone(), open.clone(), signal_rx.clone(), close_rx.clone());
        tokio::spawn(async move {
            let builder = Builder::new(TokioExecutor::new());
            // With upgrades: `GET /v1/responses` becomes a WebSocket (`surfaces::responses_ws`).
            // The upgraded socket leaves this task (and the connection count) once handed over;
            // its writes keep the write-stall limit, and the lifecycle counts it for the drain.
            let served = builder.serve_connection_with_upgrades(TokioIo::new(io), svc);
            tokio::pin!(served);
            // The first look also bounds how late an HTTP/2 connection's streams are first
            // checked for stalls (from then on its verdicts do).
            let first = limits.header_read.min(limits.keep_alive_idle).min(limits.write_stall / 2);
            let watch = tokio::time::sleep(first);
            tokio::pin!(watch);
            // Set when amux closed an idle connection: dropped if still open after the grace.
            let mut closing: Option<tokio::time::Instant> = None;
            let mut shutting_down = false;
            loop {
                tokio::select! {
                    _ = served.as_mut() => break,
                    // Shutdown: calls in flight run on; `gateway::shutdown` owns the deadline.
                    _ = signal.changed(), if !shutting_down => {
                        shutting_down = true;
                        served.as_mut().graceful_shutdown();
                    }
                    () = watch.as_mut() => {
                        conn.cut_stalled_streams(&limits);
                        let now = tokio::time::Instant::now();
                        if closing.is_some_and(|at| now >= at) && conn.active.load(Ordering::Relaxed) == 0 {
                            break;
                        }
                        match conn.verdict(&limits) {
                            Verdict::Wait(d) if closing.is_some() => watch.as_mut().reset(now + d.min(CLOSE_GRACE)),
                            Verdict::Wait(d) => watch.as_mut().reset(now + d),
                            Verdict::HeadTimeout => {
                                limits.metrics.limit_hit("header_read_timeout");
                                break;
                            }
                            Verdict::Idle if closing.is_none() => {
                                limits.metrics.limit_hit("keep_alive_idle");
                                if !shutting_down {
                                    served.as_mut().graceful_shutdown();
                                }
                                closing = Some(now + CLOSE_GRACE);
                                watch.as_mut().reset(now + CLOSE_GRACE);
                            }
                            Verdict::Idle => watch.as_mut().reset(now + CLOSE_GRACE),
                        }
                    }
                }
            }
            open.decrement(1.0);
            drop(slot);
            drop(close);
        });
    }
    drop(listener);
    drop(close_rx);
    drop(signal_rx);
    // Every connection task sees `changed` fail (the sender is gone) and closes gracefully.
    drop(signal_tx);
    close_tx.closed().await;
    Ok(())
}

/// What a connection's watch found.
enum Verdict {
    /// Nothing to do; look again after this long.
    Wait(Duration),
    /// A request head took longer than `header_read_timeout_secs`.
    HeadTimeout,
    /// No request in flight for `keep_alive_idle_secs`.
    Idle,
}

/// One connection's requests in flight and timestamps (milliseconds since its start, plus one:
/// 0 means unset).
struct ConnState {
    start: Instant,
    active: AtomicUsize,
    /// When the head now arriving began (0: none).
    head_started: AtomicU64,
    /// When the last request in flight ended.
    idle_since: AtomicU64,
    /// An HTTP/2 connection: its response bodies are [`Slot`]s, watched for per-stream stalls.
    h2: AtomicBool,
    slots: Mutex<Vec<Weak<Slot>>>,
}

/// An HTTP/2 response body, shared with its connection's watch, which drops it when hyper has
/// not asked for its next frame within `client_write_stall_secs`.
struct Slot {
    body: Mutex<Option<Body>>,
    /// When the body last yielded a frame that hyper has not followed with another poll (the
    /// connection's clock, see [`ConnState`]; 0: not waiting).
    waiting_since: AtomicU64,
}

impl ConnState {
    fn new() -> ConnState {
        // A new connection's first request head is due within the header timeout.
        ConnState {
            start: Instant::now(),
            active: AtomicUsize::new(0),
            head_started: AtomicU64::new(1),
            idle_since: AtomicU64::new(1),
            h2: AtomicBool::new(false),
            slots: Mutex::new(Vec::new()),
        }
    }

    /// Makes `body` an HTTP/2 stream's watched body.
    fn watch_stream(&self, body: Body) -> Arc<Slot> {
        let slot = Arc::new(Slot { body: Mutex::new(Some(body)), waiting_since: AtomicU64::new(0) });
        self.h2.store(true, Ordering::Relaxed);
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        slots.retain(|s| s.strong_count() > 0);
        slots.push(Arc::downgrade(&slot));
        slot
    }

    /// Drops the HTTP/2 response bodies hyper has left unpolled, after a frame, for
    /// `client_write_stall_secs` (their stream's flow-control window stayed shut).
    fn cut_stalled_streams(&self, l: &ConnLimits) {
        if !self.h2.load(Ordering::Relaxed) {
            return;
        }
        let now = self.now();
        let stall = l.write_stall.as_millis() as u64;
        let stalled: Vec<Arc<Slot>> = {
            let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
            slots.retain(|s| s.strong_count() > 0);
            slots
                .iter()
                .filter_map(Weak::upgrade)
                .filter(|s| {
                    let since = s.waiting_since.load(Ordering::Relaxed);
                    since != 0 && now.saturating_sub(since) >= stall
                })
                .collect()
        };
        for slot in stalled {
            let body = slot.body.lock().unwrap_or_else(|p| p.into_inner()).take();
            if body.is_some() {
                l.metrics.limit_hit("client_write_stall");
            }
            // Dropped outside the lock: ends the call (its record, its upstream request).
            drop(body);
        }
    }

    fn now(&self) -> u64 {
        self.start.elapsed().as_millis() as u64 + 1
    }

    /// Bytes arrived: when nothing is in flight, they begin a request head.
    fn read(&self) {
        if self.active.load(Ordering::Relaxed) == 0 && self.head_started.load(Ordering::Relaxed) == 0 {
            self.head_started.store(self.now(), Ordering::Relaxed);
        }
    }

    /// A request head is complete.
    fn begin(&self) {
        self.active.fetch_add(1, Ordering::Relaxed);
        self.head_started.store(0, Ordering::Relaxed);
    }

    /// A request's response ended (its body dropped).
    fn end(&self) {
        if self.active.fetch_sub(1, Ordering::Relaxed) == 1 {
            self.idle_since.store(self.now(), Ordering::Relaxed);
        }
    }

    fn verdict(&self, l: &ConnLimits) -> Verdict {
        let now = self.now();
        let since = |t: u64| Duration::from_millis(now.saturating_sub(t));
        if self.active.load(Ordering::Relaxed) > 0 {
            let wait = l.header_read.min(l.keep_alive_idle);
            // HTTP/2 streams are checked for stalls every half of the limit.
            let wait = if self.h2.load(Ordering::Relaxed) { wait.min(l.write_stall / 2) } else { wait };
            return Verdict::Wait(wait);
        }
        let head = self.head_started.load(Ordering::Relaxed);
        if head != 0 {
            let waited = since(head);
            return if waited >= l.header_read { Verdict::HeadTimeout } else { Verdict::Wait(l.header_read - waited) };
        }
        let idle = since(self.idle_since.load(Ordering::Relaxed));
        if idle >= l.keep_alive_idle {
            Verdict::Idle
        } else {
            Verdict::Wait((l.keep_alive_idle - idle).min(l.header_read))
        }
    }
}

/// The router as one connection's hyper service: counts its requests in flight.
#[derive(Clone)]
struct ConnService {
    app: Surfaces,
    conn: Arc<ConnState>,
}

impl hyper::service::Service<Request<Incoming>> for ConnService {
    type Response = Response<Tracked>;
    type Error = Infallible;
    type Future = TrackedFuture;

    fn call(&self, req: Request<Incoming>) -> Self::Future {
        self.conn.begin();
        let h2 = req.version() == http::Version::HTTP_2;
        let fut = self.app.call(req.map(Body::new));
        TrackedFuture { fut, conn: Some(self.conn.clone()), h2 }
    }
}

pin_project_lite::pin_project! {
    /// The router's response future; the request stays in flight through its body.
    struct TrackedFuture {
        #[pin]
        fut: SurfaceFuture,
        conn: Option<Arc<ConnState>>,
        h2: bool,
    }

    impl PinnedDrop for TrackedFuture {
        fn drop(this: Pin<&mut Self>) {
            // Dropped before answering (the client went away): the request ends here.
            if let Some(c) = this.project().conn.take() {
                c.end();
            }
        }
    }
}

impl Future for TrackedFuture {
    type Output = Result<Response<Tracked>, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let resp = ready!(this.fut.poll(cx));
        let conn = this.conn.take();
        let h2 = *this.h2;
        Poll::Ready(Ok(resp.map(|body| {
            let body = match &conn {
                Some(c) if h2 => Inner::Watched(c.watch_stream(body)),
                _ => Inner::Plain(body),
            };
            Tracked { body, conn }
        })))
    }
}

/// A response body that ends its request when dropped.
pub struct Tracked {
    body: Inner,
    conn: Option<Arc<ConnState>>,
}

/// The body itself: HTTP/1.1 bodies are polled as they are; HTTP/2 bodies through their
/// [`Slot`], which the connection's watch may empty.
enum Inner {
    Plain(Body),
    Watched(Arc<Slot>),
}

impl Drop for Tracked {
    fn drop(&mut self) {
        if let Some(c) = self.conn.take() {
            c.end();
        }
    }
}

impl hyper::body::Body for Tracked {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let this = &mut *self;
        match &mut this.body {
            Inner::Plain(body) => Pin::new(body).poll_frame(cx),
            Inner::Watched(slot) => {
                slot.waiting_since.store(0, Ordering::Relaxed);
                let mut body = slot.body.lock().unwrap_or_else(|p| p.into_inner());
                let Some(body) = body.as_mut() else {
                    // Ended by the watch: hyper resets the stream.
                    return Poll::Ready(Some(Err(axum::Error::new("the client left this stream unread too long"))));
                };
                let r = Pin::new(body).poll_frame(cx);
                if let (Poll::Ready(Some(Ok(_))), Some(c)) = (&r, &this.conn) {
                    slot.waiting_since.store(c.now(), Ordering::Relaxed);
                }
                r
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.body {
            Inner::Plain(body) => body.is_end_stream(),
            Inner::Watched(slot) => {
                slot.body.lock().unwrap_or_else(|p| p.into_inner()).as_ref().is_some_and(|b| b.is_end_stream())
            }
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.body {
            Inner::Plain(body) => body.size_hint(),
            Inner::Watched(slot) => {
                slot.body.lock().unwrap_or_else(|p| p.into_inner()).as_ref().map(|b| b.size_hint()).unwrap_or_default()
            }
        }
    }
}

pin_project_lite::pin_project! {
    /// A connection's IO: marks the start of request heads and bounds write stalls.
    struct Watched<I> {
        #[pin]
        io: I,
        conn: Arc<ConnState>,
        stall: Duration,
        // Armed while a write is pending; made at the first pending write.
        timer: Option<Pin<Box<Sleep>>>,
        armed: bool,
        metrics: Arc<Metrics>,
    }
}

impl<I> Watched<I> {
    fn new(io: I, conn: Arc<ConnState>, l: &ConnLimits) -> Watched<I> {
        Watched { io, conn, stall: l.write_stall, timer: None, armed: false, metrics: l.metrics.clone() }
    }
}

/// A write that did not progress: fails it once it has waited `stall`.
fn stalled(
    cx: &mut Context<'_>,
    timer: &mut Option<Pin<Box<Sleep>>>,
    armed: &mut bool,
    stall: Duration,
    metrics: &Metrics,
) -> Poll<io::Error> {
    let deadline = tokio::time::Instant::now() + stall;
    let t = timer.get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
    if !*armed {
        t.as_mut().reset(deadline);
        *armed = true;
    }
    match t.as_mut().poll(cx) {
        Poll::Ready(()) => {
            metrics.limit_hit("client_write_stall");
            Poll::Ready(io::Error::new(io::ErrorKind::TimedOut, "client left amux's writes unread too long"))
        }
        Poll::Pending => Poll::Pending,
    }
}

impl<I: AsyncRead> AsyncRead for Watched<I> {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.project();
        let before = buf.filled().len();
        let r = this.io.poll_read(cx, buf);
        if buf.filled().len() > before {
            this.conn.read();
        }
        r
    }
}

impl<I: AsyncWrite> AsyncWrite for Watched<I> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        let this = self.project();
        match this.io.poll_write(cx, data) {
            Poll::Pending => stalled(cx, this.timer, this.armed, *this.stall, this.metrics).map(Err),
            r => {
                *this.armed = false;
                r
            }
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.project();
        match this.io.poll_write_vectored(cx, bufs) {
            Poll::Pending => stalled(cx, this.timer, this.armed, *this.stall, this.metrics).map(Err),
            r => {
                *this.armed = false;
                r
            }
        }
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.project();
        match this.io.poll_flush(cx) {
            Poll::Pending => stalled(cx, this.timer, this.armed, *this.stall, this.metrics).map(Err),
            r => {
                *this.armed = false;
                r
            }
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().io.poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    #[tokio::test]
    async fn an_http2_body_left_waiting_past_the_stall_limit_is_dropped_and_the_others_are_not() {
        let metrics = Arc::new(Metrics::new(100).unwrap());
        let limits = ConnLimits {
            header_read: Duration::from_secs(30),
            keep_alive_idle: Duration::from_secs(120),
            write_stall: Duration::from_secs(60),
            max_connections: 10,
            metrics,
        };
        let conn = Arc::new(ConnState::new());
        let tracked = |slot: &Arc<Slot>| Tracked { body: Inner::Watched(slot.clone()), conn: Some(conn.clone()) };
        let (a, b) = (conn.watch_stream(Body::from("a")), conn.watch_stream(Body::from("b")));
        // `b` hands hyper a frame: it waits from now, well within the limit.
        assert!(tracked(&b).frame().await.unwrap().is_ok());
        // `a` has waited since the connection began; `c` is being polled (not waiting).
        a.waiting_since.store(1, Ordering::Relaxed);
        let c = conn.watch_stream(Body::from("c"));
        std::thread::sleep(Duration::from_millis(5));
        conn.cut_stalled_streams(&ConnLimits { write_stall: Duration::from_millis(2), ..limits.clone() });
        assert!(a.body.lock().unwrap().is_none(), "the stalled body is dropped");
        assert!(c.body.lock().unwrap().is_some(), "a body not waiting is never cut");
        // `b`'s wait (a few ms) is past 2 ms too: cut. Under the real limit nothing would be.
        assert!(b.body.lock().unwrap().is_none());
        let d = conn.watch_stream(Body::from("d"));
        d.waiting_since.store(conn.now(), Ordering::Relaxed);
        conn.cut_stalled_streams(&limits);
        assert!(d.body.lock().unwrap().is_some());
        // Polled again, a dropped body ends in an error (hyper resets its stream).
        assert!(tracked(&a).frame().await.unwrap().is_err());
    }
}

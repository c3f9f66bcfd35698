//! The floor under amux, for `benches/overhead.sh`: the same HTTP stack amux is built on (a hyper
//! HTTP/1 server, amux's own upstream pool over hyper's client connections, a current-thread
//! tokio runtime) forwarding each request to one upstream and streaming the answer back, with
//! nothing else: no body parsing, no keys, limits, logs or metrics. What amux costs above this is
//! amux's own work.
//!
//! Usage: `floor_proxy LISTEN_ADDR UPSTREAM_BASE`, e.g. `floor_proxy 127.0.0.1:18484
//! http://127.0.0.1:18481`; a request for `/x` goes to `UPSTREAM_BASE/x`.
//!
//! Until 225ec84 the floor used hyper-util's pooled client, as amux did; both moved to
//! `amux::providers::pool` together (docs/benchmarks.md).

use std::convert::Infallible;
use std::time::Duration;

use amux::providers::client::UpBody;
use amux::providers::pool::Upstream;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, combinators::BoxBody};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;

type Out = BoxBody<Bytes, hyper::Error>;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(listen), Some(upstream)) = (args.next(), args.next()) else {
        return Err("usage: floor_proxy LISTEN_ADDR UPSTREAM_BASE".into());
    };
    let listen: std::net::SocketAddr = listen.parse()?;
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    rt.block_on(async move {
        let pool = Upstream::new(Duration::from_secs(5))?;
        let listener = tokio::net::TcpListener::bind(listen).await?;
        loop {
            let (socket, _) = listener.accept().await?;
            socket.set_nodelay(true)?;
            let (pool, upstream) = (pool.clone(), upstream.clone());
            tokio::spawn(async move {
                let svc = hyper::service::service_fn(move |req| forward(pool.clone(), upstream.clone(), req));
                let _ = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(socket), svc).await;
            });
        }
    })
}

/// One request: the body read whole (as amux reads it), sent on with the caller's headers, the
/// answer's head and body passed back as they arrive; a failure is a bare 502.
async fn forward(pool: Upstream, upstream: String, req: Request<Incoming>) -> Result<Response<Out>, Infallible> {
    let bad = || {
        let mut r = Response::new(Full::new(Bytes::new()).map_err(|never| match never {}).boxed());
        *r.status_mut() = StatusCode::BAD_GATEWAY;
        r
    };
    let (parts, body) = req.into_parts();
    let Ok(body) = body.collect().await.map(|b| b.to_bytes()) else { return Ok(bad()) };
    let Ok(mut up) = Request::post(format!("{upstream}{}", parts.uri.path())).body(UpBody::from(body)) else {
        return Ok(bad());
    };
    for (k, v) in &parts.headers {
        if k != hyper::header::HOST {
            up.headers_mut().append(k.clone(), v.clone());
        }
    }
    match pool.request(up).await {
        Ok(resp) => Ok(resp.map(|b| b.boxed())),
        Err(_) => Ok(bad()),
    }
}

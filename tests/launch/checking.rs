//! A mock endpoint for the launcher's pre-flights (STS, a managed-identity endpoint), on a runtime
//! of its own: the test's handler checks each request and returns its verdict, which is recorded
//! for the test to assert, with the answer to send.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::Request;
use http::Response;

pub struct Checking {
    pub addr: SocketAddr,
    seen: Arc<Mutex<Vec<Result<(), String>>>>,
    _rt: tokio::runtime::Runtime,
}

impl Checking {
    /// Serves `handler` on a free port of 127.0.0.1 until dropped.
    pub fn start<F, Fut>(handler: F) -> Checking
    where
        F: Fn(Request) -> Fut + Clone + Send + Sync + 'static,
        Fut: Future<Output = (Result<(), String>, Response<Body>)> + Send + 'static,
    {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
        let seen: Arc<Mutex<Vec<Result<(), String>>>> = Arc::default();
        let s = seen.clone();
        let app = axum::Router::new().fallback(move |req: Request| {
            let (s, handler) = (s.clone(), handler.clone());
            async move {
                let (verdict, answer) = handler(req).await;
                s.lock().unwrap().push(verdict);
                answer
            }
        });
        let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
        let addr = listener.local_addr().unwrap();
        rt.spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Checking { addr, seen, _rt: rt }
    }

    /// The verdicts so far, in order.
    pub fn seen(&self) -> Vec<Result<(), String>> {
        self.seen.lock().unwrap().clone()
    }
}

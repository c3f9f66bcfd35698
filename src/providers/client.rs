//! The outbound HTTP client: hyper with rustls (no OpenSSL), pooled connections, HTTP/2 where the
//! upstream offers it by ALPN, HTTP/1.1 otherwise. One pool per provider, so each provider's
//! connect timeout applies and one slow provider cannot starve another's connections.

use std::time::Duration;

use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::{Client, connect::HttpConnector};
use hyper_util::rt::TokioExecutor;

pub use super::upbody::UpBody;

/// The client type used for every upstream call.
pub type HttpClient = Client<HttpsConnector<HttpConnector>, UpBody>;

/// Errors building the client.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("loading TLS root certificates: {0}")]
    Roots(String),
}

impl ClientError {
    pub fn label(&self) -> &'static str {
        "tls_roots"
    }
}

/// A client whose request bodies stream (raw passthrough).
pub type StreamingClient = Client<HttpsConnector<HttpConnector>, axum::body::Body>;

/// Builds a pooled client with this connect timeout.
pub fn build(connect_timeout: Duration) -> Result<HttpClient, ClientError> {
    Ok(pooled(connector(connect_timeout)?))
}

/// Like [`build`], for request bodies that stream instead of being sent whole.
pub fn build_streaming(connect_timeout: Duration) -> Result<StreamingClient, ClientError> {
    Ok(pooled(connector(connect_timeout)?))
}

fn pooled<B>(https: HttpsConnector<HttpConnector>) -> Client<HttpsConnector<HttpConnector>, B>
where
    B: hyper::body::Body + Send + 'static,
    B::Data: Send,
{
    Client::builder(TokioExecutor::new())
        .pool_idle_timeout(Duration::from_secs(90))
        .pool_max_idle_per_host(256)
        .http2_adaptive_window(true)
        .build(https)
}

pub(super) fn connector(connect_timeout: Duration) -> Result<HttpsConnector<HttpConnector>, ClientError> {
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    http.set_connect_timeout(Some(connect_timeout));
    http.set_nodelay(true);
    http.set_keepalive(Some(Duration::from_secs(60)));
    let https = HttpsConnectorBuilder::new()
        .with_native_roots()
        .or_else(|_| {
            // A machine without a system trust store can still reach plain-http local upstreams.
            let cfg = rustls::ClientConfig::builder()
                .with_root_certificates(rustls::RootCertStore::empty())
                .with_no_client_auth();
            Ok::<_, ClientError>(HttpsConnectorBuilder::new().with_tls_config(cfg))
        })?
        .https_or_http()
        .enable_http1()
        .enable_http2()
        .wrap_connector(http);
    Ok(https)
}

/// An error and its sources, `outer: inner: innermost` (hyper's and the AWS SDK's errors say
/// what went wrong only in their sources).
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

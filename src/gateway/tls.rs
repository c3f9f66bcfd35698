//! HTTPS for every surface (`tls:` in the config): rustls with a certificate and key from PEM
//! files, reloaded when their content changes (checked every few seconds), so a renewed
//! certificate (cert-manager, a mounted Secret) takes effect without a restart. botocore sends a
//! Bedrock API key (bearer) over HTTPS only, so Bedrock callers outside loopback need this.
//!
//! Handshakes run in tasks of their own (bounded by a timeout), so a slow or silent client never
//! holds up the accept loop; finished connections reach axum through [`TlsListener`].

use std::hash::{DefaultHasher, Hash, Hasher};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

use crate::config::TlsConfig;

/// Longest a client may take to finish its TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// How often the certificate and key files are checked for a change.
const RELOAD_EVERY: Duration = Duration::from_secs(2);

/// Why TLS could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("tls.cert_file {0}: {1}")]
    Cert(String, String),
    #[error("tls.key_file {0}: {1}")]
    Key(String, String),
}

impl TlsError {
    pub fn label(&self) -> &'static str {
        match self {
            TlsError::Cert(..) => "tls_cert",
            TlsError::Key(..) => "tls_key",
        }
    }
}

/// The certificate being served, swapped when its files change.
#[derive(Debug)]
pub struct CertStore {
    current: ArcSwap<CertifiedKey>,
    cert: PathBuf,
    key: PathBuf,
}

impl ResolvesServerCert for CertStore {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.current.load_full())
    }
}

fn load(cert: &PathBuf, key: &PathBuf) -> Result<CertifiedKey, TlsError> {
    let c = cert.display().to_string();
    let k = key.display().to_string();
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .map_err(|e| TlsError::Cert(c.clone(), e.to_string()))?
        .collect::<Result<_, _>>()
        .map_err(|e| TlsError::Cert(c.clone(), e.to_string()))?;
    if certs.is_empty() {
        return Err(TlsError::Cert(c, "no certificate in the file".into()));
    }
    let der = PrivateKeyDer::from_pem_file(key).map_err(|e| TlsError::Key(k.clone(), e.to_string()))?;
    // Checks that the key is the certificate's (a renewal caught half-written is refused).
    CertifiedKey::from_der(certs, der, &rustls::crypto::aws_lc_rs::default_provider())
        .map_err(|e| TlsError::Key(k, e.to_string()))
}

fn fingerprint(cert: &PathBuf, key: &PathBuf) -> u64 {
    let mut h = DefaultHasher::new();
    std::fs::read(cert).ok().hash(&mut h);
    std::fs::read(key).ok().hash(&mut h);
    h.finish()
}

/// The acceptor for `cfg`, and a task reloading its certificate when the files change.
pub fn acceptor(cfg: &TlsConfig) -> Result<TlsAcceptor, TlsError> {
    let (cert, key) = (PathBuf::from(&cfg.cert_file), PathBuf::from(&cfg.key_file));
    let store = Arc::new(CertStore { current: ArcSwap::from_pointee(load(&cert, &key)?), cert, key });
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Cert(cfg.cert_file.clone(), e.to_string()))?
        .with_no_client_auth()
        .with_cert_resolver(store.clone());
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    let weak = Arc::downgrade(&store);
    tokio::spawn(async move {
        let mut seen = weak.upgrade().map(|s| fingerprint(&s.cert, &s.key));
        loop {
            tokio::time::sleep(RELOAD_EVERY).await;
            let Some(s) = weak.upgrade() else { return };
            let now = Some(fingerprint(&s.cert, &s.key));
            if now == seen {
                continue;
            }
            seen = now;
            match load(&s.cert, &s.key) {
                Ok(k) => {
                    s.current.store(Arc::new(k));
                    tracing::info!(cert = %s.cert.display(), "TLS certificate reloaded");
                }
                Err(e) => tracing::warn!(error = %e, "TLS certificate not reloaded; the previous one stays"),
            }
        }
    });
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// TLS connections, handshaken in their own tasks, for `axum::serve`.
pub struct TlsListener {
    rx: tokio::sync::mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    local: SocketAddr,
    accept_loop: tokio::task::JoinHandle<()>,
}

impl TlsListener {
    pub fn new(listener: TcpListener, acceptor: TlsAcceptor) -> std::io::Result<TlsListener> {
        let local = listener.local_addr()?;
        let (tx, rx) = tokio::sync::mpsc::channel(64);
        let accept_loop = tokio::spawn(async move {
            loop {
                let (tcp, addr) = match listener.accept().await {
                    Ok(x) => x,
                    Err(e) => {
                        tracing::debug!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(10)).await;
                        continue;
                    }
                };
                if let Err(e) = tcp.set_nodelay(true) {
                    tracing::debug!(error = %e, "could not set TCP_NODELAY");
                }
                let (acceptor, tx) = (acceptor.clone(), tx.clone());
                tokio::spawn(async move {
                    match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                        Ok(Ok(tls)) => {
                            let _ = tx.send((tls, addr)).await;
                        }
                        Ok(Err(e)) => tracing::debug!(error = %e, "TLS handshake failed"),
                        Err(_) => tracing::debug!("TLS handshake timed out"),
                    }
                });
            }
        });
        Ok(TlsListener { rx, local, accept_loop })
    }
}

impl Drop for TlsListener {
    fn drop(&mut self) {
        self.accept_loop.abort();
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            if let Some(conn) = self.rx.recv().await {
                return conn;
            }
            // The accept loop ended (it never does while the listener lives): wait forever
            // rather than spin.
            std::future::pending::<()>().await;
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Ok(self.local)
    }
}

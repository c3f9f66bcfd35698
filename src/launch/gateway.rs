//! The in-process gateway: the same [`Gateway`] as `amux serve`, bound to 127.0.0.1 on a free
//! port for the length of one harness session, and a random session token for the harness.

use std::net::SocketAddr;
use std::sync::Arc;

use super::env::Env;
use super::error::LaunchError;
use crate::config::Config;
use crate::gateway::{Gateway, GatewayOptions};
use crate::stack::auth::Principal;
use crate::stack::budget::SessionBudget;
use crate::usage::{UsageSink, UsageSinks};

/// A 256-bit random token, hex, from the operating system's generator.
pub fn session_token() -> Result<String, LaunchError> {
    let mut buf = [0u8; 32];
    #[cfg(unix)]
    {
        use std::io::Read;
        std::fs::File::open("/dev/urandom")
            .and_then(|mut f| f.read_exact(&mut buf))
            .map_err(|e| LaunchError::io("reading /dev/urandom for the session token", e))?;
    }
    #[cfg(not(unix))]
    for b in buf.iter_mut() {
        *b = fastrand::u8(..);
    }
    Ok(format!("amux-session-{}", buf.iter().map(|b| format!("{b:02x}")).collect::<String>()))
}

/// Options of the in-process gateway beyond its config.
#[derive(Clone, Default)]
pub struct InProcessOptions {
    /// The token the harness is given as its key; the gateway accepts it as one more key (with
    /// access to every model), alongside any keys of the user's config.
    pub session_token: Option<String>,
    /// More usage sinks (the `--observe` recorder).
    pub sinks: Vec<Arc<dyn UsageSink>>,
    /// The session's cap (`--max-budget-usd`); charged as one more sink.
    pub session_budget: Option<Arc<SessionBudget>>,
}

/// A running in-process gateway; stopped by [`InProcessGateway::stop`] or on drop.
pub struct InProcessGateway {
    pub addr: SocketAddr,
    pub options: InProcessOptions,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
    handle: tokio::runtime::Handle,
}

impl InProcessGateway {
    /// Binds 127.0.0.1:0 and starts serving on the runtime.
    pub fn start(
        rt: &tokio::runtime::Runtime,
        config: &Config,
        env: &Env,
        options: InProcessOptions,
    ) -> Result<InProcessGateway, LaunchError> {
        let env = env.clone();
        let env_fn = move |k: &str| env.owned(k);
        let listen = SocketAddr::from(([127, 0, 0, 1], 0));
        let mut sinks: Vec<Arc<dyn UsageSink>> = vec![Arc::new(crate::usage::LogSink::default())];
        sinks.extend(options.sinks.iter().cloned());
        if let Some(b) = &options.session_budget {
            sinks.push(b.clone());
        }
        let sinks = UsageSinks::new(sinks);
        let extra_key = options.session_token.clone().map(|t| {
            let principal = Principal { name: "amux-launch".into(), ..Principal::default() };
            (t, principal)
        });
        let gateway = rt.block_on(Gateway::bind_with(
            config,
            listen,
            &env_fn,
            sinks,
            GatewayOptions { extra_key, session_budget: options.session_budget.clone() },
        ))?;
        let addr = gateway.local_addr().map_err(|e| LaunchError::io("reading the gateway's address", e))?;
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let task = rt.spawn(gateway.serve(async move {
            let _ = rx.await;
        }));
        Ok(InProcessGateway { addr, options, shutdown: Some(tx), task: Some(task), handle: rt.handle().clone() })
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting, lets in-flight calls finish for up to five seconds.
    pub fn stop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = self.handle.block_on(async { tokio::time::timeout(std::time::Duration::from_secs(5), task).await });
        }
    }
}

impl Drop for InProcessGateway {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// Whether the gateway at `base` (`http://host:port/v1`) upgrades `GET <base>/responses` to a
/// WebSocket for `key`: one handshake, closed at once, bounded to two seconds. Plain `http://`
/// only (an `https://` gateway is not probed: Codex stays on HTTP).
pub fn serves_responses_websocket(base: &str, key: &str) -> bool {
    use std::io::{Read, Write};
    use std::net::ToSocketAddrs;
    use std::time::Duration;
    let Some(rest) = base.trim_end_matches('/').strip_prefix("http://") else { return false };
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    let Some(addr) = authority.to_socket_addrs().ok().and_then(|mut a| a.next()) else { return false };
    let Ok(mut tcp) = std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(2)) else { return false };
    let _ = tcp.set_read_timeout(Some(Duration::from_secs(2)));
    let _ = tcp.set_write_timeout(Some(Duration::from_secs(2)));
    let req = format!(
        "GET {path}/responses HTTP/1.1\r\nHost: {authority}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: YW11eC1wcm9iZS0xMjM0NQ==\r\n\
         Authorization: Bearer {key}\r\n\r\n"
    );
    if tcp.write_all(req.as_bytes()).is_err() {
        return false;
    }
    let mut buf = [0u8; 64];
    let n = tcp.read(&mut buf).unwrap_or(0);
    let ok = buf[..n].starts_with(b"HTTP/1.1 101");
    if ok {
        // A close frame (masked, as a client's must be), then the socket goes.
        let _ = tcp.write_all(&[0x88, 0x80, 0, 0, 0, 0]);
    }
    ok
}

#[cfg(test)]
mod tests {
    fn answering(status: &'static str) -> String {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        std::thread::spawn(move || {
            use std::io::{Read, Write};
            let (mut s, _) = l.accept().unwrap();
            let mut buf = [0u8; 1024];
            let n = s.read(&mut buf).unwrap();
            let req = String::from_utf8_lossy(&buf[..n]).to_string();
            assert!(req.starts_with("GET /v1/responses HTTP/1.1\r\n") && req.contains("Bearer k\r\n"), "{req}");
            let _ = s.write_all(format!("HTTP/1.1 {status}\r\n\r\n").as_bytes());
        });
        format!("http://127.0.0.1:{port}/v1")
    }

    #[test]
    fn the_websocket_probe_wants_a_101() {
        assert!(super::serves_responses_websocket(&answering("101 Switching Protocols"), "k"));
        assert!(!super::serves_responses_websocket(&answering("404 Not Found"), "k"));
        assert!(!super::serves_responses_websocket("https://gateway.example/v1", "k"));
    }

    #[test]
    fn tokens_are_long_and_distinct() {
        let a = super::session_token().unwrap();
        let b = super::session_token().unwrap();
        assert_ne!(a, b);
        assert_eq!(a.len(), "amux-session-".len() + 64);
    }
}

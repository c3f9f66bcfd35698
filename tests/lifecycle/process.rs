//! `amux serve` as a child process: a config file in a fresh temp dir, a free loopback port,
//! ready once `/health/readiness` answers 200; signalled with `kill(2)`, killed when dropped. Its
//! log is kept next to the config and printed when a test fails.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};

use crate::support::{Answer, Mock, client};

/// A fresh directory for one test's files.
pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("amux-lifecycle-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Providers `anth` and `oai` on the mock (generous timeouts), aliases `claude-test` and
/// `gpt-test`, and `extra` appended.
pub fn config(mock: &Mock, extra: &str) -> String {
    format!(
        "discover_env: false
router: {{retries: 0}}
providers:
  anth: {{kind: anthropic, base_url: 'http://{a}', api_key: sk-ant-upstream, timeouts: {{response_secs: 20, idle_secs: 20}}}}
  oai: {{kind: openai, base_url: 'http://{a}/v1', api_key: sk-oai-upstream, timeouts: {{response_secs: 20, idle_secs: 20}}}}
models:
  - {{name: claude-test, provider: anth, model: claude-up}}
  - {{name: gpt-test, provider: oai, model: gpt-up}}
{extra}",
        a = mock.addr
    )
}

pub struct Served {
    child: Child,
    pub addr: SocketAddr,
    log: PathBuf,
}

impl Served {
    /// Starts `amux serve --config <config>` and waits until it is ready.
    pub async fn start(config: &Path) -> Served {
        Served::start_with(config, &[]).await
    }

    /// Like [`Served::start`], with these environment variables too (`RUST_LOG` among them
    /// replaces the default, which leaves out the usage lines).
    pub async fn start_with(config: &Path, env: &[(&str, &str)]) -> Served {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        let log = config.with_extension("log");
        let child = Command::new(env!("CARGO_BIN_EXE_amux"))
            .args(["serve", "--config"])
            .arg(config)
            .env_clear()
            .env("AMUX_LISTEN", addr.to_string())
            .env("RUST_LOG", "info,amux::usage=warn")
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("amux starts");
        let mut served = Served { child, addr, log };
        let until = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(a) = try_get(addr, "/health/readiness").await
                && a.status == 200
            {
                return served;
            }
            if let Ok(Some(status)) = served.child.try_wait() {
                panic!("amux exited before it was ready ({status}):\n{}", served.log());
            }
            assert!(Instant::now() < until, "amux not ready in 30 s:\n{}", served.log());
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    pub fn signal(&self, signal: libc::c_int) {
        let pid = libc::pid_t::try_from(self.child.id()).unwrap();
        // SAFETY: kill(2) on our own child's pid has no memory-safety preconditions.
        assert_eq!(unsafe { libc::kill(pid, signal) }, 0, "kill({pid}, {signal})");
    }

    /// Waits for the process to exit, at most `within`.
    pub async fn wait(&mut self, within: Duration) -> ExitStatus {
        let until = Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < until, "amux still running after {within:?}:\n{}", self.log());
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The value of the first exposition line starting with `series` (name and labels).
    pub async fn metric(&self, series: &str) -> Option<f64> {
        let text = try_get(self.addr, "/metrics").await?.body;
        text.lines().find_map(|l| l.strip_prefix(series)?.trim().parse().ok())
    }

    /// Waits (bounded) until the log contains `needle` (the reload's counter moves before its
    /// caller logs the errors).
    pub async fn wait_log(&self, needle: &str) -> bool {
        let until = Instant::now() + Duration::from_secs(20);
        while !self.log().contains(needle) {
            if Instant::now() >= until {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        true
    }

    /// Waits (bounded) until `series` reaches `value`.
    pub async fn wait_metric(&self, series: &str, value: f64) {
        let until = Instant::now() + Duration::from_secs(20);
        while self.metric(series).await != Some(value) {
            assert!(Instant::now() < until, "{series} never reached {value}:\n{}", self.log());
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!("--- amux log ---\n{}", self.log());
        }
    }
}

/// GET on a fresh connection; `None` when the gateway cannot be reached.
pub async fn try_get(addr: SocketAddr, path: &str) -> Option<Answer> {
    let req = http::Request::get(format!("http://{addr}{path}")).body(Full::new(Bytes::new())).unwrap();
    let resp = tokio::time::timeout(Duration::from_secs(5), client().request(req)).await.ok()?.ok()?;
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = resp.into_body().collect().await.ok()?.to_bytes();
    Some(Answer { status, headers, body: String::from_utf8_lossy(&body).into_owned() })
}

/// POST on a fresh connection; `None` when the gateway cannot be reached or the body is cut.
pub async fn try_post(addr: SocketAddr, path: &str, headers: &[(&str, &str)], body: &str) -> Option<Answer> {
    let mut req = http::Request::post(format!("http://{addr}{path}")).header("content-type", "application/json");
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let req = req.body(Full::new(Bytes::from(body.to_string()))).unwrap();
    let resp = tokio::time::timeout(Duration::from_secs(20), client().request(req)).await.ok()?.ok()?;
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = tokio::time::timeout(Duration::from_secs(20), resp.into_body().collect()).await.ok()?.ok()?.to_bytes();
    Some(Answer { status, headers, body: String::from_utf8_lossy(&body).into_owned() })
}

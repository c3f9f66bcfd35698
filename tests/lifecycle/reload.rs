//! Live reload under steady load: a Kubernetes-style ConfigMap symlink swap and SIGHUP add a
//! model and change a key with zero failed calls; a broken file is rejected, counted, and the
//! old config keeps serving. Upstream connections of the unchanged provider are kept.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use crate::process::{Served, config, temp_dir, try_post};
use crate::support::{Mock, Reply, key_entry};

const ANT_JSON: &str = r#"{"id":"msg_1","type":"message","role":"assistant","model":"claude-up","content":[{"type":"text","text":"ok"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":3,"output_tokens":1}}"#;
const STEADY: &str = "steady-key-0000000000000000";
const OLD: &str = "old-key-11111111111111111111";
const NEW: &str = "new-key-22222222222222222222";

fn call(model: &str) -> String {
    format!(r#"{{"model":"{model}","max_tokens":8,"messages":[{{"role":"user","content":"hi"}}]}}"#)
}

async fn status(addr: std::net::SocketAddr, key: &str, model: &str) -> u16 {
    try_post(addr, "/v1/messages", &[("x-api-key", key)], &call(model)).await.map(|a| a.status).unwrap_or(0)
}

/// Calls `claude-test` with the steady key from `n` loops until stopped; counts calls and failures.
struct Load {
    stop: Arc<AtomicBool>,
    ok: Arc<AtomicUsize>,
    failed: Arc<AtomicUsize>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Load {
    fn start(addr: std::net::SocketAddr, n: usize) -> Load {
        let (stop, ok, failed) =
            (Arc::new(AtomicBool::new(false)), Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let tasks = (0..n)
            .map(|_| {
                let (stop, ok, failed) = (stop.clone(), ok.clone(), failed.clone());
                tokio::spawn(async move {
                    let client = crate::support::client();
                    while !stop.load(Ordering::SeqCst) {
                        let req = http::Request::post(format!("http://{addr}/v1/messages"))
                            .header("content-type", "application/json")
                            .header("x-api-key", STEADY)
                            .body(http_body_util::Full::new(bytes::Bytes::from(call("claude-test"))))
                            .unwrap();
                        let good = match client.request(req).await {
                            Ok(r) => {
                                let s = r.status();
                                http_body_util::BodyExt::collect(r.into_body()).await.is_ok() && s == 200
                            }
                            Err(_) => false,
                        };
                        if good { &ok } else { &failed }.fetch_add(1, Ordering::SeqCst);
                    }
                })
            })
            .collect();
        Load { stop, ok, failed, tasks }
    }

    /// Waits until `more` further calls succeeded.
    async fn progress(&self, more: usize) {
        let target = self.ok.load(Ordering::SeqCst) + more;
        for _ in 0..2000 {
            if self.ok.load(Ordering::SeqCst) >= target {
                return;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        panic!("the load made no progress");
    }

    async fn finish(self) -> (usize, usize) {
        self.stop.store(true, Ordering::SeqCst);
        for t in self.tasks {
            t.await.unwrap();
        }
        (self.ok.load(Ordering::SeqCst), self.failed.load(Ordering::SeqCst))
    }
}

/// Writes a ConfigMap-style revision directory and points `..data` at it atomically, as the
/// kubelet does: `amux.yaml -> ..data/amux.yaml`, `keys.yaml -> ..data/keys.yaml`.
fn publish(dir: &Path, revision: u32, amux_yaml: &str, keys_yaml: &str) {
    let rev = dir.join(format!("..rev{revision}"));
    std::fs::create_dir_all(&rev).unwrap();
    std::fs::write(rev.join("amux.yaml"), amux_yaml).unwrap();
    std::fs::write(rev.join("keys.yaml"), keys_yaml).unwrap();
    let tmp = dir.join("..data_tmp");
    let _ = std::fs::remove_file(&tmp);
    std::os::unix::fs::symlink(rev.file_name().unwrap(), &tmp).unwrap();
    std::fs::rename(&tmp, dir.join("..data")).unwrap();
    for f in ["amux.yaml", "keys.yaml"] {
        if std::fs::symlink_metadata(dir.join(f)).is_err() {
            std::os::unix::fs::symlink(format!("..data/{f}"), dir.join(f)).unwrap();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configmap_swap_reloads_under_load_and_a_broken_file_is_rejected() {
    let mock = Mock::start().await;
    mock.always(Reply::ok(ANT_JSON));
    let dir = temp_dir("reload-watch");
    let keys_file = dir.join("keys.yaml");
    let head = format!("lifecycle: {{watch_interval_secs: 0.05}}\nkeys_file: {}\n", keys_file.display());
    // The models list is last in `config`, so an appended alias lands in it.
    let v1 = format!("{head}{}", config(&mock, ""));
    let v2 = format!("{v1}  - {{name: claude-new, provider: anth, model: claude-up-2}}\n");
    publish(&dir, 1, &v1, &(key_entry("steady", STEADY, "") + &key_entry("old", OLD, "")));
    let amux = Served::start(&dir.join("amux.yaml")).await;
    let addr = amux.addr;
    assert_eq!(status(addr, OLD, "claude-test").await, 200);
    assert_eq!(status(addr, NEW, "claude-test").await, 401);
    assert_eq!(status(addr, STEADY, "claude-new").await, 404);

    let load = Load::start(addr, 4);
    load.progress(200).await;
    let connections = mock.connections.load(Ordering::SeqCst);

    // A new model and a changed key, published as one ConfigMap revision.
    publish(&dir, 2, &v2, &(key_entry("steady", STEADY, "") + &key_entry("new", NEW, "")));
    amux.wait_metric("amux_config_reloads_total{result=\"ok\"}", 1.0).await;
    assert_eq!(status(addr, OLD, "claude-test").await, 401, "the removed key is refused after the swap");
    assert_eq!(status(addr, NEW, "claude-new").await, 200, "the new key and the new model work");
    assert_eq!(mock.count_model("claude-up-2"), 1, "routed to the new alias's upstream model");
    load.progress(200).await;

    // A broken revision: rejected, counted, and the previous config keeps serving.
    publish(&dir, 3, "models: [this is not, a config", &(key_entry("steady", STEADY, "")));
    amux.wait_metric("amux_config_reloads_total{result=\"rejected\"}", 1.0).await;
    assert_eq!(amux.metric("amux_config_last_reload_successful").await, Some(1.0 - 1.0));
    load.progress(200).await;
    assert_eq!(status(addr, NEW, "claude-new").await, 200, "the old config still serves");
    assert!(amux.wait_log("config rejected").await, "{}", amux.log());

    let (ok, failed) = load.finish().await;
    assert_eq!(failed, 0, "no call failed across the reloads ({ok} succeeded)");
    // The unchanged provider kept its pool. A new pool would open one connection per load loop
    // (4) and more for the probe calls; the kept one may add one for the probes, and one or two
    // where a loop's next call starts before its last connection was handed back.
    let after = mock.connections.load(Ordering::SeqCst);
    assert!(after <= connections + 3, "upstream connections {connections} -> {after}: the pool was rebuilt");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_reloads_and_keeps_the_old_config_when_the_new_one_is_invalid() {
    let mock = Mock::start().await;
    mock.always(Reply::ok(ANT_JSON));
    let dir = temp_dir("reload-hup");
    let file = dir.join("amux.yaml");
    let keys = format!("lifecycle: {{watch_interval_secs: 0}}\nkeys:\n{}", key_entry("steady", STEADY, ""));
    let v1 = config(&mock, "");
    std::fs::write(&file, format!("{keys}{v1}")).unwrap();
    let amux = Served::start(&file).await;
    let addr = amux.addr;
    let load = Load::start(addr, 2);
    load.progress(100).await;

    std::fs::write(&file, format!("{keys}{v1}  - {{name: claude-new, provider: anth, model: claude-up-2}}\n")).unwrap();
    assert_eq!(status(addr, STEADY, "claude-new").await, 404, "watching is off: nothing changes before SIGHUP");
    amux.signal(libc::SIGHUP);
    amux.wait_metric("amux_config_reloads_total{result=\"ok\"}", 1.0).await;
    assert_eq!(status(addr, STEADY, "claude-new").await, 200);

    // A config that parses but does not validate: every error logged with its path.
    std::fs::write(&file, format!("{keys}{v1}  - {{name: broken, provider: nowhere, model: x}}\n")).unwrap();
    amux.signal(libc::SIGHUP);
    amux.wait_metric("amux_config_reloads_total{result=\"rejected\"}", 1.0).await;
    assert!(amux.wait_log("models[2].provider: unknown provider \"nowhere\"").await, "{}", amux.log());
    assert_eq!(status(addr, STEADY, "claude-new").await, 200, "the old config still serves");
    load.progress(100).await;
    let (ok, failed) = load.finish().await;
    assert_eq!(failed, 0, "no call failed across the reloads ({ok} succeeded)");
}

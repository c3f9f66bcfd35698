//! A mock of the Ollama API (axum, on a free port): `/api/version`, `/api/tags`, `/api/pull` as
//! a JSON-lines stream (succeeding with progress, or failing with an error line), `/api/show`,
//! and `/v1/chat/completions` for calls that come through amux's gateway.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::routing::{get, post};
use serde_json::{Value, json};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PullMode {
    Succeed,
    Fail,
}

#[derive(Debug)]
pub struct MockState {
    pub models: Vec<String>,
    pub pull: PullMode,
    pub calls: Vec<String>,
    pub chat: Vec<Value>,
}

pub struct MockOllama {
    pub addr: SocketAddr,
    pub state: Arc<Mutex<MockState>>,
    _rt: tokio::runtime::Runtime,
}

impl MockOllama {
    pub fn start(models: &[&str], pull: PullMode) -> MockOllama {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
        let state = Arc::new(Mutex::new(MockState {
            models: models.iter().map(|s| s.to_string()).collect(),
            pull,
            calls: Vec::new(),
            chat: Vec::new(),
        }));
        let app = Router::new()
            .route("/api/version", get(version))
            .route("/api/tags", get(tags))
            .route("/api/pull", post(pull_model))
            .route("/api/show", post(show))
            .route("/v1/chat/completions", post(chat))
            .with_state(state.clone());
        let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
        let addr = listener.local_addr().unwrap();
        rt.spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        MockOllama { addr, state, _rt: rt }
    }

    pub fn host(&self) -> String {
        self.addr.to_string()
    }

    pub fn calls(&self) -> Vec<String> {
        self.state.lock().unwrap().calls.clone()
    }
}

type S = State<Arc<Mutex<MockState>>>;

async fn version(State(s): S) -> axum::Json<Value> {
    s.lock().unwrap().calls.push("version".into());
    axum::Json(json!({"version": "0.12.6"}))
}

async fn tags(State(s): S) -> axum::Json<Value> {
    let mut st = s.lock().unwrap();
    st.calls.push("tags".into());
    let models: Vec<Value> = st.models.iter().map(|m| json!({"name": m, "model": m, "size": 1})).collect();
    axum::Json(json!({"models": models}))
}

async fn pull_model(State(s): S, axum::Json(body): axum::Json<Value>) -> Body {
    let model = body["model"].as_str().unwrap_or_default().to_string();
    let mode = {
        let mut st = s.lock().unwrap();
        st.calls.push(format!("pull {model}"));
        st.pull
    };
    let lines: Vec<Value> = match mode {
        PullMode::Succeed => {
            s.lock().unwrap().models.push(model.clone());
            vec![
                json!({"status": "pulling manifest"}),
                json!({"status": "pulling aaa", "digest": "sha256:aaa", "total": 1000, "completed": 0}),
                json!({"status": "pulling aaa", "digest": "sha256:aaa", "total": 1000, "completed": 600}),
                json!({"status": "pulling aaa", "digest": "sha256:aaa", "total": 1000, "completed": 1000}),
                json!({"status": "verifying sha256 digest"}),
                json!({"status": "writing manifest"}),
                json!({"status": "success"}),
            ]
        }
        PullMode::Fail => {
            vec![json!({"status": "pulling manifest"}), json!({"error": "pull model manifest: file does not exist"})]
        }
    };
    // One line per chunk, as Ollama streams them.
    let chunks: Vec<Result<bytes::Bytes, std::io::Error>> =
        lines.into_iter().map(|l| Ok(bytes::Bytes::from(format!("{l}\n")))).collect();
    Body::from_stream(futures_util::stream::iter(chunks))
}

async fn show(State(s): S, axum::Json(body): axum::Json<Value>) -> axum::Json<Value> {
    s.lock().unwrap().calls.push(format!("show {}", body["model"].as_str().unwrap_or_default()));
    axum::Json(json!({
        "parameters": "num_ctx 40960\nstop \"<|im_end|>\"",
        "model_info": {"general.architecture": "qwen3", "qwen3.context_length": 131072},
    }))
}

async fn chat(State(s): S, axum::Json(body): axum::Json<Value>) -> axum::Json<Value> {
    let mut st = s.lock().unwrap();
    st.calls.push("chat".into());
    st.chat.push(body.clone());
    axum::Json(json!({
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1,
        "model": body["model"],
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "hello from mock ollama"}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 5, "completion_tokens": 4, "total_tokens": 9},
    }))
}

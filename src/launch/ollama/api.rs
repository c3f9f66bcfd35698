//! The few Ollama API calls the launcher makes: `/api/version`, `/api/tags`, `/api/pull`
//! (a stream of JSON lines) and `/api/show`.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::BodyExt;
use serde_json::{Value, json};

use crate::launch::error::LaunchError;
use crate::providers::client::{self, HttpClient, UpBody};

/// A progress line of `/api/pull`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PullProgress {
    pub status: String,
    pub digest: Option<String>,
    pub total: Option<u64>,
    pub completed: Option<u64>,
}

/// An Ollama server at an origin such as `http://127.0.0.1:11434`.
#[derive(Clone)]
pub struct Api {
    pub origin: String,
    client: HttpClient,
}

fn err(e: impl std::fmt::Display) -> LaunchError {
    LaunchError::Ollama(e.to_string())
}

impl Api {
    pub fn new(origin: &str) -> Result<Api, LaunchError> {
        let client = client::build(Duration::from_secs(3)).map_err(err)?;
        Ok(Api { origin: origin.trim_end_matches('/').to_string(), client })
    }

    async fn send(
        &self,
        method: http::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<http::Response<hyper::body::Incoming>, LaunchError> {
        let uri = format!("{}{path}", self.origin);
        let bytes = body.map(|b| Bytes::from(b.to_string())).unwrap_or_default();
        let req = http::Request::builder()
            .method(method)
            .uri(&uri)
            .header(http::header::CONTENT_TYPE, "application/json")
            .body(UpBody::from(bytes))
            .map_err(|e| err(format!("{uri}: {e}")))?;
        self.client.request(req).await.map_err(|e| err(format!("{uri}: {e}")))
    }

    async fn json(
        &self,
        method: http::Method,
        path: &str,
        body: Option<Value>,
        timeout: Duration,
    ) -> Result<Value, LaunchError> {
        let fut = async {
            let resp = self.send(method, path, body).await?;
            let status = resp.status();
            let bytes = resp.into_body().collect().await.map_err(err)?.to_bytes();
            let v: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
            if !status.is_success() {
                let msg =
                    v.get("error").and_then(Value::as_str).map(str::to_string).unwrap_or_else(|| status.to_string());
                return Err(err(format!("{path}: {msg}")));
            }
            Ok(v)
        };
        tokio::time::timeout(timeout, fut)
            .await
            .map_err(|_| err(format!("{}{path}: no answer in {timeout:?}", self.origin)))?
    }

    /// The server's version, or an error when nothing answers.
    pub async fn version(&self) -> Result<String, LaunchError> {
        let v = self.json(http::Method::GET, "/api/version", None, Duration::from_secs(3)).await?;
        Ok(v.get("version").and_then(Value::as_str).unwrap_or("unknown").to_string())
    }

    /// Names (`name:tag`) of the models present.
    pub async fn tags(&self) -> Result<Vec<String>, LaunchError> {
        let v = self.json(http::Method::GET, "/api/tags", None, Duration::from_secs(10)).await?;
        let mut names = Vec::new();
        for m in v.get("models").and_then(Value::as_array).into_iter().flatten() {
            for key in ["name", "model"] {
                if let Some(n) = m.get(key).and_then(Value::as_str)
                    && !names.iter().any(|x| x == n)
                {
                    names.push(n.to_string());
                }
            }
        }
        Ok(names)
    }

    /// The context window: `num_ctx` from the model's parameters if set, else the
    /// architecture's `context_length` from its model info.
    pub async fn context_window(&self, model: &str) -> Result<Option<u64>, LaunchError> {
        let v =
            self.json(http::Method::POST, "/api/show", Some(json!({"model": model})), Duration::from_secs(10)).await?;
        if let Some(params) = v.get("parameters").and_then(Value::as_str) {
            for line in params.lines() {
                let mut it = line.split_whitespace();
                if it.next() == Some("num_ctx")
                    && let Some(n) = it.next().and_then(|n| n.parse().ok())
                {
                    return Ok(Some(n));
                }
            }
        }
        let info = v.get("model_info").and_then(Value::as_object);
        let arch = info.and_then(|i| i.get("general.architecture")).and_then(Value::as_str);
        if let (Some(info), Some(arch)) = (info, arch)
            && let Some(n) = info.get(&format!("{arch}.context_length")).and_then(Value::as_u64)
        {
            return Ok(Some(n));
        }
        Ok(info.and_then(|i| i.iter().find(|(k, _)| k.ends_with(".context_length")).and_then(|(_, v)| v.as_u64())))
    }

    /// Pulls a model, reporting each progress line; an `error` line or a bad status fails.
    pub async fn pull(
        &self,
        model: &str,
        on_progress: &mut (dyn FnMut(&PullProgress) + Send),
    ) -> Result<(), LaunchError> {
        let pull_err = |d: String| LaunchError::OllamaPull { model: model.to_string(), detail: d };
        let resp = self.send(http::Method::POST, "/api/pull", Some(json!({"model": model, "stream": true}))).await?;
        let status = resp.status();
        let mut body = resp.into_body();
        let mut buf: Vec<u8> = Vec::new();
        let mut success = false;
        let mut handle_line = |line: &[u8], success: &mut bool| -> Result<(), LaunchError> {
            if line.iter().all(u8::is_ascii_whitespace) {
                return Ok(());
            }
            let v: Value = serde_json::from_slice(line).map_err(|e| pull_err(format!("bad progress line: {e}")))?;
            if let Some(e) = v.get("error").and_then(Value::as_str) {
                return Err(pull_err(e.to_string()));
            }
            let p = PullProgress {
                status: v.get("status").and_then(Value::as_str).unwrap_or_default().to_string(),
                digest: v.get("digest").and_then(Value::as_str).map(str::to_string),
                total: v.get("total").and_then(Value::as_u64),
                completed: v.get("completed").and_then(Value::as_u64),
            };
            if p.status == "success" {
                *success = true;
            }
            on_progress(&p);
            Ok(())
        };
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|e| pull_err(e.to_string()))?;
            if let Some(data) = frame.data_ref() {
                buf.extend_from_slice(data);
                while let Some(pos) = buf.iter().position(|b| *b == b'\n') {
                    let line: Vec<u8> = buf.drain(..=pos).collect();
                    handle_line(&line, &mut success)?;
                }
            }
        }
        handle_line(&buf, &mut success)?;
        if !status.is_success() {
            return Err(pull_err(format!("HTTP {status}")));
        }
        if !success {
            return Err(pull_err("the stream ended before \"success\"".into()));
        }
        Ok(())
    }
}

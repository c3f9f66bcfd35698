//! The Responses API over WebSocket (`GET /v1/responses` with an upgrade), as Codex speaks it to
//! a provider with `supports_websockets`: one socket per conversation, each turn sent as a
//! `{"type": "response.create", ...}` text message (the body of `POST /v1/responses` plus the
//! type), answered with the same events as the SSE stream, each as one text message, ending at
//! `response.completed` (or `response.failed` / `response.incomplete`). A turn refused or failed
//! before its stream began is answered with one `{"type": "error", "status": N, "error": {...}}`
//! message, the shape Codex reads as the HTTP error it stands for.
//!
//! Each turn is a whole `POST /v1/responses` call through the stack ([`super::messages::dispatch`]):
//! the key is checked at the upgrade and again per turn (a reload may have removed it), and
//! limits, budgets, routing, translation to any upstream, metrics and the usage record apply per
//! turn. A socket that closes or breaks cancels the turn in flight (its upstream call is dropped
//! and recorded as a client disconnect). One turn at a time: a `response.create` while one is in
//! flight is answered with an error message and the turn in flight goes on. Oversized, binary,
//! non-JSON and unknown messages are answered with an error message and the socket stays open.
//!
//! Conversation state lives in the socket, as on OpenAI's own WebSocket mode: a turn may name the
//! previous turn of the same socket in `previous_response_id` and send only the new input items;
//! amux rebuilds the whole input (the previous input, the previous turn's output items, the new
//! items) so that every upstream, stateless or not, gets a complete request; unless the turn has
//! `store: true`, the items' `id`s are dropped (they name items only the socket holds, and
//! OpenAI's HTTP API refuses unknown ones), as Codex itself does over HTTP. `generate: false`
//! (Codex's warm-up) answers `response.created` and `response.completed` with no output and no
//! upstream call, and its id can be named by the next turn. `client_metadata` (transport metadata
//! Codex sends only over the socket; OpenAI's HTTP API refuses it) is not passed on. `response.append` (older Codex) adds
//! input to the previous turn's request. `response.processed` is an acknowledgement and needs no
//! answer.

use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade, rejection::WebSocketUpgradeRejection};
use axum::extract::{Request, State};
use bytes::Bytes;
use http::{HeaderMap, Response, StatusCode, Uri};
use http_body_util::BodyExt;
use serde_json::{Map, Value, json};
use tokio::sync::mpsc;

use super::messages::{Op, dispatch};
use crate::gateway::reject::{Refusal, reject};
use crate::gateway::{LiveState, error_response};
use crate::ir::{ApiError, Dialect, ErrorKind};
use crate::sse::{SseEvent, SseParser};

// The largest message read as a turn is `limits.max_request_body_bytes` (as for a POST body).
// The WebSocket layer buffers up to twice that before it gives up on a message (the connection
// then ends with close code 1009); in between an oversized message is answered with an error
// message.

/// `GET /v1/responses`: the upgrade, after the key is checked.
pub async fn upgrade(
    State(live): State<LiveState>,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
    uri: Uri,
    headers: HeaderMap,
) -> Response<Body> {
    let state = live.0.current();
    let ws = match ws {
        Ok(ws) => ws,
        Err(e) => {
            // 426: Codex falls back to HTTP on it.
            let mut err = ApiError::new(
                ErrorKind::InvalidRequest,
                format!(
                    "GET /v1/responses is the Responses WebSocket transport and needs an upgrade ({e}); use POST for HTTP"
                ),
            );
            err.status = 426;
            return error_response(Dialect::OpenAiResponses, &err);
        }
    };
    let query = uri.query().map(str::to_string);
    if let Err(e) = state.keys.authenticate(&headers, query.as_deref()) {
        let r = Refusal {
            dialect: Dialect::OpenAiResponses,
            principal: None,
            model: None,
            started: std::time::Instant::now(),
            span: None,
            headers: Some(&headers),
        };
        return reject(&state, r, &e, None);
    }
    tracing::info!(target: "amux::ws", "responses websocket opened");
    let max_message = state.config.limits.max_request_body_bytes;
    let frame = max_message.saturating_mul(2);
    ws.max_message_size(frame)
        .max_frame_size(frame)
        .on_upgrade(move |socket| Session { live, headers, uri, last: None, max_message }.run(socket))
}

/// The previous completed turn of a socket, for `previous_response_id` and `response.append`.
struct Chain {
    id: String,
    /// The turn's request without `input`.
    request: Map<String, Value>,
    /// Its whole input.
    input: Vec<Value>,
    /// The output items it answered.
    output: Vec<Value>,
}

/// What a turn's task sends back to the socket's loop.
enum Out {
    Text(String),
    /// The turn ended: its last messages (the terminal event, or the error), sent only after the
    /// socket's loop has ended the turn, so that a client answering the terminal event at once
    /// never finds the turn still in flight; and `Some` when it completed (its id and output items).
    Done {
        last: Vec<String>,
        chain: Option<(String, Vec<Value>)>,
    },
}

/// Aborts the turn's task when the turn is dropped (the socket closed, or the session ended).
struct Turn {
    rx: mpsc::Receiver<Out>,
    task: tokio::task::JoinHandle<()>,
    /// The request as sent upstream, kept for the chain.
    request: Map<String, Value>,
    input: Vec<Value>,
}

impl Drop for Turn {
    fn drop(&mut self) {
        self.task.abort();
    }
}

struct Session {
    live: LiveState,
    headers: HeaderMap,
    uri: Uri,
    last: Option<Chain>,
    /// `limits.max_request_body_bytes` at the upgrade.
    max_message: usize,
}

/// An error message: `status` and an OpenAI error object.
pub fn error_event(status: u16, kind: &str, code: Option<&str>, message: &str) -> String {
    let mut error = json!({"type": kind, "message": message});
    if let Some(c) = code {
        error["code"] = json!(c);
    }
    json!({"type": "error", "status": status, "error": error}).to_string()
}

fn invalid(code: &str, message: &str) -> String {
    error_event(400, "invalid_request_error", Some(code), message)
}

impl Session {
    async fn run(mut self, mut socket: WebSocket) {
        let lifecycle = self.live.0.current().lifecycle.clone();
        let _open = lifecycle.socket();
        let draining = lifecycle.draining_started();
        tokio::pin!(draining);
        let mut turn: Option<Turn> = None;
        'session: loop {
            tokio::select! {
                // At a graceful shutdown an idle socket closes ("going away"); a turn in flight
                // runs to its end (or to the drain deadline) first.
                () = &mut draining, if turn.is_none() => {
                    let bye = CloseFrame { code: 1001, reason: "amux is shutting down; reconnect".into() };
                    let _ = socket.send(Message::Close(Some(bye))).await;
                    break;
                }
                msg = socket.recv() => {
                    let msg = match msg {
                        Some(Ok(m)) => m,
                        Some(Err(e)) => {
                            // Over the frame limit (or a protocol error): say so, then close.
                            let text = e.to_string();
                            let too_big = text.contains("too long") || text.contains("too big") || text.contains("Space limit");
                            if too_big {
                                let ev = too_large(self.max_message);
                                let _ = socket.send(Message::Text(ev.into())).await;
                                let _ = socket.send(Message::Close(Some(CloseFrame { code: 1009, reason: "message too large".into() }))).await;
                            }
                            tracing::debug!(target: "amux::ws", error = %text, "responses websocket read failed");
                            break;
                        }
                        None => break,
                    };
                    let reply = match msg {
                        Message::Text(t) => self.message(t.as_str(), &mut turn),
                        Message::Binary(b) if b.len() > self.max_message => Some(too_large(self.max_message)),
                        Message::Binary(_) => Some(invalid("unsupported_message", "binary messages are not supported: send each turn as a JSON text message")),
                        Message::Ping(_) | Message::Pong(_) => None,
                        Message::Close(_) => break,
                    };
                    if let Some(r) = reply
                        && socket.send(Message::Text(r.into())).await.is_err()
                    {
                        break;
                    }
                }
                out = next(&mut turn) => match out {
                    Some(Out::Text(t)) => {
                        if socket.send(Message::Text(t.into())).await.is_err() {
                            break;
                        }
                    }
                    Some(Out::Done { last, chain }) => {
                        let t = turn.take();
                        self.last = match (t, chain) {
                            (Some(t), Some((id, output))) => Some(Chain { id, request: t.request.clone(), input: t.input.clone(), output }),
                            _ => None,
                        };
                        for text in last {
                            if socket.send(Message::Text(text.into())).await.is_err() {
                                break 'session;
                            }
                        }
                    }
                    None => {
                        turn = None;
                        self.last = None;
                    }
                },
            }
        }
        // Dropping the turn aborts it: its upstream call is cancelled and recorded as such.
        drop(turn);
        tracing::info!(target: "amux::ws", "responses websocket closed");
    }
}

/// The next message of the turn in flight (pending when there is none).
async fn next(turn: &mut Option<Turn>) -> Option<Out> {
    match turn {
        Some(t) => t.rx.recv().await,
        None => std::future::pending().await,
    }
}

fn too_large(max: usize) -> String {
    error_event(413, "invalid_request_error", Some("message_too_large"), &format!("message exceeds {max} bytes"))
}

fn new_id(prefix: &str) -> String {
    format!("{prefix}_{:016x}{:016x}", fastrand::u64(..), fastrand::u64(..))
}

fn now_secs() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

impl Session {
    /// One text message from the client; returns an immediate reply (an error, or nothing).
    fn message(&mut self, text: &str, turn: &mut Option<Turn>) -> Option<String> {
        if text.len() > self.max_message {
            return Some(too_large(self.max_message));
        }
        let mut obj = match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(o)) => o,
            Ok(_) => return Some(invalid("invalid_message", "a message must be a JSON object with a \"type\"")),
            Err(e) => return Some(invalid("invalid_json", &format!("the message is not JSON: {e}"))),
        };
        let kind = obj.remove("type").and_then(|t| t.as_str().map(str::to_string)).unwrap_or_default();
        match kind.as_str() {
            "response.create" | "response.append" => {}
            // An acknowledgement of a response the client has processed.
            "response.processed" => return None,
            "" => return Some(invalid("invalid_message", "the message has no \"type\"; expected \"response.create\"")),
            other => {
                return Some(invalid(
                    "unsupported_message",
                    &format!("unsupported message type \"{other}\"; expected \"response.create\""),
                ));
            }
        }
        if self.live.0.current().lifecycle.is_draining() {
            return Some(error_event(503, "server_error", Some("shutting_down"), "amux is shutting down; reconnect"));
        }
        if turn.is_some() {
            return Some(error_event(
                409,
                "invalid_request_error",
                Some("concurrent_response"),
                "a response is already in progress on this connection; send the next response.create after it ends",
            ));
        }
        // The whole input: the previous turn's input and output before the new items.
        let new_input = match obj.remove("input") {
            Some(Value::Array(a)) => a,
            Some(Value::String(s)) => vec![json!({"role": "user", "content": s})],
            None => Vec::new(),
            Some(_) => return Some(invalid("invalid_input", "input must be an array of items or a string")),
        };
        let mut input = Vec::new();
        if kind == "response.append" {
            let Some(prev) = &self.last else {
                return Some(invalid(
                    "no_previous_response",
                    "response.append needs a completed response on this connection",
                ));
            };
            let mut req = prev.request.clone();
            req.extend(obj);
            obj = req;
            input.extend(prev.input.iter().cloned());
            input.extend(prev.output.iter().cloned());
        } else if let Some(prev_id) = obj.remove("previous_response_id").filter(|v| !v.is_null()) {
            let prev_id = prev_id.as_str().unwrap_or_default().to_string();
            match &self.last {
                Some(prev) if prev.id == prev_id => {
                    tracing::debug!(target: "amux::ws", previous = %prev_id, "turn chained to the previous response");
                    input.extend(prev.input.iter().cloned());
                    input.extend(prev.output.iter().cloned());
                }
                _ => {
                    return Some(error_event(
                        400,
                        "invalid_request_error",
                        Some("previous_response_not_found"),
                        &format!(
                            "Previous response with id '{prev_id}' not found: amux keeps only the last response of this connection"
                        ),
                    ));
                }
            }
        }
        input.extend(new_input);
        if obj.get("store") != Some(&Value::Bool(true)) {
            // Item ids name items the socket holds; over HTTP without `store` they name nothing
            // (OpenAI refuses them), so they go, as Codex itself drops them over HTTP.
            for item in &mut input {
                if let Some(o) = item.as_object_mut() {
                    o.remove("id");
                }
            }
        }
        let generate = obj.remove("generate");
        // Metadata of the WebSocket transport (Codex's installation id): the HTTP API refuses it.
        obj.remove("client_metadata");
        obj.insert("stream".into(), Value::Bool(true));
        if generate == Some(Value::Bool(false)) {
            // Warm-up: no model call; the next turn can name this one.
            let id = new_id("resp");
            let model = obj.get("model").cloned().unwrap_or(Value::Null);
            let resp = json!({"id": id, "object": "response", "created_at": now_secs(), "status": "in_progress",
                "model": model, "output": []});
            let mut done = resp.clone();
            done["status"] = json!("completed");
            done["usage"] = json!({"input_tokens": 0, "output_tokens": 0, "total_tokens": 0});
            let (tx, rx) = mpsc::channel(4);
            let created = json!({"type": "response.created", "sequence_number": 0, "response": resp}).to_string();
            let completed = json!({"type": "response.completed", "sequence_number": 1, "response": done}).to_string();
            let _ = tx.try_send(Out::Text(created));
            let _ = tx.try_send(Out::Done { last: vec![completed], chain: Some((id, Vec::new())) });
            *turn = Some(Turn { rx, task: tokio::spawn(async {}), request: obj, input });
            return None;
        }
        let mut body = obj.clone();
        body.insert("input".into(), Value::Array(input.clone()));
        let body = match serde_json::to_vec(&Value::Object(body)) {
            Ok(b) => Bytes::from(b),
            Err(e) => return Some(invalid("invalid_message", &e.to_string())),
        };
        if body.len() > self.max_message {
            return Some(too_large(self.max_message));
        }
        let (tx, rx) = mpsc::channel(64);
        let task = tokio::spawn(run_turn(self.live.clone(), self.headers.clone(), self.uri.clone(), body, tx));
        *turn = Some(Turn { rx, task, request: obj, input });
        None
    }
}

/// One turn: a `POST /v1/responses` call through the whole stack on the current config, its SSE
/// events forwarded one message each.
async fn run_turn(live: LiveState, headers: HeaderMap, uri: Uri, body: Bytes, tx: mpsc::Sender<Out>) {
    let state = live.0.current();
    let mut req = Request::new(Body::from(body));
    *req.method_mut() = http::Method::POST;
    *req.uri_mut() = uri;
    *req.headers_mut() = headers;
    req.headers_mut().insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static("application/json"));
    req.headers_mut().remove(http::header::CONTENT_LENGTH);
    let resp = dispatch(state, Dialect::OpenAiResponses, Op::Generate, req, None, None).await;
    let status = resp.status();
    if status != StatusCode::OK {
        let last = vec![error_from_response(resp).await];
        let _ = tx.send(Out::Done { last, chain: None }).await;
        return;
    }
    let mut parser = SseParser::new();
    let mut events: Vec<SseEvent> = Vec::new();
    let mut output: Vec<Value> = Vec::new();
    let mut completed: Option<String> = None;
    // The terminal event and whatever follows it, held for `Out::Done`.
    let mut last: Vec<String> = Vec::new();
    let mut body = resp.into_body();
    loop {
        let (done, broke) = match body.frame().await {
            Some(Ok(f)) => {
                if let Ok(data) = f.into_data() {
                    parser.feed(&data, &mut events);
                }
                (false, None)
            }
            Some(Err(e)) => (true, Some(e.to_string())),
            None => {
                parser.finish(&mut events);
                (true, None)
            }
        };
        for ev in events.drain(..) {
            if ev.data.is_empty() || ev.data == "[DONE]" {
                continue;
            }
            let mut terminal = false;
            if let Ok(v) = serde_json::from_str::<Value>(&ev.data) {
                match v.get("type").and_then(Value::as_str) {
                    Some("response.output_item.done") => {
                        if let Some(item) = v.get("item") {
                            output.push(item.clone());
                        }
                    }
                    Some("response.completed") => {
                        completed = v.pointer("/response/id").and_then(Value::as_str).map(str::to_string);
                        terminal = true;
                    }
                    Some("response.failed" | "response.incomplete" | "error") => terminal = true,
                    _ => {}
                }
            }
            if terminal || !last.is_empty() {
                last.push(ev.data);
            } else if tx.send(Out::Text(ev.data)).await.is_err() {
                return;
            }
        }
        if let Some(e) = broke {
            last.push(error_event(502, "api_error", None, &format!("the response stream broke: {e}")));
        }
        if done {
            break;
        }
    }
    let _ = tx.send(Out::Done { last, chain: completed.map(|id| (id, output)) }).await;
}

/// An error answer of the HTTP path as one WebSocket error message: its status, its OpenAI error
/// object, and the `retry-after` header (Codex reads both).
async fn error_from_response(resp: Response<Body>) -> String {
    let status = resp.status().as_u16();
    let retry_after = resp.headers().get(http::header::RETRY_AFTER).and_then(|v| v.to_str().ok()).map(str::to_string);
    let bytes = resp.into_body().collect().await.map(|c| c.to_bytes()).unwrap_or_default();
    let error = serde_json::from_slice::<Value>(&bytes)
        .ok()
        .and_then(|v| v.get("error").cloned())
        .unwrap_or_else(|| json!({"type": "api_error", "message": String::from_utf8_lossy(&bytes)}));
    let mut ev = json!({"type": "error", "status": status, "error": error});
    if let Some(ra) = retry_after {
        ev["headers"] = json!({"retry-after": ra});
    }
    ev.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session() -> Session {
        let live = crate::gateway::LiveState(std::sync::Arc::new(
            futures_util::FutureExt::now_or_never(crate::gateway::Live::for_tests()).expect("builds at once"),
        ));
        Session {
            live,
            headers: HeaderMap::new(),
            uri: Uri::from_static("/v1/responses"),
            last: None,
            max_message: 1 << 20,
        }
    }

    fn error_of(reply: Option<String>) -> Value {
        let v: Value = serde_json::from_str(&reply.expect("a reply")).unwrap();
        assert_eq!(v["type"], "error", "{v}");
        v
    }

    #[tokio::test]
    async fn malformed_and_unknown_messages_are_answered_with_an_error() {
        let mut s = session();
        let mut turn = None;
        assert_eq!(error_of(s.message("not json", &mut turn))["error"]["code"], "invalid_json");
        assert_eq!(error_of(s.message("[1]", &mut turn))["error"]["code"], "invalid_message");
        assert_eq!(error_of(s.message("{}", &mut turn))["error"]["code"], "invalid_message");
        assert_eq!(
            error_of(s.message(r#"{"type":"session.update"}"#, &mut turn))["error"]["code"],
            "unsupported_message"
        );
        assert_eq!(s.message(r#"{"type":"response.processed","response_id":"r"}"#, &mut turn), None);
        let v =
            error_of(s.message(r#"{"type":"response.create","previous_response_id":"resp_x","input":[]}"#, &mut turn));
        assert_eq!(
            (v["status"].as_u64(), v["error"]["code"].as_str()),
            (Some(400), Some("previous_response_not_found"))
        );
        assert!(turn.is_none());
    }

    #[tokio::test]
    async fn warm_up_then_a_chained_turn_rebuilds_the_whole_input() {
        let mut s = session();
        let mut turn = None;
        let warm = r#"{"type":"response.create","model":"m","generate":false,"input":[{"role":"user","content":"a"}]}"#;
        assert_eq!(s.message(warm, &mut turn), None);
        let t = turn.as_mut().unwrap();
        let mut texts = Vec::new();
        let mut done = None;
        while let Ok(o) = t.rx.try_recv() {
            match o {
                Out::Text(x) => texts.push(serde_json::from_str::<Value>(&x).unwrap()),
                Out::Done { last, chain } => {
                    // The terminal event comes with the turn's end, never before it.
                    assert_eq!(texts.len(), 1);
                    texts.extend(last.iter().map(|x| serde_json::from_str::<Value>(x).unwrap()));
                    done = chain;
                }
            }
        }
        assert_eq!(texts[0]["type"], "response.created");
        assert_eq!(texts[1]["type"], "response.completed");
        let (id, output) = done.unwrap();
        assert_eq!(texts[1]["response"]["id"], json!(id));
        let t = turn.take().unwrap();
        s.last = Some(Chain { id: id.clone(), request: t.request.clone(), input: t.input.clone(), output });
        // A second create while one is in flight is refused.
        let mut busy =
            Some(Turn { rx: mpsc::channel(1).1, task: tokio::spawn(async {}), request: Map::new(), input: vec![] });
        let v = error_of(s.message(r#"{"type":"response.create","input":[]}"#, &mut busy));
        assert_eq!(v["error"]["code"], "concurrent_response");
        // The chained turn's request carries the whole input (warm-up input, then the new item).
        let next = format!(
            r#"{{"type":"response.create","model":"m","previous_response_id":"{id}","generate":false,"input":[{{"role":"user","content":"b"}}]}}"#
        );
        assert_eq!(s.message(&next, &mut turn), None);
        let t = turn.unwrap();
        assert_eq!(t.input, vec![json!({"role":"user","content":"a"}), json!({"role":"user","content":"b"})]);
        assert!(!t.request.contains_key("previous_response_id") && !t.request.contains_key("generate"));
    }
}

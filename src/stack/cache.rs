//! The exact-match response cache. The key is the normalized request (its IR, so the same
//! question asked in two dialects is one entry) scoped by team; the value is the IR response,
//! replayed whole or as a stream in whichever dialect asks next. Opt-in per alias (`cache: true`)
//! or per request (`x-amux-cache: on`; `off` opts out). Only complete, successful answers are
//! stored. In process (bounded, LRU with TTL) or in Redis, shared by replicas.

use std::sync::Arc;
use std::time::Duration;

use aws_lc_rs::digest::{SHA256, digest};
use http::HeaderMap;
use redis::AsyncCommands;
use serde_json::Value;

use axum::body::Body;
use http::Response;

use crate::gateway::{json_response, respond_overhead, stream_headers};
use crate::ir::{self, BlockDelta, BlockStart, StreamEvent};
use crate::providers::Alias;
use crate::stack::redis::{Redis, RedisDown};
use crate::stack::service::{ModelCall, ModelService};
use crate::translate;

/// Request and response header of the cache (a `HeaderName`: looked up without parsing the name
/// on every call).
pub const HEADER: http::HeaderName = http::HeaderName::from_static("x-amux-cache");

enum Backend {
    Memory(moka::sync::Cache<String, Arc<Vec<u8>>>),
    Redis(Redis),
}

pub struct Cache {
    backend: Backend,
    ttl: Duration,
}

impl Cache {
    pub fn memory(max_entries: u64, ttl: Duration) -> Cache {
        let c = moka::sync::Cache::builder().max_capacity(max_entries).time_to_live(ttl).build();
        Cache { backend: Backend::Memory(c), ttl }
    }

    pub fn redis(redis: Redis, ttl: Duration) -> Cache {
        Cache { backend: Backend::Redis(redis), ttl }
    }

    /// The cached answer for `key`.
    pub async fn get(&self, key: &str) -> Option<ir::Response> {
        let bytes: Vec<u8> = match &self.backend {
            Backend::Memory(c) => c.get(key)?.as_ref().clone(),
            Backend::Redis(r) => {
                let mut conn = r.conn();
                match r.run(conn.get::<_, Option<Vec<u8>>>(format!("{}cache:{key}", r.prefix()))).await {
                    Ok(v) => v?,
                    Err(RedisDown::Open) => return None,
                    Err(e) => {
                        tracing::warn!(error = %e, "response cache: redis get failed");
                        return None;
                    }
                }
            }
        };
        serde_json::from_slice(&bytes).ok()
    }

    /// Stores an answer (in the background for Redis).
    pub fn put(&self, key: String, resp: &ir::Response) {
        let Ok(bytes) = crate::jsonwrite::to_vec(resp) else { return };
        match &self.backend {
            Backend::Memory(c) => c.insert(key, Arc::new(bytes)),
            Backend::Redis(r) => {
                let (r, full, ttl) = (r.clone(), format!("{}cache:{key}", r.prefix()), self.ttl.as_secs().max(1));
                if r.is_up()
                    && let Ok(rt) = tokio::runtime::Handle::try_current()
                {
                    rt.spawn(async move {
                        let mut conn = r.conn();
                        if let Err(e) = r.run(conn.set_ex::<_, _, ()>(full, bytes, ttl)).await {
                            tracing::debug!(error = %e, "response cache: redis set failed");
                        }
                    });
                }
            }
        }
    }
}

/// Where a call's answer is to be stored.
#[derive(Clone)]
pub struct Store {
    pub cache: Arc<Cache>,
    pub key: String,
}

/// Records a streamed answer, event by event, and stores it when it completes.
pub struct Recorder {
    pub store: Store,
    pub acc: Accumulator,
}

impl Recorder {
    pub fn new(store: Store) -> Self {
        Recorder { store, acc: Accumulator::default() }
    }

    /// Stores the answer if the stream completed cleanly.
    pub fn finish(self) {
        if let Some(r) = self.acc.finish() {
            self.store.cache.put(self.store.key, &r);
        }
    }
}

/// Whether this call uses the cache: the request header wins, else the alias setting.
pub fn wanted(headers: &HeaderMap, alias: &Alias) -> bool {
    match headers.get(&HEADER).and_then(|v| v.to_str().ok()).map(|v| v.trim().to_ascii_lowercase()) {
        Some(v) if v == "on" || v == "true" || v == "1" => true,
        Some(v) if v == "off" || v == "false" || v == "0" => false,
        _ => alias.cache,
    }
}

/// The cache key: team + alias + everything in the request that shapes the answer (not how it is
/// delivered: streaming, usage reporting and provider params do not count).
pub fn key(team: Option<&str>, alias: &str, req: &ir::Request) -> String {
    let mut normalized = req.clone();
    normalized.model = alias.to_string();
    normalized.stream = false;
    normalized.stream_include_usage = false;
    normalized.provider_params.clear();
    normalized.user = None;
    let text = format!("{}\u{0}{normalized:?}", team.unwrap_or(""));
    digest(&SHA256, text.as_bytes()).as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// Builds a whole response from a stream's IR events.
#[derive(Default)]
pub struct Accumulator {
    resp: Option<ir::Response>,
    /// Tool-call arguments as they arrive, by block index.
    args: Vec<(usize, String)>,
    complete: bool,
    failed: bool,
}

impl Accumulator {
    pub fn push(&mut self, ev: &StreamEvent) {
        match ev {
            StreamEvent::MessageStart { id, model, usage } => {
                self.resp = Some(ir::Response {
                    id: id.clone(),
                    model: model.clone(),
                    content: Vec::new(),
                    stop_reason: None,
                    stop_sequence: None,
                    usage: *usage,
                });
            }
            StreamEvent::BlockStart { index, block } => {
                let Some(r) = &mut self.resp else { return };
                r.content.push(match block {
                    BlockStart::Text => ir::Block::Text { text: String::new(), cache_control: None },
                    BlockStart::Thinking => ir::Block::Thinking { thinking: String::new(), signature: None },
                    BlockStart::RedactedThinking { data } => ir::Block::RedactedThinking { data: data.clone() },
                    BlockStart::ToolUse { id, name } => {
                        self.args.push((*index, String::new()));
                        ir::Block::ToolUse { id: id.clone(), name: name.clone(), input: Value::Null }
                    }
                });
            }
            StreamEvent::BlockDelta { index, delta } => {
                let Some(block) = self.resp.as_mut().and_then(|r| r.content.last_mut()) else { return };
                match (block, delta) {
                    (ir::Block::Text { text, .. }, BlockDelta::Text(t)) => text.push_str(t),
                    (ir::Block::Thinking { thinking, .. }, BlockDelta::Thinking(t)) => thinking.push_str(t),
                    (ir::Block::Thinking { signature, .. }, BlockDelta::Signature(s)) => {
                        signature.get_or_insert_with(String::new).push_str(s)
                    }
                    (ir::Block::ToolUse { .. }, BlockDelta::InputJson(j)) => {
                        if let Some((_, buf)) = self.args.iter_mut().find(|(i, _)| i == index) {
                            buf.push_str(j);
                        }
                    }
                    _ => {}
                }
            }
            StreamEvent::BlockStop { index } => {
                let Some(block) = self.resp.as_mut().and_then(|r| r.content.last_mut()) else { return };
                if let ir::Block::ToolUse { input, .. } = block
                    && let Some((_, buf)) = self.args.iter().find(|(i, _)| i == index)
                {
                    *input = if buf.trim().is_empty() {
                        Value::Object(Default::default())
                    } else {
                        match serde_json::from_str(buf) {
                            Ok(v) => v,
                            Err(_) => {
                                self.failed = true;
                                Value::Null
                            }
                        }
                    };
                }
            }
            StreamEvent::MessageDelta { stop_reason, stop_sequence, usage } => {
                if let Some(r) = &mut self.resp {
                    r.stop_reason = *stop_reason;
                    r.stop_sequence = stop_sequence.clone();
                    r.usage.merge_max(usage);
                }
            }
            StreamEvent::MessageStop => self.complete = true,
            StreamEvent::Error(_) => self.failed = true,
            StreamEvent::Ping => {}
        }
    }

    /// The response, when the stream completed without error.
    pub fn finish(self) -> Option<ir::Response> {
        if self.complete && !self.failed { self.resp } else { None }
    }
}

/// A cached response as the IR events of a stream (one delta per block).
pub fn replay(resp: &ir::Response) -> Vec<StreamEvent> {
    let mut out = vec![StreamEvent::MessageStart { id: resp.id.clone(), model: resp.model.clone(), usage: resp.usage }];
    for (index, b) in resp.content.iter().enumerate() {
        let (start, deltas) = match b {
            ir::Block::Text { text, .. } => (BlockStart::Text, vec![BlockDelta::Text(text.clone())]),
            ir::Block::Thinking { thinking, signature } => {
                let mut d = vec![BlockDelta::Thinking(thinking.clone())];
                d.extend(signature.clone().map(BlockDelta::Signature));
                (BlockStart::Thinking, d)
            }
            ir::Block::RedactedThinking { data } => (BlockStart::RedactedThinking { data: data.clone() }, vec![]),
            ir::Block::ToolUse { id, name, input } => (
                BlockStart::ToolUse { id: id.clone(), name: name.clone() },
                vec![BlockDelta::InputJson(input.to_string())],
            ),
            _ => continue,
        };
        out.push(StreamEvent::BlockStart { index, block: start });
        out.extend(deltas.into_iter().map(|delta| StreamEvent::BlockDelta { index, delta }));
        out.push(StreamEvent::BlockStop { index });
    }
    out.push(StreamEvent::MessageDelta {
        stop_reason: resp.stop_reason,
        stop_sequence: resp.stop_sequence.clone(),
        usage: resp.usage,
    });
    out.push(StreamEvent::MessageStop);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::{Block, StopReason, Usage};

    fn resp() -> ir::Response {
        ir::Response {
            id: "msg_1".into(),
            model: "m".into(),
            content: vec![
                Block::Thinking { thinking: "hmm".into(), signature: Some("sig==".into()) },
                Block::Text { text: "hello".into(), cache_control: None },
                Block::ToolUse { id: "t1".into(), name: "f".into(), input: serde_json::json!({"a": 1}) },
            ],
            stop_reason: Some(StopReason::ToolUse),
            stop_sequence: None,
            usage: Usage { input_tokens: 3, output_tokens: 4, ..Usage::default() },
        }
    }

    #[test]
    fn replay_then_accumulate_round_trips() {
        let mut acc = Accumulator::default();
        for ev in replay(&resp()) {
            acc.push(&ev);
        }
        assert_eq!(acc.finish(), Some(resp()));
    }

    #[test]
    fn errors_and_incomplete_streams_are_not_cached() {
        let mut acc = Accumulator::default();
        let evs = replay(&resp());
        for ev in &evs[..evs.len() - 1] {
            acc.push(ev);
        }
        assert_eq!(acc.finish(), None);
    }

    #[test]
    fn keys_ignore_delivery_but_not_content() {
        let req = ir::Request {
            messages: vec![ir::Message {
                role: ir::Role::User,
                content: vec![Block::Text { text: "q".into(), cache_control: None }],
            }],
            ..ir::Request::default()
        };
        let streamed = ir::Request { stream: true, stream_include_usage: true, ..req.clone() };
        assert_eq!(key(Some("t"), "a", &req), key(Some("t"), "a", &streamed));
        assert_ne!(key(Some("t"), "a", &req), key(Some("u"), "a", &req), "teams do not share entries");
        let other = ir::Request { temperature: Some(0.5), ..req.clone() };
        assert_ne!(key(Some("t"), "a", &req), key(Some("t"), "a", &other));
    }
}

layer! {
    /// Answers from the cache when the call wants it and a stored answer exists; on a miss, marks
    /// where the answer is to be stored and lets the call through.
    CacheLayer => CacheService
}

impl<S: ModelService> ModelService for CacheService<S> {
    async fn call<'a, 'c: 'a>(&'a self, call: &'a mut ModelCall<'c>) -> Response<Body> {
        if !wanted(call.inbound.headers, &call.alias) {
            return self.0.call(call).await;
        }
        let team = call.inbound.principal.as_ref().and_then(|p| p.team.clone());
        let alias = call.alias.name.clone();
        let key = match call.ir() {
            Ok(req) => key(team.as_deref(), &alias, req),
            Err(e) => return call.fail(e),
        };
        if let Some(resp) = call.state.cache.get(&key).await {
            return hit(call, resp);
        }
        call.guard.cache(false);
        call.store = Some(Store { cache: call.state.cache.clone(), key });
        self.0.call(call).await
    }
}

/// Answers from the cache, whole or replayed as a stream in the caller's dialect.
fn hit(call: &mut ModelCall<'_>, resp: ir::Response) -> Response<Body> {
    let caller = call.inbound.dialect;
    let stream = call.stream;
    call.guard.cache(true);
    call.guard.route("cache", &resp.model, false);
    call.guard.mark_complete();
    let req = match call.ir() {
        Ok(r) => r,
        Err(e) => return call.fail(e),
    };
    let mut out = if stream {
        let mut r = Response::new(Body::from(translate::encode_stream(caller, req, &replay(&resp))));
        stream_headers(r.headers_mut(), caller);
        r
    } else {
        json_response(http::StatusCode::OK, translate::encode_response_for(caller, &resp, req))
    };
    out.headers_mut().insert(HEADER, http::HeaderValue::from_static("hit"));
    respond_overhead(out.headers_mut(), call.inbound.started.elapsed());
    out
}

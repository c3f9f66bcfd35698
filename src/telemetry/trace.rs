//! Spans of a model call with the OpenTelemetry GenAI semantic conventions: one server span per
//! call (`chat {model}`), a client span per upstream attempt (`POST {provider}`), the caller's
//! W3C `traceparent` as parent, and the upstream attempt's context sent to the upstream as
//! `traceparent`. Never a prompt, a completion or a key.
//!
//! Attributes are set through `tracing-opentelemetry`. Without an exporter no span is made at all
//! ([`set_exporting`]): the text log's lines carry their own fields (the usage line, `deployment`
//! on warnings), and building and formatting two spans per call was about 6% of a same-dialect
//! call's instructions (docs/benchmarks.md).

use std::sync::atomic::{AtomicBool, Ordering};

use http::HeaderMap;
use opentelemetry::trace::Status;
use opentelemetry::{Array, StringValue, Value};
use opentelemetry_http::{HeaderExtractor, HeaderInjector};
use tracing::Span;
use tracing_opentelemetry::OpenTelemetrySpanExt;

use crate::ir::Dialect;
use crate::usage::{CallRecord, Outcome};

/// Whether spans are exported (an OTLP endpoint is configured); set once by `otel::init`.
static EXPORTING: AtomicBool = AtomicBool::new(false);

/// Makes the call and upstream spans (only worth their cost when something exports them).
pub fn set_exporting(on: bool) {
    EXPORTING.store(on, Ordering::Relaxed);
}

fn exporting() -> bool {
    EXPORTING.load(Ordering::Relaxed)
}

/// `gen_ai.provider.name` (and the older `gen_ai.system`) for a provider preset.
pub fn system_of(preset: &str) -> &str {
    match preset {
        "gemini" => "gcp.gemini",
        "mistral" => "mistral_ai",
        "xai" => "x_ai",
        other => other,
    }
}

/// The server span of one model call (`chat {model}`, or `chat` when the request was refused
/// before its model was read), child of the caller's `traceparent` when it sent one.
pub fn call_span(surface: Dialect, headers: Option<&HeaderMap>, model: Option<&str>, stream: bool) -> Span {
    if !exporting() {
        return Span::none();
    }
    let name = match model {
        Some(m) => format!("chat {m}"),
        None => "chat".to_string(),
    };
    let span = tracing::info_span!("gen_ai.call", otel.name = %name, otel.kind = "server");
    if let Some(h) = headers.filter(|h| h.contains_key("traceparent")) {
        let parent = opentelemetry::global::get_text_map_propagator(|p| p.extract(&HeaderExtractor(h)));
        let _ = span.set_parent(parent);
    }
    span.set_attribute("gen_ai.operation.name", "chat");
    span.set_attribute("amux.surface", surface.label());
    if let Some(m) = model {
        span.set_attribute("gen_ai.request.model", m.to_string());
        span.set_attribute("amux.stream", stream);
    }
    span
}

/// The caller's key and team.
pub fn principal(span: &Span, key: Option<&str>, team: Option<&str>) {
    if span.is_disabled() {
        return;
    }
    if let Some(k) = key {
        span.set_attribute("amux.key", k.to_string());
    }
    if let Some(t) = team {
        span.set_attribute("amux.team", t.to_string());
    }
}

/// The outcome of a call refused before routing.
pub fn rejected(span: &Span, status: u16, kind: &str) {
    if span.is_disabled() {
        return;
    }
    span.set_attribute("http.response.status_code", i64::from(status));
    span.set_attribute("error.type", kind.to_string());
    span.set_status(Status::error(kind.to_string()));
}

/// Final attributes of a call from its record.
pub fn finish(span: &Span, rec: &CallRecord, provider_kind: Option<&str>) {
    if span.is_disabled() {
        return;
    }
    if let Some(kind) = provider_kind {
        span.set_attribute("gen_ai.provider.name", system_of(kind).to_string());
        span.set_attribute("gen_ai.system", system_of(kind).to_string());
    }
    if !rec.upstream_model.is_empty() {
        span.set_attribute("gen_ai.response.model", rec.upstream_model.clone());
    }
    let u = &rec.usage;
    span.set_attribute("gen_ai.usage.input_tokens", u.total_input() as i64);
    span.set_attribute("gen_ai.usage.output_tokens", u.output_tokens as i64);
    span.set_attribute("gen_ai.usage.cache_read.input_tokens", u.cache_read_tokens as i64);
    span.set_attribute("gen_ai.usage.cache_creation.input_tokens", u.cache_write_tokens as i64);
    if let Some(reason) = &rec.finish_reason {
        let reasons = Value::Array(Array::String(vec![StringValue::from(reason.clone())]));
        span.set_attribute("gen_ai.response.finish_reasons", reasons);
    }
    if let Some(cost) = rec.cost {
        span.set_attribute("amux.cost_usd", cost);
    }
    span.set_attribute("amux.provider", rec.provider.clone());
    span.set_attribute("amux.retries", i64::from(rec.retries));
    span.set_attribute("amux.fallbacks", i64::from(rec.fallbacks));
    if let Some(hit) = rec.cache {
        span.set_attribute("amux.cache", if hit { "hit" } else { "miss" });
    }
    span.set_attribute("http.response.status_code", i64::from(rec.outcome.status()));
    match rec.outcome {
        Outcome::Success => {}
        Outcome::Error { kind, .. } => {
            span.set_attribute("error.type", kind);
            span.set_status(Status::error(kind));
        }
        Outcome::ClientDisconnected => span.set_attribute("amux.client_disconnected", true),
    }
}

/// The client span of one upstream attempt.
pub fn upstream_span(provider: &str, preset: &str, model: &str, host: Option<&str>) -> Span {
    if !exporting() {
        return Span::none();
    }
    let span = tracing::info_span!("gen_ai.upstream", otel.name = %format!("POST {provider}"), otel.kind = "client");
    span.set_attribute("http.request.method", "POST");
    span.set_attribute("gen_ai.operation.name", "chat");
    span.set_attribute("gen_ai.provider.name", system_of(preset).to_string());
    span.set_attribute("gen_ai.system", system_of(preset).to_string());
    span.set_attribute("gen_ai.request.model", model.to_string());
    if let Some(h) = host {
        span.set_attribute("server.address", h.to_string());
    }
    span
}

/// The status of an upstream attempt.
pub fn upstream_status(span: &Span, status: Option<u16>, error: Option<&str>) {
    if span.is_disabled() {
        return;
    }
    if let Some(s) = status {
        span.set_attribute("http.response.status_code", i64::from(s));
    }
    if let Some(e) = error {
        span.set_attribute("error.type", e.to_string());
        span.set_status(Status::error(e.to_string()));
    }
}

/// Writes the current span's context as `traceparent` (and `tracestate`) into upstream headers.
pub fn inject(headers: &mut HeaderMap) {
    if !exporting() {
        return;
    }
    let cx = Span::current().context();
    opentelemetry::global::get_text_map_propagator(|p| p.inject_context(&cx, &mut HeaderInjector(headers)));
}

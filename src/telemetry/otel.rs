//! The process's `tracing` subscriber: logs to stderr (text or JSON lines) and, when an OTLP
//! endpoint is configured (`tracing.otlp_endpoint` or `OTEL_EXPORTER_OTLP_ENDPOINT`), an
//! OpenTelemetry layer exporting spans over OTLP/HTTP (protobuf) in batches, with W3C trace
//! context as the propagator. Off otherwise: spans then cost what `tracing` spans cost.
//!
//! The exporter's HTTP client is amux's own hyper client (rustls): the SDK's batch processor
//! runs on its own thread, so each export is spawned onto the gateway's Tokio runtime and
//! awaited from there.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::{BodyExt, Limited};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_http::HttpError;
use opentelemetry_otlp::{Protocol, WithExportConfig, WithHttpConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{Sampler, SdkTracerProvider};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

use crate::config::TracingConfig;
use crate::providers::client::{self, HttpClient, UpBody};
use crate::providers::expand_env;

/// Why tracing could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TraceError {
    #[error("tracing.{field}: {message}")]
    Config { field: &'static str, message: String },
    #[error("OTLP exporter: {0}")]
    Exporter(String),
}

impl TraceError {
    pub fn label(&self) -> &'static str {
        match self {
            TraceError::Config { .. } => "tracing_config",
            TraceError::Exporter(_) => "otlp_exporter",
        }
    }
}

/// Keeps the exporter; flush before exit.
pub struct TraceGuard {
    provider: Option<SdkTracerProvider>,
}

impl TraceGuard {
    /// Whether spans are exported.
    pub fn exporting(&self) -> bool {
        self.provider.is_some()
    }

    /// Exports every finished span now (blocking; call from a blocking context).
    pub fn flush(&self) {
        if let Some(p) = &self.provider
            && let Err(e) = p.force_flush()
        {
            eprintln!("amux: flushing traces failed: {e}");
        }
    }

    /// Flushes and stops the exporter (blocking).
    pub fn shutdown(self) {
        if let Some(p) = self.provider
            && let Err(e) = p.shutdown()
        {
            eprintln!("amux: stopping the trace exporter failed: {e}");
        }
    }
}

/// The OTLP endpoint for traces (`…/v1/traces`), if any.
pub fn endpoint(cfg: &TracingConfig, env: &dyn Fn(&str) -> Option<String>) -> Result<Option<String>, TraceError> {
    let base = match &cfg.otlp_endpoint {
        Some(e) => Some(expand_env(e, env).map_err(|message| TraceError::Config { field: "otlp_endpoint", message })?),
        None => env("OTEL_EXPORTER_OTLP_ENDPOINT"),
    };
    Ok(base.filter(|b| !b.trim().is_empty()).map(|b| {
        let b = b.trim().trim_end_matches('/');
        if b.ends_with("/v1/traces") { b.to_string() } else { format!("{b}/v1/traces") }
    }))
}

/// Installs the global subscriber: logs (JSON lines when `json`) plus the OTLP layer when an
/// endpoint is configured. Must be called inside the Tokio runtime that will serve.
pub fn init(cfg: &TracingConfig, json: bool, env: &dyn Fn(&str) -> Option<String>) -> Result<TraceGuard, TraceError> {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let ansi = !json && std::io::IsTerminal::is_terminal(&std::io::stderr());
    let fmt = tracing_subscriber::fmt::layer().with_writer(std::io::stderr).with_ansi(ansi);
    let fmt = if json { fmt.json().boxed() } else { fmt.boxed() };
    let provider = match endpoint(cfg, env)? {
        Some(url) => Some(provider(cfg, &url, env)?),
        None => None,
    };
    crate::telemetry::trace::set_exporting(provider.is_some());
    let otel = provider.as_ref().map(|p| tracing_opentelemetry::layer().with_tracer(p.tracer("amux")));
    // A second init (tests, embedders) keeps the first subscriber.
    let _ = tracing_subscriber::registry().with(filter).with(fmt).with(otel).try_init();
    Ok(TraceGuard { provider })
}

fn provider(
    cfg: &TracingConfig,
    url: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<SdkTracerProvider, TraceError> {
    if !(0.0..=1.0).contains(&cfg.sample_ratio) {
        return Err(TraceError::Config { field: "sample_ratio", message: "must be between 0 and 1".into() });
    }
    let mut headers = std::collections::HashMap::new();
    for (k, v) in &cfg.headers {
        let v = expand_env(v, env).map_err(|message| TraceError::Config { field: "headers", message })?;
        headers.insert(k.clone(), v);
    }
    let rt = tokio::runtime::Handle::try_current()
        .map_err(|_| TraceError::Exporter("must be started inside the Tokio runtime".into()))?;
    let http = client::build(Duration::from_secs(10)).map_err(|e| TraceError::Exporter(e.to_string()))?;
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpBinary)
        .with_endpoint(url)
        .with_timeout(Duration::from_secs(10))
        .with_headers(headers)
        .with_http_client(OtlpHttp { client: http, rt })
        .build()
        .map_err(|e| TraceError::Exporter(e.to_string()))?;
    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
    let sampler = Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(cfg.sample_ratio)));
    Ok(SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_sampler(sampler)
        .with_resource(Resource::builder().with_service_name(cfg.service_name.clone()).build())
        .build())
}

/// The exporter's HTTP client: amux's hyper client, run on the gateway's runtime.
struct OtlpHttp {
    client: HttpClient,
    rt: tokio::runtime::Handle,
}

impl std::fmt::Debug for OtlpHttp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OtlpHttp")
    }
}

/// Largest collector answer read.
const MAX_ANSWER: usize = 1 << 20;

impl opentelemetry_http::HttpClient for OtlpHttp {
    fn send_bytes<'life0, 'async_trait>(
        &'life0 self,
        request: Request<Bytes>,
    ) -> Pin<Box<dyn Future<Output = Result<Response<Bytes>, HttpError>> + Send + 'async_trait>>
    where
        'life0: 'async_trait,
        Self: 'async_trait,
    {
        let client = self.client.clone();
        let task = self.rt.spawn(async move {
            let (parts, body) = request.into_parts();
            let resp = client.request(Request::from_parts(parts, UpBody::from(body))).await?;
            let (parts, body) = resp.into_parts();
            let bytes = Limited::new(body, MAX_ANSWER).collect().await?.to_bytes();
            Ok::<_, HttpError>(Response::from_parts(parts, bytes))
        });
        Box::pin(async move { task.await.map_err(|e| Box::new(e) as HttpError)? })
    }
}

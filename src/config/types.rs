//! Config file types. Doc comments here become descriptions in the generated JSON Schema.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

pub use super::lifecycle::LifecycleConfig;
pub use super::limits::LimitsConfig;
pub use super::observe::{
    AdminConfig, BudgetConfig, LongContextPrice, MetricsConfig, PriceConfig, TeamConfig, TracingConfig,
};
pub use super::team::{CacheBackend, CacheConfig, FailMode, KeyConfig, Permission, RedisConfig, RouterConfig};

/// amux gateway configuration (YAML or JSON).
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Address to listen on, e.g. `127.0.0.1:8484` (overridden by `--listen` / `AMUX_LISTEN`).
    #[serde(default)]
    pub listen: Option<String>,
    /// Serve HTTPS instead of HTTP on `listen` (every surface). Needed by Bedrock callers that
    /// send an API key as a bearer token: botocore sends one over HTTPS only. Read at start; the
    /// files are reloaded when their content changes.
    #[serde(default)]
    pub tls: Option<TlsConfig>,
    /// Graceful shutdown (readiness delay, drain timeout) and live reload (file watching).
    #[serde(default)]
    pub lifecycle: LifecycleConfig,
    /// Limits on connections, request heads and bodies, calls in flight, upstream answers and
    /// streams (docs/operations.md). The defaults are safe for a shared gateway.
    #[serde(default)]
    pub limits: LimitsConfig,
    /// Also register the built-in presets whose key variable is set in the environment
    /// (ANTHROPIC_API_KEY, OPENAI_API_KEY, GROQ_API_KEY, ...) and the keyless local ones
    /// (ollama, vllm, lmstudio), unless a provider of that name is configured here. Default true.
    #[serde(default = "default_true")]
    pub discover_env: bool,
    /// What a translated call does with a field the target has no form for: `lenient` (the
    /// default) drops advisory fields and reports them in `x-amux-dropped`; `strict` refuses them
    /// (400 naming the field). Per alias too, and per request with `x-amux-translation: strict`.
    #[serde(default)]
    pub translation: TranslationMode,
    /// Upstream providers by name. The name is what `provider/model` model names refer to.
    #[serde(default)]
    pub providers: BTreeMap<String, ProviderConfig>,
    /// Model aliases: a name callers send, mapped to one or more upstream deployments.
    #[serde(default)]
    pub models: Vec<ModelAlias>,
    /// Virtual keys callers authenticate with.
    #[serde(default)]
    pub keys: Vec<KeyConfig>,
    /// A YAML/JSON file holding more keys (a list shaped like `keys`), e.g. a mounted secret.
    #[serde(default)]
    pub keys_file: Option<String>,
    /// Retries, backoff, cooldown and stream fallback.
    #[serde(default)]
    pub router: RouterConfig,
    /// Shared state for several replicas: rate-limit counters and the response cache.
    #[serde(default)]
    pub redis: Option<RedisConfig>,
    /// The response cache.
    #[serde(default)]
    pub cache: CacheConfig,
    /// Teams by name (the `team` of keys): budgets shared by a team's keys.
    #[serde(default)]
    pub teams: BTreeMap<String, TeamConfig>,
    /// Prices (USD per million tokens) by provider, then upstream model id, added to or
    /// replacing the shipped table. The provider is a name under `providers` or a preset name
    /// (`anthropic`, `openrouter`, ...); a model id may be a glob (`*`).
    #[serde(default)]
    pub prices: BTreeMap<String, BTreeMap<String, PriceConfig>>,
    /// Prometheus metrics.
    #[serde(default)]
    pub metrics: MetricsConfig,
    /// OpenTelemetry traces.
    #[serde(default)]
    pub tracing: TracingConfig,
    /// The admin API.
    #[serde(default)]
    pub admin: AdminConfig,
}

/// A certificate chain and its private key, as PEM files.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    /// The certificate chain (PEM), leaf first.
    pub cert_file: String,
    /// Its private key (PEM: PKCS#8, PKCS#1 or SEC1).
    pub key_file: String,
}

fn default_true() -> bool {
    true
}

/// One upstream API.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProviderConfig {
    /// What the provider speaks: `anthropic`, `openai` (any OpenAI-compatible API), or a named
    /// preset that fills in the base URL and key variable.
    pub kind: ProviderKind,
    /// Base URL. For `anthropic` the origin (`https://api.anthropic.com`); for OpenAI-compatible
    /// kinds the URL that `/chat/completions` is appended to (`https://api.openai.com/v1`).
    /// Defaults to the preset's. `${ENV_VAR}` is expanded.
    #[serde(default)]
    pub base_url: Option<String>,
    /// API key, usually `${ENV_VAR}`. Defaults to the preset's key variable when that is set.
    #[serde(default)]
    pub api_key: Option<String>,
    /// File holding the API key (e.g. a mounted Kubernetes secret); trailing whitespace trimmed.
    #[serde(default)]
    pub api_key_file: Option<String>,
    /// Extra headers sent upstream with every call. Values may use `${ENV_VAR}`.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Timeouts for calls to this provider.
    #[serde(default)]
    pub timeouts: Timeouts,
    /// Provider params merged into every translated request body's top level (config wins).
    #[serde(default)]
    pub params: Map<String, Value>,
    /// For `openai`: the API the server (or model) has. Unset: Chat and Responses (callers of
    /// either get theirs unchanged; other callers are translated to Chat). `chat`: Chat only (a
    /// server without the Responses API; Responses callers are translated). `responses`:
    /// Responses only (models OpenAI serves only there; every other caller is translated).
    #[serde(default)]
    pub api: Option<OpenAiApi>,
    /// Request parameters this provider takes, overriding its preset's (e.g. `top_k: true` for
    /// an OpenAI-compatible server that samples with it). A translated call leaves out, and
    /// reports, what the provider does not take.
    #[serde(default)]
    pub accepts: AcceptsConfig,
    /// For `bedrock`: the AWS region (default: `AWS_REGION`, then `AWS_DEFAULT_REGION`). The
    /// base URL defaults to `https://bedrock-runtime.{region}.amazonaws.com`.
    #[serde(default)]
    pub region: Option<String>,
    /// For `bedrock`: the AWS shared-config profile to take credentials from (default: the
    /// standard chain: environment, shared files and SSO, web identity, ECS, instance metadata).
    #[serde(default)]
    pub aws_profile: Option<String>,
    /// For `bedrock`: static AWS keys, usually `${ENV_VAR}`, instead of the chain. With
    /// `api_key` set instead, it is sent as a Bedrock API key (`Authorization: Bearer`) and
    /// nothing is signed.
    #[serde(default)]
    pub aws_access_key_id: Option<String>,
    /// For `bedrock`: the secret of `aws_access_key_id`, usually `${ENV_VAR}`.
    #[serde(default)]
    pub aws_secret_access_key: Option<String>,
    /// For `bedrock`: a session token going with temporary static keys.
    #[serde(default)]
    pub aws_session_token: Option<String>,
    /// For `bedrock`: an IAM role to assume (STS AssumeRole, session `amux`) with the
    /// credentials found otherwise.
    #[serde(default)]
    pub aws_role_arn: Option<String>,
    /// For `vertex`: the Google Cloud project (default: `GOOGLE_CLOUD_PROJECT`, then
    /// `ANTHROPIC_VERTEX_PROJECT_ID`, then `CLOUDSDK_CORE_PROJECT`).
    #[serde(default)]
    pub project: Option<String>,
    /// For `vertex`: the location, a region (`us-east5`) or `global` (default:
    /// `GOOGLE_CLOUD_LOCATION`, then `CLOUD_ML_REGION`, then `global`). The base URL defaults to
    /// `https://{location}-aiplatform.googleapis.com` (`https://aiplatform.googleapis.com` for
    /// `global`).
    #[serde(default)]
    pub location: Option<String>,
    /// For `vertex`: a service-account key file (JSON) to take tokens from, instead of
    /// Application Default Credentials.
    #[serde(default)]
    pub credentials_file: Option<String>,
    /// For `azure` and `foundry`: the resource name; the base URL becomes
    /// `https://{resource}.openai.azure.com` (`azure`) or `https://{resource}.services.ai.azure.com`
    /// (`foundry`).
    #[serde(default)]
    pub resource: Option<String>,
    /// For `azure`: the API version of the deployment paths (`2024-10-21`; default:
    /// `OPENAI_API_VERSION`). Unset: the v1 API (`/openai/v1/...`, the deployment as `model`). For
    /// `foundry`: the model-inference API version (default `2024-05-01-preview`).
    #[serde(default)]
    pub api_version: Option<String>,
    /// Raw passthrough (`/passthrough/{provider}/{path}`): the path prefixes callers may reach
    /// under the base URL (e.g. `["/v1/files", "/v1/batches"]`). Unset: any path; empty: none.
    #[serde(default)]
    pub passthrough_paths: Option<Vec<String>>,
}

/// Parameters a provider takes (unset: the preset's answer).
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptsConfig {
    /// `temperature` sampling.
    #[serde(default)]
    pub temperature: Option<bool>,
    /// `top_p` sampling.
    #[serde(default)]
    pub top_p: Option<bool>,
    /// `top_k` sampling.
    #[serde(default)]
    pub top_k: Option<bool>,
    /// Reasoning effort / thinking budgets.
    #[serde(default)]
    pub reasoning: Option<bool>,
    /// The dialect's hosted web search tool (Anthropic, OpenAI Responses, Gemini).
    #[serde(default)]
    pub web_search: Option<bool>,
}

/// How translation treats fields the target cannot take.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TranslationMode {
    /// Advisory fields are dropped and reported; what changes the answer is refused.
    #[default]
    Lenient,
    /// Every field the target cannot take is refused.
    Strict,
}

/// The OpenAI API used for translated calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum OpenAiApi {
    Chat,
    Responses,
}

/// Timeouts in seconds.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Timeouts {
    /// TCP + TLS connect.
    #[serde(default = "default_connect")]
    pub connect_secs: f64,
    /// From sending the request to the upstream's response headers.
    #[serde(default = "default_response")]
    pub response_secs: f64,
    /// Longest silence between two pieces of a response body (streams included).
    #[serde(default = "default_idle")]
    pub idle_secs: f64,
}

fn default_connect() -> f64 {
    10.0
}
fn default_response() -> f64 {
    600.0
}
fn default_idle() -> f64 {
    300.0
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts { connect_secs: default_connect(), response_secs: default_response(), idle_secs: default_idle() }
    }
}

/// Provider kinds: the two generic dialects, the named OpenAI-compatible presets, Gemini and
/// `bedrock` (Amazon Bedrock Runtime, signed with SigV4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ProviderKind {
    Anthropic,
    Openai,
    Gemini,
    Groq,
    Mistral,
    Deepseek,
    Together,
    Fireworks,
    Openrouter,
    Xai,
    Cerebras,
    Perplexity,
    NvidiaNim,
    Sambanova,
    Huggingface,
    Ollama,
    Vllm,
    Lmstudio,
    Bedrock,
    /// Google Vertex AI: Gemini, Claude by rawPredict, and its OpenAI-compatible endpoint.
    Vertex,
    /// Azure OpenAI: deployments, `api-key` or Microsoft Entra ID.
    Azure,
    /// Azure AI Foundry: chat models, and Claude by the Anthropic API.
    Foundry,
    Databricks,
    Cloudflare,
    Cohere,
}

/// A model name callers may send: one upstream model (`provider` + `model`) or several
/// deployments balanced by `strategy`, with fallbacks.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ModelAlias {
    /// The name callers send (`model` in the request body).
    pub name: String,
    /// Shorthand for one deployment: a provider under `providers` (or a discovered preset)...
    #[serde(default)]
    pub provider: Option<String>,
    /// ...and its upstream model id.
    #[serde(default)]
    pub model: Option<String>,
    /// The upstream deployments serving this alias.
    #[serde(default)]
    pub deployments: Vec<DeploymentConfig>,
    /// How a deployment is picked for each call.
    #[serde(default)]
    pub strategy: Strategy,
    /// Aliases tried, in order, when every deployment of this one failed.
    #[serde(default)]
    pub fallbacks: Vec<String>,
    /// Alias with a larger context window, tried when the prompt does not fit this one.
    #[serde(default)]
    pub context_window_fallback: Option<String>,
    /// Requests per minute for this alias, all keys together.
    #[serde(default)]
    pub rpm: Option<u64>,
    /// Tokens per minute for this alias, all keys together.
    #[serde(default)]
    pub tpm: Option<u64>,
    /// Cache responses for this alias (see `cache`); a request can also opt in with the
    /// `x-amux-cache: on` header.
    #[serde(default)]
    pub cache: bool,
    /// Params merged into translated request bodies for this alias (after the provider's).
    #[serde(default)]
    pub params: Map<String, Value>,
    /// Translation mode for this alias (unset: the gateway's `translation`).
    #[serde(default)]
    pub translation: Option<TranslationMode>,
    /// Price of every deployment of this alias (unless the deployment sets its own), instead of
    /// the price table's.
    #[serde(default)]
    pub price: Option<PriceConfig>,
}

/// One upstream model serving an alias.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeploymentConfig {
    /// A provider under `providers` (or a discovered preset).
    pub provider: String,
    /// The upstream's model id.
    pub model: String,
    /// Relative share of traffic under the `weighted` strategy.
    #[serde(default = "default_weight")]
    pub weight: f64,
    /// The upstream's own requests-per-minute limit for this model.
    #[serde(default)]
    pub rpm: Option<u64>,
    /// The upstream's own tokens-per-minute limit for this model.
    #[serde(default)]
    pub tpm: Option<u64>,
    /// Overrides the provider's `timeouts.response_secs` for this deployment.
    #[serde(default)]
    pub timeout_secs: Option<f64>,
    /// Params merged into translated request bodies for this deployment (last).
    #[serde(default)]
    pub params: Map<String, Value>,
    /// Price of this deployment, instead of the alias's or the price table's.
    #[serde(default)]
    pub price: Option<PriceConfig>,
}

fn default_weight() -> f64 {
    1.0
}

/// How a deployment is picked.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Strategy {
    /// Random, proportional to `weight`.
    #[default]
    Weighted,
    /// The deployment with the fewest calls in flight.
    LeastBusy,
    /// The deployment with the lowest moving average of time to first byte.
    LowestLatency,
}

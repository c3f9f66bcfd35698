//! Config file types. Doc comments here become descriptions in the generated JSON Schema.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// amux gateway configuration (YAML or JSON).
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Address to listen on, e.g. `127.0.0.1:8484` (overridden by `--listen` / `AMUX_LISTEN`).
    #[serde(default)]
    pub listen: Option<String>,
    /// Also register the built-in presets whose key variable is set in the environment
    /// (ANTHROPIC_API_KEY, OPENAI_API_KEY, GROQ_API_KEY, ...) and the keyless local ones
    /// (ollama, vllm, lmstudio), unless a provider of that name is configured here. Default true.
    #[serde(default = "default_true")]
    pub discover_env: bool,
    /// Upstream providers by name. The name is what `provider/model` model names refer to.
    #[serde(default)]
    pub providers: BTreeMap<String, ProviderConfig>,
    /// Model aliases: a name callers send, mapped to a provider and its upstream model.
    #[serde(default)]
    pub models: Vec<ModelAlias>,
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
    /// For `openai`: which API translated calls use, `chat` (default) or `responses`. Callers that
    /// speak one of the two always get it unchanged.
    #[serde(default)]
    pub api: Option<OpenAiApi>,
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

/// Provider kinds: the two generic dialects and the named OpenAI-compatible presets.
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
}

/// A model name callers may send.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ModelAlias {
    /// The name callers send (`model` in the request body).
    pub name: String,
    /// Name of a provider under `providers` (or a discovered preset).
    pub provider: String,
    /// The upstream's model id.
    pub model: String,
    /// Params merged into translated request bodies for this alias (after the provider's).
    #[serde(default)]
    pub params: Map<String, Value>,
}

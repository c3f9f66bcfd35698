//! Named provider presets: the kind, default base URL and key variable of each provider amux
//! knows by name. Everything except `anthropic`, `gemini`, `bedrock` and `vertex` speaks OpenAI
//! Chat Completions; `openai` also serves the Responses API.
//!
//! Replicate has no preset: its API runs predictions (`/v1/models/{owner}/{name}/predictions`),
//! with no OpenAI-compatible chat endpoint to point a preset at; reach it through
//! `/passthrough/{provider}/...` with a `kind: openai` provider whose base URL is Replicate's.

use crate::config::ProviderKind;
use crate::ir::Dialect;
use crate::policy::Caps;

/// A built-in provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Preset {
    /// The provider name (`groq` in `groq/llama-3.3-70b-versatile`).
    pub name: &'static str,
    pub kind: ProviderKind,
    /// Dialects the provider serves, the one used for translated calls first.
    pub dialects: &'static [Dialect],
    pub base_url: &'static str,
    /// Variables holding the API key, first set wins.
    pub key_vars: &'static [&'static str],
    /// Variable overriding the base URL.
    pub base_url_var: Option<&'static str>,
    /// Local servers need no key and are always available by name.
    pub keyless: bool,
    /// Request parameters the provider takes beyond its dialect's own (`top_k`...).
    pub caps: Caps,
}

const CHAT: &[Dialect] = &[Dialect::OpenAiChat];

/// OpenAI-compatible servers that reject `top_k` (OpenAI and the strict hosted APIs).
const STRICT: Caps = Caps::of(Dialect::OpenAiChat);
/// OpenAI-compatible servers that also take `top_k` (vLLM, Ollama, LM Studio, Together, ...).
const TOP_K: Caps = Caps { top_k: true, ..STRICT };
/// Mistral answers 422 to fields it does not know, `reasoning_effort` and `top_k` among them.
const MISTRAL: Caps = Caps { reasoning: false, ..STRICT };

const fn openai(
    name: &'static str,
    kind: ProviderKind,
    base_url: &'static str,
    key_vars: &'static [&'static str],
    caps: Caps,
) -> Preset {
    Preset { name, kind, dialects: CHAT, base_url, key_vars, base_url_var: None, keyless: false, caps }
}

const fn local(
    name: &'static str,
    kind: ProviderKind,
    base_url: &'static str,
    key_vars: &'static [&'static str],
    var: &'static str,
) -> Preset {
    Preset { name, kind, dialects: CHAT, base_url, key_vars, base_url_var: Some(var), keyless: true, caps: TOP_K }
}

/// Every preset, in the order `amux serve` reports them.
pub const PRESETS: &[Preset] = &[
    Preset {
        name: "anthropic",
        kind: ProviderKind::Anthropic,
        dialects: &[Dialect::Anthropic],
        base_url: "https://api.anthropic.com",
        key_vars: &["ANTHROPIC_API_KEY"],
        base_url_var: Some("ANTHROPIC_BASE_URL"),
        keyless: false,
        caps: Caps::of(Dialect::Anthropic),
    },
    Preset {
        name: "openai",
        kind: ProviderKind::Openai,
        dialects: &[Dialect::OpenAiChat, Dialect::OpenAiResponses],
        base_url: "https://api.openai.com/v1",
        key_vars: &["OPENAI_API_KEY"],
        base_url_var: Some("OPENAI_BASE_URL"),
        keyless: false,
        caps: Caps::of(Dialect::OpenAiResponses),
    },
    Preset {
        name: "gemini",
        kind: ProviderKind::Gemini,
        dialects: &[Dialect::Gemini],
        base_url: "https://generativelanguage.googleapis.com",
        key_vars: &["GEMINI_API_KEY", "GOOGLE_API_KEY"],
        base_url_var: None,
        keyless: false,
        caps: Caps::of(Dialect::Gemini),
    },
    openai("groq", ProviderKind::Groq, "https://api.groq.com/openai/v1", &["GROQ_API_KEY"], STRICT),
    openai("mistral", ProviderKind::Mistral, "https://api.mistral.ai/v1", &["MISTRAL_API_KEY"], MISTRAL),
    openai("deepseek", ProviderKind::Deepseek, "https://api.deepseek.com/v1", &["DEEPSEEK_API_KEY"], STRICT),
    openai(
        "together",
        ProviderKind::Together,
        "https://api.together.xyz/v1",
        &["TOGETHER_API_KEY", "TOGETHERAI_API_KEY"],
        TOP_K,
    ),
    openai(
        "fireworks",
        ProviderKind::Fireworks,
        "https://api.fireworks.ai/inference/v1",
        &["FIREWORKS_API_KEY"],
        TOP_K,
    ),
    openai("openrouter", ProviderKind::Openrouter, "https://openrouter.ai/api/v1", &["OPENROUTER_API_KEY"], TOP_K),
    openai("xai", ProviderKind::Xai, "https://api.x.ai/v1", &["XAI_API_KEY"], STRICT),
    openai("cerebras", ProviderKind::Cerebras, "https://api.cerebras.ai/v1", &["CEREBRAS_API_KEY"], STRICT),
    openai(
        "perplexity",
        ProviderKind::Perplexity,
        "https://api.perplexity.ai",
        &["PERPLEXITY_API_KEY", "PPLX_API_KEY"],
        TOP_K,
    ),
    openai(
        "nvidia-nim",
        ProviderKind::NvidiaNim,
        "https://integrate.api.nvidia.com/v1",
        &["NVIDIA_API_KEY", "NVIDIA_NIM_API_KEY"],
        STRICT,
    ),
    openai("sambanova", ProviderKind::Sambanova, "https://api.sambanova.ai/v1", &["SAMBANOVA_API_KEY"], TOP_K),
    openai(
        "huggingface",
        ProviderKind::Huggingface,
        "https://router.huggingface.co/v1",
        &["HF_TOKEN", "HUGGINGFACE_API_KEY"],
        STRICT,
    ),
    Preset {
        name: "bedrock",
        kind: ProviderKind::Bedrock,
        // Converse for every caller; InvokeModel for Anthropic callers of Claude models.
        dialects: &[Dialect::BedrockConverse, Dialect::Anthropic],
        // From the region: https://bedrock-runtime.{region}.amazonaws.com.
        base_url: "",
        key_vars: &["AWS_BEARER_TOKEN_BEDROCK"],
        base_url_var: None,
        keyless: false,
        caps: Caps::of(Dialect::BedrockConverse),
    },
    Preset {
        name: "vertex",
        kind: ProviderKind::Vertex,
        // Per model: Gemini (generateContent), Claude (rawPredict, Anthropic bodies), and
        // `publisher/model` names through the OpenAI-compatible endpoint.
        dialects: &[Dialect::Gemini, Dialect::Anthropic, Dialect::OpenAiChat],
        // From the location: https://{location}-aiplatform.googleapis.com.
        base_url: "",
        key_vars: &[],
        base_url_var: None,
        keyless: false,
        caps: Caps::of(Dialect::Gemini),
    },
    // Azure OpenAI: AZURE_OPENAI_ENDPOINT (`https://{resource}.openai.azure.com`) and its key; the
    // API version from OPENAI_API_VERSION, else the v1 API.
    Preset {
        name: "azure",
        kind: ProviderKind::Azure,
        dialects: &[Dialect::OpenAiChat, Dialect::OpenAiResponses],
        base_url: "",
        key_vars: &["AZURE_OPENAI_API_KEY"],
        base_url_var: Some("AZURE_OPENAI_ENDPOINT"),
        keyless: false,
        caps: Caps::of(Dialect::OpenAiResponses),
    },
    // Azure AI Foundry: the resource Claude Code's Foundry mode names (ANTHROPIC_FOUNDRY_RESOURCE,
    // or a URL), chat models by model inference and Claude by the Anthropic API.
    Preset {
        name: "foundry",
        kind: ProviderKind::Foundry,
        dialects: &[Dialect::OpenAiChat, Dialect::Anthropic],
        base_url: "",
        key_vars: &["AZURE_FOUNDRY_API_KEY", "ANTHROPIC_FOUNDRY_API_KEY"],
        base_url_var: Some("ANTHROPIC_FOUNDRY_RESOURCE"),
        keyless: false,
        caps: STRICT,
    },
    // Databricks Model Serving: `{DATABRICKS_HOST}/serving-endpoints` (OpenAI Chat).
    Preset {
        name: "databricks",
        kind: ProviderKind::Databricks,
        dialects: CHAT,
        base_url: "",
        key_vars: &["DATABRICKS_TOKEN"],
        base_url_var: Some("DATABRICKS_HOST"),
        keyless: false,
        caps: STRICT,
    },
    // Cloudflare Workers AI's OpenAI-compatible endpoint:
    // `https://api.cloudflare.com/client/v4/accounts/{CLOUDFLARE_ACCOUNT_ID}/ai/v1`.
    Preset {
        name: "cloudflare",
        kind: ProviderKind::Cloudflare,
        dialects: CHAT,
        base_url: "",
        key_vars: &["CLOUDFLARE_API_TOKEN", "CLOUDFLARE_API_KEY"],
        base_url_var: Some("CLOUDFLARE_ACCOUNT_ID"),
        keyless: false,
        caps: STRICT,
    },
    // Cohere's Compatibility API (OpenAI Chat).
    openai(
        "cohere",
        ProviderKind::Cohere,
        "https://api.cohere.ai/compatibility/v1",
        &["COHERE_API_KEY", "CO_API_KEY"],
        STRICT,
    ),
    local("ollama", ProviderKind::Ollama, "http://localhost:11434/v1", &["OLLAMA_API_KEY"], "OLLAMA_HOST"),
    local("vllm", ProviderKind::Vllm, "http://localhost:8000/v1", &["VLLM_API_KEY"], "VLLM_BASE_URL"),
    local("lmstudio", ProviderKind::Lmstudio, "http://localhost:1234/v1", &["LM_STUDIO_API_KEY"], "LMSTUDIO_BASE_URL"),
];

/// The preset of this name.
pub fn find(name: &str) -> Option<&'static Preset> {
    PRESETS.iter().find(|p| p.name == name)
}

/// The preset of this kind.
pub fn for_kind(kind: ProviderKind) -> &'static Preset {
    PRESETS.iter().find(|p| p.kind == kind).unwrap_or(&PRESETS[1])
}

/// Base URL from a preset's override variable. `OLLAMA_HOST` is a host[:port] or URL without
/// `/v1`, so it is completed here.
pub fn base_url_from_env(preset: &Preset, value: &str) -> String {
    let v = value.trim().trim_end_matches('/');
    match preset.kind {
        ProviderKind::Ollama => {}
        // DATABRICKS_HOST is the workspace URL (or host).
        ProviderKind::Databricks => {
            let url = if v.contains("://") { v.to_string() } else { format!("https://{v}") };
            return format!("{url}/serving-endpoints");
        }
        // A Foundry resource name, or its URL.
        ProviderKind::Foundry if !v.contains("://") => return format!("https://{v}.services.ai.azure.com"),
        // CLOUDFLARE_ACCOUNT_ID is the account the Workers AI endpoint belongs to.
        ProviderKind::Cloudflare => return format!("https://api.cloudflare.com/client/v4/accounts/{v}/ai/v1"),
        _ => return v.to_string(),
    }
    let with_scheme = if v.contains("://") { v.to_string() } else { format!("http://{v}") };
    let with_port = match with_scheme.rsplit_once(':') {
        Some((_, port)) if port.chars().all(|c| c.is_ascii_digit()) => with_scheme,
        _ => format!("{with_scheme}:11434"),
    };
    if with_port.ends_with("/v1") { with_port } else { format!("{with_port}/v1") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_one_preset() {
        for p in PRESETS {
            assert_eq!(for_kind(p.kind).name, p.name);
            assert_eq!(find(p.name), Some(p));
        }
        assert_eq!(for_kind(ProviderKind::Gemini).dialects, &[Dialect::Gemini]);
    }

    #[test]
    fn ollama_host_forms() {
        let o = find("ollama").unwrap();
        assert_eq!(base_url_from_env(o, "0.0.0.0"), "http://0.0.0.0:11434/v1");
        assert_eq!(base_url_from_env(o, "127.0.0.1:9999"), "http://127.0.0.1:9999/v1");
        assert_eq!(base_url_from_env(o, "https://ollama.example.com:443/"), "https://ollama.example.com:443/v1");
        let d = find("databricks").unwrap();
        assert_eq!(
            base_url_from_env(d, "adb-1.azuredatabricks.net/"),
            "https://adb-1.azuredatabricks.net/serving-endpoints"
        );
        let c = find("cloudflare").unwrap();
        assert_eq!(base_url_from_env(c, "abc"), "https://api.cloudflare.com/client/v4/accounts/abc/ai/v1");
    }
}

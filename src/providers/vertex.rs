//! Google Vertex AI as an upstream (`kind: vertex`): which API a model is called through, its
//! URLs, and Claude's rawPredict envelope. Pure.
//!
//! - Gemini models (`gemini-2.5-pro`): `publishers/google/models/{m}:generateContent`,
//!   `:streamGenerateContent?alt=sse`, `:countTokens` (the Gemini dialect, bytes as they are);
//! - Claude models (`claude-sonnet-4-5@20250929`): `publishers/anthropic/models/{m}:rawPredict` /
//!   `:streamRawPredict` with the Anthropic body, `model` removed and
//!   `anthropic_version: vertex-2023-10-16` added ([`anthropic_body`]; every other value copied
//!   byte for byte), counted at `publishers/anthropic/models/count-tokens:rawPredict`;
//! - models named `publisher/model` (`meta/llama-3.3-70b-instruct-maas`): Vertex's
//!   OpenAI-compatible endpoint, `endpoints/openapi/chat/completions`.
//!
//! All under `{base}/v1/projects/{project}/locations/{location}`, where the base is
//! `https://{location}-aiplatform.googleapis.com`, or `https://aiplatform.googleapis.com` for
//! `global`.

use crate::dialects::bedrock_converse::is_claude;
use crate::gateway::splice::TopLevel;
use crate::ir::{ApiError, Dialect};

/// The rawPredict version string of Anthropic bodies.
pub const ANTHROPIC_VERSION: &str = "vertex-2023-10-16";

/// Betas Claude on Vertex takes (Google's Claude pages); others are left out of the header.
pub const VERTEX_BETAS: &[&str] = &[
    "computer-use-2024-10-22",
    "computer-use-2025-01-24",
    "token-efficient-tools-2025-02-19",
    "interleaved-thinking-2025-05-14",
    "output-128k-2025-02-19",
    "context-1m-2025-08-07",
    "context-management-2025-06-27",
    "effort-2025-11-24",
    "tool-search-tool-2025-10-19",
    "web-search-2025-03-05",
    "prompt-caching-2024-07-31",
];

/// A Vertex provider's project and location.
#[derive(Debug, Clone, PartialEq)]
pub struct Site {
    pub project: String,
    pub location: String,
}

impl Site {
    /// The default base URL for this location.
    pub fn default_base(&self) -> String {
        match self.location.as_str() {
            "global" => "https://aiplatform.googleapis.com".into(),
            "us" | "eu" => format!("https://aiplatform.{}.rep.googleapis.com", self.location),
            l => format!("https://{l}-aiplatform.googleapis.com"),
        }
    }

    /// `{base}/v1/projects/{project}/locations/{location}`.
    pub fn prefix(&self, base: &str) -> String {
        format!("{base}/v1/projects/{}/locations/{}", self.project, self.location)
    }
}

/// A project id or location as one URL path segment.
pub fn check_segment(what: &str, s: &str) -> Result<(), String> {
    let ok = !s.is_empty()
        && s.len() <= 100
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
        && s != "."
        && s != "..";
    if ok { Ok(()) } else { Err(format!("\"{s}\" is not a valid {what}")) }
}

/// The dialect a Vertex model is called in.
pub fn dialect_of(model: &str) -> Dialect {
    if is_claude(model) {
        Dialect::Anthropic
    } else if model.contains('/') {
        Dialect::OpenAiChat
    } else {
        Dialect::Gemini
    }
}

/// The upstream URL of a model call (or a token count).
pub fn url(site: &Site, base: &str, dialect: Dialect, model: &str, op: Op) -> Result<String, ApiError> {
    let prefix = site.prefix(base);
    Ok(match dialect {
        Dialect::Anthropic => {
            let method = match op {
                Op::Generate(false) => "rawPredict",
                Op::Generate(true) => "streamRawPredict",
                Op::Count => return Ok(format!("{prefix}/publishers/anthropic/models/count-tokens:rawPredict")),
            };
            let m = super::check_path_model(model)?;
            format!("{prefix}/publishers/anthropic/models/{m}:{method}")
        }
        Dialect::OpenAiChat => format!("{prefix}/endpoints/openapi/chat/completions"),
        _ => {
            let m = super::check_path_model(model)?;
            let method = match op {
                Op::Generate(false) => "generateContent",
                Op::Generate(true) => "streamGenerateContent?alt=sse",
                Op::Count => "countTokens",
            };
            format!("{prefix}/publishers/google/models/{m}:{method}")
        }
    })
}

/// What a URL is for.
#[derive(Debug, Clone, Copy)]
pub enum Op {
    /// A model call; streaming or not.
    Generate(bool),
    /// A token count.
    Count,
}

/// The rawPredict body for a Messages body: `anthropic_version` first, `model` removed (it is in
/// the path; kept when `keep_model`, as count-tokens wants it), every other value byte for byte.
pub fn anthropic_body(body: &[u8], keep_model: bool) -> Result<Vec<u8>, ApiError> {
    let top = TopLevel::parse(body)?;
    let version = serde_json::Value::String(ANTHROPIC_VERSION.into()).to_string();
    let keep = |k: &str| k != "anthropic_version" && (keep_model || k != "model");
    Ok(top.rebuild(&[("anthropic_version", version.as_bytes())], keep, &[]))
}

/// The caller's `anthropic-beta` values Vertex takes, joined; `None` when none is left.
pub fn betas(headers: &http::HeaderMap) -> Option<String> {
    let kept: Vec<&str> = headers
        .get_all("anthropic-beta")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|b| VERTEX_BETAS.contains(b))
        .collect();
    (!kept.is_empty()).then(|| kept.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_by_family_and_location() {
        let site = Site { project: "p-1".into(), location: "us-east5".into() };
        let base = site.default_base();
        assert_eq!(base, "https://us-east5-aiplatform.googleapis.com");
        assert_eq!(
            url(&site, &base, Dialect::Anthropic, "claude-sonnet-4-5@20250929", Op::Generate(true)).unwrap(),
            "https://us-east5-aiplatform.googleapis.com/v1/projects/p-1/locations/us-east5/publishers/anthropic/models/claude-sonnet-4-5@20250929:streamRawPredict"
        );
        let global = Site { project: "p".into(), location: "global".into() };
        assert_eq!(
            url(&global, &global.default_base(), Dialect::Gemini, "gemini-2.5-pro", Op::Generate(true)).unwrap(),
            "https://aiplatform.googleapis.com/v1/projects/p/locations/global/publishers/google/models/gemini-2.5-pro:streamGenerateContent?alt=sse"
        );
        assert!(url(&site, &base, Dialect::Gemini, "../x", Op::Count).is_err());
        assert_eq!(dialect_of("meta/llama-3.3-70b-instruct-maas"), Dialect::OpenAiChat);
        assert_eq!(dialect_of("claude-opus-4-1@20250805"), Dialect::Anthropic);
        assert_eq!(dialect_of("gemini-2.5-flash"), Dialect::Gemini);
        assert!(check_segment("project", "a/b").is_err() && check_segment("location", "..").is_err());
    }

    #[test]
    fn raw_predict_envelope_keeps_bytes() {
        let body = br#"{"model":"claude-x","stream":true,"messages":[{"role":"user","content":[{"type":"thinking","thinking":"t","signature":"EqQB\u00e9=="}]}],"x_new" : 1}"#;
        assert_eq!(
            String::from_utf8(anthropic_body(body, false).unwrap()).unwrap(),
            r#"{"anthropic_version":"vertex-2023-10-16","stream":true,"messages":[{"role":"user","content":[{"type":"thinking","thinking":"t","signature":"EqQB\u00e9=="}]}],"x_new":1}"#
        );
        let mut h = http::HeaderMap::new();
        h.insert("anthropic-beta", "claude-code-20250219, interleaved-thinking-2025-05-14".parse().unwrap());
        assert_eq!(betas(&h).as_deref(), Some("interleaved-thinking-2025-05-14"));
    }
}

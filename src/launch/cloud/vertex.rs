//! Vertex AI in a harness's own mode: Claude Code (`CLAUDE_CODE_USE_VERTEX=1`) for Claude models
//! and Gemini CLI (`GOOGLE_GENAI_USE_VERTEXAI=true`) for Google's, both reading Application
//! Default Credentials themselves. What the mode needs from a `vertex` provider, the shape of a
//! Vertex model id, and the pre-flight: a Google token got the way the harness will get it
//! ([`super::adc`]).

use super::adc::{self, Outcome};
use crate::dialects::bedrock_converse::is_claude;
use crate::launch::env::Env;
use crate::launch::error::LaunchError;
use crate::providers::{Provider, gcp, vertex};

/// A harness's Vertex mode: where, and which credentials it reads.
#[derive(Debug, Clone, PartialEq)]
pub struct VertexMode {
    pub project: String,
    /// A region, or `global`.
    pub location: String,
    /// The provider's base URL when it is not Vertex's own endpoint for the location.
    pub endpoint: Option<String>,
    /// The provider's `credentials_file`, given to the harness as `GOOGLE_APPLICATION_CREDENTIALS`.
    pub key_file: Option<String>,
}

/// The Vertex mode for a `vertex` provider.
pub fn mode(p: &Provider) -> Result<VertexMode, String> {
    let site = p.vertex.as_ref().ok_or("the provider has no project and location")?;
    let endpoint = (p.base_url != site.default_base()).then(|| p.base_url.clone());
    let key_file = match p.gcp.as_ref().map(|g| g.source()) {
        Some(gcp::Source::KeyFile(f)) => Some(f.clone()),
        _ => None,
    };
    Ok(VertexMode { project: site.project.clone(), location: site.location.clone(), endpoint, key_file })
}

/// A model id Vertex can take: a Gemini model (`gemini-2.5-pro`), a Claude model as Vertex names
/// it (`claude-sonnet-4-5@20250929`), or `publisher/model` for its OpenAI-compatible endpoint.
pub fn check_model_id(model: &str) -> Result<(), LaunchError> {
    let segment =
        |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.@".contains(&b)) && s != "..";
    let ok = match model.split_once('/') {
        Some((publisher, m)) => segment(publisher) && segment(m) && !m.contains('/'),
        None => segment(model),
    };
    if ok {
        return Ok(());
    }
    Err(LaunchError::Preflight {
        what: "model id",
        detail: format!(
            "\"{model}\" is not a Vertex model id: use a Gemini model (gemini-2.5-pro), a Claude model as \
             Vertex names it (claude-sonnet-4-5@20250929) or publisher/model \
             (meta/llama-3.3-70b-instruct-maas)"
        ),
    })
}

/// Vertex names a dated Claude model with `@`: `claude-sonnet-4-5-20250929` becomes
/// `claude-sonnet-4-5@20250929`; every other name is kept.
pub fn vertex_id(model: &str) -> String {
    if !is_claude(model) || model.contains('@') {
        return model.to_string();
    }
    match model.rsplit_once('-') {
        Some((name, date)) if date.len() == 8 && date.bytes().all(|b| b.is_ascii_digit()) => format!("{name}@{date}"),
        _ => model.to_string(),
    }
}

/// Whether the harness's Vertex mode calls this model: Claude Code calls Anthropic's models,
/// Gemini CLI Google's.
pub fn takes(claude_code: bool, model: &str) -> Result<(), String> {
    match (claude_code, vertex::dialect_of(model)) {
        (true, crate::ir::Dialect::Anthropic) | (false, crate::ir::Dialect::Gemini) => Ok(()),
        (true, _) => Err(format!("{model} is not a Claude model; Claude Code's Vertex mode calls Claude only")),
        (false, _) => Err(format!("{model} is not a Google model; Gemini CLI's Vertex mode calls Gemini only")),
    }
}

/// Checks before the harness starts in its Vertex mode that a Google token can be had the way it
/// will get one; returns notes for the plan. `--dry-run` makes no network call.
pub fn preflight(
    rt: &tokio::runtime::Runtime,
    mode: &VertexMode,
    env: &Env,
    dry_run: bool,
) -> Result<Vec<String>, LaunchError> {
    let mut notes = vec![format!("Vertex AI project {}, location {}", mode.project, mode.location)];
    if dry_run {
        notes.push("pre-flight (a Google token) skipped: --dry-run".into());
        return Ok(notes);
    }
    let found = rt.block_on(async {
        tokio::time::timeout(super::PREFLIGHT_TIMEOUT, adc::token(env, mode.key_file.as_deref()))
            .await
            .unwrap_or_else(|_| Err(format!("no token within {} s", super::PREFLIGHT_TIMEOUT.as_secs())))
    });
    match found {
        Ok(Outcome::Token(from)) => notes.push(format!("Google token from {from}")),
        Ok(Outcome::Unchecked(what)) => notes.push(what),
        Err(e) => {
            return Err(LaunchError::Preflight {
                what: "Google credentials",
                detail: format!(
                    "{e} (run `gcloud auth application-default login`, or set GOOGLE_APPLICATION_CREDENTIALS to a \
                     key file)"
                ),
            });
        }
    }
    Ok(notes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_ids() {
        for ok in ["gemini-2.5-pro", "claude-sonnet-4-5@20250929", "meta/llama-3.3-70b-instruct-maas"] {
            assert!(check_model_id(ok).is_ok(), "{ok}");
        }
        for bad in ["", "a/b/c", "../x", "claude sonnet", "x?y"] {
            let e = check_model_id(bad).unwrap_err();
            assert!(e.to_string().contains("is not a Vertex model id"), "{e}");
        }
        assert_eq!(vertex_id("claude-sonnet-4-5-20250929"), "claude-sonnet-4-5@20250929");
        assert_eq!(vertex_id("claude-sonnet-4-5"), "claude-sonnet-4-5");
        assert_eq!(vertex_id("claude-opus-4-1@20250805"), "claude-opus-4-1@20250805");
        assert_eq!(vertex_id("gemini-2.5-pro-20250101"), "gemini-2.5-pro-20250101");
        assert!(takes(true, "claude-sonnet-4-5@20250929").is_ok() && takes(false, "gemini-2.5-pro").is_ok());
        assert!(takes(true, "gemini-2.5-pro").unwrap_err().contains("not a Claude model"));
        assert!(takes(false, "claude-sonnet-4-5@20250929").unwrap_err().contains("not a Google model"));
    }
}

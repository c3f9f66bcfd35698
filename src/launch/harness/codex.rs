//! Codex: ignores `OPENAI_BASE_URL` and speaks only the Responses API. It gets a profile file
//! (`$CODEX_HOME/amux.config.toml`, Codex 0.134+ overlays `<name>.config.toml` on config.toml
//! for `--profile <name>`), the same provider as `-c model_providers.amux.*` overrides with
//! `wire_api = "responses"`, and through a gateway a model catalog entry carrying the context
//! window. On Azure OpenAI with no gateway the provider is Codex's documented Azure one: the
//! resource's `/openai/v1` (or `/openai` with `query_params = { api-version = ... }`) and the API
//! key. User arguments that would change the profile, model or provider are refused.

use std::path::PathBuf;

use serde_json::json;

use super::{Ctx, Harness};
use crate::config::ProviderKind;
use crate::ir::Dialect;
use crate::launch::args::Session;
use crate::launch::cloud::Cloud;
use crate::launch::error::LaunchError;
use crate::launch::plan::{FileEdit, Plan};

pub struct Codex;

const PROFILE: &str = "amux";
const KEY_VAR: &str = "AMUX_CODEX_API_KEY";
/// Used for the catalog entry when the model's window is unknown (as Ollama's launcher does).
const FALLBACK_WINDOW: u64 = 128_000;

/// A TOML basic string (JSON string escapes are valid TOML).
fn toml_str(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

fn codex_home(ctx: &Ctx) -> Result<PathBuf, LaunchError> {
    match ctx.env.get("CODEX_HOME") {
        Some(h) => Ok(PathBuf::from(h)),
        None => Ok(ctx.home()?.join(".codex")),
    }
}

fn check_user_args(user_args: &[String]) -> Result<(), LaunchError> {
    let conflict = |arg: &str| LaunchError::ConflictingArg {
        harness: "codex",
        arg: arg.to_string(),
        reason: "amux manages the profile, model and model provider",
    };
    let managed_key = |kv: &str| {
        let key = kv.split_once('=').map(|(k, _)| k).unwrap_or(kv).trim().trim_matches(['"', '\'']);
        matches!(key, "profile" | "model" | "model_provider" | "model_catalog_json")
            || key.starts_with("model_providers.")
    };
    let mut it = user_args.iter().peekable();
    while let Some(a) = it.next() {
        let name = a.split_once('=').map(|(n, _)| n).unwrap_or(a);
        match name {
            "-p" | "--profile" | "-m" | "--model" | "--oss" | "--local-provider" => return Err(conflict(a)),
            "-c" | "--config" => {
                if let Some((_, v)) = a.split_once('=') {
                    if managed_key(v) {
                        return Err(conflict(a));
                    }
                } else if let Some(v) = it.peek()
                    && managed_key(v)
                {
                    return Err(conflict(&format!("{a} {v}")));
                }
            }
            _ if a.starts_with("-c") && a.len() > 2 && managed_key(&a[2..]) => return Err(conflict(a)),
            _ if a.starts_with("-m") && a.len() > 2 && !a.starts_with("--") => return Err(conflict(a)),
            _ if a.starts_with("-p") && a.len() > 2 && !a.starts_with("--") => return Err(conflict(a)),
            _ => {}
        }
    }
    Ok(())
}

impl Harness for Codex {
    fn name(&self) -> &'static str {
        "codex"
    }
    fn binary(&self) -> &'static str {
        "codex"
    }
    fn install(&self) -> &'static str {
        "npm install -g @openai/codex"
    }
    fn dialects(&self) -> &'static [Dialect] {
        &[Dialect::OpenAiResponses]
    }
    fn min_version(&self) -> Option<[u64; 3]> {
        Some([0, 134, 0])
    }
    fn clouds(&self) -> &'static [ProviderKind] {
        &[ProviderKind::Azure]
    }

    fn plan(&self, ctx: &Ctx) -> Result<Plan, LaunchError> {
        check_user_args(ctx.user_args)?;
        let mut p = ctx.plan(self);
        let home = codex_home(ctx)?;
        let model = &ctx.endpoint.model;
        let (base, api_version) = match &ctx.endpoint.cloud {
            None => (ctx.openai_base(), None),
            Some(Cloud::Azure(mode)) => (mode.base_url.clone(), mode.api_version.clone()),
            Some(_) => return Err(LaunchError::Usage("Codex has an Azure OpenAI mode only".into())),
        };
        // Codex's Azure provider takes the api-version as a query parameter on every call.
        let query = api_version.map(|v| format!("{{ \"api-version\" = {} }}", toml_str(&v)));
        let catalog = if ctx.via_gateway {
            let path = home.join("amux-model-catalog.json");
            let window = ctx.context_window.unwrap_or(FALLBACK_WINDOW);
            let entry = json!({
                "slug": model,
                "display_name": model,
                "context_window": window,
                "shell_type": "default",
                "visibility": "list",
                "supported_in_api": true,
                "priority": 0,
                "truncation_policy": {"mode": "bytes", "limit": 10000},
                "input_modalities": ["text"],
                "base_instructions": "",
                "support_verbosity": true,
                "default_verbosity": "low",
                "supports_parallel_tool_calls": false,
                "supports_reasoning_summaries": false,
                "supported_reasoning_levels": [],
                "experimental_supported_tools": [],
            });
            let text = serde_json::to_string_pretty(&json!({"models": [entry]})).unwrap_or_default() + "\n";
            p.file(FileEdit::Owned { path: path.clone(), contents: text });
            Some(path)
        } else {
            None
        };
        let mut profile = format!("model = {}\nmodel_provider = {}\n", toml_str(model), toml_str(PROFILE));
        if let Some(c) = &catalog {
            profile.push_str(&format!("model_catalog_json = {}\n", toml_str(&c.display().to_string())));
        }
        if let Some(n) = ctx.context_window {
            profile.push_str(&format!("model_context_window = {n}\n"));
        }
        profile.push_str(&format!(
            "\n[model_providers.{PROFILE}]\nname = {}\nbase_url = {}\nwire_api = \"responses\"\nenv_key = {}\n",
            toml_str(PROFILE),
            toml_str(&base),
            toml_str(KEY_VAR)
        ));
        if let Some(q) = &query {
            profile.push_str(&format!("query_params = {q}\n"));
        }
        // amux's gateway serves Responses over WebSocket: one socket per conversation.
        if ctx.responses_websocket {
            profile.push_str("supports_websockets = true\n");
        }
        p.file(FileEdit::Owned { path: home.join(format!("{PROFILE}.config.toml")), contents: profile });
        p.env(KEY_VAR, ctx.endpoint.key.clone());
        p.args(["--profile", PROFILE]);
        let mut overrides = vec![
            format!("model_provider={}", toml_str(PROFILE)),
            format!("model_providers.{PROFILE}.name={}", toml_str(PROFILE)),
            format!("model_providers.{PROFILE}.base_url={}", toml_str(&base)),
            format!("model_providers.{PROFILE}.wire_api=\"responses\""),
            format!("model_providers.{PROFILE}.env_key={}", toml_str(KEY_VAR)),
        ];
        if let Some(c) = &catalog {
            overrides.push(format!("model_catalog_json={}", toml_str(&c.display().to_string())));
        }
        if let Some(q) = &query {
            overrides.push(format!("model_providers.{PROFILE}.query_params={q}"));
        }
        if ctx.responses_websocket {
            overrides.push(format!("model_providers.{PROFILE}.supports_websockets=true"));
        }
        for o in overrides {
            p.args(["-c".to_string(), o]);
        }
        p.args(["-m", model.as_str()]);
        let resume: Vec<String> = match &ctx.session {
            Session::New => vec![],
            Session::Last => vec!["resume".into(), "--last".into()],
            Session::Id(id) => vec!["resume".into(), id.clone()],
        };
        match ctx.prompt {
            Some(prompt) => {
                p.arg("exec");
                p.args(resume);
                p.args(ctx.user_args.iter().cloned());
                p.arg(prompt);
            }
            None => {
                p.args(resume);
                p.args(ctx.user_args.iter().cloned());
            }
        }
        Ok(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn conflicting_user_args_are_refused() {
        for bad in [
            v(&["--profile", "x"]),
            v(&["-p", "x"]),
            v(&["-mgpt"]),
            v(&["--model=gpt"]),
            v(&["-c", "model_provider=openai"]),
            v(&["--config", "model_providers.x.base_url=\"u\""]),
            v(&["-cmodel=\"x\""]),
            v(&["--oss"]),
        ] {
            assert!(check_user_args(&bad).is_err(), "{bad:?}");
        }
        for ok in [v(&["--full-auto"]), v(&["-c", "sandbox_mode=\"read-only\""]), v(&["--skip-git-repo-check"])] {
            assert!(check_user_args(&ok).is_ok(), "{ok:?}");
        }
    }
}

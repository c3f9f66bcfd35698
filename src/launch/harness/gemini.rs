//! Gemini CLI: `GOOGLE_GEMINI_BASE_URL` (the origin) and `GEMINI_API_KEY`, plus settings that
//! select `gemini-api-key` auth and the model. Instead of editing the user's settings, amux gives
//! Gemini CLI its own system settings file (`GEMINI_CLI_SYSTEM_SETTINGS_PATH`, the layer that
//! overrides user and project settings), a copy of the machine's system settings with these
//! keys merged in. On Vertex AI with no gateway it runs in its own Vertex mode (`vertex-ai` auth,
//! `GOOGLE_GENAI_USE_VERTEXAI=true`, project and location, Application Default Credentials read
//! by Google's auth library).

use std::path::PathBuf;

use serde_json::{Value, json};

use super::{Ctx, Harness, refuse_args};
use crate::config::ProviderKind;
use crate::ir::Dialect;
use crate::launch::args::Session;
use crate::launch::cloud::{Cloud, VertexMode};
use crate::launch::doc;
use crate::launch::error::LaunchError;
use crate::launch::plan::{FileEdit, Format, Op, Plan};

pub struct Gemini;

const SYSTEM_SETTINGS: &str = "/etc/gemini-cli/settings.json";

fn path(s: &str) -> Vec<String> {
    s.split('.').map(str::to_string).collect()
}

impl Harness for Gemini {
    fn name(&self) -> &'static str {
        "gemini"
    }
    fn binary(&self) -> &'static str {
        "gemini"
    }
    fn install(&self) -> &'static str {
        "npm install -g @google/gemini-cli"
    }
    fn dialects(&self) -> &'static [Dialect] {
        &[Dialect::Gemini]
    }
    fn clouds(&self) -> &'static [ProviderKind] {
        &[ProviderKind::Vertex]
    }

    fn plan(&self, ctx: &Ctx) -> Result<Plan, LaunchError> {
        refuse_args(self, ctx.user_args, &["-m", "--model", "-p", "--prompt"], "amux sets the model and the prompt")?;
        let mut p = ctx.plan(self);
        let model = &ctx.endpoint.model;
        let system = PathBuf::from(ctx.env.get("GEMINI_CLI_SYSTEM_SETTINGS_PATH").unwrap_or(SYSTEM_SETTINGS));
        let mut settings = match std::fs::read_to_string(&system) {
            Ok(text) => doc::parse(Format::Json, &text).map_err(|e| LaunchError::file(&system, e))?,
            Err(_) => json!({}),
        };
        let vertex = match &ctx.endpoint.cloud {
            None => None,
            Some(Cloud::Vertex(mode)) => Some(mode),
            Some(_) => return Err(LaunchError::Usage("Gemini CLI has a Vertex AI mode only".into())),
        };
        let auth = if vertex.is_some() { "vertex-ai" } else { "gemini-api-key" };
        let mut ops = vec![
            Op::Set { path: path("security.auth.selectedType"), value: json!(auth) },
            Op::Set { path: path("model.name"), value: Value::String(model.clone()) },
        ];
        if let Some(n) = ctx.max_turns {
            // `model.maxSessionTurns`: Gemini CLI's cap on user/model/tool turns (-1 unlimited).
            ops.push(Op::Set { path: path("model.maxSessionTurns"), value: json!(n) });
            p.limits.push("--max-turns");
        }
        for op in ops {
            doc::apply(&mut settings, &op).map_err(|e| LaunchError::file(&system, e))?;
        }
        let file = ctx.temp_dir.join("gemini-system-settings.json");
        let contents = serde_json::to_string_pretty(&settings).unwrap_or_default() + "\n";
        p.file(FileEdit::Temp { path: file.clone(), contents });
        p.env("GEMINI_CLI_SYSTEM_SETTINGS_PATH", file.display().to_string());
        match vertex {
            Some(mode) => vertex_env(&mut p, mode),
            None => {
                p.env("GOOGLE_GEMINI_BASE_URL", ctx.origin());
                p.env("GEMINI_API_KEY", ctx.endpoint.key.clone());
                // GOOGLE_API_KEY wins over GEMINI_API_KEY in Google's SDK; Vertex mode ignores both.
                p.remove_env("GOOGLE_API_KEY").remove_env("GOOGLE_GENAI_USE_VERTEXAI");
            }
        }
        p.args(["-m", model.as_str()]);
        match &ctx.session {
            Session::New => {}
            Session::Last => {
                p.args(["--resume", "latest"]);
            }
            Session::Id(id) => {
                p.args(["--resume", id.as_str()]);
            }
        }
        p.args(ctx.user_args.iter().cloned());
        if let Some(prompt) = ctx.prompt {
            p.args(["-p", prompt]);
        }
        Ok(p)
    }
}

/// Gemini CLI's own Vertex AI mode with Application Default Credentials: project and location,
/// no API key (a `GOOGLE_API_KEY` would switch it to Vertex express mode), the provider's key
/// file as `GOOGLE_APPLICATION_CREDENTIALS`, and `GOOGLE_VERTEX_BASE_URL` for a provider with its
/// own base URL.
fn vertex_env(p: &mut Plan, mode: &VertexMode) {
    p.env("GOOGLE_GENAI_USE_VERTEXAI", "true")
        .env("GOOGLE_CLOUD_PROJECT", mode.project.clone())
        .env("GOOGLE_CLOUD_LOCATION", mode.location.clone());
    for v in ["GOOGLE_API_KEY", "GEMINI_API_KEY", "GOOGLE_GEMINI_BASE_URL", "GOOGLE_CLOUD_PROJECT_ID"] {
        p.remove_env(v);
    }
    match &mode.endpoint {
        Some(url) => p.env("GOOGLE_VERTEX_BASE_URL", url.clone()),
        None => p.remove_env("GOOGLE_VERTEX_BASE_URL"),
    };
    if let Some(f) = &mode.key_file {
        p.env("GOOGLE_APPLICATION_CREDENTIALS", f.clone());
    }
}

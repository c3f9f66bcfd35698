//! Aider: `OPENAI_API_BASE` and `OPENAI_API_KEY` with `--model openai/<model>` (its route for
//! any OpenAI-compatible API). A known context window goes in a temporary model metadata file
//! (`--model-metadata-file`).

use serde_json::json;

use super::{Ctx, Harness, refuse_args};
use crate::ir::Dialect;
use crate::launch::args::Session;
use crate::launch::error::LaunchError;
use crate::launch::plan::{FileEdit, Plan};

pub struct Aider;

impl Harness for Aider {
    fn name(&self) -> &'static str {
        "aider"
    }
    fn binary(&self) -> &'static str {
        "aider"
    }
    fn install(&self) -> &'static str {
        "python -m pip install aider-chat"
    }
    fn dialects(&self) -> &'static [Dialect] {
        &[Dialect::OpenAiChat]
    }

    fn plan(&self, ctx: &Ctx) -> Result<Plan, LaunchError> {
        refuse_args(
            self,
            ctx.user_args,
            &["--model", "--openai-api-base", "--openai-api-key", "--message", "-m"],
            "amux sets the model, endpoint and message",
        )?;
        if let Session::Id(_) = ctx.session {
            return Err(LaunchError::UnsupportedFlag {
                harness: "aider",
                flag: "--session",
                what: "open a chat by id (only --resume: --restore-chat-history)",
            });
        }
        let mut p = ctx.plan(self);
        let model = format!("openai/{}", ctx.endpoint.model);
        p.env("OPENAI_API_BASE", ctx.openai_base()).env("OPENAI_API_KEY", ctx.endpoint.key.clone());
        p.args(["--model", model.as_str()]);
        if let Some(n) = ctx.context_window {
            let file = ctx.temp_dir.join("aider-model-metadata.json");
            let meta = json!({ model.as_str(): {
                "max_input_tokens": n,
                "max_tokens": n,
                "max_output_tokens": (n / 4).min(32_768),
                "input_cost_per_token": 0,
                "output_cost_per_token": 0,
                "litellm_provider": "openai",
                "mode": "chat",
            }});
            p.file(FileEdit::Temp {
                path: file.clone(),
                contents: serde_json::to_string_pretty(&meta).unwrap_or_default() + "\n",
            });
            p.args(["--model-metadata-file".to_string(), file.display().to_string()]);
        }
        if ctx.session == Session::Last {
            p.arg("--restore-chat-history");
        }
        p.args(ctx.user_args.iter().cloned());
        if let Some(prompt) = ctx.prompt {
            p.args(["--message", prompt]);
        }
        Ok(p)
    }
}

//! Hermes Agent (Nous Research): the `model` section of `~/.hermes/config.yaml` (or
//! `$HERMES_HOME/config.yaml`) set to a custom OpenAI-compatible endpoint, merged and restored.

use serde_json::json;

use super::{Ctx, Harness, refuse_args, session_and_prompt};
use crate::ir::Dialect;
use crate::launch::error::LaunchError;
use crate::launch::plan::{FileEdit, Format, Op, Plan};

pub struct Hermes;

impl Harness for Hermes {
    fn name(&self) -> &'static str {
        "hermes"
    }
    fn binary(&self) -> &'static str {
        "hermes"
    }
    fn install(&self) -> &'static str {
        "pip install hermes-agent"
    }
    fn dialects(&self) -> &'static [Dialect] {
        &[Dialect::OpenAiChat]
    }

    fn plan(&self, ctx: &Ctx) -> Result<Plan, LaunchError> {
        refuse_args(self, ctx.user_args, &["-m", "--model", "--provider", "-q", "--query"], "amux sets these")?;
        let mut p = ctx.plan(self);
        let dir = match ctx.env.get("HERMES_HOME") {
            Some(d) => std::path::PathBuf::from(d),
            None => ctx.home()?.join(".hermes"),
        };
        let section = json!({
            "provider": "custom",
            "default": ctx.endpoint.model,
            "base_url": ctx.openai_base(),
            "api_key": ctx.endpoint.key,
        });
        p.file(FileEdit::Merge {
            path: dir.join("config.yaml"),
            format: Format::Yaml,
            ops: vec![Op::Set { path: vec!["model".into()], value: section }],
        });
        if ctx.prompt.is_some() {
            p.arg("chat");
        }
        session_and_prompt(&mut p, ctx, "--resume", "-q");
        Ok(p)
    }
}

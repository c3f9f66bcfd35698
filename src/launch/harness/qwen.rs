//! Qwen Code: OpenAI auth from the environment (`OPENAI_BASE_URL`, `OPENAI_API_KEY`,
//! `OPENAI_MODEL`) and `--auth-type openai --model M`; no file is edited.

use super::{Ctx, Harness, no_sessions, refuse_args};
use crate::ir::Dialect;
use crate::launch::error::LaunchError;
use crate::launch::plan::Plan;

pub struct Qwen;

impl Harness for Qwen {
    fn name(&self) -> &'static str {
        "qwen"
    }
    fn binary(&self) -> &'static str {
        "qwen"
    }
    fn install(&self) -> &'static str {
        "npm install -g @qwen-code/qwen-code"
    }
    fn dialects(&self) -> &'static [Dialect] {
        &[Dialect::OpenAiChat]
    }

    fn plan(&self, ctx: &Ctx) -> Result<Plan, LaunchError> {
        no_sessions(self, &ctx.session)?;
        refuse_args(self, ctx.user_args, &["-m", "--model", "--auth-type", "-p", "--prompt"], "amux sets these")?;
        let mut p = ctx.plan(self);
        p.env("OPENAI_BASE_URL", ctx.openai_base())
            .env("OPENAI_API_KEY", ctx.endpoint.key.clone())
            .env("OPENAI_MODEL", ctx.endpoint.model.clone());
        p.args(["--auth-type", "openai", "--model", ctx.endpoint.model.as_str()]);
        if let Some(n) = ctx.max_turns {
            // Qwen Code's own cap on user/model/tool turns (`qwen --help`).
            p.args(["--max-session-turns".to_string(), n.to_string()]);
            p.limits.push("--max-turns");
        }
        p.args(ctx.user_args.iter().cloned());
        if let Some(prompt) = ctx.prompt {
            p.args(["-p", prompt]);
        }
        Ok(p)
    }
}

//! GitHub Copilot CLI: bring-your-own-key provider variables. `COPILOT_PROVIDER_BASE_URL` is
//! the OpenAI base (`…/v1`) for type `openai` and the origin for type `anthropic`.

use super::{Ctx, Harness, refuse_args, session_and_prompt};
use crate::ir::Dialect;
use crate::launch::error::LaunchError;
use crate::launch::plan::Plan;

pub struct Copilot;

impl Harness for Copilot {
    fn name(&self) -> &'static str {
        "copilot"
    }
    fn binary(&self) -> &'static str {
        "copilot"
    }
    fn install(&self) -> &'static str {
        "npm install -g @github/copilot"
    }
    fn dialects(&self) -> &'static [Dialect] {
        &[Dialect::OpenAiChat, Dialect::Anthropic]
    }

    fn plan(&self, ctx: &Ctx) -> Result<Plan, LaunchError> {
        refuse_args(self, ctx.user_args, &["--model", "-p", "--prompt"], "amux sets the model and the prompt")?;
        let mut p = ctx.plan(self);
        let (kind, base) = match ctx.endpoint.dialect {
            Dialect::Anthropic => ("anthropic", ctx.origin()),
            _ => ("openai", ctx.openai_base()),
        };
        p.env("COPILOT_PROVIDER_BASE_URL", base)
            .env("COPILOT_PROVIDER_TYPE", kind)
            .env("COPILOT_PROVIDER_API_KEY", ctx.endpoint.key.clone())
            .env("COPILOT_MODEL", ctx.endpoint.model.clone());
        session_and_prompt(&mut p, ctx, "--resume", "-p");
        Ok(p)
    }
}

//! Pi: a provider `amux` merged into `~/.pi/agent/models.json` (or `$PI_CODING_AGENT_DIR`), with
//! the model listed, selected with `--provider amux --model M`. The user's `settings.json` is not
//! touched.

use serde_json::json;

use super::{Ctx, Harness, refuse_args, session_and_prompt};
use crate::ir::Dialect;
use crate::launch::error::LaunchError;
use crate::launch::plan::{FileEdit, Format, Op, Plan};

pub struct Pi;

/// A provider entry in the models file shared by Pi and Oh My Pi.
pub fn provider_entry(ctx: &Ctx) -> serde_json::Value {
    let (api, base) = match ctx.endpoint.dialect {
        Dialect::Anthropic => ("anthropic-messages", ctx.origin()),
        _ => ("openai-completions", ctx.openai_base()),
    };
    let mut model = json!({"id": ctx.endpoint.model, "name": ctx.endpoint.model, "input": ["text"]});
    if let Some(n) = ctx.context_window {
        model["contextWindow"] = json!(n);
    }
    json!({"baseUrl": base, "api": api, "apiKey": ctx.endpoint.key, "models": [model]})
}

impl Harness for Pi {
    fn name(&self) -> &'static str {
        "pi"
    }
    fn binary(&self) -> &'static str {
        "pi"
    }
    fn install(&self) -> &'static str {
        "npm install -g @mariozechner/pi-coding-agent"
    }
    fn dialects(&self) -> &'static [Dialect] {
        &[Dialect::OpenAiChat, Dialect::Anthropic]
    }

    fn plan(&self, ctx: &Ctx) -> Result<Plan, LaunchError> {
        refuse_args(self, ctx.user_args, &["--provider", "--model", "-p", "--print"], "amux sets these")?;
        let mut p = ctx.plan(self);
        let dir = match ctx.env.get("PI_CODING_AGENT_DIR") {
            Some(d) => std::path::PathBuf::from(d),
            None => ctx.home()?.join(".pi").join("agent"),
        };
        let id = ctx.endpoint.provider_id.clone();
        p.file(FileEdit::Merge {
            path: dir.join("models.json"),
            format: Format::Json,
            ops: vec![Op::Set { path: vec!["providers".into(), id.clone()], value: provider_entry(ctx) }],
        });
        p.args(["--provider".to_string(), id, "--model".to_string(), ctx.endpoint.model.clone()]);
        session_and_prompt(&mut p, ctx, "--session", "-p");
        Ok(p)
    }
}

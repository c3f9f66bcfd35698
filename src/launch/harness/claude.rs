//! Claude Code: environment only. `ANTHROPIC_BASE_URL` is the origin (no `/v1`); through a
//! gateway the key goes in `ANTHROPIC_AUTH_TOKEN` (a Bearer token) and every model tier plus the
//! subagent model is pinned to the chosen model so that background calls route too.

use super::{Ctx, Harness, refuse_args};
use crate::ir::Dialect;
use crate::launch::args::Session;
use crate::launch::error::LaunchError;
use crate::launch::plan::Plan;

pub struct Claude;

impl Harness for Claude {
    fn name(&self) -> &'static str {
        "claude"
    }
    fn binary(&self) -> &'static str {
        "claude"
    }
    fn install(&self) -> &'static str {
        "npm install -g @anthropic-ai/claude-code"
    }
    fn dialects(&self) -> &'static [Dialect] {
        &[Dialect::Anthropic]
    }

    fn plan(&self, ctx: &Ctx) -> Result<Plan, LaunchError> {
        refuse_args(self, ctx.user_args, &["--model", "-p", "--print"], "amux sets the model and the prompt")?;
        if ctx.max_turns.is_some() {
            refuse_args(self, ctx.user_args, &["--max-turns"], "amux sets it from --max-turns")?;
        }
        if ctx.max_budget_usd.is_some() {
            refuse_args(self, ctx.user_args, &["--max-budget-usd"], "amux sets it from --max-budget-usd")?;
        }
        let mut p = ctx.plan(self);
        let model = &ctx.endpoint.model;
        p.env("ANTHROPIC_BASE_URL", ctx.origin());
        if ctx.via_gateway {
            p.env("ANTHROPIC_AUTH_TOKEN", ctx.endpoint.key.clone()).remove_env("ANTHROPIC_API_KEY");
        } else {
            // Anthropic's own API takes keys in x-api-key, not as a Bearer token.
            p.env("ANTHROPIC_API_KEY", ctx.endpoint.key.clone()).remove_env("ANTHROPIC_AUTH_TOKEN");
        }
        p.env("ANTHROPIC_MODEL", model.clone());
        if ctx.via_gateway {
            for v in [
                "ANTHROPIC_DEFAULT_OPUS_MODEL",
                "ANTHROPIC_DEFAULT_SONNET_MODEL",
                "ANTHROPIC_DEFAULT_HAIKU_MODEL",
                "CLAUDE_CODE_SUBAGENT_MODEL",
            ] {
                p.env(v, model.clone());
            }
        } else {
            p.note("direct to Anthropic: the haiku/sonnet/opus tiers keep Claude Code's defaults");
        }
        if let Some(n) = ctx.context_window {
            p.env("CLAUDE_CODE_AUTO_COMPACT_WINDOW", n.to_string());
        }
        for v in ["CLAUDE_CODE_USE_BEDROCK", "CLAUDE_CODE_USE_VERTEX", "CLAUDE_CODE_USE_FOUNDRY"] {
            p.remove_env(v);
        }
        match &ctx.session {
            Session::New => {}
            Session::Last => {
                p.arg("--continue");
            }
            Session::Id(id) => {
                p.args(["--resume", id.as_str()]);
            }
        }
        // Claude Code's own limits work in headless (`-p`) runs only (`claude --help`).
        match (ctx.max_turns, ctx.prompt) {
            (Some(n), Some(_)) => {
                p.args(["--max-turns".to_string(), n.to_string()]);
                p.limits.push("--max-turns");
            }
            (Some(_), None) => {
                return Err(LaunchError::LimitRefused {
                    harness: self.name(),
                    flag: "--max-turns",
                    reason: "Claude Code applies a turn limit only in headless runs (--prompt)".into(),
                });
            }
            _ => {}
        }
        match (ctx.max_budget_usd, ctx.prompt) {
            (Some(usd), Some(_)) => {
                p.args(["--max-budget-usd".to_string(), usd.to_string()]);
                p.limits.push("--max-budget-usd");
            }
            (Some(_), None) => {
                return Err(LaunchError::LimitRefused {
                    harness: self.name(),
                    flag: "--max-budget-usd",
                    reason: "going direct, only Claude Code can count the cost, and its --max-budget-usd works \
                             only in headless runs (--prompt); or add --with-gateway"
                        .into(),
                });
            }
            _ => {}
        }
        p.args(ctx.user_args.iter().cloned());
        if let Some(prompt) = ctx.prompt {
            p.args(["-p", prompt]);
        }
        Ok(p)
    }
}

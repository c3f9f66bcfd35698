//! OpenClaw: a provider `amux` under `models.providers` of `~/.openclaw/openclaw.json` and
//! `agents.defaults.model.primary = "amux/<model>"`, merged and restored. Headless runs use
//! `openclaw agent --local --message` (the embedded runtime, no OpenClaw gateway daemon);
//! interactive runs open `openclaw tui`, which needs OpenClaw's own gateway daemon running.

use serde_json::json;

use super::{Ctx, Harness, refuse_args};
use crate::ir::Dialect;
use crate::launch::args::Session;
use crate::launch::error::LaunchError;
use crate::launch::plan::{FileEdit, Format, Op, Plan};

pub struct OpenClaw;

impl Harness for OpenClaw {
    fn name(&self) -> &'static str {
        "openclaw"
    }
    fn binary(&self) -> &'static str {
        "openclaw"
    }
    fn install(&self) -> &'static str {
        "npm install -g openclaw"
    }
    fn dialects(&self) -> &'static [Dialect] {
        &[Dialect::OpenAiChat]
    }

    fn plan(&self, ctx: &Ctx) -> Result<Plan, LaunchError> {
        refuse_args(self, ctx.user_args, &["--message", "--session-id"], "amux sets these")?;
        let mut p = ctx.plan(self);
        let id = ctx.endpoint.provider_id.clone();
        let model = &ctx.endpoint.model;
        let mut entry = json!({"id": model, "name": model, "input": ["text"]});
        if let Some(n) = ctx.context_window {
            entry["contextWindow"] = json!(n);
        }
        let provider = json!({
            "baseUrl": ctx.openai_base(),
            "api": "openai-completions",
            "apiKey": ctx.endpoint.key,
            "models": [entry],
        });
        let config = ctx.home()?.join(".openclaw").join("openclaw.json");
        let path = |s: &str| s.split('.').map(str::to_string).collect::<Vec<_>>();
        p.file(FileEdit::Merge {
            path: config,
            format: Format::Json,
            ops: vec![
                Op::Set { path: vec!["models".into(), "providers".into(), id.clone()], value: provider },
                Op::Set { path: path("agents.defaults.model.primary"), value: json!(format!("{id}/{model}")) },
            ],
        });
        match ctx.prompt {
            Some(prompt) => {
                if ctx.session == Session::Last {
                    return Err(LaunchError::UnsupportedFlag {
                        harness: "openclaw",
                        flag: "--resume",
                        what: "resume the last session (use --session ID)",
                    });
                }
                p.args(["agent", "--local"]);
                if let Session::Id(s) = &ctx.session {
                    p.args(["--session-id", s.as_str()]);
                }
                p.args(ctx.user_args.iter().cloned());
                p.args(["--message", prompt]);
            }
            None => {
                super::no_sessions(self, &ctx.session)?;
                p.arg("tui");
                p.args(ctx.user_args.iter().cloned());
                p.note(
                    "openclaw tui talks to OpenClaw's own gateway daemon: start it with `openclaw gateway` if needed",
                );
            }
        }
        Ok(p)
    }
}

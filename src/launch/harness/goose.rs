//! Goose: environment only. OpenAI-compatible: `GOOSE_PROVIDER=openai`, `OPENAI_HOST` (origin)
//! and `OPENAI_BASE_PATH` (`v1/chat/completions`); Anthropic: `GOOSE_PROVIDER=anthropic` and
//! `ANTHROPIC_HOST`. Headless runs use `goose run -t`, interactive ones `goose session`.

use super::{Ctx, Harness, origin_of, refuse_args};
use crate::ir::Dialect;
use crate::launch::args::Session;
use crate::launch::error::LaunchError;
use crate::launch::plan::Plan;

pub struct Goose;

impl Harness for Goose {
    fn name(&self) -> &'static str {
        "goose"
    }
    fn binary(&self) -> &'static str {
        "goose"
    }
    fn install(&self) -> &'static str {
        "curl -fsSL https://github.com/block/goose/releases/latest/download/download_cli.sh | bash"
    }
    fn dialects(&self) -> &'static [Dialect] {
        &[Dialect::OpenAiChat, Dialect::Anthropic]
    }

    fn plan(&self, ctx: &Ctx) -> Result<Plan, LaunchError> {
        refuse_args(self, ctx.user_args, &["-t", "--text"], "amux sets the prompt")?;
        let mut p = ctx.plan(self);
        p.env("GOOSE_MODEL", ctx.endpoint.model.clone());
        match ctx.endpoint.dialect {
            Dialect::Anthropic => {
                p.env("GOOSE_PROVIDER", "anthropic")
                    .env("ANTHROPIC_HOST", ctx.origin())
                    .env("ANTHROPIC_API_KEY", ctx.endpoint.key.clone());
            }
            _ => {
                let base = ctx.openai_base();
                let origin = origin_of(&base);
                let path = base[origin.len()..].trim_matches('/');
                let base_path =
                    if path.is_empty() { "chat/completions".to_string() } else { format!("{path}/chat/completions") };
                p.env("GOOSE_PROVIDER", "openai")
                    .env("OPENAI_HOST", origin)
                    .env("OPENAI_BASE_PATH", base_path)
                    .env("OPENAI_API_KEY", ctx.endpoint.key.clone());
            }
        }
        match ctx.prompt {
            Some(prompt) => {
                if ctx.session != Session::New {
                    return Err(LaunchError::UnsupportedFlag {
                        harness: "goose",
                        flag: "--resume/--session",
                        what: "resume a session in `goose run`",
                    });
                }
                p.arg("run");
                p.args(ctx.user_args.iter().cloned());
                p.args(["-t", prompt]);
            }
            None => {
                p.arg("session");
                match &ctx.session {
                    Session::New => {}
                    Session::Last => {
                        p.arg("--resume");
                    }
                    Session::Id(s) => {
                        p.args(["--resume", "--session-id", s.as_str()]);
                    }
                }
                p.args(ctx.user_args.iter().cloned());
            }
        }
        Ok(p)
    }
}

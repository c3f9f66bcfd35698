//! Factory Droid: a custom model added to `~/.factory/settings.json` (`customModels`, the key
//! as a `${AMUX_DROID_API_KEY}` reference that Droid expands from its environment, so no secret
//! is written), selected as the session default for interactive runs and with `-m` for
//! `droid exec`. Droid names custom models `custom:<displayName>-<index>`.

use serde_json::json;

use super::{Ctx, Harness, refuse_args};
use crate::ir::Dialect;
use crate::launch::args::Session;
use crate::launch::doc;
use crate::launch::error::LaunchError;
use crate::launch::plan::{FileEdit, Format, Op, Plan};

pub struct Droid;

const KEY_VAR: &str = "AMUX_DROID_API_KEY";

impl Harness for Droid {
    fn name(&self) -> &'static str {
        "droid"
    }
    fn binary(&self) -> &'static str {
        "droid"
    }
    fn install(&self) -> &'static str {
        "npm install -g droid (or: curl -fsSL https://app.factory.ai/cli | sh)"
    }
    fn dialects(&self) -> &'static [Dialect] {
        &[Dialect::OpenAiChat, Dialect::Anthropic]
    }

    fn plan(&self, ctx: &Ctx) -> Result<Plan, LaunchError> {
        refuse_args(self, ctx.user_args, &["-m", "--model"], "amux sets the model")?;
        let mut p = ctx.plan(self);
        let settings = ctx.home()?.join(".factory").join("settings.json");
        let existing = match std::fs::read_to_string(&settings) {
            Ok(t) => doc::parse(Format::Json, &t).map_err(|e| LaunchError::file(&settings, e))?,
            Err(_) => json!({}),
        };
        let index = existing.get("customModels").and_then(|v| v.as_array()).map(|a| a.len()).unwrap_or(0);
        let model = &ctx.endpoint.model;
        let display = format!("amux-{model}");
        let id = format!("custom:{display}-{index}");
        let (provider, base) = match ctx.endpoint.dialect {
            Dialect::Anthropic => ("anthropic", ctx.origin()),
            _ => ("generic-chat-completion-api", ctx.openai_base()),
        };
        let max_out = ctx.context_window.map(|n| (n / 4).min(32_768)).unwrap_or(16_384);
        let entry = json!({
            "model": model,
            "displayName": display,
            "baseUrl": base,
            "apiKey": format!("${{{KEY_VAR}}}"),
            "provider": provider,
            "maxOutputTokens": max_out,
            "id": id,
            "index": index,
        });
        let mut ops = vec![Op::Insert { path: vec!["customModels".into()], value: entry, front: false }];
        if ctx.prompt.is_none() {
            ops.push(Op::Set { path: vec!["sessionDefaultSettings".into(), "model".into()], value: json!(id) });
        }
        p.file(FileEdit::Merge { path: settings, format: Format::Json, ops });
        p.env(KEY_VAR, ctx.endpoint.key.clone());
        match ctx.prompt {
            Some(prompt) => {
                if ctx.session != Session::New {
                    return Err(LaunchError::UnsupportedFlag {
                        harness: "droid",
                        flag: "--resume/--session",
                        what: "resume a session in `droid exec` that amux could verify",
                    });
                }
                p.args(["exec", "-m", id.as_str()]);
                p.args(ctx.user_args.iter().cloned());
                p.arg(prompt);
            }
            None => {
                match &ctx.session {
                    Session::New => {}
                    Session::Last => {
                        p.arg("--resume");
                    }
                    Session::Id(s) => {
                        p.args(["--resume", s.as_str()]);
                    }
                }
                p.args(ctx.user_args.iter().cloned());
            }
        }
        Ok(p)
    }
}

//! OpenCode: the provider and model go in `OPENCODE_CONFIG_CONTENT`, which OpenCode deep-merges
//! over the global and project `opencode.json` (so the user's agents, tools and permissions are
//! kept); an `OPENCODE_CONFIG_CONTENT` the user already set is merged in, ours on top. The model
//! is also added to the recent-models list of OpenCode's state file (`model.json`), merged and
//! restored like any user file.

use serde_json::{Value, json};

use super::{Ctx, Harness, refuse_args};
use crate::ir::Dialect;
use crate::launch::args::Session;
use crate::launch::doc;
use crate::launch::error::LaunchError;
use crate::launch::plan::{FileEdit, Format, Op, Plan};

pub struct OpenCode;

impl Harness for OpenCode {
    fn name(&self) -> &'static str {
        "opencode"
    }
    fn binary(&self) -> &'static str {
        "opencode"
    }
    fn install(&self) -> &'static str {
        "npm install -g opencode-ai"
    }
    fn dialects(&self) -> &'static [Dialect] {
        &[Dialect::OpenAiChat]
    }

    fn plan(&self, ctx: &Ctx) -> Result<Plan, LaunchError> {
        refuse_args(self, ctx.user_args, &["-m", "--model"], "amux sets the model")?;
        let mut p = ctx.plan(self);
        let id = &ctx.endpoint.provider_id;
        let model = &ctx.endpoint.model;
        let mut entry = json!({"name": model});
        if let Some(n) = ctx.context_window {
            entry["limit"] = json!({"context": n, "output": (n / 4).min(32_768)});
        }
        let ours = json!({
            "$schema": "https://opencode.ai/config.json",
            "provider": {
                id.as_str(): {
                    "npm": "@ai-sdk/openai-compatible",
                    "name": "amux",
                    "options": {"baseURL": ctx.openai_base(), "apiKey": ctx.endpoint.key},
                    "models": {model.as_str(): entry},
                }
            },
            "model": format!("{id}/{model}"),
        });
        let mut content = match ctx.env.get("OPENCODE_CONFIG_CONTENT") {
            Some(existing) => doc::parse(Format::Json, existing)
                .map_err(|e| LaunchError::Usage(format!("OPENCODE_CONFIG_CONTENT (already set): {e}")))?,
            None => json!({}),
        };
        merge(&mut content, ours);
        p.env("OPENCODE_CONFIG_CONTENT", content.to_string());
        let state = ctx.env.xdg("XDG_STATE_HOME", ".local/state")?.join("opencode").join("model.json");
        p.file(FileEdit::Merge {
            path: state,
            format: Format::Json,
            ops: vec![Op::Insert {
                path: vec!["recent".into()],
                value: json!({"providerID": id, "modelID": model}),
                front: true,
            }],
        });
        let session: Vec<String> = match &ctx.session {
            Session::New => vec![],
            Session::Last => vec!["--continue".into()],
            Session::Id(s) => vec!["--session".into(), s.clone()],
        };
        match ctx.prompt {
            Some(prompt) => {
                p.arg("run");
                p.args(session);
                p.args(["-m".to_string(), format!("{id}/{model}")]);
                p.args(ctx.user_args.iter().cloned());
                p.arg(prompt);
            }
            None => {
                p.args(session);
                p.args(["-m".to_string(), format!("{id}/{model}")]);
                p.args(ctx.user_args.iter().cloned());
            }
        }
        Ok(p)
    }
}

/// Deep merge, `b` winning; arrays are replaced.
fn merge(a: &mut Value, b: Value) {
    match (a, b) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in b {
                match a.get_mut(&k) {
                    Some(slot) => merge(slot, v),
                    None => {
                        a.insert(k, v);
                    }
                }
            }
        }
        (slot, v) => *slot = v,
    }
}

//! Oh My Pi (`omp`, a Pi fork): a provider `amux` merged into `~/.omp/agent/models.yml` (or
//! `$PI_CODING_AGENT_DIR`, or `$PI_CONFIG_DIR/agent`), selected with `--model amux/<model>`.

use super::{Ctx, Harness, refuse_args};
use crate::ir::Dialect;
use crate::launch::args::Session;
use crate::launch::error::LaunchError;
use crate::launch::plan::{FileEdit, Format, Op, Plan};

pub struct Omp;

impl Harness for Omp {
    fn name(&self) -> &'static str {
        "omp"
    }
    fn binary(&self) -> &'static str {
        "omp"
    }
    fn install(&self) -> &'static str {
        "see https://omp.sh"
    }
    fn dialects(&self) -> &'static [Dialect] {
        &[Dialect::OpenAiChat]
    }

    fn plan(&self, ctx: &Ctx) -> Result<Plan, LaunchError> {
        refuse_args(self, ctx.user_args, &["--model", "-p", "--print"], "amux sets these")?;
        if let Session::Id(_) = ctx.session {
            return Err(LaunchError::UnsupportedFlag {
                harness: "omp",
                flag: "--session",
                what: "open a session by id",
            });
        }
        let mut p = ctx.plan(self);
        let dir = match (ctx.env.get("PI_CODING_AGENT_DIR"), ctx.env.get("PI_CONFIG_DIR")) {
            (Some(d), _) => std::path::PathBuf::from(d),
            (None, Some(c)) if std::path::Path::new(c).is_absolute() => std::path::PathBuf::from(c).join("agent"),
            (None, Some(c)) => ctx.home()?.join(c).join("agent"),
            (None, None) => ctx.home()?.join(".omp").join("agent"),
        };
        let id = ctx.endpoint.provider_id.clone();
        p.file(FileEdit::Merge {
            path: dir.join("models.yml"),
            format: Format::Yaml,
            ops: vec![Op::Set { path: vec!["providers".into(), id.clone()], value: super::pi::provider_entry(ctx) }],
        });
        p.args(["--model".to_string(), format!("{id}/{}", ctx.endpoint.model)]);
        if ctx.session == Session::Last {
            p.arg("--continue");
        }
        p.args(ctx.user_args.iter().cloned());
        if let Some(prompt) = ctx.prompt {
            p.args(["-p", prompt]);
        }
        Ok(p)
    }
}

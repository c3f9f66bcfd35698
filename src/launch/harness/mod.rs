//! One module per coding agent: what it needs to reach a gateway or provider, as a [`Plan`].
//! Each harness names the APIs it speaks (its preferred one first), how it is installed, and the
//! oldest version that works.

mod aider;
mod claude;
mod codex;
mod copilot;
mod droid;
mod gemini;
mod goose;
mod hermes;
mod omp;
mod openclaw;
mod opencode;
mod pi;
mod qwen;

use std::path::PathBuf;

use super::args::Session;
use super::env::Env;
use super::error::LaunchError;
use super::plan::Plan;
use crate::ir::Dialect;

/// Where the harness sends its calls and with what.
#[derive(Debug, Clone, PartialEq)]
pub struct Endpoint {
    /// The API the harness is configured to speak.
    pub dialect: Dialect,
    /// The base URL as clients of that API take it: the origin for Anthropic and Gemini, the URL
    /// ending in `/v1` (or the provider's equivalent) for OpenAI-style APIs.
    pub base_url: String,
    /// The key the harness sends (a provider key, the team gateway's key, or the session token).
    pub key: String,
    /// The model name the harness sends.
    pub model: String,
    /// A short name for the provider in harness configs (`amux` when a gateway is in between).
    pub provider_id: String,
    /// Direct to a cloud in the harness's own mode for it (Claude Code on Bedrock).
    pub cloud: Option<crate::launch::cloud::Cloud>,
}

/// What a harness module gets to build its plan.
#[derive(Debug, Clone)]
pub struct Ctx<'a> {
    pub endpoint: Endpoint,
    /// A gateway (in-process or the team's) is between the harness and the provider.
    pub via_gateway: bool,
    /// The model's context window, when known (Ollama's `/api/show`).
    pub context_window: Option<u64>,
    pub prompt: Option<&'a str>,
    pub session: Session,
    pub user_args: &'a [String],
    pub env: &'a Env,
    /// The run's own temporary directory (removed when it ends).
    pub temp_dir: PathBuf,
    /// The gateway in between serves the Responses API over WebSocket (amux's in-process one).
    pub responses_websocket: bool,
    /// `--max-turns`, for harnesses with a turn limit of their own.
    pub max_turns: Option<u32>,
    /// `--max-budget-usd` when the harness must apply it itself (no amux gateway in between).
    pub max_budget_usd: Option<f64>,
}

impl Ctx<'_> {
    pub fn home(&self) -> Result<PathBuf, LaunchError> {
        self.env.home()
    }

    /// The URL origin (`http://host:port`) of the endpoint.
    pub fn origin(&self) -> String {
        origin_of(&self.endpoint.base_url)
    }

    /// The OpenAI-style base URL (`…/v1`).
    pub fn openai_base(&self) -> String {
        match self.endpoint.dialect {
            Dialect::OpenAiChat | Dialect::OpenAiResponses => self.endpoint.base_url.clone(),
            _ => format!("{}/v1", self.origin()),
        }
    }

    /// A new plan with the user's extra arguments checked by `conflicts`.
    pub fn plan(&self, h: &dyn Harness) -> Plan {
        let mut p = Plan::new(h.name(), h.binary());
        p.interactive = self.prompt.is_none();
        p.secret(&self.endpoint.key);
        p
    }
}

/// `scheme://authority` of a URL.
pub fn origin_of(url: &str) -> String {
    let url = url.trim_end_matches('/');
    match url.find("://") {
        Some(i) => match url[i + 3..].find('/') {
            Some(j) => url[..i + 3 + j].to_string(),
            None => url.to_string(),
        },
        None => url.to_string(),
    }
}

/// One coding agent.
pub trait Harness: Sync {
    /// The name on the command line (`claude`).
    fn name(&self) -> &'static str;
    /// Its executable.
    fn binary(&self) -> &'static str;
    /// The command that installs it.
    fn install(&self) -> &'static str;
    /// The APIs it can speak to an upstream, preferred first.
    fn dialects(&self) -> &'static [Dialect];
    /// The oldest version that works, when that matters.
    fn min_version(&self) -> Option<[u64; 3]> {
        None
    }
    /// Builds the plan. A harness that applies `ctx.max_turns` or `ctx.max_budget_usd` says so
    /// in [`Plan::limits`]; the launcher refuses a limit that no harness applied.
    fn plan(&self, ctx: &Ctx) -> Result<Plan, LaunchError>;
    /// Clouds it speaks in a mode of its own, so that it can go to them with no gateway.
    fn clouds(&self) -> &'static [crate::config::ProviderKind] {
        &[]
    }
}

static HARNESSES: &[&dyn Harness] = &[
    &claude::Claude,
    &codex::Codex,
    &gemini::Gemini,
    &opencode::OpenCode,
    &copilot::Copilot,
    &droid::Droid,
    &pi::Pi,
    &qwen::Qwen,
    &hermes::Hermes,
    &aider::Aider,
    &omp::Omp,
    &openclaw::OpenClaw,
    &goose::Goose,
];

/// Harnesses that cannot use a plain LLM API, and why.
const REFUSED: &[(&str, &str)] = &[
    ("amp", "Amp only talks to Sourcegraph's own service (ampcode.com); it has no setting for another LLM API"),
    (
        "cursor",
        "Cursor's agent runs its requests through Cursor's servers; it cannot be pointed at a plain LLM API or gateway",
    ),
];

/// Every harness amux can launch.
pub fn all() -> &'static [&'static dyn Harness] {
    HARNESSES
}

pub fn find(name: &str) -> Result<&'static dyn Harness, LaunchError> {
    let lower = name.to_ascii_lowercase();
    let alias = match lower.as_str() {
        "claude-code" => "claude",
        "gemini-cli" => "gemini",
        "qwen-code" => "qwen",
        "factory" => "droid",
        "oh-my-pi" => "omp",
        "cursor-agent" => "cursor",
        other => other,
    };
    if let Some(h) = HARNESSES.iter().find(|h| h.name() == alias) {
        return Ok(*h);
    }
    if let Some((n, reason)) = REFUSED.iter().find(|(n, _)| *n == alias) {
        return Err(LaunchError::Unsupported { harness: n.to_string(), reason });
    }
    Err(LaunchError::UnknownHarness {
        name: name.to_string(),
        known: HARNESSES.iter().map(|h| h.name()).collect::<Vec<_>>().join(", "),
    })
}

/// The usual tail of a command line: `--continue` for the last session or `by_id ID` for one
/// session, then the user's own arguments, then `prompt_flag PROMPT` for a headless run.
pub fn session_and_prompt(p: &mut Plan, ctx: &Ctx, by_id: &str, prompt_flag: &str) {
    match &ctx.session {
        Session::New => {}
        Session::Last => {
            p.arg("--continue");
        }
        Session::Id(id) => {
            p.args([by_id, id.as_str()]);
        }
    }
    p.args(ctx.user_args.iter().cloned());
    if let Some(prompt) = ctx.prompt {
        p.args([prompt_flag, prompt]);
    }
}

/// Refuses `--resume` / `--session` for a harness without sessions to resume.
pub fn no_sessions(h: &dyn Harness, session: &Session) -> Result<(), LaunchError> {
    match session {
        Session::New => Ok(()),
        Session::Last => {
            Err(LaunchError::UnsupportedFlag { harness: h.name(), flag: "--resume", what: "resume a session" })
        }
        Session::Id(_) => {
            Err(LaunchError::UnsupportedFlag { harness: h.name(), flag: "--session", what: "open a session by id" })
        }
    }
}

/// Refuses user arguments that would override what the launcher sets.
pub fn refuse_args(
    h: &dyn Harness,
    user_args: &[String],
    flags: &[&str],
    reason: &'static str,
) -> Result<(), LaunchError> {
    for a in user_args {
        let name = a.split_once('=').map(|(n, _)| n).unwrap_or(a);
        if flags.contains(&name) {
            return Err(LaunchError::ConflictingArg { harness: h.name(), arg: a.clone(), reason });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;

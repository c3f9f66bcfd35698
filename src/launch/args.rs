//! The `amux launch` command line.

use std::path::PathBuf;

/// `amux launch <harness> [provider] --model M [...] [-- harness args]`.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct LaunchArgs {
    /// The coding agent: claude, codex, gemini, opencode, copilot, droid, pi, qwen, hermes, aider, omp,
    /// openclaw, goose.
    pub harness: String,
    /// The provider to use (a config provider or a preset: anthropic, openai, ollama, groq, ...).
    /// Without it the model name routes (alias, provider/model, claude-*, gpt-*).
    pub provider: Option<String>,
    /// The model, as the provider names it (e.g. qwen3:32b for ollama).
    #[arg(long, short)]
    pub model: Option<String>,
    /// A running amux gateway (e.g. the team's) instead of going direct or starting one.
    #[arg(long, env = "AMUX_GATEWAY_URL")]
    pub gateway: Option<String>,
    /// The key for --gateway.
    #[arg(long, env = "AMUX_API_KEY", hide_env_values = true)]
    pub key: Option<String>,
    /// Always go through a gateway (in-process unless --gateway), even when the harness could go direct.
    #[arg(long, conflicts_with = "no_gateway")]
    pub with_gateway: bool,
    /// Never start a gateway: fail when the harness and the provider speak different APIs.
    #[arg(long)]
    pub no_gateway: bool,
    /// A provider parameter merged into every request (repeatable), e.g. temperature=0.2.
    #[arg(long = "provider-arg", value_name = "KEY=VALUE")]
    pub provider_args: Vec<String>,
    /// Resume the harness's most recent session.
    #[arg(long, conflicts_with = "session")]
    pub resume: bool,
    /// Resume this session of the harness.
    #[arg(long, value_name = "ID")]
    pub session: Option<String>,
    /// Run headless with this prompt (the harness's own non-interactive mode) and exit.
    #[arg(long)]
    pub prompt: Option<String>,
    /// Print what would be set, written and run (secrets masked), and do nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Machine-readable output (the plan, errors).
    #[arg(long)]
    pub json: bool,
    /// Put back the files a previous launch of <harness> edited (after a crash).
    #[arg(long)]
    pub restore: bool,
    /// Record the session: every model call as JSON lines (and, with --prompt, the harness's raw
    /// output) in DIR [default: $XDG_STATE_HOME/amux/sessions], and a summary on stderr at the
    /// end. Give DIR as --observe=DIR.
    #[arg(long, value_name = "DIR", num_args = 0..=1, require_equals = true)]
    pub observe: Option<Option<PathBuf>>,
    /// Stop answering the session's model calls once they have cost this many USD (through
    /// amux's gateway; a direct harness needs a budget flag of its own).
    #[arg(long, value_name = "USD")]
    pub max_budget_usd: Option<f64>,
    /// The harness's own turn limit (refused for harnesses without one).
    #[arg(long, value_name = "N")]
    pub max_turns: Option<u32>,
    /// Config file for the providers (as for `amux serve`).
    #[arg(long, short, env = "AMUX_CONFIG")]
    pub config: Option<PathBuf>,
    /// Arguments passed to the harness unchanged (after `--`).
    #[arg(last = true)]
    pub harness_args: Vec<String>,
}

/// Which session the harness should open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Session {
    New,
    Last,
    Id(String),
}

impl LaunchArgs {
    pub fn session(&self) -> Session {
        match (&self.session, self.resume) {
            (Some(id), _) => Session::Id(id.clone()),
            (None, true) => Session::Last,
            (None, false) => Session::New,
        }
    }
}

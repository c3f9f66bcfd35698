//! The launcher's one error type: every failure is one clear message, with a low-cardinality
//! label for logs and `--json` output.

use std::path::PathBuf;

/// Why `amux launch` could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum LaunchError {
    #[error("unknown harness \"{name}\"; known: {known}")]
    UnknownHarness { name: String, known: String },
    #[error("{harness} cannot be launched by amux: {reason}")]
    Unsupported { harness: String, reason: &'static str },
    #[error("{harness} is not installed (no `{binary}` on PATH); install it with: {install}")]
    NotInstalled { harness: &'static str, binary: &'static str, install: &'static str },
    #[error("{harness} {found} is too old: amux needs {minimum} or newer; update with: {update}")]
    VersionTooOld { harness: &'static str, found: String, minimum: String, update: &'static str },
    #[error("cannot read the version of {harness}: {detail}")]
    VersionUnknown { harness: &'static str, detail: String },
    #[error("provider \"{provider}\" has no credentials: set {vars}")]
    MissingCredentials { provider: String, vars: String },
    #[error("provider \"{provider}\": {detail}")]
    CloudCredentials { provider: String, detail: String },
    #[error("unknown provider \"{name}\"; known: {known}")]
    UnknownProvider { name: String, known: String },
    #[error("model \"{model}\" does not route to a provider: {detail}")]
    ModelNotRoutable { model: String, detail: String },
    #[error(
        "--no-gateway: {harness} speaks {harness_dialect} and provider \"{provider}\" speaks {provider_dialect}; \
         only a gateway can translate (drop --no-gateway, or pass --gateway URL)"
    )]
    DialectMismatch { harness: &'static str, harness_dialect: String, provider: String, provider_dialect: String },
    #[error("{0}")]
    Usage(String),
    #[error("{harness}: argument {arg} conflicts with what amux sets ({reason})")]
    ConflictingArg { harness: &'static str, arg: String, reason: &'static str },
    #[error("{harness} has no way to {what}; amux cannot translate {flag}")]
    UnsupportedFlag { harness: &'static str, flag: &'static str, what: &'static str },
    #[error("{flag}: {harness}: {reason}")]
    LimitRefused { harness: &'static str, flag: &'static str, reason: String },
    #[error("--provider-arg {arg}: {detail}")]
    BadProviderArg { arg: String, detail: &'static str },
    #[error("config: {0}")]
    Config(#[from] crate::config::ConfigErrors),
    #[error("in-process gateway: {0}")]
    Gateway(#[from] crate::gateway::StartError),
    #[error("{}: {detail}", path.display())]
    FileEdit { path: PathBuf, detail: String },
    #[error("{context}: {source}")]
    Io { context: String, source: std::io::Error },
    #[error("another `amux launch {harness}` is running (pid {pid}); its files are in use")]
    Busy { harness: String, pid: u32 },
    #[error("nothing to restore for {0}")]
    NothingToRestore(String),
    #[error("Ollama: {0}")]
    Ollama(String),
    #[error("Ollama: pulling {model} failed: {detail}")]
    OllamaPull { model: String, detail: String },
    #[error("pre-flight: {what}: {detail}")]
    Preflight { what: &'static str, detail: String },
    #[error("cannot start {program}: {source}")]
    Spawn { program: String, source: std::io::Error },
}

impl LaunchError {
    /// Low-cardinality label for logs and `--json` output.
    pub fn label(&self) -> &'static str {
        match self {
            LaunchError::UnknownHarness { .. } => "unknown_harness",
            LaunchError::Unsupported { .. } => "unsupported_harness",
            LaunchError::NotInstalled { .. } => "not_installed",
            LaunchError::VersionTooOld { .. } => "version_too_old",
            LaunchError::VersionUnknown { .. } => "version_unknown",
            LaunchError::MissingCredentials { .. } => "missing_credentials",
            LaunchError::CloudCredentials { .. } => "cloud_credentials",
            LaunchError::UnknownProvider { .. } => "unknown_provider",
            LaunchError::ModelNotRoutable { .. } => "model_not_routable",
            LaunchError::DialectMismatch { .. } => "dialect_mismatch",
            LaunchError::Usage(_) => "usage",
            LaunchError::ConflictingArg { .. } => "conflicting_arg",
            LaunchError::UnsupportedFlag { .. } => "unsupported_flag",
            LaunchError::BadProviderArg { .. } => "bad_provider_arg",
            LaunchError::LimitRefused { .. } => "limit_refused",
            LaunchError::Config(_) => "config",
            LaunchError::Gateway(e) => e.label(),
            LaunchError::FileEdit { .. } => "file_edit",
            LaunchError::Io { .. } => "io",
            LaunchError::Busy { .. } => "busy",
            LaunchError::NothingToRestore(_) => "nothing_to_restore",
            LaunchError::Ollama(_) => "ollama",
            LaunchError::OllamaPull { .. } => "ollama_pull",
            LaunchError::Preflight { .. } => "preflight",
            LaunchError::Spawn { .. } => "spawn",
        }
    }

    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        LaunchError::Io { context: context.into(), source }
    }

    pub(crate) fn file(path: impl Into<PathBuf>, detail: impl Into<String>) -> Self {
        LaunchError::FileEdit { path: path.into(), detail: detail.into() }
    }
}

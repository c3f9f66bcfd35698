//! The `amux` command: `serve` runs the gateway (graceful shutdown on SIGTERM, config reload on
//! SIGHUP or a file change); `launch` points a coding agent at it; `config check` and `config
//! schema` help write config files.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand, ValueEnum};

use amux::config::{self, Config};
use amux::gateway::{Gateway, signals, watch};
use amux::providers::Registry;
use amux::telemetry::{otel, usage_log};
use amux::usage::{LogSink, UsageSinks};

/// The address `amux serve` listens on when neither `--listen`, `AMUX_LISTEN` nor the config
/// file says otherwise.
const DEFAULT_LISTEN: &str = "127.0.0.1:8484";

#[derive(Parser)]
#[command(name = "amux", version, about = "LLM gateway and launcher for coding agents")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the gateway.
    Serve {
        /// Config file (YAML or JSON). Without one, providers are discovered from the environment.
        #[arg(long, short, env = "AMUX_CONFIG")]
        config: Option<PathBuf>,
        /// Address to listen on [default: 127.0.0.1:8484].
        #[arg(long, env = "AMUX_LISTEN")]
        listen: Option<SocketAddr>,
        /// Log format.
        #[arg(long, value_enum, default_value = "text", env = "AMUX_LOG_FORMAT")]
        log_format: LogFormat,
        /// Allow a non-loopback address without any keys configured (anyone who can reach the
        /// port can spend the providers' keys).
        #[arg(long)]
        no_auth: bool,
    },
    /// Virtual keys.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Run a coding agent (claude, codex, gemini, opencode, ...) against a gateway or provider.
    ///
    /// Examples: `amux launch claude ollama --model qwen3:32b`,
    /// `amux launch codex --model claude-sonnet-4-5 --prompt "fix the tests"`,
    /// `amux launch --restore opencode`.
    Launch(Box<amux::launch::LaunchArgs>),
    /// The sessions `amux launch --observe` recorded, with their totals.
    Sessions(amux::launch::observe::sessions::SessionsArgs),
    /// Config file tools.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Check a config file and report every error with its path.
    Check { file: PathBuf },
    /// Print the JSON Schema of the config file.
    Schema,
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Print a fresh key and the config entry holding its hash.
    New {
        /// Name shown in logs and metrics.
        #[arg(long, default_value = "new-key")]
        name: String,
        /// Team of the key.
        #[arg(long)]
        team: Option<String>,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// jemalloc for small blocks, glibc for large ones ([`amux::allocator`]).
#[global_allocator]
static GLOBAL: amux::allocator::Split = amux::allocator::Split;

/// jemalloc's options, read when it starts: a thread of its own returns freed pages to the system
/// a second after they fall idle (its default waits ten), straight away rather than by the lazy
/// `MADV_FREE` (whose pages still count in RSS).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[unsafe(export_name = "_rjem_malloc_conf")]
static MALLOC_CONF: &[u8; 60] = b"background_thread:true,dirty_decay_ms:1000,muzzy_decay_ms:0\0";

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve { config, listen, log_format, no_auth } => serve(config, listen, log_format, no_auth),
        Command::Keys { command: KeysCommand::New { name, team } } => new_key(&name, team.as_deref()),
        Command::Launch(args) => {
            let code = amux::launch::main(*args, amux::launch::Env::from_process());
            ExitCode::from(u8::try_from(code).unwrap_or(1))
        }
        Command::Sessions(args) => {
            let code = amux::launch::observe::sessions::main(args, &amux::launch::Env::from_process());
            ExitCode::from(u8::try_from(code).unwrap_or(1))
        }
        Command::Config { command: ConfigCommand::Check { file } } => check(&file),
        Command::Config { command: ConfigCommand::Schema } => {
            print!("{}", config::schema_json());
            ExitCode::SUCCESS
        }
    }
}

fn new_key(name: &str, team: Option<&str>) -> ExitCode {
    let key = match amux::stack::auth::new_key() {
        Ok(k) => k,
        Err(e) => {
            eprintln!("amux: {}", e.message);
            return ExitCode::FAILURE;
        }
    };
    println!("key: {key}");
    println!();
    println!("# config entry (only the hash is stored):");
    println!("keys:");
    println!("  - name: {name}");
    if let Some(t) = team {
        println!("    team: {t}");
    }
    println!("    key_sha256: {}", amux::stack::auth::hash_key(&key));
    println!("    models: [\"*\"]");
    ExitCode::SUCCESS
}

fn check(file: &std::path::Path) -> ExitCode {
    let result = config::load_file(file).and_then(|c| {
        let reg = Registry::build(&c, &env)?;
        amux::stack::auth::Keys::from_config(&c.keys, c.keys_file.as_deref(), &env)?;
        amux::telemetry::prices::PriceBook::build(&c, &reg)?;
        Ok((c, reg))
    });
    match result {
        Ok((_, reg)) => {
            println!("{}: ok ({} providers, {} model aliases)", file.display(), reg.providers.len(), reg.aliases.len());
            ExitCode::SUCCESS
        }
        Err(errs) => {
            for e in &errs.0 {
                eprintln!("{}: {e}", file.display());
            }
            eprintln!("{} error(s)", errs.0.len());
            ExitCode::FAILURE
        }
    }
}

fn serve(config_path: Option<PathBuf>, listen: Option<SocketAddr>, log_format: LogFormat, no_auth: bool) -> ExitCode {
    // Installing the process-wide TLS provider can only fail if one is already installed.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let config = match &config_path {
        Some(p) => match config::load_file(p) {
            Ok(c) => c,
            Err(errs) => {
                for e in &errs.0 {
                    eprintln!("{}: {e}", p.display());
                }
                return ExitCode::FAILURE;
            }
        },
        None => Config { discover_env: true, ..Default::default() },
    };
    let listen = listen
        .or_else(|| config.listen.as_deref().and_then(|l| l.parse().ok()))
        .unwrap_or_else(|| DEFAULT_LISTEN.parse().unwrap_or(SocketAddr::from(([127, 0, 0, 1], 8484))));
    let has_keys = !config.keys.is_empty() || config.keys_file.is_some();
    if !listen.ip().is_loopback() && !has_keys && !no_auth {
        eprintln!(
            "amux: refusing to listen on {listen} with no keys configured: anyone who can reach it could \
             spend the providers' keys. Add keys (`amux keys new`) or pass --no-auth."
        );
        return ExitCode::FAILURE;
    }
    // Usage lines are written in bursts: when a runtime thread is about to go idle, and at exit.
    usage_log::batch();
    // One CPU (a pinned process, a pod limited to one core; std reads the affinity mask and the
    // cgroup quota): one thread runs everything, with none of the work-stealing scheduler's
    // cross-thread bookkeeping (2-16% less CPU a call, docs/benchmarks.md). TOKIO_WORKER_THREADS
    // set: tokio's multi-thread scheduler with that many workers, as tokio reads it.
    let one_cpu = std::env::var_os("TOKIO_WORKER_THREADS").is_none()
        && std::thread::available_parallelism().is_ok_and(|n| n.get() == 1);
    let mut builder = if one_cpu {
        tokio::runtime::Builder::new_current_thread()
    } else {
        tokio::runtime::Builder::new_multi_thread()
    };
    let runtime = match builder.enable_all().on_thread_park(usage_log::flush).build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    // Logs and traces: inside the runtime, which the OTLP exporter sends from.
    let traces =
        match runtime.block_on(async { otel::init(&config.tracing, matches!(log_format, LogFormat::Json), &env) }) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("amux: {e}");
                return ExitCode::FAILURE;
            }
        };
    if traces.exporting() {
        tracing::info!("exporting traces over OTLP");
    }
    let code = runtime.block_on(async move {
        let sinks = UsageSinks::new(vec![Arc::new(LogSink { json: matches!(log_format, LogFormat::Json) })]);
        let gateway = match Gateway::bind(&config, listen, &env, sinks).await {
            Ok(g) => g,
            Err(e) => {
                eprintln!("amux: {e}");
                return ExitCode::FAILURE;
            }
        };
        let state = gateway.state();
        for p in state.registry.providers.values() {
            let aws = p.aws.as_ref().map(|a| a.source()).unwrap_or("-");
            let gcp = p.gcp.as_ref().map(|g| g.describe()).unwrap_or("-");
            tracing::info!(provider = %p.name, dialect = p.dialects[0].label(), source = p.source, base_url = %p.base_url, has_key = p.api_key.is_some(), aws, gcp, "provider");
        }
        for (name, a) in &state.registry.aliases {
            let deployments: Vec<&str> = a.deployments.iter().map(|d| d.id.as_str()).collect();
            tracing::info!(alias = %name, deployments = ?deployments, strategy = ?a.strategy, "model alias");
        }
        let addr = gateway.local_addr().map(|a| a.to_string()).unwrap_or_default();
        let scheme = if config.tls.is_some() { "https" } else { "http" };
        tracing::info!("amux listening on {scheme}://{addr}");
        if let Some(m) = gateway.metrics_addr() {
            tracing::info!("metrics on http://{m}{}", config.metrics.path);
        }
        // Reloads on SIGHUP and when the config or keys files change.
        let _watcher = watch::spawn(gateway.live(), config_path, Arc::new(env));
        let (shutdown, hurry) = signals::termination();
        match gateway.serve_with(shutdown, hurry).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("amux: server error: {e}");
                ExitCode::FAILURE
            }
        }
    });
    // Export the last spans (the exporter sends from the runtime, still alive here).
    let _ = runtime.block_on(async { tokio::task::spawn_blocking(move || traces.shutdown()).await });
    // Calls still open end (and write their lines) as the runtime drops its tasks.
    drop(runtime);
    usage_log::flush();
    code
}

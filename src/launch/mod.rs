//! `amux launch <harness> [provider] --model M [-- harness args]`: points a coding agent at a
//! gateway (the team's, or one started in-process) or straight at the provider, runs it, and
//! cleans up after it.
//!
//! Order of one run: resolve the route ([`target`]), pre-flight ([`preflight`], and [`cloud`]
//! for a harness in a cloud's own mode), Ollama
//! ([`ollama`]), the in-process gateway ([`gateway`]), the harness's plan ([`harness`]), the files
//! with backups ([`files`]), the process ([`process`], a PTY for TUIs), then everything undone in
//! reverse by the guards' drops, whichever way the run ends.

pub mod args;
pub mod cloud;
pub mod doc;
pub mod env;
pub mod error;
pub mod files;
pub mod gateway;
pub mod harness;
pub mod ollama;
pub mod plan;
pub mod preflight;
mod process;
#[cfg(unix)]
mod pty;
mod signals;
pub mod target;

use std::path::PathBuf;
use std::time::Duration;

pub use args::{LaunchArgs, Session};
pub use env::Env;
pub use error::LaunchError;

use crate::config::ProviderKind;
use harness::{Ctx, origin_of};
use target::{Route, dialect_name, gateway_base};

/// The exit code when amux itself could not launch the harness.
pub const LAUNCH_FAILED: i32 = 2;

/// Runs `amux launch`; returns the process exit code.
pub fn main(args: LaunchArgs, env: Env) -> i32 {
    match run(&args, &env) {
        Ok(code) => code,
        Err(e) => {
            if args.json {
                let v = serde_json::json!({"error": {"label": e.label(), "message": e.to_string()}});
                eprintln!("{v}");
            } else {
                eprintln!("amux launch: {e}");
            }
            LAUNCH_FAILED
        }
    }
}

/// A directory for the run's own files, removed on drop. It lives under `$AMUX_HOME/run/`
/// (mode 0700), not in the shared temporary directory: Gemini CLI refuses a settings file with a
/// world-writable directory such as `/tmp` above it.
struct TempDir(Option<PathBuf>);

impl TempDir {
    fn path_for_run(env: &Env) -> Result<PathBuf, LaunchError> {
        Ok(env.amux_home()?.join("run").join(format!("{}-{:08x}", std::process::id(), fastrand::u32(..))))
    }

    fn create(path: &std::path::Path) -> Result<TempDir, LaunchError> {
        let mut b = std::fs::DirBuilder::new();
        b.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
        b.create(path).map_err(|e| LaunchError::io(format!("creating {}", path.display()), e))?;
        Ok(TempDir(Some(path.to_path_buf())))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if let Some(p) = self.0.take() {
            let _ = std::fs::remove_dir_all(p);
        }
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, LaunchError> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| LaunchError::io("starting the async runtime", e))
}

fn run(args: &LaunchArgs, env: &Env) -> Result<i32, LaunchError> {
    let h = harness::find(&args.harness)?;
    if args.restore {
        let lines = files::restore(env, h.name())?;
        if args.json {
            println!("{}", serde_json::json!({"restored": lines}));
        } else {
            for l in lines {
                println!("{l}");
            }
        }
        return Ok(0);
    }
    let program = match args.dry_run {
        true => env.which(h.binary()),
        false => Some(preflight::installed(h, env)?),
    };
    if let (false, Some(p)) = (args.dry_run, &program) {
        preflight::version(h, p, env)?;
    }
    let mut res = target::resolve(args, h, env)?;
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let rt = runtime()?;
    let mut notes = Vec::new();
    // Vertex, Azure and Foundry: a token must be obtainable before the harness starts.
    if let (false, Some(p)) = (args.dry_run, &res.provider)
        && res.route != Route::Team
    {
        rt.block_on(target::cloud_preflight(p, &res.upstream_model))?;
    }
    if program.is_none() {
        notes.push(format!("{} is not installed; install it with: {}", h.binary(), h.install()));
    }
    // A cloud's own mode (Claude Code on Bedrock): its setup checked before anything starts.
    if let (Some(cloud::Cloud::Bedrock(mode)), Some(p)) = (&res.endpoint.cloud, &res.provider) {
        notes.extend(cloud::preflight(&rt, p, mode, env, args.dry_run)?);
    }

    // Ollama: server, model, context window.
    let mut context_window = None;
    let _ollama = match &res.provider {
        Some(p) if p.preset.kind == ProviderKind::Ollama && res.route != Route::Team => {
            let origin = origin_of(&p.base_url);
            let mut bar = ollama::progress_bar(&res.upstream_model);
            let opts = ollama::Options {
                origin: &origin,
                model: &res.upstream_model,
                dry_run: args.dry_run,
                start_timeout: Duration::from_secs(30),
            };
            let prepared = ollama::prepare(&rt, env, &opts, &mut bar)?;
            context_window = prepared.context_window;
            notes.extend(prepared.notes.iter().cloned());
            Some(prepared)
        }
        _ => None,
    };

    // The in-process gateway, with the session token the harness gets as its key.
    let mut gw = None;
    if res.route == Route::InProcess {
        let token = gateway::session_token()?;
        let url = if args.dry_run {
            "http://127.0.0.1:<port>".to_string()
        } else {
            let cfg = res.gateway_config.as_ref().ok_or_else(|| LaunchError::Usage("no gateway config".into()))?;
            let opts = gateway::InProcessOptions { session_token: Some(token.clone()) };
            let g = gateway::InProcessGateway::start(&rt, cfg, env, opts)?;
            let url = g.url();
            gw = Some(g);
            url
        };
        res.endpoint.base_url = gateway_base(&url, res.endpoint.dialect);
        res.endpoint.key = token;
    }

    let temp_path = TempDir::path_for_run(env)?;
    let ctx = Ctx {
        endpoint: res.endpoint.clone(),
        via_gateway: res.route != Route::Direct,
        context_window,
        prompt: args.prompt.as_deref(),
        session: args.session(),
        user_args: &args.harness_args,
        env,
        temp_dir: temp_path.clone(),
    };
    let mut plan = h.plan(&ctx)?;
    plan.notes.splice(0..0, notes);
    let header = header(&res, context_window);
    if args.dry_run {
        if args.json {
            let h: serde_json::Map<String, serde_json::Value> =
                header.iter().map(|(k, v)| (k.clone(), serde_json::Value::String(plan.mask(v)))).collect();
            println!(
                "{}",
                serde_json::to_string_pretty(&plan.to_json(&serde_json::Value::Object(h))).unwrap_or_default()
            );
        } else {
            print!("{}", plan.to_text(&header));
        }
        return Ok(0);
    }
    let program =
        program.ok_or(LaunchError::NotInstalled { harness: h.name(), binary: h.binary(), install: h.install() })?;

    for line in files::recover_leftover(env, h.name())? {
        eprintln!("amux: from an earlier run: {line}");
    }
    let _temp = TempDir::create(&temp_path)?;
    let mut applied = files::apply(env, h.name(), &plan.files)?;
    let vars = process::child_env(&plan, env.vars());
    if args.json {
        eprintln!("{}", plan.to_json(&serde_json::json!({"route": res.route.label()})));
    } else if args.prompt.is_none() {
        eprintln!("amux: {} -> {} ({})", h.name(), res.endpoint.base_url, res.route.label());
    }
    let code = process::run(&plan, &program, &vars, &rt);
    if let Err(e) = applied.restore() {
        eprintln!("amux: restoring files failed: {e}; run `amux launch --restore {}`", h.name());
    }
    if let Some(mut g) = gw {
        g.stop();
    }
    code
}

fn header(res: &target::Resolution, context_window: Option<u64>) -> Vec<(String, String)> {
    let mut h = vec![("route".to_string(), format!("{} ({})", res.route.label(), res.why))];
    if let Some(p) = &res.provider {
        h.push(("provider".into(), p.name.clone()));
    }
    h.push(("model".into(), format!("{} (sent as {})", res.upstream_model, res.endpoint.model)));
    h.push(("endpoint".into(), format!("{} [{}]", res.endpoint.base_url, dialect_name(res.endpoint.dialect))));
    if let Some(n) = context_window {
        h.push(("context window".into(), n.to_string()));
    }
    h
}

//! `amux launch <harness> [provider] --model M [-- harness args]`: points a coding agent at a
//! gateway (the team's, or one started in-process) or straight at the provider, runs it, and
//! cleans up after it.
//!
//! Order of one run: resolve the route ([`target`]), pre-flight ([`preflight`], and [`cloud`]
//! for a harness in a cloud's own mode: Bedrock, Vertex AI, Foundry, Azure OpenAI), Ollama
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
pub mod observe;
pub mod ollama;
pub mod plan;
pub mod preflight;
mod process;
#[cfg(unix)]
mod pty;
mod signals;
pub mod target;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

pub use args::{LaunchArgs, Session};
pub use env::Env;
pub use error::LaunchError;

use crate::config::ProviderKind;
use crate::stack::budget::SessionBudget;
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
    if let Some(n) = args.max_budget_usd
        && !(n.is_finite() && n > 0.0)
    {
        return Err(LaunchError::Usage(format!("--max-budget-usd {n}: expected a positive number of USD")));
    }
    // Through amux's own gateway the budget is the gateway's; otherwise the harness must apply it.
    let session_budget = match (res.route, args.max_budget_usd) {
        (Route::InProcess, Some(n)) => Some(Arc::new(SessionBudget::new(n))),
        _ => None,
    };
    let harness_budget = args.max_budget_usd.filter(|_| res.route != Route::InProcess);
    let observe_dir = match &args.observe {
        Some(None) => Some(observe::default_dir(env)?),
        Some(Some(d)) => Some(d.clone()),
        None => None,
    };
    let recorder = match (&observe_dir, args.dry_run) {
        (Some(dir), false) => {
            let meta = observe::SessionFile {
                harness: h.name().to_string(),
                route: res.route.label().to_string(),
                provider: res.provider.as_ref().map(|p| p.name.clone()),
                model: res.upstream_model.clone(),
                prompt: args.prompt.is_some(),
                ..Default::default()
            };
            Some(Discard(Some(observe::Recorder::start(dir, meta, session_budget.clone())?)))
        }
        _ => None,
    };
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let rt = runtime()?;
    let mut notes = Vec::new();
    if program.is_none() {
        notes.push(format!("{} is not installed; install it with: {}", h.binary(), h.install()));
    }
    match (&res.endpoint.cloud, &res.provider) {
        // A harness in a cloud's own mode: the cloud checked the way the harness will reach it.
        (Some(c), Some(p)) => notes.extend(cloud::preflight(&rt, p, c, env, args.dry_run)?),
        // Vertex, Azure and Foundry through the in-process gateway: its token must be obtainable.
        (None, Some(p)) if !args.dry_run && res.route == Route::InProcess => {
            rt.block_on(target::cloud_preflight(p, &res.upstream_model))?
        }
        _ => {}
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
            let sinks: Vec<Arc<dyn crate::usage::UsageSink>> = match &recorder {
                Some(Discard(Some(r))) => vec![r.clone()],
                _ => Vec::new(),
            };
            let opts = gateway::InProcessOptions {
                session_token: Some(token.clone()),
                sinks,
                session_budget: session_budget.clone(),
            };
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
        responses_websocket: match res.route {
            Route::InProcess => true,
            // A team gateway: asked with a WebSocket handshake (Codex only; never in a dry run).
            Route::Team if h.name() == "codex" && !args.dry_run => {
                gateway::serves_responses_websocket(&res.endpoint.base_url, &res.endpoint.key)
            }
            _ => false,
        },
        max_turns: args.max_turns,
        max_budget_usd: harness_budget,
    };
    let mut plan = h.plan(&ctx)?;
    check_limits(args, h.name(), &res, &plan)?;
    plan.notes.splice(0..0, notes);
    let mut header = header(&res, context_window);
    if let Some(n) = args.max_budget_usd {
        let by = if session_budget.is_some() { "the in-process gateway" } else { h.name() };
        header.push(("budget".into(), format!("${} for the session, enforced by {by}", observe::usd(n))));
    }
    if let Some(n) = args.max_turns {
        header.push(("max turns".into(), format!("{n} (the harness's own limit)")));
    }
    if let Some(d) = &observe_dir {
        header.push(("observe".into(), d.display().to_string()));
    }
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
    let recorder = recorder.and_then(|mut d| d.0.take());
    let capture = match &recorder {
        Some(r) if !plan.interactive => {
            let c = process::Capture { stdout: r.path("stdout.log"), stderr: r.path("stderr.log") };
            r.add_file("stdout", &c.stdout);
            r.add_file("stderr", &c.stderr);
            Some(c)
        }
        _ => None,
    };
    let code = process::run(&plan, &program, &vars, &rt, capture.as_ref());
    if let Err(e) = applied.restore() {
        eprintln!("amux: restoring files failed: {e}; run `amux launch --restore {}`", h.name());
    }
    if let Some(mut g) = gw {
        g.stop();
    }
    if let Some(r) = recorder {
        let summary = finish_observing(&r, args, h.name(), &res, capture.as_ref(), code.as_ref().ok().copied());
        if args.json {
            let v =
                serde_json::json!({"session": {"id": r.id, "dir": r.dir, "calls": r.calls_path(), "summary": summary}});
            eprintln!("{v}");
        } else {
            eprint!("{}", summary.to_text(&r.id, &r.calls_path()));
        }
    }
    code
}

/// Removes a session's files unless the launch got as far as running the harness.
struct Discard(Option<Arc<observe::Recorder>>);

impl Drop for Discard {
    fn drop(&mut self) {
        if let Some(r) = self.0.take() {
            for suffix in ["calls.jsonl", "session.json"] {
                let _ = std::fs::remove_file(r.path(suffix));
            }
        }
    }
}

/// Refuses `--max-turns` / `--max-budget-usd` that neither the gateway nor the harness applies.
fn check_limits(
    args: &LaunchArgs,
    harness: &'static str,
    res: &target::Resolution,
    plan: &plan::Plan,
) -> Result<(), LaunchError> {
    if args.max_turns.is_some() && !plan.limits.contains(&"--max-turns") {
        return Err(LaunchError::LimitRefused {
            harness,
            flag: "--max-turns",
            reason: "it has no turn limit amux can set (claude with --prompt, gemini and qwen have one)".into(),
        });
    }
    if args.max_budget_usd.is_some() && res.route != Route::InProcess && !plan.limits.contains(&"--max-budget-usd") {
        let way = match res.route {
            Route::Team => "its calls go through the gateway at --gateway, which keeps its own budgets",
            _ => "its calls go direct to the provider, so amux cannot count their cost",
        };
        return Err(LaunchError::LimitRefused {
            harness,
            flag: "--max-budget-usd",
            reason: format!("{way}, and it has no budget flag of its own; add --with-gateway to run amux's gateway"),
        });
    }
    Ok(())
}

/// The session's summary: from the gateway's records, or from the harness's own output.
fn finish_observing(
    r: &observe::Recorder,
    args: &LaunchArgs,
    harness: &str,
    res: &target::Resolution,
    capture: Option<&process::Capture>,
    code: Option<i32>,
) -> observe::Summary {
    use observe::parse;
    if res.route == Route::InProcess {
        return r.finish(code, |_| {});
    }
    let kind = parse::format_asked(harness, &args.harness_args);
    let out = capture.and_then(|c| std::fs::read_to_string(&c.stdout).ok());
    if let (Some(kind), Some(out)) = (kind, out)
        && let Some(p) = parse::parse(kind, &out)
    {
        r.set_source(p.source);
        for l in &p.lines {
            r.line(l);
        }
        return r.finish(code, |s| {
            if let Some(t) = p.totals {
                let budget = s.budget;
                *s = t;
                s.budget = budget;
            }
            if !p.model_costs.is_empty() {
                for (m, c) in &p.model_costs {
                    let e = s.by_model.entry(m.clone()).or_default();
                    e.cost_usd = Some(*c);
                    e.unpriced_calls = 0;
                }
                s.cost_usd = Some(s.by_model.values().filter_map(|m| m.cost_usd).sum());
            }
            s.unknown.extend(p.unknown);
        });
    }
    let way = match res.route {
        Route::Team => "went through the gateway at --gateway",
        _ => "went direct to the provider",
    };
    let how = match (args.prompt.is_some(), parse::how_to_ask(harness)) {
        (true, Some(flags)) => format!("; add `{flags}` for the harness's own usage report, or --with-gateway"),
        _ => "; use --with-gateway to record every call".to_string(),
    };
    r.finish(code, |s| {
        s.source = "none".into();
        s.calls = None;
        s.unknown.push(format!("every call: they {way}, and amux read no usage report from {harness}{how}"));
    })
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

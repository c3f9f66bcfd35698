//! `amux sessions [--dir DIR] [--json]`: the sessions `--observe` recorded, oldest first, with
//! their totals (a session still running shows no totals yet).

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use super::{SessionFile, usd};
use crate::launch::env::Env;

/// `amux sessions`.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct SessionsArgs {
    /// The directory `--observe` wrote to [default: $XDG_STATE_HOME/amux/sessions].
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// One JSON document: `{"dir", "sessions": [...]}`.
    #[arg(long)]
    pub json: bool,
}

/// Every `*.session.json` of `dir`, sorted by start time (unreadable files are skipped).
pub fn load(dir: &Path) -> Vec<SessionFile> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut out: Vec<SessionFile> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().ends_with(".session.json"))
        .filter_map(|p| std::fs::read(&p).ok())
        .filter_map(|b| serde_json::from_slice(&b).ok())
        .collect();
    out.sort_by(|a, b| a.started.cmp(&b.started).then(a.id.cmp(&b.id)));
    out
}

/// Runs `amux sessions`; returns the exit code.
pub fn main(args: SessionsArgs, env: &Env) -> i32 {
    let dir = match args.dir.clone().map(Ok).unwrap_or_else(|| super::default_dir(env)) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("amux sessions: {e}");
            return 2;
        }
    };
    let sessions = load(&dir);
    if args.json {
        let v: Vec<Value> = sessions.iter().map(|s| serde_json::to_value(s).unwrap_or(Value::Null)).collect();
        println!("{}", json!({"dir": dir.display().to_string(), "sessions": v}));
        return 0;
    }
    if sessions.is_empty() {
        println!("no sessions recorded in {}", dir.display());
        return 0;
    }
    print!("{}", table(&sessions));
    0
}

fn table(sessions: &[SessionFile]) -> String {
    let mut rows = vec![[
        "SESSION".to_string(),
        "HARNESS".into(),
        "MODEL".into(),
        "ROUTE".into(),
        "CALLS".into(),
        "ERRORS".into(),
        "TOKENS IN/OUT".into(),
        "COST".into(),
        "EXIT".into(),
    ]];
    for s in sessions {
        let (calls, errors, tokens, cost) = match &s.summary {
            None => ("running".to_string(), "-".to_string(), "-".to_string(), "-".to_string()),
            Some(m) => (
                match (m.calls, m.turns) {
                    (Some(c), _) => c.to_string(),
                    (None, Some(t)) => format!("{t} turns"),
                    (None, None) => "unknown".into(),
                },
                m.errors.to_string(),
                m.tokens
                    .map_or("unknown".into(), |t| format!("{}/{}", t.input + t.cache_read + t.cache_write, t.output)),
                m.cost_usd.map_or("unknown".into(), |c| format!("${}", usd(c))),
            ),
        };
        rows.push([
            s.id.clone(),
            s.harness.clone(),
            s.model.clone(),
            s.route.clone(),
            calls,
            errors,
            tokens,
            cost,
            s.exit_code.map_or("-".into(), |c| c.to_string()),
        ]);
    }
    let widths: Vec<usize> = (0..9).map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0)).collect();
    let mut out = String::new();
    for r in &rows {
        let cells: Vec<String> = r.iter().zip(&widths).map(|(c, w)| format!("{c:<w$}")).collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out
}

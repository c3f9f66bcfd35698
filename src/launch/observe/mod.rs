//! `amux launch --observe [DIR]`: what one agent session did and cost.
//!
//! Per session, in DIR (default `$XDG_STATE_HOME/amux/sessions`, mode 0700):
//! - `<id>.calls.jsonl`: one JSON line per model call (or per turn, when only the harness's own
//!   output tells), from the in-process gateway's usage records, or parsed from the harness's
//!   machine-readable output when it goes direct to its provider ([`parse`]). A value that
//!   cannot be known is `null`, never guessed.
//! - `<id>.stdout.log` / `<id>.stderr.log`: the harness's raw output, for non-interactive runs
//!   (copied to the terminal as it comes, unchanged).
//! - `<id>.session.json`: what was launched, and the summary once the session ended.
//!
//! The summary (calls, tokens by kind, USD by model, errors, time waiting on models, the session
//! budget) is printed on stderr when the session ends, or put in the `--json` result.
//! `amux sessions` ([`list`]) reads the session files back.

pub mod parse;
pub mod sessions;

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use super::env::Env;
use super::error::LaunchError;
use crate::stack::budget::{SessionBudget, SessionBudgetReport};
use crate::usage::{CallRecord, Outcome, Rejection, UsageSink};

/// `$XDG_STATE_HOME/amux/sessions` (default `~/.local/state/amux/sessions`).
pub fn default_dir(env: &Env) -> Result<PathBuf, LaunchError> {
    Ok(env.xdg("XDG_STATE_HOME", ".local/state")?.join("amux").join("sessions"))
}

/// RFC 3339 UTC with microseconds.
pub fn rfc3339(t: SystemTime) -> String {
    let mut s = String::with_capacity(27);
    crate::telemetry::usage_log::timestamp(&mut s, t);
    s
}

/// Tokens by kind (`input` excludes what was read from or written to the prompt cache).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tokens {
    pub input: u64,
    pub output: u64,
    pub cache_read: u64,
    pub cache_write: u64,
    /// Of `output`, reasoning.
    pub reasoning: u64,
}

impl Tokens {
    fn add(&mut self, o: &Tokens) {
        self.input += o.input;
        self.output += o.output;
        self.cache_read += o.cache_read;
        self.cache_write += o.cache_write;
        self.reasoning += o.reasoning;
    }
}

impl From<&crate::ir::Usage> for Tokens {
    fn from(u: &crate::ir::Usage) -> Tokens {
        Tokens {
            input: u.input_tokens,
            output: u.output_tokens,
            cache_read: u.cache_read_tokens,
            cache_write: u.cache_write_tokens,
            reasoning: u.reasoning_tokens,
        }
    }
}

/// One line of `<id>.calls.jsonl`. `null` means unknown.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CallLine {
    /// When the call started (RFC 3339 UTC); for parsed output, when amux read the event.
    pub time: String,
    /// `call` (one model call), `refused` (refused by the gateway before routing: budget, limit,
    /// key, malformed request), or `turn` (a harness turn of one or more calls, when only that is
    /// known).
    pub kind: String,
    /// `gateway`, or the harness output it was read from (`claude stream-json`, ...).
    pub source: String,
    pub model: Option<String>,
    pub provider: Option<String>,
    pub upstream_model: Option<String>,
    /// `success`, `error`, `client_disconnected`, `refused`.
    pub outcome: Option<String>,
    pub status: Option<u16>,
    pub error: Option<String>,
    pub tokens: Option<Tokens>,
    pub cost_usd: Option<f64>,
    pub ttft_ms: Option<f64>,
    pub duration_ms: Option<f64>,
    /// Time spent waiting on the model (headers and body).
    pub upstream_ms: Option<f64>,
    pub retries: Option<u32>,
    pub fallbacks: Option<u32>,
    pub stream: Option<bool>,
}

fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1_000_000.0).round() / 1000.0
}

impl CallLine {
    pub fn from_record(r: &CallRecord, now: SystemTime) -> CallLine {
        let start = now.checked_sub(r.duration).unwrap_or(now);
        CallLine {
            time: rfc3339(start),
            kind: "call".into(),
            source: "gateway".into(),
            model: Some(r.model.clone()),
            provider: Some(r.provider.clone()).filter(|p| !p.is_empty()),
            upstream_model: Some(r.upstream_model.clone()).filter(|m| !m.is_empty()),
            outcome: Some(r.outcome.label().into()),
            status: Some(r.outcome.status()),
            error: match r.outcome {
                Outcome::Error { kind, .. } => Some(kind.into()),
                _ => None,
            },
            tokens: Some(Tokens::from(&r.usage)),
            cost_usd: r.cost,
            ttft_ms: r.time_to_first_byte.map(ms),
            duration_ms: Some(ms(r.duration)),
            upstream_ms: Some(ms(r.upstream_time)),
            retries: Some(r.retries),
            fallbacks: Some(r.fallbacks),
            stream: Some(r.stream),
        }
    }

    pub fn from_rejection(r: &Rejection, now: SystemTime) -> CallLine {
        let start = now.checked_sub(r.duration).unwrap_or(now);
        CallLine {
            time: rfc3339(start),
            kind: "refused".into(),
            source: "gateway".into(),
            model: r.model.clone(),
            outcome: Some("refused".into()),
            status: Some(r.status),
            error: Some(r.kind.into()),
            tokens: Some(Tokens::default()),
            cost_usd: Some(0.0),
            duration_ms: Some(ms(r.duration)),
            upstream_ms: Some(0.0),
            retries: Some(0),
            fallbacks: Some(0),
            ..Default::default()
        }
    }

    fn is_error(&self) -> bool {
        matches!(self.outcome.as_deref(), Some("error") | Some("refused"))
    }
}

/// Totals of one model.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ModelTotals {
    pub calls: u64,
    pub tokens: Tokens,
    /// Sum of the known costs; `null` when no call of this model had a known price.
    pub cost_usd: Option<f64>,
    /// Calls whose price is unknown (not in `cost_usd`).
    pub unpriced_calls: u64,
}

/// The end-of-session summary. `null` means unknown.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Where the numbers come from: `gateway`, a harness's output (`claude stream-json`, ...), or
    /// `none` (nothing machine-readable to read).
    pub source: String,
    /// Model calls answered or failed after routing (refusals not included).
    pub calls: Option<u64>,
    /// Harness turns, when the harness reports them.
    pub turns: Option<u64>,
    /// Calls that ended in an error (refusals included).
    pub errors: u64,
    /// Calls the gateway refused before routing (of which budget refusals are in `budget`).
    pub refused: u64,
    pub tokens: Option<Tokens>,
    /// Sum of the known costs.
    pub cost_usd: Option<f64>,
    pub by_model: BTreeMap<String, ModelTotals>,
    /// Time spent waiting on models, summed over calls.
    pub waiting_ms: Option<f64>,
    pub budget: Option<SessionBudgetReport>,
    /// What could not be known, and why.
    pub unknown: Vec<String>,
}

impl Summary {
    pub fn new(source: &str) -> Summary {
        Summary { source: source.into(), ..Default::default() }
    }

    /// Adds one line (a call, a refusal or a turn).
    pub fn add(&mut self, l: &CallLine) {
        if l.is_error() {
            self.errors += 1;
        }
        if l.kind == "refused" {
            self.refused += 1;
            return;
        }
        match l.kind.as_str() {
            "turn" => *self.turns.get_or_insert(0) += 1,
            _ => *self.calls.get_or_insert(0) += 1,
        }
        if let Some(t) = &l.tokens {
            self.tokens.get_or_insert_with(Tokens::default).add(t);
        }
        if let Some(c) = l.cost_usd {
            *self.cost_usd.get_or_insert(0.0) += c;
        }
        if let Some(w) = l.upstream_ms {
            *self.waiting_ms.get_or_insert(0.0) += w;
        }
        let model = l.upstream_model.clone().or_else(|| l.model.clone()).unwrap_or_else(|| "unknown".into());
        let m = self.by_model.entry(model).or_default();
        m.calls += 1;
        if let Some(t) = &l.tokens {
            m.tokens.add(t);
        }
        match l.cost_usd {
            Some(c) => *m.cost_usd.get_or_insert(0.0) += c,
            None => m.unpriced_calls += 1,
        }
    }

    /// Text for stderr.
    pub fn to_text(&self, id: &str, calls_file: &Path) -> String {
        let mut out = String::new();
        let n = |v: Option<u64>| v.map_or("unknown".to_string(), |v| v.to_string());
        let calls = match (self.calls, self.turns) {
            (None, Some(t)) => format!("{t} turns (model calls unknown)"),
            (c, _) => format!("{} calls", n(c)),
        };
        out.push_str(&format!(
            "amux: session {id}: {calls}, {} errors, {} waiting on models\n",
            self.errors,
            self.waiting_ms.map_or("unknown time".into(), |w| format!("{:.1} s", w / 1000.0))
        ));
        match &self.tokens {
            Some(t) => out.push_str(&format!(
                "  tokens: input {}, output {} (reasoning {}), cache read {}, cache write {}\n",
                t.input, t.output, t.reasoning, t.cache_read, t.cache_write
            )),
            None => out.push_str("  tokens: unknown\n"),
        }
        let mut models = Vec::new();
        for (m, t) in &self.by_model {
            let cost = match (t.cost_usd, t.unpriced_calls) {
                (Some(c), 0) => format!("${}", usd(c)),
                (Some(c), u) => format!("${} + {u} calls of unknown price", usd(c)),
                (None, _) => "price unknown".into(),
            };
            models.push(format!("{m} {cost}"));
        }
        let total = self.cost_usd.map_or("unknown".into(), |c| format!("${}", usd(c)));
        if models.is_empty() {
            out.push_str(&format!("  cost: {total}\n"));
        } else {
            out.push_str(&format!("  cost: {total} ({})\n", models.join("; ")));
        }
        if let Some(b) = &self.budget {
            let state = if b.reached { format!("reached; {} calls refused", b.refused) } else { "not reached".into() };
            out.push_str(&format!("  budget: ${} of ${} ({state})\n", usd(b.spent_usd), usd(b.limit_usd)));
            if b.unpriced_calls > 0 {
                out.push_str(&format!("    {} calls had no known price and were not charged\n", b.unpriced_calls));
            }
        }
        for u in &self.unknown {
            out.push_str(&format!("  unknown: {u}\n"));
        }
        out.push_str(&format!("  calls: {}\n", calls_file.display()));
        out
    }
}

/// Dollars with the decimals small amounts need.
pub fn usd(x: f64) -> String {
    if x == 0.0 {
        return "0".into();
    }
    if x.abs() >= 1.0 {
        return format!("{x:.2}");
    }
    let s = format!("{x:.6}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// What `<id>.session.json` holds.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SessionFile {
    pub id: String,
    pub harness: String,
    pub route: String,
    pub provider: Option<String>,
    pub model: String,
    pub prompt: bool,
    pub started: String,
    pub ended: Option<String>,
    pub exit_code: Option<i32>,
    pub files: BTreeMap<String, String>,
    pub summary: Option<Summary>,
}

/// One recorded session: the calls file and the running summary. As a [`UsageSink`] it takes the
/// in-process gateway's records.
pub struct Recorder {
    pub id: String,
    pub dir: PathBuf,
    file: Mutex<(Option<BufWriter<File>>, Summary)>,
    meta: Mutex<SessionFile>,
    budget: Option<Arc<SessionBudget>>,
}

fn create_dir(dir: &Path) -> Result<(), LaunchError> {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
    b.create(dir).map_err(|e| LaunchError::io(format!("creating {}", dir.display()), e))
}

fn private_file(path: &Path) -> Result<File, LaunchError> {
    let mut o = std::fs::OpenOptions::new();
    o.create(true).append(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
    o.open(path).map_err(|e| LaunchError::io(format!("creating {}", path.display()), e))
}

/// `20261204T143736Z-codex-12345`.
fn session_id(harness: &str, now: SystemTime) -> String {
    let t = rfc3339(now);
    let compact: String = t[..19].chars().filter(|c| *c != '-' && *c != ':').collect();
    format!("{compact}Z-{harness}-{}", std::process::id())
}

impl Recorder {
    /// Creates the directory and the session's files.
    pub fn start(
        dir: &Path,
        mut meta: SessionFile,
        budget: Option<Arc<SessionBudget>>,
    ) -> Result<Arc<Recorder>, LaunchError> {
        create_dir(dir)?;
        let now = SystemTime::now();
        let id = session_id(&meta.harness, now);
        meta.id = id.clone();
        meta.started = rfc3339(now);
        let calls = dir.join(format!("{id}.calls.jsonl"));
        let f = private_file(&calls)?;
        meta.files.insert("calls".into(), calls.display().to_string());
        let r = Recorder {
            id,
            dir: dir.to_path_buf(),
            file: Mutex::new((Some(BufWriter::new(f)), Summary::new("gateway"))),
            meta: Mutex::new(meta),
            budget,
        };
        r.write_meta()?;
        Ok(Arc::new(r))
    }

    pub fn path(&self, suffix: &str) -> PathBuf {
        self.dir.join(format!("{}.{suffix}", self.id))
    }

    /// Notes an output file in the session file.
    pub fn add_file(&self, name: &str, path: &Path) {
        if let Ok(mut m) = self.meta.lock() {
            m.files.insert(name.into(), path.display().to_string());
        }
    }

    fn write_meta(&self) -> Result<(), LaunchError> {
        let text = {
            let m = self.meta.lock().unwrap_or_else(|p| p.into_inner());
            serde_json::to_string_pretty(&*m).unwrap_or_default() + "\n"
        };
        let path = self.path("session.json");
        let tmp = self.path("session.json.tmp");
        let mut f = private_file(&tmp)?;
        f.set_len(0)
            .and_then(|_| f.write_all(text.as_bytes()))
            .map_err(|e| LaunchError::io("writing the session file", e))?;
        std::fs::rename(&tmp, &path).map_err(|e| LaunchError::io(format!("writing {}", path.display()), e))
    }

    /// Writes one line and adds it to the summary.
    pub fn line(&self, l: &CallLine) {
        let mut g = self.file.lock().unwrap_or_else(|p| p.into_inner());
        let (file, summary) = &mut *g;
        summary.add(l);
        if let (Some(f), Ok(text)) = (file.as_mut(), serde_json::to_string(l)) {
            // Each line is flushed so that a crash loses at most the call in progress.
            let _ = f.write_all(text.as_bytes()).and_then(|_| f.write_all(b"\n")).and_then(|_| f.flush());
        }
    }

    /// Replaces the running summary's source (for parsed harness output).
    pub fn set_source(&self, source: &str) {
        let mut g = self.file.lock().unwrap_or_else(|p| p.into_inner());
        g.1.source = source.into();
    }

    /// Ends the session: the summary with the budget, written to the session file.
    pub fn finish(&self, exit_code: Option<i32>, patch: impl FnOnce(&mut Summary)) -> Summary {
        let mut summary = {
            let mut g = self.file.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(mut f) = g.0.take() {
                let _ = f.flush();
            }
            g.1.clone()
        };
        summary.budget = self.budget.as_ref().map(|b| b.report());
        patch(&mut summary);
        if let Ok(mut m) = self.meta.lock() {
            m.ended = Some(rfc3339(SystemTime::now()));
            m.exit_code = exit_code;
            m.summary = Some(summary.clone());
        }
        if let Err(e) = self.write_meta() {
            eprintln!("amux: {e}");
        }
        summary
    }

    pub fn calls_path(&self) -> PathBuf {
        self.path("calls.jsonl")
    }
}

impl UsageSink for Recorder {
    fn record(&self, rec: &CallRecord) {
        self.line(&CallLine::from_record(rec, SystemTime::now()));
    }

    fn reject(&self, rej: &Rejection) {
        self.line(&CallLine::from_rejection(rej, SystemTime::now()));
    }
}

#[cfg(test)]
mod tests;

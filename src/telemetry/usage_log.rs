//! The per-call log line (target `amux::usage`, level INFO): one line per call and per refusal,
//! never a prompt or a key. It is written straight into a reused buffer and out to stderr in one
//! write, instead of going through `tracing`'s field visitors and `Debug` formatting of every
//! value (which cost about a fifth of a call's CPU). The `RUST_LOG` filter still decides
//! whether it is written; the line has the log's format: text, or a JSON line with
//! `timestamp`, `level`, `fields` and `target` like the other JSON log lines.
//!
//! In the gateway ([`batch`]), lines are gathered and written together when a runtime thread is
//! about to go idle ([`flush`], the runtime's park hook), when 32 KiB are waiting, and at exit:
//! one `write` per burst of calls instead of one per call. A line can thus follow other log
//! lines written after its call ended, by at most one burst.

use std::cell::RefCell;
use std::fmt::Write as _;
use std::io::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::usage::{CallRecord, Outcome, Rejection, UsageSink};

/// Writes the usage lines; `json` follows `--log-format`.
#[derive(Debug, Clone, Copy, Default)]
pub struct LogSink {
    pub json: bool,
}

/// One field value.
enum Val<'a> {
    Str(&'a str),
    Int(i64),
    /// Milliseconds and dollars: written with up to six decimals.
    Num(f64),
    Bool(bool),
}

thread_local! {
    static LINE: RefCell<String> = RefCell::new(String::with_capacity(768));
}

/// Lines waiting for [`flush`], when [`batch`] is on.
static PENDING: Mutex<Vec<u8>> = Mutex::new(Vec::new());
static BATCHING: AtomicBool = AtomicBool::new(false);
/// Waiting lines are written once this many bytes wait.
const FLUSH_AT: usize = 32 * 1024;

/// Gathers lines until [`flush`] (the gateway's runtime calls it before a thread parks).
pub fn batch() {
    BATCHING.store(true, Ordering::Relaxed);
}

/// Writes the waiting lines, if any.
pub fn flush() {
    let mut pending = PENDING.lock().unwrap_or_else(|p| p.into_inner());
    if pending.is_empty() {
        return;
    }
    let lines = std::mem::take(&mut *pending);
    drop(pending);
    // A failed write to stderr has nowhere to be reported.
    let _ = std::io::stderr().lock().write_all(&lines);
    let mut pending = PENDING.lock().unwrap_or_else(|p| p.into_inner());
    if pending.capacity() == 0 {
        let mut lines = lines;
        lines.clear();
        *pending = lines;
    }
}

fn enabled() -> bool {
    tracing::enabled!(target: "amux::usage", tracing::Level::INFO)
}

fn ms(d: std::time::Duration) -> Val<'static> {
    Val::Num(d.as_secs_f64() * 1000.0)
}

impl UsageSink for LogSink {
    fn record(&self, r: &CallRecord) {
        if !enabled() {
            return;
        }
        let u = &r.usage;
        let fields = [
            ("surface", Val::Str(r.surface.label())),
            ("key", Val::Str(r.key.as_deref().unwrap_or("-"))),
            ("team", Val::Str(r.team.as_deref().unwrap_or("-"))),
            ("model", Val::Str(&r.model)),
            ("provider", Val::Str(&r.provider)),
            ("upstream_model", Val::Str(&r.upstream_model)),
            ("passthrough", Val::Bool(r.passthrough)),
            ("route", Val::Str(if r.raw { "passthrough" } else { "model" })),
            ("stream", Val::Bool(r.stream)),
            ("outcome", Val::Str(r.outcome.label())),
            ("status", Val::Int(r.outcome.status().into())),
            (
                "error",
                Val::Str(match r.outcome {
                    Outcome::Error { kind, .. } => kind,
                    _ => "-",
                }),
            ),
            ("input_tokens", Val::Int(u.input_tokens as i64)),
            ("output_tokens", Val::Int(u.output_tokens as i64)),
            ("cache_read_tokens", Val::Int(u.cache_read_tokens as i64)),
            ("cache_write_tokens", Val::Int(u.cache_write_tokens as i64)),
            ("reasoning_tokens", Val::Int(u.reasoning_tokens as i64)),
            ("upstream_ms", ms(r.upstream_time)),
            (
                "cache",
                Val::Str(match r.cache {
                    Some(true) => "hit",
                    Some(false) => "miss",
                    None => "-",
                }),
            ),
            ("finish_reason", Val::Str(r.finish_reason.as_deref().unwrap_or("-"))),
            ("cost_usd", Val::Num(r.cost.unwrap_or(-1.0))),
            ("price_known", Val::Bool(r.cost.is_some())),
            ("duration_ms", ms(r.duration)),
            ("overhead_ms", ms(r.overhead())),
            ("ttft_ms", r.time_to_first_byte.map_or(Val::Num(-1.0), ms)),
            ("retries", Val::Int(r.retries.into())),
            ("fallbacks", Val::Int(r.fallbacks.into())),
        ];
        self.write("call", &fields);
    }

    fn reject(&self, r: &Rejection) {
        if !enabled() {
            return;
        }
        let fields = [
            ("surface", Val::Str(r.surface.label())),
            ("key", Val::Str(r.key.as_deref().unwrap_or("-"))),
            ("team", Val::Str(r.team.as_deref().unwrap_or("-"))),
            ("model", Val::Str(r.model.as_deref().unwrap_or("-"))),
            ("outcome", Val::Str(if r.client_disconnected() { "client_disconnected" } else { "rejected" })),
            ("status", Val::Int(r.status.into())),
            ("error", Val::Str(r.kind)),
            ("fault", Val::Str(r.fault.label())),
            ("duration_ms", ms(r.duration)),
        ];
        self.write("call", &fields);
    }
}

impl LogSink {
    fn write(&self, message: &str, fields: &[(&str, Val<'_>)]) {
        LINE.with(|line| {
            let Ok(mut line) = line.try_borrow_mut() else { return };
            line.clear();
            format_line(&mut line, self.json, SystemTime::now(), message, fields);
            if BATCHING.load(Ordering::Relaxed) {
                let mut pending = PENDING.lock().unwrap_or_else(|p| p.into_inner());
                pending.extend_from_slice(line.as_bytes());
                let full = pending.len() >= FLUSH_AT;
                drop(pending);
                if full {
                    flush();
                }
                return;
            }
            // One write of the whole line; a failed write to stderr has nowhere to be reported.
            let _ = std::io::stderr().lock().write_all(line.as_bytes());
        });
    }
}

fn format_line(out: &mut String, json: bool, now: SystemTime, message: &str, fields: &[(&str, Val<'_>)]) {
    if json {
        out.push_str("{\"timestamp\":\"");
        timestamp(out, now);
        out.push_str("\",\"level\":\"INFO\",\"fields\":{\"message\":");
        json_str(out, message);
        for (k, v) in fields {
            out.push_str(",\"");
            out.push_str(k);
            out.push_str("\":");
            match v {
                Val::Str(s) => json_str(out, s),
                _ => value(out, v),
            }
        }
        out.push_str("},\"target\":\"amux::usage\"}\n");
    } else {
        timestamp(out, now);
        out.push_str("  INFO amux::usage: ");
        out.push_str(message);
        for (k, v) in fields {
            out.push(' ');
            out.push_str(k);
            out.push('=');
            match v {
                Val::Str(s) if s.bytes().all(plain) && !s.is_empty() => out.push_str(s),
                Val::Str(s) => json_str(out, s),
                _ => value(out, v),
            }
        }
        out.push('\n');
    }
}

/// Bytes a text-format value may hold unquoted.
fn plain(b: u8) -> bool {
    PLAIN[usize::from(b)]
}

/// [`plain`] as a table: one load a byte instead of a chain of range checks.
static PLAIN: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        t[b] = c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.' | b'/' | b':' | b'@' | b'+');
        b += 1;
    }
    t
};

fn value(out: &mut String, v: &Val<'_>) {
    match v {
        Val::Str(s) => out.push_str(s),
        Val::Int(n) => {
            if *n < 0 {
                out.push('-');
            }
            digits(out, n.unsigned_abs(), 1);
        }
        Val::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Val::Num(x) => fixed6(out, *x),
    }
}

/// `x` with up to six decimals, trailing zeros (and a bare point) left out; `null` when not
/// finite. Integer arithmetic: `format!("{x:.6}")` cost about a quarter of the line.
fn fixed6(out: &mut String, x: f64) {
    if !x.is_finite() {
        out.push_str("null");
        return;
    }
    if x.abs() >= 9.0e12 {
        let start = out.len();
        let _ = write!(out, "{x:.6}");
        while out.len() > start + 1 && out.ends_with('0') {
            out.pop();
        }
        if out.ends_with('.') {
            out.pop();
        }
        return;
    }
    // Below 9e12, x * 1e6 fits a u64 exactly enough for six decimals.
    let scaled = (x.abs() * 1e6).round() as u64;
    if x < 0.0 && scaled != 0 {
        out.push('-');
    }
    digits(out, scaled / 1_000_000, 1);
    let mut frac = scaled % 1_000_000;
    if frac != 0 {
        let mut width = 6;
        while frac % 10 == 0 {
            frac /= 10;
            width -= 1;
        }
        out.push('.');
        digits(out, frac, width);
    }
}

/// `n` in decimal, zero-padded to at least `width` digits.
pub(crate) fn digits(out: &mut String, n: u64, width: usize) {
    // itoa writes two digits a step (a table lookup) where `n % 10` took one.
    let mut buf = itoa::Buffer::new();
    let text = buf.format(n);
    for _ in text.len()..width {
        out.push('0');
    }
    out.push_str(text);
}

fn json_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// RFC 3339 UTC with microseconds (`2026-12-04T14:37:36.856753Z`), as the rest of the log.
pub(crate) fn timestamp(out: &mut String, now: SystemTime) {
    let d = now.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, day) = civil_from_days(days as i64);
    digits(out, y.unsigned_abs(), 4);
    for (sep, n, width) in [
        ('-', u64::from(m), 2),
        ('-', u64::from(day), 2),
        ('T', rem / 3600, 2),
        (':', rem % 3600 / 60, 2),
        (':', rem % 60, 2),
        ('.', u64::from(d.subsec_micros()), 6),
    ] {
        out.push(sep);
        digits(out, n, width);
    }
    out.push('Z');
}

/// Days since 1970-01-01 -> (year, month, day) in the proleptic Gregorian calendar.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn at(secs: u64, micros: u32) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs) + Duration::from_micros(micros.into())
    }

    #[test]
    fn timestamps_are_rfc3339_utc() {
        let mut s = String::new();
        timestamp(&mut s, at(0, 0));
        assert_eq!(s, "1970-01-01T00:00:00.000000Z");
        s.clear();
        // 2026-12-04T14:37:36.856753Z
        timestamp(&mut s, at(1_796_395_056, 856_753));
        assert_eq!(s, "2026-12-04T14:37:36.856753Z");
        s.clear();
        timestamp(&mut s, at(951_782_400, 1)); // a leap day
        assert_eq!(s, "2000-02-29T00:00:00.000001Z");
    }

    fn fields() -> Vec<(&'static str, Val<'static>)> {
        vec![
            ("model", Val::Str("claude-sonnet-4-5")),
            ("note", Val::Str("two words \"quoted\"")),
            ("empty", Val::Str("")),
            ("status", Val::Int(200)),
            ("stream", Val::Bool(true)),
            ("upstream_ms", Val::Num(15.460022)),
            ("cost_usd", Val::Num(-1.0)),
        ]
    }

    #[test]
    fn numbers_are_written_as_format_writes_them() {
        for x in [0.0, -1.0, 1.0, 15.460022, 0.000001, 0.0000004, 123456.5, 2.25e-3, 1e13, -0.5, 7.1, 99.999999] {
            let mut s = String::new();
            fixed6(&mut s, x);
            let mut want = format!("{x:.6}");
            while want.contains('.') && want.ends_with('0') {
                want.pop();
            }
            if want.ends_with('.') {
                want.pop();
            }
            assert_eq!(s, want, "{x}");
        }
        let mut s = String::new();
        fixed6(&mut s, f64::NAN);
        value(&mut s, &Val::Int(-42));
        value(&mut s, &Val::Int(i64::MIN));
        assert_eq!(s, format!("null-42{}", i64::MIN));
    }

    #[test]
    fn text_lines_quote_only_what_needs_it() {
        let mut s = String::new();
        format_line(&mut s, false, at(0, 0), "call", &fields());
        assert_eq!(
            s,
            "1970-01-01T00:00:00.000000Z  INFO amux::usage: call model=claude-sonnet-4-5 \
             note=\"two words \\\"quoted\\\"\" empty=\"\" status=200 stream=true upstream_ms=15.460022 cost_usd=-1\n"
        );
    }

    #[test]
    fn json_lines_parse_with_every_field() {
        let mut s = String::new();
        format_line(&mut s, true, at(0, 0), "call", &fields());
        let v: serde_json::Value = serde_json::from_str(&s).expect("valid JSON");
        assert_eq!(v["target"], "amux::usage");
        assert_eq!(v["level"], "INFO");
        assert_eq!(v["fields"]["message"], "call");
        assert_eq!(v["fields"]["note"], "two words \"quoted\"");
        assert_eq!(v["fields"]["status"], 200);
        assert_eq!(v["fields"]["upstream_ms"], 15.460022);
        assert_eq!(v["fields"]["stream"], true);
        assert!(s.ends_with("}\n"));
    }
}

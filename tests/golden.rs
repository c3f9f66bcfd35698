//! Golden tests for every cross-dialect translation.
//!
//! Inputs live in `tests/fixtures/<dialect>/{requests,responses,streams,errors}/`, built from the
//! providers' published examples. Each input is translated into every other dialect and compared
//! with `tests/fixtures/golden/<kind>/<from>__<to>/<case>.<ext>`. Run with `UPDATE_GOLDEN=1` to
//! (re)write the expected files, then review the diff. Inputs whose expected translation is a
//! refusal have a golden file holding the error JSON.

use std::path::{Path, PathBuf};

use amux::ir::Dialect;
use amux::{policy, translate};

const DIALECTS: [(Dialect, &str); 4] = [
    (Dialect::Anthropic, "anthropic"),
    (Dialect::OpenAiChat, "openai_chat"),
    (Dialect::OpenAiResponses, "openai_responses"),
    (Dialect::Gemini, "gemini"),
];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn cases(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok()).map(|e| e.path()).filter(|p| p.extension().is_some_and(|x| x == ext)).collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

/// Replaces values that change per run (timestamps) so outputs compare stably.
fn normalize(text: &str) -> String {
    normalize_field(&normalize_field(text, "\"created\":"), "\"created_at\":")
}

fn normalize_field(text: &str, field: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find(field) {
        out.push_str(&rest[..i]);
        out.push_str(field);
        out.push('0');
        let after = rest[i + field.len()..].trim_start_matches(' ');
        let digits = after.find(|c: char| !c.is_ascii_digit()).unwrap_or(after.len());
        rest = &after[digits..];
    }
    out.push_str(rest);
    out
}

fn pretty_json(bytes: &[u8]) -> String {
    match serde_json::from_slice::<serde_json::Value>(bytes) {
        Ok(v) => normalize(&serde_json::to_string_pretty(&v).unwrap()) + "\n",
        Err(_) => String::from_utf8_lossy(bytes).into_owned(),
    }
}

fn check(expected_path: &Path, actual: &str, failures: &mut Vec<String>) {
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(expected_path.parent().unwrap()).unwrap();
        std::fs::write(expected_path, actual).unwrap();
        return;
    }
    match std::fs::read_to_string(expected_path) {
        Ok(expected) if expected == actual => {}
        Ok(expected) => failures
            .push(format!("{}: differs\n--- expected\n{expected}\n--- actual\n{actual}", expected_path.display())),
        Err(_) => failures.push(format!("{}: missing (run with UPDATE_GOLDEN=1)", expected_path.display())),
    }
}

fn golden_path(kind: &str, from: &str, to: &str, case: &Path, ext: &str) -> PathBuf {
    let stem = case.file_stem().unwrap().to_string_lossy();
    root().join("golden").join(kind).join(format!("{from}__{to}")).join(format!("{stem}.{ext}"))
}

fn error_json(e: &amux::ir::ApiError) -> String {
    let v = serde_json::json!({"refused": {"status": e.status, "kind": e.kind.label(), "message": e.message, "param": e.param}});
    serde_json::to_string_pretty(&v).unwrap() + "\n"
}

fn finish(failures: Vec<String>, count: usize) {
    assert!(count > 0, "no fixtures found");
    assert!(failures.is_empty(), "{} of {count} golden cases failed:\n{}", failures.len(), failures.join("\n\n"));
}

/// Translates every input of `kind` into every other dialect with `translate` and compares each
/// result with its golden file. Ids amux makes up (a Gemini call without one) come from a fixed
/// seed, so outputs are stable.
fn golden(
    kind: &str,
    ext: &str,
    golden_ext: &str,
    mut translate: impl FnMut(Dialect, Dialect, &Path, &[u8]) -> String,
) {
    let (mut failures, mut count) = (Vec::new(), 0);
    for (from, from_name) in DIALECTS {
        for case in cases(&root().join(from_name).join(kind), ext) {
            let body = std::fs::read(&case).unwrap();
            for (to, to_name) in DIALECTS {
                if to == from {
                    continue;
                }
                count += 1;
                fastrand::seed(7);
                let actual = translate(from, to, &case, &body);
                check(&golden_path(kind, from_name, to_name, &case, golden_ext), &actual, &mut failures);
            }
        }
    }
    finish(failures, count);
}

/// Requests go through the translation policy as the gateway sends them to a provider of the
/// target dialect with that dialect's default capabilities (`policy::Caps::of`). What the
/// policy dropped is compared with `<case>.dropped` beside the golden body (absent when nothing
/// was dropped).
#[test]
fn requests() {
    let mut failures = Vec::new();
    golden("requests", "json", "json", |from, to, case, body| {
        let mut dropped = Vec::new();
        let out = translate::decode_request(from, body)
            .and_then(|req| {
                let fitted = policy::fit(&req, from, to, policy::Caps::of(to), false)?;
                dropped = fitted.dropped;
                translate::encode_request(to, &fitted.req, "upstream-model")
            })
            .map(|b| pretty_json(&b))
            .unwrap_or_else(|e| error_json(&e));
        let path = golden_path("requests", name(from), name(to), case, "dropped");
        check_optional(&path, &dropped.iter().map(|d| format!("{d}\n")).collect::<String>(), &mut failures);
        out
    });
    finish(failures, 1);
}

fn name(d: Dialect) -> &'static str {
    DIALECTS.iter().find(|(x, _)| *x == d).map(|(_, n)| *n).unwrap_or("")
}

/// Like `check`, for a golden file that exists only when `actual` is not empty.
fn check_optional(expected_path: &Path, actual: &str, failures: &mut Vec<String>) {
    if !actual.is_empty() {
        return check(expected_path, actual, failures);
    }
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        let _ = std::fs::remove_file(expected_path);
    } else if expected_path.exists() {
        failures.push(format!("{}: expected drops, none happened", expected_path.display()));
    }
}

#[test]
fn responses() {
    golden("responses", "json", "json", |from, to, _, body| {
        translate::decode_response(from, body)
            .map(|r| pretty_json(&translate::encode_response(to, &r)))
            .unwrap_or_else(|e| error_json(&e))
    });
}

#[test]
fn streams() {
    golden("streams", "sse", "sse", |from, to, _, body| {
        // Fed in small uneven pieces to exercise event reassembly.
        let req = amux::ir::Request { stream: true, stream_include_usage: true, ..Default::default() };
        let mut t = translate::StreamTranslator::new(from, to, &req);
        let mut out = Vec::new();
        for piece in body.chunks(37) {
            out.extend_from_slice(&t.feed(piece, &mut |_| {}));
        }
        out.extend_from_slice(&t.finish(&mut |_| {}));
        normalize(&String::from_utf8_lossy(&out))
    });
}

#[test]
fn errors() {
    golden("errors", "json", "txt", |from, to, case, body| {
        // File names start with the upstream status: `429_rate_limit.json`.
        let stem = case.file_stem().unwrap().to_string_lossy().into_owned();
        let status: u16 = stem.split('_').next().and_then(|s| s.parse().ok()).expect("status prefix");
        let err = translate::decode_error(from, status, body);
        format!("status: {}\n{}", err.status, pretty_json(&translate::encode_error(to, &err)))
    });
}

//! Golden tests for every cross-dialect translation.
//!
//! Inputs live in `tests/fixtures/<dialect>/{requests,responses,streams,errors}/`, built from the
//! providers' published examples. Each input is translated into every other dialect and compared
//! with `tests/fixtures/golden/<kind>/<from>__<to>/<case>.<ext>`. Run with `UPDATE_GOLDEN=1` to
//! (re)write the expected files, then review the diff. Inputs whose expected translation is a
//! refusal have a golden file holding the error JSON.
//!
//! Bedrock streams are binary AWS event-stream frames; their fixtures and goldens (`.evs`) hold
//! one frame per line as `<message-type> <event-or-exception-type> <payload>`, turned into real
//! frames before decoding and read back from the encoder's frames (the codec itself is checked
//! against the AWS SDK in `tests/eventstream.rs`). Bedrock error goldens show the
//! `x-amzn-errortype` header the caller gets.

use std::path::{Path, PathBuf};

use amux::eventstream::{self, Message};
use amux::ir::Dialect;
use amux::{policy, translate};

#[path = "support/canonical.rs"]
mod canonical;
use canonical::canonical_ids;

const DIALECTS: [(Dialect, &str); 5] = [
    (Dialect::Anthropic, "anthropic"),
    (Dialect::OpenAiChat, "openai_chat"),
    (Dialect::OpenAiResponses, "openai_responses"),
    (Dialect::Gemini, "gemini"),
    (Dialect::BedrockConverse, "bedrock_converse"),
];

/// The file extension of a dialect's stream fixtures and goldens.
fn stream_ext(d: Dialect) -> &'static str {
    if d.event_stream() { "evs" } else { "sse" }
}

/// `.evs` text -> event-stream frames.
fn evs_to_frames(text: &[u8]) -> Vec<u8> {
    let mut out = bytes::BytesMut::new();
    for line in String::from_utf8_lossy(text).lines().filter(|l| !l.trim().is_empty()) {
        let mut parts = line.splitn(3, ' ');
        let (kind, name, payload) = (parts.next().unwrap(), parts.next().unwrap(), parts.next().unwrap_or(""));
        let m = match kind {
            "event" => Message::event(name, payload.to_string()),
            "exception" => Message::exception(name, payload.to_string()),
            other => panic!("unknown message type {other} in {line}"),
        };
        eventstream::encode(&m, &mut out).unwrap();
    }
    out.to_vec()
}

/// Event-stream frames -> `.evs` text (an undecodable tail is shown as such).
fn frames_to_evs(bytes: &[u8]) -> String {
    let mut d = eventstream::Decoder::default();
    let mut msgs = Vec::new();
    let fed = d.feed(bytes, &mut msgs).and_then(|_| d.finish());
    let mut out = String::new();
    for m in msgs {
        let (kind, name) = match m.kind() {
            eventstream::Kind::Event(t) => ("event", t.to_string()),
            eventstream::Kind::Exception(t) => ("exception", t.to_string()),
            eventstream::Kind::Error(t) => ("error", t.to_string()),
        };
        out.push_str(&format!("{kind} {name} {}\n", String::from_utf8_lossy(&m.payload)));
    }
    if let Err(e) = fed {
        out.push_str(&format!("!! {e}\n"));
    }
    out
}

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
    ext: fn(Dialect) -> &'static str,
    golden_ext: fn(Dialect) -> &'static str,
    mut translate: impl FnMut(Dialect, Dialect, &Path, &[u8]) -> String,
) {
    let (mut failures, mut count) = (Vec::new(), 0);
    for (from, from_name) in DIALECTS {
        for case in cases(&root().join(from_name).join(kind), ext(from)) {
            let body = std::fs::read(&case).unwrap();
            for (to, to_name) in DIALECTS {
                if to == from {
                    continue;
                }
                count += 1;
                fastrand::seed(7);
                let actual = translate(from, to, &case, &body);
                check(&golden_path(kind, from_name, to_name, &case, golden_ext(to)), &actual, &mut failures);
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
    golden(
        "requests",
        |_| "json",
        |_| "json",
        |from, to, case, body| {
            let mut dropped = Vec::new();
            let out = translate::decode_request(from, body)
                .and_then(|req| {
                    let fitted = policy::fit(&req, from, to, policy::Caps::of(to), false)?;
                    dropped = fitted.dropped;
                    translate::encode_request(to, &fitted.req, upstream_model(to))
                })
                .map(|b| pretty_json(&b))
                .unwrap_or_else(|e| error_json(&e));
            let path = golden_path("requests", name(from), name(to), case, "dropped");
            check_optional(&path, &dropped.iter().map(|d| format!("{d}\n")).collect::<String>(), &mut failures);
            out
        },
    );
    finish(failures, 1);
}

/// The upstream model of request goldens. Converse spells model fields per model family, so its
/// goldens use a Claude id (the common case); the family rules have unit tests.
fn upstream_model(to: Dialect) -> &'static str {
    if to == Dialect::BedrockConverse { "us.anthropic.claude-sonnet-4-5-20250929-v1:0" } else { "upstream-model" }
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
    golden(
        "responses",
        |_| "json",
        |_| "json",
        |from, to, _, body| {
            translate::decode_response(from, body)
                .map(|r| pretty_json(&translate::encode_response(to, &r)))
                .unwrap_or_else(|e| error_json(&e))
        },
    );
}

#[test]
fn streams() {
    golden("streams", stream_ext, stream_ext, |from, to, _, body| {
        // Fed in small uneven pieces to exercise event reassembly (and frame reassembly).
        let req = amux::ir::Request { stream: true, stream_include_usage: true, ..Default::default() };
        let mut t = translate::StreamTranslator::new(from, to, &req);
        let input = if from.event_stream() { evs_to_frames(body) } else { body.to_vec() };
        let mut out = Vec::new();
        let mut events = Vec::new();
        for piece in input.chunks(37) {
            out.extend_from_slice(&t.feed(piece, &mut |e| events.push(e.clone())));
        }
        out.extend_from_slice(&t.finish(&mut |e| events.push(e.clone())));
        if let Err(e) = amux::ir::check_order(&events) {
            return format!("!! decoded events out of order: {e}\n");
        }
        if to.event_stream() { frames_to_evs(&out) } else { normalize(&String::from_utf8_lossy(&out)) }
    });
}

#[test]
fn errors() {
    golden(
        "errors",
        |_| "json",
        |_| "txt",
        |from, to, case, body| {
            // File names start with the upstream status: `429_rate_limit.json`.
            let stem = case.file_stem().unwrap().to_string_lossy().into_owned();
            let status: u16 = stem.split('_').next().and_then(|s| s.parse().ok()).expect("status prefix");
            let err = translate::decode_error(from, status, body);
            let header = translate::error_headers(to, &err).map(|(k, v)| format!("{k}: {v}\n")).unwrap_or_default();
            format!("status: {}\n{header}{}", err.status, pretty_json(&translate::encode_error(to, &err)))
        },
    );
}

/// Translates `input` from `from` to `to`, fed in the given pieces: the caller bytes (timestamps
/// normalized) and the IR events, generated ids renamed in order of appearance.
fn translate_pieces(from: Dialect, to: Dialect, input: &[u8], cuts: &[usize]) -> String {
    fastrand::seed(7);
    let req = amux::ir::Request { stream: true, stream_include_usage: true, ..Default::default() };
    let mut t = translate::StreamTranslator::new(from, to, &req);
    let (mut out, mut events, mut at) = (Vec::new(), Vec::new(), 0);
    for &cut in cuts.iter().chain([&input.len()]) {
        let cut = cut.clamp(at, input.len());
        out.extend_from_slice(&t.feed(&input[at..cut], &mut |e| events.push(format!("{e:?}"))));
        at = cut;
    }
    out.extend_from_slice(&t.finish(&mut |e| events.push(format!("{e:?}"))));
    canonical_ids(&format!("{}\n--- events\n{}", normalize(&String::from_utf8_lossy(&out)), events.join("\n")))
}

/// Property: a translated stream is the same whatever way the upstream bytes are split into
/// reads: every stream fixture into every dialect, whole vs byte by byte, fixed piece sizes, and
/// 64 seeded random splits each.
#[test]
fn streams_are_the_same_however_the_upstream_bytes_are_split() {
    let mut checked = 0;
    for (from, dir) in DIALECTS {
        for case in cases(&root().join(dir).join("streams"), stream_ext(from)) {
            let raw = std::fs::read(&case).unwrap();
            let input = if from.event_stream() { evs_to_frames(&raw) } else { raw };
            for (to, _) in DIALECTS {
                let whole = translate_pieces(from, to, &input, &[]);
                let mut splits: Vec<Vec<usize>> = [1, 2, 3, 5, 8, 13, 64]
                    .iter()
                    .map(|n| (1..).map(|i| i * n).take_while(|c| *c < input.len()).collect())
                    .collect();
                let mut rng = fastrand::Rng::with_seed(input.len() as u64);
                for _ in 0..64 {
                    let mut cuts: Vec<usize> = (0..rng.usize(1..12)).map(|_| rng.usize(0..=input.len())).collect();
                    cuts.sort();
                    splits.push(cuts);
                }
                for cuts in splits {
                    let got = translate_pieces(from, to, &input, &cuts);
                    assert!(got == whole, "{} -> {to:?} split at {cuts:?} differs", case.display());
                    checked += 1;
                }
            }
        }
    }
    assert!(checked > 1000, "{checked}");
}

/// Inputs the stream fuzz target (fuzz/fuzz_targets/stream.rs) found, kept as regressions: the
/// first three bytes pick the upstream dialect, the caller dialect and a piece size, as there.
#[test]
fn stream_fuzz_findings_stay_fixed() {
    let dir = root().join("fuzz/stream");
    let mut n = 0;
    for case in cases(&dir, "bin") {
        let raw = std::fs::read(&case).unwrap();
        let [a, b, c] = [raw[0], raw[1], raw[2]].map(usize::from);
        let (from, to) = (Dialect::ALL[a % 5], Dialect::ALL[b % 5]);
        let input = &raw[3..];
        let piece = 1 + c % 23;
        let cuts: Vec<usize> = (1..).map(|i| i * piece).take_while(|x| *x < input.len()).collect();
        assert_eq!(
            translate_pieces(from, to, input, &[]),
            translate_pieces(from, to, input, &cuts),
            "{}",
            case.display()
        );
        n += 1;
    }
    assert!(n >= 1);
}

/// Inputs the splice fuzz target found: refused, or spliced into JSON whose `model` is the new one.
#[test]
fn splice_fuzz_findings_stay_fixed() {
    let cases = cases(&root().join("fuzz/splice"), "json");
    assert!(!cases.is_empty());
    for case in cases {
        let body = std::fs::read(&case).unwrap();
        if let Ok(top) = amux::gateway::splice::TopLevel::parse(&body) {
            let out = top.rewrite(&[("model", "\"spliced\"")], &[]);
            let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
            assert_eq!(v["model"], "spliced", "{}", case.display());
        }
    }
}

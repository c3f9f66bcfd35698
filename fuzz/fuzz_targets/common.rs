#![allow(dead_code)]

//! Shared by the targets: the first input bytes choose what to exercise.

use amux::ir::Dialect;

#[path = "../../tests/support/canonical.rs"]
mod canonical;
use canonical::canonical_ids;

/// A dialect chosen by a byte.
pub fn dialect(b: u8) -> Dialect {
    Dialect::ALL[b as usize % Dialect::ALL.len()]
}

/// Feeds `data` through a fresh translator from `from` to `to` in pieces of `piece` bytes (0:
/// whole), returning the caller bytes (timestamps blanked) and the IR events seen, with generated
/// ids renamed in order of appearance: two runs differ only if the split matters.
pub fn translate(from: Dialect, to: Dialect, data: &[u8], piece: usize) -> String {
    fastrand::seed(7);
    let req = amux::ir::Request { stream: true, stream_include_usage: true, ..Default::default() };
    let mut t = amux::translate::StreamTranslator::new(from, to, &req);
    let mut out = Vec::new();
    let mut events = Vec::new();
    let step = if piece == 0 { data.len().max(1) } else { piece };
    for c in data.chunks(step) {
        out.extend_from_slice(&t.feed(c, &mut |e| events.push(format!("{e:?}"))));
    }
    out.extend_from_slice(&t.finish(&mut |e| events.push(format!("{e:?}"))));
    canonical_ids(&format!("{}\n--- events\n{}", blank_times(&String::from_utf8_lossy(&out)), events.join("\n")))
}

/// `"created": <digits>` and `"created_at": <digits>` with the digits removed.
fn blank_times(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("\"created") {
        let (head, tail) = rest.split_at(i + 8);
        out.push_str(head);
        let skip = tail
            .find(|c: char| {
                !(c.is_ascii_digit() || c == '_' || c == 'a' || c == 't' || c == '"' || c == ':' || c == ' ')
            })
            .unwrap_or(tail.len());
        out.push_str(&tail[..skip].replace(|c: char| c.is_ascii_digit(), ""));
        rest = &tail[skip..];
    }
    out.push_str(rest);
    out
}

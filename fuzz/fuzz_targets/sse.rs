//! The SSE parser: arbitrary bytes never panic, and the events are the same whatever way the
//! bytes are split into reads.

#![no_main]

use amux::sse::SseParser;
use libfuzzer_sys::fuzz_target;

fn parse(data: &[u8], piece: usize) -> Vec<(Option<String>, String)> {
    let mut p = SseParser::new();
    let mut out = Vec::new();
    for c in data.chunks(piece.max(1)) {
        p.feed(c, &mut out);
    }
    p.finish(&mut out);
    out.into_iter().map(|e| (e.event, e.data)).collect()
}

fuzz_target!(|input: &[u8]| {
    let Some((&first, data)) = input.split_first() else { return };
    let whole = parse(data, data.len());
    assert_eq!(whole, parse(data, 1 + first as usize % 13), "split changed the events");
    assert_eq!(whole, parse(data, 1), "byte-by-byte changed the events");
});

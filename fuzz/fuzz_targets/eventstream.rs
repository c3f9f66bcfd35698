//! Fuzzes the AWS event-stream decoder (src/eventstream): arbitrary bytes fed in arbitrary
//! pieces never panic, decode the same whatever the pieces, and every message decoded re-encodes
//! to a frame that decodes to the same message.

#![no_main]

#[path = "../../src/eventstream/mod.rs"]
#[allow(dead_code, unused_imports)]
mod eventstream;

use eventstream::{Decoder, encode};
use libfuzzer_sys::fuzz_target;

/// Decodes `data` in pieces of `piece` bytes (0: all at once) with a small frame limit.
fn decode(data: &[u8], piece: usize) -> (Vec<eventstream::Message>, bool) {
    let mut d = Decoder::new(64 * 1024);
    let mut out = Vec::new();
    let mut ok = true;
    let step = if piece == 0 { data.len().max(1) } else { piece };
    for c in data.chunks(step) {
        if d.feed(c, &mut out).is_err() {
            ok = false;
            break;
        }
    }
    ok = ok && d.finish().is_ok();
    (out, ok)
}

fuzz_target!(|input: &[u8]| {
    let Some((&first, data)) = input.split_first() else { return };
    let whole = decode(data, 0);
    let pieces = decode(data, 1 + first as usize % 17);
    assert_eq!(whole, pieces, "decoding depends on how the input was split");
    for m in &whole.0 {
        let mut wire = bytes::BytesMut::new();
        encode(m, &mut wire).expect("a decoded message encodes");
        let (again, ok) = decode(&wire, 0);
        assert!(ok && again.len() == 1 && &again[0] == m, "re-encoding changed the message");
    }
});

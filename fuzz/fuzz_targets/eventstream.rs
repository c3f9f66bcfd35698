//! Fuzzes the AWS event-stream decoder (src/eventstream): arbitrary bytes fed in arbitrary
//! pieces never panic, decode the same whatever the pieces, every message decoded re-encodes
//! to a frame that decodes to the same message, and frames read in place say what their owned
//! messages say.

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

/// The same, as frames read in place.
fn frames(data: &[u8], piece: usize) -> (Vec<eventstream::Frame>, bool) {
    let mut d = Decoder::new(64 * 1024);
    let mut out = Vec::new();
    let step = if piece == 0 { data.len().max(1) } else { piece };
    let ok = data.chunks(step).all(|c| d.feed_frames(c, |f| out.push(f)).is_ok()) && d.finish().is_ok();
    (out, ok)
}

fuzz_target!(|input: &[u8]| {
    let Some((&first, data)) = input.split_first() else { return };
    let whole = decode(data, 0);
    let pieces = decode(data, 1 + first as usize % 17);
    assert_eq!(whole, pieces, "decoding depends on how the input was split");
    let (in_place, ok) = frames(data, 1 + first as usize % 13);
    assert_eq!((in_place.len(), ok), (whole.0.len(), whole.1), "frames and messages disagree");
    for (f, m) in in_place.iter().zip(&whole.0) {
        assert_eq!(f.kind(), m.kind());
        assert_eq!(f.payload(), &m.payload[..]);
        for (name, _) in f.headers() {
            assert_eq!(f.str_header(name), m.str_header(name));
        }
        assert_eq!(&f.clone().into_message(), m);
    }
    for m in &whole.0 {
        let mut wire = bytes::BytesMut::new();
        encode(m, &mut wire).expect("a decoded message encodes");
        let (again, ok) = decode(&wire, 0);
        assert!(ok && again.len() == 1 && &again[0] == m, "re-encoding changed the message");
    }
});

//! Every stream decoder and encoder, through the stream translator (SSE parser, AWS event-stream
//! framing, each dialect's decoder, each dialect's encoder): arbitrary upstream bytes never
//! panic, and the caller's bytes and the IR events are the same whatever way the upstream bytes
//! are split into reads.

#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &[u8]| {
    let Some((&[a, b, c], data)) = input.split_first_chunk::<3>() else { return };
    let (from, to) = (common::dialect(a), common::dialect(b));
    let whole = common::translate(from, to, data, 0);
    let split = common::translate(from, to, data, 1 + c as usize % 23);
    assert_eq!(whole, split, "{from:?} -> {to:?}: the output depends on how the input was split");
});

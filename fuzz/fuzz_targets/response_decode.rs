//! Every whole-response and error decoder: arbitrary bytes as an upstream answer (or error body
//! with any status) never panic, and what decodes encodes into every dialect. The reader of the
//! usage envelope agrees with serde_json on every text it reads.

#![no_main]

mod common;

use amux::ir::Dialect;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &[u8]| {
    let Some((&[a, b], body)) = input.split_first_chunk::<2>() else { return };
    let from = common::dialect(a);
    // The usage envelope's reader reads what serde_json reads.
    assert!(amux::gateway::envelope_reader_agrees(body));
    let status = 400 + u16::from(b) % 200;
    let err = amux::translate::decode_error(from, status, body);
    for to in Dialect::ALL {
        let _ = amux::translate::encode_error(to, &err);
    }
    if let Ok(r) = amux::translate::decode_response(from, body) {
        for to in Dialect::ALL {
            let _ = amux::translate::encode_response(to, &r);
        }
    }
});

//! Every whole-response and error decoder: arbitrary bytes as an upstream answer (or error body
//! with any status) never panic, and what decodes encodes into every dialect. The reader of the
//! usage envelope, and the one-pass readers of an Anthropic Message and of an OpenAI completion,
//! agree with serde_json on every text they read.

#![no_main]

mod common;

use amux::ir::Dialect;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &[u8]| {
    let Some((&[a, b], body)) = input.split_first_chunk::<2>() else { return };
    let from = common::dialect(a);
    // The usage envelope's reader reads what serde_json reads.
    assert!(amux::gateway::envelope_reader_agrees(body));
    // The one-pass reader of an Anthropic Message reads what the derived code reads.
    assert!(amux::dialects::anthropic::response_reader_agrees(body));
    assert!(amux::dialects::openai_chat::response_reader_agrees(body));
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

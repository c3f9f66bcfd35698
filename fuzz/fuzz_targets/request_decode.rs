//! Every request decoder (and the encoders after it): arbitrary bytes as a request body of any
//! dialect never panic; a body that decodes encodes into every dialect, and the translation
//! policy fits it to every target, without panicking. The OpenAI Chat and Anthropic fast paths'
//! readers agree with serde's derived code on every body they read.

#![no_main]

mod common;

use amux::ir::Dialect;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &[u8]| {
    let Some((&first, body)) = input.split_first() else { return };
    let from = common::dialect(first);
    // The fast paths' readers read what serde's derived code reads.
    assert!(amux::dialects::openai_chat::fast_request_reader_agrees(body));
    assert!(amux::dialects::anthropic::fast_request_reader_agrees(body));
    let Ok(req) = amux::translate::decode_request(from, body) else { return };
    for to in Dialect::ALL {
        let caps = amux::policy::Caps::of(to);
        if let Ok(fitted) = amux::policy::fit(&req, from, to, caps, false) {
            let _ = amux::translate::encode_request(to, &fitted.req, "m");
        }
    }
    let _ = amux::tokens::count_request(&req);
});

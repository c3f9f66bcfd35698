//! The stream decoders' fast paths (the hand readers of Anthropic events and OpenAI chunks,
//! with the start an OpenAI stream's chunks share): on any upstream bytes, a decoder decodes
//! exactly the IR events, errors included, that the same decoder without them does.

#![no_main]

use amux::dialects::{anthropic, openai_chat};
use amux::ir::StreamEvent;
use amux::sse::{SseEvent, SseParser};
use libfuzzer_sys::fuzz_target;

/// The IR events of one run, fast or general; the random generator (tool-call ids) is seeded
/// alike for both.
fn decode(anthropic: bool, events: &[SseEvent], fast: bool) -> Vec<StreamEvent> {
    fastrand::seed(7);
    let mut out = Vec::new();
    if anthropic {
        let mut d = anthropic::StreamDecoder::new();
        for ev in events {
            if fast { d.feed(ev.as_ref(), &mut out) } else { d.feed_general(ev.as_ref(), &mut out) }
        }
        d.finish(&mut out);
    } else {
        let mut d = openai_chat::StreamDecoder::new();
        for ev in events {
            if fast { d.feed(ev.as_ref(), &mut out) } else { d.feed_general(ev.as_ref(), &mut out) }
        }
        d.finish(&mut out);
    }
    out
}

fuzz_target!(|input: &[u8]| {
    let Some((&which, data)) = input.split_first() else { return };
    let mut parser = SseParser::new();
    let mut events = Vec::new();
    parser.feed(data, &mut events);
    parser.finish(&mut events);
    let fast = decode(which % 2 == 0, &events, true);
    let general = decode(which % 2 == 0, &events, false);
    assert_eq!(format!("{fast:?}"), format!("{general:?}"), "{}", String::from_utf8_lossy(data));
});

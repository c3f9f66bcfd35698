//! Every openai_chat fixture input decodes as expected (the golden test needs both dialects;
//! this checks this dialect's half on its own), and decoded streams keep the IR invariants.

use std::path::{Path, PathBuf};

use crate::dialects::openai_chat::{StreamEncoder, decode_error, decode_response, encode_request, encode_response};
use crate::ir::{ErrorKind, Request, StreamEvent};

fn files(kind: &str, ext: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/openai_chat").join(kind);
    let mut out: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == ext))
        .collect();
    out.sort();
    assert!(!out.is_empty(), "no fixtures in {}", dir.display());
    out
}

fn stem(p: &Path) -> String {
    p.file_stem().unwrap().to_string_lossy().into_owned()
}

#[test]
fn requests_decode_and_refusals_refuse() {
    for p in files("requests", "json") {
        let req = crate::translate::decode_request(crate::ir::Dialect::OpenAiChat, &std::fs::read(&p).unwrap())
            .unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        let refused = stem(&p).starts_with("refused");
        assert_eq!(!req.unsupported.is_empty(), refused, "{}: {:?}", p.display(), req.unsupported);
        // Same-dialect re-encoding works for everything that is not refused.
        assert_eq!(encode_request(&req, "gpt-4o").is_err(), refused, "{}", p.display());
    }
}

#[test]
fn responses_decode_and_reencode() {
    for p in files("responses", "json") {
        let resp = decode_response(&std::fs::read(&p).unwrap()).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        assert!(!resp.content.is_empty(), "{}", p.display());
        assert!(resp.stop_reason.is_some());
        assert!(!encode_response(&resp).is_empty());
    }
}

/// Checks the documented stream invariants; returns the events.
fn decode_stream(body: &[u8]) -> Vec<StreamEvent> {
    let mut d = crate::translate::EventDecoder::new(crate::ir::Dialect::OpenAiChat);
    let mut events = Vec::new();
    for piece in body.chunks(37) {
        d.feed(piece, &mut events);
    }
    d.finish(&mut events);
    if let Err(e) = crate::ir::check_order(&events) {
        panic!("{e}\n{events:?}");
    }
    events
}

#[test]
fn streams_decode_with_valid_event_order() {
    for p in files("streams", "sse") {
        let name = stem(&p);
        let events = decode_stream(&std::fs::read(&p).unwrap());
        let last = events.last().unwrap();
        let errs = name.contains("error") || name.contains("truncated");
        assert_eq!(matches!(last, StreamEvent::Error(_)), errs, "{name}: {last:?}");
        // And back out through the encoder.
        let mut enc = StreamEncoder::new(&Request { stream_include_usage: true, ..Request::default() });
        let mut buf = bytes::BytesMut::new();
        for ev in &events {
            enc.encode(ev, &mut buf);
        }
        let text = String::from_utf8(buf.to_vec()).unwrap();
        assert_eq!(text.ends_with("data: [DONE]\n\n"), !errs, "{name}");
    }
    let events = decode_stream(
        &std::fs::read(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/fixtures/openai_chat/streams/reasoning_text_parallel_tools.sse"),
        )
        .unwrap(),
    );
    let starts = events.iter().filter(|e| matches!(e, StreamEvent::BlockStart { .. })).count();
    assert_eq!(starts, 4);
}

#[test]
fn errors_decode_to_their_status_kind() {
    for p in files("errors", "json") {
        let name = stem(&p);
        let status: u16 = name.split('_').next().unwrap().parse().unwrap();
        let e = decode_error(status, &std::fs::read(&p).unwrap());
        if name.contains("context") || name.contains("vllm") {
            assert_eq!(e.kind, ErrorKind::ContextOverflow, "{name}");
            assert!(e.message.contains("prompt is too long"));
        } else {
            assert_eq!(e.kind, ErrorKind::from_status(status), "{name}");
        }
        assert!(!e.message.is_empty());
    }
}

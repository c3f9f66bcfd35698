//! Every openai_responses fixture input decodes as expected (the golden test covers the cross
//! translations), decoded streams keep the IR invariants, and re-encoding matches the SDK shapes.

use std::path::{Path, PathBuf};

use super::sdk_shape::{check_response, check_stream};
use crate::dialects::openai_responses::{
    StreamEncoder, decode_error, decode_response, encode_request, encode_response,
};
use crate::ir::{ErrorKind, Request, StreamEvent};

fn files(kind: &str, ext: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/openai_responses").join(kind);
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
        let req = crate::translate::decode_request(crate::ir::Dialect::OpenAiResponses, &std::fs::read(&p).unwrap())
            .unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        let refused = stem(&p).starts_with("refused");
        assert_eq!(!req.unsupported.is_empty(), refused, "{}: {:?}", p.display(), req.unsupported);
        assert_eq!(encode_request(&req, "gpt-4.1").is_err(), refused, "{}", p.display());
    }
}

#[test]
fn responses_decode_and_reencode() {
    for p in files("responses", "json") {
        let resp = decode_response(&std::fs::read(&p).unwrap()).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        assert!(!resp.content.is_empty(), "{}", p.display());
        assert!(resp.stop_reason.is_some());
        check_response(&serde_json::from_slice(&encode_response(&resp)).unwrap());
    }
}

/// Decodes in small pieces and checks the documented stream invariants; returns the events.
pub fn decode_stream(body: &[u8]) -> Vec<StreamEvent> {
    let mut d = crate::translate::EventDecoder::new(crate::ir::Dialect::OpenAiResponses);
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
fn streams_decode_with_valid_event_order_and_reencode() {
    for p in files("streams", "sse") {
        let name = stem(&p);
        let events = decode_stream(&std::fs::read(&p).unwrap());
        let last = events.last().unwrap();
        let errs = name.contains("error") || name.contains("truncated") || name.contains("failed");
        assert_eq!(matches!(last, StreamEvent::Error(_)), errs, "{name}: {last:?}");
        let mut enc = StreamEncoder::new(&Request::default());
        let mut buf = bytes::BytesMut::new();
        for ev in &events {
            enc.encode(ev, &mut buf);
        }
        let out = check_stream(std::str::from_utf8(&buf).unwrap());
        let end = out.last().unwrap()["type"].as_str().unwrap().to_string();
        let want = if errs {
            "response.failed"
        } else if name.contains("incomplete") {
            "response.incomplete"
        } else {
            "response.completed"
        };
        assert_eq!(end, want, "{name}");
    }
}

#[test]
fn errors_decode_to_their_status_kind() {
    for p in files("errors", "json") {
        let name = stem(&p);
        let status: u16 = name.split('_').next().unwrap().parse().unwrap();
        let e = decode_error(status, &std::fs::read(&p).unwrap());
        if name.contains("context") {
            assert_eq!(e.kind, ErrorKind::ContextOverflow, "{name}");
            assert!(e.message.contains("prompt is too long"));
        } else {
            assert_eq!(e.kind, ErrorKind::from_status(status), "{name}");
        }
        assert!(!e.message.is_empty());
    }
}

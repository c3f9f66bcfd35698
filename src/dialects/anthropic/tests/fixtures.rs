//! Every fixture input under `tests/fixtures/anthropic/` decodes as expected by this dialect alone
//! (the cross-dialect goldens live in `tests/golden.rs`).

use std::path::PathBuf;

use super::super::{decode_error, decode_response};
use super::stream::{assert_invariants, decode_sse};
use crate::ir::{ErrorKind, StreamEvent};

fn files(kind: &str) -> Vec<(String, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/anthropic").join(kind);
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| (p.file_stem().unwrap().to_string_lossy().into_owned(), std::fs::read(&p).unwrap()))
        .collect();
    out.sort();
    assert!(!out.is_empty(), "no fixtures in {}", dir.display());
    out
}

#[test]
fn request_fixtures() {
    for (name, body) in files("requests") {
        let req = crate::translate::decode_request(crate::ir::Dialect::Anthropic, &body)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(req.unsupported.is_empty(), !name.starts_with("refused"), "{name}: {:?}", req.unsupported);
    }
}

#[test]
fn response_fixtures() {
    for (name, body) in files("responses") {
        let r = decode_response(&body);
        assert_eq!(r.is_ok(), !name.starts_with("refused"), "{name}: {r:?}");
    }
}

#[test]
fn stream_fixtures() {
    for (name, body) in files("streams") {
        let evs = decode_sse(&body);
        assert_invariants(&evs);
        let errored = matches!(evs.last(), Some(StreamEvent::Error(_)));
        let want_error = ["error_mid_stream", "truncated", "unknown_block_type"].contains(&name.as_str());
        assert_eq!(errored, want_error, "{name}: {evs:?}");
    }
}

#[test]
fn error_fixtures() {
    for (name, body) in files("errors") {
        let status: u16 = name.split('_').next().unwrap().parse().unwrap();
        let e = decode_error(status, &body);
        let want = match name.as_str() {
            "400_context_overflow" => ErrorKind::ContextOverflow,
            "500_api_error" | "502_non_json" => ErrorKind::BadGateway,
            "529_overloaded" => ErrorKind::Unavailable,
            _ => ErrorKind::from_status(status),
        };
        assert_eq!(e.kind, want, "{name}");
        assert!(!e.message.is_empty());
    }
}

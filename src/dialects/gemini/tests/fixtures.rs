//! Every fixture input under `tests/fixtures/gemini/` decodes as expected by this dialect alone
//! (the cross-dialect goldens live in `tests/golden.rs`). With `AMUX_GEMINI_DUMP=<dir>` set, the
//! re-encoded outputs are written there for validation against the google-genai types.

use std::path::{Path, PathBuf};

use super::super::{StreamEncoder, decode_error, decode_request, decode_response, encode_request, encode_response};
use super::stream::{assert_invariants, decode_sse};
use crate::ir::{ErrorKind, Request, StreamEvent};

fn files(kind: &str) -> Vec<(String, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/gemini").join(kind);
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| (p.file_stem().unwrap().to_string_lossy().into_owned(), std::fs::read(&p).unwrap()))
        .collect();
    out.sort();
    assert!(!out.is_empty(), "no fixtures in {}", dir.display());
    out
}

fn dump(kind: &str, name: &str, ext: &str, bytes: &[u8]) {
    if let Some(dir) = std::env::var_os("AMUX_GEMINI_DUMP") {
        let dir = Path::new(&dir).join(kind);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{name}.{ext}")), bytes).unwrap();
    }
}

#[test]
fn request_fixtures() {
    for (name, body) in files("requests") {
        let req = crate::translate::decode_request(crate::ir::Dialect::Gemini, &body)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let refused = name.starts_with("refused");
        assert_eq!(req.unsupported.is_empty(), !refused, "{name}: {:?}", req.unsupported);
        assert!(req.model.is_empty() && !req.stream, "{name}: model and stream come from the URL");
        let encoded = encode_request(&req, "gemini-2.5-pro");
        assert_eq!(encoded.is_err(), refused, "{name}: {encoded:?}");
        if let Ok(b) = encoded {
            // What we send upstream decodes again as a caller body.
            decode_request(&b).unwrap_or_else(|e| panic!("{name} re-decode: {e}"));
            dump("requests", &name, "json", &b);
        }
    }
}

#[test]
fn response_fixtures() {
    for (name, body) in files("responses") {
        let r = decode_response(&body);
        assert_eq!(r.is_ok(), !name.starts_with("refused"), "{name}: {r:?}");
        if let Ok(r) = r {
            assert!(r.stop_reason.is_some(), "{name}");
            dump("responses", &name, "json", &encode_response(&r));
        }
    }
}

#[test]
fn stream_fixtures() {
    for (name, body) in files("streams") {
        let evs = decode_sse(&body);
        assert_invariants(&evs);
        let errored = matches!(evs.last(), Some(StreamEvent::Error(_)));
        let want_error = ["error_mid_stream", "truncated"].contains(&name.as_str());
        assert_eq!(errored, want_error, "{name}: {evs:?}");
        let mut enc = StreamEncoder::new(&Request::default());
        let mut buf = bytes::BytesMut::new();
        for ev in &evs {
            enc.encode(ev, &mut buf);
        }
        dump("streams", &name, "sse", &buf);
    }
}

#[test]
fn error_fixtures() {
    for (name, body) in files("errors") {
        let status: u16 = name.split('_').next().unwrap().parse().unwrap();
        let e = decode_error(status, &body);
        let want = match name.as_str() {
            "400_context_overflow" => ErrorKind::ContextOverflow,
            _ => ErrorKind::from_status(status),
        };
        assert_eq!(e.kind, want, "{name}");
        assert!(!e.message.is_empty());
        dump("errors", &name, "json", &super::super::encode_error(&e));
    }
}

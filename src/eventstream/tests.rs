//! Event-stream codec: round trips, incremental feeding, bounds and every rejection.

use bytes::{Bytes, BytesMut};

use super::*;

fn every_type() -> Message {
    let h = |name: &str, value| Header { name: name.to_string(), value };
    Message {
        headers: vec![
            h("t", HeaderValue::Bool(true)),
            h("f", HeaderValue::Bool(false)),
            h("b", HeaderValue::Byte(-3)),
            h("s", HeaderValue::Int16(-300)),
            h("i", HeaderValue::Int32(70_000)),
            h("l", HeaderValue::Int64(-5_000_000_000)),
            h("a", HeaderValue::Bytes(Bytes::from_static(b"\x00\xff"))),
            h(":event-type", HeaderValue::String("contentBlockDelta".into())),
            h("ts", HeaderValue::Timestamp(1_700_000_000_123)),
            h("u", HeaderValue::Uuid(*b"0123456789abcdef")),
        ],
        payload: Bytes::from_static(br#"{"contentBlockIndex":0,"delta":{"text":"Hi"}}"#),
    }
}

fn decode_all(bytes: &[u8], piece: usize) -> Result<Vec<Message>, FrameError> {
    let mut d = Decoder::default();
    let mut out = Vec::new();
    for c in bytes.chunks(piece.max(1)) {
        d.feed(c, &mut out)?;
    }
    d.finish()?;
    Ok(out)
}

#[test]
fn empty_message_is_the_published_vector() {
    // The AWS event-stream test vector "empty_message" (also in botocore's tests).
    let bytes = to_bytes(&Message::default()).unwrap();
    assert_eq!(&bytes[..], b"\x00\x00\x00\x10\x00\x00\x00\x00\x05\xc2\x48\xeb\x7d\x98\xc8\xff");
    assert_eq!(decode_all(&bytes, 1).unwrap(), vec![Message::default()]);
}

#[test]
fn every_header_type_round_trips_in_any_chunking() {
    let msg = every_type();
    let mut wire = BytesMut::new();
    for _ in 0..3 {
        encode(&msg, &mut wire).unwrap();
    }
    for piece in [1, 2, 7, 16, 64, wire.len()] {
        assert_eq!(decode_all(&wire, piece).unwrap(), vec![msg.clone(), msg.clone(), msg.clone()], "piece {piece}");
    }
    assert_eq!(msg.str_header(":event-type"), Some("contentBlockDelta"));
    assert_eq!(msg.kind(), Kind::Event("contentBlockDelta"));
    let ex = Message::exception("throttlingException", "{}");
    assert_eq!(ex.kind(), Kind::Exception("throttlingException"));
}

#[test]
fn corrupt_crcs_are_refused_by_name() {
    let good = to_bytes(&Message::event("messageStart", r#"{"role":"assistant"}"#)).unwrap();
    let mut prelude = good.to_vec();
    prelude[8] ^= 1;
    assert!(matches!(decode_all(&prelude, 5), Err(FrameError::PreludeCrc { .. })));
    let mut body = good.to_vec();
    let n = body.len();
    body[n - 6] ^= 0x20;
    let e = decode_all(&body, 5).unwrap_err();
    assert!(matches!(e, FrameError::MessageCrc { .. }), "{e}");
    assert_eq!(e.label(), "message_crc");
}

#[test]
fn oversized_frames_are_refused_from_their_prelude() {
    let big = to_bytes(&Message::event("chunk", vec![b'x'; 4096])).unwrap();
    let mut d = Decoder::new(1024);
    let mut out = Vec::new();
    let e = d.feed(&big[..12], &mut out).unwrap_err();
    assert_eq!(e, FrameError::TooLarge { len: big.len(), max: 1024 });
    // The error is sticky: nothing after it is trusted.
    assert!(d.feed(&big[12..], &mut out).is_err());
    assert!(d.finish().is_err());
    assert!(out.is_empty());
}

#[test]
fn truncated_stream_is_an_error_at_finish() {
    let good = to_bytes(&Message::event("messageStop", r#"{"stopReason":"end_turn"}"#)).unwrap();
    let e = decode_all(&good[..good.len() - 1], 3).unwrap_err();
    assert_eq!(e, FrameError::Truncated(good.len() - 1));
    assert!(decode_all(&good[..5], 3).is_err());
}

/// A frame with a valid prelude and message CRC around the given header bytes.
fn framed(headers: &[u8], declared_headers_len: u32) -> Vec<u8> {
    let total = (16 + headers.len()) as u32;
    let mut v = Vec::new();
    v.extend_from_slice(&total.to_be_bytes());
    v.extend_from_slice(&declared_headers_len.to_be_bytes());
    v.extend_from_slice(&crc32fast::hash(&v).to_be_bytes());
    v.extend_from_slice(headers);
    v.extend_from_slice(&crc32fast::hash(&v).to_be_bytes());
    v
}

#[test]
fn malformed_headers_are_refused() {
    let cases: &[(&[u8], &str)] = &[
        (b"\x01a\x0a", "unknown value type 10"),
        (b"\x01a\x07\x00\x05ab", "cut off"),
        (b"\x05ab", "does not fit"),
        (b"\x00", "does not fit"),
        (b"\x01\xff\x00", "not UTF-8"),
        (b"\x01a\x04\x00\x00", "cut off"),
    ];
    for (headers, want) in cases {
        let e = decode_all(&framed(headers, headers.len() as u32), 64).unwrap_err();
        assert!(e.to_string().contains(want), "{headers:?}: {e}");
    }
    let e = decode_all(&framed(b"\x01a\x00", 99), 64).unwrap_err();
    assert_eq!(e, FrameError::HeadersLength { headers: 99, total: 19 });
}

#[test]
fn lengths_below_the_minimum_are_refused() {
    let mut v = Vec::new();
    v.extend_from_slice(&8u32.to_be_bytes());
    v.extend_from_slice(&0u32.to_be_bytes());
    v.extend_from_slice(&crc32fast::hash(&v).to_be_bytes());
    assert_eq!(decode_all(&v, 64).unwrap_err(), FrameError::TooShort(8));
}

#[test]
fn encode_checks_header_limits() {
    let long_name = Message::new(&[(&"n".repeat(256), "v")], "");
    assert!(matches!(to_bytes(&long_name), Err(FrameError::Header(_))));
    let long_value = Message::new(&[("n", &"v".repeat(70_000))], "");
    assert!(matches!(to_bytes(&long_value), Err(FrameError::Header(_))));
    let empty_name = Message::new(&[("", "v")], "");
    assert!(to_bytes(&empty_name).is_err());
}

#[test]
fn long_stream_in_tiny_pieces_is_linear() {
    // 2000 frames fed 3 bytes at a time: each frame is split off once, never rescanned.
    let msg = Message::event("contentBlockDelta", r#"{"contentBlockIndex":0,"delta":{"text":"abc"}}"#);
    let mut wire = BytesMut::new();
    for _ in 0..2000 {
        encode(&msg, &mut wire).unwrap();
    }
    let out = decode_all(&wire, 3).unwrap();
    assert_eq!(out.len(), 2000);
}

#[test]
fn mutated_frames_never_panic_and_decode_alike_in_any_chunking() {
    // The fuzz target's properties (fuzz/fuzz_targets/eventstream.rs) on seeded random mutations
    // of valid frames, so that they also hold in every ordinary test run.
    let mut wire = BytesMut::new();
    encode(&every_type(), &mut wire).unwrap();
    encode(&Message::exception("throttlingException", r#"{"message":"m"}"#), &mut wire).unwrap();
    let mut rng = fastrand::Rng::with_seed(11);
    let decode = |data: &[u8], piece: usize| {
        let mut d = Decoder::new(64 * 1024);
        let mut out = Vec::new();
        let ok = data.chunks(piece).all(|c| d.feed(c, &mut out).is_ok()) && d.finish().is_ok();
        (out, ok)
    };
    for _ in 0..3000 {
        let mut data = wire.to_vec();
        for _ in 0..rng.usize(1..4) {
            let i = rng.usize(..data.len());
            match rng.u8(..3) {
                0 => data[i] = rng.u8(..),
                1 => data.truncate(i),
                _ => data.insert(i, rng.u8(..)),
            }
            if data.is_empty() {
                break;
            }
        }
        let whole = decode(&data, data.len().max(1));
        assert_eq!(whole, decode(&data, rng.usize(1..40)));
        let frames = frames_of(&data, rng.usize(1..40));
        assert_eq!(frames.1, whole.1);
        assert_eq!(frames.0.len(), whole.0.len());
        for (f, m) in frames.0.iter().zip(&whole.0) {
            assert_frame_is_message(f, m);
        }
        for m in &whole.0 {
            let again = decode(&to_bytes(m).unwrap(), 1 << 20);
            assert!(again.1 && again.0 == vec![m.clone()]);
        }
    }
}

/// Frames of the same bytes, read in place.
fn frames_of(bytes: &[u8], piece: usize) -> (Vec<Frame>, bool) {
    let mut d = Decoder::new(64 * 1024);
    let mut out = Vec::new();
    let ok = bytes.chunks(piece.max(1)).all(|c| d.feed_frames(c, |f| out.push(f)).is_ok()) && d.finish().is_ok();
    (out, ok)
}

/// What a frame says in place is what its owned message says.
fn assert_frame_is_message(f: &Frame, m: &Message) {
    assert_eq!(f.kind(), m.kind());
    assert_eq!(f.payload(), &m.payload[..]);
    assert_eq!(f.headers().count(), m.headers.len());
    for (name, _) in f.headers() {
        assert_eq!(f.str_header(name), m.str_header(name), "{name}");
    }
    assert_eq!(&f.clone().into_message(), m);
}

#[test]
fn frames_read_in_place_match_their_messages() {
    let mut wire = BytesMut::new();
    let msgs = [
        every_type(),
        Message::exception("throttlingException", r#"{"message":"m"}"#),
        Message::new(&[(":message-type", "error"), (":error-code", "InternalFailure")], ""),
        Message::default(),
    ];
    for m in &msgs {
        encode(m, &mut wire).unwrap();
    }
    let (frames, ok) = frames_of(&wire, 5);
    assert!(ok && frames.len() == msgs.len());
    for (f, m) in frames.iter().zip(&msgs) {
        assert_frame_is_message(f, m);
    }
    assert_eq!(frames[0].header("i"), Some(ValueRef::Int32(70_000)));
    assert_eq!(frames[0].header("a"), Some(ValueRef::Bytes(b"\x00\xff")));
    assert_eq!(frames[2].kind(), Kind::Error("InternalFailure"));
    assert!(frames[0].is_event("contentBlockDelta") && !frames[0].is_event("chunk"));
    assert!(!frames[1].is_event("throttlingException") && !frames[2].is_event(""));
    assert!(frames[3].is_event(""));
    assert_eq!(frames[3].kind(), Kind::Event(""));
    // The first header of a name counts, whatever its type.
    let shadowed = Message {
        headers: vec![
            Header { name: ":message-type".into(), value: HeaderValue::Int32(1) },
            Header { name: ":message-type".into(), value: HeaderValue::String("exception".into()) },
            Header { name: ":event-type".into(), value: HeaderValue::String("chunk".into()) },
        ],
        payload: Bytes::new(),
    };
    let (f, _) = frames_of(&to_bytes(&shadowed).unwrap(), 64);
    assert_eq!(shadowed.kind(), Kind::Event("chunk"));
    assert_frame_is_message(&f[0], &shadowed);
    // Frames fail where messages fail.
    let e = frames_of(&framed(b"\x01a\x0a", 3), 64);
    assert!(!e.1 && e.0.is_empty());
}

//! amux's event-stream codec against the AWS SDK for Rust's (`aws-smithy-eventstream`): frames
//! amux writes decode there to the same headers and payload, frames the SDK writes decode here,
//! and the golden frames in `tests/fixtures/eventstream/` (what amux sends Bedrock callers) are
//! byte for byte what the SDK writes for the same message.

use amux::eventstream::{self, Decoder, Header, HeaderValue, Message};
use aws_smithy_eventstream::frame::{read_message_from, write_message_to};
use aws_smithy_types::event_stream::{Header as SdkHeader, HeaderValue as SdkValue, Message as SdkMessage};
use bytes::Bytes;

fn to_sdk(m: &Message) -> SdkMessage {
    let mut out = SdkMessage::new(m.payload.clone());
    for h in &m.headers {
        let v = match &h.value {
            HeaderValue::Bool(b) => SdkValue::Bool(*b),
            HeaderValue::Byte(b) => SdkValue::Byte(*b),
            HeaderValue::Int16(v) => SdkValue::Int16(*v),
            HeaderValue::Int32(v) => SdkValue::Int32(*v),
            HeaderValue::Int64(v) => SdkValue::Int64(*v),
            HeaderValue::Bytes(b) => SdkValue::ByteArray(b.clone()),
            HeaderValue::String(s) => SdkValue::String(s.clone().into()),
            HeaderValue::Timestamp(ms) => SdkValue::Timestamp(aws_smithy_types::DateTime::from_millis(*ms)),
            HeaderValue::Uuid(u) => SdkValue::Uuid(u128::from_be_bytes(*u)),
        };
        out = out.add_header(SdkHeader::new(h.name.clone(), v));
    }
    out
}

fn from_sdk(m: &SdkMessage) -> Message {
    let headers = m
        .headers()
        .iter()
        .map(|h| {
            let value = match h.value() {
                SdkValue::Bool(b) => HeaderValue::Bool(*b),
                SdkValue::Byte(b) => HeaderValue::Byte(*b),
                SdkValue::Int16(v) => HeaderValue::Int16(*v),
                SdkValue::Int32(v) => HeaderValue::Int32(*v),
                SdkValue::Int64(v) => HeaderValue::Int64(*v),
                SdkValue::ByteArray(b) => HeaderValue::Bytes(b.clone()),
                SdkValue::String(s) => HeaderValue::String(s.as_str().to_string()),
                SdkValue::Timestamp(t) => HeaderValue::Timestamp(t.to_millis().unwrap()),
                SdkValue::Uuid(u) => HeaderValue::Uuid(u.to_be_bytes()),
                other => panic!("unexpected header value {other:?}"),
            };
            Header { name: h.name().as_str().to_string(), value }
        })
        .collect();
    Message { headers, payload: m.payload().clone() }
}

fn samples() -> Vec<Message> {
    let h = |name: &str, value| Header { name: name.to_string(), value };
    vec![
        Message::default(),
        Message::event("messageStart", r#"{"p":"abcdefghij","role":"assistant"}"#),
        Message::event("chunk", r#"{"bytes":"eyJ0eXBlIjoibWVzc2FnZV9zdG9wIn0="}"#),
        Message::exception("throttlingException", r#"{"message":"Too many requests, please wait."}"#),
        Message {
            headers: vec![
                h("t", HeaderValue::Bool(true)),
                h("f", HeaderValue::Bool(false)),
                h("b", HeaderValue::Byte(-1)),
                h("s", HeaderValue::Int16(i16::MIN)),
                h("i", HeaderValue::Int32(i32::MAX)),
                h("l", HeaderValue::Int64(i64::MIN)),
                h("a", HeaderValue::Bytes(Bytes::from_static(&[0, 1, 2, 255]))),
                h("ts", HeaderValue::Timestamp(1_732_000_000_000)),
                h("u", HeaderValue::Uuid(*b"\x01\x23\x45\x67\x89\xab\xcd\xef\x01\x23\x45\x67\x89\xab\xcd\xef")),
            ],
            payload: Bytes::from(vec![7u8; 70_000]),
        },
    ]
}

#[test]
fn amux_frames_are_what_the_sdk_writes_and_reads() {
    for m in samples() {
        let ours = eventstream::to_bytes(&m).unwrap();
        let mut theirs = Vec::new();
        write_message_to(&to_sdk(&m), &mut theirs).unwrap();
        assert_eq!(&ours[..], &theirs[..], "frame bytes differ for {:?}", m.headers);
        let decoded = read_message_from(&mut ours.clone()).unwrap();
        assert_eq!(from_sdk(&decoded), m);
    }
}

#[test]
fn sdk_frames_decode_here_in_any_chunking() {
    let mut wire = Vec::new();
    for m in samples() {
        write_message_to(&to_sdk(&m), &mut wire).unwrap();
    }
    for piece in [1, 13, 4096] {
        let mut d = Decoder::default();
        let mut out = Vec::new();
        for c in wire.chunks(piece) {
            d.feed(c, &mut out).unwrap();
        }
        d.finish().unwrap();
        assert_eq!(out, samples(), "piece {piece}");
    }
}

/// Golden frames: `<name>.hex` holds the frame, `<name>.txt` the message it must decode to
/// (`message-type type payload` as the Bedrock fixtures write it). The SDK decodes each too.
#[test]
fn golden_frames() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/eventstream");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "hex") {
            continue;
        }
        n += 1;
        let hex: String = std::fs::read_to_string(&path).unwrap().split_whitespace().collect();
        let bytes: Vec<u8> =
            (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap()).collect();
        let mut d = Decoder::default();
        let mut out = Vec::new();
        d.feed(&bytes, &mut out).unwrap();
        d.finish().unwrap();
        assert_eq!(out.len(), 1, "{}", path.display());
        let sdk = from_sdk(&read_message_from(&mut Bytes::from(bytes.clone())).unwrap());
        assert_eq!(sdk, out[0], "{}", path.display());
        assert_eq!(eventstream::to_bytes(&out[0]).unwrap().to_vec(), bytes, "{} re-encodes", path.display());
        let expected = std::fs::read_to_string(path.with_extension("txt")).unwrap();
        let m = &out[0];
        let (kind, name) = match m.kind() {
            eventstream::Kind::Event(t) => ("event", t),
            eventstream::Kind::Exception(t) => ("exception", t),
            eventstream::Kind::Error(t) => ("error", t),
        };
        let actual = format!("{kind} {name} {}\n", String::from_utf8_lossy(&m.payload));
        assert_eq!(actual, expected, "{}", path.display());
    }
    assert!(n >= 3, "golden frames missing");
}

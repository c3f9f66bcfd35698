//! The same-dialect splice: the top-level scan of an arbitrary body never panics and agrees with
//! serde_json's; when it accepts the body, replacing `model` and appending a field gives JSON
//! whose `model` is the new value and whose other fields are unchanged, and the pieces sent
//! upstream without copying the body are that same JSON. Any body that is JSON
//! is written back by `jsonwrite` exactly as serde_json writes it.

#![no_main]

use amux::gateway::splice::TopLevel;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fuzz_target!(|body: &[u8]| {
    if let Ok(v) = serde_json::from_slice::<Value>(body) {
        assert_eq!(amux::jsonwrite::to_vec(&v).ok(), serde_json::to_vec(&v).ok());
    }
    // The fast top-level scan (jsonscan) answers as serde_json alone would: the same
    // members, or a refusal.
    match (TopLevel::parse(body), TopLevel::parse_with_serde(body)) {
        (Ok(fast), Ok(serde)) => assert_eq!(fast.fields, serde.fields),
        (Err(_), Err(_)) => {}
        (fast, serde) => panic!("scan {:?} against serde_json {:?}", fast.is_ok(), serde.is_ok()),
    }
    let Ok(top) = TopLevel::parse(body) else { return };
    let _ = (top.string("model"), top.boolean("stream"), top.strings("stop"));
    let out = top.rewrite(&[("model", "\"spliced\"")], &[("amux_extra", "1")]);
    // The pieces sent upstream (slices of the body around the new values) are that same body.
    let whole = bytes::Bytes::copy_from_slice(body);
    if let Ok(t) = TopLevel::parse(&whole) {
        let sent = t.splice(&whole, &[("model", "\"spliced\"")], &[("amux_extra", "1")]);
        assert_eq!(*sent.contiguous(), *out);
    }
    let Ok(Value::Object(before)) = serde_json::from_slice::<Value>(body) else { return };
    let after: Value = serde_json::from_slice(&out).expect("a spliced body is JSON");
    let Value::Object(after) = after else { panic!("a spliced body is an object") };
    if before.contains_key("model") {
        assert_eq!(after["model"], "spliced");
    }
    assert_eq!(after["amux_extra"], 1);
    for (k, v) in &before {
        if k != "model" && k != "amux_extra" {
            assert_eq!(&after[k], v, "field {k} changed");
        }
    }
});

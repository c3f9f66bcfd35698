//! Unit tests of the Anthropic codecs: decode -> IR and IR -> encode with hand-built values, plus
//! checks over the fixture inputs in `tests/fixtures/anthropic/`.

mod error;
mod fixtures;
mod request_decode;
mod request_encode;
mod request_fast;
mod response;
mod stream;

use serde_json::Value;

/// Parses encoder output for assertions.
fn json(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes).unwrap()
}

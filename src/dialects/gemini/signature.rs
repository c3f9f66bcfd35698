//! Signatures minted by other providers, carried through a Gemini caller.
//!
//! Gemini callers store `thoughtSignature` as bytes (base64) on the part that carries it and drop
//! thought text from their history. An Anthropic signature is verified together with its thinking
//! text, and an OpenAI one is not base64 at all, so a signature going to a Gemini caller is
//! wrapped with its thinking text into one base64 value, and unwrapped when it comes back:
//! `base64("amux1:" + {"t": thinking, "s": signature})`. Signatures Gemini minted itself only
//! ever pass through the same-dialect path untouched.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};

const MARK: &[u8] = b"amux1:";

#[derive(Serialize, Deserialize)]
struct Wrapped<'a> {
    t: &'a str,
    s: &'a str,
}

/// The value a Gemini caller stores for a thinking block's signature.
pub fn wrap(thinking: &str, signature: &str) -> String {
    let mut raw = MARK.to_vec();
    raw.extend_from_slice(serde_json::to_string(&Wrapped { t: thinking, s: signature }).unwrap_or_default().as_bytes());
    STANDARD.encode(raw)
}

/// The thinking text and signature a Gemini caller sent back, when amux wrapped them.
pub fn unwrap(value: &str) -> Option<(String, String)> {
    let raw = STANDARD.decode(value.trim()).ok()?;
    let json = raw.strip_prefix(MARK)?;
    let w: Wrapped<'_> = serde_json::from_slice(json).ok()?;
    Some((w.t.to_string(), w.s.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_leaves_native_signatures_alone() {
        let w = wrap("I should call the tool", "responses:rs_1:gAAAA/+=");
        assert!(STANDARD.decode(&w).is_ok(), "a valid base64 value for google-genai");
        assert_eq!(unwrap(&w), Some(("I should call the tool".into(), "responses:rs_1:gAAAA/+=".into())));
        assert_eq!(unwrap("CiQBcsjafA8PgBdqQmw4D0ksw3Ijlnd6xDp+/Q=="), None);
        assert_eq!(unwrap("not base64!"), None);
    }
}

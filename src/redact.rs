//! Scrubbing credentials out of text that came from an upstream (error bodies, transport errors,
//! error events of a stream) before it reaches a caller, a log line or a span.
//!
//! Some OpenAI-compatible servers echo the credential they received in their 401 body
//! (`Incorrect API key provided: Bearer sk-...`); a gateway that passed that on would hand its
//! provider key to every caller. Three rules, applied to every token (a run of letters, digits
//! and `-_.~+/`):
//! - it contains a configured credential, or is a piece (8 characters or more) of one: a key
//!   echoed whole, inside a longer token or cut short;
//! - it has the shape of a credential: a known key prefix (`sk-`, `AIza`, `AKIA`, `eyJ`, ...);
//! - it is the value after a credential word: `Bearer x`, `api-key: x`, `x-api-key=x`,
//!   `"api_key": "x"`, `key=x`, `token: x`, `authorization: x`.
//!
//! Pure and only on error paths: nothing here runs for a successful call.

use std::borrow::Cow;

/// What a scrubbed credential reads as.
pub const MASK: &str = "[redacted]";

/// Credentials shorter than this are not looked for (placeholders such as `ollama` would
/// otherwise blank out ordinary words).
const MIN_SECRET: usize = 8;

/// Prefixes of provider and cloud credentials (OpenAI/Anthropic/DeepSeek `sk-`, Stripe-style
/// `sk_`/`rk_`, Groq `gsk_`, xAI `xai-`, Google `AIza` and OAuth `ya29.`, AWS `AKIA`/`ASIA`,
/// GitHub, Hugging Face, NVIDIA, Perplexity, Cerebras, Fireworks, JWTs).
const PREFIXES: &[&str] = &[
    "sk-",
    "sk_",
    "rk_",
    "gsk_",
    "xai-",
    "AIza",
    "ya29.",
    "AKIA",
    "ASIA",
    "ghp_",
    "gho_",
    "github_pat_",
    "hf_",
    "nvapi-",
    "pplx-",
    "csk-",
    "fw_",
    "eyJ",
];

/// Words after which the next token is a credential (compared case-insensitively; the token
/// before the value must end with one of them).
const KEY_WORDS: &[&str] = &["api-key", "api_key", "apikey", "key", "token", "authorization", "password", "secret"];

/// Words followed by a credential after plain whitespace.
const SCHEMES: &[&str] = &["bearer", "basic"];

/// The credentials to scrub, longest first (so a key that contains another is masked whole).
#[derive(Debug, Default, Clone)]
pub struct Redactor {
    secrets: Vec<String>,
}

impl Redactor {
    /// A redactor for these credentials (short ones and duplicates are ignored).
    pub fn new(secrets: impl IntoIterator<Item = String>) -> Redactor {
        let mut secrets: Vec<String> = secrets.into_iter().filter(|s| s.trim().len() >= MIN_SECRET).collect();
        secrets.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        secrets.dedup();
        Redactor { secrets }
    }

    /// `text` with every credential masked.
    pub fn redact<'t>(&self, text: &'t str) -> Cow<'t, str> {
        let mut text = Cow::Borrowed(text);
        // Whole credentials first, wherever they are (a header value may hold spaces).
        for s in &self.secrets {
            if text.contains(s.as_str()) {
                text = Cow::Owned(text.replace(s.as_str(), MASK));
            }
        }
        match scrub_tokens(&text, &self.secrets) {
            Some(out) => Cow::Owned(out),
            None => text,
        }
    }

    /// Scrubs an error's message in place.
    pub fn scrub(&self, err: &mut crate::ir::ApiError) {
        if let Cow::Owned(m) = self.redact(&err.message) {
            err.message = m;
        }
    }

    /// Whether `text` holds none of the configured credentials.
    #[cfg(test)]
    fn is_clean(&self, text: &str) -> bool {
        self.secrets.iter().all(|s| !text.contains(s.as_str()))
    }
}

/// Credential shapes only, for text with no configured credential at hand.
pub fn redact_shapes(text: &str) -> Cow<'_, str> {
    match scrub_tokens(text, &[]) {
        Some(out) => Cow::Owned(out),
        None => Cow::Borrowed(text),
    }
}

fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'+' | b'/')
}

/// The token byte ranges of `text`.
fn tokens(text: &str) -> impl Iterator<Item = (usize, usize)> + '_ {
    let b = text.as_bytes();
    let mut i = 0;
    std::iter::from_fn(move || {
        while i < b.len() && !is_token_byte(b[i]) {
            i += 1;
        }
        if i >= b.len() {
            return None;
        }
        let start = i;
        while i < b.len() && is_token_byte(b[i]) {
            i += 1;
        }
        Some((start, i))
    })
}

/// Whether the token is, holds, or is a piece of a credential, or has a credential's shape.
fn secretish(tok: &str, secrets: &[String]) -> bool {
    let t = tok.trim_matches('.');
    if secrets.iter().any(|s| t.contains(s.as_str()) || (t.len() >= MIN_SECRET && s.contains(t))) {
        return true;
    }
    t.len() >= 12 && PREFIXES.iter().any(|p| t.starts_with(p))
}

/// Whether the token at `start` is the value after a credential word: the text before it is
/// `<word><separators>` where the separators hold `:` or `=` (or only spaces after `Bearer`).
fn after_key_word(text: &str, start: usize, prev: Option<(usize, usize)>) -> bool {
    let Some((ps, pe)) = prev else { return false };
    let between = &text[pe..start];
    if between.len() > 4 || !between.bytes().all(|b| matches!(b, b' ' | b'\t' | b'"' | b'\'' | b':' | b'=')) {
        return false;
    }
    let word = text[ps..pe].to_ascii_lowercase();
    let assigns = between.contains(':') || between.contains('=');
    if SCHEMES.iter().any(|s| word == *s) && !between.is_empty() {
        return true;
    }
    assigns && KEY_WORDS.iter().any(|k| word.ends_with(k))
}

/// `text` with secret tokens masked; `None` when nothing was.
fn scrub_tokens(text: &str, secrets: &[String]) -> Option<String> {
    let mut out: Option<String> = None;
    let mut copied = 0;
    let mut prev = None;
    for (s, e) in tokens(text) {
        let tok = &text[s..e];
        let scheme = SCHEMES.iter().any(|w| tok.eq_ignore_ascii_case(w));
        let hit = secretish(tok, secrets) || after_key_word(text, s, prev);
        if hit && !scheme {
            let o = out.get_or_insert_with(|| String::with_capacity(text.len()));
            o.push_str(&text[copied..s]);
            o.push_str(MASK);
            copied = e;
        }
        prev = Some((s, e));
    }
    out.map(|mut o| {
        o.push_str(&text[copied..]);
        o
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "sk-live-0123456789abcdefghijklmnop";

    fn r() -> Redactor {
        Redactor::new([KEY.to_string(), "short".to_string(), "custom header value 42".to_string()])
    }

    #[test]
    fn configured_credentials_whole_inside_and_in_pieces() {
        let r = r();
        for text in [
            format!("Incorrect API key provided: {KEY}"),
            format!("Incorrect API key provided: Bearer {KEY}"),
            format!("bad key x{KEY}y in request"),
            format!("key {}... was revoked", &KEY[..20]),
            format!("key ...{} was revoked", &KEY[KEY.len() - 12..]),
            "header custom header value 42 refused".to_string(),
        ] {
            let out = r.redact(&text);
            assert!(r.is_clean(&out), "{out}");
            assert!(!out.contains(&KEY[..12]) && !out.contains(&KEY[KEY.len() - 12..]), "{out}");
            assert!(out.contains(MASK), "{out}");
        }
        assert_eq!(
            r.redact("Incorrect API key provided: Bearer sk-live-0123456789abcdefghijklmnop"),
            "Incorrect API key provided: Bearer [redacted]"
        );
    }

    #[test]
    fn credential_shapes_and_values_after_key_words() {
        let r = Redactor::default();
        for (text, want) in [
            ("Authorization: Bearer abc.def-ghi", "Authorization: Bearer [redacted]"),
            ("x-api-key: 12345678abc rejected", "x-api-key: [redacted] rejected"),
            (r#"{"api_key": "hunter2hunter2"}"#, r#"{"api_key": "[redacted]"}"#),
            ("GET /v1/models?key=AIzaSyA-123 failed", "GET /v1/models?key=[redacted] failed"),
            ("token=abc", "token=[redacted]"),
            ("the key sk-proj-abcdefghijklmnop is invalid", "the key [redacted] is invalid"),
            ("AKIAIOSFODNN7EXAMPLE is not authorized", "[redacted] is not authorized"),
        ] {
            assert_eq!(r.redact(text), want, "{text}");
        }
    }

    #[test]
    fn ordinary_text_is_untouched() {
        let r = r();
        for text in [
            "prompt is too long: 210000 tokens > 200000 maximum",
            "Invalid API key. Check your key and try again.",
            "model not found: claude-sonnet-4-5",
            "short answers are fine; a key is required",
            "rate limit reached for requests; retry after 20s (req_011CSHoEeqs5C35K2UUqR7Fy)",
        ] {
            assert!(matches!(r.redact(text), Cow::Borrowed(_)), "{text} -> {}", r.redact(text));
        }
    }
}

//! A secret string that never prints: Debug and Display show `***`. It also keeps itself as an
//! upstream header value (as it is, and as `Bearer <secret>`), built on first use and marked
//! sensitive, so that a call does not format and copy the key again.

use std::fmt;
use std::sync::OnceLock;

use http::HeaderValue;

#[derive(Clone)]
pub struct Secret {
    text: String,
    raw: OnceLock<Option<HeaderValue>>,
    bearer: OnceLock<Option<HeaderValue>>,
}

impl PartialEq for Secret {
    fn eq(&self, other: &Secret) -> bool {
        self.text == other.text
    }
}

impl Eq for Secret {}

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Secret { text: s.into(), raw: OnceLock::new(), bearer: OnceLock::new() }
    }

    /// The secret itself; only for putting it into an upstream header.
    pub fn expose(&self) -> &str {
        &self.text
    }

    /// The secret as a sensitive header value (`None` when it cannot be one).
    pub fn header(&self) -> Option<HeaderValue> {
        self.raw.get_or_init(|| sensitive_header(&self.text)).clone()
    }

    /// `Bearer <secret>` as a sensitive header value.
    pub fn bearer_header(&self) -> Option<HeaderValue> {
        self.bearer.get_or_init(|| sensitive_header(&format!("Bearer {}", self.text))).clone()
    }
}

/// `text` as a header value marked sensitive (hyper and `http`'s `Debug` never show it).
pub fn sensitive_header(text: &str) -> Option<HeaderValue> {
    let mut v = HeaderValue::from_str(text).ok()?;
    v.set_sensitive(true);
    Some(v)
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn never_prints() {
        let s = super::Secret::new("sk-live-123");
        assert_eq!(format!("{s:?} {s}"), "*** ***");
        assert!(s.header().unwrap().is_sensitive());
        assert_eq!(s.bearer_header().unwrap(), "Bearer sk-live-123");
        assert_eq!(format!("{:?}", s.bearer_header().unwrap()), "Sensitive");
        assert!(super::Secret::new("bad\nkey").header().is_none());
    }
}

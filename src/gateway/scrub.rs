//! Scrubs error events inside a same-dialect SSE stream that is otherwise forwarded as it came.
//!
//! An upstream can answer 200 and then send an error event (Anthropic `event: error`, OpenAI's
//! `error` chunk, Responses `response.failed`) whose message echoes the credential it received.
//! The byte path must not pass that on, yet it forwards chunks as they arrive. So the stream is
//! forwarded up to the last complete event of each chunk (an event ends at a blank line) and the
//! rest is held until its event completes; once the stream's observer has seen an error event,
//! what goes out is run through the [`Redactor`]. Upstreams send whole events per chunk almost
//! always, so the usual chunk goes out untouched and uncopied.
//!
//! The hold is bounded ([`HOLD_MAX`]): a partial event longer than that (a large content delta)
//! goes out as it is, so that a long line costs no second buffer next to the stream parser's own.
//! An error event that long would go out unscrubbed up to that point: upstream error events are
//! a few hundred bytes.

use std::sync::Arc;

use bytes::{Bytes, BytesMut};

use crate::redact::Redactor;

/// The most bytes of an incomplete event held back.
pub const HOLD_MAX: usize = 64 * 1024;

/// Holds incomplete events back and scrubs what follows an error event.
pub struct EventScrubber {
    redactor: Arc<Redactor>,
    held: BytesMut,
}

impl EventScrubber {
    pub fn new(redactor: Arc<Redactor>) -> Self {
        EventScrubber { redactor, held: BytesMut::new() }
    }

    /// The bytes to forward now out of `bytes` (what the observer returned for a chunk); with
    /// `scrub`, the stream has carried an error event and what goes out is redacted.
    pub fn pass(&mut self, bytes: Bytes, scrub: bool) -> Bytes {
        if self.held.is_empty() && ends_event(&bytes) {
            return self.out(bytes, scrub);
        }
        self.held.extend_from_slice(&bytes);
        let cut = match last_boundary(&self.held) {
            Some(end) => end,
            None if self.held.len() > HOLD_MAX => self.held.len(),
            None => return Bytes::new(),
        };
        let ready = self.held.split_to(cut).freeze();
        self.out(ready, scrub)
    }

    /// The stream ended (or failed): what is still held goes out.
    pub fn finish(&mut self, scrub: bool) -> Bytes {
        let rest = std::mem::take(&mut self.held).freeze();
        self.out(rest, scrub)
    }

    /// Whether bytes are held back (an event not yet complete).
    pub fn holding(&self) -> bool {
        !self.held.is_empty()
    }

    fn out(&self, bytes: Bytes, scrub: bool) -> Bytes {
        if !scrub || bytes.is_empty() {
            return bytes;
        }
        let Ok(text) = std::str::from_utf8(&bytes) else { return bytes };
        match self.redactor.redact(text) {
            std::borrow::Cow::Borrowed(_) => bytes,
            std::borrow::Cow::Owned(s) => Bytes::from(s),
        }
    }
}

/// Whether `b` ends at an event boundary (a blank line: `\n\n` or `\r\n\r\n`).
fn ends_event(b: &[u8]) -> bool {
    b.ends_with(b"\n\n") || b.ends_with(b"\r\n\r\n")
}

/// The end of the last complete event in `b` (just past its blank line), if any.
fn last_boundary(b: &[u8]) -> Option<usize> {
    let mut end = b.len();
    while let Some(p) = memchr::memrchr(b'\n', &b[..end]) {
        let before = &b[..p];
        if before.ends_with(b"\n") || before.ends_with(b"\n\r") {
            return Some(p + 1);
        }
        end = p;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "sk-upstream-secret-0123456789";

    fn scrubber() -> EventScrubber {
        EventScrubber::new(Arc::new(Redactor::new([KEY.to_string()])))
    }

    #[test]
    fn whole_events_go_out_untouched_and_uncopied() {
        let mut s = scrubber();
        let chunk = Bytes::from_static(b"event: ping\ndata: {}\n\n");
        let out = s.pass(chunk.clone(), false);
        assert_eq!(out.as_ptr(), chunk.as_ptr());
        assert!(!s.holding());
    }

    #[test]
    fn a_partial_event_waits_for_its_end() {
        let mut s = scrubber();
        assert_eq!(s.pass(Bytes::from_static(b"data: {\"a\":1}\n\ndata: {\"b\""), false), "data: {\"a\":1}\n\n");
        assert!(s.holding());
        assert_eq!(s.pass(Bytes::from_static(b":2}\r\n\r\n"), false), "data: {\"b\":2}\r\n\r\n");
        assert!(!s.holding());
        assert_eq!(s.pass(Bytes::from_static(b"data: [DONE]"), false), "");
        assert_eq!(s.finish(false), "data: [DONE]");
    }

    #[test]
    fn an_error_event_split_across_chunks_goes_out_scrubbed() {
        let mut s = scrubber();
        let event = format!(
            "event: error\ndata: {{\"type\":\"error\",\"error\":{{\"type\":\"authentication_error\",\"message\":\"bad key {KEY}\"}}}}\n\n"
        );
        let (a, b) = event.split_at(event.find("0123").unwrap_or(10));
        assert_eq!(s.pass(Bytes::from(a.to_string()), false), "");
        let out = s.pass(Bytes::from(b.to_string()), true);
        let out = std::str::from_utf8(&out).unwrap();
        assert!(!out.contains("0123456789") && !out.contains("sk-upstream"), "{out}");
        assert!(out.contains("[redacted]") && out.ends_with("\n\n"), "{out}");
    }

    #[test]
    fn a_long_partial_event_is_not_held_past_the_bound() {
        let mut s = scrubber();
        let big = Bytes::from(vec![b'x'; HOLD_MAX + 1]);
        assert_eq!(s.pass(big, false).len(), HOLD_MAX + 1);
        assert!(!s.holding());
    }

    #[test]
    fn boundaries_are_found_from_the_end() {
        assert_eq!(last_boundary(b"a\n\nb\n\nc"), Some(6));
        assert_eq!(last_boundary(b"a\r\n\r\nb"), Some(5));
        assert_eq!(last_boundary(b"a\nb\nc"), None);
        assert_eq!(last_boundary(b"\n\n"), Some(2));
        assert_eq!(last_boundary(b""), None);
    }
}

//! Server-sent events: an incremental parser that is linear in its input, and a writer.
//!
//! The parser keeps one buffer and remembers how far it has scanned, so a long line that arrives
//! in many small chunks is scanned once (eventsource-stream rescans and is quadratic there).
//! It is bounded: a line or an event's data longer than its limit (`limits.max_stream_event_bytes`,
//! [`DEFAULT_MAX_EVENT`] unless set) is not buffered further; the parser frees what it held,
//! ignores the rest of its input and reports [`SseParser::overflowed`].

use bytes::{BufMut, BytesMut};

/// One event: the `event:` name (if any) and the `data:` lines joined by `\n`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SseEvent {
    pub event: Option<String>,
    pub data: String,
}

/// The default bound on one line or one event's data (the default of
/// `limits.max_stream_event_bytes`).
pub const DEFAULT_MAX_EVENT: usize = 16 * 1024 * 1024;

/// Incremental SSE parser.
#[derive(Debug)]
pub struct SseParser {
    buf: BytesMut,
    /// Bytes of `buf` already scanned for a line end.
    scanned: usize,
    event: Option<String>,
    data: String,
    has_data: bool,
    /// Longest line, and longest event data, buffered.
    max: usize,
    /// A line or event was longer than `max`: input is ignored from then on.
    overflow: bool,
}

impl Default for SseParser {
    fn default() -> Self {
        SseParser {
            buf: BytesMut::new(),
            scanned: 0,
            event: None,
            data: String::new(),
            has_data: false,
            max: DEFAULT_MAX_EVENT,
            overflow: false,
        }
    }
}

impl SseParser {
    pub fn new() -> Self {
        Self::default()
    }

    /// A parser buffering at most `max` bytes of one line or one event's data.
    pub fn with_max(max: usize) -> Self {
        SseParser { max: max.max(1), ..Self::default() }
    }

    /// True once a line or an event's data passed the limit (the stream cannot be read on).
    pub fn overflowed(&self) -> bool {
        self.overflow
    }

    /// Stops reading: frees what is buffered.
    fn overflow(&mut self) {
        self.overflow = true;
        self.buf = BytesMut::new();
        self.scanned = 0;
        self.data = String::new();
        self.event = None;
        self.has_data = false;
    }

    /// Feeds bytes and appends every event they complete to `out`.
    pub fn feed(&mut self, chunk: &[u8], out: &mut Vec<SseEvent>) {
        if self.overflow {
            return;
        }
        self.buf.extend_from_slice(chunk);
        loop {
            let Some(pos) = memchr::memchr(b'\n', &self.buf[self.scanned..]) else {
                self.scanned = self.buf.len();
                if self.buf.len() > self.max {
                    self.overflow();
                }
                return;
            };
            let line = self.buf.split_to(self.scanned + pos + 1);
            self.scanned = 0;
            let mut line = &line[..line.len() - 1];
            if let [rest @ .., b'\r'] = line {
                line = rest;
            }
            self.line(line, out);
            if self.overflow {
                return;
            }
        }
    }

    /// Ends the input: a final event without its blank line is still delivered.
    pub fn finish(&mut self, out: &mut Vec<SseEvent>) {
        if self.overflow {
            return;
        }
        if !self.buf.is_empty() {
            let line = self.buf.split();
            self.scanned = 0;
            let mut line = &line[..];
            if let [rest @ .., b'\r'] = line {
                line = rest;
            }
            self.line(line, out);
        }
        self.dispatch(out);
    }

    fn line(&mut self, line: &[u8], out: &mut Vec<SseEvent>) {
        if line.is_empty() {
            self.dispatch(out);
            return;
        }
        if line[0] == b':' {
            return; // comment
        }
        let (field, value) = match memchr::memchr(b':', line) {
            Some(i) => {
                let v = &line[i + 1..];
                (&line[..i], v.strip_prefix(b" ").unwrap_or(v))
            }
            None => (line, &b""[..]),
        };
        // `from_utf8` checks ASCII a word at a time; `from_utf8_lossy` goes byte by byte.
        let value = match std::str::from_utf8(value) {
            Ok(v) => std::borrow::Cow::Borrowed(v),
            Err(_) => String::from_utf8_lossy(value),
        };
        match field {
            b"event" => self.event = Some(value.into_owned()),
            b"data" => {
                if self.data.len() + value.len() >= self.max {
                    self.overflow();
                    return;
                }
                if self.has_data {
                    self.data.push('\n');
                }
                self.data.push_str(&value);
                self.has_data = true;
            }
            _ => {}
        }
    }

    fn dispatch(&mut self, out: &mut Vec<SseEvent>) {
        if self.has_data {
            out.push(SseEvent { event: self.event.take(), data: std::mem::take(&mut self.data) });
        }
        self.event = None;
        self.has_data = false;
    }
}

/// Writes one event (`event:` line when named, one `data:` line per line of data, blank line).
pub fn write_event(out: &mut BytesMut, event: Option<&str>, data: &str) {
    // One line of data (compact JSON, the common case): one reserve, no line splitting.
    if memchr::memchr(b'\n', data.as_bytes()).is_none() {
        out.reserve(event.map_or(0, |e| e.len() + 8) + data.len() + 8);
        if let Some(name) = event {
            out.extend_from_slice(b"event: ");
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(b"\n");
        }
        out.extend_from_slice(b"data: ");
        out.extend_from_slice(data.as_bytes());
        out.extend_from_slice(b"\n\n");
        return;
    }
    if let Some(name) = event {
        out.put_slice(b"event: ");
        out.put_slice(name.as_bytes());
        out.put_u8(b'\n');
    }
    for line in data.split('\n') {
        out.put_slice(b"data: ");
        out.put_slice(line.as_bytes());
        out.put_u8(b'\n');
    }
    out.put_u8(b'\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_all(chunks: &[&[u8]]) -> Vec<SseEvent> {
        let mut p = SseParser::new();
        let mut out = Vec::new();
        for c in chunks {
            p.feed(c, &mut out);
        }
        p.finish(&mut out);
        out
    }

    #[test]
    fn parses_named_and_unnamed_events() {
        let evs = parse_all(&[b"event: ping\ndata: {}\n\ndata: a\ndata: b\n\n"]);
        assert_eq!(evs.len(), 2);
        assert_eq!(evs[0].event.as_deref(), Some("ping"));
        assert_eq!(evs[1].data, "a\nb");
    }

    #[test]
    fn handles_crlf_comments_and_split_chunks() {
        let evs = parse_all(&[b": keepalive\r\n", b"da", b"ta: x", b"y\r\n\r", b"\n"]);
        assert_eq!(evs, vec![SseEvent { event: None, data: "xy".into() }]);
    }

    #[test]
    fn final_event_without_blank_line() {
        let evs = parse_all(&[b"data: [DONE]"]);
        assert_eq!(evs[0].data, "[DONE]");
    }

    #[test]
    fn long_line_in_tiny_chunks_is_one_event() {
        let body = format!("data: {}\n\n", "x".repeat(100_000));
        let mut p = SseParser::new();
        let mut out = Vec::new();
        for c in body.as_bytes().chunks(7) {
            p.feed(c, &mut out);
        }
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].data.len(), 100_000);
    }

    #[test]
    fn a_line_past_the_limit_is_not_buffered() {
        let mut p = SseParser::with_max(1000);
        let mut out = Vec::new();
        p.feed(b"data: {}\n\n", &mut out);
        assert_eq!(out.len(), 1);
        for _ in 0..100 {
            p.feed(&[b'x'; 64], &mut out);
        }
        assert!(p.overflowed());
        assert_eq!(p.buf.capacity(), 0, "the partial line is freed");
        p.feed(b"\n\ndata: late\n\n", &mut out);
        p.finish(&mut out);
        assert_eq!(out.len(), 1, "nothing is read after the overflow");
    }

    #[test]
    fn an_event_past_the_limit_over_many_lines_overflows() {
        let mut p = SseParser::with_max(1000);
        let mut out = Vec::new();
        for _ in 0..20 {
            p.feed(format!("data: {}\n", "y".repeat(90)).as_bytes(), &mut out);
        }
        assert!(p.overflowed());
        assert!(out.is_empty());
        let mut ok = SseParser::with_max(1000);
        ok.feed(format!("data: {}\n\n", "z".repeat(900)).as_bytes(), &mut out);
        assert!(!ok.overflowed());
        assert_eq!(out.len(), 1);
    }

    #[test]
    fn writer_round_trips() {
        let mut b = BytesMut::new();
        write_event(&mut b, Some("message_stop"), "{\"a\":1}\nsecond");
        assert_eq!(
            parse_all(&[&b]),
            vec![SseEvent { event: Some("message_stop".into()), data: "{\"a\":1}\nsecond".into() }]
        );
        // One line of data, named or not, is written the same way by the one-line path.
        let mut one = BytesMut::new();
        write_event(&mut one, Some("ping"), "{}");
        write_event(&mut one, None, "[DONE]");
        assert_eq!(&one[..], b"event: ping\ndata: {}\n\ndata: [DONE]\n\n");
    }
}

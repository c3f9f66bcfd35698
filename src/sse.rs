//! Server-sent events: an incremental parser that is linear in its input, and a writer.
//!
//! The parser keeps one buffer and remembers how far it has scanned, so a long line that arrives
//! in many small chunks is scanned once (eventsource-stream rescans and is quadratic there).

use bytes::{BufMut, BytesMut};

/// One event: the `event:` name (if any) and the `data:` lines joined by `\n`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SseEvent {
    pub event: Option<String>,
    pub data: String,
}

/// Incremental SSE parser.
#[derive(Debug, Default)]
pub struct SseParser {
    buf: BytesMut,
    /// Bytes of `buf` already scanned for a line end.
    scanned: usize,
    event: Option<String>,
    data: String,
    has_data: bool,
}

impl SseParser {
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds bytes and appends every event they complete to `out`.
    pub fn feed(&mut self, chunk: &[u8], out: &mut Vec<SseEvent>) {
        self.buf.extend_from_slice(chunk);
        loop {
            let Some(pos) = memchr::memchr(b'\n', &self.buf[self.scanned..]) else {
                self.scanned = self.buf.len();
                return;
            };
            let line = self.buf.split_to(self.scanned + pos + 1);
            self.scanned = 0;
            let mut line = &line[..line.len() - 1];
            if let [rest @ .., b'\r'] = line {
                line = rest;
            }
            self.line(line, out);
        }
    }

    /// Ends the input: a final event without its blank line is still delivered.
    pub fn finish(&mut self, out: &mut Vec<SseEvent>) {
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
    fn writer_round_trips() {
        let mut b = BytesMut::new();
        write_event(&mut b, Some("message_stop"), "{\"a\":1}\nsecond");
        assert_eq!(
            parse_all(&[&b]),
            vec![SseEvent { event: Some("message_stop".into()), data: "{\"a\":1}\nsecond".into() }]
        );
    }
}

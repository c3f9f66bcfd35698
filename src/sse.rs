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

/// One event borrowed from the parser's buffers ([`SseParser::feed_with`]) or from an
/// [`SseEvent`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SseRef<'a> {
    pub event: Option<&'a str>,
    pub data: &'a str,
}

impl SseEvent {
    pub fn as_ref(&self) -> SseRef<'_> {
        SseRef { event: self.event.as_deref(), data: &self.data }
    }
}

/// The default bound on one line or one event's data (the default of
/// `limits.max_stream_event_bytes`).
pub const DEFAULT_MAX_EVENT: usize = 16 * 1024 * 1024;

/// Event buffers larger than this are freed after their event instead of kept for the next.
const KEEP_CAPACITY: usize = 64 * 1024;

/// Incremental SSE parser. [`SseParser::feed_with`] hands each event to a callback as borrowed
/// text, reusing its buffers (no allocation per event once warm); [`SseParser::feed`] collects
/// owned [`SseEvent`]s. Lines are read in place from the chunk when no partial line is pending.
#[derive(Debug)]
pub struct SseParser {
    /// A partial line (no newline yet) carried to the next chunk.
    buf: BytesMut,
    event: Pending,
}

/// The event being read.
#[derive(Debug)]
struct Pending {
    name: String,
    has_name: bool,
    data: String,
    has_data: bool,
    max: usize,
    overflow: bool,
}

impl Default for SseParser {
    fn default() -> Self {
        SseParser {
            buf: BytesMut::new(),
            event: Pending {
                name: String::new(),
                has_name: false,
                data: String::new(),
                has_data: false,
                max: DEFAULT_MAX_EVENT,
                overflow: false,
            },
        }
    }
}

impl SseParser {
    pub fn new() -> Self {
        Self::default()
    }

    /// A parser whose lines and events may not exceed `max` bytes.
    pub fn with_max(max: usize) -> Self {
        let mut p = Self::default();
        p.event.max = max.max(1);
        p
    }

    /// A line or an event passed the bound: the parser holds nothing and reads no more.
    pub fn overflowed(&self) -> bool {
        self.event.overflow
    }

    fn overflow(&mut self) {
        self.event.overflow = true;
        self.buf = BytesMut::new();
        self.event.name = String::new();
        self.event.data = String::new();
        self.event.has_name = false;
        self.event.has_data = false;
    }

    /// Feeds a chunk; complete events are appended to `out`.
    pub fn feed(&mut self, chunk: &[u8], out: &mut Vec<SseEvent>) {
        self.feed_with(chunk, &mut collect(out));
    }

    /// Feeds a chunk; each complete event goes to `on` as (`event:` name, `data:` lines joined).
    pub fn feed_with(&mut self, chunk: &[u8], on: &mut dyn FnMut(Option<&str>, &str)) {
        if self.event.overflow {
            return;
        }
        if self.buf.is_empty() {
            // Nothing pending: lines are read from the chunk itself, only its tail is kept.
            let used = self.event.lines(chunk, 0, on);
            if !self.event.overflow {
                self.buf.extend_from_slice(&chunk[used..]);
            }
        } else {
            // Only the new bytes can hold the pending line's newline: scan from there.
            let from = self.buf.len();
            self.buf.extend_from_slice(chunk);
            let used = self.event.lines(&self.buf, from, on);
            let _ = self.buf.split_to(used);
        }
        if self.event.overflow || self.buf.len() > self.event.max {
            self.overflow();
        }
    }

    /// Ends the input: a last line without a newline and a last event without a blank line
    /// still count.
    pub fn finish(&mut self, out: &mut Vec<SseEvent>) {
        self.finish_with(&mut collect(out));
    }

    /// [`Self::finish`], each event to `on`.
    pub fn finish_with(&mut self, on: &mut dyn FnMut(Option<&str>, &str)) {
        if self.event.overflow {
            return;
        }
        let last = self.buf.split();
        let mut direct = None;
        if !last.is_empty() {
            let mut line = &last[..];
            if let [rest @ .., b'\r'] = line {
                line = rest;
            }
            self.event.line(line, &mut direct, on);
        }
        self.event.dispatch(direct, on);
    }
}

/// A callback that keeps each event as an owned [`SseEvent`] in `out`.
fn collect(out: &mut Vec<SseEvent>) -> impl FnMut(Option<&str>, &str) + '_ {
    |name, data| out.push(SseEvent { event: name.map(str::to_owned), data: data.to_owned() })
}

impl Pending {
    /// Reads the complete lines of `bytes` (a newline searched from `from` for the first);
    /// returns how many bytes they took.
    fn lines(&mut self, bytes: &[u8], from: usize, on: &mut dyn FnMut(Option<&str>, &str)) -> usize {
        // An event's one data line, borrowed from `bytes` until the event ends (most events have
        // one line: it is not copied); kept in `data` if the event goes on past `bytes`.
        let mut direct = None;
        let used = self.lines_with(bytes, from, &mut direct, on);
        if let Some(d) = direct.filter(|_| !self.overflow) {
            self.data.push_str(d);
        }
        used
    }

    fn lines_with<'b>(
        &mut self,
        bytes: &'b [u8],
        from: usize,
        direct: &mut Option<&'b str>,
        on: &mut dyn FnMut(Option<&str>, &str),
    ) -> usize {
        let (mut start, mut search) = (0, from);
        while let Some(end) = crate::bytescan::find_byte(bytes, search, b'\n') {
            let mut line = &bytes[start..end];
            if let [rest @ .., b'\r'] = line {
                line = rest;
            }
            self.line(line, direct, on);
            if self.overflow {
                return end + 1;
            }
            start = end + 1;
            search = start;
        }
        start
    }

    /// One line; `direct` holds the event's data while it is one line borrowed from the input.
    fn line<'b>(&mut self, line: &'b [u8], direct: &mut Option<&'b str>, on: &mut dyn FnMut(Option<&str>, &str)) {
        if line.is_empty() {
            self.dispatch(direct.take(), on);
            return;
        }
        if line[0] == b':' {
            return; // comment
        }
        // The field is what comes before the first colon: `data` and `event` are matched as
        // prefixes first (nearly every line), the rest searched.
        let colon = match line {
            [b'd', b'a', b't', b'a', b':', ..] => Some(4),
            [b'e', b'v', b'e', b'n', b't', b':', ..] => Some(5),
            _ => memchr::memchr(b':', line),
        };
        let (field, value) = match colon {
            Some(i) => {
                let v = &line[i + 1..];
                (&line[..i], v.strip_prefix(b" ").unwrap_or(v))
            }
            None => (line, &b""[..]),
        };
        let value = match crate::bytescan::text(value) {
            Ok(v) => std::borrow::Cow::Borrowed(v),
            Err(_) => String::from_utf8_lossy(value),
        };
        match field {
            b"event" => {
                self.name.clear();
                self.name.push_str(&value);
                self.has_name = true;
            }
            b"data" => {
                let held = self.data.len() + direct.map_or(0, str::len);
                if held + value.len() >= self.max {
                    self.overflow = true;
                    return;
                }
                match value {
                    std::borrow::Cow::Borrowed(v) if !self.has_data => *direct = Some(v),
                    _ => {
                        if let Some(d) = direct.take() {
                            self.data.push_str(d);
                        }
                        if self.has_data {
                            self.data.push('\n');
                        }
                        self.data.push_str(&value);
                    }
                }
                self.has_data = true;
            }
            _ => {}
        }
    }

    fn dispatch(&mut self, direct: Option<&str>, on: &mut dyn FnMut(Option<&str>, &str)) {
        if self.has_data {
            on(self.has_name.then_some(self.name.as_str()), direct.unwrap_or(&self.data));
        }
        self.name.clear();
        self.data.clear();
        // The buffers are kept for the next event, unless one large event grew them.
        if self.data.capacity() > KEEP_CAPACITY {
            self.data = String::new();
        }
        if self.name.capacity() > KEEP_CAPACITY {
            self.name = String::new();
        }
        self.has_name = false;
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

/// Writes one event whose data is `v` as compact JSON ([`crate::jsonwrite`]), straight into
/// `out`: compact JSON has no line break, so it is the one-line case of [`write_event`] without
/// the text in between. On an error nothing is written.
pub fn write_json_event<T: serde::Serialize + ?Sized>(
    out: &mut BytesMut,
    event: Option<&str>,
    v: &T,
) -> Result<(), crate::jsonwrite::Error> {
    let mark = out.len();
    if let Some(name) = event {
        out.put_slice(b"event: ");
        out.put_slice(name.as_bytes());
        out.put_u8(b'\n');
    }
    out.put_slice(b"data: ");
    match crate::jsonwrite::write(out, v) {
        Ok(()) => {
            out.put_slice(b"\n\n");
            Ok(())
        }
        Err(e) => {
            out.truncate(mark);
            Err(e)
        }
    }
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

    /// Data lines join the same whether the event's first line is borrowed from the input or
    /// copied (a second line, an invalid byte replaced).
    #[test]
    fn data_lines_join_whether_borrowed_or_copied() {
        let got = parse_all(&[b"data: a\xffb\ndata: c\n\ndata: d\ndata: \xfe\n\nevent: e\ndata: f\n\ndata: g\n"]);
        let data: Vec<&str> = got.iter().map(|e| e.data.as_str()).collect();
        assert_eq!(data, ["a\u{fffd}b\nc", "d\n\u{fffd}", "f", "g"]);
        assert_eq!(got[2].event.as_deref(), Some("e"));
    }

    /// Any split of a stream into chunks gives the same events as one chunk, whether a line is
    /// read in place from its chunk or from the carried partial line.
    #[test]
    fn every_chunking_gives_the_same_events() {
        for stream in [
            &include_bytes!("../benches/fixtures/anthropic.sse")[..],
            &include_bytes!("../benches/fixtures/openai.sse")[..],
            b"event: a\r\ndata: x\r\ndata: y\r\n\r\n: c\n\ndata: z",
            b"data: a\xffb\ndata: c\n\ndata: d\ndata: \xfe\n\nevent: e\ndata: f\n\ndata: g\n",
        ] {
            let whole = parse_all(&[stream]);
            assert!(!whole.is_empty());
            let mut rng = fastrand::Rng::with_seed(7);
            for _ in 0..200 {
                let mut chunks = Vec::new();
                let mut rest = stream;
                while !rest.is_empty() {
                    let n = rng.usize(1..=rest.len().min(300));
                    chunks.push(&rest[..n]);
                    rest = &rest[n..];
                }
                assert_eq!(parse_all(&chunks), whole);
            }
        }
    }

    /// Events are handed out borrowed; a large one's buffer is not kept for the next.
    #[test]
    fn a_large_event_buffer_is_freed_after_it() {
        let mut p = SseParser::new();
        let mut sizes = Vec::new();
        let big = format!("data: {}\n\ndata: small\n\n", "b".repeat(200_000));
        p.feed_with(big.as_bytes(), &mut |_, d| sizes.push(d.len()));
        assert_eq!(sizes, [200_000, 5]);
        assert!(p.event.data.capacity() <= KEEP_CAPACITY);
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

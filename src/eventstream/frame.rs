//! A decoded frame read in place: its headers are walked in the frame's own bytes and its payload
//! is a slice of them, so a stream reader that only asks for a header or two allocates nothing
//! per frame. [`Frame::into_message`] gives the owned [`Message`] when one is wanted.
//!
//! The headers are checked once, when the decoder makes the frame; that walk also notes where the
//! headers that say what the frame is (its [`Kind`]) are, so that [`Frame::kind`] does not walk
//! them again. The other accessors walk them again, and can then no longer fail. The frames of a
//! stream mostly carry the same header bytes (every Bedrock `chunk` does), so the decoder keeps
//! the last header block it checked ([`LastHeaders`]) and a frame whose headers are the same
//! bytes takes that result instead of a new walk.

use bytes::Bytes;

use super::{FrameError, Header, HeaderValue, Kind, Message};

/// Prelude length: total length, headers length, prelude CRC.
pub(super) const PRELUDE: usize = 12;

/// One event-stream message whose CRCs and headers checked out, borrowed from its frame bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// The whole frame, prelude to message CRC.
    bytes: Bytes,
    /// Where the headers end and the payload starts.
    headers_end: usize,
    /// Where the value of the header naming the frame's kind is, if it has one.
    kind: RawKind,
}

/// A [`Kind`] as byte ranges of a frame's headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RawKind {
    Event(Option<(usize, usize)>),
    Exception(Option<(usize, usize)>),
    Error(Option<(usize, usize)>),
}

/// A header value borrowed from its frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueRef<'a> {
    Bool(bool),
    Byte(i8),
    Int16(i16),
    Int32(i32),
    Int64(i64),
    Bytes(&'a [u8]),
    String(&'a str),
    /// Milliseconds since the Unix epoch.
    Timestamp(i64),
    Uuid([u8; 16]),
}

/// The last header block a decoder checked, and what the check found.
#[derive(Debug, Default)]
pub(super) struct LastHeaders {
    bytes: Vec<u8>,
    kind: Option<RawKind>,
}

impl LastHeaders {
    /// Longer header blocks are not kept (nor expected: AWS's are under 100 bytes).
    const MAX: usize = 512;
}

impl Frame {
    /// A frame of `bytes` (whole, CRCs checked) with `headers_len` bytes of headers; fails on
    /// headers that do not parse. `last` holds the last headers checked (what a check gives
    /// depends on the header bytes only, and their offsets in a frame are always the same).
    pub(super) fn new(bytes: Bytes, headers_len: usize, last: &mut LastHeaders) -> Result<Frame, FrameError> {
        let headers_end = PRELUDE + headers_len;
        let headers = &bytes[PRELUDE..headers_end];
        let kind = match last.kind {
            Some(kind) if last.bytes == headers => kind,
            _ => {
                let kind = check_headers(&bytes, PRELUDE, headers_end)?;
                if headers.len() <= LastHeaders::MAX {
                    last.bytes.clear();
                    last.bytes.extend_from_slice(headers);
                    last.kind = Some(kind);
                }
                kind
            }
        };
        Ok(Frame { bytes, headers_end, kind })
    }

    /// The headers in wire order.
    pub fn headers(&self) -> Headers<'_> {
        Headers { rest: &self.bytes[PRELUDE..self.headers_end] }
    }

    /// The value of the first header of this name.
    pub fn header(&self, name: &str) -> Option<ValueRef<'_>> {
        self.headers().find(|(n, _)| *n == name).map(|(_, v)| v)
    }

    /// A string header's value.
    pub fn str_header(&self, name: &str) -> Option<&str> {
        match self.header(name)? {
            ValueRef::String(s) => Some(s),
            _ => None,
        }
    }

    /// True when the frame is an event of this `:event-type` (see [`Frame::kind`]); compares
    /// bytes, which is cheaper than getting the type as text.
    pub fn is_event(&self, event_type: &str) -> bool {
        match self.kind {
            RawKind::Event(Some((start, end))) => &self.bytes[start..end] == event_type.as_bytes(),
            RawKind::Event(None) => event_type.is_empty(),
            _ => false,
        }
    }

    /// What the frame is (see [`Message::kind`]), from where its headers were seen to say it.
    pub fn kind(&self) -> Kind<'_> {
        // Checked as UTF-8 when the frame was made.
        let text = |at: Option<(usize, usize)>| {
            at.and_then(|(start, end)| std::str::from_utf8(&self.bytes[start..end]).ok()).unwrap_or("")
        };
        match self.kind {
            RawKind::Event(at) => Kind::Event(text(at)),
            RawKind::Exception(at) => Kind::Exception(text(at)),
            RawKind::Error(at) => Kind::Error(text(at)),
        }
    }

    /// The payload bytes.
    pub fn payload(&self) -> &[u8] {
        &self.bytes[self.headers_end..self.bytes.len() - 4]
    }

    /// The owned message (the payload and byte-array values still share the frame's buffer).
    pub fn into_message(self) -> Message {
        let headers = self
            .headers()
            .map(|(name, v)| Header {
                name: name.to_string(),
                value: match v {
                    ValueRef::Bool(b) => HeaderValue::Bool(b),
                    ValueRef::Byte(b) => HeaderValue::Byte(b),
                    ValueRef::Int16(i) => HeaderValue::Int16(i),
                    ValueRef::Int32(i) => HeaderValue::Int32(i),
                    ValueRef::Int64(i) => HeaderValue::Int64(i),
                    ValueRef::Bytes(b) => HeaderValue::Bytes(self.bytes.slice_ref(b)),
                    ValueRef::String(s) => HeaderValue::String(s.to_string()),
                    ValueRef::Timestamp(t) => HeaderValue::Timestamp(t),
                    ValueRef::Uuid(u) => HeaderValue::Uuid(u),
                },
            })
            .collect();
        let payload = self.bytes.slice(self.headers_end..self.bytes.len() - 4);
        Message { headers, payload }
    }
}

/// A message's kind from its headers (name, and the value when it is a string): `:message-type`,
/// then the header naming the event, exception or error code, the first header of each name
/// counting; `event` when there is no `:message-type`, as the SDKs read it.
pub(super) fn kind_of<'a>(headers: impl Iterator<Item = (&'a str, Option<&'a str>)>) -> Kind<'a> {
    let (mut message_type, mut event, mut exception, mut error) = (None, None, None, None);
    for (name, value) in headers {
        let slot = match name {
            ":message-type" => &mut message_type,
            ":event-type" => &mut event,
            ":exception-type" => &mut exception,
            ":error-code" => &mut error,
            _ => continue,
        };
        slot.get_or_insert(value);
    }
    let value = |slot: Option<Option<&'a str>>| slot.flatten().unwrap_or("");
    match message_type.flatten() {
        Some("exception") => Kind::Exception(value(exception)),
        Some("error") => Kind::Error(value(error)),
        _ => Kind::Event(value(event)),
    }
}

/// The headers of a [`Frame`], checked when it was made.
pub struct Headers<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for Headers<'a> {
    type Item = (&'a str, ValueRef<'a>);

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        // Checked when the frame was made: an error here cannot happen, and would end the walk.
        let raw = read_header(self.rest, 0, false).ok()?;
        self.rest = &self.rest[raw.len..];
        Some(raw.typed())
    }
}

/// Checks the headers in `frame[start..end]`, end to end, in one walk; returns where the headers
/// saying the frame's kind are (the first header of each name counting, whatever its type).
fn check_headers(frame: &[u8], start: usize, end: usize) -> Result<RawKind, FrameError> {
    let headers = &frame[..end];
    // ASCII headers (all AWS sends) need no UTF-8 check of each name and value: one check of
    // the whole block costs less than the validator's setup for each.
    let ascii = headers[start..].is_ascii();
    // Each slot: the first header of its name was seen, and where its value is if a string.
    let mut slots: [Option<Option<(usize, usize)>>; 4] = [None; 4];
    let mut at = start;
    while at < end {
        let raw = read_header(headers, at, ascii)?;
        let slot = match raw.name {
            b":message-type" => Some(0),
            b":event-type" => Some(1),
            b":exception-type" => Some(2),
            b":error-code" => Some(3),
            _ => None,
        };
        if let Some(slot) = slot
            && slots[slot].is_none()
        {
            // A string value is the header's last bytes.
            let value_end = at + raw.len;
            slots[slot] = Some((raw.kind == STRING).then(|| (value_end - raw.value.len(), value_end)));
        }
        at += raw.len;
    }
    let message_type = slots[0].flatten().map(|(s, e)| &frame[s..e]);
    Ok(match message_type {
        Some(b"exception") => RawKind::Exception(slots[2].flatten()),
        Some(b"error") => RawKind::Error(slots[3].flatten()),
        _ => RawKind::Event(slots[1].flatten()),
    })
}

/// Value type of a string header.
const STRING: u8 = 7;

/// One header as bytes, its lengths and UTF-8 checked.
struct RawHeader<'a> {
    name: &'a [u8],
    kind: u8,
    /// The value's bytes (for strings and byte arrays, without their length).
    value: &'a [u8],
    /// The header's length on the wire.
    len: usize,
}

impl<'a> RawHeader<'a> {
    /// The header with its name as text and its value typed.
    fn typed(&self) -> (&'a str, ValueRef<'a>) {
        // Both were checked as UTF-8 by `read_header`.
        let text = |b: &'a [u8]| std::str::from_utf8(b).unwrap_or_default();
        let v = self.value;
        let int = || v.iter().fold(0u64, |acc, &x| acc << 8 | u64::from(x));
        let value = match self.kind {
            0 => ValueRef::Bool(true),
            1 => ValueRef::Bool(false),
            2 => ValueRef::Byte(int() as u8 as i8),
            3 => ValueRef::Int16(int() as u16 as i16),
            4 => ValueRef::Int32(int() as u32 as i32),
            5 => ValueRef::Int64(int() as i64),
            6 => ValueRef::Bytes(v),
            8 => ValueRef::Timestamp(int() as i64),
            9 => {
                let mut u = [0u8; 16];
                u.copy_from_slice(v);
                ValueRef::Uuid(u)
            }
            _ => ValueRef::String(text(v)),
        };
        (text(self.name), value)
    }
}

fn bad(what: impl Into<String>) -> FrameError {
    FrameError::Header(what.into())
}

/// Reads the header starting at `b[at]` (`at < b.len()`), checking it (its name and a string
/// value as UTF-8 unless `ascii`: all of `b` is known to be ASCII). Written with plain indexing,
/// as one function: it runs for every header of every frame.
fn read_header(b: &[u8], at: usize, ascii: bool) -> Result<RawHeader<'_>, FrameError> {
    let is_utf8 = |s: &[u8]| ascii || std::str::from_utf8(s).is_ok();
    let name_len = b[at] as usize;
    let name_start = at + 1;
    let kind_at = name_start + name_len;
    if name_len == 0 || kind_at >= b.len() {
        return Err(bad(format!("name length {name_len} does not fit the headers")));
    }
    let name = &b[name_start..kind_at];
    if !is_utf8(name) {
        return Err(bad("name is not UTF-8"));
    }
    let kind = b[kind_at];
    let v = kind_at + 1;
    let fixed = match kind {
        0 | 1 => 0,
        2 => 1,
        3 | 6 | STRING => 2,
        4 => 4,
        5 | 8 => 8,
        9 => 16,
        other => return Err(bad(format!("unknown value type {other} of {}", String::from_utf8_lossy(name)))),
    };
    let cut = || bad(format!("value of {} is cut off", String::from_utf8_lossy(name)));
    if b.len() - v < fixed {
        return Err(cut());
    }
    let (value, end) = if kind == 6 || kind == STRING {
        let start = v + 2;
        let end = start + ((b[v] as usize) << 8 | b[v + 1] as usize);
        if end > b.len() {
            return Err(cut());
        }
        let value = &b[start..end];
        if kind == STRING && !is_utf8(value) {
            return Err(bad(format!("value of {} is not UTF-8", String::from_utf8_lossy(name))));
        }
        (value, end)
    } else {
        (&b[v..v + fixed], v + fixed)
    };
    Ok(RawHeader { name, kind, value, len: end - at })
}

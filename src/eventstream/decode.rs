//! Incremental, bounded decoding of an event stream: bytes in arbitrary pieces -> messages.
//!
//! The decoder keeps one buffer. Once a frame's 12-byte prelude is there it checks the prelude CRC
//! and the announced length (refusing a frame over the limit before buffering it), then waits for
//! the whole frame and splits it off without copying the payload. After an error it refuses
//! everything: a corrupt length means no later frame boundary can be trusted.

use bytes::{Buf, Bytes, BytesMut};

use super::{FrameError, Header, HeaderValue, Message, OVERHEAD};

const PRELUDE: usize = 12;

/// Incremental event-stream decoder.
#[derive(Debug)]
pub struct Decoder {
    buf: BytesMut,
    max: usize,
    /// The length of the frame at the head of `buf`, once its prelude checked out.
    pending: Option<usize>,
    failed: Option<FrameError>,
}

impl Default for Decoder {
    fn default() -> Self {
        Decoder::new(super::DEFAULT_MAX_FRAME)
    }
}

impl Decoder {
    /// A decoder refusing frames longer than `max_frame` bytes.
    pub fn new(max_frame: usize) -> Decoder {
        Decoder { buf: BytesMut::new(), max: max_frame.max(OVERHEAD), pending: None, failed: None }
    }

    /// Feeds bytes; appends every message they complete to `out`. The first error ends the
    /// stream: it is returned now and on every later call.
    pub fn feed(&mut self, chunk: &[u8], out: &mut Vec<Message>) -> Result<(), FrameError> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        self.buf.extend_from_slice(chunk);
        loop {
            match self.next() {
                Ok(Some(m)) => out.push(m),
                Ok(None) => return Ok(()),
                Err(e) => {
                    self.failed = Some(e.clone());
                    self.buf.clear();
                    return Err(e);
                }
            }
        }
    }

    /// Ends the input: bytes of an unfinished frame are a [`FrameError::Truncated`].
    pub fn finish(&mut self) -> Result<(), FrameError> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        if self.buf.is_empty() { Ok(()) } else { Err(FrameError::Truncated(self.buf.len())) }
    }

    /// True when no partial frame is buffered.
    pub fn is_idle(&self) -> bool {
        self.buf.is_empty()
    }

    fn next(&mut self) -> Result<Option<Message>, FrameError> {
        let total = match self.pending {
            Some(t) => t,
            None => {
                if self.buf.len() < PRELUDE {
                    return Ok(None);
                }
                let t = check_prelude(&self.buf[..PRELUDE], self.max)?;
                self.pending = Some(t);
                t
            }
        };
        if self.buf.len() < total {
            return Ok(None);
        }
        self.pending = None;
        let frame = self.buf.split_to(total).freeze();
        parse_frame(frame).map(Some)
    }
}

/// Checks a prelude; returns the frame's total length.
fn check_prelude(p: &[u8], max: usize) -> Result<usize, FrameError> {
    let total = u32::from_be_bytes([p[0], p[1], p[2], p[3]]) as usize;
    let headers = u32::from_be_bytes([p[4], p[5], p[6], p[7]]) as usize;
    let stated = u32::from_be_bytes([p[8], p[9], p[10], p[11]]);
    let computed = crc32fast::hash(&p[..8]);
    if computed != stated {
        return Err(FrameError::PreludeCrc { computed, stated });
    }
    if total < OVERHEAD {
        return Err(FrameError::TooShort(total));
    }
    if total > max {
        return Err(FrameError::TooLarge { len: total, max });
    }
    if headers > total - OVERHEAD {
        return Err(FrameError::HeadersLength { headers, total });
    }
    Ok(total)
}

/// Parses one whole frame whose prelude was checked.
fn parse_frame(frame: Bytes) -> Result<Message, FrameError> {
    let total = frame.len();
    let stated = u32::from_be_bytes([frame[total - 4], frame[total - 3], frame[total - 2], frame[total - 1]]);
    let computed = crc32fast::hash(&frame[..total - 4]);
    if computed != stated {
        return Err(FrameError::MessageCrc { computed, stated });
    }
    let headers_len = u32::from_be_bytes([frame[4], frame[5], frame[6], frame[7]]) as usize;
    let headers = parse_headers(frame.slice(PRELUDE..PRELUDE + headers_len))?;
    let payload = frame.slice(PRELUDE + headers_len..total - 4);
    Ok(Message { headers, payload })
}

fn bad(what: impl Into<String>) -> FrameError {
    FrameError::Header(what.into())
}

fn parse_headers(mut b: Bytes) -> Result<Vec<Header>, FrameError> {
    let mut out = Vec::new();
    while b.has_remaining() {
        let name_len = b.get_u8() as usize;
        if name_len == 0 || b.remaining() < name_len + 1 {
            return Err(bad(format!("name length {name_len} does not fit the headers")));
        }
        let name = String::from_utf8(b.split_to(name_len).to_vec()).map_err(|_| bad("name is not UTF-8"))?;
        let kind = b.get_u8();
        let need = |b: &Bytes, n: usize| {
            if b.remaining() < n { Err(bad(format!("value of {name} is cut off"))) } else { Ok(()) }
        };
        let value = match kind {
            0 => HeaderValue::Bool(true),
            1 => HeaderValue::Bool(false),
            2 => {
                need(&b, 1)?;
                HeaderValue::Byte(b.get_i8())
            }
            3 => {
                need(&b, 2)?;
                HeaderValue::Int16(b.get_i16())
            }
            4 => {
                need(&b, 4)?;
                HeaderValue::Int32(b.get_i32())
            }
            5 => {
                need(&b, 8)?;
                HeaderValue::Int64(b.get_i64())
            }
            6 | 7 => {
                need(&b, 2)?;
                let len = b.get_u16() as usize;
                need(&b, len)?;
                let v = b.split_to(len);
                if kind == 6 {
                    HeaderValue::Bytes(v)
                } else {
                    HeaderValue::String(
                        String::from_utf8(v.to_vec()).map_err(|_| bad(format!("value of {name} is not UTF-8")))?,
                    )
                }
            }
            8 => {
                need(&b, 8)?;
                HeaderValue::Timestamp(b.get_i64())
            }
            9 => {
                need(&b, 16)?;
                let mut u = [0u8; 16];
                b.copy_to_slice(&mut u);
                HeaderValue::Uuid(u)
            }
            other => return Err(bad(format!("unknown value type {other} of {name}"))),
        };
        out.push(Header { name, value });
    }
    Ok(out)
}

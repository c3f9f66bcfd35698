//! Incremental, bounded decoding of an event stream: bytes in arbitrary pieces -> messages.
//!
//! The decoder keeps one buffer. Once a frame's 12-byte prelude is there it checks the prelude CRC
//! and the announced length (refusing a frame over the limit before buffering it), then waits for
//! the whole frame and splits it off without copying it. After an error it refuses everything: a
//! corrupt length means no later frame boundary can be trusted.

use bytes::{Bytes, BytesMut};

use super::frame::{LastHeaders, PRELUDE};
use super::{Frame, FrameError, Message, OVERHEAD};

/// Incremental event-stream decoder.
#[derive(Debug)]
pub struct Decoder {
    buf: BytesMut,
    max: usize,
    /// The length of the frame at the head of `buf`, once its prelude checked out.
    pending: Option<usize>,
    failed: Option<FrameError>,
    /// The last header block checked (most frames of a stream repeat it).
    last_headers: LastHeaders,
}

impl Default for Decoder {
    fn default() -> Self {
        Decoder::new(super::DEFAULT_MAX_FRAME)
    }
}

impl Decoder {
    /// A decoder refusing frames longer than `max_frame` bytes.
    pub fn new(max_frame: usize) -> Decoder {
        Decoder {
            buf: BytesMut::new(),
            max: max_frame.max(OVERHEAD),
            pending: None,
            failed: None,
            last_headers: LastHeaders::default(),
        }
    }

    /// Feeds bytes; appends every message they complete to `out`. The first error ends the
    /// stream: it is returned now and on every later call.
    pub fn feed(&mut self, chunk: &[u8], out: &mut Vec<Message>) -> Result<(), FrameError> {
        self.run(chunk, |f| out.push(f.into_message()))
    }

    /// As [`Decoder::feed`], handing each frame, read in place, to `each` as it is completed
    /// (nothing allocated or collected per frame).
    pub fn feed_frames(&mut self, chunk: &[u8], each: impl FnMut(Frame)) -> Result<(), FrameError> {
        self.run(chunk, each)
    }

    fn run(&mut self, chunk: &[u8], mut push: impl FnMut(Frame)) -> Result<(), FrameError> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        self.buf.extend_from_slice(chunk);
        loop {
            match self.next() {
                Ok(Some(f)) => push(f),
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

    fn next(&mut self) -> Result<Option<Frame>, FrameError> {
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
        parse_frame(frame, &mut self.last_headers).map(Some)
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

/// Checks one whole frame whose prelude was checked.
fn parse_frame(frame: Bytes, last_headers: &mut LastHeaders) -> Result<Frame, FrameError> {
    let total = frame.len();
    let stated = u32::from_be_bytes([frame[total - 4], frame[total - 3], frame[total - 2], frame[total - 1]]);
    let computed = crc32fast::hash(&frame[..total - 4]);
    if computed != stated {
        return Err(FrameError::MessageCrc { computed, stated });
    }
    let headers_len = u32::from_be_bytes([frame[4], frame[5], frame[6], frame[7]]) as usize;
    Frame::new(frame, headers_len, last_headers)
}

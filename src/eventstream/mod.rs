//! AWS event-stream framing (`application/vnd.amazon.eventstream`), the binary framing of Bedrock's
//! streaming answers (ConverseStream, InvokeModelWithResponseStream). Pure: no I/O.
//!
//! One message on the wire:
//!
//! ```text
//! total length u32 BE | headers length u32 BE | prelude CRC32 u32 BE (of the 8 bytes before)
//! headers: name length u8, name (UTF-8), value type u8, value
//! payload (total - headers - 16 bytes)
//! message CRC32 u32 BE (of everything before it)
//! ```
//!
//! Header value types: 0 true, 1 false, 2 byte, 3 int16, 4 int32, 5 int64, 6 byte array (u16
//! length), 7 string (u16 length), 8 timestamp (int64 ms), 9 UUID (16 bytes). Integers are
//! big-endian, CRCs are CRC-32 (IEEE, the zlib one).
//!
//! [`Decoder`] is incremental (fed arbitrary chunks, linear in its input) and bounded: a frame
//! whose prelude announces more than its limit is refused from its first 12 bytes, before anything
//! more is buffered. It gives owned [`Message`]s, or [`Frame`]s that read their headers in place
//! (what a hot stream path wants: no allocation per frame). [`encode`] writes one message. Both are checked against the AWS SDK for Rust
//! (`aws-smithy-eventstream`, a dev-dependency) in the tests and against botocore in the interop
//! suite. Written here rather than taken from `aws-smithy-eventstream` because that crate brings
//! `aws-smithy-types` (dates, big numbers, its own byte-stream types) for a 300-line format, has
//! no configurable size bound, and its message type would leak into every dialect codec.

mod decode;
mod encode;
mod frame;
#[cfg(test)]
mod tests;

use bytes::Bytes;

pub use decode::Decoder;
pub use encode::{encode, to_bytes};
pub use frame::{Frame, Headers, ValueRef};

/// The HTTP content type of an event stream.
pub const CONTENT_TYPE: &str = "application/vnd.amazon.eventstream";

/// Largest frame the decoder accepts by default (the AWS limit for one message is 16 MiB).
pub const DEFAULT_MAX_FRAME: usize = 16 * 1024 * 1024;

/// Prelude (12 bytes) plus the message CRC (4 bytes): the smallest frame.
pub const OVERHEAD: usize = 16;

/// A header value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeaderValue {
    Bool(bool),
    Byte(i8),
    Int16(i16),
    Int32(i32),
    Int64(i64),
    Bytes(Bytes),
    String(String),
    /// Milliseconds since the Unix epoch.
    Timestamp(i64),
    Uuid([u8; 16]),
}

/// One header: a name (1 to 255 bytes of UTF-8) and a typed value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub name: String,
    pub value: HeaderValue,
}

/// One event-stream message.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Message {
    pub headers: Vec<Header>,
    pub payload: Bytes,
}

impl Message {
    /// A message with string headers.
    pub fn new(headers: &[(&str, &str)], payload: impl Into<Bytes>) -> Message {
        let headers = headers
            .iter()
            .map(|(n, v)| Header { name: (*n).to_string(), value: HeaderValue::String((*v).to_string()) })
            .collect();
        Message { headers, payload: payload.into() }
    }

    /// An event as AWS services send them: `:event-type`, `:content-type` JSON, `:message-type`
    /// `event`.
    pub fn event(event_type: &str, payload: impl Into<Bytes>) -> Message {
        Message::new(
            &[(":event-type", event_type), (":content-type", "application/json"), (":message-type", "event")],
            payload,
        )
    }

    /// An exception (a modelled error in the stream): `:exception-type`, `:message-type`
    /// `exception`.
    pub fn exception(exception_type: &str, payload: impl Into<Bytes>) -> Message {
        Message::new(
            &[
                (":exception-type", exception_type),
                (":content-type", "application/json"),
                (":message-type", "exception"),
            ],
            payload,
        )
    }

    /// The value of the first header of this name.
    pub fn header(&self, name: &str) -> Option<&HeaderValue> {
        self.headers.iter().find(|h| h.name == name).map(|h| &h.value)
    }

    /// A string header's value.
    pub fn str_header(&self, name: &str) -> Option<&str> {
        match self.header(name)? {
            HeaderValue::String(s) => Some(s),
            _ => None,
        }
    }

    /// What the message is, from its `:message-type` header (`event` when absent, as the SDKs
    /// read it).
    pub fn kind(&self) -> Kind<'_> {
        frame::kind_of(self.headers.iter().map(|h| match &h.value {
            HeaderValue::String(s) => (h.name.as_str(), Some(s.as_str())),
            _ => (h.name.as_str(), None),
        }))
    }
}

/// A message's role in a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind<'a> {
    /// An event of this `:event-type`.
    Event(&'a str),
    /// A modelled exception of this `:exception-type`.
    Exception(&'a str),
    /// An unmodelled error with this `:error-code` (`:error-message` holds the text).
    Error(&'a str),
}

/// Why bytes are not a valid event stream.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    #[error("event-stream frame of {len} bytes exceeds the limit of {max} bytes")]
    TooLarge { len: usize, max: usize },
    #[error("event-stream frame length {0} is smaller than the 16-byte minimum")]
    TooShort(usize),
    #[error("event-stream prelude CRC mismatch (computed {computed:#010x}, frame says {stated:#010x})")]
    PreludeCrc { computed: u32, stated: u32 },
    #[error("event-stream message CRC mismatch (computed {computed:#010x}, frame says {stated:#010x})")]
    MessageCrc { computed: u32, stated: u32 },
    #[error("event-stream headers length {headers} does not fit a frame of {total} bytes")]
    HeadersLength { headers: usize, total: usize },
    #[error("invalid event-stream header: {0}")]
    Header(String),
    #[error("event stream ended inside a frame ({0} bytes of it received)")]
    Truncated(usize),
}

impl FrameError {
    /// Low-cardinality label for logs and metrics.
    pub fn label(&self) -> &'static str {
        match self {
            FrameError::TooLarge { .. } => "frame_too_large",
            FrameError::TooShort(_) => "frame_too_short",
            FrameError::PreludeCrc { .. } => "prelude_crc",
            FrameError::MessageCrc { .. } => "message_crc",
            FrameError::HeadersLength { .. } => "headers_length",
            FrameError::Header(_) => "header",
            FrameError::Truncated(_) => "truncated",
        }
    }
}

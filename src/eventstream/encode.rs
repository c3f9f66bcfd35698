//! Writing one event-stream message: prelude with its CRC, headers, payload, message CRC.

use bytes::{BufMut, Bytes, BytesMut};

use super::{FrameError, Header, HeaderValue, Message, OVERHEAD};

/// Appends `msg` as one frame to `out`. Fails (writing nothing) on a header name that is empty or
/// longer than 255 bytes, a string or byte value longer than 65535 bytes, or a frame past 4 GiB.
pub fn encode(msg: &Message, out: &mut BytesMut) -> Result<(), FrameError> {
    let headers_len: usize = msg.headers.iter().map(header_len).sum::<Result<usize, FrameError>>()?;
    let total = OVERHEAD + headers_len + msg.payload.len();
    let total32 = u32::try_from(total).map_err(|_| FrameError::TooLarge { len: total, max: u32::MAX as usize })?;
    let headers32 =
        u32::try_from(headers_len).map_err(|_| FrameError::HeadersLength { headers: headers_len, total })?;
    out.reserve(total);
    let start = out.len();
    out.put_u32(total32);
    out.put_u32(headers32);
    let prelude_crc = crc32fast::hash(&out[start..start + 8]);
    out.put_u32(prelude_crc);
    for h in &msg.headers {
        write_header(h, out);
    }
    out.put_slice(&msg.payload);
    let message_crc = crc32fast::hash(&out[start..]);
    out.put_u32(message_crc);
    Ok(())
}

/// One message as its own buffer.
pub fn to_bytes(msg: &Message) -> Result<Bytes, FrameError> {
    let mut out = BytesMut::new();
    encode(msg, &mut out)?;
    Ok(out.freeze())
}

/// Encoded size of a header, checking its limits.
fn header_len(h: &Header) -> Result<usize, FrameError> {
    let name = h.name.len();
    if name == 0 || name > u8::MAX as usize {
        return Err(FrameError::Header(format!("name of {name} bytes (1 to 255 allowed)")));
    }
    let value = match &h.value {
        HeaderValue::Bool(_) => 0,
        HeaderValue::Byte(_) => 1,
        HeaderValue::Int16(_) => 2,
        HeaderValue::Int32(_) => 4,
        HeaderValue::Int64(_) | HeaderValue::Timestamp(_) => 8,
        HeaderValue::Uuid(_) => 16,
        HeaderValue::Bytes(b) => 2 + checked_u16(b.len(), &h.name)?,
        HeaderValue::String(s) => 2 + checked_u16(s.len(), &h.name)?,
    };
    Ok(1 + name + 1 + value)
}

fn checked_u16(len: usize, name: &str) -> Result<usize, FrameError> {
    if len > u16::MAX as usize {
        return Err(FrameError::Header(format!("value of {name} is {len} bytes (65535 allowed)")));
    }
    Ok(len)
}

/// Writes a header whose limits `header_len` checked.
fn write_header(h: &Header, out: &mut BytesMut) {
    out.put_u8(h.name.len() as u8);
    out.put_slice(h.name.as_bytes());
    match &h.value {
        HeaderValue::Bool(true) => out.put_u8(0),
        HeaderValue::Bool(false) => out.put_u8(1),
        HeaderValue::Byte(v) => {
            out.put_u8(2);
            out.put_i8(*v);
        }
        HeaderValue::Int16(v) => {
            out.put_u8(3);
            out.put_i16(*v);
        }
        HeaderValue::Int32(v) => {
            out.put_u8(4);
            out.put_i32(*v);
        }
        HeaderValue::Int64(v) => {
            out.put_u8(5);
            out.put_i64(*v);
        }
        HeaderValue::Bytes(b) => {
            out.put_u8(6);
            out.put_u16(b.len() as u16);
            out.put_slice(b);
        }
        HeaderValue::String(s) => {
            out.put_u8(7);
            out.put_u16(s.len() as u16);
            out.put_slice(s.as_bytes());
        }
        HeaderValue::Timestamp(ms) => {
            out.put_u8(8);
            out.put_i64(*ms);
        }
        HeaderValue::Uuid(u) => {
            out.put_u8(9);
            out.put_slice(u);
        }
    }
}

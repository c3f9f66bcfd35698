//! Compact JSON out of any `Serialize`, byte for byte what `serde_json::to_vec` writes, with
//! strings escaped a block at a time: serde_json looks each byte of a string up in a table, which
//! on a translated request (kilobytes of prompt text) was about a tenth of the call's
//! instructions. Plain runs are found with [`crate::jsonscan::special_at`] (16 bytes per step) and
//! copied whole.
//!
//! `serde_json::value::RawValue` is written verbatim, as serde_json does, by recognising the
//! struct name serde_json gives it when it serializes; a test holds that to serde_json's output.

use std::fmt;

use bytes::BufMut;
use serde::ser::{self, Impossible, Serialize};

/// The name `RawValue` serializes itself under (serde_json's `raw::TOKEN`); `ir::Schema`
/// serializes under it too.
pub(crate) const RAW_VALUE: &str = "$serde_json::private::RawValue";

/// A value serde_json could not write either (a map key that is not a string, a number or a
/// bool; an error raised by a `Serialize` impl).
#[derive(Debug)]
pub struct Error(String);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

impl ser::Error for Error {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Error(msg.to_string())
    }
}

type Result<T = ()> = std::result::Result<T, Error>;

/// `v` as compact JSON.
pub fn to_vec<T: Serialize + ?Sized>(v: &T) -> Result<Vec<u8>> {
    to_vec_sized(v, 256)
}

/// [`to_vec`] into a buffer of `capacity` bytes to start with.
pub fn to_vec_sized<T: Serialize + ?Sized>(v: &T, capacity: usize) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(capacity);
    write(&mut out, v)?;
    Ok(out)
}

/// Where an upstream request body is written: a coding agent's turn is several KB (a system
/// prompt, tools, the conversation), which a 256-byte start reached by five doublings.
pub const REQUEST_CAPACITY: usize = 8 * 1024;

/// `v` as compact JSON, appended to `out`.
pub fn write<B: BufMut, T: Serialize + ?Sized>(out: &mut B, v: &T) -> Result {
    v.serialize(Writer { out })
}

/// `s` as a JSON string (quotes included), escaped as serde_json escapes it.
pub fn string<B: BufMut>(out: &mut B, s: &str) {
    out.put_u8(b'"');
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let end = crate::jsonscan::special_at(b, i).unwrap_or(b.len());
        out.put_slice(&b[i..end]);
        i = end;
        if let Some(&c) = b.get(i) {
            escape(out, c);
            i += 1;
        }
    }
    out.put_u8(b'"');
}

fn escape<B: BufMut>(out: &mut B, c: u8) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let short = match c {
        b'"' => b'"',
        b'\\' => b'\\',
        0x08 => b'b',
        0x0c => b'f',
        b'\n' => b'n',
        b'\r' => b'r',
        b'\t' => b't',
        _ => 0,
    };
    if short != 0 {
        out.put_slice(&[b'\\', short]);
    } else {
        out.put_slice(&[b'\\', b'u', b'0', b'0', HEX[usize::from(c >> 4)], HEX[usize::from(c & 0xf)]]);
    }
}

/// A float, by serde_json itself (floats are rare in these bodies; its formatting is the
/// reference): non-finite ones are `null`.
fn float<B: BufMut, F: Serialize>(out: &mut B, v: F) {
    let _ = serde_json::to_writer(out.writer(), &v);
}

/// Writes one value.
struct Writer<'a, B> {
    out: &'a mut B,
}

/// An array, object, or a `RawValue` being written.
struct Compound<'a, B> {
    out: &'a mut B,
    first: bool,
    /// What closes it: `]`, `}`, or `}}` for an enum variant's object inside its wrapper.
    close: &'static [u8],
    raw: bool,
}

impl<'a, B: BufMut> Compound<'a, B> {
    fn open(out: &'a mut B, open: &[u8], close: &'static [u8]) -> Self {
        out.put_slice(open);
        Compound { out, first: true, close, raw: false }
    }

    /// An enum variant's content inside its wrapper object: `{"variant":` then the compound.
    fn variant(out: &'a mut B, variant: &str, open: &[u8], close: &'static [u8]) -> Self {
        out.put_u8(b'{');
        string(out, variant);
        out.put_u8(b':');
        Compound::open(out, open, close)
    }

    fn comma(&mut self) {
        if self.first {
            self.first = false;
        } else {
            self.out.put_u8(b',');
        }
    }

    fn element<T: Serialize + ?Sized>(&mut self, v: &T) -> Result {
        self.comma();
        v.serialize(Writer { out: &mut *self.out })
    }

    fn field<T: Serialize + ?Sized>(&mut self, key: &str, v: &T) -> Result {
        self.comma();
        string(self.out, key);
        self.out.put_u8(b':');
        v.serialize(Writer { out: &mut *self.out })
    }

    fn finish(self) -> Result {
        self.out.put_slice(self.close);
        Ok(())
    }
}

macro_rules! integers {
    ($($f:ident: $t:ty),*) => {$(
        fn $f(self, v: $t) -> Result {
            self.out.put_slice(itoa::Buffer::new().format(v).as_bytes());
            Ok(())
        }
    )*};
}

impl<'a, B: BufMut> ser::Serializer for Writer<'a, B> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = Compound<'a, B>;
    type SerializeTuple = Compound<'a, B>;
    type SerializeTupleStruct = Compound<'a, B>;
    type SerializeTupleVariant = Compound<'a, B>;
    type SerializeMap = Compound<'a, B>;
    type SerializeStruct = Compound<'a, B>;
    type SerializeStructVariant = Compound<'a, B>;

    integers!(serialize_i8: i8, serialize_i16: i16, serialize_i32: i32, serialize_i64: i64, serialize_i128: i128,
        serialize_u8: u8, serialize_u16: u16, serialize_u32: u32, serialize_u64: u64, serialize_u128: u128);

    fn serialize_bool(self, v: bool) -> Result {
        self.out.put_slice(if v { b"true" } else { b"false" });
        Ok(())
    }

    fn serialize_f32(self, v: f32) -> Result {
        float(self.out, v);
        Ok(())
    }

    fn serialize_f64(self, v: f64) -> Result {
        float(self.out, v);
        Ok(())
    }

    fn serialize_char(self, v: char) -> Result {
        string(self.out, v.encode_utf8(&mut [0; 4]));
        Ok(())
    }

    fn serialize_str(self, v: &str) -> Result {
        string(self.out, v);
        Ok(())
    }

    fn serialize_bytes(self, v: &[u8]) -> Result {
        let mut seq = Compound::open(self.out, b"[", b"]");
        for b in v {
            seq.element(b)?;
        }
        seq.finish()
    }

    fn serialize_none(self) -> Result {
        self.serialize_unit()
    }

    fn serialize_some<T: Serialize + ?Sized>(self, v: &T) -> Result {
        v.serialize(self)
    }

    fn serialize_unit(self) -> Result {
        self.out.put_slice(b"null");
        Ok(())
    }

    fn serialize_unit_struct(self, _name: &'static str) -> Result {
        self.serialize_unit()
    }

    fn serialize_unit_variant(self, _name: &'static str, _index: u32, variant: &'static str) -> Result {
        self.serialize_str(variant)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _name: &'static str, v: &T) -> Result {
        v.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        v: &T,
    ) -> Result {
        let mut obj = Compound::open(self.out, b"{", b"}");
        obj.field(variant, v)?;
        obj.finish()
    }

    fn serialize_seq(self, _len: Option<usize>) -> Result<Self::SerializeSeq> {
        Ok(Compound::open(self.out, b"[", b"]"))
    }

    fn serialize_tuple(self, _len: usize) -> Result<Self::SerializeTuple> {
        Ok(Compound::open(self.out, b"[", b"]"))
    }

    fn serialize_tuple_struct(self, _name: &'static str, _len: usize) -> Result<Self::SerializeTupleStruct> {
        Ok(Compound::open(self.out, b"[", b"]"))
    }

    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant> {
        Ok(Compound::variant(self.out, variant, b"[", b"]}"))
    }

    fn serialize_map(self, _len: Option<usize>) -> Result<Self::SerializeMap> {
        Ok(Compound::open(self.out, b"{", b"}"))
    }

    fn serialize_struct(self, name: &'static str, _len: usize) -> Result<Self::SerializeStruct> {
        if name == RAW_VALUE {
            return Ok(Compound { out: self.out, first: true, close: b"", raw: true });
        }
        Ok(Compound::open(self.out, b"{", b"}"))
    }

    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant> {
        Ok(Compound::variant(self.out, variant, b"{", b"}}"))
    }
}

/// The array-like compounds: each element written after a comma.
macro_rules! elements {
    ($($tr:ident::$method:ident),*) => {$(
        impl<B: BufMut> ser::$tr for Compound<'_, B> {
            type Ok = ();
            type Error = Error;
            fn $method<T: Serialize + ?Sized>(&mut self, v: &T) -> Result {
                self.element(v)
            }
            fn end(self) -> Result {
                self.finish()
            }
        }
    )*};
}

elements!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field
);

impl<B: BufMut> ser::SerializeMap for Compound<'_, B> {
    type Ok = ();
    type Error = Error;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result {
        self.comma();
        key.serialize(KeyWriter { out: &mut *self.out })?;
        self.out.put_u8(b':');
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, v: &T) -> Result {
        v.serialize(Writer { out: &mut *self.out })
    }
    fn end(self) -> Result {
        self.finish()
    }
}

/// The struct-like compounds: `"key":value` after a comma (a `RawValue`'s one field: its text).
macro_rules! fields {
    ($($tr:ident),*) => {$(
        impl<B: BufMut> ser::$tr for Compound<'_, B> {
            type Ok = ();
            type Error = Error;
            fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, v: &T) -> Result {
                if self.raw {
                    return v.serialize(RawWriter { out: &mut *self.out });
                }
                self.field(key, v)
            }
            fn end(self) -> Result {
                self.finish()
            }
        }
    )*};
}

fields!(SerializeStruct, SerializeStructVariant);

/// The types and the compound and variant methods of a serializer that takes none of them (map
/// keys, a `RawValue`'s text): each method is the error `$err()`.
macro_rules! no_compounds {
    ($err:ident) => {
        type Ok = ();
        type Error = Error;
        type SerializeSeq = Impossible<(), Error>;
        type SerializeTuple = Impossible<(), Error>;
        type SerializeTupleStruct = Impossible<(), Error>;
        type SerializeTupleVariant = Impossible<(), Error>;
        type SerializeMap = Impossible<(), Error>;
        type SerializeStruct = Impossible<(), Error>;
        type SerializeStructVariant = Impossible<(), Error>;
        fn serialize_newtype_variant<T: Serialize + ?Sized>(
            self,
            _: &'static str,
            _: u32,
            _: &'static str,
            _: &T,
        ) -> Result {
            Err($err())
        }
        fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq> {
            Err($err())
        }
        fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple> {
            Err($err())
        }
        fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeTupleStruct> {
            Err($err())
        }
        fn serialize_tuple_variant(
            self,
            _: &'static str,
            _: u32,
            _: &'static str,
            _: usize,
        ) -> Result<Self::SerializeTupleVariant> {
            Err($err())
        }
        fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap> {
            Err($err())
        }
        fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeStruct> {
            Err($err())
        }
        fn serialize_struct_variant(
            self,
            _: &'static str,
            _: u32,
            _: &'static str,
            _: usize,
        ) -> Result<Self::SerializeStructVariant> {
            Err($err())
        }
    };
}

/// A float map key, quoted; serde_json refuses a non-finite one.
fn quoted_float<B: BufMut, F: Serialize>(out: &mut B, v: F, finite: bool) -> Result {
    if !finite {
        return Err(key_error());
    }
    out.put_u8(b'"');
    float(out, v);
    out.put_u8(b'"');
    Ok(())
}

fn key_error() -> Error {
    Error("key must be a string".into())
}

/// Writes a map key: strings as they are; numbers, bools and chars quoted, as serde_json does.
struct KeyWriter<'a, B> {
    out: &'a mut B,
}

macro_rules! quoted {
    ($($f:ident: $t:ty),*) => {$(
        fn $f(self, v: $t) -> Result {
            self.out.put_u8(b'"');
            self.out.put_slice(itoa::Buffer::new().format(v).as_bytes());
            self.out.put_u8(b'"');
            Ok(())
        }
    )*};
}

/// Methods of a narrow serializer that are each the error `$err()`.
macro_rules! refuse {
    ($err:ident: $($f:ident($($t:ty),*)),*) => {$(
        fn $f(self, $(_: $t),*) -> Result<Self::Ok> {
            Err($err())
        }
    )*};
}

impl<B: BufMut> ser::Serializer for KeyWriter<'_, B> {
    quoted!(serialize_i8: i8, serialize_i16: i16, serialize_i32: i32, serialize_i64: i64, serialize_i128: i128,
        serialize_u8: u8, serialize_u16: u16, serialize_u32: u32, serialize_u64: u64, serialize_u128: u128);
    refuse!(key_error: serialize_bytes(&[u8]), serialize_none(), serialize_unit(), serialize_unit_struct(&'static str));

    fn serialize_bool(self, v: bool) -> Result {
        self.out.put_slice(if v { b"\"true\"" } else { b"\"false\"" });
        Ok(())
    }

    fn serialize_f32(self, v: f32) -> Result {
        quoted_float(self.out, v, v.is_finite())
    }

    fn serialize_f64(self, v: f64) -> Result {
        quoted_float(self.out, v, v.is_finite())
    }

    // Strings, chars and unit variants are keys as they are values.
    fn serialize_char(self, v: char) -> Result {
        ser::Serializer::serialize_char(Writer { out: self.out }, v)
    }

    fn serialize_str(self, v: &str) -> Result {
        ser::Serializer::serialize_str(Writer { out: self.out }, v)
    }

    fn serialize_some<T: Serialize + ?Sized>(self, _v: &T) -> Result {
        Err(key_error())
    }

    fn serialize_unit_variant(self, name: &'static str, index: u32, variant: &'static str) -> Result {
        ser::Serializer::serialize_unit_variant(Writer { out: self.out }, name, index, variant)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _name: &'static str, v: &T) -> Result {
        v.serialize(self)
    }

    no_compounds!(key_error);
}

/// Writes the text of a `RawValue` as it is (it is JSON already).
struct RawWriter<'a, B> {
    out: &'a mut B,
}

fn raw_error() -> Error {
    Error("a RawValue holds JSON text".into())
}

impl<B: BufMut> ser::Serializer for RawWriter<'_, B> {
    refuse!(
        raw_error:
        serialize_bool(bool),
        serialize_i8(i8),
        serialize_i16(i16),
        serialize_i32(i32),
        serialize_i64(i64),
        serialize_u8(u8),
        serialize_u16(u16),
        serialize_u32(u32),
        serialize_u64(u64),
        serialize_f32(f32),
        serialize_f64(f64),
        serialize_char(char),
        serialize_bytes(&[u8]),
        serialize_none(),
        serialize_unit(),
        serialize_unit_struct(&'static str),
        serialize_unit_variant(&'static str, u32, &'static str)
    );

    fn serialize_str(self, v: &str) -> Result {
        self.out.put_slice(v.as_bytes());
        Ok(())
    }

    fn serialize_some<T: Serialize + ?Sized>(self, _: &T) -> Result {
        Err(raw_error())
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _: &'static str, _: &T) -> Result {
        Err(raw_error())
    }

    no_compounds!(raw_error);
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde::Serialize;
    use serde_json::{Value, json};

    use super::*;

    fn same<T: Serialize + ?Sized>(v: &T) {
        let ours = to_vec(v).unwrap();
        let theirs = serde_json::to_vec(v).unwrap();
        assert_eq!(String::from_utf8_lossy(&ours), String::from_utf8_lossy(&theirs));
    }

    #[test]
    fn strings_escape_as_serde_json_does() {
        let every: String = (0u8..0x80).map(char::from).collect();
        same(&every);
        same(&every.repeat(3));
        for s in
            ["", "a", "\"", "\\", "é 日本 🦀", "x\u{7f}y", "0123456789abcdef\"", "0123456789abcde\n0123456789abcdef"]
        {
            same(s);
            same(&format!("{}{s}{}", "p".repeat(15), "q".repeat(17)));
        }
        same(&'\u{1}');
    }

    #[test]
    fn values_write_as_serde_json_writes_them() {
        let v = json!({
            "z": [1, -2, 3.5, 1e300, -0.0, 0.1, u64::MAX, i64::MIN, true, false, null],
            "a": {"nested": {"deep": [[], {}, [{}]]}, "text": "line\nbreak \"q\""},
            "unicode": "\u{1}\u{1f}é",
        });
        same(&v);
        same(&Value::Null);
        same(&f64::NAN);
        same(&f32::INFINITY);
        same(&1.25f32);
        let raw = serde_json::value::RawValue::from_string(r#"{"kept" : [ 1 ]}"#.into()).unwrap();
        same(&json!({"raw": raw.get()}));
        #[derive(Serialize)]
        struct WithRaw<'a> {
            schema: &'a serde_json::value::RawValue,
            n: Option<u8>,
        }
        same(&WithRaw { schema: &raw, n: None });
        let keys: BTreeMap<i32, bool> = BTreeMap::from([(-1, true), (2, false)]);
        same(&keys);
        let bools: BTreeMap<bool, u8> = BTreeMap::from([(true, 1)]);
        same(&bools);
    }

    #[test]
    fn enums_and_structs_write_as_serde_json_writes_them() {
        #[derive(Serialize)]
        #[serde(tag = "type", rename_all = "snake_case")]
        enum Tagged {
            Text { text: String },
            Unit,
        }
        #[derive(Serialize)]
        enum Plain {
            A,
            B(u8),
            C(u8, String),
            D { x: i8 },
        }
        #[derive(Serialize)]
        struct Outer {
            #[serde(skip_serializing_if = "Option::is_none")]
            gone: Option<u8>,
            #[serde(flatten)]
            rest: BTreeMap<String, Value>,
            tuple: (u8, &'static str),
            bytes: serde_bytes_like::Bytes,
        }
        mod serde_bytes_like {
            pub struct Bytes(pub Vec<u8>);
            impl serde::Serialize for Bytes {
                fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                    s.serialize_bytes(&self.0)
                }
            }
        }
        same(&[Tagged::Text { text: "hi".into() }, Tagged::Unit]);
        same(&[Plain::A, Plain::B(1), Plain::C(2, "c".into()), Plain::D { x: -3 }]);
        same(&Outer {
            gone: None,
            rest: BTreeMap::from([("k".into(), json!([1]))]),
            tuple: (7, "t"),
            bytes: serde_bytes_like::Bytes(vec![0, 255]),
        });
    }

    #[test]
    fn keys_serde_json_refuses_are_refused() {
        let m: BTreeMap<Vec<u8>, u8> = BTreeMap::from([(vec![1], 1)]);
        assert!(to_vec(&m).is_err());
        assert!(serde_json::to_vec(&m).is_err());
    }

    /// Seeded random values (strings with every kind of byte, numbers, nesting) agree with
    /// serde_json byte for byte.
    #[test]
    fn random_values_agree_with_serde_json() {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        fn value(next: &mut dyn FnMut() -> u64, depth: u32) -> Value {
            match next() % if depth > 3 { 4 } else { 6 } {
                0 => Value::Null,
                1 => json!(next() % 2 == 0),
                2 => {
                    let r = next();
                    if r % 3 == 0 { json!(f64::from_bits(r >> 2) % 1e12) } else { json!(r as i64 >> (r % 60)) }
                }
                3 => {
                    let len = (next() % 40) as usize;
                    let s: String = (0..len)
                        .map(|_| match next() % 6 {
                            0 => char::from((next() % 0x20) as u8),
                            1 => ['"', '\\', '/', '\u{7f}', 'é', '日', '🦀'][(next() % 7) as usize],
                            _ => char::from(b'a' + (next() % 26) as u8),
                        })
                        .collect();
                    Value::String(s)
                }
                4 => Value::Array((0..next() % 5).map(|_| value(next, depth + 1)).collect()),
                _ => Value::Object(
                    (0..next() % 5).map(|i| (format!("k{i}\n\"{}", next() % 9), value(next, depth + 1))).collect(),
                ),
            }
        }
        for _ in 0..3000 {
            same(&value(&mut next, 0));
        }
    }
}

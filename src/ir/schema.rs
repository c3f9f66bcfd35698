//! A tool's JSON Schema, carried as compact JSON text so that translating a request copies it as
//! bytes instead of building and re-serializing a `Value` tree.
//!
//! Read from a caller's body it keeps the caller's key order (whitespace outside strings is
//! removed); built from a `Value` it has that value's (sorted) order. Equality and `Debug` go
//! through the parsed value, so two schemas that differ only in key order or spacing are equal and
//! print alike (the response cache keys requests by their `Debug` text).
//!
//! The text is held as a string, not a `RawValue`: made compact, a `RawValue` would be parsed
//! again to be built. It serializes as a `RawValue` does (serde_json and `jsonwrite` write it as
//! it is; `serde_json::to_value` parses it).

use std::fmt;

use serde::ser::SerializeStruct;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;
use serde_json::value::RawValue;

#[derive(Clone)]
pub struct Schema(Box<str>);

impl Schema {
    /// The schema of `v`.
    pub fn from_value(v: &Value) -> Schema {
        // Serializing a `Value` cannot fail (its keys are strings).
        Schema(serde_json::to_string(v).unwrap_or_else(|_| "null".into()).into_boxed_str())
    }

    /// A schema from JSON text as it appeared in a body (made compact when it is not).
    pub fn from_raw(raw: &RawValue) -> Schema {
        Schema::from_text(raw.get())
    }

    /// A schema from the text of one valid JSON value (what [`Self::from_raw`] reads).
    pub fn from_text(text: &str) -> Schema {
        match minified(text) {
            None => Schema(text.into()),
            Some(min) => Schema(min.into_boxed_str()),
        }
    }

    /// The compact JSON text.
    pub fn get(&self) -> &str {
        &self.0
    }

    /// The schema as a `Value` (parsed on every call).
    pub fn to_value(&self) -> Value {
        serde_json::from_str(&self.0).unwrap_or(Value::Null)
    }
}

impl From<Value> for Schema {
    fn from(v: Value) -> Schema {
        Schema::from_value(&v)
    }
}

/// `text` without whitespace outside strings; `None` when it has none. `text` is valid JSON (a
/// `RawValue`): strings are skipped 16 bytes at a time ([`crate::jsonscan::string_end`]), the
/// structure between them goes byte by byte.
fn minified(text: &str) -> Option<String> {
    let b = text.as_bytes();
    let ws = |c: u8| matches!(c, b' ' | b'\n' | b'\r' | b'\t');
    let mut i = 0;
    let start = loop {
        match *b.get(i)? {
            b'"' => i = crate::jsonscan::string_end(b, i)?,
            c if ws(c) => break i,
            _ => i += 1,
        }
    };
    // Whitespace, quotes and backslashes are ASCII, and a multi-byte UTF-8 sequence never
    // contains an ASCII byte, so dropping whitespace bytes keeps the text UTF-8.
    let mut out = Vec::with_capacity(b.len());
    out.extend_from_slice(&b[..start]);
    let mut i = start;
    while let Some(&c) = b.get(i) {
        if c == b'"' {
            let end = crate::jsonscan::string_end(b, i)?;
            out.extend_from_slice(&b[i..end]);
            i = end;
        } else {
            if !ws(c) {
                out.push(c);
            }
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

impl PartialEq for Schema {
    fn eq(&self, other: &Schema) -> bool {
        self.0 == other.0 || self.to_value() == other.to_value()
    }
}

impl PartialEq<Value> for Schema {
    fn eq(&self, other: &Value) -> bool {
        self.to_value() == *other
    }
}

impl fmt::Debug for Schema {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.to_value(), f)
    }
}

impl Serialize for Schema {
    /// As `RawValue::serialize` does: the text is valid JSON (it came from a parse or a `Value`).
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct(crate::jsonwrite::RAW_VALUE, 1)?;
        st.serialize_field(crate::jsonwrite::RAW_VALUE, &*self.0)?;
        st.end()
    }
}

/// Reads the schema's text from a JSON deserializer (`serde_json::from_slice` / `from_str`).
impl<'de> Deserialize<'de> for Schema {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Schema, D::Error> {
        Box::<RawValue>::deserialize(d).map(|r| Schema::from_raw(&r))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn keeps_key_order_and_drops_whitespace_outside_strings() {
        let s: Schema = serde_json::from_str(
            r#" { "type" : "object",
            "properties": {"b": {"description": "a \"b\"\tc d"}, "a": {}} } "#,
        )
        .unwrap();
        assert_eq!(s.get(), r#"{"type":"object","properties":{"b":{"description":"a \"b\"\tc d"},"a":{}}}"#);
        let text: Schema = serde_json::from_str("{ \"d\" : \"é 日本 \\\\\" , \"e\" : [ 1 ] }").unwrap();
        assert_eq!(text.get(), "{\"d\":\"é 日本 \\\\\",\"e\":[1]}");
        let compact: Schema = serde_json::from_str(r#"{"z":1,"a":[1,2]}"#).unwrap();
        assert_eq!(compact.get(), r#"{"z":1,"a":[1,2]}"#);
        // Strings longer than a 16-byte block, with escapes on and across block edges.
        let long = format!(r#"{{ "a b" : "{0}\"{0} \\", "c" : [ "{0}\\\"" , 1 ] }}"#, "x y".repeat(9));
        let expect = format!(r#"{{"a b":"{0}\"{0} \\","c":["{0}\\\"",1]}}"#, "x y".repeat(9));
        let s: Schema = serde_json::from_str(&long).unwrap();
        assert_eq!(s.get(), expect);
        assert_eq!(s.to_value(), serde_json::from_str::<Value>(&long).unwrap());
    }

    #[test]
    fn equality_and_debug_ignore_key_order() {
        let a: Schema = serde_json::from_str(r#"{"b":1,"a":2}"#).unwrap();
        let b = Schema::from_value(&json!({"a": 2, "b": 1}));
        assert_eq!(a, b);
        assert_eq!(a, json!({"a": 2, "b": 1}));
        assert_eq!(format!("{a:?}"), format!("{:?}", json!({"a": 2, "b": 1})));
        assert_eq!(serde_json::to_string(&b).unwrap(), r#"{"a":2,"b":1}"#);
    }

    #[test]
    fn serializes_as_its_text_everywhere() {
        let s: Schema = serde_json::from_str(r#"{ "z" : [ 1 , {"y": "\u00e9"} ] }"#).unwrap();
        let text = r#"{"z":[1,{"y":"\u00e9"}]}"#;
        assert_eq!(s.get(), text);
        let wrapped = json!({"schema": serde_json::to_value(&s).unwrap()});
        assert_eq!(wrapped, json!({"schema": {"z": [1, {"y": "é"}]}}));
        #[derive(Serialize)]
        struct Tool<'a> {
            input_schema: &'a Schema,
        }
        let want = format!(r#"{{"input_schema":{text}}}"#);
        assert_eq!(serde_json::to_string(&Tool { input_schema: &s }).unwrap(), want);
        assert_eq!(crate::jsonwrite::to_vec(&Tool { input_schema: &s }).unwrap(), want.as_bytes());
        // serde_json's RawValue goes by the same name.
        let raw = RawValue::from_string("[1]".into()).unwrap();
        assert_eq!(crate::jsonwrite::to_vec(&raw).unwrap(), b"[1]");
    }
}

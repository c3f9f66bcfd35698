//! A tool's JSON Schema, carried as JSON text so that translating a request copies it as bytes
//! instead of building and re-serializing a `Value` tree.
//!
//! Read from a caller's body it is the caller's text, key order and spacing included (it used to
//! be made compact first: one more pass over every schema of every translated call, for bytes no
//! upstream reads differently); built from a `Value` it has that value's (sorted)
//! order, compact. Equality and `Debug` go through the parsed value, so two schemas that differ
//! only in key order or spacing are equal and print alike (the response cache keys requests by
//! their `Debug` text).
//!
//! The text is held as a string, not a `RawValue`, which would be parsed again to be built. It
//! serializes as a `RawValue` does (serde_json and `jsonwrite` write it as it is;
//! `serde_json::to_value` parses it).

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

    /// A schema from a value as it appeared in a body.
    pub fn from_raw(raw: &RawValue) -> Schema {
        Schema::from_text(raw.get())
    }

    /// A schema from the text of one valid JSON value, as it appeared in a body.
    pub fn from_text(text: &str) -> Schema {
        Schema(text.into())
    }

    /// The JSON text.
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
    fn keeps_the_callers_text() {
        for text in [
            r#" { "type" : "object",
            "properties": {"b": {"description": "a \"b\"\tc d"}, "a": {}} } "#,
            "{ \"d\" : \"é 日本 \\\\\" , \"e\" : [ 1 ] }",
            r#"{"z":1,"a":[1,2]}"#,
        ] {
            let s: Schema = serde_json::from_str(text).unwrap();
            assert_eq!(s.get(), text.trim());
            assert_eq!(s.to_value(), serde_json::from_str::<Value>(text).unwrap());
        }
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
        let text = r#"{ "z" : [ 1 , {"y": "\u00e9"} ] }"#;
        let s: Schema = serde_json::from_str(text).unwrap();
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

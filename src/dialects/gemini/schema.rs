//! Gemini `Schema` (an OpenAPI 3.0 subset with upper-case types such as `"OBJECT"` and
//! `nullable`) -> JSON Schema, for `parameters` and `responseSchema`. `parametersJsonSchema` and
//! `responseJsonSchema` are JSON Schema already and are taken as they are.

use serde_json::{Map, Value, json};

/// Converts one schema (recursively). Unknown keys are kept; `propertyOrdering` (a Gemini output
/// ordering hint) is dropped.
pub fn to_json_schema(v: &Value) -> Value {
    let Value::Object(o) = v else {
        return v.clone();
    };
    let mut out = Map::new();
    let mut nullable = false;
    for (k, x) in o {
        match super::wire::camel(k).as_str() {
            "type" => {
                let t = match x {
                    Value::String(s) => json!(s.to_ascii_lowercase()),
                    Value::Array(ts) => Value::Array(
                        ts.iter().map(|t| t.as_str().map_or(t.clone(), |s| json!(s.to_ascii_lowercase()))).collect(),
                    ),
                    other => other.clone(),
                };
                if t != "type_unspecified" {
                    out.insert("type".into(), t);
                }
            }
            "nullable" => nullable = x.as_bool() == Some(true),
            "propertyOrdering" => {}
            "properties" => {
                let props = x
                    .as_object()
                    .map(|p| p.iter().map(|(name, s)| (name.clone(), to_json_schema(s))).collect::<Map<_, _>>());
                out.insert("properties".into(), props.map_or_else(|| x.clone(), Value::Object));
            }
            "items" => {
                out.insert("items".into(), to_json_schema(x));
            }
            "anyOf" => {
                let list = x.as_array().map(|a| a.iter().map(to_json_schema).collect::<Vec<_>>());
                out.insert("anyOf".into(), list.map_or_else(|| x.clone(), Value::Array));
            }
            "example" => {
                out.insert("examples".into(), json!([x]));
            }
            key @ ("minItems" | "maxItems" | "minLength" | "maxLength" | "minProperties" | "maxProperties") => {
                // The SDKs send int64 fields as strings.
                let n = x.as_str().and_then(|s| s.parse::<u64>().ok()).map_or_else(|| x.clone(), |n| json!(n));
                out.insert(key.to_string(), n);
            }
            key => {
                out.insert(key.to_string(), x.clone());
            }
        }
    }
    if nullable {
        match out.get("type").cloned() {
            Some(Value::String(t)) => {
                out.insert("type".into(), json!([t, "null"]));
            }
            Some(Value::Array(mut ts)) if !ts.iter().any(|t| t == "null") => {
                ts.push(json!("null"));
                out.insert("type".into(), Value::Array(ts));
            }
            _ => {}
        }
    }
    Value::Object(out)
}

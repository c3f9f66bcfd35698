//! Merged config documents: parsing JSON (with comments) or YAML into a JSON value, applying the
//! plan's operations, and undoing exactly those operations later.

use serde_json::{Map, Value};

use super::plan::{Format, Op};

/// How to undo one applied operation.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "undo", rename_all = "lowercase")]
pub enum Undo {
    /// Put `previous` back (or remove the key) if the value is still the one written.
    Set { path: Vec<String>, previous: Option<Value>, written: Value },
    /// Remove the element if the launcher added it.
    Insert { path: Vec<String>, value: Value, inserted: bool },
}

/// Parses a document; an empty one is `{}`.
pub fn parse(format: Format, text: &str) -> Result<Value, String> {
    if text.trim().is_empty() {
        return Ok(Value::Object(Map::new()));
    }
    let v: Value = match format {
        Format::Json => serde_json::from_str(&strip_jsonc(text)).map_err(|e| format!("not valid JSON: {e}"))?,
        Format::Yaml => serde_norway::from_str(text).map_err(|e| format!("not valid YAML: {e}"))?,
    };
    match v {
        Value::Object(_) => Ok(v),
        Value::Null => Ok(Value::Object(Map::new())),
        _ => Err("the top level is not a mapping".into()),
    }
}

pub fn render(format: Format, v: &Value) -> Result<String, String> {
    match format {
        Format::Json => serde_json::to_string_pretty(v).map(|s| s + "\n").map_err(|e| e.to_string()),
        Format::Yaml => serde_norway::to_string(v).map_err(|e| e.to_string()),
    }
}

/// Removes `//` and `/* */` comments and trailing commas outside strings (JSONC, as OpenCode and
/// Gemini CLI accept).
pub fn strip_jsonc(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    let mut in_str = false;
    while i < b.len() {
        let c = b[i];
        if in_str {
            out.push(c);
            if c == b'\\' && i + 1 < b.len() {
                out.push(b[i + 1]);
                i += 2;
                continue;
            }
            if c == b'"' {
                in_str = false;
            }
            i += 1;
        } else if c == b'"' {
            in_str = true;
            out.push(c);
            i += 1;
        } else if c == b'/' && b.get(i + 1) == Some(&b'/') {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if c == b'/' && b.get(i + 1) == Some(&b'*') {
            i += 2;
            while i + 1 < b.len() && !(b[i] == b'*' && b[i + 1] == b'/') {
                i += 1;
            }
            i += 2;
        } else if c == b',' {
            let mut j = i + 1;
            while j < b.len() && b[j].is_ascii_whitespace() {
                j += 1;
            }
            if !matches!(b.get(j), Some(b'}') | Some(b']')) {
                out.push(c);
            }
            i += 1;
        } else {
            out.push(c);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap_or_default()
}

/// The object at `path`, creating objects on the way.
fn object_at<'a>(doc: &'a mut Value, path: &[String]) -> Result<&'a mut Map<String, Value>, String> {
    let mut cur = doc;
    for (i, key) in path.iter().enumerate() {
        if cur.is_null() {
            *cur = Value::Object(Map::new());
        }
        let Value::Object(map) = cur else {
            return Err(format!("{} is not an object", path[..i].join(".")));
        };
        cur = map.entry(key.clone()).or_insert(Value::Null);
    }
    if cur.is_null() {
        *cur = Value::Object(Map::new());
    }
    match cur {
        Value::Object(m) => Ok(m),
        _ => Err(format!("{} is not an object", path.join("."))),
    }
}

fn get<'a>(doc: &'a Value, path: &[String]) -> Option<&'a Value> {
    path.iter().try_fold(doc, |v, k| v.get(k))
}

/// Applies one operation and says how to undo it.
pub fn apply(doc: &mut Value, op: &Op) -> Result<Undo, String> {
    match op {
        Op::Set { path, value } => {
            let Some((last, parent)) = path.split_last() else {
                return Err("empty path".into());
            };
            let obj = object_at(doc, parent)?;
            let previous = obj.insert(last.clone(), value.clone());
            Ok(Undo::Set { path: path.clone(), previous, written: value.clone() })
        }
        Op::Insert { path, value, front } => {
            let Some((last, parent)) = path.split_last() else {
                return Err("empty path".into());
            };
            let obj = object_at(doc, parent)?;
            let slot = obj.entry(last.clone()).or_insert_with(|| Value::Array(Vec::new()));
            if slot.is_null() {
                *slot = Value::Array(Vec::new());
            }
            let Value::Array(items) = slot else {
                return Err(format!("{} is not a list", path.join(".")));
            };
            if items.contains(value) {
                return Ok(Undo::Insert { path: path.clone(), value: value.clone(), inserted: false });
            }
            if *front {
                items.insert(0, value.clone());
            } else {
                items.push(value.clone());
            }
            Ok(Undo::Insert { path: path.clone(), value: value.clone(), inserted: true })
        }
    }
}

/// Undoes one operation, leaving alone whatever someone else changed since.
pub fn undo(doc: &mut Value, u: &Undo) {
    match u {
        Undo::Set { path, previous, written } => {
            if get(doc, path) != Some(written) {
                return;
            }
            let Some((last, parent)) = path.split_last() else { return };
            let Ok(obj) = object_at(doc, parent) else { return };
            match previous {
                Some(p) => {
                    obj.insert(last.clone(), p.clone());
                }
                None => {
                    obj.remove(last);
                }
            }
        }
        Undo::Insert { path, value, inserted } => {
            if !inserted {
                return;
            }
            let Some((last, parent)) = path.split_last() else { return };
            let Ok(obj) = object_at(doc, parent) else { return };
            if let Some(Value::Array(items)) = obj.get_mut(last)
                && let Some(pos) = items.iter().position(|x| x == value)
            {
                items.remove(pos);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn p(s: &str) -> Vec<String> {
        s.split('.').map(str::to_string).collect()
    }

    #[test]
    fn jsonc_comments_and_trailing_commas() {
        let t = "{\n // c\n \"a\": \"x//y\", /* b */ \"b\": [1,2,],\n}";
        assert_eq!(parse(Format::Json, t).unwrap(), json!({"a": "x//y", "b": [1, 2]}));
    }

    #[test]
    fn set_and_undo_keep_other_changes() {
        let mut d = json!({"agent": {"build": {"model": "x"}}, "keep": 1});
        let u1 = apply(&mut d, &Op::Set { path: p("provider.amux"), value: json!({"k": 1}) }).unwrap();
        let u2 = apply(&mut d, &Op::Set { path: p("keep"), value: json!(2) }).unwrap();
        let u3 = apply(&mut d, &Op::Insert { path: p("recent"), value: json!("m"), front: true }).unwrap();
        // Someone else changes a value the launcher also set, and adds their own entry.
        d["keep"] = json!(3);
        d["recent"].as_array_mut().unwrap().push(json!("theirs"));
        for u in [&u3, &u2, &u1] {
            undo(&mut d, u);
        }
        assert_eq!(d, json!({"agent": {"build": {"model": "x"}}, "keep": 3, "provider": {}, "recent": ["theirs"]}));
    }

    #[test]
    fn insert_is_idempotent() {
        let mut d = json!({"l": ["a"]});
        let u = apply(&mut d, &Op::Insert { path: p("l"), value: json!("a"), front: false }).unwrap();
        undo(&mut d, &u);
        assert_eq!(d, json!({"l": ["a"]}));
    }

    #[test]
    fn refuses_to_descend_into_a_scalar() {
        let mut d = json!({"a": 1});
        assert!(apply(&mut d, &Op::Set { path: p("a.b"), value: json!(1) }).is_err());
    }

    #[test]
    fn yaml_round_trip() {
        let d = parse(Format::Yaml, "model:\n  default: x\n").unwrap();
        assert_eq!(d, json!({"model": {"default": "x"}}));
        assert!(render(Format::Yaml, &d).unwrap().contains("default: x"));
    }
}

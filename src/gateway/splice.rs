//! Byte-level edits of a JSON request body for the same-dialect path: find the top-level fields
//! without re-serializing anything, replace the `model` value, add or patch a field. Every byte
//! outside the edited values is forwarded exactly as the caller sent it (thinking signatures,
//! unknown fields, key order, whitespace).

use std::borrow::Cow;
use std::fmt;
use std::ops::Range;
use std::sync::LazyLock;

use bytes::Bytes;
use memchr::memmem;
use serde::de::{Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;

use crate::ir::ApiError;
use crate::providers::client::UpBody;

/// The top-level fields of a JSON object body: name (unescaped) and byte range of the value.
#[derive(Debug)]
pub struct TopLevel<'a> {
    pub body: &'a [u8],
    pub fields: Vec<(Cow<'a, str>, Range<usize>)>,
}

struct FieldsVisitor<'a> {
    base: usize,
    end: usize,
    _m: std::marker::PhantomData<&'a ()>,
}

impl<'de> Visitor<'de> for FieldsVisitor<'de> {
    type Value = Vec<(Cow<'de, str>, Range<usize>)>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::new();
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            let raw: &'de RawValue = map.next_value()?;
            let s = raw.get();
            let start = (s.as_ptr() as usize).wrapping_sub(self.base);
            if start > self.end {
                return Err(serde::de::Error::custom("value outside body"));
            }
            // A second `model` would reach the upstream after the spliced one, and JSON parsers
            // keep the last: the routed model and the key's allowed models would be bypassed.
            if out.iter().any(|(k, _): &(Cow<'de, str>, Range<usize>)| *k == key) {
                return Err(serde::de::Error::custom(format_args!("duplicate field \"{key}\"")));
            }
            out.push((key, start..start + s.len()));
        }
        Ok(out)
    }
}

/// The `model` a body most likely names, found without reading the body: its first member when
/// that is `model` (Claude Code, Codex), else, with `anywhere`, the last `"model"` written as an
/// object's key with a string value (the Anthropic Python SDK writes `max_tokens` and `messages`
/// before `model`; a tool's schema names `model` with an object), a search of the whole body (about
/// half an instruction a byte). The value is a string without escapes. A guess: a nested object
/// can have a `model` too, and nothing else is checked, so whatever uses it must read the body
/// whole and compare the model it reads (see `gateway::call::read_first`).
pub fn model_hint(body: &[u8], anywhere: bool) -> Option<&str> {
    let ws = |mut i: usize| {
        while matches!(body.get(i), Some(b' ' | b'\n' | b'\r' | b'\t')) {
            i += 1;
        }
        i
    };
    let first = ws(0);
    if body.get(first) != Some(&b'{') {
        return None;
    }
    let leading = ws(first + 1);
    if body.get(leading..leading + 7) == Some(b"\"model\"") {
        return string_value(body, leading + 7, ws);
    }
    if !anywhere {
        return None;
    }
    // The last of the body's `"model"`s that is a key with a string (memmem searches forwards a
    // vector at a time; its reverse search goes a byte at a time).
    static MODEL_KEY: LazyLock<memmem::Finder<'static>> = LazyLock::new(|| memmem::Finder::new(b"\"model\""));
    MODEL_KEY
        .find_iter(body)
        .filter(|&at| {
            let before = body[..at].iter().rposition(|c| !matches!(c, b' ' | b'\n' | b'\r' | b'\t'));
            before.is_some_and(|b| matches!(body[b], b',' | b'{'))
        })
        .filter_map(|at| string_value(body, at + 7, ws))
        .last()
}

/// The string after a key that ends just before `i` (`: "value"`, then `,` or `}`), when it has
/// no escapes.
fn string_value(body: &[u8], i: usize, ws: impl Fn(usize) -> usize) -> Option<&str> {
    let i = ws(i);
    if body.get(i) != Some(&b':') {
        return None;
    }
    let i = ws(i + 1);
    if body.get(i) != Some(&b'"') {
        return None;
    }
    let end = crate::jsonscan::special_at(body, i + 1)?;
    if body[end] != b'"' || !matches!(body.get(ws(end + 1)), Some(b',' | b'}')) {
        return None;
    }
    std::str::from_utf8(&body[i + 1..end]).ok()
}

impl<'a> TopLevel<'a> {
    /// Scans a body; a body that is not a JSON object is a 400 naming the problem. The fast scan
    /// ([`crate::jsonscan`]) answers for the bodies it is sure of, serde_json for the rest.
    pub fn parse(body: &'a [u8]) -> Result<Self, ApiError> {
        match crate::jsonscan::members(body) {
            Some(fields) => Ok(TopLevel { body, fields }),
            None => Self::parse_with_serde(body),
        }
    }

    /// [`Self::parse`] by serde_json alone: the reference the fast scan is tested against.
    pub fn parse_with_serde(body: &'a [u8]) -> Result<Self, ApiError> {
        let mut de = serde_json::Deserializer::from_slice(body);
        let visitor = FieldsVisitor { base: body.as_ptr() as usize, end: body.len(), _m: std::marker::PhantomData };
        let fields = de
            .deserialize_map(visitor)
            .and_then(|f| de.end().map(|_| f))
            .map_err(|e| ApiError::invalid_field("body", format!("not a valid JSON object: {e}")))?;
        Ok(TopLevel { body, fields })
    }

    /// The raw JSON text of a top-level field.
    pub fn raw(&self, name: &str) -> Option<&'a str> {
        let r = self.fields.iter().find(|(k, _)| k == name)?.1.clone();
        std::str::from_utf8(&self.body[r]).ok()
    }

    /// A top-level array of strings (`anthropic_beta`); anything else present is a 400 naming it.
    pub fn strings(&self, name: &str) -> Result<Option<Vec<String>>, ApiError> {
        self.raw(name)
            .map(|raw| {
                serde_json::from_str(raw).map_err(|_| ApiError::invalid_field(name, "must be an array of strings"))
            })
            .transpose()
    }

    /// A new object: the `first` members, then this body's members that `keep` accepts (their
    /// values as the caller's bytes), then the `last` ones; values are raw JSON.
    pub fn rebuild(&self, first: &[(&str, &[u8])], keep: impl Fn(&str) -> bool, last: &[(&str, &[u8])]) -> Vec<u8> {
        let extra: usize = first.iter().chain(last).map(|(k, v)| k.len() + v.len() + 4).sum();
        let mut out = Vec::with_capacity(self.body.len() + extra);
        out.push(b'{');
        let own = self.fields.iter().filter(|(k, _)| keep(k)).map(|(k, r)| (k.as_ref(), &self.body[r.clone()]));
        for (i, (key, value)) in first.iter().copied().chain(own).chain(last.iter().copied()).enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(serde_json::to_string(key).unwrap_or_default().as_bytes());
            out.push(b':');
            out.extend_from_slice(value);
        }
        out.push(b'}');
        out
    }

    /// A top-level string field; a present non-string is a 400 naming it.
    pub fn string(&self, name: &str) -> Result<Option<String>, ApiError> {
        match self.raw(name) {
            None | Some("null") => Ok(None),
            Some(raw) => serde_json::from_str::<String>(raw)
                .map(Some)
                .map_err(|_| ApiError::invalid_field(name, "must be a string")),
        }
    }

    /// A top-level boolean field; a present non-boolean is a 400 naming it.
    pub fn boolean(&self, name: &str) -> Result<Option<bool>, ApiError> {
        match self.raw(name) {
            None | Some("null") => Ok(None),
            Some("true") => Ok(Some(true)),
            Some("false") => Ok(Some(false)),
            Some(_) => Err(ApiError::invalid_field(name, "must be a boolean")),
        }
    }

    /// The body with the listed top-level values replaced (raw JSON) and fields appended.
    pub fn rewrite(&self, replace: &[(&str, &str)], append: &[(&str, &str)]) -> Vec<u8> {
        let (segments, added) = self.edits(replace, append);
        let mut out = Vec::with_capacity(self.body.len() + added);
        for seg in &segments {
            match seg {
                Segment::Body(r) => out.extend_from_slice(&self.body[r.clone()]),
                Segment::Text(t) => out.extend_from_slice(t.as_bytes()),
            }
        }
        out
    }

    /// [`Self::rewrite`] as pieces to send: the unchanged runs are slices of `whole` (the body
    /// this was parsed from), so the body is not copied; only the new values are. When `whole`
    /// is not that body, the rewritten copy.
    pub fn splice(&self, whole: &Bytes, replace: &[(&str, &str)], append: &[(&str, &str)]) -> UpBody {
        if whole.as_ptr() != self.body.as_ptr() || whole.len() != self.body.len() {
            return UpBody::from(self.rewrite(replace, append));
        }
        let (segments, _) = self.edits(replace, append);
        UpBody::pieces(
            segments
                .into_iter()
                .map(|seg| match seg {
                    Segment::Body(r) => whole.slice(r),
                    Segment::Text(t) => Bytes::from(t.into_owned()),
                })
                .collect(),
        )
    }

    /// The rewritten body as runs of the original and new text, in order, and the length of the
    /// new text.
    fn edits<'s>(&self, replace: &[(&str, &'s str)], append: &[(&str, &str)]) -> (Vec<Segment<'s>>, usize) {
        let mut edits: Vec<(Range<usize>, &str)> = replace
            .iter()
            .filter_map(|(name, v)| self.fields.iter().find(|(k, _)| k == name).map(|(_, r)| (r.clone(), *v)))
            .collect();
        edits.sort_by_key(|(r, _)| r.start);
        let mut out = Vec::with_capacity(2 * edits.len() + 3);
        let mut added = 0;
        let mut pos = 0;
        for (r, v) in edits {
            out.push(Segment::Body(pos..r.start));
            out.push(Segment::Text(Cow::Borrowed(v)));
            added += v.len();
            pos = r.end;
        }
        if append.is_empty() {
            out.push(Segment::Body(pos..self.body.len()));
            return (out, added);
        }
        // Insert before the closing brace of the object.
        let close = self.body.iter().rposition(|&b| b == b'}').unwrap_or(self.body.len());
        let close = close.max(pos);
        out.push(Segment::Body(pos..close));
        let mut text = String::new();
        let mut need_comma = !self.fields.is_empty();
        for (k, v) in append {
            if need_comma {
                text.push(',');
            }
            need_comma = true;
            text.push_str(&serde_json::to_string(k).unwrap_or_default());
            text.push(':');
            text.push_str(v);
        }
        added += text.len();
        out.push(Segment::Text(Cow::Owned(text)));
        out.push(Segment::Body(close..self.body.len()));
        (out, added)
    }
}

/// A run of a rewritten body: bytes of the original, or new text.
enum Segment<'s> {
    Body(Range<usize>),
    Text(Cow<'s, str>),
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Where `model_hint` answers for the first member, or for a member that is the body's only
    /// `model` key, and the body is valid, it answers what the whole read does; it answers for
    /// the bodies harnesses and SDKs send (model first or after the messages, compact or spaced).
    #[test]
    fn model_hint_reads_what_the_whole_read_does() {
        let seeds: [&[u8]; 8] = [
            br#"{"model":"claude-sonnet-4-5","messages":[{"role":"user","content":"hi"}],"stream":true}"#,
            b"{\n \"model\" : \"gpt-5\" ,\n \"messages\": []\n}",
            br#"{"model":"a\"b","x":1}"#,
            br#"{"model":"m"}"#,
            br#"{"messages":[{"role":"user","content":"say \"model\": \"x\""}],"model":"m","stream":true}"#,
            br#"{"model":"m","model":"n"}"#,
            br#"{"messages":[],"model":"m","tools":[{"type":"function","function":{"name":"f","parameters":{"properties":{"model":{"type":"string"}}}}}]}"#,
            br#"{"messages":[{"role":"tool","content":[{"model":"decoy"}]}],"model":"m"}"#,
        ];
        assert_eq!(model_hint(seeds[0], true), Some("claude-sonnet-4-5"));
        assert_eq!(model_hint(seeds[1], true), Some("gpt-5"));
        assert_eq!(model_hint(seeds[2], true), None, "an escape is left to the whole read");
        assert_eq!(model_hint(seeds[4], true), Some("m"), "model after the messages; a quoted one in a text");
        assert_eq!(model_hint(seeds[4], false), None, "only the first member");
        assert_eq!(model_hint(seeds[6], true), Some("m"), "a schema's model property has an object");
        assert_eq!(model_hint(seeds[7], true), Some("m"));
        assert_eq!(model_hint(br#"{"messages":[],"model":"m","x":{"model":"decoy"}}"#, true), Some("decoy"), "a guess");
        assert_eq!(model_hint(br#"["model"]"#, true), None);
        let mut answered = 0;
        for (n, seed) in seeds.iter().enumerate() {
            for body in std::iter::once(seed.to_vec()).chain(crate::jsonscan::mutations(seed, 300, n as u64)) {
                let Some(model) = model_hint(&body, true) else { continue };
                answered += 1;
                // Guaranteed only where no other object has a `model` key: the first member, or
                // the body's only `"model"` key.
                let keys = memchr::memmem::find_iter(&body, b"\"model\"").count();
                if let Ok(top) = TopLevel::parse(&body)
                    && let Ok(Some(read)) = top.string("model")
                    && (keys == 1 || body.starts_with(b"{\"model\""))
                {
                    assert_eq!(read, model, "{}", String::from_utf8_lossy(&body));
                }
            }
        }
        assert!(answered > 100, "{answered}");
    }

    #[test]
    fn replaces_model_and_keeps_every_other_byte() {
        let body = br#"{ "model" : "alias",  "x":{"signature":"EqQBCg\u00e9=="} ,"stream":true }"#;
        let t = TopLevel::parse(body).unwrap();
        assert_eq!(t.string("model").unwrap().as_deref(), Some("alias"));
        assert_eq!(t.boolean("stream").unwrap(), Some(true));
        let out = t.rewrite(&[("model", "\"up/m\"")], &[]);
        assert_eq!(out, br#"{ "model" : "up/m",  "x":{"signature":"EqQBCg\u00e9=="} ,"stream":true }"#.to_vec());
    }

    #[test]
    fn appends_fields() {
        let t = TopLevel::parse(br#"{"model":"a"}"#).unwrap();
        assert_eq!(
            t.rewrite(&[], &[("stream_options", r#"{"include_usage":true}"#)]),
            br#"{"model":"a","stream_options":{"include_usage":true}}"#.to_vec()
        );
        let t = TopLevel::parse(b"{ }").unwrap();
        assert_eq!(t.rewrite(&[], &[("a", "1")]), b"{ \"a\":1}".to_vec());
    }

    /// The pieces sent upstream are the rewritten body, and the unchanged runs are the caller's
    /// own bytes (slices of its allocation, not copies); a body parsed from other bytes is
    /// rewritten whole.
    #[test]
    fn splices_without_copying_the_body() {
        type Edits<'a> = &'a [(&'a str, &'a str)];
        let cases: [(&[u8], Edits, Edits); 4] = [
            (br#"{ "model" : "alias",  "x":[1,{"y":"z"}] ,"stream":true }"#, &[("model", "\"up\"")], &[]),
            (
                br#"{"model":"a","stream":true}"#,
                &[("model", "\"b\"")],
                &[("stream_options", r#"{"include_usage":true}"#)],
            ),
            (br#"{"stream_options":{},"model":"a"}"#, &[("model", "\"b\""), ("stream_options", "{}")], &[]),
            (b"{ }", &[("model", "\"m\"")], &[("a", "1"), ("b", "[]")]),
        ];
        for (body, replace, append) in cases {
            let whole = Bytes::copy_from_slice(body);
            let t = TopLevel::parse(&whole).unwrap();
            let sent = t.splice(&whole, replace, append);
            assert_eq!(*sent.contiguous(), *t.rewrite(replace, append));
            let mut from_body = 0;
            let mut b = sent.clone();
            while let Some(p) = futures_util::FutureExt::now_or_never(http_body_util::BodyExt::frame(&mut b)).flatten()
            {
                let p = p.unwrap().into_data().unwrap();
                if whole.as_ptr_range().contains(&p.as_ptr()) {
                    from_body += p.len();
                }
            }
            let replaced: usize =
                t.fields.iter().filter(|(k, _)| replace.iter().any(|(n, _)| n == k)).map(|(_, r)| r.len()).sum();
            assert_eq!(from_body, body.len() - replaced, "{}", String::from_utf8_lossy(body));
            let other = Bytes::copy_from_slice(body);
            assert_eq!(*t.splice(&other, replace, append).contiguous(), *t.rewrite(replace, append));
        }
    }

    #[test]
    fn rejects_non_objects_and_bad_types() {
        assert_eq!(TopLevel::parse(b"[1]").unwrap_err().status, 400);
        assert_eq!(TopLevel::parse(b"{\"a\":1} x").unwrap_err().status, 400);
        let t = TopLevel::parse(br#"{"model":5,"stream":"yes"}"#).unwrap();
        assert!(t.string("model").unwrap_err().message.starts_with("model:"));
        assert!(t.boolean("stream").unwrap_err().message.starts_with("stream:"));
    }

    /// Found by the splice fuzz target: with two `model` fields only the first was replaced, and
    /// the upstream (keeping the last) got the caller's own model, past routing and the key's
    /// allowed models. Escaped spellings of a key are the same key.
    #[test]
    fn refuses_duplicate_fields() {
        for body in [
            br#"{"model":"cheap","model":"expensive"}"#.as_slice(),
            br#"{"model":"cheap","mod\u0065l":"expensive"}"#.as_slice(),
        ] {
            let e = TopLevel::parse(body).unwrap_err();
            assert_eq!(e.status, 400);
            assert!(e.message.contains("duplicate field \"model\""), "{}", e.message);
        }
        TopLevel::parse(br#"{"model":"a","x":{"model":"b"}}"#).unwrap();
    }
}

//! A pull reader over JSON text, which reads the members a caller names straight from the text,
//! without serde's per-field dispatch or a `Value` tree: the fast path of the stream decoders,
//! of the OpenAI Chat request decoder and of the usage envelope of same-dialect answers.
//!
//! Like the rest of the scan, it only vouches for text serde_json accepts: every value it steps
//! over is checked as [`super::members`] checks it, and anything it is unsure of (an escaped key,
//! a number that is not a plain `u64`, a `\u` surrogate) makes a method return `None`. The
//! callers then run serde_json on the text, which gives the exact answer or error, so a reader
//! that refuses too much is only slower, never different.

use std::borrow::Cow;

use super::{MAX_DEPTH, Scanner};

/// Reads one JSON text front to back. Typical use:
/// `r.object(|r, key| match key { "type" => ..., _ => r.skip() })?; r.end()?`.
#[derive(Clone)]
pub struct Reader<'a> {
    s: Scanner<'a>,
    text: &'a str,
    depth: usize,
}

impl<'a> Reader<'a> {
    pub fn new(text: &'a str) -> Self {
        Reader { s: Scanner { b: text.as_bytes(), i: 0 }, text, depth: 0 }
    }

    /// A reader of `text` from `pos`, inside `depth` containers opened before it (to read on
    /// in the middle of an object read before, as [`Self::fields_after`] does).
    pub fn at(text: &'a str, pos: usize, depth: usize) -> Self {
        Reader { s: Scanner { b: text.as_bytes(), i: pos }, text, depth }
    }

    /// The offset of the next byte to read.
    pub fn pos(&self) -> usize {
        self.s.i
    }

    /// The first byte of the next value (after whitespace), without reading it.
    pub fn peek(&mut self) -> Option<u8> {
        self.s.ws();
        self.s.peek()
    }

    /// Steps over whitespace (before [`Self::pos`] marks where a value starts).
    pub fn skip_ws(&mut self) {
        self.s.ws();
    }

    /// An object: `member` is called with each key (as written: an escaped key is refused) and
    /// must read or [`Self::skip`] its value.
    #[inline]
    pub fn object(&mut self, member: impl FnMut(&mut Self, &'a str) -> Option<()>) -> Option<()> {
        if !self.open(b'{')? {
            return Some(());
        }
        self.members(member)
    }

    /// An object read into a struct: `field` is called with the position in `names` of each
    /// member named there and must read its value; other members are skipped. A repeated named
    /// member, which serde refuses for a struct, is refused.
    #[inline]
    pub fn fields<const N: usize>(
        &mut self,
        names: [&str; N],
        field: impl FnMut(&mut Self, usize) -> Option<()>,
    ) -> Option<()> {
        if !self.open(b'{')? {
            return Some(());
        }
        self.named(names, 0, field)
    }

    /// An object whose members named in `names` are all read by `read` (an absent one is
    /// `T::default()`), in `names`' order; the rest as [`Self::fields`] does.
    pub fn each<const N: usize, T: Default>(
        &mut self,
        names: [&str; N],
        mut read: impl FnMut(&mut Self) -> Option<T>,
    ) -> Option<[T; N]> {
        let mut out: [T; N] = std::array::from_fn(|_| T::default());
        self.fields(names, |r, i| {
            out[i] = read(r)?;
            Some(())
        })?;
        Some(out)
    }

    /// The rest of an object read by [`Self::fields`] from just after a member's value: `seen`
    /// has a bit for each member of `names` read before (the repeats to refuse).
    pub fn fields_after<const N: usize>(
        &mut self,
        names: [&str; N],
        seen: u64,
        field: impl FnMut(&mut Self, usize) -> Option<()>,
    ) -> Option<()> {
        if !self.more(b'}')? {
            return Some(());
        }
        self.named(names, seen, field)
    }

    /// Members from the next key to the end of the object, dispatched by `names`.
    #[inline]
    fn named<const N: usize>(
        &mut self,
        names: [&str; N],
        mut seen: u64,
        mut field: impl FnMut(&mut Self, usize) -> Option<()>,
    ) -> Option<()> {
        self.members(|r, key| match names.iter().position(|n| *n == key) {
            Some(i) if seen & (1 << i) != 0 => None,
            Some(i) => {
                seen |= 1 << i;
                field(r, i)
            }
            None => r.skip(),
        })
    }

    /// Members from the next key to the end of the object.
    #[inline]
    fn members(&mut self, mut member: impl FnMut(&mut Self, &'a str) -> Option<()>) -> Option<()> {
        loop {
            let key = self.key()?;
            member(self, key)?;
            if !self.more(b'}')? {
                return Some(());
            }
        }
    }

    /// The members of a closed struct (serde's `deny_unknown_fields`): `member` is called with
    /// the position in `names` of each; an unknown or repeated member gives `None`.
    pub fn closed<const N: usize>(
        &mut self,
        names: [&str; N],
        mut member: impl FnMut(&mut Self, usize) -> Option<()>,
    ) -> Option<()> {
        let mut seen = 0u64;
        self.object(|r, key| {
            let i = names.iter().position(|n| *n == key)?;
            if seen & (1 << i) != 0 {
                return None;
            }
            seen |= 1 << i;
            member(r, i)
        })
    }

    /// An array read into a `Vec`, one `item` call per element.
    pub fn list<T>(&mut self, mut item: impl FnMut(&mut Self) -> Option<T>) -> Option<Vec<T>> {
        let mut out = Vec::new();
        if !self.open(b'[')? {
            return Some(out);
        }
        loop {
            out.push(item(self)?);
            if !self.more(b']')? {
                return Some(out);
            }
        }
    }

    /// Consumes `text` if it comes next, byte for byte (no whitespace skipped); says whether it
    /// did. For matching a layout a server always writes the same way.
    pub fn lit(&mut self, text: &str) -> bool {
        let hit = self.s.b.get(self.s.i..self.s.i + text.len()) == Some(text.as_bytes());
        if hit {
            self.s.i += text.len();
        }
        hit
    }

    /// Consumes `null` if it comes next; says whether it did.
    pub fn null(&mut self) -> bool {
        self.s.ws();
        let null = self.s.b.get(self.s.i..self.s.i + 4) == Some(b"null");
        if null {
            self.s.i += 4;
        }
        null
    }

    /// A string, borrowed when it has no escapes.
    #[inline]
    pub fn str(&mut self) -> Option<Cow<'a, str>> {
        self.s.ws();
        if self.s.peek()? != b'"' {
            return None;
        }
        let start = self.s.i;
        let escaped = self.s.skip_string()?;
        let inner = self.text.get(start + 1..self.s.i - 1)?;
        if escaped {
            return unescape(inner).map(Cow::Owned);
        }
        Some(Cow::Borrowed(inner))
    }

    /// A string or `null`.
    pub fn opt_str(&mut self) -> Option<Option<Cow<'a, str>>> {
        if self.null() { Some(None) } else { self.str().map(Some) }
    }

    /// A string or `null`, owned.
    pub fn opt_string(&mut self) -> Option<Option<String>> {
        self.opt_str().map(|s| s.map(Cow::into_owned))
    }

    /// `null` or a boolean (serde's `Option<bool>`).
    pub fn opt_bool(&mut self) -> Option<Option<bool>> {
        self.s.ws();
        if self.lit("true") {
            Some(Some(true))
        } else if self.lit("false") {
            Some(Some(false))
        } else if self.null() {
            Some(None)
        } else {
            None
        }
    }

    /// `null`, or what `read` reads (serde's `Option<T>`).
    pub fn opt<T>(&mut self, read: impl FnOnce(&mut Self) -> Option<T>) -> Option<Option<T>> {
        if self.null() { Some(None) } else { read(self).map(Some) }
    }

    /// A non-negative integer that fits a `u64`, written as digits only (what serde_json reads
    /// as an unsigned integer); anything else (`-0`, `1.0`, `1e2`, past `u64::MAX`) is refused.
    pub fn u64(&mut self) -> Option<u64> {
        self.s.ws();
        let b = self.s.b;
        let start = self.s.i;
        let mut i = start;
        let mut v: u64 = 0;
        while let Some(&c @ b'0'..=b'9') = b.get(i) {
            v = v.checked_mul(10)?.checked_add(u64::from(c - b'0'))?;
            i += 1;
        }
        let digits = i - start;
        if digits == 0 || (digits > 1 && b[start] == b'0') || matches!(b.get(i), Some(b'.' | b'e' | b'E')) {
            return None;
        }
        self.s.i = i;
        Some(v)
    }

    /// A `u64` or `null`.
    pub fn opt_u64(&mut self) -> Option<Option<u64>> {
        if self.null() { Some(None) } else { self.u64().map(Some) }
    }

    /// A value read by serde_json from its own text, as the type's derived `Deserialize` reads it
    /// in place: for the members a hand reader leaves to serde.
    pub fn de<T: serde::Deserialize<'a>>(&mut self) -> Option<T> {
        serde_json::from_str(self.raw()?).ok()
    }

    /// Steps over one value of any kind, checking it.
    pub fn skip(&mut self) -> Option<()> {
        self.raw().map(|_| ())
    }

    /// Steps over one value of any kind, checking it, and returns its text.
    pub fn raw(&mut self) -> Option<&'a str> {
        self.s.ws();
        let start = self.s.i;
        self.s.value(self.depth)?;
        self.text.get(start..self.s.i)
    }

    /// The end of the text: only whitespace may follow the value read.
    pub fn end(&mut self) -> Option<()> {
        self.s.ws();
        (self.s.i == self.s.b.len()).then_some(())
    }

    /// Opens a container; `false` when it is empty (and already closed).
    fn open(&mut self, open: u8) -> Option<bool> {
        self.s.ws();
        if self.s.peek()? != open || self.depth + 1 >= MAX_DEPTH {
            return None;
        }
        self.s.i += 1;
        self.depth += 1;
        self.s.ws();
        if self.s.peek()? == open + 2 {
            // `}` is `{` + 2, `]` is `[` + 2.
            self.s.i += 1;
            self.depth -= 1;
            return Some(false);
        }
        Some(true)
    }

    /// After a member or element: `true` on a comma, `false` on the closing bracket.
    fn more(&mut self, close: u8) -> Option<bool> {
        self.s.ws();
        let c = self.s.peek()?;
        self.s.i += 1;
        if c == close {
            self.depth -= 1;
            return Some(false);
        }
        (c == b',').then_some(true)
    }

    /// A member's key and its colon.
    fn key(&mut self) -> Option<&'a str> {
        self.s.ws();
        if self.s.peek()? != b'"' {
            return None;
        }
        let start = self.s.i;
        if self.s.skip_string()? {
            return None; // an escaped key: serde_json decides
        }
        let key = self.text.get(start + 1..self.s.i - 1)?;
        self.s.ws();
        if self.s.peek()? != b':' {
            return None;
        }
        self.s.i += 1;
        Some(key)
    }
}

/// The text of a string's inside whose escapes [`Scanner::skip_string`] has checked (`\u` of a
/// surrogate excluded); `None` if one is not what it checks.
fn unescape(inner: &str) -> Option<String> {
    let mut out = String::with_capacity(inner.len());
    let mut rest = inner;
    // memchr searches a vector at a time (`str::find` on a `char` goes a word at a time).
    while let Some(at) = memchr::memchr(b'\\', rest.as_bytes()) {
        out.push_str(&rest[..at]);
        let code = rest.as_bytes().get(at + 1)?;
        let (c, len) = match code {
            b'"' => ('"', 2),
            b'\\' => ('\\', 2),
            b'/' => ('/', 2),
            b'b' => ('\u{8}', 2),
            b'f' => ('\u{c}', 2),
            b'n' => ('\n', 2),
            b'r' => ('\r', 2),
            b't' => ('\t', 2),
            b'u' => (char::from_u32(u32::from_str_radix(rest.get(at + 2..at + 6)?, 16).ok()?)?, 6),
            _ => return None,
        };
        out.push(c);
        rest = rest.get(at + len..)?;
    }
    out.push_str(rest);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads `{"a": u64|null, "s": string|null, "l": [string...]}`, other members skipped.
    fn read(text: &str) -> Option<(Option<u64>, Option<String>, Vec<String>)> {
        let mut r = Reader::new(text);
        let (mut a, mut s, mut l) = (None, None, Vec::new());
        r.fields(["a", "s", "l"], |r, i| {
            match i {
                0 => a = r.opt_u64()?,
                1 => s = r.opt_str()?.map(Cow::into_owned),
                _ => l = r.list(|r| r.str().map(Cow::into_owned))?,
            }
            Some(())
        })?;
        r.end()?;
        Some((a, s, l))
    }

    #[test]
    fn unescapes_as_serde_json_does() {
        for text in [r#""a\"b\\c\/d\b\f\n\r\t\u00e9\u20ac\u0000x""#, r#""\\\\""#, r#""\u0041\"""#, r#""plain""#] {
            let want: String = serde_json::from_str(text).unwrap();
            assert_eq!(Reader::new(text).str().unwrap(), want, "{text}");
        }
        // `\u` with a non-hex digit, which skip_string refuses first.
        assert_eq!(Reader::new(r#""\u00g1""#).str(), None);
    }

    #[test]
    fn reads_members_and_skips_the_rest() {
        let got = read(r#" { "a" : 12 , "x":{"y":[1,{"z":null}]}, "s":"h\u00e9\"" ,"l":["p","q"],"n":-1.5e3 } "#);
        assert_eq!(got, Some((Some(12), Some("hé\"".to_string()), vec!["p".into(), "q".into()])));
        assert_eq!(read("{}"), Some((None, None, Vec::new())));
        assert_eq!(read(r#"{"a":null,"s":null,"l":[]}"#), Some((None, None, Vec::new())));
        assert_eq!(read(r#"{"a":18446744073709551615}"#).unwrap().0, Some(u64::MAX));
    }

    #[test]
    fn refuses_what_serde_json_would_refuse_or_read_otherwise() {
        for text in [
            r#"{"a":01}"#,
            r#"{"a":1.0}"#,
            r#"{"a":1e2}"#,
            r#"{"a":-0}"#,
            r#"{"a":18446744073709551616}"#,
            r#"{"a":"1"}"#,
            r#"{"s":1}"#,
            r#"{"s":"\ud800"}"#,
            r#"{"s":"\x"}"#,
            "{\"s\":\"\u{1}\"}",
            r#"{"\u0061":1}"#,
            r#"{"a":1,}"#,
            r#"{"a":1,"a":2}"#,
            r#"{"a":1 "s":null}"#,
            r#"{"a":1} x"#,
            r#"{"l":[,]}"#,
            r#"{"l":["p",]}"#,
            r#"{"x":[}"#,
            r#"{"x":nul}"#,
            r#"[1]"#,
            "",
        ] {
            assert_eq!(read(text), None, "{text}");
        }
        let deep = format!("{{\"x\":{}{}}}", "[".repeat(150), "]".repeat(150));
        assert_eq!(read(&deep), None);
    }

    /// Whatever the reader reads, serde_json reads the same from the same text.
    #[test]
    fn agrees_with_serde_on_mutated_texts() {
        #[derive(serde::Deserialize, Debug, PartialEq)]
        #[serde(default)]
        #[derive(Default)]
        struct Shape {
            a: Option<u64>,
            s: Option<String>,
            l: Option<Vec<String>>,
        }
        let seed = r#"{"x":[1,{"y":null}],"a":7,"s":"q\"\u00e9","l":["p","r"],"z":-2.5e1}"#;
        let mut read_some = 0;
        for b in super::super::mutations(seed.as_bytes(), 5000, 21) {
            let Ok(text) = std::str::from_utf8(&b) else { continue };
            let Some((a, s, l)) = read(text) else { continue };
            let serde = serde_json::from_str::<Shape>(text);
            assert!(serde.is_ok(), "the reader took what serde refuses: {text}");
            let serde = serde.unwrap();
            assert_eq!((serde.a, serde.s, serde.l.unwrap_or_default()), (a, s, l), "{text}");
            read_some += 1;
        }
        assert!(read_some > 500, "most mutations are refused: {read_some}");
    }
}

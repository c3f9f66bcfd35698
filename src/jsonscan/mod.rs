//! The fast path of [`crate::gateway::splice::TopLevel::parse`]: one pass over a request body
//! that checks it is a JSON object and finds each top-level member's key and value range, without
//! building anything. The body is read by 64-byte blocks of bit masks ([`blocks`]): strings, most
//! of a coding agent's body, cost only their blocks' masks.
//!
//! It only ever vouches for a body serde_json accepts with the same members: anything it is not
//! sure of (invalid JSON, an escaped key, a `\u` surrogate, nesting past [`MAX_DEPTH`], a repeated
//! key) returns `None`, and the caller runs serde_json, which gives the exact error or the answer.
//!
//! [`Reader`] reads chosen members of a small JSON text the same checked way (the stream
//! decoders' fast path).

use std::borrow::Cow;
use std::ops::Range;

mod blocks;
mod reader;
pub use reader::Reader;

/// Deeper than this, serde_json (recursion limit 128) decides.
const MAX_DEPTH: usize = 100;

/// The top-level members of a JSON object body: each key (as written, no escapes in it) and the
/// byte range of its value; `None` when serde_json must decide. Read by 64-byte blocks
/// ([`blocks`]).
pub fn members(body: &[u8]) -> Option<Vec<(Cow<'_, str>, Range<usize>)>> {
    blocks::members(body)
}

#[derive(Clone)]
struct Scanner<'a> {
    b: &'a [u8],
    i: usize,
}

impl Scanner<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    #[inline(always)]
    fn ws(&mut self) {
        while let Some(&c) = self.b.get(self.i) {
            if !matches!(c, b' ' | b'\n' | b'\r' | b'\t') {
                return;
            }
            self.i += 1;
        }
    }

    /// One value starting at `self.i` (no leading whitespace); `depth` counts open containers.
    fn value(&mut self, depth: usize) -> Option<()> {
        match self.peek()? {
            b'"' => self.skip_string().map(|_| ()),
            b'{' => self.container(depth, b'}', true),
            b'[' => self.container(depth, b']', false),
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'n' => self.literal(b"null"),
            b'-' | b'0'..=b'9' => self.number(),
            _ => None,
        }
    }

    fn container(&mut self, depth: usize, close: u8, object: bool) -> Option<()> {
        if depth >= MAX_DEPTH {
            return None;
        }
        self.i += 1;
        self.ws();
        if self.peek()? == close {
            self.i += 1;
            return Some(());
        }
        loop {
            if object {
                if self.peek()? != b'"' {
                    return None;
                }
                self.skip_string()?;
                self.ws();
                if self.peek()? != b':' {
                    return None;
                }
                self.i += 1;
                self.ws();
            }
            self.value(depth + 1)?;
            self.ws();
            let c = self.peek()?;
            self.i += 1;
            if c == close {
                return Some(());
            }
            if c != b',' {
                return None;
            }
            self.ws();
        }
    }

    fn literal(&mut self, word: &[u8]) -> Option<()> {
        if self.b.get(self.i..self.i + word.len())? != word {
            return None;
        }
        self.i += word.len();
        Some(())
    }

    /// serde_json's number grammar: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
    fn number(&mut self) -> Option<()> {
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        match self.peek()? {
            b'0' => self.i += 1,
            b'1'..=b'9' => self.digits(),
            _ => return None,
        }
        if self.peek() == Some(b'.') {
            self.i += 1;
            self.some_digits()?;
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.i += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.i += 1;
            }
            self.some_digits()?;
        }
        Some(())
    }

    fn digits(&mut self) {
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.i += 1;
        }
    }

    fn some_digits(&mut self) -> Option<()> {
        let start = self.i;
        self.digits();
        (self.i > start).then_some(())
    }

    /// A string starting at the opening quote; leaves `self.i` after the closing one and says
    /// whether the string has an escape. Control characters are refused, as serde_json does; a
    /// `\u` escape of a surrogate is left to serde_json.
    #[inline(always)]
    fn skip_string(&mut self) -> Option<bool> {
        let b = self.b;
        let mut i = self.i + 1;
        let mut escaped = false;
        loop {
            i = special_at(b, i)?;
            match b[i] {
                b'"' => {
                    self.i = i + 1;
                    return Some(escaped);
                }
                b'\\' => {
                    escaped = true;
                    self.i = i;
                    self.escape()?;
                    i = self.i;
                }
                _ => return None, // a control character
            }
        }
    }

    /// The escape at `self.i` (a backslash); leaves `self.i` after it.
    #[inline]
    fn escape(&mut self) -> Option<()> {
        match *self.b.get(self.i + 1)? {
            b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => {
                self.i += 2;
                Some(())
            }
            b'u' => {
                let hex = self.b.get(self.i + 2..self.i + 6)?;
                let mut v: u32 = 0;
                for &h in hex {
                    v = v * 16 + char::from(h).to_digit(16)?;
                }
                if (0xD800..0xE000).contains(&v) {
                    return None;
                }
                self.i += 6;
                Some(())
            }
            _ => None,
        }
    }
}

/// The offset in `b` of the first `"`, `\` or control character at or after `from`. Bytes
/// before `from` are never reported, but they may be read: a short tail is checked with one
/// 16-byte load that ends at the end of `b`, instead of a byte at a time; a `b` shorter than 16
/// bytes (a key, a role, an id being written) eight bytes at a time.
#[inline(always)]
pub(crate) fn special_at(b: &[u8], from: usize) -> Option<usize> {
    #[cfg(target_arch = "x86_64")]
    let i = match simd::skip_plain(b, from) {
        Ok(found) => return found,
        Err(tail) => tail,
    };
    #[cfg(not(target_arch = "x86_64"))]
    let i = from;
    short_special_at(b, i)
}

/// [`special_at`] by words: eight bytes a step, the last step reading the final eight bytes
/// again (those read twice were plain, so the first hit stays the first); fewer than eight
/// bytes as two overlapping four-byte halves of one word. Not inlined: the scans' loops that
/// inline [`special_at`] read whole bodies and almost never come here.
#[inline(never)]
fn short_special_at(b: &[u8], from: usize) -> Option<usize> {
    let len = b.len();
    let mut i = from;
    if i + 8 <= len {
        loop {
            if let Some(at) = word_special(word(b, i)) {
                return Some(i + at);
            }
            i += 8;
            if i + 8 > len {
                break;
            }
        }
        if i == len {
            return None;
        }
        let last = len - 8;
        return word_special(word(b, last)).map(|at| last + at);
    }
    if len.saturating_sub(i) >= 4 {
        let x = u64::from(half(b, i)) | u64::from(half(b, len - 4)) << 32;
        return word_special(x).map(|at| if at < 4 { i + at } else { len - 4 + (at - 4) });
    }
    while let Some(&c) = b.get(i) {
        if c == b'"' || c == b'\\' || c < 0x20 {
            return Some(i);
        }
        i += 1;
    }
    None
}

/// The four bytes of `b` at `at`, little-endian (`at + 4 <= b.len()`).
#[inline(always)]
fn half(b: &[u8], at: usize) -> u32 {
    let mut w = [0u8; 4];
    w.copy_from_slice(&b[at..at + 4]);
    u32::from_le_bytes(w)
}

/// The eight bytes of `b` at `at`, little-endian (`at + 8 <= b.len()`).
#[inline(always)]
fn word(b: &[u8], at: usize) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(w)
}

/// The index of the first `"`, `\` or control byte in the eight bytes of `x` (little-endian).
/// Each test is the "has a zero byte" trick: a byte borrowing from the one below can be flagged
/// falsely, but only above a true hit, so the lowest flag is exact.
#[inline(always)]
fn word_special(x: u64) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let zero = |v: u64| v.wrapping_sub(ONES) & !v & HIGH;
    let ctrl = x.wrapping_sub(ONES * 0x20) & !x & HIGH;
    let hits = ctrl | zero(x ^ (ONES * u64::from(b'"'))) | zero(x ^ (ONES * u64::from(b'\\')));
    (hits != 0).then(|| hits.trailing_zeros() as usize / 8)
}

#[cfg(target_arch = "x86_64")]
mod simd {
    use std::arch::x86_64::{_mm_cmpeq_epi8, _mm_min_epu8, _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8};

    /// The first special byte at or after `from` when `b` has 16 bytes or more (`Ok`; `None`
    /// when there is none), else where the scalar loop must start (`Err`, when `b` is shorter
    /// than one block).
    #[inline(always)]
    pub fn skip_plain(b: &[u8], from: usize) -> Result<Option<usize>, usize> {
        if b.len() < 16 {
            return Err(from);
        }
        // SAFETY: SSE2 is part of the x86_64 baseline, so these intrinsics are always available.
        unsafe {
            let quote = _mm_set1_epi8(b'"' as i8);
            let backslash = _mm_set1_epi8(b'\\' as i8);
            let ctrl_max = _mm_set1_epi8(0x1f);
            Ok(crate::bytescan::simd::first(b, from, |x| {
                // x <= 0x1f (unsigned) exactly when min(x, 0x1f) == x.
                let ctrl = _mm_cmpeq_epi8(_mm_min_epu8(x, ctrl_max), x);
                let hit = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, quote), _mm_cmpeq_epi8(x, backslash)), ctrl);
                _mm_movemask_epi8(hit) as u32
            }))
        }
    }
}

/// `n` seeded random mutations of `seed` (one to three bytes changed, inserted or removed, from
/// an alphabet of JSON's structural bytes, escapes, digits, literals and bad bytes): the tests
/// that hold a fast reading to serde_json's.
#[cfg(test)]
pub(crate) fn mutations(seed: &[u8], n: usize, rng_seed: u64) -> Vec<Vec<u8>> {
    let alphabet = b"{}[]\",:\\ \n\t0123456789.-+eEtrufalsn\x01\x1f\x7f\xc3\xa9u";
    let mut rng = fastrand::Rng::with_seed(rng_seed);
    (0..n)
        .map(|_| {
            let mut b = seed.to_vec();
            for _ in 0..rng.usize(1..4) {
                let at = rng.usize(0..b.len().max(1));
                let byte = alphabet[rng.usize(0..alphabet.len())];
                match rng.u8(0..3) {
                    0 if at < b.len() => b[at] = byte,
                    2 if at < b.len() => {
                        b.remove(at);
                    }
                    _ => b.insert(at.min(b.len()), byte),
                }
            }
            b
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What serde_json says of a body: its members (key, value range) or refusal.
    fn serde_members(body: &[u8]) -> Option<Vec<(String, Range<usize>)>> {
        crate::gateway::splice::TopLevel::parse_with_serde(body)
            .ok()
            .map(|t| t.fields.into_iter().map(|(k, r)| (k.into_owned(), r)).collect())
    }

    fn check(body: &[u8]) {
        if let Some(fast) = members(body) {
            let fast: Vec<(String, Range<usize>)> = fast.into_iter().map(|(k, r)| (k.into_owned(), r)).collect();
            assert_eq!(Some(fast), serde_members(body), "body {:?}", String::from_utf8_lossy(body));
        }
    }

    /// The block and word searches, their overlapping tails included, find what a byte loop finds
    /// from every start in texts of every length around the block and word sizes.
    #[test]
    fn special_at_finds_the_first_special_byte() {
        let mut rng = fastrand::Rng::with_seed(5);
        for len in 0..70 {
            for _ in 0..40 {
                // Dense and sparse: a special byte one time in two, or one in sixteen.
                let sparse = rng.bool();
                let b: Vec<u8> = (0..len)
                    .map(|_| {
                        let plain = sparse && rng.u8(..16) != 0;
                        let alphabet: &[u8] =
                            if plain { b"ab !~\x7f\x80\xc3\xff" } else { b"ab\"\\\x00\x01\x1f !~\x7f\x80\xc3\xff" };
                        *rng.choice(alphabet).unwrap()
                    })
                    .collect();
                for from in 0..=len + 1 {
                    let slow = (from..len).find(|&i| b[i] == b'"' || b[i] == b'\\' || b[i] < 0x20);
                    assert_eq!(special_at(&b, from), slow, "{b:?} from {from}");
                }
            }
        }
    }

    #[test]
    fn finds_members_of_valid_bodies() {
        let body = br#" { "model" : "a\"b",  "n":-1.5e+3, "x":{"y":[true,false,null,{}],"z":"\u00e9\n"} ,"s":[] } "#;
        let m = members(body).unwrap();
        let keys: Vec<&str> = m.iter().map(|(k, _)| k.as_ref()).collect();
        assert_eq!(keys, ["model", "n", "x", "s"]);
        assert_eq!(&body[m[0].1.clone()], br#""a\"b""#);
        assert_eq!(&body[m[1].1.clone()], b"-1.5e+3");
        check(body);
        assert_eq!(members(b"{}").unwrap().len(), 0);
        let long = format!(r#"{{"k":"{}","m":"{}\"x"}}"#, "a".repeat(100), "b".repeat(33));
        assert_eq!(members(long.as_bytes()).unwrap().len(), 2);
        check(long.as_bytes());
    }

    #[test]
    fn leaves_doubtful_bodies_to_serde() {
        for body in [
            &b"[1]"[..],
            b"{\"a\":1} x",
            b"{\"a\":01}",
            b"{\"a\":1.}",
            b"{\"a\":-}",
            b"{\"a\":tru}",
            b"{\"a\":1,}",
            b"{\"a\" 1}",
            b"{\"a\":\"\x01\"}",
            b"{\"a\":\"\\x\"}",
            b"{\"a\":\"\\ud800\"}",
            b"{\"mod\\u0065l\":1}",
            b"{\"a\":1,\"a\":2}",
            b"{\"a\":\"\xff\"}",
            b"{\"a\":[1,2}",
            b"{\"a\":\"abc",
            b"",
        ] {
            assert!(members(body).is_none(), "{:?}", String::from_utf8_lossy(body));
        }
        let deep = format!("{{\"a\":{}{}}}", "[".repeat(150), "]".repeat(150));
        assert!(members(deep.as_bytes()).is_none());
    }

    /// Seeded mutations of real request bodies: whatever the fast scan vouches for, serde_json
    /// accepts with the same members.
    #[test]
    fn agrees_with_serde_on_mutated_bodies() {
        // The bench fixtures are templates: `__STREAM__` stands for a boolean.
        let fixture = |t: &str| t.replace("__STREAM__", "true").into_bytes();
        let seeds: [Vec<u8>; 3] = [
            fixture(include_str!("../../benches/fixtures/request-openai.json")),
            fixture(include_str!("../../benches/fixtures/request-anthropic.json")),
            br#"{"model":"m","messages":[{"role":"user","content":"h\u00e9\"llo\\"}],"n":[0,-0.5,1e9,true,null]}"#
                .to_vec(),
        ];
        for (n, seed) in seeds.iter().enumerate() {
            check(seed);
            assert!(members(seed).is_some());
            for b in mutations(seed, 3000, 13 + n as u64) {
                check(&b);
            }
        }
    }
}

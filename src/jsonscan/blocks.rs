//! [`super::members`] by 64-byte blocks. Each block becomes bit masks (quotes, backslashes,
//! control characters, spaces, non-ASCII bytes) from a few vector compares; the bytes inside
//! strings follow from the quote mask by a prefix XOR; what is left (structural bytes, string
//! starts, scalars: a few hundred in a coding agent's 5 KB body) goes through the grammar one
//! token at a time, by a table indexed by state and byte. A string costs its blocks' masks and
//! nothing per byte; an escape costs its own check.
//!
//! It vouches for what the byte-at-a-time [`super::Reader`] vouched for: a JSON object serde_json
//! accepts with the same members. Anything doubtful (an escaped top-level key, a `\u` surrogate,
//! nesting past [`MAX_DEPTH`], a repeated key, invalid JSON) is `None`, and serde_json decides.

use std::borrow::Cow;
use std::ops::Range;

use super::{MAX_DEPTH, Scanner};

/// The members found: each top-level key's text (no quotes) and its value's bytes.
type Found = Vec<(Range<usize>, Range<usize>)>;

// The grammar's states. Depth 1 (members of the body's object) has its own states, whose
// tokens record where keys and values are; deeper, most tokens only change the state.
/// The body's `{` (whitespace before it).
const OPEN: u8 = 0;
/// A value after `:` (in an object).
const VALUE_IN_OBJECT: u8 = 1;
/// A value after `,` in an array.
const VALUE_IN_ARRAY: u8 = 2;
/// A value or `]`, just after `[`.
const VALUE_OR_CLOSE: u8 = 3;
/// A key or `}`, just after `{`.
const KEY_OR_CLOSE: u8 = 4;
/// A key after `,`.
const KEY: u8 = 5;
/// `:` after a key.
const COLON: u8 = 6;
/// `,` or `}` after a value in an object.
const OBJECT_NEXT: u8 = 7;
/// `,` or `]` after a value in an array.
const ARRAY_NEXT: u8 = 8;
/// A top-level key or `}`, just after the body's `{`.
const TOP_KEY_OR_CLOSE: u8 = 9;
/// A top-level key after `,`.
const TOP_KEY: u8 = 10;
/// `:` after a top-level key.
const TOP_COLON: u8 = 11;
/// A top-level member's value.
const TOP_VALUE: u8 = 12;
/// `,` or `}` after a top-level member's value.
const TOP_NEXT: u8 = 13;
/// The body's object is closed: only whitespace may follow.
const DONE: u8 = 14;
const STATES: usize = 16;

// What a token does when it is not a plain change of state (table entries from 0x80 up).
const SPECIAL: u8 = 0x80;
const ERR: u8 = 0xff;
const A_OPEN_OBJECT: u8 = SPECIAL;
const A_OPEN_ARRAY: u8 = SPECIAL + 1;
const A_SCALAR: u8 = SPECIAL + 2;
const A_CLOSE: u8 = SPECIAL + 3;
const A_TOP_STRING: u8 = SPECIAL + 4;
const A_TOP_KEY: u8 = SPECIAL + 5;
const A_TOP_COMMA: u8 = SPECIAL + 6;
const A_TOP_CLOSE: u8 = SPECIAL + 7;

/// `AFTER[state]`: the state after a value that `state` expected (the container's next
/// separator or close; `DONE` after the body's object).
const AFTER: [u8; STATES] = {
    let mut t = [DONE; STATES];
    t[VALUE_IN_OBJECT as usize] = OBJECT_NEXT;
    t[VALUE_IN_ARRAY as usize] = ARRAY_NEXT;
    t[VALUE_OR_CLOSE as usize] = ARRAY_NEXT;
    t[TOP_VALUE as usize] = TOP_NEXT;
    t
};

/// `NEXT[state][byte]`: the next state, or what to do (`SPECIAL` and up).
static NEXT: [[u8; 256]; STATES] = {
    let mut t = [[ERR; 256]; STATES];
    t[OPEN as usize][b'{' as usize] = A_OPEN_OBJECT;
    // The states that expect a value. A string is a plain change of state to the one after
    // the value, except at the top level, where its start is recorded.
    let values = [VALUE_IN_OBJECT, VALUE_IN_ARRAY, VALUE_OR_CLOSE, TOP_VALUE];
    let mut v = 0;
    while v < values.len() {
        let s = values[v];
        let row = &mut t[s as usize];
        row[b'{' as usize] = A_OPEN_OBJECT;
        row[b'[' as usize] = A_OPEN_ARRAY;
        row[b'"' as usize] = if s == TOP_VALUE { A_TOP_STRING } else { AFTER[s as usize] };
        let scalar = b"tfn-0123456789";
        let mut i = 0;
        while i < scalar.len() {
            row[scalar[i] as usize] = A_SCALAR;
            i += 1;
        }
        v += 1;
    }
    t[VALUE_OR_CLOSE as usize][b']' as usize] = A_CLOSE;
    t[KEY_OR_CLOSE as usize][b'"' as usize] = COLON;
    t[KEY_OR_CLOSE as usize][b'}' as usize] = A_CLOSE;
    t[KEY as usize][b'"' as usize] = COLON;
    t[COLON as usize][b':' as usize] = VALUE_IN_OBJECT;
    t[OBJECT_NEXT as usize][b',' as usize] = KEY;
    t[OBJECT_NEXT as usize][b'}' as usize] = A_CLOSE;
    t[ARRAY_NEXT as usize][b',' as usize] = VALUE_IN_ARRAY;
    t[ARRAY_NEXT as usize][b']' as usize] = A_CLOSE;
    t[TOP_KEY_OR_CLOSE as usize][b'"' as usize] = A_TOP_KEY;
    t[TOP_KEY_OR_CLOSE as usize][b'}' as usize] = A_TOP_CLOSE;
    t[TOP_KEY as usize][b'"' as usize] = A_TOP_KEY;
    t[TOP_COLON as usize][b':' as usize] = TOP_VALUE;
    t[TOP_NEXT as usize][b',' as usize] = A_TOP_COMMA;
    t[TOP_NEXT as usize][b'}' as usize] = A_TOP_CLOSE;
    t
};

/// The masks of one 64-byte block: bit `i` stands for byte `i`.
struct Block {
    quote: u64,
    backslash: u64,
    /// Bytes below 0x20.
    ctrl: u64,
    space: u64,
    /// Bytes 0x80 and up.
    high: u64,
}

/// How a CPU computes a block's masks.
trait Masks {
    /// # Safety
    /// The CPU has the features the implementation is compiled for.
    unsafe fn block(b: &[u8; 64]) -> Block;

    /// Bit `i` of the answer: the XOR of bits `0..=i` of `x`.
    ///
    /// # Safety
    /// As for [`Self::block`].
    #[inline(always)]
    unsafe fn prefix_xor(x: u64) -> u64 {
        prefix_xor(x)
    }
}

/// The top-level members of a JSON object body (see [`super::members`]).
pub fn members(body: &[u8]) -> Option<Vec<(Cow<'_, str>, Range<usize>)>> {
    #[cfg(target_arch = "x86_64")]
    {
        if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("pclmulqdq") {
            // SAFETY: the CPU has AVX2 and PCLMULQDQ, checked just above.
            return unsafe { x86::members_avx2(body) };
        }
        scan::<x86::Sse2>(body)
    }
    #[cfg(not(target_arch = "x86_64"))]
    scan::<Bytes>(body)
}

/// The grammar walk's state between tokens.
struct Walk {
    state: u8,
    /// Open containers.
    depth: usize,
    /// The state to return to when each open container closes.
    returns: [u8; MAX_DEPTH],
    /// Where the current top-level member's key text and value start.
    key: Range<usize>,
    value_start: usize,
    found: Found,
}

/// The scan with `M`'s masks; inlined into each CPU's entry point so that its vector code is
/// compiled with that CPU's features.
#[inline(always)]
fn scan<M: Masks>(body: &[u8]) -> Option<Vec<(Cow<'_, str>, Range<usize>)>> {
    let mut w = Walk {
        state: OPEN,
        depth: 0,
        returns: [0; MAX_DEPTH],
        key: 0..0,
        value_start: 0,
        found: Vec::with_capacity(12),
    };
    let mut escaped_carry = 0u64; // 1: byte 0 of the next block is escaped
    let mut in_string = 0u64; // all ones while a string runs on into the next block
    let mut skip_until = 0; // a scalar read past its block: its bytes there were read with it
    let mut high = 0u64;
    let mut pad = [b' '; 64];
    let mut base = 0;
    while base < body.len() {
        let chunk: &[u8; 64] = match body.get(base..base + 64).and_then(|c| c.try_into().ok()) {
            Some(c) => c,
            None => {
                // The tail, padded with spaces (whitespace: never a token, never in a string).
                pad[..body.len() - base].copy_from_slice(&body[base..]);
                &pad
            }
        };
        // SAFETY: `members` checked the CPU features of `M`.
        // black_box: all five masks made here, at once (else the compiler keeps the block's
        // vectors on the stack across the calls below and makes some masks after them, twice).
        let m = std::hint::black_box(unsafe { M::block(chunk) });
        high |= m.high;
        let (mut escaped, mut escapes) = (escaped_carry, 0);
        if m.backslash | escaped_carry != 0 {
            let carry;
            (escaped, carry) = escaped_by(m.backslash, escaped_carry);
            // Each escape is checked (below, once this block's masks are made): the
            // backslashes that start one.
            escapes = m.backslash & !escaped;
            escaped_carry = carry;
        }
        let quotes = m.quote & !escaped;
        // Bit i: inside a string, its opening quote included and its closing quote not.
        // SAFETY: as for `M::block`.
        let inside = unsafe { M::prefix_xor(quotes) } ^ in_string;
        in_string = 0u64.wrapping_sub(inside >> 63);
        // No control character in a string; outside, only tab, line feed and return.
        if m.ctrl != 0 && (m.ctrl & inside != 0 || !whitespace(chunk, m.ctrl)) {
            return None;
        }
        // Every byte outside strings that is not whitespace, and every string's opening quote.
        let mut tokens = !(inside | quotes | m.ctrl | m.space) | (quotes & inside);
        if escapes != 0 {
            check_escapes(body, base, escapes)?;
        }
        if skip_until > base {
            tokens &= below_cleared(skip_until - base);
        }
        while tokens != 0 {
            let i = tokens.trailing_zeros() as usize & 63;
            tokens &= tokens - 1;
            let c = chunk[i];
            let next = NEXT[w.state as usize & (STATES - 1)][c as usize];
            if next < SPECIAL {
                w.state = next;
                continue;
            }
            let pos = base + i;
            match next {
                A_SCALAR => {
                    let end = scalar_end(body, pos)?;
                    w.after_value(pos);
                    if end - base < 64 {
                        tokens &= below_cleared(end - base);
                    } else {
                        tokens = 0;
                        skip_until = end;
                    }
                }
                A_OPEN_OBJECT | A_OPEN_ARRAY => {
                    if w.depth >= MAX_DEPTH {
                        return None;
                    }
                    w.returns[w.depth] = AFTER[w.state as usize & (STATES - 1)];
                    if w.state == TOP_VALUE {
                        w.value_start = pos;
                    }
                    w.depth += 1;
                    w.state = match (next, w.depth) {
                        (A_OPEN_OBJECT, 1) => TOP_KEY_OR_CLOSE,
                        (A_OPEN_OBJECT, _) => KEY_OR_CLOSE,
                        _ => VALUE_OR_CLOSE,
                    };
                }
                A_CLOSE => {
                    w.depth -= 1;
                    w.state = w.returns[w.depth];
                }
                _ => w.top(next, body, pos)?,
            }
        }
        base += 64;
    }
    if in_string != 0 || w.state != DONE {
        return None;
    }
    // Outside strings only ASCII is valid JSON (the walk refused anything else), so the body is
    // UTF-8 when its strings are.
    let text = if high == 0 {
        // SAFETY: no byte has its high bit set: the body is ASCII, which is UTF-8.
        unsafe { std::str::from_utf8_unchecked(body) }
    } else {
        std::str::from_utf8(body).ok()?
    };
    Some(w.found.into_iter().map(|(k, v)| (Cow::Borrowed(&text[k]), v)).collect())
}

/// A mask with bits `0..n` clear and the rest set (`n` up to 64).
#[inline(always)]
fn below_cleared(n: usize) -> u64 {
    if n >= 64 { 0 } else { !0u64 << n }
}

/// The end of the literal or number starting at `pos`, checked as serde_json reads it.
fn scalar_end(body: &[u8], pos: usize) -> Option<usize> {
    let mut s = Scanner { b: body, i: pos };
    match body[pos] {
        b't' => s.literal(b"true")?,
        b'f' => s.literal(b"false")?,
        b'n' => s.literal(b"null")?,
        _ => s.number()?,
    }
    Some(s.i)
}

impl Walk {
    /// The state after a scalar value that started at `pos`.
    #[inline(always)]
    fn after_value(&mut self, pos: usize) {
        if self.state == TOP_VALUE {
            self.value_start = pos;
        }
        self.state = AFTER[self.state as usize & (STATES - 1)];
    }

    /// The tokens that mark top-level members: a string value, a key, the `,` or `}` after a
    /// value.
    #[inline(never)]
    fn top(&mut self, action: u8, body: &[u8], pos: usize) -> Option<()> {
        match action {
            A_TOP_STRING => {
                self.value_start = pos;
                self.state = TOP_NEXT;
            }
            A_TOP_KEY => {
                // Read as written: an escaped key goes to serde_json, as does a repeated one.
                let end = super::special_at(body, pos + 1)?;
                if body[end] != b'"' {
                    return None;
                }
                let key = &body[pos + 1..end];
                if self.found.iter().any(|(k, _)| &body[k.clone()] == key) {
                    return None;
                }
                self.key = pos + 1..end;
                self.state = TOP_COLON;
            }
            A_TOP_COMMA | A_TOP_CLOSE => {
                if self.state == TOP_NEXT {
                    // The value ends before this `,` or `}`, less whitespace.
                    let mut end = pos;
                    while matches!(body[end - 1], b' ' | b'\n' | b'\r' | b'\t') {
                        end -= 1;
                    }
                    self.found.push((self.key.clone(), self.value_start..end));
                }
                if action == A_TOP_COMMA {
                    self.state = TOP_KEY;
                } else {
                    self.depth -= 1;
                    self.state = DONE;
                }
            }
            _ => return None,
        }
        Some(())
    }
}

/// The bytes escaped in a block whose backslashes are `backslash`, when `carry` (1) says byte 0
/// is escaped by the block before; and whether byte 0 of the next block is. In a run of
/// backslashes every second one is escaped, counting from the run's start, and so is the byte
/// after the run when the run is odd. Adding a run's first bit to the mask clears the run and
/// sets the bit after it (`b ^ sum` is the run and that bit); of those, the escaped bits are
/// the ones whose parity differs from the start's.
#[inline(always)]
fn escaped_by(backslash: u64, carry: u64) -> (u64, u64) {
    const EVEN: u64 = 0x5555_5555_5555_5555;
    let b = backslash & !carry;
    let starts = b & !(b << 1);
    let (from_even, _) = b.overflowing_add(starts & EVEN);
    let (from_odd, out) = b.overflowing_add(starts & !EVEN);
    let escaped = ((b ^ from_even) & !EVEN) | ((b ^ from_odd) & EVEN) | carry;
    (escaped, u64::from(out))
}

/// Each escape whose backslash is marked in `escapes` (bit i: `body[base + i]`) is one
/// serde_json reads the same way: `\u` with four hex digits that are not a surrogate (those go
/// to serde_json), or one of `"\/bfnrt`.
#[cold]
fn check_escapes(body: &[u8], base: usize, mut escapes: u64) -> Option<()> {
    while escapes != 0 {
        let at = base + escapes.trailing_zeros() as usize;
        escapes &= escapes - 1;
        Scanner { b: body, i: at }.escape()?;
    }
    Some(())
}

/// Every byte of `chunk` marked in `ctrl` is a tab, a line feed or a carriage return.
#[inline]
fn whitespace(chunk: &[u8; 64], mut ctrl: u64) -> bool {
    while ctrl != 0 {
        let c = chunk[ctrl.trailing_zeros() as usize & 63];
        ctrl &= ctrl - 1;
        if !matches!(c, b'\n' | b'\r' | b'\t') {
            return false;
        }
    }
    true
}

/// Bit `i` of the answer: the XOR of bits `0..=i` of `x`.
#[inline(always)]
fn prefix_xor(mut x: u64) -> u64 {
    x ^= x << 1;
    x ^= x << 2;
    x ^= x << 4;
    x ^= x << 8;
    x ^= x << 16;
    x ^= x << 32;
    x
}

/// Masks a byte at a time (CPUs without a vector version here; the tests' reference).
#[cfg(any(test, not(target_arch = "x86_64")))]
struct Bytes;

#[cfg(any(test, not(target_arch = "x86_64")))]
impl Masks for Bytes {
    unsafe fn block(b: &[u8; 64]) -> Block {
        let mut m = Block { quote: 0, backslash: 0, ctrl: 0, space: 0, high: 0 };
        for (i, &c) in b.iter().enumerate() {
            let bit = 1u64 << i;
            m.quote |= bit * u64::from(c == b'"');
            m.backslash |= bit * u64::from(c == b'\\');
            m.ctrl |= bit * u64::from(c < 0x20);
            m.space |= bit * u64::from(c == b' ');
            m.high |= bit * u64::from(c >= 0x80);
        }
        m
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::{
        __m128i, __m256i, _mm_clmulepi64_si128, _mm_cmpeq_epi8, _mm_cvtsi128_si64, _mm_loadu_si128, _mm_min_epu8,
        _mm_movemask_epi8, _mm_set_epi64x, _mm_set1_epi8, _mm256_cmpeq_epi8, _mm256_loadu_si256, _mm256_min_epu8,
        _mm256_movemask_epi8, _mm256_set1_epi8,
    };
    use std::borrow::Cow;
    use std::ops::Range;

    use super::{Block, Masks};

    /// [`super::scan`] compiled with AVX2 (and PCLMULQDQ for the prefix XOR).
    ///
    /// # Safety
    /// The CPU has AVX2 and PCLMULQDQ.
    #[target_feature(enable = "avx2,pclmulqdq")]
    pub unsafe fn members_avx2(body: &[u8]) -> Option<Vec<(Cow<'_, str>, Range<usize>)>> {
        super::scan::<Avx2>(body)
    }

    /// 32 bytes at a time.
    pub struct Avx2;

    impl Masks for Avx2 {
        #[inline]
        #[target_feature(enable = "avx2")]
        unsafe fn block(b: &[u8; 64]) -> Block {
            // SAFETY: the caller vouches for AVX2; the two 32-byte loads read b[0..64].
            unsafe {
                let lo = _mm256_loadu_si256(b.as_ptr().cast::<__m256i>());
                let hi = _mm256_loadu_si256(b.as_ptr().add(32).cast::<__m256i>());
                let bits = |lo: __m256i, hi: __m256i| {
                    u64::from(_mm256_movemask_epi8(lo) as u32) | u64::from(_mm256_movemask_epi8(hi) as u32) << 32
                };
                let eq = |c: u8| {
                    let v = _mm256_set1_epi8(c as i8);
                    bits(_mm256_cmpeq_epi8(lo, v), _mm256_cmpeq_epi8(hi, v))
                };
                // x <= 0x1f (unsigned) exactly when min(x, 0x1f) == x.
                let ctrl_max = _mm256_set1_epi8(0x1f);
                let ctrl = bits(
                    _mm256_cmpeq_epi8(_mm256_min_epu8(lo, ctrl_max), lo),
                    _mm256_cmpeq_epi8(_mm256_min_epu8(hi, ctrl_max), hi),
                );
                Block { quote: eq(b'"'), backslash: eq(b'\\'), ctrl, space: eq(b' '), high: bits(lo, hi) }
            }
        }

        /// A carry-less multiply by all ones.
        #[inline]
        #[target_feature(enable = "pclmulqdq")]
        unsafe fn prefix_xor(x: u64) -> u64 {
            let product = _mm_clmulepi64_si128(_mm_set_epi64x(0, x as i64), _mm_set1_epi8(-1), 0);
            _mm_cvtsi128_si64(product) as u64
        }
    }

    /// 16 bytes at a time (SSE2 is part of the x86_64 baseline).
    pub struct Sse2;

    impl Masks for Sse2 {
        #[inline(always)]
        unsafe fn block(b: &[u8; 64]) -> Block {
            let mut m = Block { quote: 0, backslash: 0, ctrl: 0, space: 0, high: 0 };
            // SAFETY: SSE2 is always available on x86_64; the four 16-byte loads read b[0..64].
            unsafe {
                let quote = _mm_set1_epi8(b'"' as i8);
                let backslash = _mm_set1_epi8(b'\\' as i8);
                let ctrl_max = _mm_set1_epi8(0x1f);
                let space = _mm_set1_epi8(b' ' as i8);
                for k in 0..4 {
                    let x = _mm_loadu_si128(b.as_ptr().add(16 * k).cast::<__m128i>());
                    let shift = 16 * k as u32;
                    let bits = |v: __m128i| u64::from(_mm_movemask_epi8(v) as u16) << shift;
                    m.quote |= bits(_mm_cmpeq_epi8(x, quote));
                    m.backslash |= bits(_mm_cmpeq_epi8(x, backslash));
                    m.ctrl |= bits(_mm_cmpeq_epi8(_mm_min_epu8(x, ctrl_max), x));
                    m.space |= bits(_mm_cmpeq_epi8(x, space));
                    m.high |= bits(x);
                }
            }
            m
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The branch-free escapes agree with a loop over the backslashes, carries included.
    #[test]
    fn escaped_by_matches_a_loop() {
        let mut rng = fastrand::Rng::with_seed(9);
        for n in 0..20_000 {
            // Dense runs of backslashes, and the all-ones and all-zeros masks.
            let backslash = match n {
                0 => !0,
                1 => 0,
                _ => rng.u64(..) | rng.u64(..) | if n % 3 == 0 { rng.u64(..) } else { 0 },
            };
            let carry = rng.u64(0..2);
            let (mut want, mut want_out) = (carry, 0);
            let mut i = 0;
            while i < 64 {
                if want >> i & 1 == 0 && backslash >> i & 1 == 1 {
                    if i == 63 {
                        want_out = 1;
                    } else {
                        want |= 1 << (i + 1);
                    }
                    i += 2;
                } else {
                    i += 1;
                }
            }
            assert_eq!(escaped_by(backslash, carry), (want, want_out), "{backslash:064b} carry {carry}");
        }
    }

    #[test]
    fn prefix_xor_is_the_running_parity() {
        let mut rng = fastrand::Rng::with_seed(3);
        for _ in 0..200 {
            let x = rng.u64(..);
            let p = prefix_xor(x);
            #[cfg(target_arch = "x86_64")]
            if std::is_x86_feature_detected!("pclmulqdq") {
                // SAFETY: the CPU has PCLMULQDQ.
                assert_eq!(unsafe { <x86::Avx2 as Masks>::prefix_xor(x) }, p);
            }
            let mut parity = 0;
            for i in 0..64 {
                parity ^= x >> i & 1;
                assert_eq!(p >> i & 1, parity);
            }
        }
    }

    /// Every CPU's masks agree with the byte loop's on every byte value.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn block_masks_match_a_byte_loop() {
        let bytes: Vec<u8> = (0..=255u8).collect();
        for chunk in bytes.chunks(64) {
            let chunk: &[u8; 64] = chunk.try_into().unwrap();
            // SAFETY: Bytes needs nothing; Sse2 is baseline; Avx2 only when the CPU has it.
            let want = unsafe { Bytes::block(chunk) };
            let mut got = vec![unsafe { x86::Sse2::block(chunk) }];
            if std::is_x86_feature_detected!("avx2") {
                got.push(unsafe { x86::Avx2::block(chunk) });
            }
            for m in got {
                assert_eq!(
                    (m.quote, m.backslash, m.ctrl, m.space, m.high),
                    (want.quote, want.backslash, want.ctrl, want.space, want.high)
                );
            }
            for (i, &c) in chunk.iter().enumerate() {
                let bit = |mask: u64| mask >> i & 1 == 1;
                assert_eq!(bit(want.quote), c == b'"');
                assert_eq!(bit(want.backslash), c == b'\\');
                assert_eq!(bit(want.ctrl), c < 0x20);
                assert_eq!(bit(want.space), c == b' ');
                assert_eq!(bit(want.high), c >= 0x80);
            }
        }
    }

    /// Each CPU's scan finds the same members: the vector ones against the byte loop's.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn every_cpu_scans_alike() {
        let fixture = include_str!("../../benches/fixtures/request-anthropic.json").replace("__STREAM__", "true");
        for body in crate::jsonscan::mutations(fixture.as_bytes(), 500, 77) {
            let want = scan::<Bytes>(&body);
            assert_eq!(scan::<x86::Sse2>(&body), want);
            if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("pclmulqdq") {
                // SAFETY: the CPU has AVX2 and PCLMULQDQ.
                assert_eq!(unsafe { x86::members_avx2(&body) }, want);
            }
        }
    }

    /// Escapes and strings that cross block boundaries: every offset of a run of backslashes
    /// and quotes around byte 64 and 128.
    #[test]
    fn strings_and_escapes_across_blocks() {
        for pad in 40..140 {
            for tail in [r#"\\"#, r#"\""#, r#"\\\""#, r#"\\\\"#, r#"\u00e9"#, r#"\n"#, ""] {
                let body = format!(r#"{{"a":"{}{tail}","b":[1,"x"],"c":{{"d":"{tail}"}}}}"#, "x".repeat(pad));
                let m = members(body.as_bytes()).unwrap_or_else(|| panic!("{body}"));
                let keys: Vec<&str> = m.iter().map(|(k, _)| k.as_ref()).collect();
                assert_eq!(keys, ["a", "b", "c"], "{body}");
                assert_eq!(&body[m[1].1.clone()], r#"[1,"x"]"#);
                // The same string left open, or closed by an escaped quote only, is refused.
                let open = format!(r#"{{"a":"{}{tail}"#, "x".repeat(pad));
                assert!(members(open.as_bytes()).is_none(), "{open}");
                let escaped = format!(r#"{{"a":"{}\"}}"#, "x".repeat(pad));
                assert!(members(escaped.as_bytes()).is_none(), "{escaped}");
            }
        }
    }
}

//! Byte searches over short texts, 16 bytes a step, inlined where they are used: the SSE
//! parser's line ends and its check that a line is ASCII, and the block loop of the JSON scan's
//! string search (`jsonscan::special_at`). `memchr` and `str::from_utf8` are
//! built for long texts: on an SSE line (50-200 bytes) their setup (a dispatch through a
//! function pointer; a byte loop up to an aligned word) cost more than the search itself, about
//! a tenth of a translated stream's instructions.

/// The offset of the first `needle` in `b` at or after `from`.
#[inline(always)]
pub fn find_byte(b: &[u8], from: usize, needle: u8) -> Option<usize> {
    #[cfg(target_arch = "x86_64")]
    if b.len() >= 16 {
        return simd::find_byte(b, from, needle);
    }
    b.get(from..)?.iter().position(|&c| c == needle).map(|i| from + i)
}

/// `b` as text when it is ASCII (the common case on the wire), else as `str::from_utf8` reads it.
#[inline]
pub fn text(b: &[u8]) -> Result<&str, std::str::Utf8Error> {
    if is_ascii(b) {
        // SAFETY: every byte is below 0x80, and ASCII text is valid UTF-8.
        Ok(unsafe { std::str::from_utf8_unchecked(b) })
    } else {
        std::str::from_utf8(b)
    }
}

/// Whether every byte of `b` is below 0x80.
#[inline(always)]
fn is_ascii(b: &[u8]) -> bool {
    #[cfg(target_arch = "x86_64")]
    if b.len() >= 16 {
        return simd::is_ascii(b);
    }
    b.is_ascii()
}

#[cfg(target_arch = "x86_64")]
pub(crate) mod simd {
    use std::arch::x86_64::{__m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8};

    /// The 16 bytes of `b` at `o`.
    ///
    /// SAFETY (of every caller): `o + 16 <= b.len()`; SSE2 is part of the x86_64 baseline.
    #[inline(always)]
    unsafe fn load(b: &[u8], o: usize) -> __m128i {
        // SAFETY: as the function's contract says.
        unsafe { _mm_loadu_si128(b.as_ptr().add(o).cast::<__m128i>()) }
    }

    /// The first byte at or after `from` that `hits` flags, for `b.len() >= 16`: `hits` turns a
    /// block into a mask (bit `k` for byte `k`, as `_mm_movemask_epi8` gives it). Blocks from
    /// `from`, then the last 16 bytes of `b` less those already checked (or before `from`).
    /// The search of [`super::find_byte`] and of `jsonscan::special_at`.
    #[inline(always)]
    pub(crate) fn first(b: &[u8], from: usize, hits: impl Fn(__m128i) -> u32) -> Option<usize> {
        debug_assert!(b.len() >= 16);
        let mut i = from;
        while i + 16 <= b.len() {
            // SAFETY: `i + 16 <= b.len()`.
            let mask = hits(unsafe { load(b, i) });
            if mask != 0 {
                return Some(i + mask.trailing_zeros() as usize);
            }
            i += 16;
        }
        if i >= b.len() {
            return None;
        }
        let last = b.len() - 16;
        // SAFETY: `b.len() >= 16`.
        let mask = hits(unsafe { load(b, last) }) >> (i - last);
        (mask != 0).then(|| i + mask.trailing_zeros() as usize)
    }

    /// [`super::find_byte`] for `b.len() >= 16`.
    #[inline(always)]
    pub fn find_byte(b: &[u8], from: usize, needle: u8) -> Option<usize> {
        // SAFETY (of the intrinsics): SSE2 is part of the x86_64 baseline.
        let n = unsafe { _mm_set1_epi8(needle as i8) };
        first(b, from, |x| unsafe { _mm_movemask_epi8(_mm_cmpeq_epi8(x, n)) as u32 })
    }

    /// [`super::is_ascii`] for `b.len() >= 16`: the high bits of every block, the last block
    /// overlapping the one before.
    #[inline(always)]
    pub fn is_ascii(b: &[u8]) -> bool {
        debug_assert!(b.len() >= 16);
        // SAFETY: every load is at `o` with `o + 16 <= b.len()`.
        unsafe {
            let mut acc = load(b, b.len() - 16);
            let mut i = 0;
            while i + 16 <= b.len() {
                acc = _mm_or_si128(acc, load(b, i));
                i += 16;
            }
            _mm_movemask_epi8(acc) == 0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Both searches agree with the standard library's on texts of every length around the block
    /// size, from every start, with the byte sought (or a non-ASCII byte) anywhere or nowhere.
    #[test]
    fn agree_with_the_standard_library() {
        let mut rng = fastrand::Rng::with_seed(3);
        for len in 0..80 {
            for _ in 0..30 {
                let b: Vec<u8> = (0..len)
                    .map(|_| {
                        if rng.u8(..12) == 0 {
                            *rng.choice(b"\n\x80\xc3\xa9\xff:").unwrap()
                        } else {
                            rng.u8(0x20..0x7f)
                        }
                    })
                    .collect();
                for from in 0..=len + 1 {
                    let want = b.get(from..).and_then(|t| t.iter().position(|&c| c == b'\n')).map(|i| from + i);
                    assert_eq!(find_byte(&b, from, b'\n'), want, "{b:?} from {from}");
                }
                assert_eq!(text(&b), std::str::from_utf8(&b), "{b:?}");
                assert_eq!(is_ascii(&b), b.is_ascii(), "{b:?}");
            }
        }
    }
}

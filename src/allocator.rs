//! The gateway's allocator: jemalloc for small blocks, glibc's malloc (std's `System`) for large
//! ones, split by size. On Linux with glibc only; elsewhere (macOS, where only the launcher runs)
//! the system allocator takes both sides.
//!
//! A call allocates some 70 small blocks (header maps, the request and answer buffers, futures,
//! the usage record); glibc's malloc and free took about 15,000 of a same-dialect call's 131,000
//! instructions, jemalloc's thread caches a fraction of that. Large blocks stay glibc's for what
//! it does better there (docs/benchmarks.md, "Allocator"): a buffer growing past its limit's size
//! (a pathological stream event, a chunked answer) is grown in place by `mremap`, where jemalloc
//! copies it (the peak doubled, and its pages stayed resident after the call); and the upkeep
//! task's `malloc_trim` ([`crate::gateway::heap`]) hands freed large blocks back.
//!
//! The size decides the allocator on every path, so a block is always freed by the one that
//! made it: `dealloc` gets the same layout as `alloc` did, and a `realloc` across [`LARGE`] moves
//! the block from one to the other.

use std::alloc::{GlobalAlloc, Layout, System};

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
use std::alloc::System as Small;
/// The small blocks' allocator.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
use tikv_jemallocator::Jemalloc as Small;

/// From this size a block is glibc's.
pub const LARGE: usize = 256 * 1024;

/// jemalloc below [`LARGE`], glibc from it.
pub struct Split;

#[inline(always)]
fn large(size: usize) -> bool {
    size >= LARGE
}

// SAFETY: each method hands the layout to the allocator its size picks, which upholds
// `GlobalAlloc`'s contract for it; a block's size picks the same allocator when it is freed.
unsafe impl GlobalAlloc for Split {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's layout, as `GlobalAlloc::alloc` requires.
        unsafe { if large(layout.size()) { System.alloc(layout) } else { Small.alloc(layout) } }
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as for `alloc`.
        unsafe { if large(layout.size()) { System.alloc_zeroed(layout) } else { Small.alloc_zeroed(layout) } }
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `alloc` with this layout, so from the allocator its size picks.
        unsafe { if large(layout.size()) { System.dealloc(ptr, layout) } else { Small.dealloc(ptr, layout) } }
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: `ptr` is the caller's block of `layout`; a move across `LARGE` allocates the
        // new block first, copies the smaller of the two sizes and frees the old one.
        unsafe {
            match (large(layout.size()), large(new_size)) {
                (false, false) => Small.realloc(ptr, layout, new_size),
                (true, true) => System.realloc(ptr, layout, new_size),
                _ => {
                    let new = Layout::from_size_align_unchecked(new_size, layout.align());
                    let to = self.alloc(new);
                    if !to.is_null() {
                        std::ptr::copy_nonoverlapping(ptr, to, layout.size().min(new_size));
                        self.dealloc(ptr, layout);
                    }
                    to
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Blocks grown and shrunk across `LARGE` keep their bytes, at every alignment std uses.
    #[test]
    fn realloc_across_the_split_keeps_the_bytes() {
        for align in [1, 8, 16, 64, 4096] {
            for (from, to) in [(100, LARGE + 5), (LARGE + 5, 100), (LARGE - 1, LARGE), (LARGE, 3 * LARGE), (64, 200)] {
                let layout = Layout::from_size_align(from, align).unwrap();
                unsafe {
                    let p = Split.alloc(layout);
                    assert!(!p.is_null());
                    for i in 0..from {
                        *p.add(i) = (i % 251) as u8;
                    }
                    let q = Split.realloc(p, layout, to);
                    assert!(!q.is_null());
                    assert_eq!(q as usize % align, 0, "{from} -> {to} at {align}");
                    for i in 0..from.min(to) {
                        assert_eq!(*q.add(i), (i % 251) as u8, "{from} -> {to} at {align}, byte {i}");
                    }
                    Split.dealloc(q, Layout::from_size_align(to, align).unwrap());
                }
            }
        }
    }

    #[test]
    fn zeroed_blocks_are_zero_on_both_sides() {
        for size in [24, 4000, LARGE, 2 * LARGE] {
            let layout = Layout::from_size_align(size, 16).unwrap();
            unsafe {
                let p = Split.alloc_zeroed(layout);
                assert!(!p.is_null());
                assert!(std::slice::from_raw_parts(p, size).iter().all(|&b| b == 0));
                Split.dealloc(p, layout);
            }
        }
    }
}

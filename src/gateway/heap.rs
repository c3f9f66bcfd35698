//! Gives freed heap memory back to the system. glibc's malloc returns only the top of each arena
//! by itself: after a burst (a thousand streams, a large answer) the freed pages in the middle
//! stay resident and the next burst lands on other ones, so RSS crept up from one burst to the
//! next (docs/benchmarks.md, "Allocator"). `malloc_trim(0)` releases every whole free page of
//! every arena; the gateway's upkeep task calls it every few seconds, which costs well under a
//! millisecond on a heap of this size. Other C libraries (musl) have nothing to call.
//!
//! Since the allocator split ([`crate::allocator`]) glibc holds only the large blocks (from 256
//! KiB: a long stream event, a big answer), which are what this trim was for; the small ones are
//! jemalloc's, whose own background thread returns their idle pages. mimalloc for everything was
//! measured before: fewer instructions, but a pathological answer's peak became twice the limit it
//! hit (no `mremap` for growing buffers) and its memory stayed resident.

/// Returns free heap pages to the system (glibc only; nothing elsewhere).
pub fn trim() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: `malloc_trim` takes no pointer; it walks glibc's own arenas under their locks.
    unsafe {
        libc::malloc_trim(0);
    }
}

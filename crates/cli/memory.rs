//! Keeps the memory of a long parallel run from creeping up. The only `unsafe` in Understudy.
//!
//! glibc's allocator raises its mmap threshold each time a large block is freed, up to
//! 32 MiB; after that, the 1 MiB batch buffers of a parallel rewrite come from per-thread
//! arenas that keep what they once held. Peak RSS then creeps up with the input size
//! (34 MiB at 100 MB, 41–56 MiB at 1 GB in BENCHMARKS.md) instead of staying put. A fixed
//! threshold sends every block above it back to the kernel when freed: measured 36 MiB at
//! 100 MB and 37–39 MiB at 1 GB for the WordPress pack, run alone; see BENCHMARKS.md for the
//! piped runs, where the gain is smaller.
//!
//! Small blocks freed into glibc's fastbins are not merged with their neighbours, so the
//! millions of short-lived ones of a dump with hundreds of thousands of tables (names and
//! entries written out and merged, see the engine's `spill`) leave the heap in pieces:
//! 12.4 MiB at 100 MB of `many-tables` with no rules, 14.2 MiB at 4 GB, where the heap's own
//! peak grew by about half a megabyte. Without fastbins (the per-thread caches still serve
//! most small blocks) it is 13.4 MiB at 4 GB, and runs take the same time.
#![deny(clippy::undocumented_unsafe_blocks)]

/// Blocks larger than this are mapped and unmapped on their own (glibc's initial default).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const MMAP_THRESHOLD: libc::c_int = 128 * 1024;

/// Fixes the allocator's mmap threshold and turns its fastbins off; call first thing in
/// `main`, before any thread.
pub fn keep_flat() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: `mallopt` only sets an allocator parameter. INVARIANT: it runs before any
    // other thread exists, so no allocation is in progress while the settings change; a
    // refused setting (return value 0) leaves glibc's default, which is correct too.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD);
        libc::mallopt(libc::M_MXFAST, 0);
    }
}

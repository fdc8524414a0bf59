//! Keeping the memory freed by one training step for the next.
//!
//! A training step allocates and frees the same large tensors every time (at paper size the
//! matrix products' outputs and their gradients are 18–32 MB each). glibc's allocator serves
//! blocks that large with fresh `mmap`s and unmaps them on free, so every step paid for
//! zero-filled page faults on ~1 GB: a sixth of a paper-size step (`examples/train_step`, 5,075
//! against 6,080 frames/s with mapping switched off). Serving them from the heap instead, and
//! keeping up to [`KEPT_FREE_BYTES`] of freed heap rather than returning it at once, lets each
//! step reuse the last one's pages; peak memory stays the same (750 MB against 700 MB there).
//!
//! The setting is process-wide and made once, by the first training step; it only changes where
//! memory comes from, never a computed value. Other allocators and C libraries are left alone.

/// Freed heap kept for reuse before it is returned to the system.
pub const KEPT_FREE_BYTES: i32 = 512 << 20;

/// Switches glibc's allocator to heap blocks for large allocations (once per process).
pub fn keep_freed_memory_for_reuse() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        static ONCE: std::sync::Once = std::sync::Once::new();
        ONCE.call_once(|| {
            // glibc's `mallopt` parameters (malloc.h).
            const M_TRIM_THRESHOLD: i32 = -1;
            const M_MMAP_MAX: i32 = -4;
            extern "C" {
                fn mallopt(param: i32, value: i32) -> i32;
            }
            // SAFETY: `mallopt` only changes allocator tuning parameters; glibc applies them
            // under its own lock, and both values are in their documented ranges.
            let ok = unsafe {
                mallopt(M_MMAP_MAX, 0) == 1 && mallopt(M_TRIM_THRESHOLD, KEPT_FREE_BYTES) == 1
            };
            if !ok {
                tracing::debug!("mallopt refused the training allocation settings");
            }
        });
    }
}

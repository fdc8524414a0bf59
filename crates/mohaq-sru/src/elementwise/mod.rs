//! Elementwise arithmetic shared by the float (training) and fixed-point (search) recurrences and
//! the softmax layers: an `expf` that vectorizes ([`expf`]) and the fixed-size blocks of hidden
//! units the recurrence loops run on ([`lanes`]).

pub mod expf;
pub mod lanes;

/// Test input: a value in [−½, ½) hashed from `(seed, salt, i)`, so a property test's arrays are
/// reproducible from its seed without an RNG.
#[cfg(test)]
pub(crate) fn hashed_noise(seed: u64, salt: u64, i: usize) -> f32 {
    let h = (seed ^ salt)
        .wrapping_add(i as u64)
        .wrapping_mul(0x9E37_79B9_7F4A_7C15);
    (h >> 40) as f32 / (1u64 << 24) as f32 - 0.5
}

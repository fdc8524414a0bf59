//! Blocks of [`LANES`] hidden units copied into fixed-size arrays: a loop over a block has no
//! bounds and no aliasing for the compiler to prove, so its body (gates with the inlined
//! [`super::expf::expf`], state update) becomes straight SIMD code. The last block of a layer is
//! zero-padded.

/// Hidden units per block: one AVX-512 register of f32.
pub const LANES: usize = 16;

/// The first `n ≤ LANES` values of `v` in a block, zero-padded. A full block is a fixed-size
/// array copy (register moves); written as one `copy_from_slice` of length `n` for both cases,
/// the compiler merged them into a `memcpy` call per block, a twentieth of an evaluation.
#[inline(always)]
pub fn load_block(v: &[f32], n: usize) -> [f32; LANES] {
    match v.first_chunk::<LANES>() {
        Some(full) if n == LANES => *full,
        _ => {
            let mut a = [0f32; LANES];
            for (a, &x) in a.iter_mut().zip(&v[..n]) {
                *a = x;
            }
            a
        }
    }
}

/// Writes the first `n ≤ LANES` values of `block` to `v` (see [`load_block`]).
#[inline(always)]
pub fn store_block(v: &mut [f32], block: &[f32; LANES], n: usize) {
    match v.first_chunk_mut::<LANES>() {
        Some(full) if n == LANES => *full = *block,
        _ => {
            for (x, &b) in v[..n].iter_mut().zip(block) {
                *x = b;
            }
        }
    }
}

/// Adds the first `n ≤ LANES` values of `block` to `v`, value by value.
#[inline(always)]
pub fn add_block(v: &mut [f32], block: &[f32; LANES], n: usize) {
    let mut sum = load_block(v, n);
    for (s, &b) in sum.iter_mut().zip(block) {
        *s += b;
    }
    store_block(v, &sum, n);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_blocks_pad_with_zeros_and_write_only_their_values() {
        let v: Vec<f32> = (1..=20).map(|i| i as f32).collect();
        let full = load_block(&v, LANES);
        assert_eq!(full[15], 16.0);
        let part = load_block(&v[16..], 4);
        assert_eq!(&part[..5], &[17.0, 18.0, 19.0, 20.0, 0.0]);
        let mut out = vec![-1f32; 6];
        store_block(&mut out, &full, 4);
        assert_eq!(out, [1.0, 2.0, 3.0, 4.0, -1.0, -1.0]);
        add_block(&mut out, &full, 5);
        assert_eq!(out, [2.0, 4.0, 6.0, 8.0, 4.0, -1.0]);
    }
}

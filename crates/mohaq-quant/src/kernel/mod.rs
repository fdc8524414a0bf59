//! Integer matrix kernels: `Y (T × out) = X_q (T × in) · W_qᵀ (W: out × in)`, dequantized as
//! `y / (s_W · s_x)`.
//!
//! How it runs: the output rows of W are split into blocks, one rayon task each. A task unpacks
//! its block of packed weight rows to i16 once (zero-padded to a multiple of 16 columns), then
//! computes every frame against those rows, so unpacking costs 1/T of the multiply work. The
//! inner loop is an AVX2 `vpmaddwd` micro-kernel over 3 frames × 3 rows (chosen at run time with
//! `is_x86_feature_detected!`) or a portable loop. Products are accumulated in i32 when
//! `in · 2^(b_w + b_x − 2)` cannot overflow it, and in i64 otherwise (16 × 16 bits, or 16 × 8 over
//! long rows). Integer sums are exact, so the result is bit-identical whatever the thread count
//! and whichever path runs.

mod activations;
#[cfg(target_arch = "x86_64")]
mod avx2;
mod portable;
mod reference;

pub use activations::{QuantizedActivations, ACT_ALIGN};
pub use reference::reference_qmatmul_int;

use rayon::prelude::*;

use crate::{PackedMatrix, QuantError};

/// Which inner loop to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KernelPath {
    /// AVX2 when the CPU has it, portable otherwise.
    Auto,
    /// Plain Rust loops (any CPU).
    Portable,
    /// The AVX2 micro-kernel; an error on CPUs without AVX2.
    Avx2,
    /// The AVX2 micro-kernel with AVX-VNNI fused multiply-accumulate (Alder Lake, Sapphire
    /// Rapids and later); an error on CPUs without it.
    AvxVnni,
}

/// True when this CPU can run [`KernelPath::Avx2`].
pub fn avx2_available() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        is_x86_feature_detected!("avx2")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// True when this CPU can run [`KernelPath::AvxVnni`].
pub fn avx_vnni_available() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        is_x86_feature_detected!("avx2") && is_x86_feature_detected!("avxvnni")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Every path this CPU can run (for tests and benchmarks).
pub fn available_paths() -> Vec<KernelPath> {
    let mut paths = vec![KernelPath::Portable];
    if avx2_available() {
        paths.push(KernelPath::Avx2);
    }
    if avx_vnni_available() {
        paths.push(KernelPath::AvxVnni);
    }
    paths
}

impl KernelPath {
    /// The concrete path (`Portable` or `Avx2`) this request runs on.
    pub fn resolve(self) -> Result<KernelPath, QuantError> {
        match self {
            KernelPath::Auto if avx_vnni_available() => Ok(KernelPath::AvxVnni),
            KernelPath::Auto if avx2_available() => Ok(KernelPath::Avx2),
            KernelPath::Auto => Ok(KernelPath::Portable),
            KernelPath::Avx2 if !avx2_available() => Err(QuantError::KernelUnavailable("avx2")),
            KernelPath::AvxVnni if !avx_vnni_available() => {
                Err(QuantError::KernelUnavailable("avx-vnni"))
            }
            p => Ok(p),
        }
    }
}

/// Weight rows per rayon task: a multiple of the micro-kernel's 3 rows, small enough that a block
/// of unpacked rows stays in L1/L2 and that even `out = 256` gives several tasks.
const ROW_BLOCK: usize = 48;

/// True when `in · max|x_q| · max|w_q|` could overflow i32, so sums must be widened to i64.
pub fn needs_wide_accumulator(x: &QuantizedActivations, w: &PackedMatrix) -> bool {
    let shift = x.params().bits.bits() + w.bits().bits() - 2;
    (x.cols() as u128) << shift > i32::MAX as u128
}

fn check_shapes(x: &QuantizedActivations, w: &PackedMatrix) -> Result<(), QuantError> {
    if x.cols() != w.cols() {
        return Err(QuantError::shape(
            "qmatmul (X is T x in, W is out x in)",
            format!("W with {} columns", x.cols()),
            format!("W {}x{}", w.rows(), w.cols()),
        ));
    }
    Ok(())
}

/// Runs the kernel block by block and hands each finished block (first row, rows, T × rows
/// integer tile, frame-major) to `emit`.
fn run_blocks(
    x: &QuantizedActivations,
    w: &PackedMatrix,
    path: KernelPath,
    mut emit: impl FnMut(usize, usize, &[i64]),
) -> Result<(), QuantError> {
    check_shapes(x, w)?;
    let path = path.resolve()?;
    let wide = needs_wide_accumulator(x, w);
    let blocks: Vec<(usize, usize)> = (0..w.rows())
        .step_by(ROW_BLOCK)
        .map(|r0| (r0, ROW_BLOCK.min(w.rows() - r0)))
        .collect();
    let tiles: Vec<Vec<i64>> = blocks
        .par_iter()
        .map(|&(r0, nr)| compute_block(x, w, r0, nr, wide, path))
        .collect();
    for (&(r0, nr), tile) in blocks.iter().zip(&tiles) {
        emit(r0, nr, tile);
    }
    Ok(())
}

/// One task: unpack rows `r0..r0+nr` of W, multiply by all frames of X.
fn compute_block(
    x: &QuantizedActivations,
    w: &PackedMatrix,
    r0: usize,
    nr: usize,
    wide: bool,
    path: KernelPath,
) -> Vec<i64> {
    let stride = x.stride();
    let mut wrows = vec![0i16; nr * stride];
    for (i, row) in wrows.chunks_exact_mut(stride).enumerate() {
        w.unpack_row_into(r0 + i, row);
    }
    let mut tile = vec![0i64; x.rows() * nr];
    match path {
        #[cfg(target_arch = "x86_64")]
        KernelPath::Avx2 | KernelPath::AvxVnni => {
            let vnni = path == KernelPath::AvxVnni;
            // SAFETY: `resolve` returned these paths only after is_x86_feature_detected! found
            // AVX2 (and AVX-VNNI for `vnni`).
            unsafe { avx2::tile(x.padded_codes(), &wrows, stride, nr, wide, vnni, &mut tile) }
        }
        _ => portable::tile(x.padded_codes(), &wrows, stride, nr, wide, &mut tile),
    }
    tile
}

/// Exact integer product `X_q · W_qᵀ` (T × out, row-major) on the chosen path.
pub fn qmatmul_int(
    x: &QuantizedActivations,
    w: &PackedMatrix,
    path: KernelPath,
) -> Result<Vec<i64>, QuantError> {
    let out = w.rows();
    let mut y = vec![0i64; x.rows() * out];
    run_blocks(x, w, path, |r0, nr, tile| {
        for (y_row, t_row) in y.chunks_exact_mut(out).zip(tile.chunks_exact(nr)) {
            y_row[r0..r0 + nr].copy_from_slice(t_row);
        }
    })?;
    Ok(y)
}

/// Dequantized product `y / (s_W · s_x)` (T × out, row-major, f32) on the chosen path.
pub fn qmatmul_with(
    x: &QuantizedActivations,
    w: &PackedMatrix,
    path: KernelPath,
) -> Result<Vec<f32>, QuantError> {
    let out = w.rows();
    let inv = 1.0 / (x.params().scale as f64 * w.params().scale as f64);
    let mut y = vec![0f32; x.rows() * out];
    run_blocks(x, w, path, |r0, nr, tile| {
        for (y_row, t_row) in y.chunks_exact_mut(out).zip(tile.chunks_exact(nr)) {
            for (yo, &acc) in y_row[r0..r0 + nr].iter_mut().zip(t_row) {
                *yo = (acc as f64 * inv) as f32;
            }
        }
    })?;
    Ok(y)
}

/// Dequantized product on the fastest available path.
pub fn qmatmul(x: &QuantizedActivations, w: &PackedMatrix) -> Result<Vec<f32>, QuantError> {
    qmatmul_with(x, w, KernelPath::Auto)
}

/// One-call quantized linear layer: quantizes the f32 frames `x` (T × in) with `x_params`, then
/// returns `X_q · W_qᵀ` dequantized (T × out).
pub fn quantized_linear(
    x: &[f32],
    frames: usize,
    x_params: crate::QuantParams,
    w: &PackedMatrix,
) -> Result<Vec<f32>, QuantError> {
    let xq = QuantizedActivations::quantize(x, frames, w.cols(), x_params)?;
    qmatmul(&xq, w)
}

//! Integer matrix kernels: `Y (T × out) = X_q (T × in) · W_qᵀ (W: out × in)`, dequantized as
//! `y / (s_W · s_x)`.
//!
//! How it runs: the output rows of W are split into blocks, one rayon task each. A task turns
//! its block of packed weight rows into the layout its inner loop reads, once, then computes
//! every frame against those rows, so unpacking costs 1/T of the multiply work and the stored
//! weights stay packed. Products are accumulated in i32 when `in · 2^(b_w + b_x − 2)` cannot
//! overflow it, and in i64 otherwise (16 × 16 bits, or 16 × 8 over long rows).
//!
//! Inner loops, chosen at run time with `is_x86_feature_detected!`:
//! - i32 sums on x86-64 (`output_lanes`, `avx512`): one output channel per SIMD lane, so no
//!   horizontal sums; results are dequantized and written straight to the output. With both
//!   widths ≤ 8 bits, AVX-512 VNNI multiplies u8 · i8 quads with 512-bit `vpdpbusd` (8 frames ×
//!   48 outputs per micro-tile) and AVX-VNNI does the same on 256-bit registers (6 frames × 16
//!   outputs); with a 16-bit operand AVX-512 VNNI uses 512-bit `vpdpwssd` and AVX-VNNI 256-bit
//!   `vpdpwssd` on i16 pairs; plain AVX2 uses `vpmaddwd` on i16 pairs. AVX-512 VNNI does not need
//!   AVX-VNNI (Zen 4 has the first without the second). Weight panels (see `panel`) and their
//!   offset corrections are built from the packed bytes on a matrix's first product and kept
//!   with it (`PackedMatrix::layout`): 1 byte per weight for quads, 2 for pairs, reported by
//!   `PackedMatrix::layout_bytes` beside the packed `memory_bytes`; a rayon task works on a
//!   block of about 16 KiB of them (at least 32 rows).
//! - i64 sums on x86-64: with AVX-512 (`avx512::block_wide`), the output-lane layout with
//!   `vpmaddwd` pair sums shifted into `[0, 2^32)` and zero-extended into i64 lanes (4 frames ×
//!   48 outputs); with AVX2 only (`avx2`), a 3 frames × 3 rows `vpmaddwd` dot-product kernel
//!   that widens every pair sum.
//! - anywhere (`portable`): plain loops LLVM vectorises.
//!
//! Integer sums are exact, so the result is bit-identical whatever the thread count and
//! whichever path runs.

mod activations;
#[cfg(target_arch = "x86_64")]
mod avx2;
#[cfg(target_arch = "x86_64")]
mod avx512;
#[cfg(target_arch = "x86_64")]
mod output_lanes;
#[cfg(target_arch = "x86_64")]
mod panel;
mod portable;
mod reference;
mod simd;
#[cfg(test)]
mod tests;

pub use activations::{QuantizedActivations, ACT_ALIGN};
pub use reference::reference_qmatmul_int;
pub use simd::SimdLevel;

use rayon::prelude::*;

use crate::{PackedMatrix, QuantError};

/// Which inner loop to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KernelPath {
    /// The fastest path the CPU has: AVX-512 VNNI, then AVX-VNNI, then AVX2, then portable.
    Auto,
    /// Plain Rust loops (any CPU).
    Portable,
    /// The AVX2 micro-kernel; an error on CPUs without AVX2.
    Avx2,
    /// The AVX2 micro-kernel with AVX-VNNI fused multiply-accumulate (Alder Lake, Sapphire
    /// Rapids and later); an error on CPUs without it.
    AvxVnni,
    /// AVX-512 VNNI on 512-bit registers: `vpdpbusd` when both operands have at most 8 bits,
    /// `vpdpwssd` otherwise, `vpmaddwd` into i64 where sums could overflow i32 (Ice Lake
    /// server, Sapphire Rapids, Zen 4 and later; AVX-VNNI is not needed, Zen 4 lacks it); an
    /// error on CPUs without AVX-512F/BW/DQ/VL and AVX-512 VNNI.
    Avx512Vnni,
}

/// True when this CPU can run [`KernelPath::Avx512Vnni`].
pub(crate) fn avx512_vnni_available() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        avx2_available()
            && is_x86_feature_detected!("avx512f")
            && is_x86_feature_detected!("avx512bw")
            && is_x86_feature_detected!("avx512dq")
            && is_x86_feature_detected!("avx512vl")
            && is_x86_feature_detected!("avx512vnni")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
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
    if avx512_vnni_available() {
        paths.push(KernelPath::Avx512Vnni);
    }
    paths
}

impl KernelPath {
    /// The concrete path (anything but `Auto`) this request runs on.
    pub fn resolve(self) -> Result<KernelPath, QuantError> {
        match self {
            KernelPath::Auto if avx512_vnni_available() => Ok(KernelPath::Avx512Vnni),
            // AVX-VNNI without AVX-512 (Alder Lake and later client cores).
            KernelPath::Auto if avx_vnni_available() => Ok(KernelPath::AvxVnni),
            KernelPath::Auto if avx2_available() => Ok(KernelPath::Avx2),
            KernelPath::Auto => Ok(KernelPath::Portable),
            KernelPath::Avx2 if !avx2_available() => Err(QuantError::KernelUnavailable("avx2")),
            KernelPath::AvxVnni if !avx_vnni_available() => {
                Err(QuantError::KernelUnavailable("avx-vnni"))
            }
            KernelPath::Avx512Vnni if !avx512_vnni_available() => {
                Err(QuantError::KernelUnavailable("avx512-vnni"))
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

/// An output-lane kernel: a 256-bit one or a 512-bit one (by instruction), or the 512-bit one
/// with exact i64 sums for products whose sums could overflow i32.
#[cfg(target_arch = "x86_64")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LaneKernel {
    Ymm(output_lanes::Op),
    Zmm(avx512::Op512),
    ZmmWide,
}

#[cfg(target_arch = "x86_64")]
impl LaneKernel {
    fn grouping(self) -> panel::Grouping {
        match self {
            LaneKernel::Ymm(op) => op.grouping(),
            LaneKernel::Zmm(op) => op.grouping(),
            LaneKernel::ZmmWide => panel::Grouping::Pairs,
        }
    }
    fn lanes(self) -> usize {
        match self {
            LaneKernel::Ymm(_) => panel::LANES,
            LaneKernel::Zmm(_) | LaneKernel::ZmmWide => avx512::LANES512,
        }
    }
}

/// The output-lane kernel for this request, if one applies (SIMD path and i32 sums).
#[cfg(target_arch = "x86_64")]
fn lane_kernel(
    path: KernelPath,
    wide: bool,
    x: &QuantizedActivations,
    w: &PackedMatrix,
) -> Option<LaneKernel> {
    use avx512::Op512;
    use output_lanes::Op;
    let narrow_operands = x.params().bits.bits() <= 8 && w.bits().bits() <= 8;
    match path {
        KernelPath::Avx512Vnni if wide => Some(LaneKernel::ZmmWide),
        _ if wide => None,
        KernelPath::Avx512Vnni if narrow_operands => Some(LaneKernel::Zmm(Op512::DpBusd)),
        KernelPath::Avx512Vnni => Some(LaneKernel::Zmm(Op512::DpWssd)),
        KernelPath::AvxVnni if narrow_operands => Some(LaneKernel::Ymm(Op::DpBusd)),
        KernelPath::AvxVnni => Some(LaneKernel::Ymm(Op::DpWssd)),
        KernelPath::Avx2 => Some(LaneKernel::Ymm(Op::MaddWd)),
        _ => None,
    }
}

/// Outputs per rayon task on the output-lane path: as many as keep the task's panels near 16 KiB
/// (in L1 while every frame tile sweeps them), at least one micro-tile pair (32) and at most 256,
/// so that long rows still give `out = 256` eight tasks and short rows (in = 23) write long
/// contiguous runs of each output row.
#[cfg(target_arch = "x86_64")]
fn lane_block(units: usize) -> usize {
    const PANEL_BYTES: usize = 16 * 1024;
    (PANEL_BYTES / (4 * units) / 16 * 16).clamp(32, 256)
}

/// The layout `kernel` reads for all of `w`: its panels, then `lanes` words of offset correction
/// per panel (the `128 · Σ w` that u8 activations add; zeros for i16 pairs).
///
/// # Safety
/// The CPU must support what `kernel` needs (checked by [`KernelPath::resolve`]).
#[cfg(target_arch = "x86_64")]
unsafe fn build_layout(w: &PackedMatrix, kernel: LaneKernel) -> Vec<u32> {
    let (grouping, lanes) = (kernel.grouping(), kernel.lanes());
    let units = grouping.units(w.cols());
    let mut layout = panel::build_panels(w, 0, w.rows(), grouping, lanes);
    let panel_words = layout.len();
    layout.resize(panel_words + w.rows().div_ceil(lanes) * lanes, 0);
    let (panels, offsets) = layout.split_at_mut(panel_words);
    // SAFETY: the caller guarantees the CPU features; `offsets` has `lanes` words per panel.
    unsafe {
        match kernel {
            LaneKernel::Ymm(output_lanes::Op::DpBusd) => {
                output_lanes::offsets_into(panels, units, offsets)
            }
            LaneKernel::Zmm(avx512::Op512::DpBusd) => avx512::offsets_into(panels, units, offsets),
            LaneKernel::Ymm(_) | LaneKernel::Zmm(_) | LaneKernel::ZmmWide => {}
        }
    }
    layout
}

/// Runs the output-lane `kernel` over all output blocks, writing into `dest`.
///
/// # Safety
/// `dest` must point to a writable `x.rows() × w.rows()` matrix that nothing else accesses until
/// this returns, and the CPU must support what `kernel` needs (checked by [`KernelPath::resolve`]).
#[cfg(target_arch = "x86_64")]
unsafe fn run_lanes(
    x: &QuantizedActivations,
    w: &PackedMatrix,
    kernel: LaneKernel,
    dest: output_lanes::Dest,
) {
    use output_lanes::{Acts, SharedDest};
    let grouping = kernel.grouping();
    let units = grouping.units(x.cols());
    let offset_rows;
    let acts = match grouping {
        panel::Grouping::Quads => {
            offset_rows = panel::offset_u8_rows(x.padded_codes(), x.stride(), x.cols());
            Acts {
                ptr: offset_rows.as_ptr(),
                stride: 4 * units,
                frames: x.rows(),
            }
        }
        panel::Grouping::Pairs => Acts {
            ptr: x.padded_codes().as_ptr() as *const u8,
            stride: 2 * x.stride(),
            frames: x.rows(),
        },
    };
    let dest = SharedDest { dest, ld: w.rows() };
    let out = w.rows();
    let block = lane_block(units);
    let lanes = kernel.lanes();
    debug_assert!(block.is_multiple_of(lanes));
    // The panels of the whole matrix and their offset corrections, built once per matrix and
    // kept with it; a block's panels are a contiguous run of them because blocks hold whole
    // panels.
    let kind = panel::layout_kind(grouping, lanes);
    // SAFETY: the caller guarantees the CPU features `kernel` needs.
    let layout = w.layout(kind, || unsafe { build_layout(w, kernel) });
    let panel_words = units * lanes;
    let npanels = out.div_ceil(lanes);
    let (all, all_offsets) = layout.split_at(npanels * panel_words);
    (0..out.div_ceil(block)).into_par_iter().for_each(|b| {
        let o0 = b * block;
        let nr = block.min(out - o0);
        let (p0, p1) = (o0 / lanes, (o0 + nr).div_ceil(lanes));
        let panels = &all[p0 * panel_words..p1 * panel_words];
        let offsets = &all_offsets[p0 * lanes..p1 * lanes];
        // SAFETY: the caller guarantees the CPU features and `dest`; `acts` and `panels` have
        // the shapes `block` expects (built above for these rows and `units` groups), and this
        // task writes only columns o0..o0+nr.
        unsafe {
            match kernel {
                LaneKernel::Ymm(op) => {
                    output_lanes::block(op, acts, panels, offsets, units, o0, nr, dest)
                }
                LaneKernel::Zmm(op) => {
                    avx512::block(op, acts, panels, offsets, units, o0, nr, dest)
                }
                LaneKernel::ZmmWide => avx512::block_wide(acts, panels, units, o0, nr, dest),
            }
        }
    });
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
        KernelPath::Avx2 | KernelPath::AvxVnni | KernelPath::Avx512Vnni if wide => {
            // SAFETY: `resolve` returned these paths only after is_x86_feature_detected! found
            // AVX2.
            unsafe { avx2::tile_wide(x.padded_codes(), &wrows, stride, nr, &mut tile) }
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
    check_shapes(x, w)?;
    #[cfg(target_arch = "x86_64")]
    if let Some(kernel) = lane_kernel(path.resolve()?, needs_wide_accumulator(x, w), x, w) {
        // The kernel writes every element, so the buffer is not zeroed first (a whole extra
        // pass over the output, which costs as much as the multiply for in = 23).
        let len = x.rows() * out;
        let mut y = Vec::<i64>::with_capacity(len);
        let dest = y.spare_capacity_mut().as_mut_ptr() as *mut i64;
        // SAFETY: `dest` has room for T × out values and nothing else refers to it; `resolve`
        // checked the CPU. `run_lanes` writes all T × out elements (every output block, every
        // frame tile, every valid lane), so all `len` values are initialised before `set_len`.
        unsafe {
            run_lanes(x, w, kernel, output_lanes::Dest::Int(dest));
            y.set_len(len);
        }
        return Ok(y);
    }
    let mut y = vec![0i64; x.rows() * out];
    run_blocks(x, w, path, |r0, nr, tile| {
        for (y_row, t_row) in y.chunks_exact_mut(out).zip(tile.chunks_exact(nr)) {
            y_row[r0..r0 + nr].copy_from_slice(t_row);
        }
    })?;
    Ok(y)
}

/// `1 / (s_x · s_W)`, computed in f64 and rounded once to f32.
fn dequantize_factor(x: &QuantizedActivations, w: &PackedMatrix) -> f32 {
    (1.0 / (x.params().scale as f64 * w.params().scale as f64)) as f32
}

/// One output value from its exact integer sum: `(acc as f32) · inv`, rounded to nearest at each
/// step (exact conversion up to |acc| = 2^24, so at most about 1.5 ulp from the exact quotient).
/// Every path dequantizes this way, the SIMD ones with `vcvtdq2ps` + `vmulps` (the same two
/// roundings for sums that fit in i32), so outputs are bit-identical across paths. It is f32
/// rather than f64 because with short rows (in = 23) the conversion of the output is a large part
/// of the whole multiply.
#[inline]
fn dequantize_sum(acc: i64, inv: f32) -> f32 {
    acc as f32 * inv
}

/// Dequantized product `y / (s_W · s_x)` (T × out, row-major, f32) on the chosen path; see
/// `dequantize_sum` for the rounding.
pub fn qmatmul_with(
    x: &QuantizedActivations,
    w: &PackedMatrix,
    path: KernelPath,
) -> Result<Vec<f32>, QuantError> {
    let out = w.rows();
    let inv = dequantize_factor(x, w);
    check_shapes(x, w)?;
    #[cfg(target_arch = "x86_64")]
    if let Some(kernel) = lane_kernel(path.resolve()?, needs_wide_accumulator(x, w), x, w) {
        // The kernel writes every element, so the buffer is not zeroed first (a whole extra
        // pass over the output, which costs as much as the multiply for in = 23).
        let len = x.rows() * out;
        let mut y = Vec::<f32>::with_capacity(len);
        let dest = y.spare_capacity_mut().as_mut_ptr() as *mut f32;
        // SAFETY: `dest` has room for T × out values and nothing else refers to it; `resolve`
        // checked the CPU. `run_lanes` writes all T × out elements (every output block, every
        // frame tile, every valid lane), so all `len` values are initialised before `set_len`.
        unsafe {
            run_lanes(x, w, kernel, output_lanes::Dest::Float(dest, inv));
            y.set_len(len);
        }
        return Ok(y);
    }
    let mut y = vec![0f32; x.rows() * out];
    run_blocks(x, w, path, |r0, nr, tile| {
        for (y_row, t_row) in y.chunks_exact_mut(out).zip(tile.chunks_exact(nr)) {
            for (yo, &acc) in y_row[r0..r0 + nr].iter_mut().zip(t_row) {
                *yo = dequantize_sum(acc, inv);
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

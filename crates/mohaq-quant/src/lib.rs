//! Quantizers, fake quantization, bit-packed storage and integer matrix kernels: the numeric core
//! of MOHAQ (METHOD §4). Depends only on mohaq-precision (the widths).
//!
//! # Public API, in the order a caller meets it
//! - [`BitWidth`] (mohaq-precision's, re-exported) — {2, 4, 8, 16}; `BitWidth::new(bits)`
//!   rejects anything else ([`InvalidBitWidth`], which converts into
//!   [`QuantError::InvalidBitWidth`]). Serialises as the plain number.
//! - Calibration of the clipping threshold α: [`mmse_alpha`]`(values, bits)` (METHOD §4.2: 201-bin
//!   histogram, candidates 0.01…0.99 × max|x|, clipping + rounding error over bin centres),
//!   [`max_alpha`], [`percentile_alpha`], or [`calibrate_alpha`] with a [`Calibration`].
//! - [`QuantParams`] `{ bits, alpha, scale }` — one tensor's quantizer. Build with
//!   [`QuantParams::from_alpha`] (e.g. a frozen median α), [`QuantParams::mmse`] or
//!   [`QuantParams::calibrate`]. The same struct serves every width: 2/4/8 bits are symmetric
//!   uniform (`scale = (2^(b−1)−1)/α`), 16 bits is fixed point with the integer/fraction split
//!   chosen from the range ([`FixedFormat`]: Q1.14 below 2, generalised to the tightest split).
//!   Methods: `quantize_one`, `dequantize_one`, `fake_quant_one`, `quantize`, `dequantize`,
//!   `fake_quant`, `fake_quant_in_place`. [`fake_quant_slice`] calibrates and fake-quantizes in
//!   one call.
//! - Candle tensors (quantization-aware training): [`fake_quant_tensor`]`(x, &params)` forwards the
//!   fake-quantized value and passes the gradient straight through inside ±α (zero outside);
//!   [`fake_quant_tensor_calibrated`] calibrates on the tensor first; [`fake_quant_tensor_no_grad`].
//! - Storage: [`PackedMatrix`] — a quantized `rows × cols` weight matrix, 2-bit four per byte,
//!   4-bit two per byte, 8-bit, 16-bit; `quantize`, `quantize_mmse`, `from_codes`, `codes`,
//!   `dequantize`, `memory_bytes`. Export: [`save_packed`] / [`load_packed`] (safetensors with
//!   integer tensors and bits/cols/α/scale metadata).
//! - Kernels: [`QuantizedActivations`] (T × in frames as i16 codes) and [`qmatmul`]`(&x, &w)` →
//!   `Y = X_q·W_qᵀ / (s_x·s_W)` (T × out, f32); [`quantized_linear`] quantizes f32 frames and
//!   multiplies in one call; [`qmatmul_int`] gives the exact integer sums; [`qmatmul_with`] picks a
//!   [`KernelPath`] (portable, AVX2, AVX-VNNI, AVX-512 VNNI; `Auto` picks the fastest the CPU has). Results are
//!   bit-identical across paths and thread counts. [`reference_qmatmul_int`] is the naive
//!   reference the tests compare against.
//! - Errors: every fallible function returns [`QuantError`] (empty or non-finite input, shape
//!   mismatch, bad α, codes out of range, malformed files naming the file and tensor key).
//!
//! # Example
//! ```
//! use mohaq_quant::{BitWidth, PackedMatrix, QuantParams, quantized_linear};
//! let w: Vec<f32> = (0..6).map(|i| i as f32 / 6.0 - 0.4).collect(); // 2 outputs x 3 inputs
//! let wq = PackedMatrix::quantize_mmse(&w, 2, 3, BitWidth::B4)?;
//! let x = [0.5f32, -1.0, 0.25]; // one frame
//! let xp = QuantParams::mmse(&x, BitWidth::B8)?;
//! let y = quantized_linear(&x, 1, xp, &wq)?;
//! assert_eq!(y.len(), 2);
//! # Ok::<(), mohaq_quant::QuantError>(())
//! ```

mod calibrate;
mod error;
mod export;
mod fixed;
mod kernel;
mod pack;
mod params;
pub mod safetensors_file;
mod ste;

pub use calibrate::{
    calibrate_alpha, max_abs, max_alpha, max_magnitude, mmse_alpha, percentile_alpha, Calibration,
    ALPHA_FOR_ZERO_TENSOR, MMSE_BINS,
};
pub use error::QuantError;
pub use export::{
    load_packed, packed_from_safetensors_bytes, packed_to_safetensors_bytes, save_packed,
};
pub use fixed::FixedFormat;
pub use kernel::{
    available_paths, avx2_available, avx_vnni_available, needs_wide_accumulator, qmatmul,
    qmatmul_int, qmatmul_with, quantized_linear, reference_qmatmul_int, KernelPath,
    QuantizedActivations, SimdLevel, ACT_ALIGN,
};
pub use mohaq_precision::{BitWidth, InvalidBitWidth};
pub use pack::{packed_row_bytes, PackedMatrix};
pub use params::{fake_quant_slice, QuantParams};
pub use ste::{
    check_tensor_finite, fake_quant_tensor, fake_quant_tensor_calibrated, fake_quant_tensor_no_grad,
};

//! Fake quantization of candle tensors with a straight-through gradient, for quantization-aware
//! training (METHOD §6: full-precision shadow weights, quantized forward, straight-through gradients).
//!
//! Built from ordinary tensor ops plus `detach` rather than a CPU-only custom op, so it runs on any
//! candle device and autograd needs nothing special:
//! `out = fq(x).detach() + (x − x.detach()) ⊙ 1[|x| ≤ α]`.
//! The second term is exactly zero in the forward pass, so the output equals the fake-quantized
//! value bit for bit; in the backward pass its derivative is the mask, so the gradient passes
//! unchanged inside the clipping range and is zero outside (the clipped-STE of the QAT literature).

use candle_core::{DType, Tensor};

use crate::{BitWidth, Calibration, QuantError, QuantParams};

/// Errors if `x` is empty or holds NaN/±inf (checked on the device: x·0 is NaN exactly there).
pub fn check_tensor_finite(x: &Tensor, what: &'static str) -> Result<(), QuantError> {
    if x.elem_count() == 0 {
        return Err(QuantError::Empty { what });
    }
    // x·0 is 0 for finite x and NaN for NaN/±inf, so the sum is 0 exactly when all are finite.
    let probe = x
        .affine(0.0, 0.0)?
        .abs()?
        .sum_all()?
        .to_dtype(DType::F32)?
        .to_scalar::<f32>()?;
    if probe == 0.0 {
        return Ok(());
    }
    let values = x.flatten_all()?.to_dtype(DType::F32)?.to_vec1::<f32>()?;
    crate::error::check_finite(&values, what)
}

/// Forward-only fake quantization of a tensor (no gradient flows through it).
pub fn fake_quant_tensor_no_grad(x: &Tensor, params: &QuantParams) -> Result<Tensor, QuantError> {
    check_tensor_finite(x, "fake_quant_tensor input")?;
    let q = x
        .detach()
        .affine(params.scale as f64, 0.0)?
        .round()?
        .clamp(params.bits.qmin() as f64, params.bits.qmax() as f64)?;
    Ok(q.affine(params.inv_scale() as f64, 0.0)?.detach())
}

/// Fake quantization with a straight-through gradient: the forward value is
/// `clamp(round(x·scale), qmin, qmax) / scale`; the gradient is passed through where
/// |x| ≤ alpha and is zero outside.
pub fn fake_quant_tensor(x: &Tensor, params: &QuantParams) -> Result<Tensor, QuantError> {
    let fq = fake_quant_tensor_no_grad(x, params)?;
    let mask = x
        .detach()
        .abs()?
        .le(params.alpha as f64)?
        .to_dtype(x.dtype())?;
    let pass = (x - x.detach())?.mul(&mask)?;
    Ok((fq + pass)?)
}

/// Calibrates parameters on the tensor's current values (MMSE for 2/4/8 bits, fixed point for 16),
/// then applies [`fake_quant_tensor`]. Returns the parameters too, so callers can log or freeze them.
pub fn fake_quant_tensor_calibrated(
    x: &Tensor,
    bits: BitWidth,
    method: Calibration,
) -> Result<(Tensor, QuantParams), QuantError> {
    check_tensor_finite(x, "fake_quant_tensor input")?;
    let values = x
        .detach()
        .flatten_all()?
        .to_dtype(DType::F32)?
        .to_vec1::<f32>()?;
    let params = QuantParams::calibrate(&values, bits, method)?;
    Ok((fake_quant_tensor(x, &params)?, params))
}

//! Per-utterance activation thresholds (METHOD §4.3): which calibration each matrix layer's
//! input gets. The arithmetic lives in `mohaq_quant`; this module holds the model's policy.

use mohaq_quant::{BitWidth, Calibration, QuantError, QuantParams};

/// Quantization parameters of a matrix layer's input `x` for the search: fixed point from the
/// range at 16 bits, 0.8 × max for the FC input (the authors' choice for the softmax layer's
/// input), MMSE clipping otherwise.
pub fn activation_params(
    x: &[f32],
    bits: BitWidth,
    is_fc: bool,
) -> Result<QuantParams, QuantError> {
    let method = if is_fc {
        Calibration::MaxFraction(0.8)
    } else {
        Calibration::Mmse
    };
    // `calibrate` itself switches 16 bits to the range-based fixed-point format.
    QuantParams::calibrate(x, bits, method)
}

/// Quantization parameters of matrix layer `pos`'s input `x` under `mode` (calibrated per
/// utterance, or a frozen threshold), recording in `alphas[pos]` the threshold a frozen
/// calibration would keep: the range at 16 bits, the clipping threshold otherwise. Every model
/// (SRU, LSTM, GRU) quantizes its layer inputs through this one rule.
pub(crate) fn layer_input_params(
    x: &[f32],
    bits: BitWidth,
    is_fc: bool,
    mode: super::engine::ActivationMode<'_>,
    pos: usize,
    alphas: &mut [f32],
) -> Result<QuantParams, QuantError> {
    use super::engine::ActivationMode;
    let params = match mode {
        ActivationMode::PerUtterance => activation_params(x, bits, is_fc)?,
        ActivationMode::Frozen(a) => QuantParams::from_alpha(bits, a[pos])?,
    };
    alphas[pos] = if bits == BitWidth::B16 {
        mohaq_quant::max_magnitude(x).max(f32::MIN_POSITIVE)
    } else {
        params.alpha
    };
    Ok(params)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A heavy-tailed input: Laplace quantiles (max ≈ 6.9), as activations are.
    fn outlier_input() -> Vec<f32> {
        (0..1000)
            .map(|i| {
                let u = (i / 2) as f32 / 500.0 + 0.001;
                let sign = if i % 2 == 0 { 1.0 } else { -1.0 };
                -sign * u.ln()
            })
            .collect()
    }

    #[test]
    fn hidden_layers_clip_by_mmse_and_the_fc_input_at_four_fifths_of_max() {
        let x = outlier_input();
        let hidden = activation_params(&x, BitWidth::B4, false).unwrap();
        assert_eq!(hidden, QuantParams::mmse(&x, BitWidth::B4).unwrap());
        let max = mohaq_quant::max_magnitude(&x);
        assert!(
            hidden.alpha < 0.8 * max,
            "MMSE should clip the outlier: α = {}",
            hidden.alpha
        );
        let fc = activation_params(&x, BitWidth::B4, true).unwrap();
        assert_eq!(fc.alpha, 0.8 * max);
    }

    #[test]
    fn sixteen_bits_is_fixed_point_from_the_range_for_every_layer() {
        let x = outlier_input();
        for is_fc in [false, true] {
            let p = activation_params(&x, BitWidth::B16, is_fc).unwrap();
            assert_eq!(
                p,
                QuantParams::calibrate(&x, BitWidth::B16, Calibration::Max).unwrap()
            );
            assert!(p.alpha >= mohaq_quant::max_magnitude(&x));
        }
    }

    #[test]
    fn empty_and_non_finite_inputs_are_refused() {
        assert!(activation_params(&[], BitWidth::B4, false).is_err());
        assert!(activation_params(&[0.5, f32::NAN], BitWidth::B8, false).is_err());
        assert!(activation_params(&[f32::INFINITY], BitWidth::B8, true).is_err());
    }
}

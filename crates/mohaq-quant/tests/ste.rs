//! Straight-through fake quantization of candle tensors.

use candle_core::{Device, Tensor, Var};
use mohaq_quant::*;

#[test]
fn forward_equals_slice_fake_quant_and_gradient_is_clipped_ste() {
    let values: Vec<f32> = vec![-3.0, -1.2, -0.51, -0.2, 0.0, 0.33, 0.9, 1.0, 1.01, 2.5];
    let params = QuantParams::from_alpha(BitWidth::B4, 1.0).unwrap();
    let x = Var::from_slice(&values, (2, 5), &Device::Cpu).unwrap();
    let y = fake_quant_tensor(x.as_tensor(), &params).unwrap();
    let got = y.flatten_all().unwrap().to_vec1::<f32>().unwrap();
    assert_eq!(got, params.fake_quant(&values).unwrap());
    // d(sum(y * c))/dx = c inside [-alpha, alpha], 0 outside.
    let c: Vec<f32> = (1..=10).map(|i| i as f32).collect();
    let ct = Tensor::from_slice(&c, (2, 5), &Device::Cpu).unwrap();
    let loss = (y * ct).unwrap().sum_all().unwrap();
    let grads = loss.backward().unwrap();
    let g = grads
        .get(x.as_tensor())
        .unwrap()
        .flatten_all()
        .unwrap()
        .to_vec1::<f32>()
        .unwrap();
    for ((&v, &gi), &ci) in values.iter().zip(&g).zip(&c) {
        let expected = if v.abs() <= 1.0 { ci } else { 0.0 };
        assert_eq!(gi, expected, "x = {v}");
    }
}

#[test]
fn calibrated_version_uses_mmse_and_fixed_point() {
    let values: Vec<f32> = (0..200)
        .map(|i| ((i * 37 % 101) as f32 - 50.0) / 20.0)
        .collect();
    let x = Tensor::from_slice(&values, 200, &Device::Cpu).unwrap();
    for bits in BitWidth::ALL {
        let (y, p) = fake_quant_tensor_calibrated(&x, bits, Calibration::Mmse).unwrap();
        assert_eq!(p, QuantParams::mmse(&values, bits).unwrap());
        assert_eq!(y.to_vec1::<f32>().unwrap(), p.fake_quant(&values).unwrap());
    }
}

#[test]
fn tensor_bad_input() {
    let p = QuantParams::from_alpha(BitWidth::B8, 1.0).unwrap();
    let x = Tensor::from_slice(&[1.0f32, f32::NAN, 2.0], 3, &Device::Cpu).unwrap();
    assert!(matches!(
        fake_quant_tensor(&x, &p),
        Err(QuantError::NonFinite { index: 1, .. })
    ));
    let inf = Tensor::from_slice(&[1.0f32, 2.0, f32::NEG_INFINITY], 3, &Device::Cpu).unwrap();
    assert!(matches!(
        fake_quant_tensor(&inf, &p),
        Err(QuantError::NonFinite { index: 2, .. })
    ));
    let e = Tensor::zeros(0, candle_core::DType::F32, &Device::Cpu).unwrap();
    assert!(matches!(
        fake_quant_tensor(&e, &p),
        Err(QuantError::Empty { .. })
    ));
}

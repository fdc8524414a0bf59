//! Quantization-aware fine-tuning (beacons, METHOD §6): full-precision shadow weights, forward
//! pass with fake-quantized weights and matrix inputs at the candidate's bit widths, straight-
//! through gradients (mohaq-quant's `fake_quant_tensor`), same optimizer and schedule.

use candle_core::Tensor;
use mohaq_quant::{fake_quant_tensor_calibrated, BitWidth, Calibration};

use super::error::TrainError;
use super::pipeline::{train_from_config, PipelineOptions, TrainReport};
use super::trainer::TrainObserver;
use crate::model::network::MatrixHook;
use crate::model::ModelParams;
use crate::quantized::BitConfig;

/// Fake quantization of every matrix product at the given widths. Weights use MMSE (fixed point
/// at 16 bits); activations MMSE per batch, the FC input 0.8 × max, as in inference.
pub struct FakeQuantHook {
    pub bits: BitConfig,
}

fn to_candle(e: mohaq_quant::QuantError) -> candle_core::Error {
    candle_core::Error::Msg(format!("fake quantization: {e}"))
}

impl MatrixHook for FakeQuantHook {
    fn weight(&self, layer: usize, w: &Tensor) -> candle_core::Result<Tensor> {
        let b = self.bits.layers[layer].weight;
        Ok(fake_quant_tensor_calibrated(w, b, Calibration::Mmse)
            .map_err(to_candle)?
            .0)
    }

    fn activation(&self, layer: usize, x: &Tensor) -> candle_core::Result<Tensor> {
        let b = self.bits.layers[layer].activation;
        let method = if b != BitWidth::B16 && layer + 1 == self.bits.layers.len() {
            Calibration::MaxFraction(0.8)
        } else {
            Calibration::Mmse
        };
        Ok(fake_quant_tensor_calibrated(x, b, method)
            .map_err(to_candle)?
            .0)
    }
}

/// Fine-tunes `start` at `bits` for `opts.epochs` (or the config's) epochs; the weights it returns
/// in `out_dir/model.safetensors` are the full-precision shadow weights.
pub fn qat_fine_tune(
    opts: &PipelineOptions,
    start: ModelParams,
    bits: BitConfig,
    observer: &mut dyn TrainObserver,
) -> Result<TrainReport, TrainError> {
    let hook = FakeQuantHook { bits };
    train_from_config(opts, Some(start), Some(&hook), observer)
}

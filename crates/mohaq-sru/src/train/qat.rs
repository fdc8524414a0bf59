//! Quantization-aware fine-tuning (beacons, METHOD §6): full-precision shadow weights, forward
//! pass with fake-quantized weights and matrix inputs at the candidate's bit widths, straight-
//! through gradients (mohaq-quant's `fake_quant_tensor`), same optimizer and schedule; for the
//! SRU ([`FakeQuantHook`]) and the LSTM/GRU graph ([`RnnFakeQuantHook`]).

use candle_core::Tensor;
use mohaq_precision::LayerWidths;
use mohaq_quant::{
    fake_quant_tensor, fake_quant_tensor_calibrated, BitWidth, Calibration, QuantParams,
};

use super::error::TrainError;
use super::pipeline::{train_from_config, train_model, PipelineOptions, TrainReport};
use super::trainer::TrainObserver;
use crate::model::network::MatrixHook;
use crate::model::ModelParams;
use crate::quantized::BitConfig;
use crate::rnn::quantized::HIDDEN_ALPHA;
use crate::rnn::{RnnConfig, RnnLayerKind, RnnParams};

/// Fake quantization of every matrix product at the given widths. Weights use MMSE (fixed point
/// at 16 bits); activations MMSE per batch, the FC input 0.8 × max, as in inference.
pub struct FakeQuantHook {
    pub bits: BitConfig,
}

fn to_candle(e: mohaq_quant::QuantError) -> candle_core::Error {
    candle_core::Error::Msg(format!("fake quantization: {e}"))
}

/// A weight at its width, as inference quantizes it (MMSE; fixed point at 16 bits).
fn fake_quant_weight(w: &Tensor, bits: BitWidth) -> candle_core::Result<Tensor> {
    Ok(fake_quant_tensor_calibrated(w, bits, Calibration::Mmse)
        .map_err(to_candle)?
        .0)
}

/// A calibrated matrix input at its width: MMSE per batch, the output layer's input at
/// 0.8 × max (below 16 bits), as inference calibrates them.
fn fake_quant_input(x: &Tensor, bits: BitWidth, is_output: bool) -> candle_core::Result<Tensor> {
    let method = if bits != BitWidth::B16 && is_output {
        Calibration::MaxFraction(0.8)
    } else {
        Calibration::Mmse
    };
    Ok(fake_quant_tensor_calibrated(x, bits, method)
        .map_err(to_candle)?
        .0)
}

impl MatrixHook for FakeQuantHook {
    fn weight(&self, layer: usize, w: &Tensor) -> candle_core::Result<Tensor> {
        fake_quant_weight(w, self.bits.layers[layer].weight)
    }

    fn activation(&self, layer: usize, x: &Tensor) -> candle_core::Result<Tensor> {
        let is_output = layer + 1 == self.bits.layers.len();
        fake_quant_input(x, self.bits.layers[layer].activation, is_output)
    }
}

/// The same fake quantization for an LSTM/GRU, widths in the order of
/// [`RnnConfig::matrix_layers`]: `W_ih`, projections and `FC` as the SRU's; the recurrent
/// products' input `h_{t−1}` at the fixed threshold [`HIDDEN_ALPHA`] that inference uses
/// (h never leaves (−1, 1)), at every time step.
pub struct RnnFakeQuantHook {
    widths: Vec<LayerWidths>,
    recurrent: Vec<bool>,
    hidden: Vec<QuantParams>,
}

impl RnnFakeQuantHook {
    /// Checks that there is one width pair per matrix layer of `config`.
    pub fn new(config: &RnnConfig, widths: Vec<LayerWidths>) -> Result<Self, TrainError> {
        let layers = config.matrix_layers();
        if widths.len() != layers.len() {
            return Err(TrainError::Data(format!(
                "{} layer widths for the {} matrix layers of {}",
                widths.len(),
                layers.len(),
                config.describe()
            )));
        }
        let recurrent = layers
            .iter()
            .map(|l| matches!(l.kind, RnnLayerKind::Recurrent { .. }))
            .collect();
        let hidden = widths
            .iter()
            .map(|w| QuantParams::from_alpha(w.activation, HIDDEN_ALPHA))
            .collect::<Result<_, _>>()
            .map_err(|e| TrainError::Data(format!("fake quantization of h: {e}")))?;
        Ok(Self {
            widths,
            recurrent,
            hidden,
        })
    }
}

impl MatrixHook for RnnFakeQuantHook {
    fn weight(&self, layer: usize, w: &Tensor) -> candle_core::Result<Tensor> {
        fake_quant_weight(w, self.widths[layer].weight)
    }

    fn activation(&self, layer: usize, x: &Tensor) -> candle_core::Result<Tensor> {
        if self.recurrent[layer] {
            return fake_quant_tensor(x, &self.hidden[layer]).map_err(to_candle);
        }
        let is_output = layer + 1 == self.widths.len();
        fake_quant_input(x, self.widths[layer].activation, is_output)
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

/// Fine-tunes an LSTM/GRU `start` at `widths` (one pair per matrix layer) through the same
/// pipeline; the weights it returns in `out_dir/model.safetensors` are the full-precision
/// shadow weights.
pub fn qat_fine_tune_rnn(
    opts: &PipelineOptions,
    start: RnnParams,
    widths: Vec<LayerWidths>,
    observer: &mut dyn TrainObserver,
) -> Result<TrainReport<RnnConfig>, TrainError> {
    let hook = RnnFakeQuantHook::new(&start.config, widths)?;
    let config = start.config.clone();
    train_model(opts, config, Some(start), Some(&hook), observer)
}

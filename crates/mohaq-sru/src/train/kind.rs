//! What the one training loop ([`super::trainer`]) needs from a model kind, so the SRU and the
//! LSTM/GRU train through the same curriculum, Adam, newbob, best-dev selection, checkpoints
//! and decoder statistics: [`TrainableConfig`] (a model config: its sizes, a seeded start, its
//! weights as named tensors, its bundle) and [`TrainableNetwork`] (the candle graph autograd
//! differentiates). Implemented by [`ModelConfig`]/[`SruNetwork`] and by
//! [`RnnConfig`]/[`RnnNetwork`].

use std::fmt::Debug;
use std::path::Path;

use candle_core::{Tensor, Var};
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::error::TrainError;
use crate::decode::{DecoderParams, PhoneBigram, StatePriors};
use crate::model::params::TensorMap;
use crate::model::{ForwardOptions, ModelBundle, ModelConfig, ModelParams, SruNetwork};
use crate::rnn::graph::{init_params, RnnNetwork};
use crate::rnn::{RnnBundle, RnnConfig, RnnParams};

/// A trainable candle network of one model kind.
pub trait TrainableNetwork {
    type Params;
    /// The variables Adam updates, in a fixed order (the checkpoint's moment order).
    fn vars(&self) -> Vec<Var>;
    /// The current weights as plain arrays.
    fn to_params(&self) -> Result<Self::Params, TrainError>;
    fn classes(&self) -> usize;
    /// Logits `[B, T, classes]` of padded inputs `[B, T, input_dim]`, with dropout and the
    /// matrix hook of `opts`.
    fn logits(
        &self,
        x: &Tensor,
        lengths: &[usize],
        opts: &mut ForwardOptions<'_>,
    ) -> Result<Tensor, TrainError>;
}

/// A model config the trainer can train.
pub trait TrainableConfig: Clone + PartialEq + Debug + Serialize + DeserializeOwned {
    type Params: Clone;
    type Network: TrainableNetwork<Params = Self::Params>;
    fn input_dim(&self) -> usize;
    fn classes(&self) -> usize;
    /// Dropout probability between recurrent layers during training.
    fn dropout(&self) -> f32;
    /// The seeded initial weights.
    fn init(&self, seed: u64) -> Self::Params;
    fn network(params: &Self::Params) -> Result<Self::Network, TrainError>;
    /// Every weight tensor as (name, shape, values), in a fixed order.
    fn tensors(params: &Self::Params) -> Vec<(String, Vec<usize>, &[f32])>;
    /// Weights from named tensors (each checked for presence, shape and finiteness); the map
    /// holds exactly the model's tensors. `path` names the file in errors.
    fn params_from_tensors(&self, map: TensorMap, path: &Path) -> Result<Self::Params, TrainError>;
    /// Writes the bundle `mohaq eval/search/export/infer` read: weights plus decoder statistics.
    fn save_bundle(
        params: &Self::Params,
        bigram: &PhoneBigram,
        priors: &StatePriors,
        decoder_params: &DecoderParams,
        path: &Path,
    ) -> Result<(), TrainError>;
}

/// The name of the first tensor holding a NaN or infinity, if any.
pub fn first_non_finite<C: TrainableConfig>(params: &C::Params) -> Option<String> {
    C::tensors(params)
        .into_iter()
        .find(|(_, _, d)| d.iter().any(|x| !x.is_finite()))
        .map(|(n, _, _)| n)
}

fn tensors_with_shapes(
    named: Vec<(String, &[f32])>,
    shapes: Vec<(String, Vec<usize>)>,
) -> Vec<(String, Vec<usize>, &[f32])> {
    named
        .into_iter()
        .zip(shapes)
        .map(|((n, d), (_, s))| (n, s, d))
        .collect()
}

impl TrainableNetwork for SruNetwork {
    type Params = ModelParams;
    fn vars(&self) -> Vec<Var> {
        SruNetwork::vars(self)
    }
    fn to_params(&self) -> Result<ModelParams, TrainError> {
        Ok(SruNetwork::to_params(self)?)
    }
    fn classes(&self) -> usize {
        self.config.classes
    }
    fn logits(
        &self,
        x: &Tensor,
        lengths: &[usize],
        opts: &mut ForwardOptions<'_>,
    ) -> Result<Tensor, TrainError> {
        Ok(self.forward(x, lengths, opts)?)
    }
}

impl TrainableConfig for ModelConfig {
    type Params = ModelParams;
    type Network = SruNetwork;
    fn input_dim(&self) -> usize {
        self.input_dim
    }
    fn classes(&self) -> usize {
        self.classes
    }
    fn dropout(&self) -> f32 {
        self.dropout
    }
    fn init(&self, seed: u64) -> ModelParams {
        ModelParams::init(self, seed)
    }
    fn network(params: &ModelParams) -> Result<SruNetwork, TrainError> {
        Ok(SruNetwork::from_params(params)?)
    }
    fn tensors(params: &ModelParams) -> Vec<(String, Vec<usize>, &[f32])> {
        tensors_with_shapes(params.named(), ModelParams::expected_shapes(&params.config))
    }
    fn params_from_tensors(
        &self,
        mut map: TensorMap,
        path: &Path,
    ) -> Result<ModelParams, TrainError> {
        Ok(ModelParams::from_tensor_map(self, &mut map, "", path)?)
    }
    fn save_bundle(
        params: &ModelParams,
        bigram: &PhoneBigram,
        priors: &StatePriors,
        decoder_params: &DecoderParams,
        path: &Path,
    ) -> Result<(), TrainError> {
        let bundle = ModelBundle {
            params: params.clone(),
            bigram: bigram.clone(),
            priors: priors.clone(),
            decoder_params: decoder_params.clone(),
        };
        Ok(bundle.save(path)?)
    }
}

impl TrainableNetwork for RnnNetwork {
    type Params = RnnParams;
    fn vars(&self) -> Vec<Var> {
        RnnNetwork::vars(self).to_vec()
    }
    fn to_params(&self) -> Result<RnnParams, TrainError> {
        Ok(RnnNetwork::to_params(self)?)
    }
    fn classes(&self) -> usize {
        self.config.classes
    }
    fn logits(
        &self,
        x: &Tensor,
        lengths: &[usize],
        opts: &mut ForwardOptions<'_>,
    ) -> Result<Tensor, TrainError> {
        Ok(self.forward_with(x, lengths, opts)?)
    }
}

impl TrainableConfig for RnnConfig {
    type Params = RnnParams;
    type Network = RnnNetwork;
    fn input_dim(&self) -> usize {
        self.input_dim
    }
    fn classes(&self) -> usize {
        self.classes
    }
    fn dropout(&self) -> f32 {
        self.dropout
    }
    fn init(&self, seed: u64) -> RnnParams {
        init_params(self, seed)
    }
    fn network(params: &RnnParams) -> Result<RnnNetwork, TrainError> {
        Ok(RnnNetwork::from_params(params)?)
    }
    fn tensors(params: &RnnParams) -> Vec<(String, Vec<usize>, &[f32])> {
        tensors_with_shapes(
            params.named(),
            crate::rnn::params::expected_tensors(&params.config),
        )
    }
    fn params_from_tensors(&self, map: TensorMap, path: &Path) -> Result<RnnParams, TrainError> {
        Ok(crate::rnn::import::map_tensor_map(path, self, map)?)
    }
    fn save_bundle(
        params: &RnnParams,
        bigram: &PhoneBigram,
        priors: &StatePriors,
        decoder_params: &DecoderParams,
        path: &Path,
    ) -> Result<(), TrainError> {
        let bundle = RnnBundle {
            params: params.clone(),
            bigram: bigram.clone(),
            priors: priors.clone(),
            decoder_params: decoder_params.clone(),
        };
        Ok(bundle.save(path)?)
    }
}

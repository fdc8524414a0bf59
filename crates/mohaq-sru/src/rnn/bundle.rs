//! An LSTM/GRU bundle: weights under their PyTorch names plus the decoder statistics of the
//! training split, in one safetensors file with the same metadata keys as the SRU's
//! [`crate::model::ModelBundle`] (`model_config` carries `kind`, which is how a reader tells
//! the two apart: [`super::Architecture::stored`]).

use std::collections::HashMap;
use std::path::Path;

use super::config::RnnConfig;
use super::error::RnnError;
use super::import::map_tensor_map;
use super::params::{expected_tensors, RnnParams};
use crate::decode::{Decoder, DecoderParams, PhoneBigram, StatePriors};
use crate::model::bundle::{BIGRAM_KEY, CONFIG_KEY, DECODER_KEY, PRIORS_KEY};
use crate::model::params::{read_tensors, write_tensors};

/// Weights and decoder statistics of an LSTM/GRU model.
#[derive(Clone, Debug)]
pub struct RnnBundle {
    pub params: RnnParams,
    pub bigram: PhoneBigram,
    pub priors: StatePriors,
    pub decoder_params: DecoderParams,
}

impl RnnBundle {
    /// Writes the bundle atomically.
    pub fn save(&self, path: &Path) -> Result<(), RnnError> {
        let meta = self.metadata(path)?;
        let shapes = expected_tensors(&self.params.config);
        let tensors: Vec<(String, Vec<usize>, &[f32])> = self
            .params
            .named()
            .into_iter()
            .zip(shapes)
            .map(|((n, v), (_, s))| (n, s, v))
            .collect();
        Ok(write_tensors(path, &tensors, meta)?)
    }

    /// The decoder statistics and the model config as safetensors metadata, the keys of the
    /// SRU's bundle (`path` names the file in errors); an export's companion stores them too.
    pub fn metadata(&self, path: &Path) -> Result<HashMap<String, String>, RnnError> {
        let err = |e: serde_json::Error| RnnError::Weights {
            path: path.to_path_buf(),
            message: e.to_string(),
        };
        let mut meta = HashMap::new();
        meta.insert(
            BIGRAM_KEY.to_string(),
            serde_json::to_string(&self.bigram).map_err(err)?,
        );
        meta.insert(
            PRIORS_KEY.to_string(),
            serde_json::to_string(&self.priors).map_err(err)?,
        );
        meta.insert(
            DECODER_KEY.to_string(),
            serde_json::to_string(&self.decoder_params).map_err(err)?,
        );
        meta.insert(
            CONFIG_KEY.to_string(),
            serde_json::to_string(&self.params.config).map_err(err)?,
        );
        Ok(meta)
    }

    /// Reads a bundle written by [`Self::save`] (or `mohaq import`) for `config`, with the same
    /// name-by-name checks as an import.
    pub fn load(config: &RnnConfig, path: &Path) -> Result<Self, RnnError> {
        let (tensors, meta) = read_tensors(path)?;
        let params = map_tensor_map(path, config, tensors)?;
        let (bigram, priors, decoder_params) =
            crate::model::bundle::decoder_statistics(&meta, path)?;
        Ok(Self {
            params,
            bigram,
            priors,
            decoder_params,
        })
    }

    pub fn decoder(&self) -> Decoder {
        Decoder::new(
            self.bigram.clone(),
            self.priors.clone(),
            self.decoder_params.clone(),
        )
    }
}

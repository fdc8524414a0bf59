//! A shipped model: weights plus the decoder statistics estimated on its training split (state
//! priors, phone bigram), in one safetensors file (statistics as JSON metadata), so that an
//! evaluation never needs the training data.

use std::collections::HashMap;
use std::path::Path;

use super::config::ModelConfig;
use super::error::ModelError;
use super::params::ModelParams;
use crate::decode::{Decoder, DecoderParams, PhoneBigram, StatePriors};

pub(crate) const BIGRAM_KEY: &str = "decoder_bigram";
pub(crate) const PRIORS_KEY: &str = "decoder_priors";
pub(crate) const DECODER_KEY: &str = "decoder_params";
pub(crate) const CONFIG_KEY: &str = "model_config";

/// Weights and decoder statistics of a trained model.
#[derive(Clone, Debug)]
pub struct ModelBundle {
    pub params: ModelParams,
    pub bigram: PhoneBigram,
    pub priors: StatePriors,
    pub decoder_params: DecoderParams,
}

impl ModelBundle {
    pub fn save(&self, path: &Path) -> Result<(), ModelError> {
        self.params.save(path, self.metadata(path)?)
    }

    /// The decoder statistics and the model config as safetensors metadata (`path` names the
    /// file in errors).
    pub fn metadata(&self, path: &Path) -> Result<HashMap<String, String>, ModelError> {
        let err = |e: serde_json::Error| ModelError::Weights {
            path: path.to_path_buf(),
            message: e.to_string(),
        };
        let mut meta = HashMap::new();
        meta.insert(
            BIGRAM_KEY.into(),
            serde_json::to_string(&self.bigram).map_err(err)?,
        );
        meta.insert(
            PRIORS_KEY.into(),
            serde_json::to_string(&self.priors).map_err(err)?,
        );
        meta.insert(
            DECODER_KEY.into(),
            serde_json::to_string(&self.decoder_params).map_err(err)?,
        );
        meta.insert(
            CONFIG_KEY.into(),
            serde_json::to_string(&self.params.config).map_err(err)?,
        );
        Ok(meta)
    }

    /// Loads a bundle, checking the weights against `config`; the decoder statistics must be
    /// present.
    pub fn load(config: &ModelConfig, path: &Path) -> Result<Self, ModelError> {
        let (params, meta) = ModelParams::load(config, path)?;
        Self::from_parts(params, &meta, path)
    }

    /// A bundle from its weights and the metadata [`Self::metadata`] wrote.
    pub fn from_parts(
        params: ModelParams,
        meta: &HashMap<String, String>,
        path: &Path,
    ) -> Result<Self, ModelError> {
        let (bigram, priors, decoder_params) = decoder_statistics(meta, path)?;
        Ok(Self {
            params,
            bigram,
            priors,
            decoder_params,
        })
    }

    /// Loads a bundle whose config is stored in the file itself (what `mohaq train` and
    /// `mohaq tune-decoder` write), so a model file alone is enough.
    pub fn open(path: &Path) -> Result<Self, ModelError> {
        let config = Self::stored_config(path)?.ok_or_else(|| ModelError::Weights {
            path: path.to_path_buf(),
            message: format!("the file stores no model config (metadata `{CONFIG_KEY}`)"),
        })?;
        Self::load(&config, path)
    }

    /// The config stored in a bundle or checkpoint file, if any (lets `--model` work alone).
    pub fn stored_config(path: &Path) -> Result<Option<ModelConfig>, ModelError> {
        let (_, meta) = super::params::read_tensors(path)?;
        meta.get(CONFIG_KEY)
            .map(|s| {
                serde_json::from_str(s).map_err(|e| ModelError::Weights {
                    path: path.to_path_buf(),
                    message: format!("metadata `{CONFIG_KEY}`: {e}"),
                })
            })
            .transpose()
    }

    pub fn decoder(&self) -> Decoder {
        Decoder::new(
            self.bigram.clone(),
            self.priors.clone(),
            self.decoder_params.clone(),
        )
    }
}

/// The decoder statistics of a bundle's metadata (bigram and priors required, decoder settings
/// defaulted): the one reader of those keys, for SRU and LSTM/GRU bundles alike.
pub(crate) fn decoder_statistics(
    meta: &HashMap<String, String>,
    path: &Path,
) -> Result<(PhoneBigram, StatePriors, DecoderParams), ModelError> {
    let get = |key: &str| -> Result<&String, ModelError> {
        meta.get(key).ok_or_else(|| ModelError::Weights {
            path: path.to_path_buf(),
            message: format!("metadata `{key}` (decoder statistics) is missing"),
        })
    };
    let parse_err = |key: &str, e: serde_json::Error| ModelError::Weights {
        path: path.to_path_buf(),
        message: format!("metadata `{key}`: {e}"),
    };
    let bigram = serde_json::from_str(get(BIGRAM_KEY)?).map_err(|e| parse_err(BIGRAM_KEY, e))?;
    let priors = serde_json::from_str(get(PRIORS_KEY)?).map_err(|e| parse_err(PRIORS_KEY, e))?;
    let decoder_params = match meta.get(DECODER_KEY) {
        Some(s) => serde_json::from_str(s).map_err(|e| parse_err(DECODER_KEY, e))?,
        None => DecoderParams::default(),
    };
    Ok((bigram, priors, decoder_params))
}

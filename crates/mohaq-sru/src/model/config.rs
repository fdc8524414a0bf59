//! Model configuration, read from the `[model]` table of a TOML file in `models/`.
//!
//! The same file may hold a `[train]` table (see `crate::train::TrainConfig`); keeping both in
//! one file means a shipped model is described by exactly one config.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::error::ModelError;

/// Shape and regularisation of a bidirectional SRU acoustic model (METHOD §3).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelConfig {
    /// Human-readable name, e.g. `sru-paper`.
    pub name: String,
    /// Feature dimension of the input (23 filterbank bins).
    pub input_dim: usize,
    /// Hidden units per direction (layer output is `2 * hidden`).
    pub hidden: usize,
    /// Size of the projection before SRU layers 2..n.
    pub projection: usize,
    /// Number of bidirectional SRU layers.
    pub layers: usize,
    /// Output classes of the final FC layer.
    pub classes: usize,
    /// Dropout probability between layers during training.
    #[serde(default = "default_dropout")]
    pub dropout: f32,
    /// Highway bias: initial reset-gate bias, also sets the highway scale of layers 2..n.
    #[serde(default = "default_highway_bias")]
    pub highway_bias: f32,
}

/// The text of a model config file; a read failure names the file. The `[model]` and `[train]`
/// tables of one file are parsed separately, each from this text.
pub(crate) fn read_config_text(path: &Path) -> Result<String, ModelError> {
    std::fs::read_to_string(path).map_err(|source| ModelError::Io {
        path: path.to_path_buf(),
        source,
    })
}

fn default_dropout() -> f32 {
    0.1
}

fn default_highway_bias() -> f32 {
    -1.0
}

#[derive(Deserialize)]
struct ConfigFile {
    model: ModelConfig,
}

impl ModelConfig {
    /// Reads the `[model]` table of a TOML file and validates it.
    pub fn load(path: &Path) -> Result<Self, ModelError> {
        Self::from_toml_str(&read_config_text(path)?, path)
    }

    /// Parses a config from TOML text; `path` is only used in error messages.
    pub fn from_toml_str(text: &str, path: &Path) -> Result<Self, ModelError> {
        let config_err = |message: String| ModelError::Config {
            path: path.to_path_buf(),
            message,
        };
        let mut table: toml::Table = toml::from_str(text).map_err(|e| config_err(e.to_string()))?;
        // `kind = "sru"` may be written out; an LSTM/GRU config is read by `rnn::Architecture`.
        match crate::rnn::config::kind_of(table.get("model")).map_err(config_err)? {
            Some(kind) => {
                return Err(config_err(format!(
                    "`model.kind` = \"{}\": this command takes an SRU config",
                    kind.name()
                )))
            }
            None => {
                if let Some(toml::Value::Table(m)) = table.get_mut("model") {
                    m.remove("kind");
                }
            }
        }
        let file: ConfigFile = toml::Value::Table(table)
            .try_into()
            .map_err(|e: toml::de::Error| config_err(e.to_string()))?;
        file.model.validate(path)?;
        Ok(file.model)
    }

    /// Checks that every size is usable; names the offending key.
    pub fn validate(&self, path: &Path) -> Result<(), ModelError> {
        let bad = |message: String| {
            Err(ModelError::Config {
                path: path.to_path_buf(),
                message,
            })
        };
        for (key, value) in [
            ("input_dim", self.input_dim),
            ("hidden", self.hidden),
            ("projection", self.projection),
            ("layers", self.layers),
            ("classes", self.classes),
        ] {
            if value == 0 {
                return bad(format!("key `model.{key}` must be positive"));
            }
        }
        if self.layers > 16 {
            return bad(format!(
                "key `model.layers` = {} is larger than 16",
                self.layers
            ));
        }
        if !(0.0..1.0).contains(&self.dropout) {
            return bad(format!(
                "key `model.dropout` = {} must lie in [0, 1)",
                self.dropout
            ));
        }
        if !self.highway_bias.is_finite() {
            return bad("key `model.highway_bias` must be finite".to_string());
        }
        Ok(())
    }

    /// Highway scale α = sqrt(1 + 2·e^{highway_bias}) of layers 2..n (≈ 1.3175 for bias −1).
    ///
    /// It keeps the variance of `h` close to that of `x` at initialisation (SRU paper).
    pub fn highway_scale(&self) -> f32 {
        (1.0 + 2.0 * self.highway_bias.exp()).sqrt()
    }

    /// Width of a layer output: forward and backward states concatenated.
    pub fn layer_output(&self) -> usize {
        2 * self.hidden
    }

    /// Number of H-sized blocks per direction in SRU layer `index`: 4 in layer 1 (its highway
    /// input comes from a fourth block because the input width differs from H), else 3.
    pub fn blocks(&self, index: usize) -> usize {
        if index == 0 {
            4
        } else {
            3
        }
    }

    /// Input width of the matrix of SRU layer `index`.
    pub fn sru_input(&self, index: usize) -> usize {
        if index == 0 {
            self.input_dim
        } else {
            self.projection
        }
    }
}

//! The `[model]` table of an LSTM or GRU: `kind`, sizes, directions, layers, an optional
//! projection between layers, and the PyTorch module names its tensors live under.
//!
//! A config without `kind` (or with `kind = "sru"`) is the SRU of [`crate::model::ModelConfig`],
//! unchanged; [`Architecture`] is the one place that tells the two apart.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::error::RnnError;
use crate::model::ModelConfig;

/// The recurrent cell, with PyTorch's gate order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RnnKind {
    /// `torch.nn.LSTM`: gates i, f, g, o.
    Lstm,
    /// `torch.nn.GRU`: gates r, z, n.
    Gru,
}

impl RnnKind {
    /// Number of H-row gate blocks in `weight_ih` / `weight_hh`.
    pub fn gates(self) -> usize {
        match self {
            RnnKind::Lstm => 4,
            RnnKind::Gru => 3,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            RnnKind::Lstm => "lstm",
            RnnKind::Gru => "gru",
        }
    }
}

/// Where the tensors live in the state_dict: `{rnn}.weight_ih_l0`, `{proj}.0.weight`,
/// `{fc}.weight`. An empty prefix means none (a bare `nn.LSTM`'s `weight_ih_l0`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TensorNames {
    pub rnn: String,
    pub proj: String,
    pub fc: String,
}

impl Default for TensorNames {
    fn default() -> Self {
        Self {
            rnn: "rnn".into(),
            proj: "proj".into(),
            fc: "fc".into(),
        }
    }
}

/// An LSTM or GRU acoustic model.
///
/// Without `projection` the recurrent layers are one PyTorch module (`num_layers = layers`);
/// with it, each is its own one-layer module in an `nn.ModuleList` (`{rnn}.{k}.weight_ih_l0`)
/// and `Linear(out → projection)` modules (`{proj}.{k−1}`) sit before layers 1..n−1.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RnnConfig {
    pub name: String,
    pub kind: RnnKind,
    /// Feature dimension of the input.
    pub input_dim: usize,
    /// Hidden units per direction.
    pub hidden: usize,
    /// Number of recurrent layers.
    pub layers: usize,
    #[serde(default)]
    pub bidirectional: bool,
    /// Width of the `Linear` projection in front of layers 1..n−1 (none: layers feed each other).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub projection: Option<usize>,
    /// Output classes of the final `Linear`.
    pub classes: usize,
    /// Dropout on every recurrent layer's output while `mohaq train` trains the model (PyTorch's
    /// `dropout` of `nn.LSTM` sits between layers; here it follows the last one too, as the
    /// SRU's does). Not stored when 0, so an imported model's config reads as before.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub dropout: f32,
    #[serde(default)]
    pub names: TensorNames,
}

fn is_zero(x: &f32) -> bool {
    *x == 0.0
}

impl RnnConfig {
    /// One line naming the architecture, e.g. `m (lstm, 2 layer(s), bidirectional, hidden 64)`,
    /// as import messages and summaries show it.
    pub fn describe(&self) -> String {
        format!(
            "{} ({}, {} layer(s), {}, hidden {})",
            self.name,
            self.kind.name(),
            self.layers,
            if self.bidirectional {
                "bidirectional"
            } else {
                "unidirectional"
            },
            self.hidden
        )
    }

    /// Checks every size; names the offending key.
    pub fn validate(&self, path: &Path) -> Result<(), RnnError> {
        let bad = |message: String| {
            Err(RnnError::Config {
                path: path.to_path_buf(),
                message,
            })
        };
        for (key, value) in [
            ("input_dim", self.input_dim),
            ("hidden", self.hidden),
            ("layers", self.layers),
            ("classes", self.classes),
            ("projection", self.projection.unwrap_or(1)),
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
        if self.projection.is_some() && self.layers < 2 {
            return bad("key `model.projection` needs at least 2 layers".into());
        }
        Ok(())
    }

    /// 2 for a bidirectional model, else 1.
    pub fn directions(&self) -> usize {
        if self.bidirectional {
            2
        } else {
            1
        }
    }

    /// Width of a recurrent layer's output (directions concatenated).
    pub fn layer_output(&self) -> usize {
        self.directions() * self.hidden
    }

    /// Input width of recurrent layer `k`.
    pub fn layer_input(&self, k: usize) -> usize {
        match (k, self.projection) {
            (0, _) => self.input_dim,
            (_, Some(p)) => p,
            (_, None) => self.layer_output(),
        }
    }

    /// Rows of one direction's `weight_ih` / `weight_hh`: gates × H.
    pub fn gate_rows(&self) -> usize {
        self.kind.gates() * self.hidden
    }
}

#[derive(Deserialize)]
struct RnnFile {
    model: RnnConfig,
}

/// A model config of any kind: the SRU's, unchanged, or an LSTM/GRU.
#[derive(Clone, Debug, PartialEq)]
pub enum Architecture {
    Sru(ModelConfig),
    Rnn(RnnConfig),
}

impl Architecture {
    /// Reads the `[model]` table of a TOML file; `kind` (default `sru`) picks the config type.
    pub fn load(path: &Path) -> Result<Self, RnnError> {
        let text = std::fs::read_to_string(path).map_err(|source| RnnError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_toml_str(&text, path)
    }

    /// Parses TOML text; `path` only names the file in errors.
    pub fn from_toml_str(text: &str, path: &Path) -> Result<Self, RnnError> {
        let config_err = |message: String| RnnError::Config {
            path: path.to_path_buf(),
            message,
        };
        let value: toml::Table = toml::from_str(text).map_err(|e| config_err(e.to_string()))?;
        match kind_of(value.get("model")).map_err(config_err)? {
            None => Ok(Architecture::Sru(ModelConfig::from_toml_str(text, path)?)),
            Some(_) => {
                let file: RnnFile = toml::from_str(text).map_err(|e| config_err(e.to_string()))?;
                file.model.validate(path)?;
                Ok(Architecture::Rnn(file.model))
            }
        }
    }

    /// The config stored in a bundle's metadata (`model_config`), of either kind.
    pub fn stored(path: &Path) -> Result<Option<Self>, RnnError> {
        let (_, meta) = crate::model::params::read_tensors(path)?;
        let Some(json) = meta.get(crate::model::bundle::CONFIG_KEY) else {
            return Ok(None);
        };
        let err = |e: serde_json::Error| RnnError::Weights {
            path: path.to_path_buf(),
            message: format!("metadata `{}`: {e}", crate::model::bundle::CONFIG_KEY),
        };
        let value: serde_json::Value = serde_json::from_str(json).map_err(err)?;
        if value.get("kind").is_some() {
            Ok(Some(Architecture::Rnn(
                serde_json::from_value(value).map_err(err)?,
            )))
        } else {
            Ok(Some(Architecture::Sru(
                serde_json::from_value(value).map_err(err)?,
            )))
        }
    }

    pub fn name(&self) -> &str {
        match self {
            Architecture::Sru(c) => &c.name,
            Architecture::Rnn(c) => &c.name,
        }
    }
}

/// `Some(kind)` for an LSTM/GRU `[model]` table, `None` for an SRU (no `kind`, or `"sru"`).
pub(crate) fn kind_of(model: Option<&toml::Value>) -> Result<Option<RnnKind>, String> {
    let Some(kind) = model.and_then(|m| m.get("kind")) else {
        return Ok(None);
    };
    match kind.as_str() {
        Some("sru") => Ok(None),
        Some("lstm") => Ok(Some(RnnKind::Lstm)),
        Some("gru") => Ok(Some(RnnKind::Gru)),
        _ => Err(format!(
            "key `model.kind` = {kind} is not one of \"sru\", \"lstm\", \"gru\""
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SRU: &str = "[model]\nname = \"s\"\ninput_dim = 23\nhidden = 8\nprojection = 4\n\
                       layers = 2\nclasses = 117\n";

    #[test]
    fn kind_defaults_to_sru_and_picks_the_config_type() {
        let p = Path::new("m.toml");
        assert!(matches!(
            Architecture::from_toml_str(SRU, p),
            Ok(Architecture::Sru(_))
        ));
        let sru = SRU.replace("[model]\n", "[model]\nkind = \"sru\"\n");
        assert!(matches!(
            Architecture::from_toml_str(&sru, p),
            Ok(Architecture::Sru(_))
        ));
        let lstm = "[model]\nname = \"l\"\nkind = \"lstm\"\ninput_dim = 23\nhidden = 8\n\
                    layers = 2\nbidirectional = true\nclasses = 117\n";
        let Ok(Architecture::Rnn(c)) = Architecture::from_toml_str(lstm, p) else {
            panic!("an lstm config")
        };
        assert_eq!(
            (c.kind, c.directions(), c.layer_input(1)),
            (RnnKind::Lstm, 2, 16)
        );
        assert_eq!(c.names, TensorNames::default());
        let bad = lstm.replace("lstm", "rnn");
        let err = Architecture::from_toml_str(&bad, p)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("model.kind") && err.contains("m.toml"),
            "{err}"
        );
        let zero = lstm.replace("hidden = 8", "hidden = 0");
        let err = Architecture::from_toml_str(&zero, p)
            .unwrap_err()
            .to_string();
        assert!(err.contains("model.hidden"), "{err}");
    }
}

//! Per-layer bit widths of a model, in layer order (L0.., P1.., FC as
//! [`ModelConfig::matrix_layers`]), and their genes.
//!
//! Genes ↔ widths is mohaq-precision's [`GeneCodec`] for the model's layer table
//! ([`ModelConfig::layer_table`]): for a model with n SRU layers, 4n independent genes (weight
//! bits of L0..L{n−1}, input activation bits of L0..L{n−1}, weight bits of P1..P{n−1},
//! activation bits of P1..P{n−1}, FC weight bits, FC input-activation bits) or 2n shared ones.
//! The FC input is never 2-bit: a 2 is raised to 4.

use std::fmt;

use mohaq_precision::{GeneCodec, GeneLayout, LayerTable};
use mohaq_quant::BitWidth;
use serde::{Deserialize, Serialize};

use crate::model::ModelConfig;

pub use mohaq_precision::{GeneError, LayerWidths};

/// Widths of every matrix layer, indexed in layer order (L0.., P1.., FC) as
/// [`ModelConfig::matrix_layers`].
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct BitConfig {
    pub layers: Vec<LayerWidths>,
}

impl BitConfig {
    /// All layers at the same width (FC input raised to 4 if `bits` is 2).
    pub fn uniform(config: &ModelConfig, bits: BitWidth) -> Self {
        let n = config.layer_table().len();
        let codec = GeneCodec::new(config.layer_table(), GeneLayout::Shared);
        let layers = codec
            .decode(&vec![bits.bits(); n])
            .expect("a BitWidth is a valid gene");
        Self { layers }
    }

    /// Builds from genes in the paper order; applies the FC-input rule (2 → 4).
    pub fn from_genes(config: &ModelConfig, genes: &[u32]) -> Result<Self, GeneError> {
        let codec = GeneCodec::new(config.layer_table(), GeneLayout::Independent);
        codec.decode(genes).map(|layers| Self { layers })
    }

    /// Parses a comma-separated gene list such as `16,16,8,...`: the paper's genes (4 per SRU
    /// layer), one shared width per matrix layer, or one width for all layers.
    pub fn parse(config: &ModelConfig, text: &str) -> Result<Self, GeneError> {
        let mut genes = mohaq_precision::codec::parse_numbers(text)?;
        let n = config.layer_table().len();
        if genes.len() == 1 {
            genes = vec![genes[0]; n];
        }
        let codec = GeneCodec::for_count(config.layer_table(), genes.len());
        codec.decode(&genes).map(|layers| Self { layers })
    }

    /// The codec of an SRU with these many matrix layers (2 per SRU layer).
    fn codec(&self) -> GeneCodec {
        GeneCodec::new(
            LayerTable::sru(self.layers.len().div_ceil(2)),
            GeneLayout::Independent,
        )
    }

    /// Back to genes in the paper order.
    pub fn genes(&self) -> Vec<u32> {
        self.codec().encode(&self.layers).unwrap_or_default()
    }

    /// The genes in the paper's grouping, "16,2,2,2 | 16,16,16,16 | …", for tables.
    pub fn display_grouped(&self) -> String {
        self.codec().display(&self.layers)
    }
}

impl fmt::Display for BitConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let g: Vec<String> = self.genes().iter().map(u32::to_string).collect();
        write!(f, "{}", g.join(","))
    }
}

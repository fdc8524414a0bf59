//! Per-layer bit widths in the paper's gene order (METHOD §5.1).
//!
//! For a model with n SRU layers there are 2·(2n) genes: weight bits of L0..L{n−1}, input
//! activation bits of L0..L{n−1}, weight bits of P1..P{n−1}, activation bits of P1..P{n−1}, FC
//! weight bits, FC input-activation bits. The FC input is never 2-bit: a 2 is raised to 4.

use std::fmt;

use mohaq_quant::BitWidth;
use serde::{Deserialize, Serialize};

use crate::model::ModelConfig;

/// Weight and input-activation width of one matrix layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct LayerBits {
    pub weight: BitWidth,
    pub activation: BitWidth,
}

/// Widths of every matrix layer, indexed in layer order (L0.., P1.., FC) as
/// [`ModelConfig::matrix_layers`].
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct BitConfig {
    pub layers: Vec<LayerBits>,
}

/// Errors of gene vectors.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum BitsError {
    #[error("expected {expected} bit widths (genes) for this model, got {found}")]
    Count { expected: usize, found: usize },
    #[error("gene {index}: {value} is not a bit width (2, 4, 8 or 16)")]
    Width { index: usize, value: String },
}

impl BitConfig {
    /// All layers at the same width (FC input raised to 4 if `bits` is 2).
    pub fn uniform(config: &ModelConfig, bits: BitWidth) -> Self {
        let n = 2 * config.layers;
        let mut layers = vec![
            LayerBits {
                weight: bits,
                activation: bits,
            };
            n
        ];
        if bits == BitWidth::B2 {
            layers[n - 1].activation = BitWidth::B4;
        }
        Self { layers }
    }

    /// Builds from genes in the paper order; applies the FC-input rule (2 → 4).
    pub fn from_genes(config: &ModelConfig, genes: &[u32]) -> Result<Self, BitsError> {
        let l = config.layers;
        let expected = 4 * l;
        if genes.len() != expected {
            return Err(BitsError::Count {
                expected,
                found: genes.len(),
            });
        }
        let w = |i: usize| {
            BitWidth::new(genes[i]).map_err(|_| BitsError::Width {
                index: i,
                value: genes[i].to_string(),
            })
        };
        let mut layers = Vec::with_capacity(2 * l);
        for i in 0..l {
            layers.push(LayerBits {
                weight: w(i)?,
                activation: w(l + i)?,
            });
        }
        for i in 0..l - 1 {
            layers.push(LayerBits {
                weight: w(2 * l + i)?,
                activation: w(3 * l - 1 + i)?,
            });
        }
        let mut fc_act = w(4 * l - 1)?;
        if fc_act == BitWidth::B2 {
            fc_act = BitWidth::B4;
        }
        layers.push(LayerBits {
            weight: w(4 * l - 2)?,
            activation: fc_act,
        });
        Ok(Self { layers })
    }

    /// Parses a comma-separated gene list such as `16,16,8,...`.
    pub fn parse(config: &ModelConfig, text: &str) -> Result<Self, BitsError> {
        let mut genes = Vec::new();
        for (index, part) in text.split(',').enumerate() {
            let part = part.trim();
            genes.push(part.parse::<u32>().map_err(|_| BitsError::Width {
                index,
                value: part.to_string(),
            })?);
        }
        Self::from_genes(config, &genes)
    }

    /// Back to genes in the paper order.
    pub fn genes(&self) -> Vec<u32> {
        let n = self.layers.len();
        let l = n / 2;
        let mut g = Vec::with_capacity(2 * n);
        g.extend(self.layers[..l].iter().map(|b| u32::from(b.weight)));
        g.extend(self.layers[..l].iter().map(|b| u32::from(b.activation)));
        g.extend(self.layers[l..n - 1].iter().map(|b| u32::from(b.weight)));
        g.extend(
            self.layers[l..n - 1]
                .iter()
                .map(|b| u32::from(b.activation)),
        );
        g.push(u32::from(self.layers[n - 1].weight));
        g.push(u32::from(self.layers[n - 1].activation));
        g
    }
}

impl BitConfig {
    /// The genes in the paper's grouping, "16,2,2,2 | 16,16,16,16 | …", for tables.
    pub fn display_grouped(&self) -> String {
        let g = self.genes();
        let n = self.layers.len();
        let l = n / 2;
        let join = |s: &[u32]| s.iter().map(u32::to_string).collect::<Vec<_>>().join(",");
        format!(
            "{} | {} | {} | {} | {}",
            join(&g[0..l]),
            join(&g[l..2 * l]),
            join(&g[2 * l..3 * l - 1]),
            join(&g[3 * l - 1..4 * l - 2]),
            join(&g[4 * l - 2..])
        )
    }
}

impl fmt::Display for BitConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let g: Vec<String> = self.genes().iter().map(u32::to_string).collect();
        write!(f, "{}", g.join(","))
    }
}

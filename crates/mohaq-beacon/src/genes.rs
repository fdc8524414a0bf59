//! Genes ↔ per-layer precisions, in the paper's order (METHOD §5.1).
//!
//! The eight matrix layers are always L0..L3 (SRU layers), P1..P3 (projections), FC. With
//! independent widths a candidate has 16 genes: weight bits of L0..L3, activation bits of L0..L3,
//! weight bits of P1..P3, activation bits of P1..P3, FC weight bits, FC activation bits. Platforms
//! whose layers share one width (SiLago) use 8 genes, one per layer in layer order.

use serde::{Deserialize, Serialize};

use crate::error::GeneError;

/// Number of matrix layers of the SRU model, in the order L0, L1, L2, L3, P1, P2, P3, FC.
pub const NUM_LAYERS: usize = 8;

/// Index of the FC layer in layer order.
pub const FC_LAYER: usize = 7;

/// Bit widths a gene may take.
pub const ALLOWED_BITS: [u32; 4] = [2, 4, 8, 16];

/// Layer names in layer order, as the report and the model use them.
pub const LAYER_NAMES: [&str; NUM_LAYERS] = ["L0", "L1", "L2", "L3", "P1", "P2", "P3", "FC"];

/// Per-layer (weight bits, activation bits) in layer order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct LayerBits {
    pub weight: [u32; NUM_LAYERS],
    pub activation: [u32; NUM_LAYERS],
}

/// What each of the 16 genes means: (layer index, true for weights / false for activations).
const GENE_MEANING: [(usize, bool); 16] = [
    (0, true),
    (1, true),
    (2, true),
    (3, true),
    (0, false),
    (1, false),
    (2, false),
    (3, false),
    (4, true),
    (5, true),
    (6, true),
    (4, false),
    (5, false),
    (6, false),
    (7, true),
    (7, false),
];

impl LayerBits {
    /// Every weight and activation at `bits`.
    pub fn uniform(bits: u32) -> Self {
        Self {
            weight: [bits; NUM_LAYERS],
            activation: [bits; NUM_LAYERS],
        }
    }

    /// From the 16 genes of the paper's order; the FC activation rule (2 → 4) is applied.
    pub fn from_paper_genes(genes: &[u32]) -> Result<Self, GeneError> {
        if genes.len() != 16 {
            return Err(GeneError::Length {
                expected: 16,
                got: genes.len(),
            });
        }
        let mut bits = Self::uniform(16);
        for (index, (&value, &(layer, is_weight))) in genes.iter().zip(&GENE_MEANING).enumerate() {
            check_width(index, value, layer, is_weight)?;
            if is_weight {
                bits.weight[layer] = value;
            } else {
                bits.activation[layer] = value;
            }
        }
        Ok(bits.with_fc_rule())
    }

    /// From 8 shared genes (one width per layer, weights = activations).
    pub fn from_shared_genes(genes: &[u32]) -> Result<Self, GeneError> {
        if genes.len() != NUM_LAYERS {
            return Err(GeneError::Length {
                expected: NUM_LAYERS,
                got: genes.len(),
            });
        }
        let mut bits = Self::uniform(16);
        for (layer, &value) in genes.iter().enumerate() {
            check_width(layer, value, layer, true)?;
            bits.weight[layer] = value;
            bits.activation[layer] = value;
        }
        Ok(bits.with_fc_rule())
    }

    /// Parses "16,2,2,…" with 16 or 8 entries.
    pub fn parse(text: &str) -> Result<Self, GeneError> {
        let genes: Vec<u32> = text
            .split(',')
            .map(|s| s.trim().parse::<u32>().unwrap_or(0))
            .collect();
        if genes.len() == NUM_LAYERS {
            Self::from_shared_genes(&genes)
        } else {
            Self::from_paper_genes(&genes)
        }
    }

    /// The 16 genes in the paper's order.
    pub fn paper_genes(&self) -> [u32; 16] {
        let mut genes = [0; 16];
        for (gene, &(layer, is_weight)) in genes.iter_mut().zip(&GENE_MEANING) {
            *gene = if is_weight {
                self.weight[layer]
            } else {
                self.activation[layer]
            };
        }
        genes
    }

    /// The FC input activation is never 2-bit (METHOD §4.3): a 2 is raised to 4.
    pub fn with_fc_rule(mut self) -> Self {
        if self.activation[FC_LAYER] == 2 {
            self.activation[FC_LAYER] = 4;
        }
        self
    }

    /// (weight, activation) pairs in layer order, as the hardware models take them.
    pub fn pairs(&self) -> Vec<(u32, u32)> {
        self.weight
            .iter()
            .zip(&self.activation)
            .map(|(&w, &a)| (w, a))
            .collect()
    }

    /// Beacon distance (METHOD §6): Σ over the weight genes of |log2-level difference|.
    pub fn weight_distance(&self, other: &LayerBits) -> u32 {
        self.weight
            .iter()
            .zip(&other.weight)
            .map(|(&a, &b)| level(a).abs_diff(level(b)))
            .sum()
    }

    /// "16,2,2,2 | 16,16,16,16 | …" in the paper's grouping, for tables.
    pub fn display_genes(&self) -> String {
        let g = self.paper_genes();
        let join = |s: &[u32]| s.iter().map(u32::to_string).collect::<Vec<_>>().join(",");
        format!(
            "{} | {} | {} | {} | {}",
            join(&g[0..4]),
            join(&g[4..8]),
            join(&g[8..11]),
            join(&g[11..14]),
            join(&g[14..16])
        )
    }
}

/// ℓ(2)=2, ℓ(4)=3, ℓ(8)=4, ℓ(16)=5.
fn level(bits: u32) -> u32 {
    bits.trailing_zeros() + 1
}

fn check_width(index: usize, bits: u32, layer: usize, is_weight: bool) -> Result<(), GeneError> {
    if ALLOWED_BITS.contains(&bits) {
        Ok(())
    } else {
        Err(GeneError::Width {
            index,
            meaning: format!(
                "{} {}",
                LAYER_NAMES[layer],
                if is_weight { "weights" } else { "activations" }
            ),
            bits,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paper_genes_round_trip_and_map_to_layers() {
        // M3 of the authors' configurations.
        let m3 = [16, 2, 2, 2, 16, 4, 4, 4, 16, 2, 2, 16, 16, 16, 16, 16];
        let bits = LayerBits::from_paper_genes(&m3).unwrap();
        assert_eq!(bits.weight, [16, 2, 2, 2, 16, 2, 2, 16]);
        assert_eq!(bits.activation, [16, 4, 4, 4, 16, 16, 16, 16]);
        assert_eq!(bits.paper_genes(), m3);
    }

    #[test]
    fn fc_activation_two_is_raised_to_four() {
        let mut genes = [16; 16];
        genes[15] = 2;
        let bits = LayerBits::from_paper_genes(&genes).unwrap();
        assert_eq!(bits.activation[FC_LAYER], 4);
        let shared = LayerBits::from_shared_genes(&[4, 4, 4, 4, 4, 4, 4, 2]).unwrap();
        assert_eq!(
            (shared.weight[FC_LAYER], shared.activation[FC_LAYER]),
            (2, 4)
        );
    }

    #[test]
    fn bad_widths_and_lengths_are_errors() {
        let mut genes = [16; 16];
        genes[9] = 3;
        let err = LayerBits::from_paper_genes(&genes).unwrap_err();
        assert!(err.to_string().contains("P2 weights"), "{err}");
        assert!(LayerBits::from_paper_genes(&[16; 15]).is_err());
        assert!(LayerBits::parse("16,16,x").is_err());
    }

    #[test]
    fn distance_counts_log_levels_of_weights_only() {
        let a = LayerBits::uniform(16);
        let mut b = LayerBits::uniform(16);
        b.weight[0] = 2; // 5 - 2 = 3
        b.weight[7] = 8; // 5 - 4 = 1
        b.activation[3] = 2; // ignored
        assert_eq!(a.weight_distance(&b), 4);
        assert_eq!(b.weight_distance(&a), 4);
    }
}

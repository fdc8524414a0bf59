//! Per-layer precisions of a candidate, in the paper's layer order (METHOD §5.1).
//!
//! The eight matrix layers are always L0..L3 (SRU layers), P1..P3 (projections), FC. The gene
//! order, the width check and the FC-activation rule are mohaq-precision's [`GeneCodec`] for
//! the paper's SRU layer table; this module only keeps the search's fixed-size, serialisable
//! form of its result.

use mohaq_precision::{BitWidth, GeneCodec, GeneLayout, LayerWidths};
use serde::{Deserialize, Serialize};

use crate::error::GeneError;

/// Number of matrix layers of the SRU model, in the order L0, L1, L2, L3, P1, P2, P3, FC.
pub const NUM_LAYERS: usize = 8;

/// Index of the FC layer in layer order.
pub const FC_LAYER: usize = 7;

/// Layer names in layer order, as the report and the model use them.
pub const LAYER_NAMES: [&str; NUM_LAYERS] = ["L0", "L1", "L2", "L3", "P1", "P2", "P3", "FC"];

/// Per-layer (weight bits, activation bits) in layer order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct LayerBits {
    pub weight: [u32; NUM_LAYERS],
    pub activation: [u32; NUM_LAYERS],
}

/// The codec of the paper's SRU in `layout`.
pub fn codec(layout: GeneLayout) -> GeneCodec {
    GeneCodec::paper_sru(layout)
}

impl LayerBits {
    /// Every weight and activation at `bits`.
    pub fn uniform(bits: u32) -> Self {
        Self {
            weight: [bits; NUM_LAYERS],
            activation: [bits; NUM_LAYERS],
        }
    }

    /// From genes in `layout` (16 paper genes, or 8 shared); widths checked, FC rule applied.
    pub fn from_genes(layout: GeneLayout, genes: &[u32]) -> Result<Self, GeneError> {
        codec(layout).decode(genes).map(|w| Self::from_widths(&w))
    }

    /// From the 16 genes of the paper's order; the FC activation rule (2 → 4) is applied.
    pub fn from_paper_genes(genes: &[u32]) -> Result<Self, GeneError> {
        Self::from_genes(GeneLayout::Independent, genes)
    }

    /// From 8 shared genes (one width per layer, weights = activations).
    pub fn from_shared_genes(genes: &[u32]) -> Result<Self, GeneError> {
        Self::from_genes(GeneLayout::Shared, genes)
    }

    /// Parses "16,2,2,…" with 16 or 8 entries.
    pub fn parse(text: &str) -> Result<Self, GeneError> {
        let genes = mohaq_precision::codec::parse_numbers(text)?;
        let layout = if genes.len() == NUM_LAYERS {
            GeneLayout::Shared
        } else {
            GeneLayout::Independent
        };
        Self::from_genes(layout, &genes)
    }

    /// From checked per-layer widths (the paper's 8 layers).
    pub fn from_widths(widths: &[LayerWidths]) -> Self {
        let mut bits = Self::uniform(16);
        for (l, w) in widths.iter().take(NUM_LAYERS).enumerate() {
            bits.weight[l] = w.weight.bits();
            bits.activation[l] = w.activation.bits();
        }
        bits
    }

    /// As checked per-layer widths; fails on a width outside 2, 4, 8, 16.
    pub fn widths(&self) -> Result<Vec<LayerWidths>, GeneError> {
        let check = |index: usize, operand: &str, bits: u32| {
            BitWidth::new(bits).map_err(|_| GeneError::Width {
                index,
                meaning: format!("{} {operand}", LAYER_NAMES[index]),
                bits,
            })
        };
        (0..NUM_LAYERS)
            .map(|l| {
                Ok(LayerWidths {
                    weight: check(l, "weights", self.weight[l])?,
                    activation: check(l, "activations", self.activation[l])?,
                })
            })
            .collect()
    }

    /// The genes of `bits` in `layout`; `None` where the layout cannot express them (shared
    /// layout, weight and activation widths differ) or a width is not one of 2, 4, 8, 16.
    pub fn genes(&self, layout: GeneLayout) -> Option<Vec<u32>> {
        codec(layout).encode(&self.widths().ok()?)
    }

    /// The 16 genes in the paper's order.
    pub fn paper_genes(&self) -> [u32; 16] {
        let mut genes = [0; 16];
        let codec = codec(GeneLayout::Independent);
        for (g, gene) in genes.iter_mut().enumerate() {
            let m = codec.meaning(g);
            *gene = if codec.is_weight_gene(g) {
                self.weight[m.layer]
            } else {
                self.activation[m.layer]
            };
        }
        genes
    }

    /// The FC input activation is never 2-bit (METHOD §4.3): a 2 is raised to 4.
    pub fn with_fc_rule(mut self) -> Self {
        if let Ok(w) = BitWidth::new(self.activation[FC_LAYER]) {
            self.activation[FC_LAYER] = mohaq_precision::rule::output_activation(w).bits();
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
        match self.widths() {
            Ok(w) => codec(GeneLayout::Independent).display(&w),
            // Not reachable from decoded genes; show the raw numbers rather than fail.
            Err(_) => self.paper_genes().map(|g| g.to_string()).join(","),
        }
    }
}

/// ℓ(2)=2, ℓ(4)=3, ℓ(8)=4, ℓ(16)=5.
fn level(bits: u32) -> u32 {
    bits.trailing_zeros() + 1
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

//! Per-layer precisions of a candidate, in the model's layer order (METHOD §5.1).
//!
//! The gene order, the width check and the FC-activation rule are mohaq-precision's
//! [`GeneCodec`] over the model's layer table ([`crate::ErrorModel::layer_table`]); this module
//! only keeps the search's fixed-capacity, `Copy`, serialisable form of its result. For the
//! paper's SRU the eight matrix layers are L0..L3 (SRU layers), P1..P3 (projections), FC, and
//! the SRU shortcuts here ([`codec`], [`LayerBits::from_paper_genes`], ...) keep its 16-gene
//! order; a 2-layer bidirectional LSTM has L0, L1, R0, R1, FC and its own codec.

use mohaq_precision::{BitWidth, GeneCodec, GeneLayout, LayerWidths};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::GeneError;

/// Number of matrix layers of the paper's SRU, in the order L0, L1, L2, L3, P1, P2, P3, FC.
pub const NUM_LAYERS: usize = 8;

/// Index of the FC layer of the paper's SRU in layer order (any model: [`LayerBits::fc_layer`]).
pub const FC_LAYER: usize = 7;

/// Layer names of the paper's SRU in layer order, as the report and the model use them.
pub const LAYER_NAMES: [&str; NUM_LAYERS] = ["L0", "L1", "L2", "L3", "P1", "P2", "P3", "FC"];

/// The most matrix layers a searched model may have (a `LayerBits` stays `Copy` and small).
pub const MAX_LAYERS: usize = 32;

/// One number per matrix layer, up to [`MAX_LAYERS`], in layer order. It reads as a slice
/// (`bits.weight[l]`, `bits.weight.iter()`) and serialises as a list of its length, so the
/// SRU's 8-entry JSON reads and writes as before.
#[derive(Clone, Copy)]
pub struct PerLayer {
    len: u8,
    /// Entries past `len` stay 0, so comparing and hashing the slice is enough.
    values: [u32; MAX_LAYERS],
}

impl PerLayer {
    /// `n` layers at `value`; `n` is capped at [`MAX_LAYERS`] (the problem checks it first).
    pub fn filled(n: usize, value: u32) -> Self {
        let n = n.min(MAX_LAYERS);
        let mut values = [0; MAX_LAYERS];
        values[..n].fill(value);
        Self {
            len: n as u8,
            values,
        }
    }

    /// From a list of at most [`MAX_LAYERS`] entries.
    pub fn from_slice(list: &[u32]) -> Result<Self, String> {
        if list.len() > MAX_LAYERS {
            return Err(format!(
                "{} layers; the search handles at most {MAX_LAYERS}",
                list.len()
            ));
        }
        let mut out = Self::filled(list.len(), 0);
        out.values[..list.len()].copy_from_slice(list);
        Ok(out)
    }
}

impl std::ops::Deref for PerLayer {
    type Target = [u32];
    fn deref(&self) -> &[u32] {
        &self.values[..usize::from(self.len)]
    }
}

impl std::ops::DerefMut for PerLayer {
    fn deref_mut(&mut self) -> &mut [u32] {
        &mut self.values[..usize::from(self.len)]
    }
}

impl<'a> IntoIterator for &'a PerLayer {
    type Item = &'a u32;
    type IntoIter = std::slice::Iter<'a, u32>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl PartialEq for PerLayer {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl Eq for PerLayer {}

impl<const N: usize> PartialEq<[u32; N]> for PerLayer {
    fn eq(&self, other: &[u32; N]) -> bool {
        **self == other[..]
    }
}

impl std::hash::Hash for PerLayer {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        (**self).hash(state);
    }
}

impl std::fmt::Debug for PerLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        (**self).fmt(f)
    }
}

impl Serialize for PerLayer {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        (**self).serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for PerLayer {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let list = Vec::<u32>::deserialize(deserializer)?;
        Self::from_slice(&list).map_err(serde::de::Error::custom)
    }
}

/// Per-layer (weight bits, activation bits) in layer order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct LayerBits {
    pub weight: PerLayer,
    pub activation: PerLayer,
}

/// The codec of the paper's SRU in `layout`.
pub fn codec(layout: GeneLayout) -> GeneCodec {
    GeneCodec::paper_sru(layout)
}

impl LayerBits {
    /// Every weight and activation of the paper's SRU at `bits`.
    pub fn uniform(bits: u32) -> Self {
        Self::uniform_for(NUM_LAYERS, bits)
    }

    /// Every weight and activation of a model with `layers` matrix layers at `bits`.
    pub fn uniform_for(layers: usize, bits: u32) -> Self {
        Self {
            weight: PerLayer::filled(layers, bits),
            activation: PerLayer::filled(layers, bits),
        }
    }

    /// Number of matrix layers.
    pub fn len(&self) -> usize {
        self.weight.len()
    }

    pub fn is_empty(&self) -> bool {
        self.weight.is_empty()
    }

    /// Index of the output (FC) layer: the last, as every layer table has it.
    pub fn fc_layer(&self) -> usize {
        self.len().saturating_sub(1)
    }

    /// From genes of `codec` (any model's layer table); widths checked, FC rule applied.
    pub fn decode(codec: &GeneCodec, genes: &[u32]) -> Result<Self, GeneError> {
        codec.decode(genes).map(|w| Self::from_widths(&w))
    }

    /// From genes of the paper's SRU in `layout` (16 paper genes, or 8 shared); widths
    /// checked, FC rule applied.
    pub fn from_genes(layout: GeneLayout, genes: &[u32]) -> Result<Self, GeneError> {
        Self::decode(&codec(layout), genes)
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

    /// From checked per-layer widths, one per layer (at most [`MAX_LAYERS`] are kept).
    pub fn from_widths(widths: &[LayerWidths]) -> Self {
        let mut bits = Self::uniform_for(widths.len(), 16);
        for (l, w) in widths.iter().take(MAX_LAYERS).enumerate() {
            bits.weight[l] = w.weight.bits();
            bits.activation[l] = w.activation.bits();
        }
        bits
    }

    /// As checked per-layer widths; fails on a width outside 2, 4, 8, 16 (named by the SRU's
    /// layer name, or "layer k" for other models: the names are the codec's).
    pub fn widths(&self) -> Result<Vec<LayerWidths>, GeneError> {
        let sru = self.len() == NUM_LAYERS;
        let check = |index: usize, operand: &str, bits: u32| {
            BitWidth::new(bits).map_err(|_| GeneError::Width {
                index,
                meaning: if sru {
                    format!("{} {operand}", LAYER_NAMES[index])
                } else {
                    format!("layer {index} {operand}")
                },
                bits,
            })
        };
        (0..self.len())
            .map(|l| {
                Ok(LayerWidths {
                    weight: check(l, "weights", self.weight[l])?,
                    activation: check(l, "activations", self.activation[l])?,
                })
            })
            .collect()
    }

    /// The genes of `bits` for the paper's SRU in `layout`; see [`LayerBits::genes_in`].
    pub fn genes(&self, layout: GeneLayout) -> Option<Vec<u32>> {
        self.genes_in(&codec(layout))
    }

    /// The genes of `bits` in `codec`; `None` where the codec cannot express them (another
    /// layer count; shared layout, weight and activation widths differ) or a width is not one
    /// of 2, 4, 8, 16.
    pub fn genes_in(&self, codec: &GeneCodec) -> Option<Vec<u32>> {
        codec.encode(&self.widths().ok()?)
    }

    /// The 16 genes in the paper's order (an SRU candidate; other models: [`LayerBits::genes_in`]).
    pub fn paper_genes(&self) -> [u32; 16] {
        let mut genes = [0; 16];
        let codec = codec(GeneLayout::Independent);
        for (g, gene) in genes.iter_mut().enumerate() {
            let m = codec.meaning(g);
            let list = if codec.is_weight_gene(g) {
                &self.weight
            } else {
                &self.activation
            };
            // 0 marks a layer this candidate lacks (not an SRU candidate).
            *gene = list.get(m.layer).copied().unwrap_or(0);
        }
        genes
    }

    /// The FC input activation is never 2-bit (METHOD §4.3): a 2 is raised to 4.
    pub fn with_fc_rule(mut self) -> Self {
        let fc = self.fc_layer();
        if let Some(w) = self.activation.get(fc).and_then(|&b| BitWidth::new(b).ok()) {
            self.activation[fc] = mohaq_precision::rule::output_activation(w).bits();
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

    /// "16,2,2,2 | 16,16,16,16 | …" in the paper's grouping, for tables. Without the model's
    /// codec a candidate of another layer count shows its weights, then its activations, in
    /// layer order ([`LayerBits::display_in`] groups them as the codec does).
    pub fn display_genes(&self) -> String {
        if self.len() == NUM_LAYERS {
            return self.display_in(&codec(GeneLayout::Independent));
        }
        let list = |v: &[u32]| v.iter().map(u32::to_string).collect::<Vec<_>>().join(",");
        format!("W {} | A {}", list(&self.weight), list(&self.activation))
    }

    /// The widths grouped as `codec`'s independent genes ("16,2 | 16,16 | 8,8 | 8,8 | 16,16"
    /// for L0,L1 | R0,R1 | FC of a 2-layer LSTM), for tables.
    pub fn display_in(&self, codec: &GeneCodec) -> String {
        let list = |v: &[u32]| v.iter().map(u32::to_string).collect::<Vec<_>>().join(",");
        match self.widths() {
            Ok(w) if w.len() == codec.table().len() => codec.display(&w),
            // Not reachable from decoded genes; show the raw numbers rather than fail.
            _ => format!("W {} | A {}", list(&self.weight), list(&self.activation)),
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

    /// A 2-layer bidirectional LSTM's table: L0, L1, R0, R1, FC.
    fn lstm_codec(layout: GeneLayout) -> GeneCodec {
        use mohaq_precision::{LayerTable, MatrixRole};
        let table = LayerTable::new([
            ("L0", MatrixRole::Input),
            ("L1", MatrixRole::Input),
            ("R0", MatrixRole::Recurrent),
            ("R1", MatrixRole::Recurrent),
            ("FC", MatrixRole::Output),
        ])
        .unwrap();
        GeneCodec::new(table, layout)
    }

    #[test]
    fn lstm_genes_follow_its_layer_table() {
        let codec = lstm_codec(GeneLayout::Independent);
        assert_eq!(codec.len(), 10);
        // W L0 L1 | A L0 L1 | W R0 R1 | A R0 R1 | W FC, A FC (FC activation 2 → 4).
        let genes = [16, 8, 4, 8, 2, 4, 16, 8, 8, 2];
        let bits = LayerBits::decode(&codec, &genes).unwrap();
        assert_eq!(bits.len(), 5);
        assert_eq!(bits.fc_layer(), 4);
        assert_eq!(bits.weight, [16, 8, 2, 4, 8]);
        assert_eq!(bits.activation, [4, 8, 16, 8, 4]);
        let mut back = genes;
        back[9] = 4;
        assert_eq!(bits.genes_in(&codec).unwrap(), back);
        assert_eq!(bits.display_in(&codec), "16,8 | 4,8 | 2,4 | 16,8 | 8,4");
        // The SRU codec cannot express an LSTM candidate, and says so with `None`.
        assert!(bits.genes(GeneLayout::Independent).is_none());
        let shared = LayerBits::decode(&lstm_codec(GeneLayout::Shared), &[4, 4, 8, 8, 2]).unwrap();
        assert_eq!(shared.activation, [4, 4, 8, 8, 4]);
        let err = LayerBits::decode(&codec, &[16; 16]).unwrap_err();
        assert!(err.to_string().contains("10"), "{err}");
    }

    #[test]
    fn json_is_a_list_of_the_layer_count() {
        let sru = LayerBits::from_paper_genes(&[16; 16]).unwrap();
        let text = serde_json::to_string(&sru).unwrap();
        assert_eq!(
            text,
            r#"{"weight":[16,16,16,16,16,16,16,16],"activation":[16,16,16,16,16,16,16,16]}"#
        );
        assert_eq!(serde_json::from_str::<LayerBits>(&text).unwrap(), sru);
        let lstm = LayerBits::uniform_for(5, 4).with_fc_rule();
        let text = serde_json::to_string(&lstm).unwrap();
        let back: LayerBits = serde_json::from_str(&text).unwrap();
        assert_eq!(back, lstm);
        assert_ne!(back, LayerBits::uniform(4));
        let too_long = format!(r#"{{"weight":{:?},"activation":[]}}"#, vec![4; 33]);
        let err = serde_json::from_str::<LayerBits>(&too_long).unwrap_err();
        assert!(err.to_string().contains("at most 32"), "{err}");
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

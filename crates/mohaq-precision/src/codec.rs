//! Genes ↔ per-layer widths, derived from a [`LayerTable`].
//!
//! Independent layout (the paper's 16 genes for the SRU): for each role of
//! [`MatrixRole::GENE_ORDER`] that the table has, the weight widths of its layers in layer
//! order, then their activation widths. For the paper's SRU this is weights of L0..L3,
//! activations of L0..L3, weights of P1..P3, activations of P1..P3, FC weights, FC activations.
//! Shared layout (platforms whose layers run one width, SiLago): one gene per layer in layer
//! order. Decoding checks every width and applies the FC-activation rule ([`crate::rule`]).

use serde::{Deserialize, Serialize};

use crate::error::GeneError;
use crate::layers::{LayerTable, LayerWidths, MatrixRole};
use crate::rule;
use crate::width::BitWidth;

/// How genes map to layers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GeneLayout {
    /// Weight and activation widths of every layer separately (2 genes per layer).
    Independent,
    /// One width per layer for weights and activations.
    Shared,
}

/// Which operand of a layer a gene sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operand {
    Weight,
    Activation,
    /// Both (shared layout).
    Both,
}

/// What one gene stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct GeneMeaning {
    pub layer: usize,
    pub operand: Operand,
}

/// The gene codec of one model (its layer table) in one layout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneCodec {
    table: LayerTable,
    layout: GeneLayout,
    genes: Vec<GeneMeaning>,
    /// Independent layout: index ranges of the genes of each role group and operand, for
    /// display ("16,2,2,2 | 16,16,16,16 | …"); the output layer's two genes form one group.
    groups: Vec<std::ops::Range<usize>>,
}

impl GeneCodec {
    pub fn new(table: LayerTable, layout: GeneLayout) -> Self {
        let (genes, groups) = match layout {
            GeneLayout::Shared => {
                let genes = (0..table.len())
                    .map(|layer| GeneMeaning {
                        layer,
                        operand: Operand::Both,
                    })
                    .collect();
                // Shared genes are displayed through the independent codec: no groups here.
                (genes, Vec::new())
            }
            GeneLayout::Independent => independent_order(&table),
        };
        Self {
            table,
            layout,
            genes,
            groups,
        }
    }

    /// The paper's SRU in `layout` (16 or 8 genes).
    pub fn paper_sru(layout: GeneLayout) -> Self {
        Self::new(LayerTable::paper_sru(), layout)
    }

    /// The codec whose gene count is `n`: 2 per layer (independent) or 1 (shared).
    pub fn for_count(table: LayerTable, n: usize) -> Self {
        let layout = if n == table.len() {
            GeneLayout::Shared
        } else {
            GeneLayout::Independent
        };
        Self::new(table, layout)
    }

    pub fn table(&self) -> &LayerTable {
        &self.table
    }

    pub fn layout(&self) -> GeneLayout {
        self.layout
    }

    /// Number of genes.
    pub fn len(&self) -> usize {
        self.genes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.genes.is_empty()
    }

    pub fn meaning(&self, gene: usize) -> GeneMeaning {
        self.genes[gene]
    }

    /// Whether `gene` sets a weight width (independent layout) or both (shared).
    pub fn is_weight_gene(&self, gene: usize) -> bool {
        self.genes[gene].operand != Operand::Activation
    }

    /// The gene of the output layer's input activation, where it has its own gene.
    pub fn output_activation_gene(&self) -> Option<usize> {
        let out = self.table.output_layer();
        self.genes
            .iter()
            .position(|m| m.layer == out && m.operand == Operand::Activation)
    }

    /// "P2 weights", "L0 activations", "FC" (shared): what a gene stands for, for messages.
    pub fn describe(&self, gene: usize) -> String {
        let m = self.genes[gene];
        let name = &self.table.names()[m.layer];
        match m.operand {
            Operand::Weight => format!("{name} weights"),
            Operand::Activation => format!("{name} activations"),
            Operand::Both => format!("{name} weights and activations"),
        }
    }

    /// Per-layer widths of `genes` (numbers of bits): every width checked, the FC-activation
    /// rule applied.
    pub fn decode(&self, genes: &[u32]) -> Result<Vec<LayerWidths>, GeneError> {
        if genes.len() != self.len() {
            return Err(GeneError::Length {
                expected: self.len(),
                got: genes.len(),
            });
        }
        let mut widths = vec![LayerWidths::uniform(BitWidth::B16); self.table.len()];
        for (index, (&bits, m)) in genes.iter().zip(&self.genes).enumerate() {
            let width = BitWidth::new(bits).map_err(|_| GeneError::Width {
                index,
                meaning: self.describe(index),
                bits,
            })?;
            let layer = &mut widths[m.layer];
            match m.operand {
                Operand::Weight => layer.weight = width,
                Operand::Activation => layer.activation = width,
                Operand::Both => *layer = LayerWidths::uniform(width),
            }
        }
        rule::apply(&self.table, &mut widths);
        Ok(widths)
    }

    /// Parses "16,2,2,…" (numbers separated by commas) and decodes it.
    pub fn parse(&self, text: &str) -> Result<Vec<LayerWidths>, GeneError> {
        self.decode(&parse_numbers(text)?)
    }

    /// The genes standing for `widths`; `None` in the shared layout when a layer's weight and
    /// activation widths differ, or when the count does not match the table.
    pub fn encode(&self, widths: &[LayerWidths]) -> Option<Vec<u32>> {
        if widths.len() != self.table.len() {
            return None;
        }
        self.genes
            .iter()
            .map(|m| {
                let w = widths[m.layer];
                match m.operand {
                    Operand::Weight => Some(w.weight.bits()),
                    Operand::Activation => Some(w.activation.bits()),
                    Operand::Both => (w.weight == w.activation).then_some(w.weight.bits()),
                }
            })
            .collect()
    }

    /// The widths as independent genes in their groups, "16,2,2,2 | 16,16,16,16 | …" (the
    /// paper's grouping for the SRU), whatever this codec's layout: tables show every width.
    pub fn display(&self, widths: &[LayerWidths]) -> String {
        let independent = match self.layout {
            GeneLayout::Independent => std::borrow::Cow::Borrowed(self),
            GeneLayout::Shared => {
                std::borrow::Cow::Owned(Self::new(self.table.clone(), GeneLayout::Independent))
            }
        };
        let genes = independent.encode(widths).unwrap_or_default();
        independent
            .groups
            .iter()
            .filter_map(|r| genes.get(r.clone()))
            .map(|g| g.iter().map(u32::to_string).collect::<Vec<_>>().join(","))
            .collect::<Vec<_>>()
            .join(" | ")
    }
}

/// The independent gene order of `table` and its display groups.
fn independent_order(table: &LayerTable) -> (Vec<GeneMeaning>, Vec<std::ops::Range<usize>>) {
    let mut genes = Vec::with_capacity(2 * table.len());
    let mut groups = Vec::new();
    for role in MatrixRole::GENE_ORDER {
        let layers: Vec<usize> = (0..table.len())
            .filter(|&l| table.roles()[l] == role)
            .collect();
        if layers.is_empty() {
            continue;
        }
        for operand in [Operand::Weight, Operand::Activation] {
            let start = genes.len();
            genes.extend(layers.iter().map(|&layer| GeneMeaning { layer, operand }));
            groups.push(start..genes.len());
        }
        if role == MatrixRole::Output {
            // The output layer's weight and activation genes read as one group: "16,16".
            let act = groups.pop().expect("pushed above");
            let weight = groups.pop().expect("pushed above");
            groups.push(weight.start..act.end);
        }
    }
    (genes, groups)
}

/// Numbers separated by commas; a part that is not a number is an error naming it.
pub fn parse_numbers(text: &str) -> Result<Vec<u32>, GeneError> {
    text.split(',')
        .enumerate()
        .map(|(index, part)| {
            let part = part.trim();
            part.parse::<u32>().map_err(|_| GeneError::NotANumber {
                index,
                text: part.to_string(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn widths(w: &[u32], a: &[u32]) -> Vec<LayerWidths> {
        w.iter()
            .zip(a)
            .map(|(&w, &a)| LayerWidths {
                weight: BitWidth::new(w).unwrap(),
                activation: BitWidth::new(a).unwrap(),
            })
            .collect()
    }

    #[test]
    fn paper_order_is_derived_from_the_sru_table() {
        let codec = GeneCodec::paper_sru(GeneLayout::Independent);
        assert_eq!(codec.len(), 16);
        let expected: [(usize, bool); 16] = [
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
        for (g, &(layer, weight)) in expected.iter().enumerate() {
            let m = codec.meaning(g);
            assert_eq!(m.layer, layer, "gene {g}");
            assert_eq!(m.operand == Operand::Weight, weight, "gene {g}");
            assert_eq!(codec.is_weight_gene(g), weight, "gene {g}");
        }
        assert_eq!(codec.output_activation_gene(), Some(15));
        assert_eq!(GeneCodec::paper_sru(GeneLayout::Shared).len(), 8);
    }

    #[test]
    fn m3_round_trips_and_displays_in_the_papers_grouping() {
        let codec = GeneCodec::paper_sru(GeneLayout::Independent);
        let m3 = [16, 2, 2, 2, 16, 4, 4, 4, 16, 2, 2, 16, 16, 16, 16, 16];
        let w = codec.decode(&m3).unwrap();
        assert_eq!(
            w,
            widths(&[16, 2, 2, 2, 16, 2, 2, 16], &[16, 4, 4, 4, 16, 16, 16, 16])
        );
        assert_eq!(codec.encode(&w).unwrap(), m3);
        assert_eq!(
            codec.display(&w),
            "16,2,2,2 | 16,4,4,4 | 16,2,2 | 16,16,16 | 16,16"
        );
        let shared = GeneCodec::paper_sru(GeneLayout::Shared);
        assert_eq!(shared.encode(&w), None, "weights and activations differ");
        assert_eq!(shared.display(&w), codec.display(&w));
    }

    #[test]
    fn fc_activation_two_is_raised_to_four_in_both_layouts() {
        let codec = GeneCodec::paper_sru(GeneLayout::Independent);
        let mut genes = [16; 16];
        genes[15] = 2;
        assert_eq!(codec.decode(&genes).unwrap()[7].activation, BitWidth::B4);
        let shared = GeneCodec::paper_sru(GeneLayout::Shared);
        let w = shared.decode(&[4, 4, 4, 4, 4, 4, 4, 2]).unwrap();
        assert_eq!((w[7].weight, w[7].activation), (BitWidth::B2, BitWidth::B4));
    }

    #[test]
    fn bad_widths_lengths_and_text_are_errors_naming_the_gene() {
        let codec = GeneCodec::paper_sru(GeneLayout::Independent);
        let mut genes = [16; 16];
        genes[9] = 3;
        let err = codec.decode(&genes).unwrap_err();
        assert!(err.to_string().contains("P2 weights"), "{err}");
        assert!(codec.decode(&[16; 15]).is_err());
        let err = codec.parse("16,16,x").unwrap_err();
        assert!(err.to_string().contains("`x`"), "{err}");
    }

    #[test]
    fn a_table_with_recurrent_matrices_orders_them_after_the_inputs() {
        // A two-layer LSTM-like table: input and recurrent matrix per layer, one projection.
        let table = LayerTable::new([
            ("X0", MatrixRole::Input),
            ("H0", MatrixRole::Recurrent),
            ("X1", MatrixRole::Input),
            ("H1", MatrixRole::Recurrent),
            ("P1", MatrixRole::Projection),
            ("FC", MatrixRole::Output),
        ])
        .unwrap();
        let codec = GeneCodec::new(table, GeneLayout::Independent);
        assert_eq!(codec.len(), 12);
        let layers: Vec<usize> = (0..12).map(|g| codec.meaning(g).layer).collect();
        assert_eq!(layers, [0, 2, 0, 2, 1, 3, 1, 3, 4, 4, 5, 5]);
        assert_eq!(codec.output_activation_gene(), Some(11));
        assert!(LayerTable::new([("FC", MatrixRole::Output), ("L0", MatrixRole::Input)]).is_err());
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    fn width() -> impl Strategy<Value = u32> {
        prop::sample::select(BitWidth::ALL_BITS.to_vec())
    }

    proptest! {
        /// Any genes of valid widths decode, and encode back to themselves except that a
        /// 2-bit output activation comes back as 4 (the rule), for SRUs of 1 to 6 layers.
        #[test]
        fn decode_then_encode_is_the_identity_up_to_the_fc_rule(
            layers in 1usize..7,
            raw in prop::collection::vec(width(), 24),
            shared in any::<bool>(),
        ) {
            let layout = if shared { GeneLayout::Shared } else { GeneLayout::Independent };
            let codec = GeneCodec::new(LayerTable::sru(layers), layout);
            let genes = &raw[..codec.len()];
            let widths = codec.decode(genes).unwrap();
            prop_assert_eq!(widths.len(), 2 * layers);
            prop_assert_ne!(widths[2 * layers - 1].activation, BitWidth::B2);
            let back = codec.encode(&widths);
            match (layout, codec.output_activation_gene()) {
                (GeneLayout::Independent, Some(fc)) => {
                    let mut expected = genes.to_vec();
                    if expected[fc] == 2 {
                        expected[fc] = 4;
                    }
                    prop_assert_eq!(back, Some(expected));
                }
                _ => {
                    // Shared: a 2-bit FC decodes to 2/4, which one shared gene cannot express.
                    let fc_two = genes[codec.len() - 1] == 2;
                    prop_assert_eq!(back.is_none(), fc_two);
                    if !fc_two {
                        prop_assert_eq!(back, Some(genes.to_vec()));
                    }
                }
            }
        }
    }
}

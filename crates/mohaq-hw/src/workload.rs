//! What a model asks of the hardware per frame: its matrix layers (weights, MACs, and optionally
//! the input/output sizes a cycle-level simulation needs) and its elementwise parameters.
//!
//! The cost models never see the network itself, only this list, so that any model size (or a
//! model that is not an SRU) can be costed the same way.

use mohaq_precision::{rule, BitWidth, GeneCodec, GeneLayout};

use crate::error::HwError;
use serde::Serialize;

/// Bits of every elementwise parameter (biases, SRU `v` vectors): they stay 16-bit fixed point.
pub const ELEMENTWISE_BITS: u32 = 16;

/// One matrix-vector product per frame.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MatrixLayer {
    /// Name shown in reports (e.g. `L0`, `P1`, `FC`).
    pub name: String,
    /// Number of weights (each stored at the layer's weight width).
    pub weights: u64,
    /// Multiply-accumulates per frame (equals `weights` for a matrix-vector product).
    pub macs: u64,
    /// `(inputs, outputs)` of the product, needed by the Bit Fusion simulation only.
    pub shape: Option<(u64, u64)>,
}

impl MatrixLayer {
    /// A layer known by its counts only (enough for the analytic models).
    pub fn new(name: impl Into<String>, weights: u64, macs: u64) -> Self {
        MatrixLayer {
            name: name.into(),
            weights,
            macs,
            shape: None,
        }
    }

    /// A fully connected `inputs → outputs` layer: weights = MACs = inputs·outputs.
    pub fn fully_connected(name: impl Into<String>, inputs: u64, outputs: u64) -> Self {
        let count = inputs.saturating_mul(outputs);
        MatrixLayer {
            name: name.into(),
            weights: count,
            macs: count,
            shape: Some((inputs, outputs)),
        }
    }
}

/// A list of matrix layers plus elementwise work, with the normaliser of the paper's speedup.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Workload {
    name: String,
    layers: Vec<MatrixLayer>,
    elementwise_params: u64,
    normaliser: u64,
}

impl Workload {
    /// A workload of `layers` with no elementwise parameters; the speedup normaliser defaults to
    /// the sum of MACs (so an all-16-bit model scores exactly 1 in the paper's formula).
    pub fn new(name: impl Into<String>, layers: Vec<MatrixLayer>) -> Result<Self, HwError> {
        let name = name.into();
        let bad = |reason: String| HwError::InvalidWorkload {
            workload: name.clone(),
            reason,
        };
        if layers.is_empty() {
            return Err(bad("it has no matrix layers".into()));
        }
        for (i, layer) in layers.iter().enumerate() {
            if layer.name.is_empty() {
                return Err(bad(format!("layer {i} has an empty name")));
            }
            if layer.weights == 0 || layer.macs == 0 {
                return Err(bad(format!(
                    "layer `{}` has {} weights and {} MACs; both must be positive",
                    layer.name, layer.weights, layer.macs
                )));
            }
            if let Some((inputs, outputs)) = layer.shape {
                if inputs == 0 || outputs == 0 {
                    return Err(bad(format!(
                        "layer `{}` has shape {inputs}x{outputs}",
                        layer.name
                    )));
                }
            }
            if layers[..i].iter().any(|other| other.name == layer.name) {
                return Err(bad(format!("layer name `{}` is used twice", layer.name)));
            }
        }
        let total: u64 = layers.iter().map(|l| l.macs).sum();
        Ok(Workload {
            name,
            layers,
            elementwise_params: 0,
            normaliser: total,
        })
    }

    /// Convenience for callers holding `(name, weights, MACs)` triples, e.g. a model's layer list.
    pub fn from_counts<S: Into<String>>(
        name: impl Into<String>,
        layers: impl IntoIterator<Item = (S, u64, u64)>,
    ) -> Result<Self, HwError> {
        let layers = layers
            .into_iter()
            .map(|(n, w, m)| MatrixLayer::new(n, w, m))
            .collect();
        Workload::new(name, layers)
    }

    /// Adds `count` elementwise parameters (stored at [`ELEMENTWISE_BITS`], counted in the size).
    pub fn with_elementwise_params(mut self, count: u64) -> Self {
        self.elementwise_params = count;
        self
    }

    /// Sets the divisor of the paper's speedup formula. It must be at least the sum of MACs
    /// (the paper adds the elementwise operations to it).
    pub fn with_normaliser(mut self, normaliser: u64) -> Result<Self, HwError> {
        let total = self.total_macs();
        if normaliser < total {
            return Err(HwError::InvalidWorkload {
                workload: self.name,
                reason: format!("normaliser {normaliser} is below the sum of MACs {total}"),
            });
        }
        self.normaliser = normaliser;
        Ok(self)
    }

    /// The paper's SRU (METHOD.md §3) in the paper's gene order L0, L1, L2, L3, P1, P2, P3, FC
    /// (physically P_k runs before L_k, but the cost is order-free), with its 8,800 elementwise
    /// parameters and its normaliser 5,637,500.
    pub fn paper_sru() -> Self {
        let layers = vec![
            MatrixLayer::fully_connected("L0", 23, 3300),
            MatrixLayer::fully_connected("L1", 256, 3300),
            MatrixLayer::fully_connected("L2", 256, 3300),
            MatrixLayer::fully_connected("L3", 256, 3300),
            MatrixLayer::fully_connected("P1", 1100, 256),
            MatrixLayer::fully_connected("P2", 1100, 256),
            MatrixLayer::fully_connected("P3", 1100, 256),
            MatrixLayer::fully_connected("FC", 1100, 1904),
        ];
        Workload {
            name: "paper-sru".into(),
            layers,
            elementwise_params: PAPER_ELEMENTWISE_PARAMS,
            normaliser: PAPER_NORMALISER,
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }
    pub fn layers(&self) -> &[MatrixLayer] {
        &self.layers
    }
    pub fn elementwise_params(&self) -> u64 {
        self.elementwise_params
    }
    pub fn normaliser(&self) -> u64 {
        self.normaliser
    }
    pub fn total_macs(&self) -> u64 {
        self.layers.iter().map(|l| l.macs).sum()
    }
    pub fn total_weights(&self) -> u64 {
        self.layers.iter().map(|l| l.weights).sum()
    }
}

/// Elementwise parameters of the paper's SRU: v_f, v_r of 4 layers × 2 directions × 550.
pub const PAPER_ELEMENTWISE_PARAMS: u64 = 8_800;
/// The paper's speedup normaliser: 5,549,500 matrix MACs plus 88,000 elementwise operations.
pub const PAPER_NORMALISER: u64 = 5_637_500;

/// Decodes the paper's 16 genes (METHOD.md §5.1) into `(weight bits, activation bits)` per layer
/// of [`Workload::paper_sru`] with mohaq-precision's codec, exactly as the search decodes them:
/// widths checked, the FC-activation rule (2 → 4) applied.
pub fn paper_sru_bits_from_genes(genes: &[u32]) -> Result<Vec<(u32, u32)>, HwError> {
    let widths = GeneCodec::paper_sru(GeneLayout::Independent)
        .decode(genes)
        .map_err(|e| HwError::InvalidGenes {
            reason: format!("the paper's SRU: {e}"),
        })?;
    Ok(widths
        .iter()
        .map(|w| (w.weight.bits(), w.activation.bits()))
        .collect())
}

/// Per-layer `(weight bits, activation bits)` of `workload` from `mohaq hw eval --bits` tokens:
/// one per layer (`8` for weights and activations at 8, `4/8` for weights 4 and activations 8),
/// or the paper's 16 genes for the paper's SRU. Widths are checked and the FC-activation rule
/// (a 2-bit input of the output layer, the last, runs at 4) applied, as the search decodes genes.
pub fn bits_from_tokens(
    workload: &Workload,
    tokens: &[String],
) -> Result<Vec<(u32, u32)>, HwError> {
    let invalid = |reason: String| HwError::InvalidGenes { reason };
    let width = |t: &str| -> Result<BitWidth, HwError> {
        let bits: u32 = t
            .trim()
            .parse()
            .map_err(|_| invalid(format!("`{t}` is not a bit width")))?;
        BitWidth::new(bits).map_err(|e| invalid(format!("`{t}`: {e}")))
    };
    let layers = workload.layers().len();
    if tokens.len() == layers {
        let mut pairs = tokens
            .iter()
            .map(|t| match t.split_once('/') {
                Some((w, a)) => Ok((width(w)?, width(a)?)),
                None => width(t).map(|b| (b, b)),
            })
            .collect::<Result<Vec<_>, HwError>>()?;
        if let Some(last) = pairs.last_mut() {
            last.1 = rule::output_activation(last.1);
        }
        return Ok(pairs.iter().map(|(w, a)| (w.bits(), a.bits())).collect());
    }
    if tokens.len() == 16 && workload.name() == Workload::paper_sru().name() {
        let genes = tokens
            .iter()
            .map(|t| width(t).map(BitWidth::bits))
            .collect::<Result<Vec<_>, HwError>>()?;
        return paper_sru_bits_from_genes(&genes);
    }
    Err(invalid(format!(
        "expected {layers} widths (one per layer: `8` or `w/a`) or the paper's 16 genes, got {}",
        tokens.len()
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paper_preset_matches_method_table() {
        let w = Workload::paper_sru();
        let macs: Vec<u64> = w.layers().iter().map(|l| l.macs).collect();
        assert_eq!(
            macs,
            [75_900, 844_800, 844_800, 844_800, 281_600, 281_600, 281_600, 2_094_400]
        );
        assert_eq!(w.total_macs(), 5_549_500);
        assert_eq!(w.normaliser(), 5_637_500);
        assert_eq!(w.elementwise_params(), 8_800);
    }

    #[test]
    fn normaliser_defaults_to_sum_of_macs() {
        let w = Workload::from_counts("t", [("a", 10, 20), ("b", 5, 7)]).unwrap();
        assert_eq!(w.normaliser(), 27);
        assert!(w.clone().with_normaliser(26).is_err());
        assert_eq!(w.with_normaliser(30).unwrap().normaliser(), 30);
    }

    #[test]
    fn malformed_workloads_are_rejected() {
        assert!(Workload::new("e", vec![]).is_err());
        assert!(Workload::from_counts("z", [("a", 0, 1)]).is_err());
        assert!(Workload::from_counts("d", [("a", 1, 1), ("a", 2, 2)]).is_err());
    }

    #[test]
    fn genes_decode_in_paper_order() {
        // Genes 0–3 weights of L0..L3, 4–7 their activations, 8–10 weights of P1..P3, 11–13
        // their activations, 14 FC weights, 15 FC activations; checked with every width at
        // every gene position so that no two positions can be confused.
        let w = [2, 4, 8, 16];
        for shift in 0..4 {
            let genes: Vec<u32> = (0..16).map(|g| w[(g + shift + g / 4) % 4]).collect();
            let g = |i: usize| genes[i];
            let fc_act = if g(15) == 2 { 4 } else { g(15) };
            let bits = paper_sru_bits_from_genes(&genes).unwrap();
            assert_eq!(
                bits,
                [
                    (g(0), g(4)),
                    (g(1), g(5)),
                    (g(2), g(6)),
                    (g(3), g(7)),
                    (g(8), g(11)),
                    (g(9), g(12)),
                    (g(10), g(13)),
                    (g(14), fc_act)
                ]
            );
        }
        let genes = [16u32; 16];
        assert!(paper_sru_bits_from_genes(&genes[..15]).is_err());
        let mut fc2 = [16u32; 16];
        fc2[15] = 2;
        assert_eq!(
            paper_sru_bits_from_genes(&fc2).unwrap()[7],
            (16, 4),
            "FC rule"
        );
        let mut bad = [16u32; 16];
        bad[3] = 3;
        assert!(paper_sru_bits_from_genes(&bad).is_err());
    }
}

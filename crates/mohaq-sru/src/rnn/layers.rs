//! The matrix layers of an LSTM/GRU in layer order: input matrices `L0..`, recurrent matrices
//! `R0..`, projections `P1..`, `FC`. Every matrix product gets a weight and an input-activation
//! width: `L{k}` is `W_ih` of layer k (both directions: one product on the same input), `R{k}`
//! is `W_hh` with `h_{t−1}` (both directions at one width). The gene order (mohaq-precision's
//! codec over [`RnnConfig::layer_table`]) and the hardware workload come from this one list,
//! and the recurrent products' MACs are counted in it.

use mohaq_precision::{LayerTable, MatrixRole};
use serde::Serialize;

use super::config::RnnConfig;

/// What a matrix layer is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum RnnLayerKind {
    /// `W_ih` of recurrent layer `layer` (0-based).
    Input {
        layer: usize,
    },
    /// `W_hh` of recurrent layer `layer`.
    Recurrent {
        layer: usize,
    },
    /// The projection in front of recurrent layer `index` (1-based, as `P1..`).
    Projection {
        index: usize,
    },
    Output,
}

impl RnnLayerKind {
    pub fn role(self) -> MatrixRole {
        match self {
            RnnLayerKind::Input { .. } => MatrixRole::Input,
            RnnLayerKind::Recurrent { .. } => MatrixRole::Recurrent,
            RnnLayerKind::Projection { .. } => MatrixRole::Projection,
            RnnLayerKind::Output => MatrixRole::Output,
        }
    }
}

/// One matrix product of the model with its per-frame cost.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RnnLayer {
    pub name: String,
    pub kind: RnnLayerKind,
    /// Input width of the product.
    pub in_dim: usize,
    /// Output rows, all directions together.
    pub out_dim: usize,
    pub weights: usize,
    /// Multiply-accumulates per frame (= weights: every weight is used once per frame).
    pub macs_per_frame: usize,
}

impl RnnLayer {
    fn new(name: String, kind: RnnLayerKind, in_dim: usize, out_dim: usize) -> Self {
        Self {
            name,
            kind,
            in_dim,
            out_dim,
            weights: in_dim * out_dim,
            macs_per_frame: in_dim * out_dim,
        }
    }
}

impl RnnConfig {
    /// The matrix layers in layer order: L0.., R0.., P1.., FC.
    pub fn matrix_layers(&self) -> Vec<RnnLayer> {
        let rows = self.directions() * self.gate_rows();
        let n = self.layers;
        let inputs = (0..n).map(|k| {
            RnnLayer::new(
                format!("L{k}"),
                RnnLayerKind::Input { layer: k },
                self.layer_input(k),
                rows,
            )
        });
        let recurrent = (0..n).map(|k| {
            // One direction's W_hh is G·H × H; both directions are counted in one layer.
            RnnLayer::new(
                format!("R{k}"),
                RnnLayerKind::Recurrent { layer: k },
                self.hidden,
                rows,
            )
        });
        let projections = self.projection.into_iter().flat_map(|p| {
            (1..n).map(move |i| {
                RnnLayer::new(
                    format!("P{i}"),
                    RnnLayerKind::Projection { index: i },
                    self.layer_output(),
                    p,
                )
            })
        });
        let fc = RnnLayer::new(
            "FC".into(),
            RnnLayerKind::Output,
            self.layer_output(),
            self.classes,
        );
        inputs
            .chain(recurrent)
            .chain(projections)
            .chain([fc])
            .collect()
    }

    /// Names and roles, from which mohaq-precision derives the gene order.
    pub fn layer_table(&self) -> LayerTable {
        LayerTable::new(
            self.matrix_layers()
                .into_iter()
                .map(|l| (l.name, l.kind.role())),
        )
        .expect("an LSTM/GRU layer list ends with its one output layer")
    }

    /// Position of a layer in [`Self::matrix_layers`].
    pub fn layer_position(&self, kind: RnnLayerKind) -> usize {
        let n = self.layers;
        let projections = if self.projection.is_some() { n - 1 } else { 0 };
        match kind {
            RnnLayerKind::Input { layer } => layer,
            RnnLayerKind::Recurrent { layer } => n + layer,
            RnnLayerKind::Projection { index } => 2 * n + index - 1,
            RnnLayerKind::Output => 2 * n + projections,
        }
    }

    /// Parameters kept at 16 bits (counted in the model size): the biases of every layer and
    /// direction (`b_ih` and `b_hh`), of the projections and of the output layer.
    pub fn elementwise_params(&self) -> usize {
        let recurrent = self.layers * self.directions() * 2 * self.gate_rows();
        let proj = self.projection.map_or(0, |p| (self.layers - 1) * p);
        recurrent + proj + self.classes
    }
}

#[cfg(test)]
mod tests {
    use mohaq_precision::{GeneCodec, GeneLayout};

    use super::*;
    use crate::rnn::{RnnKind, TensorNames};

    fn config(kind: RnnKind, bidirectional: bool, projection: Option<usize>) -> RnnConfig {
        RnnConfig {
            name: "t".into(),
            kind,
            input_dim: 23,
            hidden: 32,
            layers: 2,
            bidirectional,
            projection,
            classes: 117,
            dropout: 0.0,
            names: TensorNames::default(),
        }
    }

    #[test]
    fn recurrent_products_are_layers_with_their_macs_and_genes() {
        let c = config(RnnKind::Lstm, true, Some(16));
        let layers = c.matrix_layers();
        let names: Vec<&str> = layers.iter().map(|l| l.name.as_str()).collect();
        assert_eq!(names, ["L0", "L1", "R0", "R1", "P1", "FC"]);
        // L0: 23 inputs → 2 directions × 4 gates × 32; R0: 32 → 2 × 128.
        assert_eq!(layers[0].macs_per_frame, 23 * 256);
        assert_eq!(layers[2].macs_per_frame, 32 * 256);
        assert_eq!((layers[1].in_dim, layers[4].in_dim), (16, 64));
        for (pos, l) in layers.iter().enumerate() {
            assert_eq!(c.layer_position(l.kind), pos);
        }
        let codec = GeneCodec::new(c.layer_table(), GeneLayout::Independent);
        assert_eq!(codec.len(), 12);
        assert_eq!(codec.describe(4), "R0 weights");
        let gru = config(RnnKind::Gru, false, None);
        let layers = gru.matrix_layers();
        assert_eq!(layers.len(), 5);
        assert_eq!(layers[2].weights, 32 * 96);
        assert_eq!(layers[1].in_dim, 32);
    }
}

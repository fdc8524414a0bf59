//! The model's matrix layers in the paper's gene order (L0..L{n-1}, P1..P{n-1}, FC).
//!
//! The hardware cost models and the search address layers by this order, so it is defined once
//! here. For layer 1 the paper counts three blocks (23 → 3300) although the real layer has a fourth
//! (highway) block; both counts are kept so that the paper's cost table can be reproduced exactly
//! while the real cost stays visible.

use mohaq_precision::{LayerTable, MatrixRole};
use serde::Serialize;

use super::config::ModelConfig;

/// What a matrix layer is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum LayerKind {
    /// The input matrix W of SRU layer `index` (0-based).
    Sru { index: usize },
    /// The projection P in front of SRU layer `index` (1-based as in the paper: P1..).
    Projection { index: usize },
    /// The output layer.
    Output,
}

impl LayerKind {
    /// The role the gene codec orders layers by.
    pub fn role(self) -> MatrixRole {
        match self {
            LayerKind::Sru { .. } => MatrixRole::Input,
            LayerKind::Projection { .. } => MatrixRole::Projection,
            LayerKind::Output => MatrixRole::Output,
        }
    }
}

/// One matrix-vector product of the model, with its size and per-frame cost.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MatrixLayer {
    /// Gene-order name: `L0`.., `P1`.., `FC`.
    pub name: String,
    pub kind: LayerKind,
    /// Input width of the product.
    pub in_dim: usize,
    /// Output width of the real layer.
    pub out_dim: usize,
    /// Output width as the paper counts it (differs only for L0: 3 blocks instead of 4).
    pub paper_out_dim: usize,
    /// Weight count of the real layer.
    pub weights: usize,
    /// Weight count as the paper counts it.
    pub paper_weights: usize,
    /// Multiply-accumulates per frame of the real layer (= weights).
    pub macs_per_frame: usize,
    /// Multiply-accumulates per frame as the paper counts them.
    pub paper_macs_per_frame: usize,
}

impl MatrixLayer {
    fn new(name: String, kind: LayerKind, in_dim: usize, out_dim: usize, paper_out: usize) -> Self {
        Self {
            name,
            kind,
            in_dim,
            out_dim,
            paper_out_dim: paper_out,
            weights: in_dim * out_dim,
            paper_weights: in_dim * paper_out,
            macs_per_frame: in_dim * out_dim,
            paper_macs_per_frame: in_dim * paper_out,
        }
    }
}

impl ModelConfig {
    /// The matrix layers' names and roles, from which mohaq-precision derives the gene order.
    pub fn layer_table(&self) -> LayerTable {
        LayerTable::new(
            self.matrix_layers()
                .into_iter()
                .map(|l| (l.name, l.kind.role())),
        )
        .expect("an SRU's layer list ends with its one output layer")
    }

    /// The matrix layers in layer order: SRU matrices, then projections, then FC.
    pub fn matrix_layers(&self) -> Vec<MatrixLayer> {
        let two_h = self.layer_output();
        let mut out = Vec::with_capacity(2 * self.layers);
        for i in 0..self.layers {
            let real = 2 * self.blocks(i) * self.hidden;
            let paper = 2 * 3 * self.hidden;
            out.push(MatrixLayer::new(
                format!("L{i}"),
                LayerKind::Sru { index: i },
                self.sru_input(i),
                real,
                paper,
            ));
        }
        for i in 1..self.layers {
            out.push(MatrixLayer::new(
                format!("P{i}"),
                LayerKind::Projection { index: i },
                two_h,
                self.projection,
                self.projection,
            ));
        }
        out.push(MatrixLayer::new(
            "FC".to_string(),
            LayerKind::Output,
            two_h,
            self.classes,
            self.classes,
        ));
        out
    }

    /// Number of elementwise parameters kept at 16 bits: v_f and v_r of every layer and direction.
    pub fn elementwise_params(&self) -> usize {
        2 * self.layers * 2 * self.hidden
    }

    /// Number of genes of the search (weight and input-activation bits per matrix layer).
    pub fn num_genes(&self) -> usize {
        2 * self.matrix_layers().len()
    }

    /// Position of the matrix layer for SRU layer `i` / projection `i` / FC in gene order.
    pub fn layer_position(&self, kind: LayerKind) -> usize {
        match kind {
            LayerKind::Sru { index } => index,
            LayerKind::Projection { index } => self.layers + index - 1,
            LayerKind::Output => 2 * self.layers - 1,
        }
    }
}

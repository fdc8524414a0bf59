//! Errors of widths and gene vectors; each names the gene and what it stands for.

/// A bit width outside {2, 4, 8, 16}.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("unsupported bit width {0}: only 2, 4, 8 and 16 are allowed")]
pub struct InvalidBitWidth(pub u32);

/// A gene vector (or layer table) that does not describe a quantization of the model.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GeneError {
    #[error("expected {expected} genes, got {got}")]
    Length { expected: usize, got: usize },
    #[error("gene {index} ({meaning}): {bits} bits is not one of 2, 4, 8, 16")]
    Width {
        index: usize,
        meaning: String,
        bits: u32,
    },
    #[error("gene {index}: `{text}` is not a bit width (2, 4, 8 or 16)")]
    NotANumber { index: usize, text: String },
    #[error("layer table: {0}")]
    Table(String),
}

//! The FC-activation rule (METHOD §4.3, §5.1): the output layer's input is never quantized to
//! 2 bits; a 2 is raised to 4. Decoding genes applies it, and the search leaves 2 out of the
//! output-activation gene so that no two genes vectors decode to one configuration.

use crate::layers::{LayerTable, LayerWidths};
use crate::width::BitWidth;

/// The output layer's input activation width for a requested width.
pub fn output_activation(requested: BitWidth) -> BitWidth {
    if requested == BitWidth::B2 {
        BitWidth::B4
    } else {
        requested
    }
}

/// Applies the rule to per-layer widths in `table`'s order.
pub fn apply(table: &LayerTable, widths: &mut [LayerWidths]) {
    if let Some(out) = widths.get_mut(table.output_layer()) {
        out.activation = output_activation(out.activation);
    }
}

/// The values the output-activation gene may take out of `widths`: 2 left out (it would decode
/// like 4), unless nothing else is allowed.
pub fn output_activation_choices(widths: &[u32]) -> Vec<u32> {
    let usable: Vec<u32> = widths.iter().copied().filter(|&b| b != 2).collect();
    if usable.is_empty() {
        widths.to_vec()
    } else {
        usable
    }
}

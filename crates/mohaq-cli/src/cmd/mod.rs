//! One module per subcommand: argument parsing and printing only.

pub mod beacon;
pub mod data;
pub mod eval;
pub mod executor;
pub mod exhaustive;
pub mod export;
pub mod features;
pub mod forward;
pub mod hw;
pub mod import;
pub mod infer;
pub mod report;
pub mod search;
pub mod train;
pub mod tune_decoder;
pub mod worker;

/// Says so when `--bits` asks for a 2-bit FC activation (the last gene of 16 or 8, or one width
/// for all): it runs at 4 bits, as the FC input is never quantized to 2 bits (METHOD §5.1).
pub fn note_fc_activation(text: &str) {
    let genes: Vec<&str> = text.split(',').map(str::trim).collect();
    if matches!(genes.len(), 1 | 8 | 16) && genes.last() == Some(&"2") {
        eprintln!(
            "note: --bits {text} asks for a 2-bit FC activation; it runs at 4 bits (the FC \
             input is never quantized to 2 bits, METHOD §5.1)"
        );
    }
}

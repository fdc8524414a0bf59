//! One module per subcommand: argument parsing and printing only.

pub mod data;
pub mod features;
pub mod hw;
pub mod eval;
pub mod train;

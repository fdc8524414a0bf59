//! One module per subcommand: argument parsing and printing only.

pub mod data;
pub mod eval;
pub mod features;
pub mod hw;
pub mod train;
pub mod beacon;
pub mod report;
pub mod search;

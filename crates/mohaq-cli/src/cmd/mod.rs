//! One module per subcommand: argument parsing and printing only.

pub mod beacon;
pub mod data;
pub mod eval;
pub mod executor;
pub mod exhaustive;
pub mod export;
pub mod features;
pub mod hw;
pub mod infer;
pub mod report;
pub mod search;
pub mod train;
pub mod worker;

//! Hardware cost models: the paper's analytic SiLago and Bit Fusion models, a cycle-level Bit Fusion
//! model, and platforms described as TOML.

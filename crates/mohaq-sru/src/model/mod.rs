//! Model: see the crate docs.

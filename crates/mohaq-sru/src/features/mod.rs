//! Front end: see the crate docs.

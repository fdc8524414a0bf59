//! Elementwise arithmetic shared by the float (training) and fixed-point (search) recurrences and
//! the softmax layers: an `expf` that vectorizes ([`expf`]) and the fixed-size blocks of hidden
//! units the recurrence loops run on ([`lanes`]).

pub mod expf;
pub mod lanes;

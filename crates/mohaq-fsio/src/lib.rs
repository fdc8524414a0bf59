//! Files that survive a crash, for every mohaq crate that writes results.
//!
//! - [`atomic`]: the one atomic write (a temporary file in the same folder, fsync, rename), so
//!   a killed process or a full disk never leaves half a file under the final name (a killed
//!   writer leaves at most a stray temporary, which `remove_stale_temps` clears);
//! - [`lock`]: the run-directory lock, so two processes never write one run directory.
//!
//! Depends on no other mohaq crate.

pub mod atomic;
pub mod lock;

pub use atomic::{
    remove_stale_temps, remove_stale_temps_in, temp_sibling, write_atomic, write_atomic_with,
    write_json_atomic,
};
pub use lock::{DirLock, LockError, LOCK_FILE};

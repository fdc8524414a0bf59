//! Log set-up shared by the `mohaq` binary and `cargo xtask`: what the long steps are doing
//! (which experiment runs, a beacon being retrained) on stderr, so stdout stays for results.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

/// Shown when `MOHAQ_LOG` is unset: warnings, and the progress messages of the search and the
/// application.
pub const DEFAULT_FILTER: &str = "warn,mohaq_beacon=info,mohaq_app=info";

/// Sends `tracing` events to stderr, filtered by `MOHAQ_LOG` (e.g. `MOHAQ_LOG=debug`) or
/// [`DEFAULT_FILTER`]. Call once, first thing in `main`.
pub fn init_stderr() {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_env("MOHAQ_LOG").unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER)),
        )
        .with_writer(std::io::stderr)
        // Colour codes only for a person at a terminal, not in a redirected log file.
        .with_ansi(std::io::stderr().is_terminal())
        .init();
}

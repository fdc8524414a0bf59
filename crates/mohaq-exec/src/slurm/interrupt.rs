//! Ctrl-C while jobs are out: the signal only sets a flag (nothing else is safe in a signal
//! handler); the executor's polling loop sees it, cancels this run's jobs and returns an error.
//! The handlers are installed only while a batch is out, so Ctrl-C elsewhere behaves as usual.

use std::sync::atomic::{AtomicBool, Ordering};

static INTERRUPTED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_: libc::c_int) {
    INTERRUPTED.store(true, Ordering::SeqCst);
}

/// SIGINT and SIGTERM set the flag while this lives; the previous handlers come back on drop.
pub struct InterruptGuard {
    previous: Vec<(libc::c_int, libc::sighandler_t)>,
}

impl InterruptGuard {
    pub fn install() -> Self {
        INTERRUPTED.store(false, Ordering::SeqCst);
        let handler = on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
        let previous = [libc::SIGINT, libc::SIGTERM]
            .into_iter()
            // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
            .map(|sig| (sig, unsafe { libc::signal(sig, handler) }))
            .collect();
        Self { previous }
    }

    pub fn interrupted(&self) -> bool {
        INTERRUPTED.load(Ordering::SeqCst)
    }
}

impl Drop for InterruptGuard {
    fn drop(&mut self) {
        for &(sig, handler) in &self.previous {
            // SAFETY: restores the handler `signal` returned at install.
            unsafe {
                libc::signal(sig, handler);
            }
        }
    }
}

//! The run-directory lock: one process at a time writes a run directory.
//!
//! `<dir>/mohaq.lock` holds the holder's pid and carries an exclusive advisory lock of the
//! operating system (`flock` on Unix, `LockFileEx` on Windows). The system drops that lock when
//! the holder exits in any way, kill -9 included, so a lock left by a killed process is never in
//! the way: the next process takes it over and is told whose it was. Locks belong to open
//! files, so a second handle in the same process is refused like a second process. Taking the
//! lock also removes the temporaries that writers killed mid-write left in the folder.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// Name of the lock file inside a locked folder.
pub const LOCK_FILE: &str = "mohaq.lock";

/// Why a folder could not be locked.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Another process (or another handle of this one) holds the lock.
    #[error("{}: in use by another mohaq process (pid {}); wait for it to finish or stop it, or use another folder", dir.display(), pid.map_or("unknown".to_string(), |p| p.to_string()))]
    Held { dir: PathBuf, pid: Option<u32> },
    #[error("{}: {action}: {source}", path.display())]
    Io {
        path: PathBuf,
        action: &'static str,
        source: std::io::Error,
    },
}

/// An exclusive lock on a folder, held until dropped.
#[derive(Debug)]
pub struct DirLock {
    file: File,
    path: PathBuf,
    previous: Option<u32>,
}

impl DirLock {
    /// Locks `dir` (created if missing) for this process, or says who holds it.
    pub fn acquire(dir: &Path) -> Result<Self, LockError> {
        let io = |action: &'static str, path: &Path| {
            let path = path.to_path_buf();
            move |source| LockError::Io {
                path,
                action,
                source,
            }
        };
        std::fs::create_dir_all(dir).map_err(io("creating the folder", dir))?;
        let path = dir.join(LOCK_FILE);
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io("opening the lock file", &path))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                return Err(LockError::Held {
                    dir: dir.to_path_buf(),
                    pid: read_pid(&mut file),
                })
            }
            Err(TryLockError::Error(source)) => {
                return Err(LockError::Io {
                    path,
                    action: "locking",
                    source,
                })
            }
        }
        // A pid still in the file is a holder that ended without cleaning up (killed).
        let previous = read_pid(&mut file).filter(|&p| p != std::process::id());
        // The folder is ours now: temporaries that killed writers left in it go.
        crate::atomic::remove_stale_temps_in(dir);
        file.set_len(0)
            .map_err(io("writing the lock file", &path))?;
        file.seek(SeekFrom::Start(0))
            .and_then(|_| writeln!(file, "{}", std::process::id()))
            .and_then(|_| file.sync_all())
            .map_err(io("writing the lock file", &path))?;
        Ok(Self {
            file,
            path,
            previous,
        })
    }

    /// The pid of a holder that was killed (or ended without unlocking) and whose lock this
    /// one took over, for a note to the user.
    pub fn taken_over_from(&self) -> Option<u32> {
        self.previous
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for DirLock {
    /// Empties the lock file (an orderly end leaves no pid to report) and unlocks it.
    fn drop(&mut self) {
        let _ = self.file.set_len(0);
        let _ = self.file.unlock();
    }
}

fn read_pid(file: &mut File) -> Option<u32> {
    let mut text = String::new();
    file.seek(SeekFrom::Start(0)).ok()?;
    file.read_to_string(&mut text).ok()?;
    text.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_handle_is_refused_with_the_holders_pid_until_the_first_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let first = DirLock::acquire(dir.path()).unwrap();
        assert_eq!(first.taken_over_from(), None);
        let err = DirLock::acquire(dir.path()).unwrap_err();
        match &err {
            LockError::Held { pid, .. } => assert_eq!(*pid, Some(std::process::id())),
            other => panic!("expected Held, got {other}"),
        }
        assert!(
            err.to_string()
                .contains(&format!("pid {}", std::process::id())),
            "{err}"
        );
        drop(first);
        let again = DirLock::acquire(dir.path()).unwrap();
        assert_eq!(
            again.taken_over_from(),
            None,
            "an orderly unlock leaves no pid"
        );
    }

    #[test]
    fn a_lock_file_left_by_a_dead_process_is_taken_over_with_its_pid() {
        let dir = tempfile::tempdir().unwrap();
        // What a killed holder leaves: its pid in the file, no OS lock (that died with it).
        std::fs::write(dir.path().join(LOCK_FILE), "4194303\n").unwrap();
        let stale = dir.path().join(".checkpoint.json.4194303.3.tmp");
        std::fs::write(&stale, b"{\"part").unwrap();
        let lock = DirLock::acquire(dir.path()).unwrap();
        assert_eq!(lock.taken_over_from(), Some(4_194_303));
        assert!(
            !stale.exists(),
            "a killed writer's temporary is left in the run directory"
        );
        let text = std::fs::read_to_string(lock.path()).unwrap();
        assert_eq!(text.trim(), std::process::id().to_string());
    }
}

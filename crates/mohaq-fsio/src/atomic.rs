//! Atomic replacement of a file's contents.
//!
//! The bytes go to a uniquely named sibling (same folder, so the rename stays on one file
//! system), which is synced and then renamed over the target; the folder is synced so the
//! rename itself survives a power cut. A reader sees the old file or the new one, never a part.
//! If writing fails the temporary file is removed. A process killed mid-write leaves its
//! temporary behind (never a partial target); [`remove_stale_temps`] clears those.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// A fresh temporary sibling of `path`: `.<name>.<pid>.<n>.tmp` in the same folder. Distinct per
/// process and per call, so concurrent writers (rayon workers, two processes) never share one.
pub fn temp_sibling(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(
        ".{name}.{}.{}.tmp",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ))
}

/// Writes `bytes` to `path` atomically, creating the parent folder if needed.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_atomic_with(path, |tmp| std::fs::write(tmp, bytes))
}

/// The atomic write for a writer that wants a path rather than bytes (a library that saves to
/// a file itself): `write` fills the temporary sibling it is given, and its value is returned
/// once that file is synced and renamed over `path`. On any failure the temporary is removed
/// and `path` is left as it was.
///
/// The temporary carries an OS lock while it is written, so [`remove_stale_temps`] in another
/// process never takes a live writer's file for a killed one's.
pub fn write_atomic_with<T, E: From<std::io::Error>>(
    path: &Path,
    write: impl FnOnce(&Path) -> Result<T, E>,
) -> Result<T, E> {
    let dir = parent_dir(path);
    std::fs::create_dir_all(dir)?;
    let tmp = temp_sibling(path);
    let guard = std::fs::File::create(&tmp)?;
    let _ = guard.try_lock();
    let written = write(&tmp).and_then(|value| {
        // Opened again by name: the writer may have replaced the file (its own atomic save).
        let file = std::fs::OpenOptions::new().write(true).open(&tmp)?;
        file.sync_all()?;
        drop(file);
        std::fs::rename(&tmp, path)?;
        Ok(value)
    });
    drop(guard);
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
        return written;
    }
    // Persist the rename; a folder that cannot be opened for syncing (some platforms) is fine.
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    written
}

fn parent_dir(path: &Path) -> &Path {
    path.parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// Removes the temporary siblings of `path` that writers killed mid-write left behind (see
/// [`temp_sibling`]: a temporary names its process; it is stale when that process no longer
/// runs and nobody holds its lock). Returns the files removed. Temporaries of this process and
/// of live processes are kept, so this is safe beside concurrent writers.
pub fn remove_stale_temps(path: &Path) -> Vec<PathBuf> {
    let Some(name) = path.file_name().map(|n| n.to_string_lossy().into_owned()) else {
        return Vec::new();
    };
    remove_stale(parent_dir(path), Some(&name))
}

/// As [`remove_stale_temps`] for the temporaries of every file in `dir` (a folder one process
/// owns, such as a locked run directory).
pub fn remove_stale_temps_in(dir: &Path) -> Vec<PathBuf> {
    remove_stale(dir, None)
}

/// Removes the stale temporaries in `dir`, of the target named `name` or of any target.
fn remove_stale(dir: &Path, name: Option<&str>) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut removed = Vec::new();
    for entry in entries.flatten() {
        let file_name = entry.file_name().to_string_lossy().into_owned();
        let rest = match name {
            Some(name) => file_name
                .strip_prefix('.')
                .and_then(|r| r.strip_prefix(name))
                .and_then(|r| r.strip_prefix('.')),
            // `.<any name>.<pid>.<n>.tmp`: the last three dot-separated fields.
            None => file_name.strip_prefix('.').and_then(|r| {
                let cut = r.rmatch_indices('.').nth(2)?.0;
                Some(&r[cut + 1..])
            }),
        };
        let Some(pid) = rest.and_then(temp_pid) else {
            continue;
        };
        let candidate = entry.path();
        if pid == std::process::id() || process_runs(pid) || is_locked(&candidate) {
            continue;
        }
        if std::fs::remove_file(&candidate).is_ok() {
            removed.push(candidate);
        }
    }
    removed
}

/// The pid of `<pid>.<n>.tmp`, the part of a temporary's name after its target's.
fn temp_pid(rest: &str) -> Option<u32> {
    let mut parts = rest.strip_suffix(".tmp")?.split('.');
    let pid = parts.next()?.parse().ok()?;
    let _counter: usize = parts.next()?.parse().ok()?;
    parts.next().is_none().then_some(pid)
}

/// Whether another handle holds the OS lock of `path` (a live writer).
fn is_locked(path: &Path) -> bool {
    match std::fs::File::open(path) {
        Ok(file) => matches!(file.try_lock(), Err(std::fs::TryLockError::WouldBlock)),
        Err(_) => false,
    }
}

/// Whether process `pid` exists (signal 0 checks without sending anything).
#[cfg(unix)]
fn process_runs(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    // SAFETY: kill with signal 0 only checks that the process exists and may be signalled.
    let status = unsafe { libc::kill(pid, 0) };
    status == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

/// Without a cheap check, every other process counts as running: nothing is removed.
#[cfg(not(unix))]
fn process_runs(_pid: u32) -> bool {
    true
}

/// Serialises `value` as pretty JSON and writes it atomically.
pub fn write_json_atomic<T: serde::Serialize>(path: &Path, value: &T) -> std::io::Result<()> {
    let bytes = serde_json::to_vec_pretty(value).map_err(std::io::Error::other)?;
    write_atomic(path, &bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leftovers(dir: &Path) -> Vec<String> {
        std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".tmp"))
            .collect()
    }

    #[test]
    fn atomic_write_replaces_and_leaves_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.json");
        write_atomic(&path, b"one").unwrap();
        write_atomic(&path, b"two").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        assert!(leftovers(dir.path()).is_empty());
        assert_ne!(temp_sibling(&path), temp_sibling(&path), "fresh per call");
        assert_eq!(temp_sibling(&path).parent(), path.parent());
    }

    #[test]
    fn stale_temps_of_dead_processes_are_removed_and_others_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.safetensors");
        write_atomic(&path, b"model").unwrap();
        // pid 4194303 is above Linux's largest pid, so it never runs.
        let dead = dir.path().join(".m.safetensors.4194303.7.tmp");
        let own = temp_sibling(&path);
        let other_target = dir.path().join(".other.4194303.1.tmp");
        let not_ours = dir.path().join(".m.safetensors.backup.tmp");
        for p in [&dead, &own, &other_target, &not_ours] {
            std::fs::write(p, b"part").unwrap();
        }
        assert_eq!(remove_stale_temps(&path), vec![dead.clone()]);
        assert!(!dead.exists());
        for p in [&own, &other_target, &not_ours, &path] {
            assert!(p.exists(), "{} was removed", p.display());
        }
        // The whole folder: the other target's stale temporary goes too, the rest stays.
        assert_eq!(
            remove_stale_temps_in(dir.path()),
            vec![other_target.clone()]
        );
        for p in [&own, &not_ours, &path] {
            assert!(p.exists(), "{} was removed", p.display());
        }
    }

    #[test]
    fn a_writer_passing_a_path_gets_the_same_atomic_write() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.bin");
        let n = write_atomic_with(&path, |tmp| {
            std::fs::write(tmp, b"abc")?;
            Ok::<_, std::io::Error>(3)
        })
        .unwrap();
        assert_eq!((n, std::fs::read(&path).unwrap()), (3, b"abc".to_vec()));
        let failed = write_atomic_with(&path, |tmp| {
            std::fs::write(tmp, b"partial")?;
            Err::<(), _>(std::io::Error::other("the writer failed"))
        });
        assert!(failed.is_err());
        assert_eq!(std::fs::read(&path).unwrap(), b"abc", "old contents kept");
        assert!(leftovers(dir.path()).is_empty());
    }

    #[test]
    fn failed_write_keeps_the_old_file_and_removes_the_temp() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out");
        write_atomic(&path, b"old").unwrap();
        // A folder where the file should go: the rename fails.
        let blocked = dir.path().join("blocked");
        std::fs::create_dir(&blocked).unwrap();
        std::fs::write(blocked.join("x"), b"").unwrap();
        assert!(write_atomic(&blocked, b"new").is_err());
        assert_eq!(std::fs::read(&path).unwrap(), b"old");
        assert!(leftovers(dir.path()).is_empty());
    }
}

//! File helpers shared by the run directory and the beacon store: sha256, and (re-exported) the
//! one atomic write of mohaq-fsio.

use std::io::Read;
use std::path::Path;

use sha2::{Digest, Sha256};

pub use mohaq_fsio::{remove_stale_temps, write_atomic, write_atomic_with, write_json_atomic};

/// Hex sha256 of a file's contents.
pub fn sha256_file(path: &Path) -> std::io::Result<String> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 16];
    loop {
        let n = file.read(&mut buffer)?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
    }
    Ok(hex(&hasher.finalize()))
}

/// Hex sha256 of bytes.
pub fn sha256_bytes(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The atomic write itself is tested in mohaq-fsio; here, that a file's hash is the hash of
    /// its bytes, and the standard test vector.
    #[test]
    fn file_and_byte_hashes_agree() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.json");
        write_atomic(&path, b"two").unwrap();
        assert_eq!(sha256_file(&path).unwrap(), sha256_bytes(b"two"));
        assert_eq!(
            sha256_bytes(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}

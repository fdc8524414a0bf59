//! Duplicate elimination, keyed on the exact bits of the genes.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

use crate::problem::Genes;

/// Hashable identity of a candidate: the bit pattern of each gene (`-0.0` counted as `0.0`).
///
/// Exact equality is what pymoo's default elimination amounts to (distance below 1e-16), and it
/// is the only safe key for the evaluation cache.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GeneKey(Vec<u64>);

impl GeneKey {
    pub fn of(genes: &[f64]) -> Self {
        Self(
            genes
                .iter()
                .map(|&g| if g == 0.0 { 0u64 } else { g.to_bits() })
                .collect(),
        )
    }
}

/// A fast hasher for [`GeneKey`]s: word-wise multiply-rotate mixing with a final avalanche.
///
/// The keys are not adversarial, and the default SipHash costs more than everything else
/// a generation does with them. The avalanche matters: the bits of small integral `f64`s differ
/// only in their high bits, and the map's bucket index comes from the low bits.
#[derive(Debug, Default, Clone, Copy)]
pub struct GeneHasher(u64);

const MIX: u64 = 0x9e37_79b9_7f4a_7c15;

impl Hasher for GeneHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut words = bytes.chunks_exact(8);
        for word in &mut words {
            let mut w = [0u8; 8];
            w.copy_from_slice(word);
            self.write_u64(u64::from_ne_bytes(w));
        }
        for &b in words.remainder() {
            self.write_u64(b as u64);
        }
    }

    fn write_u64(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(23) ^ word).wrapping_mul(MIX);
    }

    fn write_usize(&mut self, word: usize) {
        self.write_u64(word as u64);
    }

    fn finish(&self) -> u64 {
        // MurmurHash3's 64-bit finaliser.
        let mut h = self.0;
        h ^= h >> 33;
        h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^= h >> 33;
        h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        h ^ (h >> 33)
    }
}

/// Builds [`GeneHasher`]s.
pub type GeneBuildHasher = BuildHasherDefault<GeneHasher>;
/// A set of candidates.
pub type GeneKeySet = HashSet<GeneKey, GeneBuildHasher>;
/// A map keyed by candidate.
pub type GeneKeyMap<V> = HashMap<GeneKey, V, GeneBuildHasher>;

/// Keeps the first copy of each candidate that is not in `existing`; the kept keys are added to
/// `existing`, so later batches are also checked against these.
pub fn eliminate_duplicates(candidates: Vec<Genes>, existing: &mut GeneKeySet) -> Vec<Genes> {
    candidates
        .into_iter()
        .filter(|g| existing.insert(GeneKey::of(g)))
        .collect()
}

//! A bounded cache of layer outputs keyed by the width prefix, shared by the batches of one
//! search.
//!
//! The state after step `d` of [`super::QuantizedModel::computation_order`] depends only on the
//! (weight, activation) widths of steps `0..d` and the data, so a later batch whose candidate
//! starts with a cached prefix skips those steps exactly. An entry holds that state for every
//! utterance of the evaluator's data. Lookups, insertions and least-recently-used eviction all
//! happen in the evaluator's sequential planning and collecting code, in candidate order, so the
//! contents and the statistics are the same at any thread count; results never depend on the
//! cache, only the time does.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use mohaq_quant::BitWidth;
use serde::{Deserialize, Serialize};

use super::engine::StepState;

/// (weight, activation) widths of the steps of a prefix, in computation order.
pub type PrefixKey = Vec<(BitWidth, BitWidth)>;

/// How much work the reuse saved, counted in layer steps (one matrix layer of one candidate on
/// all utterances), and what the cache holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReuseStats {
    /// Steps the candidates evaluated would need without any reuse.
    pub steps_needed: u64,
    /// Steps skipped because the previous candidate of the same batch shared the prefix.
    pub steps_reused_in_batch: u64,
    /// Steps skipped by starting from a cached prefix.
    pub steps_reused_from_cache: u64,
    /// Bytes the cache holds now.
    pub bytes_held: u64,
    /// Most bytes it held at once.
    pub peak_bytes: u64,
    /// Its cap.
    pub cap_bytes: u64,
    /// Entries it holds now.
    pub entries: u64,
    /// Entries evicted to stay under the cap.
    pub evictions: u64,
}

impl ReuseStats {
    /// Share of the needed steps the cache saved (0 when nothing was needed).
    pub fn cache_hit_rate(&self) -> f64 {
        ratio(self.steps_reused_from_cache, self.steps_needed)
    }

    /// Share of the needed steps saved in all (within batches and from the cache).
    pub fn reuse_rate(&self) -> f64 {
        ratio(
            self.steps_reused_in_batch + self.steps_reused_from_cache,
            self.steps_needed,
        )
    }
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

struct Entry {
    /// One state per utterance of the evaluator's data, in its order.
    states: Arc<Vec<StepState>>,
    bytes: u64,
    last_used: u64,
}

#[derive(Default)]
struct Inner {
    entries: HashMap<PrefixKey, Entry>,
    clock: u64,
    stats: ReuseStats,
}

/// The cache; `&self` methods, so the evaluator holding it stays shareable.
pub struct PrefixCache {
    cap_bytes: u64,
    inner: Mutex<Inner>,
}

impl PrefixCache {
    /// A cache holding at most `cap_bytes` of layer outputs.
    pub fn new(cap_bytes: u64) -> Self {
        let inner = Inner {
            stats: ReuseStats {
                cap_bytes,
                ..ReuseStats::default()
            },
            ..Inner::default()
        };
        Self {
            cap_bytes,
            inner: Mutex::new(inner),
        }
    }

    /// A cache of `mb` MiB.
    pub fn with_mb(mb: u64) -> Self {
        Self::new(mb.saturating_mul(1 << 20))
    }

    pub fn cap_bytes(&self) -> u64 {
        self.cap_bytes
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // Every update leaves the map and the counters consistent, so a poisoned lock is usable.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The statistics so far.
    pub fn stats(&self) -> ReuseStats {
        self.lock().stats
    }

    /// The deepest cached prefix of `key` longer than `shallower` and shorter than `deeper`:
    /// its length and states, marked as used.
    pub(crate) fn deepest(
        &self,
        key: &[(BitWidth, BitWidth)],
        shallower: usize,
        deeper: usize,
    ) -> Option<(usize, Arc<Vec<StepState>>)> {
        let mut inner = self.lock();
        inner.clock += 1;
        let now = inner.clock;
        for depth in (shallower + 1..deeper.min(key.len() + 1)).rev() {
            if let Some(entry) = inner.entries.get_mut(&key[..depth]) {
                entry.last_used = now;
                return Some((depth, entry.states.clone()));
            }
        }
        None
    }

    /// Whether the prefix is cached (without marking it used).
    pub(crate) fn contains(&self, key: &[(BitWidth, BitWidth)]) -> bool {
        self.lock().entries.contains_key(key)
    }

    /// Evicts the least recently used entries until `bytes` more fit under the cap, so that a
    /// batch's new entries and the old ones never hold more than the cap together.
    pub(crate) fn reserve(&self, bytes: u64) {
        let mut inner = self.lock();
        evict_until(&mut inner, self.cap_bytes.saturating_sub(bytes));
    }

    /// Adds an entry, evicting the least recently used until it fits; an entry larger than the
    /// whole cap is not kept.
    pub(crate) fn insert(&self, key: PrefixKey, states: Vec<StepState>) {
        let bytes: u64 = states.iter().map(|s| s.memory_bytes() as u64).sum();
        let mut inner = self.lock();
        if bytes > self.cap_bytes || inner.entries.contains_key(&key) {
            return;
        }
        evict_until(&mut inner, self.cap_bytes - bytes);
        inner.clock += 1;
        let last_used = inner.clock;
        inner.entries.insert(
            key,
            Entry {
                states: Arc::new(states),
                bytes,
                last_used,
            },
        );
        let entries = inner.entries.len() as u64;
        let stats = &mut inner.stats;
        stats.bytes_held += bytes;
        stats.peak_bytes = stats.peak_bytes.max(stats.bytes_held);
        stats.entries = entries;
    }

    /// Adds a batch's step counts.
    pub(crate) fn count(&self, needed: u64, in_batch: u64, from_cache: u64) {
        let mut inner = self.lock();
        inner.stats.steps_needed += needed;
        inner.stats.steps_reused_in_batch += in_batch;
        inner.stats.steps_reused_from_cache += from_cache;
        inner.stats.entries = inner.entries.len() as u64;
    }
}

/// Evicts least recently used entries (clock values are unique, so the order is fixed) until at
/// most `held` bytes remain.
fn evict_until(inner: &mut Inner, held: u64) {
    while inner.stats.bytes_held > held {
        let Some(oldest) = inner
            .entries
            .iter()
            .min_by_key(|(_, e)| e.last_used)
            .map(|(k, _)| k.clone())
        else {
            break;
        };
        if let Some(e) = inner.entries.remove(&oldest) {
            inner.stats.bytes_held -= e.bytes;
            inner.stats.evictions += 1;
        }
    }
    inner.stats.entries = inner.entries.len() as u64;
}

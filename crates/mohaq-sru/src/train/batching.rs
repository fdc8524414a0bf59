//! Length curriculum and batches of similar-length sequences.
//!
//! Utterances longer than the epoch's chunk length are cut into near-equal chunks (as the
//! pytorch-kaldi recipe does), chunks are sorted by length and grouped, and the order of the
//! groups is shuffled: padding stays small while the order still varies per epoch.

use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

/// A sequence of frames with one target class per frame: the training view of an utterance.
#[derive(Clone, Copy, Debug)]
pub struct SequenceRef<'a> {
    /// `frames × dim` row-major.
    pub feats: &'a [f32],
    pub targets: &'a [u32],
    pub dim: usize,
}

impl SequenceRef<'_> {
    pub fn frames(&self) -> usize {
        self.targets.len()
    }
}

/// A contiguous piece of one sequence.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Chunk {
    pub seq: usize,
    pub start: usize,
    pub len: usize,
}

/// Cuts every sequence into chunks of at most `max_len` frames (near-equal sizes).
pub fn chunks(frames: &[usize], max_len: usize) -> Vec<Chunk> {
    let mut out = Vec::new();
    for (seq, &n) in frames.iter().enumerate() {
        if n == 0 {
            continue;
        }
        let pieces = n.div_ceil(max_len);
        let base = n / pieces;
        let extra = n % pieces;
        let mut start = 0;
        for p in 0..pieces {
            let len = base + usize::from(p < extra);
            out.push(Chunk { seq, start, len });
            start += len;
        }
    }
    out
}

/// Groups chunks of similar length into batches of `batch_size`, in shuffled batch order.
pub fn make_batches(
    frames: &[usize],
    max_len: usize,
    batch_size: usize,
    rng: &mut ChaCha8Rng,
) -> Vec<Vec<Chunk>> {
    let mut all = chunks(frames, max_len);
    // Shuffle first so that ties in length are broken differently each epoch; the stable sort
    // then keeps that random order within equal lengths.
    all.shuffle(rng);
    all.sort_by_key(|c| c.len);
    let mut batches: Vec<Vec<Chunk>> = all.chunks(batch_size).map(|b| b.to_vec()).collect();
    batches.shuffle(rng);
    batches
}

/// A padded batch ready for the network.
#[derive(Clone, Debug)]
pub struct Batch {
    /// `[B, T, dim]`, zero padded.
    pub x: Vec<f32>,
    pub batch: usize,
    pub time: usize,
    pub dim: usize,
    pub lengths: Vec<usize>,
    /// Flat indices `b·T + t` of the valid frames, in order.
    pub valid: Vec<u32>,
    /// Targets of the valid frames, same order.
    pub targets: Vec<u32>,
}

impl Batch {
    pub fn assemble(seqs: &[SequenceRef<'_>], chunks: &[Chunk]) -> Self {
        let dim = seqs.first().map_or(0, |s| s.dim);
        let time = chunks.iter().map(|c| c.len).max().unwrap_or(0);
        let batch = chunks.len();
        let mut x = vec![0f32; batch * time * dim];
        let mut valid = Vec::new();
        let mut targets = Vec::new();
        for (b, c) in chunks.iter().enumerate() {
            let s = &seqs[c.seq];
            let src = &s.feats[c.start * dim..(c.start + c.len) * dim];
            x[b * time * dim..][..c.len * dim].copy_from_slice(src);
            for t in 0..c.len {
                valid.push((b * time + t) as u32);
                targets.push(s.targets[c.start + t]);
            }
        }
        Self {
            x,
            batch,
            time,
            dim,
            lengths: chunks.iter().map(|c| c.len).collect(),
            valid,
            targets,
        }
    }

    pub fn frames(&self) -> usize {
        self.valid.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_chacha::rand_core::SeedableRng;

    #[test]
    fn chunks_cover_every_frame_once() {
        let frames = [5, 250, 100, 101, 0];
        let c = chunks(&frames, 100);
        for (seq, &n) in frames.iter().enumerate() {
            let total: usize = c.iter().filter(|k| k.seq == seq).map(|k| k.len).sum();
            assert_eq!(total, n);
        }
        assert!(c.iter().all(|k| k.len <= 100 && k.len > 0));
        assert_eq!(c.iter().filter(|k| k.seq == 3).count(), 2);
    }

    #[test]
    fn batches_hold_similar_lengths() {
        let frames: Vec<usize> = (1..=64).map(|i| i * 7).collect();
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let b = make_batches(&frames, 1000, 8, &mut rng);
        assert_eq!(b.len(), 8);
        for batch in &b {
            let min = batch.iter().map(|c| c.len).min().unwrap();
            let max = batch.iter().map(|c| c.len).max().unwrap();
            assert!(max - min <= 7 * 7, "{min}..{max}");
        }
    }
}

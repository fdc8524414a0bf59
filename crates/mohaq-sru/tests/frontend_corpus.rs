//! The shipped corpora through the front end: discovery, splits, targets, cache, determinism.

use std::path::{Path, PathBuf};

use mohaq_sru::data::corpus::{Corpus, CorpusKind};
use mohaq_sru::data::phones::{NUM_PHONES, SIL};
use mohaq_sru::data::splits::select;
use mohaq_sru::data::Split;
use mohaq_sru::features::{load_split, LoadOptions, NUM_CLASSES};

fn data_dir() -> PathBuf {
    std::env::var_os("MOHAQ_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data")).to_path_buf()
        })
}

fn opts(cache: &Path) -> LoadOptions {
    LoadOptions {
        cache_dir: Some(cache.to_path_buf()),
        ..LoadOptions::default()
    }
}

#[test]
fn shipped_corpus_and_suggested_split() {
    let corpus = Corpus::discover(&data_dir()).unwrap();
    let count = |kind| {
        corpus
            .utterances
            .iter()
            .filter(|u| u.corpus == kind)
            .count()
    };
    assert_eq!(count(CorpusKind::TimitSample), 160);
    assert_eq!(count(CorpusKind::Kathleen), 1620);
    assert!(!corpus.has_ldc());
    let sphere = corpus.find("dr1-fvmh0/si836").unwrap();
    assert!(sphere.audio.ends_with("timit-sample/dr1-fvmh0/si836.wav"));

    let train = select(&corpus, Split::Train, true);
    let dev = select(&corpus, Split::Dev, true);
    let test = select(&corpus, Split::Test, true);
    assert_eq!(train.len(), 1620 + 80);
    assert_eq!(select(&corpus, Split::Train, false).len(), 80);
    assert_eq!((dev.len(), test.len()), (32, 32));
    for u in dev.iter().chain(&test) {
        let utt = u.id.rsplit('/').next().unwrap();
        assert!(!utt.starts_with("sa"), "{} leaks a shared sentence", u.id);
    }
    assert!(dev.iter().all(|u| matches!(u.dialect, Some(5 | 6))));
    assert!(test.iter().all(|u| matches!(u.dialect, Some(7 | 8))));
}

#[test]
fn dev_split_loads_cached_normalised_and_deterministic() {
    let cache = tempfile::tempdir().unwrap();
    let dev = load_split(&data_dir(), Split::Dev, &opts(cache.path())).unwrap();
    assert_eq!(dev.utterances.len(), 32);
    let ids: Vec<&str> = dev.utterances.iter().map(|u| u.id.as_str()).collect();
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(ids, sorted, "id order");
    for u in &dev.utterances {
        assert_eq!(u.dim, 23);
        assert_eq!(u.feats.len(), u.num_frames() * 23);
        assert!(u.num_frames() > 100, "{}: {} frames", u.id, u.num_frames());
        assert!(u.targets.iter().all(|t| (*t as usize) < NUM_CLASSES));
        assert!(u.phones.iter().all(|p| (*p as usize) < NUM_PHONES));
        assert!(u.phones.windows(2).all(|w| w[0] != w[1]), "repeats merged");
        // TIMIT utterances start and end with silence (h#).
        assert_eq!((u.phones[0], *u.phones.last().unwrap()), (SIL, SIL));
        assert_eq!(u.targets[0] / 3, u32::from(SIL));
        // The frame targets walk through the reference phones in order.
        let mut from_targets: Vec<u8> = u.targets.iter().map(|t| (t / 3) as u8).collect();
        from_targets.dedup();
        assert!(from_targets.len() <= u.phones.len());
        assert!(is_subsequence(&from_targets, &u.phones), "{}", u.id);
    }
    // Per-speaker normalisation: every speaker's coefficients have mean 0 and variance 1.
    for speaker in ["ftlg0", "mbgt0", "fapb0", "mbma1"] {
        let rows: Vec<&[f32]> = dev
            .utterances
            .iter()
            .filter(|u| u.speaker == speaker)
            .flat_map(|u| u.feats.chunks_exact(23))
            .collect();
        assert!(!rows.is_empty());
        for j in 0..23 {
            let n = rows.len() as f64;
            let mean = rows.iter().map(|r| f64::from(r[j])).sum::<f64>() / n;
            let var = rows
                .iter()
                .map(|r| (f64::from(r[j]) - mean).powi(2))
                .sum::<f64>()
                / n;
            assert!(
                mean.abs() < 1e-4 && (var - 1.0).abs() < 1e-3,
                "{speaker} bin {j}: {mean} {var}"
            );
        }
    }
    // The cache now holds one entry per utterance; a second load reads it and gives the same data,
    // also on a single thread.
    let entries = std::fs::read_dir(cache.path().join("fbank"))
        .unwrap()
        .count();
    assert_eq!(entries, 32);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    let again = pool.install(|| load_split(&data_dir(), Split::Dev, &opts(cache.path())).unwrap());
    let uncached = load_split(
        &data_dir(),
        Split::Dev,
        &LoadOptions {
            use_cache: false,
            ..opts(cache.path())
        },
    )
    .unwrap();
    for ((a, b), c) in dev
        .utterances
        .iter()
        .zip(&again.utterances)
        .zip(&uncached.utterances)
    {
        assert_eq!(a.id, b.id);
        assert_eq!(a.feats, b.feats);
        assert_eq!(a.feats, c.feats);
        assert_eq!(a.targets, b.targets);
    }
}

fn is_subsequence(needle: &[u8], hay: &[u8]) -> bool {
    let mut it = hay.iter();
    needle.iter().all(|n| it.any(|h| h == n))
}

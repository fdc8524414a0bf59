//! Broken corpora, generated in a temporary directory: every problem is reported with its file
//! (and line), `check_corpus` lists them all at once, and loading fails with an error, not a panic.
//! Also the full LDC layout (upper-case names, SPHERE audio, standard splits) on a tiny fake corpus.

use std::path::Path;

use mohaq_sru::data::audio::encode_wav;
use mohaq_sru::data::check::check_corpus;
use mohaq_sru::data::corpus::{Corpus, CorpusKind};
use mohaq_sru::data::sphere;
use mohaq_sru::data::splits::select;
use mohaq_sru::data::{DataError, Split};
use mohaq_sru::features::{load_split, LoadOptions};

/// Deterministic pseudo-noise, loud enough to give ordinary features.
fn noise(n: usize, seed: u32) -> Vec<i16> {
    let mut x = seed.wrapping_mul(2654435761).wrapping_add(1);
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            ((x % 4001) as i32 - 2000) as i16
        })
        .collect()
}

const GOOD_PHN: &str = "0 2000 h#\n2000 5000 s\n5000 8000 h#\n";

fn write(path: &Path, bytes: &[u8]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
}

fn broken_corpus(root: &Path) {
    let dir = root.join("timit-sample/dr1-xtst0");
    let good = encode_wav(&noise(8000, 1), 16000, 1);
    let utt = |name: &str, audio: &[u8], phn: Option<&str>| {
        write(&dir.join(format!("{name}.wav")), audio);
        if let Some(phn) = phn {
            write(&dir.join(format!("{name}.phn")), phn.as_bytes());
        }
    };
    utt("sa1", &good, Some(GOOD_PHN));
    utt("si1", &encode_wav(&noise(8000, 2), 8000, 1), Some(GOOD_PHN));
    utt(
        "si2",
        &encode_wav(&noise(16000, 3), 16000, 2),
        Some(GOOD_PHN),
    );
    utt("si3", &good[..good.len() - 4000], Some(GOOD_PHN));
    utt("si4", &good, Some("0 2000 h#\n2000 9000 s\n"));
    utt("si5", &good, Some("0 2000 h#\n2100 5000 s\n4900 8000 h#\n"));
    utt(
        "si6",
        &good,
        Some("0 2000 h#\n2000 5000 schwa\n5000 8000 h#\n"),
    );
    utt("si7", b"", Some(GOOD_PHN));
    utt("si8", &good, Some(""));
    utt(
        "sx1",
        &sphere::encode(
            &noise(8000, 4),
            16000,
            &["sample_coding -s26 pcm,embedded-shorten-v2.00"],
        ),
        Some(GOOD_PHN),
    );
    utt("sx2", &good, None);
    utt("sx3", &good, Some("0 2000 h#\n2000 x s\n5000 8000 h#\n"));
}

/// A substring of the message and a test of the variant.
type Expectation = (&'static str, fn(&DataError) -> bool);

#[test]
fn check_reports_every_problem_with_file_and_line() {
    let root = tempfile::tempdir().unwrap();
    broken_corpus(root.path());
    let report = check_corpus(root.path(), 16000).unwrap();
    assert_eq!(report.utterances, 12);
    let lines: Vec<String> = report.problems.iter().map(|p| p.to_string()).collect();
    let expect: [Expectation; 11] = [
        ("si1.wav: sample rate 8000", |e| {
            matches!(e, DataError::SampleRate { found: 8000, .. })
        }),
        ("si2.wav: 2 channels", |e| {
            matches!(e, DataError::Channels { found: 2, .. })
        }),
        ("si3.wav: truncated", |e| {
            matches!(
                e,
                DataError::Truncated {
                    expected: 8000,
                    found: 6000,
                    ..
                }
            )
        }),
        ("si4.phn:2: label ends at sample 9000", |e| {
            matches!(e, DataError::LabelPastEnd { line: 2, .. })
        }),
        ("si5.phn:2: gap", |e| {
            matches!(e, DataError::LabelGap { line: 2, .. })
        }),
        ("si5.phn:3: overlapping", |e| {
            matches!(e, DataError::LabelOverlap { line: 3, .. })
        }),
        ("si6.phn:2: unknown phone label \"schwa\"", |e| {
            matches!(e, DataError::UnknownPhone { line: 2, .. })
        }),
        ("si7.wav: empty file", |e| {
            matches!(e, DataError::Empty { .. })
        }),
        ("si8.phn: empty file", |e| {
            matches!(e, DataError::Empty { .. })
        }),
        ("sx1.wav: compressed NIST SPHERE", |e| {
            matches!(e, DataError::CompressedSphere { .. })
        }),
        ("sx2.phn: missing label file", |e| {
            matches!(e, DataError::MissingLabels { .. })
        }),
    ];
    for (text, kind) in expect {
        let found = report
            .problems
            .iter()
            .zip(&lines)
            .any(|(p, l)| l.contains(text) && kind(p));
        assert!(found, "no problem like {text:?} in\n{}", lines.join("\n"));
    }
    assert!(
        lines.iter().any(|l| l.contains("sx3.phn:2: malformed")),
        "{lines:#?}"
    );
    // The malformed line is dropped, so the next one also reports a gap.
    assert!(
        lines.iter().any(|l| l.contains("sx3.phn:3: gap")),
        "{lines:#?}"
    );
    assert_eq!(report.problems.len(), 13, "{lines:#?}");
    assert!(
        lines.iter().all(|l| l.contains("dr1-xtst0")),
        "every problem names its file"
    );
}

#[test]
fn loading_a_broken_split_is_an_error_naming_the_file() {
    let root = tempfile::tempdir().unwrap();
    broken_corpus(root.path());
    let cache = tempfile::tempdir().unwrap();
    let opts = LoadOptions {
        cache_dir: Some(cache.path().to_path_buf()),
        ..LoadOptions::default()
    };
    let err = load_split(root.path(), Split::Train, &opts).unwrap_err();
    // Utterances are loaded in id order; sa1 is fine, si1 has the wrong rate.
    assert!(matches!(err, DataError::SampleRate { .. }), "{err}");
    assert!(err.to_string().contains("si1.wav"), "{err}");
    let err = load_split(Path::new("/nonexistent/mohaq"), Split::Dev, &opts).unwrap_err();
    assert!(err.to_string().contains("/nonexistent/mohaq"));
    let empty = tempfile::tempdir().unwrap();
    assert!(matches!(
        Corpus::discover(empty.path()),
        Err(DataError::NoCorpus { .. })
    ));
}

#[test]
fn ldc_layout_with_standard_splits() {
    let root = tempfile::tempdir().unwrap();
    let ldc = root.path().join("timit/TIMIT");
    let utt = |rel: &str, seed: u32| {
        let audio = sphere::encode(
            &noise(8000, seed),
            16000,
            &["database_id -s5 TIMIT", "sample_coding -s3 pcm"],
        );
        write(&ldc.join(format!("{rel}.WAV")), &audio);
        write(
            &ldc.join(format!("{rel}.PHN")),
            "0 1000 h#\n1000 3000 q\n3000 6000 ix\n6000 8000 h#\n".as_bytes(),
        );
    };
    utt("TRAIN/DR1/FCJF0/SI1027", 1);
    utt("TRAIN/DR1/FCJF0/SA1", 2);
    utt("TEST/DR1/FAKS0/SX133", 3); // dev speaker
    utt("TEST/DR1/MDAB0/SI1039", 4); // core test speaker
    utt("TEST/DR1/MDAB0/SA2", 5);
    utt("TEST/DR2/MABC0/SX1", 6); // in neither list
                                  // A NLTK sample next to it is ignored: its speakers are part of the LDC corpus.
    let sample = root.path().join("timit-sample/dr1-fvmh0");
    write(
        &sample.join("sa1.wav"),
        &encode_wav(&noise(8000, 7), 16000, 1),
    );
    write(&sample.join("sa1.phn"), GOOD_PHN.as_bytes());

    let corpus = Corpus::discover(root.path()).unwrap();
    assert!(corpus.has_ldc());
    assert!(corpus
        .utterances
        .iter()
        .all(|u| u.corpus == CorpusKind::TimitLdc));
    let ids = |split| {
        select(&corpus, split, true)
            .iter()
            .map(|u| u.id.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(Split::Train), ["dr1-fcjf0/si1027"]);
    assert_eq!(ids(Split::Dev), ["dr1-faks0/sx133"]);
    assert_eq!(ids(Split::Test), ["dr1-mdab0/si1039"]);

    let cache = tempfile::tempdir().unwrap();
    let opts = LoadOptions {
        cache_dir: Some(cache.path().to_path_buf()),
        ..LoadOptions::default()
    };
    let dev = load_split(root.path(), Split::Dev, &opts).unwrap();
    let u = &dev.utterances[0];
    // 8000 samples give 48 frames; all centres (200..7720) lie in the labels. q is absorbed by h#.
    assert_eq!(u.num_frames(), 48);
    let names: Vec<&str> = u
        .phones
        .iter()
        .map(|&p| mohaq_sru::data::phones::PHONES39[p as usize])
        .collect();
    assert_eq!(names, ["sil", "ih", "sil"]);
    assert_eq!(u.feats.len(), 48 * 23);
    assert!(check_corpus(root.path(), 16000).unwrap().is_clean());
}

#[test]
fn truncated_flac_is_reported_not_decoded_short() {
    let dir = std::env::var_os("MOHAQ_DATA")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data")).to_path_buf()
        });
    let path = dir.join("kathleen/arctic_a0001_1592748574.flac");
    let bytes = std::fs::read(&path).expect("shipped Kathleen FLAC");
    let whole = mohaq_sru::data::audio::decode_audio(&path, &bytes, 16000).unwrap();
    assert_eq!(whole.samples.len(), 52743);
    let err =
        mohaq_sru::data::audio::decode_audio(&path, &bytes[..bytes.len() / 2], 16000).unwrap_err();
    assert!(
        matches!(
            err,
            DataError::Truncated {
                expected: 52743,
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("arctic_a0001_1592748574.flac"));
    let err = mohaq_sru::data::audio::decode_audio(&path, &bytes[..20], 16000).unwrap_err();
    assert!(err.to_string().contains("arctic_a0001"), "{err}");
}

/// The silence gate of `mohaq infer` never fires on real speech: every utterance of the shipped
/// corpora is louder than [`SILENCE_DBFS`] (skipped when the corpus is absent).
#[test]
fn no_corpus_utterance_is_judged_silent() {
    use mohaq_sru::features::level::{loudest_frame_dbfs, SILENCE_DBFS};
    use mohaq_sru::features::FbankOptions;
    let dir = std::env::var_os("MOHAQ_DATA")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data")).to_path_buf()
        });
    let Ok(corpus) = Corpus::discover(&dir) else {
        eprintln!("no corpus at {}; skipped", dir.display());
        return;
    };
    let geometry = FbankOptions::default().geometry();
    let quietest = corpus
        .utterances
        .iter()
        .map(|u| {
            let audio = mohaq_sru::data::audio::read_audio(&u.audio, 16000).unwrap();
            loudest_frame_dbfs(&audio.samples, geometry)
        })
        .fold(f64::INFINITY, f64::min);
    assert!(
        quietest > SILENCE_DBFS + 10.0,
        "the quietest utterance peaks at {quietest:.1} dBFS"
    );
    eprintln!(
        "{} utterances; quietest peak frame {quietest:.1} dBFS",
        corpus.utterances.len()
    );
}

/// `data check --resample` accepts what it can convert (8 kHz, stereo) and still reports the
/// rest; labels are checked against the resampled length.
#[test]
fn check_with_resampling_accepts_rates_and_channels() {
    use mohaq_sru::data::audio::AudioPolicy;
    use mohaq_sru::data::check::check_corpus_with;
    let root = tempfile::tempdir().unwrap();
    broken_corpus(root.path());
    let report = check_corpus_with(root.path(), AudioPolicy::converting(16000)).unwrap();
    let lines: Vec<String> = report.problems.iter().map(|p| p.to_string()).collect();
    assert!(
        !lines
            .iter()
            .any(|l| l.contains("sample rate") || l.contains("channels")),
        "{lines:#?}"
    );
    // si1 is 8000 samples at 8 kHz: 16000 samples at 16 kHz, so its labels (to 8000) fit.
    assert!(!lines.iter().any(|l| l.contains("si1")), "{lines:#?}");
    assert!(
        lines.iter().any(|l| l.contains("si3.wav: truncated")),
        "{lines:#?}"
    );
    assert_eq!(report.problems.len(), 11, "{lines:#?}");
}

//! `mohaq infer` streams WAV files from disk (two passes, a block at a time) instead of decoding
//! them whole; the phones, frame count and segments must be exactly those of the whole-file
//! path, for a normal utterance, a recording long enough to run in several segments, a corpus
//! FLAC file, and a recording that is resampled and downmixed while it is streamed.

use std::path::PathBuf;

use mohaq_sru::data::audio::{encode_wav, read_audio, read_audio_with, AudioPolicy};
use mohaq_sru::data::resample::resample;
use mohaq_sru::data::stream::AudioStream;
use mohaq_sru::data::wav::{encode, WavSpec};
use mohaq_sru::deploy::recogniser::SEGMENT_FRAMES;
use mohaq_sru::deploy::Recogniser;

fn data_dir() -> PathBuf {
    std::env::var_os("MOHAQ_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data"))
        })
}

#[test]
fn streamed_recognition_equals_the_whole_file_path() {
    let model = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../models/sru-default.safetensors"
    ));
    let recogniser = Recogniser::open(&model, Some("8")).unwrap();
    let utterance =
        read_audio(&data_dir().join("timit-sample/dr5-ftlg0/si1743.wav"), 16000).unwrap();
    let dir = tempfile::tempdir().unwrap();
    // Tiled to about 50 s: three segments, block boundaries inside frames and segments.
    let tiles = (50 * 16000) / utterance.samples.len() + 1;
    let long: Vec<i16> = utterance
        .samples
        .iter()
        .copied()
        .cycle()
        .take(tiles * utterance.samples.len() + 77)
        .collect();
    for (name, samples) in [("normal.wav", &utterance.samples), ("long.wav", &long)] {
        let path = dir.path().join(name);
        std::fs::write(&path, encode_wav(samples, 16000, 1)).unwrap();
        let streamed = recogniser.recognise_file(&path).unwrap();
        let whole = recogniser.recognise_whole_file(&path).unwrap();
        assert_eq!(streamed, whole, "{name}");
        assert!(streamed.phones.len() > 5, "{name}: {:?}", streamed.phones);
        if name == "long.wav" {
            assert!(streamed.frames > 2 * SEGMENT_FRAMES, "{}", streamed.frames);
            assert!(streamed.segments >= 2, "{}", streamed.segments);
        }
    }
    // A corpus FLAC file, decoded frame by frame: the same samples and phones.
    let flac = data_dir().join("kathleen/arctic_a0001_1592748574.flac");
    let policy = AudioPolicy::converting(16000);
    let mut stream = AudioStream::open(&flac, policy)
        .unwrap()
        .expect("FLAC is streamed");
    let mut samples = Vec::new();
    while stream.read_into(1000, &mut samples).unwrap() > 0 {}
    assert_eq!(samples, read_audio_with(&flac, policy).unwrap().0.samples);
    assert_eq!(
        recogniser.recognise_file(&flac).unwrap(),
        recogniser.recognise_whole_file(&flac).unwrap()
    );
}

/// A corpus utterance made 44.1 kHz stereo (channels differ, so the downmix matters) and tiled
/// past one segment: streamed, it is resampled block by block, and its samples and the whole
/// `Recognition` equal the whole-file conversion path's, bit for bit.
#[test]
fn converted_recordings_stream_to_the_whole_file_result() {
    let model = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../models/sru-default.safetensors"
    ));
    let recogniser = Recogniser::open(&model, Some("8")).unwrap();
    let path = data_dir().join("timit-sample/dr5-ftlg0/si1743.wav");
    let utterance = read_audio(&path, 16000).unwrap();
    let tiles = (25 * 16000) / utterance.samples.len() + 1;
    let mono: Vec<f32> = utterance
        .samples
        .iter()
        .map(|&v| f32::from(v))
        .cycle()
        .take(tiles * utterance.samples.len() + 391)
        .collect();
    let high = resample(&path, mono, 16000, 44100).unwrap();
    let stereo: Vec<f32> = high
        .iter()
        .enumerate()
        .flat_map(|(i, &v)| [v.round(), (v * 0.6).round() + (i % 3) as f32])
        .collect();
    let spec = WavSpec {
        sample_rate: 44100,
        channels: 2,
        bits: 16,
        float: false,
    };
    let dir = tempfile::tempdir().unwrap();
    let wav = dir.path().join("stereo44k.wav");
    std::fs::write(&wav, encode(spec, &stereo, None)).unwrap();

    let policy = AudioPolicy::converting(16000);
    let (whole, conversion) = read_audio_with(&wav, policy).unwrap();
    assert!(
        conversion.resampled() && conversion.downmixed(),
        "{conversion:?}"
    );
    let mut stream = AudioStream::open(&wav, policy)
        .unwrap()
        .expect("a 44.1 kHz stereo WAV is streamed");
    assert_eq!(stream.len() as usize, whole.samples.len());
    let mut samples = Vec::new();
    while stream.read_into(12_345, &mut samples).unwrap() > 0 {}
    assert_eq!(samples, whole.samples);

    let streamed = recogniser.recognise_file(&wav).unwrap();
    assert_eq!(streamed, recogniser.recognise_whole_file(&wav).unwrap());
    assert_eq!(streamed.audio, Some(conversion));
    assert!(streamed.segments >= 2, "{}", streamed.segments);
    assert!(streamed.phones.len() > 5, "{:?}", streamed.phones);
}

//! The loudness of a recording, to tell silence from speech before normalising it.
//!
//! Why: a single recording is normalised over itself (mean and variance per mel bin). Digital
//! silence has zero variance, so every normalised frame is the all-zero "average frame", which
//! the model reads as a phone (it decoded as "dx"); ±1-LSB dither has a tiny variance that the
//! normalisation blows up to unit variance, so noise 90 dB below full scale looks like speech (it
//! decoded as 40 phones). No normalisation over the utterance itself can tell those apart from
//! speech, so the level is checked first, on the raw samples.

use super::fbank::FrameGeometry;

/// A recording whose loudest frame is quieter than this holds no speech. Speech in the corpora
/// peaks far higher (a test checks every corpus utterance against it); ±1-LSB dither is near
/// −93 dBFS.
pub const SILENCE_DBFS: f64 = -60.0;

/// RMS level of the loudest frame (DC removed per frame, as the filterbank does) in dB relative
/// to int16 full scale; `-inf` for digital silence or a signal shorter than one frame.
pub fn loudest_frame_dbfs(samples: &[i16], geometry: FrameGeometry) -> f64 {
    let mut loudest = 0f64;
    for frame in 0..geometry.num_frames(samples.len()) {
        let window = &samples[frame * geometry.shift..frame * geometry.shift + geometry.length];
        let n = window.len() as f64;
        let mean = window.iter().map(|&s| f64::from(s)).sum::<f64>() / n;
        let power = window
            .iter()
            .map(|&s| (f64::from(s) - mean).powi(2))
            .sum::<f64>()
            / n;
        loudest = loudest.max(power);
    }
    10.0 * (loudest / (32768.0 * 32768.0)).log10()
}

/// Whether a recording is silent by [`SILENCE_DBFS`].
pub fn is_silent(samples: &[i16], geometry: FrameGeometry) -> bool {
    loudest_frame_dbfs(samples, geometry) < SILENCE_DBFS
}

#[cfg(test)]
mod tests {
    use super::*;

    const GEOMETRY: FrameGeometry = FrameGeometry {
        length: 400,
        shift: 160,
    };

    #[test]
    fn silence_dither_and_dc_are_silent_a_tone_is_not() {
        let n = 16000;
        assert!(is_silent(&vec![0; n], GEOMETRY));
        assert_eq!(loudest_frame_dbfs(&vec![0; n], GEOMETRY), f64::NEG_INFINITY);
        let dither: Vec<i16> = (0..n).map(|i| [-1, 0, 1, 0][(i * 7 + i / 3) % 4]).collect();
        let level = loudest_frame_dbfs(&dither, GEOMETRY);
        assert!(level < -85.0 && is_silent(&dither, GEOMETRY), "{level}");
        assert!(
            is_silent(&vec![5000; n], GEOMETRY),
            "a DC offset is not sound"
        );
        // A tone at −40 dBFS (amplitude 328) is sound; its RMS is 3 dB under its peak.
        let tone: Vec<i16> = (0..n)
            .map(|i| (328.0 * (i as f64 * 0.2).sin()) as i16)
            .collect();
        let level = loudest_frame_dbfs(&tone, GEOMETRY);
        assert!(
            (level + 43.0).abs() < 0.5 && !is_silent(&tone, GEOMETRY),
            "{level}"
        );
        assert!(is_silent(&[0; 100], GEOMETRY), "shorter than a frame");
    }
}

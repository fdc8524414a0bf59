//! Kaldi-compatible log-mel filterbank (`compute-fbank-feats`), written from Kaldi's definition.
//!
//! Per frame of 25 ms every 10 ms (snip edges: only frames that fit wholly in the signal):
//! optional Gaussian dither, DC removal, pre-emphasis `x[i] -= 0.97 x[i-1]` (with `x[0] -= 0.97
//! x[0]`), Povey window `(0.5 - 0.5 cos(2πi/(N-1)))^0.85`, zero padding to 512, power spectrum,
//! triangular mel filters between 20 Hz and Nyquist on the mel scale `1127 ln(1 + f/700)` applied
//! to FFT bins 0..256 (the Nyquist bin is not used), then `ln(max(e, FLT_EPSILON))`.
//!
//! Samples are the raw int16 values, not scaled to [-1, 1]: Kaldi reads WAV data that way, and the
//! log energies (and the model trained on them) depend on it. Arithmetic is f64 (Kaldi uses f32);
//! the golden test against kaldi-native-fbank bounds the difference at 1e-3 per coefficient.

use std::sync::Arc;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use realfft::{RealFftPlanner, RealToComplex};

use crate::data::error::DataError;

/// Filterbank options; the defaults are Kaldi's with dither 0 and 23 bins.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FbankOptions {
    pub sample_rate: u32,
    pub frame_length_ms: f32,
    pub frame_shift_ms: f32,
    pub num_bins: usize,
    /// Lower edge of the first mel filter, Hz.
    pub low_freq: f32,
    /// Upper edge of the last filter, Hz; `<= 0` means Nyquist plus this value (Kaldi's convention).
    pub high_freq: f32,
    pub preemph_coeff: f32,
    pub remove_dc_offset: bool,
    /// Pad each frame to the next power of two before the FFT (400 → 512).
    pub round_to_power_of_two: bool,
    /// Power spectrum (`true`) or magnitude spectrum.
    pub use_power: bool,
    /// Floor applied before the log (Kaldi: `FLT_EPSILON`).
    pub log_floor: f32,
    /// Standard deviation of Gaussian noise added to every sample of every frame (0 = off).
    pub dither: f32,
    /// Seed of the dither noise; each utterance mixes in a hash of its audio.
    pub dither_seed: u64,
}

impl Default for FbankOptions {
    fn default() -> Self {
        FbankOptions {
            sample_rate: 16000,
            frame_length_ms: 25.0,
            frame_shift_ms: 10.0,
            num_bins: 23,
            low_freq: 20.0,
            high_freq: 0.0,
            preemph_coeff: 0.97,
            remove_dc_offset: true,
            round_to_power_of_two: true,
            use_power: true,
            log_floor: f32::EPSILON,
            dither: 0.0,
            dither_seed: 0,
        }
    }
}

/// Frame length and shift in samples.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameGeometry {
    pub length: usize,
    pub shift: usize,
}

impl FrameGeometry {
    /// Number of frames of a signal with snip edges: `1 + (n - length) / shift`, 0 if too short.
    pub fn num_frames(&self, num_samples: usize) -> usize {
        if num_samples < self.length {
            0
        } else {
            1 + (num_samples - self.length) / self.shift
        }
    }

    /// Sample index of the centre of frame `i` (the window covers `i*shift .. i*shift+length`).
    pub fn centre(&self, frame: usize) -> u64 {
        (frame * self.shift + self.length / 2) as u64
    }
}

impl FbankOptions {
    /// Frame geometry in samples (Kaldi truncates `rate * ms / 1000`).
    pub fn geometry(&self) -> FrameGeometry {
        let samples =
            |ms: f32| (f64::from(self.sample_rate) * 0.001 * f64::from(ms) + 1e-9) as usize;
        FrameGeometry {
            length: samples(self.frame_length_ms),
            shift: samples(self.frame_shift_ms),
        }
    }

    fn validate(&self) -> Result<(), DataError> {
        let g = self.geometry();
        let nyquist = self.sample_rate as f32 / 2.0;
        let high = if self.high_freq > 0.0 {
            self.high_freq
        } else {
            nyquist + self.high_freq
        };
        let problem = if g.length < 2 || g.shift == 0 {
            Some(format!(
                "frame of {} samples every {} samples",
                g.length, g.shift
            ))
        } else if self.num_bins < 1 {
            Some("num_bins must be at least 1".into())
        } else if !(0.0 <= self.low_freq && self.low_freq < high && high <= nyquist) {
            Some(format!(
                "mel range {}..{high} Hz is not inside 0..{nyquist} Hz",
                self.low_freq
            ))
        } else if !(self.dither >= 0.0 && self.log_floor > 0.0) {
            Some("dither must be >= 0 and log_floor > 0".into())
        } else {
            None
        };
        problem.map_or(Ok(()), |p| Err(DataError::Options(p)))
    }
}

/// One triangular filter: weights for FFT bins `first..first + weights.len()`.
#[derive(Clone, Debug)]
struct MelFilter {
    first: usize,
    weights: Vec<f64>,
}

fn mel_scale(freq: f64) -> f64 {
    1127.0 * (1.0 + freq / 700.0).ln()
}

/// Kaldi's `MelBanks` without VTLN: filters equally spaced on the mel scale, overlapping by half.
fn mel_filters(opts: &FbankOptions, padded_len: usize) -> Vec<MelFilter> {
    let num_fft_bins = padded_len / 2;
    let rate = f64::from(opts.sample_rate);
    let nyquist = 0.5 * rate;
    let high = if opts.high_freq > 0.0 {
        f64::from(opts.high_freq)
    } else {
        nyquist + f64::from(opts.high_freq)
    };
    let bin_width = rate / padded_len as f64;
    let mel_low = mel_scale(f64::from(opts.low_freq));
    let mel_high = mel_scale(high);
    let delta = (mel_high - mel_low) / (opts.num_bins as f64 + 1.0);
    (0..opts.num_bins)
        .map(|bin| {
            let left = mel_low + bin as f64 * delta;
            let centre = mel_low + (bin as f64 + 1.0) * delta;
            let right = mel_low + (bin as f64 + 2.0) * delta;
            let mut first = None;
            let mut weights = Vec::new();
            for i in 0..num_fft_bins {
                let mel = mel_scale(bin_width * i as f64);
                if mel > left && mel < right {
                    first.get_or_insert(i);
                    weights.push(if mel <= centre {
                        (mel - left) / (centre - left)
                    } else {
                        (right - mel) / (right - centre)
                    });
                } else if first.is_some() {
                    break;
                }
            }
            MelFilter {
                first: first.unwrap_or(0),
                weights,
            }
        })
        .collect()
}

/// A filterbank computer: window, filters and FFT plan built once, shared across threads.
#[derive(Clone)]
pub struct Fbank {
    opts: FbankOptions,
    geometry: FrameGeometry,
    padded_len: usize,
    window: Vec<f64>,
    filters: Vec<MelFilter>,
    fft: Arc<dyn RealToComplex<f64>>,
}

impl std::fmt::Debug for Fbank {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fbank")
            .field("opts", &self.opts)
            .finish_non_exhaustive()
    }
}

impl Fbank {
    pub fn new(opts: &FbankOptions) -> Result<Fbank, DataError> {
        opts.validate()?;
        let geometry = opts.geometry();
        let padded_len = if opts.round_to_power_of_two {
            geometry.length.next_power_of_two()
        } else {
            geometry.length
        };
        let n = geometry.length;
        let a = 2.0 * std::f64::consts::PI / (n as f64 - 1.0);
        let window = (0..n)
            .map(|i| (0.5 - 0.5 * (a * i as f64).cos()).powf(0.85))
            .collect();
        let filters = mel_filters(opts, padded_len);
        let fft = RealFftPlanner::<f64>::new().plan_fft_forward(padded_len);
        Ok(Fbank {
            opts: opts.clone(),
            geometry,
            padded_len,
            window,
            filters,
            fft,
        })
    }

    pub fn options(&self) -> &FbankOptions {
        &self.opts
    }

    pub fn geometry(&self) -> FrameGeometry {
        self.geometry
    }

    pub fn dim(&self) -> usize {
        self.opts.num_bins
    }

    /// Features of a whole signal: `num_frames x num_bins`, row-major. `noise_seed` is mixed into
    /// the dither seed so that different utterances get different (but reproducible) noise.
    pub fn compute(&self, samples: &[i16], noise_seed: u64) -> Vec<f32> {
        let g = self.geometry;
        let num_frames = g.num_frames(samples.len());
        let dim = self.dim();
        let mut out = vec![0f32; num_frames * dim];
        let mut frame = self.fft.make_input_vec();
        let mut spectrum = self.fft.make_output_vec();
        let mut scratch = self.fft.make_scratch_vec();
        let mut power = vec![0f64; self.padded_len / 2 + 1];
        let mut rng = (self.opts.dither > 0.0)
            .then(|| ChaCha8Rng::seed_from_u64(self.opts.dither_seed ^ noise_seed));
        let preemph = f64::from(self.opts.preemph_coeff);
        for (f, row) in out.chunks_exact_mut(dim).enumerate() {
            let start = f * g.shift;
            let window = &mut frame[..g.length];
            for (w, s) in window.iter_mut().zip(&samples[start..start + g.length]) {
                *w = f64::from(*s);
            }
            if let Some(rng) = rng.as_mut() {
                let dither = f64::from(self.opts.dither);
                for w in window.iter_mut() {
                    *w += dither * standard_normal(rng);
                }
            }
            if self.opts.remove_dc_offset {
                let mean = window.iter().sum::<f64>() / g.length as f64;
                window.iter_mut().for_each(|w| *w -= mean);
            }
            if preemph != 0.0 {
                for i in (1..g.length).rev() {
                    window[i] -= preemph * window[i - 1];
                }
                window[0] -= preemph * window[0];
            }
            for (w, c) in window.iter_mut().zip(&self.window) {
                *w *= c;
            }
            frame[g.length..].iter_mut().for_each(|w| *w = 0.0);
            // Lengths come from make_*_vec, so the FFT cannot fail.
            self.fft
                .process_with_scratch(&mut frame, &mut spectrum, &mut scratch)
                .expect("FFT buffer lengths");
            for (p, c) in power.iter_mut().zip(&spectrum) {
                let e = c.re * c.re + c.im * c.im;
                *p = if self.opts.use_power { e } else { e.sqrt() };
            }
            let floor = f64::from(self.opts.log_floor);
            for (value, filter) in row.iter_mut().zip(&self.filters) {
                let energy: f64 = filter
                    .weights
                    .iter()
                    .zip(&power[filter.first..])
                    .map(|(w, p)| w * p)
                    .sum();
                *value = energy.max(floor).ln() as f32;
            }
        }
        out
    }
}

/// A standard normal sample (Box–Muller); dither needs no more than this.
fn standard_normal(rng: &mut ChaCha8Rng) -> f64 {
    let u1: f64 = 1.0 - rng.random::<f64>(); // (0, 1]
    let u2: f64 = rng.random::<f64>();
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn geometry_matches_kaldi() {
        let g = FbankOptions::default().geometry();
        assert_eq!(
            g,
            FrameGeometry {
                length: 400,
                shift: 160
            }
        );
        assert_eq!(g.num_frames(399), 0);
        assert_eq!(g.num_frames(400), 1);
        assert_eq!(g.num_frames(559), 1);
        assert_eq!(g.num_frames(560), 2);
    }

    #[test]
    fn filters_cover_the_band() {
        let filters = mel_filters(&FbankOptions::default(), 512);
        assert_eq!(filters.len(), 23);
        // Filters advance monotonically and every one has weight.
        for pair in filters.windows(2) {
            assert!(pair[1].first > pair[0].first);
        }
        for f in &filters {
            assert!(!f.weights.is_empty() && f.weights.iter().all(|w| (0.0..=1.0).contains(w)));
        }
        assert!(
            filters[0].first >= 1,
            "20 Hz lower edge excludes the DC bin"
        );
        let last = filters.last().unwrap();
        assert!(last.first + last.weights.len() <= 256);
    }

    #[test]
    fn silence_gives_the_log_floor() {
        let fb = Fbank::new(&FbankOptions::default()).unwrap();
        let feats = fb.compute(&[0; 1600], 0);
        assert_eq!(feats.len(), 8 * 23);
        assert!(feats.iter().all(|v| (*v - f32::EPSILON.ln()).abs() < 1e-6));
    }

    #[test]
    fn dither_is_seeded() {
        let mut opts = FbankOptions {
            dither: 1.0,
            dither_seed: 7,
            ..Default::default()
        };
        let fb = Fbank::new(&opts).unwrap();
        let a = fb.compute(&[0; 1600], 1);
        assert_eq!(a, fb.compute(&[0; 1600], 1));
        assert_ne!(a, fb.compute(&[0; 1600], 2));
        assert!(
            a.iter().all(|v| *v > f32::EPSILON.ln() + 5.0),
            "unit noise lifts silence far above the floor"
        );
        opts.dither_seed = 8;
        assert_ne!(a, Fbank::new(&opts).unwrap().compute(&[0; 1600], 1));
    }

    #[test]
    fn bad_options_are_rejected() {
        assert!(Fbank::new(&FbankOptions {
            num_bins: 0,
            ..Default::default()
        })
        .is_err());
        assert!(Fbank::new(&FbankOptions {
            low_freq: 9000.0,
            ..Default::default()
        })
        .is_err());
        assert!(Fbank::new(&FbankOptions {
            frame_shift_ms: 0.0,
            ..Default::default()
        })
        .is_err());
    }
}

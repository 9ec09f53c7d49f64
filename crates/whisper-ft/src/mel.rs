//! Whisper's log-mel front end, as openai-whisper's `log_mel_spectrogram` computes it:
//! a centred short-time Fourier transform (window [`N_FFT`] = 400 samples, periodic Hann,
//! hop [`HOP_LENGTH`] = 160, reflect padding), power `|X|^2` with the last frame dropped,
//! the mel filter bank of `mel_filters.npz` (80 or 128 bins), `log10` of at least
//! `1e-10`, floored at 8 below the largest value, then `(x + 4) / 4`.
//!
//! Padding is applied to the audio, not the spectrogram: [`log_mel_spectrogram`] appends
//! `padding` zero samples before the transform (what `transcribe` does with
//! [`N_SAMPLES`]), so the last frames see the audio's real end.

use std::path::Path;
use std::sync::Arc;

use realfft::RealFftPlanner;

use crate::error::{Error, Result};
use crate::npy::read_npz_array;

/// Samples per Fourier window.
pub const N_FFT: usize = 400;
/// Samples between frames (10 ms at 16 kHz).
pub const HOP_LENGTH: usize = 160;
/// Seconds in one model input.
pub const CHUNK_LENGTH: usize = 30;
/// Samples in one model input (30 s at 16 kHz).
pub const N_SAMPLES: usize = CHUNK_LENGTH * 16_000;
/// Frames in one model input.
pub const N_FRAMES: usize = N_SAMPLES / HOP_LENGTH;
/// Frequency bins of one window.
const N_BINS: usize = N_FFT / 2 + 1;

/// A mel filter bank: `n_mels` rows of weights over the [`N_FFT`]` / 2 + 1` frequency
/// bins (librosa's Slaney-normalised mel filters, as openai-whisper ships them).
#[derive(Debug, Clone, PartialEq)]
pub struct MelFilters {
    n_mels: usize,
    weights: Vec<f32>,
}

impl MelFilters {
    /// A bank from its weights, row-major `(n_mels, 201)`.
    ///
    /// # Errors
    /// [`Error::Input`] when `weights` does not hold `n_mels` rows of 201.
    pub fn new(n_mels: usize, weights: Vec<f32>) -> Result<Self> {
        if n_mels == 0 || weights.len() != n_mels * N_BINS {
            return Err(Error::Input {
                reason: format!(
                    "a mel filter bank of {n_mels} bins needs {} weights, not {}",
                    n_mels * N_BINS,
                    weights.len()
                ),
            });
        }
        Ok(MelFilters { n_mels, weights })
    }

    /// openai-whisper's bank of `n_mels` bins (80 or 128) from its
    /// `whisper/assets/mel_filters.npz` (arrays `mel_80`, `mel_128`).
    ///
    /// # Errors
    /// [`Error::Filters`] naming the file when it cannot be read or has no array
    /// `mel_{n_mels}` of shape `(n_mels, 201)`.
    pub fn from_npz(path: impl AsRef<Path>, n_mels: usize) -> Result<Self> {
        let path = path.as_ref();
        let a = read_npz_array(path, &format!("mel_{n_mels}"))?;
        if a.shape != [n_mels, N_BINS] {
            return Err(Error::Filters {
                path: path.to_owned(),
                reason: format!(
                    "mel_{n_mels} has shape {:?}, not [{n_mels}, {N_BINS}]",
                    a.shape
                ),
            });
        }
        Self::new(n_mels, a.data)
    }

    /// Mel bins.
    pub fn n_mels(&self) -> usize {
        self.n_mels
    }
}

/// A log-mel spectrogram: `n_mels` rows of `n_frames` values, row-major (the model's
/// `(n_mels, n_frames)` input).
#[derive(Debug, Clone, PartialEq)]
pub struct LogMel {
    /// Mel bins (rows).
    pub n_mels: usize,
    /// Frames (columns), one per [`HOP_LENGTH`] samples.
    pub n_frames: usize,
    /// The values, `data[m * n_frames + t]`.
    pub data: Vec<f32>,
}

impl LogMel {
    /// `len` frames of every bin from frame `start`, row-major `(n_mels, len)`: the
    /// first `take` of them (at most) from the spectrogram, the rest 0 (openai-whisper's
    /// `pad_or_trim` of `mel[:, start:start + take]`).
    pub fn window(&self, start: usize, take: usize, len: usize) -> Vec<f32> {
        let mut out = vec![0f32; self.n_mels * len];
        let end = (start + take.min(len)).min(self.n_frames);
        if start < end {
            for (m, row) in out.chunks_mut(len).enumerate() {
                let from = m * self.n_frames;
                row[..end - start].copy_from_slice(&self.data[from + start..from + end]);
            }
        }
        out
    }
}

/// The log-mel spectrogram of 16 kHz `samples` followed by `padding` zeros, as
/// openai-whisper's `log_mel_spectrogram(audio, n_mels, padding)`: `(len + padding) /
/// 160` frames (rounded down).
///
/// ```
/// use whet_whisper_ft::{MelFilters, log_mel_spectrogram};
/// // A one-bin bank that sums every frequency: the log of each frame's energy.
/// let filters = MelFilters::new(1, vec![1.0; 201])?;
/// let tone: Vec<f32> = (0..1600).map(|i| (i as f32 * 0.3).sin()).collect();
/// let mel = log_mel_spectrogram(&tone, &filters, 0)?;
/// assert_eq!((mel.n_mels, mel.n_frames), (1, 10));
/// # Ok::<(), whet_whisper_ft::Error>(())
/// ```
///
/// # Errors
/// [`Error::Input`] when the padded audio has 200 samples or fewer (the centred
/// transform reflects 200 samples at each end, as `torch.stft` refuses to do then).
pub fn log_mel_spectrogram(
    samples: &[f32],
    filters: &MelFilters,
    padding: usize,
) -> Result<LogMel> {
    let n = samples.len() + padding;
    let half = N_FFT / 2;
    if n <= half {
        return Err(Error::Input {
            reason: format!("{n} samples: the centred transform needs more than {half}"),
        });
    }
    let at = |i: usize| -> f64 { samples.get(i).map_or(0.0, |&s| f64::from(s)) };
    // Reflect padding (no edge repeat): index -k is k, index n - 1 + k is n - 1 - k.
    let padded = |j: usize| -> f64 {
        if j < half {
            at(half - j)
        } else if j - half < n {
            at(j - half)
        } else {
            at(2 * (n - 1) + half - j)
        }
    };
    let window: Vec<f64> = (0..N_FFT)
        .map(|i| 0.5 - 0.5 * (2.0 * std::f64::consts::PI * i as f64 / N_FFT as f64).cos())
        .collect();
    let n_frames = n / HOP_LENGTH;
    let fft: Arc<dyn realfft::RealToComplex<f64>> =
        RealFftPlanner::<f64>::new().plan_fft_forward(N_FFT);
    let mut input = fft.make_input_vec();
    let mut spectrum = fft.make_output_vec();
    let mut scratch = fft.make_scratch_vec();
    let weights: Vec<f64> = filters.weights.iter().map(|&w| f64::from(w)).collect();
    let n_mels = filters.n_mels;
    let mut mel = vec![0f64; n_mels * n_frames];
    let mut power = [0f64; N_BINS];
    for t in 0..n_frames {
        for (i, x) in input.iter_mut().enumerate() {
            *x = padded(t * HOP_LENGTH + i) * window[i];
        }
        fft.process_with_scratch(&mut input, &mut spectrum, &mut scratch)
            .expect("buffers of the planned length");
        for (p, c) in power.iter_mut().zip(&spectrum) {
            *p = c.norm_sqr();
        }
        for m in 0..n_mels {
            let row = &weights[m * N_BINS..(m + 1) * N_BINS];
            mel[m * n_frames + t] = row.iter().zip(&power).map(|(w, p)| w * p).sum();
        }
    }
    let mut data: Vec<f64> = mel.into_iter().map(|v| v.max(1e-10).log10()).collect();
    let max = data.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    for v in &mut data {
        *v = (v.max(max - 8.0) + 4.0) / 4.0;
    }
    Ok(LogMel {
        n_mels,
        n_frames,
        data: data.into_iter().map(|v| v as f32).collect(),
    })
}

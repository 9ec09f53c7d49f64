//! Audio in: WAV files (8, 16, 24 and 32-bit integer PCM, 32-bit float) through `hound`,
//! every channel mixed down to one, samples as `f32` in `[-1, 1)`.
//!
//! Integer samples are scaled by `2^(bits - 1)` (a 16-bit sample `s` becomes
//! `s / 32768`, as openai-whisper's `load_audio` reads ffmpeg's `s16le`); channels are
//! averaged frame by frame.

use std::io::Read;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Whisper's sample rate: every model input is 16 kHz mono.
pub const SAMPLE_RATE: u32 = 16_000;

/// Samples never reserved ahead of reading them: a header cannot make the reader
/// allocate more than the data it actually holds (plus this).
const RESERVE_AHEAD: usize = 1 << 20;

/// Mono audio.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Audio {
    /// The samples, in `[-1, 1)` (float files as written, which may exceed it).
    pub samples: Vec<f32>,
    /// Samples per second.
    pub sample_rate: u32,
}

impl Audio {
    /// Seconds of audio.
    pub fn duration(&self) -> f64 {
        if self.sample_rate == 0 {
            0.0
        } else {
            self.samples.len() as f64 / f64::from(self.sample_rate)
        }
    }

    /// Writes the audio as a 16-bit PCM mono WAV file, atomically (samples clipped to
    /// `[-1, 1]`, scaled by 32767 and rounded).
    ///
    /// # Errors
    /// [`Error::Core`] when the file cannot be written.
    pub fn write_wav(&self, path: impl AsRef<Path>) -> Result<()> {
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: self.sample_rate,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut bytes = std::io::Cursor::new(Vec::with_capacity(44 + 2 * self.samples.len()));
        let path = path.as_ref();
        let fail = |e: hound::Error| Error::Audio {
            path: path.to_owned(),
            reason: e.to_string(),
        };
        let mut w = hound::WavWriter::new(&mut bytes, spec).map_err(fail)?;
        for s in &self.samples {
            w.write_sample((s.clamp(-1.0, 1.0) * 32767.0).round() as i16)
                .map_err(fail)?;
        }
        w.finalize().map_err(fail)?;
        Ok(whet_core::data::atomic_write(path, bytes.get_ref())?)
    }

    /// Reads a WAV file, mixing its channels to mono.
    ///
    /// # Errors
    /// [`Error::Audio`] naming the file when it cannot be opened or is malformed (a bad
    /// header, a truncated sample); [`Error::Unsupported`] for a WAV encoding other than
    /// PCM and IEEE float, or a sample width it does not read.
    pub fn read_wav(path: impl AsRef<Path>) -> Result<Audio> {
        let path = path.as_ref();
        let file = std::fs::File::open(path).map_err(|e| Error::Audio {
            path: path.to_owned(),
            reason: e.to_string(),
        })?;
        Self::from_wav_reader(std::io::BufReader::new(file), path)
    }

    /// Reads WAV bytes from `reader`; `name` is what errors call it.
    ///
    /// ```
    /// use whet_whisper_ft::Audio;
    /// // 2 frames of 16-bit stereo at 16 kHz: (16384, -16384) and (32767, 32767).
    /// let mut wav = Vec::new();
    /// let spec = hound::WavSpec {
    ///     channels: 2, sample_rate: 16_000, bits_per_sample: 16,
    ///     sample_format: hound::SampleFormat::Int,
    /// };
    /// let mut w = hound::WavWriter::new(std::io::Cursor::new(&mut wav), spec)?;
    /// for s in [16384i16, -16384, 32767, 32767] { w.write_sample(s)?; }
    /// w.finalize()?;
    /// let audio = Audio::from_wav_reader(&wav[..], "two-frames.wav")?;
    /// assert_eq!(audio.samples, vec![0.0, 32767.0 / 32768.0]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// As [`Audio::read_wav`].
    pub fn from_wav_reader(reader: impl Read, name: impl AsRef<Path>) -> Result<Audio> {
        let path = name.as_ref().to_owned();
        let reader = hound::WavReader::new(reader).map_err(|e| wav_error(&path, e))?;
        let spec = reader.spec();
        let channels = usize::from(spec.channels);
        if channels == 0 {
            return Err(Error::Audio {
                path,
                reason: "the header says 0 channels".into(),
            });
        }
        let frames = reader.duration() as usize;
        let mut samples = Vec::with_capacity(frames.min(RESERVE_AHEAD));
        match (spec.sample_format, spec.bits_per_sample) {
            (hound::SampleFormat::Float, 32) => {
                let read = reader.into_samples::<f32>().map(|s| s.map(f64::from));
                mix(read, channels, 1.0, &path, &mut samples)?;
            }
            (hound::SampleFormat::Int, bits @ (8 | 16 | 24 | 32)) => {
                let scale = 1.0 / f64::from(1u32 << (bits - 1));
                let read = reader.into_samples::<i32>().map(|s| s.map(f64::from));
                mix(read, channels, scale, &path, &mut samples)?;
            }
            (format, bits) => {
                return Err(Error::Unsupported {
                    path,
                    what: format!("{bits}-bit {format:?} samples"),
                });
            }
        }
        Ok(Audio {
            samples,
            sample_rate: spec.sample_rate,
        })
    }
}

/// Averages each frame's `channels` samples (times `scale`) into `out`.
fn mix(
    samples: impl Iterator<Item = hound::Result<f64>>,
    channels: usize,
    scale: f64,
    path: &Path,
    out: &mut Vec<f32>,
) -> Result<()> {
    let (mut sum, mut k) = (0f64, 0usize);
    for s in samples {
        sum += s.map_err(|e| wav_error(path, e))?;
        k += 1;
        if k == channels {
            out.push((sum * scale / channels as f64) as f32);
            (sum, k) = (0.0, 0);
        }
    }
    if k != 0 {
        return Err(Error::Audio {
            path: path.to_owned(),
            reason: format!("the last frame has {k} of its {channels} samples"),
        });
    }
    Ok(())
}

fn wav_error(path: &Path, e: hound::Error) -> Error {
    let path: PathBuf = path.to_owned();
    match e {
        hound::Error::Unsupported => Error::Unsupported {
            path,
            what: "a WAV encoding other than PCM or IEEE float".into(),
        },
        other => Error::Audio {
            path,
            reason: other.to_string(),
        },
    }
}

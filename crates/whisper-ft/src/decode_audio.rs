//! Compressed audio in (MP3, FLAC, Ogg Vorbis through `symphonia`) and resampling
//! (`rubato`'s FFT resampler).

use std::path::Path;

use rubato::{FftFixedIn, Resampler};
use symphonia::core::audio::SampleBuffer;
use symphonia::core::codecs::{CODEC_TYPE_NULL, DecoderOptions};
use symphonia::core::errors::Error as SymphoniaError;
use symphonia::core::formats::FormatOptions;
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;
use symphonia::core::probe::Hint;

use crate::audio::{Audio, SAMPLE_RATE};
use crate::error::{Error, Result};

/// Frames handed to the resampler at a time, and the sub-chunks it splits them into.
const CHUNK: usize = 1024;
const SUB_CHUNKS: usize = 2;

impl Audio {
    /// Reads any audio file this crate decodes, channels averaged to mono: WAV through
    /// [`Audio::read_wav`]; MP3, FLAC and Ogg Vorbis through `symphonia` (its first
    /// decodable track).
    ///
    /// # Errors
    /// [`Error::Unsupported`] naming the file for a container or codec it does not
    /// decode; [`Error::Audio`] naming it when it cannot be opened or a packet is
    /// corrupt.
    pub fn read(path: impl AsRef<Path>) -> Result<Audio> {
        let path = path.as_ref();
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        if ext.as_deref() == Some("wav") {
            return Self::read_wav(path);
        }
        let bad = |reason: String| Error::Audio {
            path: path.to_owned(),
            reason,
        };
        let unsupported = |what: String| Error::Unsupported {
            path: path.to_owned(),
            what,
        };
        let file = std::fs::File::open(path).map_err(|e| bad(e.to_string()))?;
        let stream = MediaSourceStream::new(Box::new(file), Default::default());
        let mut hint = Hint::new();
        if let Some(ext) = &ext {
            hint.with_extension(ext);
        }
        let probed = symphonia::default::get_probe()
            .format(
                &hint,
                stream,
                // Encoder delay and padding trimmed (LAME/Xing gapless information), as
                // libsndfile and ffmpeg trim them.
                &FormatOptions {
                    enable_gapless: true,
                    ..FormatOptions::default()
                },
                &MetadataOptions::default(),
            )
            .map_err(|e| match e {
                SymphoniaError::Unsupported(what) => unsupported(what.to_owned()),
                other => bad(other.to_string()),
            })?;
        let mut format = probed.format;
        let track = format
            .tracks()
            .iter()
            .find(|t| t.codec_params.codec != CODEC_TYPE_NULL)
            .ok_or_else(|| unsupported("no audio track".into()))?;
        let track_id = track.id;
        let mut sample_rate = track.codec_params.sample_rate.unwrap_or(0);
        let mut decoder = symphonia::default::get_codecs()
            .make(&track.codec_params, &DecoderOptions::default())
            .map_err(|e| unsupported(e.to_string()))?;
        let mut samples = Vec::new();
        loop {
            let packet = match format.next_packet() {
                Ok(p) => p,
                Err(SymphoniaError::IoError(e))
                    if e.kind() == std::io::ErrorKind::UnexpectedEof =>
                {
                    break;
                }
                Err(e) => return Err(bad(e.to_string())),
            };
            if packet.track_id() != track_id {
                continue;
            }
            let decoded = decoder.decode(&packet).map_err(|e| bad(e.to_string()))?;
            let spec = *decoded.spec();
            sample_rate = spec.rate;
            let channels = spec.channels.count().max(1);
            let mut buf = SampleBuffer::<f32>::new(decoded.capacity() as u64, spec);
            buf.copy_interleaved_ref(decoded);
            samples.extend(
                buf.samples().chunks_exact(channels).map(|f| {
                    (f.iter().map(|&s| f64::from(s)).sum::<f64>() / channels as f64) as f32
                }),
            );
        }
        Ok(Audio {
            samples,
            sample_rate,
        })
    }

    /// [`Audio::read`], resampled to 16 kHz when it is not.
    ///
    /// # Errors
    /// As [`Audio::read`] and [`Audio::resampled`].
    pub fn read_16k(path: impl AsRef<Path>) -> Result<Audio> {
        Self::read(path)?.resampled(SAMPLE_RATE)
    }

    /// The audio at `rate` samples per second through `rubato`'s synchronous FFT
    /// resampler (`FftFixedIn`: each chunk's spectrum cut to the lower Nyquist frequency
    /// with a smooth roll-off), its delay removed, `len * rate / sample_rate` samples
    /// (rounded). 96 dB from soxr's very-high-quality resampling of speech from 44.1 kHz
    /// to 16 kHz (`tests/audio_decode.rs`).
    ///
    /// ```
    /// use whet_whisper_ft::Audio;
    /// let tone = Audio {
    ///     samples: (0..44_100).map(|i| (i as f32 * 0.05).sin()).collect(),
    ///     sample_rate: 44_100,
    /// };
    /// let at_16k = tone.resampled(16_000)?;
    /// assert_eq!((at_16k.sample_rate, at_16k.samples.len()), (16_000, 16_000));
    /// # Ok::<(), whet_whisper_ft::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::Input`] for a rate of 0.
    pub fn resampled(&self, rate: u32) -> Result<Audio> {
        if rate == 0 || self.sample_rate == 0 {
            return Err(Error::Input {
                reason: format!("resampling from {} Hz to {rate} Hz", self.sample_rate),
            });
        }
        if rate == self.sample_rate || self.samples.is_empty() {
            return Ok(Audio {
                samples: self.samples.clone(),
                sample_rate: rate,
            });
        }
        let ratio = f64::from(rate) / f64::from(self.sample_rate);
        let fail = |e: String| Error::Input {
            reason: format!("resampling: {e}"),
        };
        let mut r = FftFixedIn::<f64>::new(
            self.sample_rate as usize,
            rate as usize,
            CHUNK,
            SUB_CHUNKS,
            1,
        )
        .map_err(|e| fail(e.to_string()))?;
        let want = (self.samples.len() as f64 * ratio).round() as usize;
        let delay = r.output_delay();
        let input: Vec<f64> = self.samples.iter().map(|&s| f64::from(s)).collect();
        let mut out: Vec<f64> = Vec::with_capacity(want + delay);
        // `process` hands back its whole output buffer: only the frames each call
        // writes are kept.
        let mut buf = vec![vec![0f64; r.output_frames_max()]];
        let mut at = 0;
        while input.len() - at >= r.input_frames_next() {
            let n = r.input_frames_next();
            let (used, written) = r
                .process_into_buffer(&[&input[at..at + n]], &mut buf, None)
                .map_err(|e| fail(e.to_string()))?;
            out.extend(&buf[0][..written]);
            at += used;
        }
        // What is left of the input (rubato refuses an empty slice here: a length that
        // is a whole number of chunks goes straight to flushing).
        if at < input.len() {
            let (_, written) = r
                .process_partial_into_buffer(Some(&[&input[at..]]), &mut buf, None)
                .map_err(|e| fail(e.to_string()))?;
            out.extend(&buf[0][..written]);
        }
        while out.len() < want + delay {
            let (_, written) = r
                .process_partial_into_buffer::<&[f64], _>(None, &mut buf, None)
                .map_err(|e| fail(e.to_string()))?;
            if written == 0 {
                break;
            }
            out.extend(&buf[0][..written]);
        }
        out.resize(want + delay, 0.0);
        Ok(Audio {
            samples: out[delay..].iter().map(|&v| v as f32).collect(),
            sample_rate: rate,
        })
    }
}

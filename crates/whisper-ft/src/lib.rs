//! # whet-whisper-ft
//!
//! Whisper in burn: audio in, the exact log-mel front end, and (to come) the model,
//! decoding, fine-tuning, and WER through whet-eval-metrics.
//!
//! ```no_run
//! use whet_whisper_ft::{Audio, MelFilters, N_SAMPLES, log_mel_spectrogram};
//! let audio = Audio::read_wav("clip.wav")?; // 16 kHz mono
//! let filters = MelFilters::from_npz("assets/whisper/mel_filters.npz", 80)?;
//! // As `transcribe` does: 30 s of zeros appended to the audio, not to the spectrogram.
//! let mel = log_mel_spectrogram(&audio.samples, &filters, N_SAMPLES)?;
//! assert_eq!(mel.n_mels, 80);
//! # Ok::<(), whet_whisper_ft::Error>(())
//! ```

mod audio;
#[cfg(feature = "model")]
mod beam;
mod config;
mod ct2;
#[cfg(feature = "model")]
mod decode;
mod decode_audio;
mod error;
#[cfg(feature = "model")]
mod evaluate;
#[cfg(feature = "model")]
mod finetune;
#[cfg(feature = "model")]
mod lora_paths;
mod manifest;
mod mel;
#[cfg(feature = "model")]
mod model;
mod npy;
#[cfg(feature = "model")]
mod speech_set;
#[cfg(feature = "model")]
mod timing;
#[cfg(feature = "model")]
mod tokenizer;
#[cfg(feature = "model")]
mod transcribe;
#[cfg(feature = "model")]
mod weights;

pub use audio::{Audio, SAMPLE_RATE};
pub use config::WhisperConfig;
pub use ct2::{CT2_VERSIONS, Ct2Dtype, Ct2Model, Ct2Variable};
#[cfg(feature = "model")]
pub use decode::{
    DecodingOptions, DecodingResult, Suppress, compression_ratio, decode, decode_batch,
};
pub use error::{Error, Result};
#[cfg(feature = "model")]
pub use evaluate::{Utterance, WerReport, normalize_transcript};
#[cfg(feature = "model")]
pub use finetune::{
    SpecAugment, TrainingBatch, TrainingUtterance, WhisperFinetuneConfig, finetune, finetune_with,
    transcript_loss,
};
pub use manifest::{
    SpeechRecord, parse_sphinx_transcription, read_manifest, read_sphinx_transcription,
    write_manifest,
};
pub use mel::{
    CHUNK_LENGTH, HOP_LENGTH, LogMel, MelFilters, N_FFT, N_FRAMES, N_SAMPLES, log_mel_spectrogram,
};
#[cfg(feature = "model")]
pub use model::{
    Conv1d, DecoderCache, DecoderLayer, EncoderLayer, LayerCache, LayerNorm, NamedTensor,
    WhisperAttention, WhisperDecoder, WhisperEncoder, WhisperModel,
};
pub use npy::{NpyArray, parse_npy, read_npz_array};
#[cfg(feature = "model")]
pub use speech_set::{SpeechSynthConfig, synthesize_speech_set};
#[cfg(feature = "model")]
pub use timing::{APPEND_PUNCTUATIONS, PREPEND_PUNCTUATIONS, WordTiming, find_alignment};
#[cfg(feature = "model")]
pub use tokenizer::{Task, WhisperTokenizer};
#[cfg(feature = "model")]
pub use transcribe::{Segment, TranscribeOptions, Transcript, Whisper};

//! Word error rate of a model on a speech set, as Whisper's papers score it: each
//! transcript and reference through Whisper's text normaliser (the English one for
//! English, the basic one for other languages), then corpus WER (jiwer's, from
//! whet-eval-metrics) overall and per language.

use std::collections::BTreeMap;
use std::time::Instant;

use serde::{Deserialize, Serialize};
use whet_eval_metrics::text::{BasicTextNormalizer, EnglishTextNormalizer, wer};

use crate::audio::Audio;
use crate::error::{Error, Result};
use crate::manifest::SpeechRecord;
use crate::transcribe::{TranscribeOptions, Whisper};

/// One utterance's outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Utterance {
    /// The audio file.
    pub audio: std::path::PathBuf,
    /// Its language.
    pub language: String,
    /// The reference, normalised.
    pub reference: String,
    /// The transcript, normalised.
    pub hypothesis: String,
    /// The transcript as written.
    pub text: String,
}

/// What [`Whisper::evaluate`] measures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WerReport {
    /// Corpus WER over every utterance.
    pub wer: f64,
    /// Corpus WER per language.
    pub by_language: BTreeMap<String, f64>,
    /// Every utterance.
    pub utterances: Vec<Utterance>,
    /// Seconds of audio.
    pub audio_seconds: f64,
    /// Seconds spent transcribing (reading and decoding audio included).
    pub seconds: f64,
}

impl WerReport {
    /// Transcription time over audio time.
    pub fn real_time_factor(&self) -> f64 {
        self.seconds / self.audio_seconds.max(1e-9)
    }
}

/// Whisper's normalisation of `text` in `language`: [`EnglishTextNormalizer`] for `en`,
/// [`BasicTextNormalizer`] otherwise (as Whisper's evaluation does).
pub fn normalize_transcript(text: &str, language: &str) -> String {
    if language == "en" {
        EnglishTextNormalizer.normalize(text)
    } else {
        BasicTextNormalizer::default().normalize(text)
    }
}

impl Whisper {
    /// Transcribes every record and scores the transcripts (see the module's notes).
    ///
    /// # Errors
    /// As [`Audio::read`] (naming the file) and [`Whisper::transcribe`]; [`Error::Input`]
    /// for an empty set.
    pub fn evaluate(
        &self,
        records: &[SpeechRecord],
        options: &TranscribeOptions,
    ) -> Result<WerReport> {
        if records.is_empty() {
            return Err(Error::Input {
                reason: "WER of an empty speech set".into(),
            });
        }
        let started = Instant::now();
        let mut audio_seconds = 0.0;
        let mut utterances = Vec::with_capacity(records.len());
        for r in records {
            let audio = Audio::read(&r.audio)?;
            audio_seconds += audio.duration();
            let text = self.transcribe(&audio, options)?.text;
            utterances.push(Utterance {
                audio: r.audio.clone(),
                language: r.language.clone(),
                reference: normalize_transcript(&r.text, &r.language),
                hypothesis: normalize_transcript(&text, &r.language),
                text,
            });
        }
        let score = |subset: &[&Utterance]| -> Result<f64> {
            let refs: Vec<&str> = subset.iter().map(|u| u.reference.as_str()).collect();
            let hyps: Vec<&str> = subset.iter().map(|u| u.hypothesis.as_str()).collect();
            wer(&refs, &hyps).map_err(|e| Error::Input {
                reason: format!("WER: {e}"),
            })
        };
        let all: Vec<&Utterance> = utterances.iter().collect();
        let mut by_language = BTreeMap::new();
        for language in utterances.iter().map(|u| u.language.clone()) {
            if by_language.contains_key(&language) {
                continue;
            }
            let subset: Vec<&Utterance> = utterances
                .iter()
                .filter(|u| u.language == language)
                .collect();
            by_language.insert(language, score(&subset)?);
        }
        Ok(WerReport {
            wer: score(&all)?,
            by_language,
            seconds: started.elapsed().as_secs_f64(),
            audio_seconds,
            utterances,
        })
    }
}

//! Spoken expense phrases for Whisper's examples: synth-docs writes the phrases,
//! whisper-ft speaks them with espeak-ng, CLINC150's queries give general English to
//! replay. (The crates do not depend on each other; they meet here.)

use std::collections::HashSet;
use std::path::PathBuf;

use whet_intent_svc::Dataset;
use whet_synth_docs::PhraseGenerator;
use whet_whisper_ft::{SpeechRecord, SpeechSynthConfig, synthesize_speech_set};

/// A training and a held-out speech set of expense phrases, half Tagalog.
#[derive(Debug, Clone)]
pub struct ExpenseSpeech {
    /// Seeds the training phrases and voices; the held-out set takes `seed + 1000`.
    pub seed: u64,
    /// Training phrases.
    pub train: u64,
    /// Held-out phrases.
    pub test: u64,
    /// General English sentences (CLINC150's training queries, sentence-cased) spoken
    /// into the training set as replay against forgetting.
    pub replay: usize,
    /// CLINC150's `data_full.json`.
    pub replay_text: PathBuf,
    /// Where the two sets go.
    pub out: PathBuf,
}

impl ExpenseSpeech {
    /// Speaks the training and held-out sets into `out/train` and `out/test` (each with
    /// its `manifest.jsonl`): the held-out phrases have their own seed (phrases, voices,
    /// noise) and share no text with training.
    ///
    /// # Errors
    /// As [`Dataset::read_clinc150`] and [`synthesize_speech_set`].
    pub fn synthesize(&self) -> anyhow::Result<(Vec<SpeechRecord>, Vec<SpeechRecord>)> {
        let a = self;
        let utterances = |phrases: Vec<whet_synth_docs::SpokenPhrase>| {
            phrases
                .into_iter()
                .map(|p| (p.text.clone(), p.language().to_owned()))
                .collect::<Vec<_>>()
        };
        let mut train_phrases = utterances(PhraseGenerator::new(a.seed).phrases(a.train).collect());
        if a.replay > 0 {
            let general = Dataset::read_clinc150(&a.replay_text, &["train"])?;
            let step = general
                .samples
                .len()
                .checked_div(a.replay)
                .unwrap_or(1)
                .max(1);
            train_phrases.extend(
                general
                    .samples
                    .iter()
                    .step_by(step)
                    .take(a.replay)
                    .map(|s| (sentence_case(&s.text), "en".to_owned())),
            );
        }
        let seen: HashSet<&String> = train_phrases.iter().map(|(t, _)| t).collect();
        let test_phrases = utterances(
            PhraseGenerator::new(a.seed + 1000)
                .phrases(a.test * 2)
                .filter(|p| !seen.contains(&p.text))
                .take(a.test as usize)
                .collect(),
        );
        let speak = |seed| SpeechSynthConfig {
            seed,
            ..SpeechSynthConfig::default()
        };
        let train_set = synthesize_speech_set(&train_phrases, a.out.join("train"), &speak(a.seed))?;
        let test_set =
            synthesize_speech_set(&test_phrases, a.out.join("test"), &speak(a.seed + 1000))?;
        Ok((train_set, test_set))
    }
}

/// "what is my balance" -> "What is my balance?": a capital, "I", and a question mark
/// after a question word.
pub fn sentence_case(text: &str) -> String {
    const QUESTION: [&str; 16] = [
        "what", "how", "when", "where", "who", "why", "which", "can", "could", "is", "are", "do",
        "does", "will", "would", "should",
    ];
    let words: Vec<String> = text
        .split_whitespace()
        .enumerate()
        .map(|(i, w)| match (i, w) {
            (_, "i") => "I".to_owned(),
            (_, w) if w.starts_with("i'") => format!("I{}", &w[1..]),
            (0, w) => w[..1].to_uppercase() + &w[1..],
            (_, w) => w.to_owned(),
        })
        .collect();
    let first = text.split_whitespace().next().unwrap_or("");
    let mark = if QUESTION.contains(&first) { "?" } else { "." };
    words.join(" ") + mark
}

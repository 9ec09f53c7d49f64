//! Whisper's tokenizer: byte-level BPE from `tokenizer.json` (the `tokenizers` crate),
//! and the special tokens decoding is steered by (openai-whisper's `Tokenizer`).

use std::path::Path;

use crate::config::WhisperConfig;
use crate::error::{Error, Result};

/// The task a multilingual model is asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Task {
    /// Speech to text in its language.
    #[default]
    Transcribe,
    /// Speech to English text.
    Translate,
}

/// Whisper's tokenizer and special tokens.
#[derive(Debug, Clone)]
pub struct WhisperTokenizer {
    inner: tokenizers::Tokenizer,
    /// `<|endoftext|>`.
    pub eot: u32,
    /// `<|startoftranscript|>`.
    pub sot: u32,
    /// `<|startofprev|>` (a prompt of previous text follows).
    pub sot_prev: u32,
    /// `<|startoflm|>`.
    pub sot_lm: u32,
    /// `<|transcribe|>`.
    pub transcribe: u32,
    /// `<|translate|>`.
    pub translate: u32,
    /// `<|nocaptions|>` / `<|nospeech|>`: its probability is the no-speech probability.
    pub no_speech: u32,
    /// `<|notimestamps|>`.
    pub no_timestamps: u32,
    /// `<|0.00|>`: this and every later id is a timestamp, 0.02 s apart.
    pub timestamp_begin: u32,
    /// Language tokens (`<|en|>` ...) by code.
    pub languages: Vec<(String, u32)>,
    /// Whether the model is multilingual (its vocabulary has 51,865 tokens or more, as
    /// openai-whisper decides): its opening tokens then name a language and a task.
    pub multilingual: bool,
    /// [`WhisperTokenizer::non_speech_suppression`], computed once.
    non_speech: Vec<u32>,
}

impl WhisperTokenizer {
    /// Reads the `tokenizer.json` (Hugging Face's or CTranslate2's Whisper folder) of a
    /// model of `config`'s shape.
    ///
    /// # Errors
    /// [`Error::Model`] naming the file when it cannot be read or lacks a special token.
    pub fn from_file(path: impl AsRef<Path>, config: &WhisperConfig) -> Result<Self> {
        let path = path.as_ref();
        let bad = |reason: String| Error::Model {
            path: path.to_owned(),
            reason,
        };
        let inner = tokenizers::Tokenizer::from_file(path).map_err(|e| bad(e.to_string()))?;
        let id = |t: &str| {
            inner
                .token_to_id(t)
                .ok_or_else(|| bad(format!("no special token {t}")))
        };
        let no_speech = id("<|nospeech|>").or_else(|_| id("<|nocaptions|>"))?;
        let no_timestamps = id("<|notimestamps|>")?;
        let sot = id("<|startoftranscript|>")?;
        let languages = (sot + 1..id("<|translate|>")?)
            .filter_map(|i| {
                let t = inner.id_to_token(i)?;
                let code = t.strip_prefix("<|")?.strip_suffix("|>")?.to_owned();
                Some((code, i))
            })
            .collect();
        let mut t = WhisperTokenizer {
            eot: id("<|endoftext|>")?,
            sot,
            sot_prev: id("<|startofprev|>")?,
            sot_lm: id("<|startoflm|>")?,
            transcribe: id("<|transcribe|>")?,
            translate: id("<|translate|>")?,
            no_speech,
            no_timestamps,
            timestamp_begin: no_timestamps + 1,
            languages,
            multilingual: config.vocab_size >= 51_865,
            inner,
            non_speech: Vec::new(),
        };
        t.non_speech = t.compute_non_speech();
        Ok(t)
    }

    /// The decoder's opening tokens: `<|startoftranscript|>`, then for a multilingual
    /// model the language and the task.
    ///
    /// # Errors
    /// [`Error::Input`] for a language the tokenizer does not have.
    pub fn sot_sequence(&self, language: Option<&str>, task: Task) -> Result<Vec<u32>> {
        let mut seq = vec![self.sot];
        if self.multilingual {
            let code = language.unwrap_or("en");
            let lang = self
                .languages
                .iter()
                .find(|(c, _)| c == code)
                .ok_or_else(|| Error::Input {
                    reason: format!("no language token for {code:?}"),
                })?;
            seq.push(lang.1);
            seq.push(match task {
                Task::Transcribe => self.transcribe,
                Task::Translate => self.translate,
            });
        }
        Ok(seq)
    }

    /// Token ids of `text` (no special tokens added).
    ///
    /// # Errors
    /// [`Error::Input`] when the tokenizer fails.
    pub fn encode(&self, text: &str) -> Result<Vec<u32>> {
        self.inner
            .encode(text, false)
            .map(|e| e.get_ids().to_vec())
            .map_err(|e| Error::Input {
                reason: format!("tokenizing {text:?}: {e}"),
            })
    }

    /// The text of `tokens`, special and timestamp tokens left out.
    ///
    /// # Errors
    /// [`Error::Input`] when the tokenizer fails.
    pub fn decode(&self, tokens: &[u32]) -> Result<String> {
        let text: Vec<u32> = tokens.iter().copied().filter(|&t| t < self.eot).collect();
        self.inner.decode(&text, false).map_err(|e| Error::Input {
            reason: format!("decoding tokens: {e}"),
        })
    }

    /// The text of `tokens` with special tokens written out (`<|endoftext|>`), as
    /// openai-whisper's `decode_with_timestamps` for tokens without timestamps.
    ///
    /// # Errors
    /// [`Error::Input`] when the tokenizer fails.
    pub fn decode_with_special(&self, tokens: &[u32]) -> Result<String> {
        self.inner.decode(tokens, false).map_err(|e| Error::Input {
            reason: format!("decoding tokens: {e}"),
        })
    }

    /// openai-whisper's `suppress_tokens="-1"`: `non_speech_tokens` (symbols and their
    /// spaced forms that are not speech: `"#()*+/:;<=>@[\\]^_`{|}~「」『』`, music notes,
    /// `<<`, `>>`, ...) and `<|transcribe|>`, `<|translate|>`, `<|startoftranscript|>`,
    /// `<|startofprev|>`, `<|startoflm|>`, `<|nocaptions|>`.
    pub fn non_speech_suppression(&self) -> Vec<u32> {
        self.non_speech.clone()
    }

    fn compute_non_speech(&self) -> Vec<u32> {
        let miscellaneous = "♩♪♫♬♭♮♯";
        let symbols: Vec<String> = "\"#()*+/:;<=>@[\\]^_`{|}~「」『』"
            .chars()
            .map(String::from)
            .chain(
                "<< >> <<< >>> -- --- -( -[ (' (\" (( )) ((( ))) [[ ]] {{ }} ♪♪ ♪♪♪"
                    .split(' ')
                    .map(str::to_owned),
            )
            .chain(miscellaneous.chars().map(String::from))
            .collect();
        let mut out = std::collections::BTreeSet::new();
        // Hyphens and single quotes are allowed between words, not at their start.
        for t in [" -", " '"] {
            if let Some(&first) = self
                .encode(t)
                .ok()
                .and_then(|ids| ids.first().copied())
                .as_ref()
            {
                out.insert(first);
            }
        }
        for symbol in &symbols {
            for form in [symbol.clone(), format!(" {symbol}")] {
                let ids = self.encode(&form).unwrap_or_default();
                if let Some(&first) = ids.first()
                    && (ids.len() == 1 || miscellaneous.contains(symbol.as_str()))
                {
                    out.insert(first);
                }
            }
        }
        out.extend([
            self.transcribe,
            self.translate,
            self.sot,
            self.sot_prev,
            self.sot_lm,
            self.no_speech,
        ]);
        out.into_iter().collect()
    }

    /// Seconds of timestamp token `t` (`None` for a text token).
    pub fn timestamp(&self, t: u32) -> Option<f64> {
        (t >= self.timestamp_begin).then(|| f64::from(t - self.timestamp_begin) * 0.02)
    }
}

//! Decoding one 30-second window as openai-whisper's `DecodingTask` does: the opening
//! tokens (a prompt of previous text, `<|startoftranscript|>`, language and task, a
//! prefix), then token by token under its logit filters — `SuppressBlank`,
//! `SuppressTokens` and `ApplyTimestampRules` — greedily at temperature 0 or sampled
//! above it, with the no-speech probability read at `<|startoftranscript|>`.

use burn::tensor::Tensor;
use rand::{Rng, SeedableRng};
use whet_core::burn;

use crate::error::{Error, Result};
use crate::model::{DecoderCache, WhisperModel};
use crate::tokenizer::{Task, WhisperTokenizer};

/// Which tokens never to sample (openai-whisper's `suppress_tokens`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Suppress {
    /// `"-1"`: symbols that are not speech, and the special tokens other than
    /// `<|endoftext|>`, the no-speech token and timestamps: the model config's
    /// `suppress_ids`, or openai-whisper's list computed from the tokenizer.
    #[default]
    NonSpeech,
    /// Nothing.
    Nothing,
    /// These ids.
    Ids(Vec<u32>),
}

/// Options of one window's decoding (openai-whisper's `DecodingOptions`).
#[derive(Debug, Clone, PartialEq)]
pub struct DecodingOptions {
    /// Transcribe or translate (multilingual models).
    pub task: Task,
    /// The language's code (multilingual models; `en` when unset).
    pub language: Option<String>,
    /// 0: greedy; above: sampled from the softmax at this temperature.
    pub temperature: f64,
    /// Most tokens to sample (default: half the decoder's context, 224).
    pub sample_len: Option<usize>,
    /// Text only: `<|notimestamps|>` opens the answer.
    pub without_timestamps: bool,
    /// Latest first timestamp, in seconds (1.0).
    pub max_initial_timestamp: Option<f64>,
    /// Suppress a blank or `<|endoftext|>` as the first token.
    pub suppress_blank: bool,
    /// Tokens never sampled.
    pub suppress_tokens: Suppress,
    /// Text tokens of what came before (after `<|startofprev|>`).
    pub prompt: Vec<u32>,
    /// Text tokens the answer must start with.
    pub prefix: Vec<u32>,
    /// Seed of the sampler (temperature above 0).
    pub seed: u64,
    /// Beams of a beam search (at temperature 0); `None`: greedy.
    pub beam_size: Option<usize>,
    /// Beam search's patience: it ends once `beam_size * patience` sequences have
    /// finished (1.0).
    pub patience: f64,
    /// openai-whisper's length penalty in ranking beams: `None` divides a sequence's log
    /// probability by its length, `Some(a)` by `((5 + length) / 6)^a`.
    pub length_penalty: Option<f64>,
}

impl Default for DecodingOptions {
    fn default() -> Self {
        DecodingOptions {
            task: Task::Transcribe,
            language: None,
            temperature: 0.0,
            sample_len: None,
            without_timestamps: false,
            max_initial_timestamp: Some(1.0),
            suppress_blank: true,
            suppress_tokens: Suppress::NonSpeech,
            prompt: Vec::new(),
            prefix: Vec::new(),
            seed: 0,
            beam_size: None,
            patience: 1.0,
            length_penalty: None,
        }
    }
}

/// One window's result (openai-whisper's `DecodingResult`).
#[derive(Debug, Clone, PartialEq)]
pub struct DecodingResult {
    /// The sampled tokens up to `<|endoftext|>` (timestamps included).
    pub tokens: Vec<u32>,
    /// Their text, trimmed.
    pub text: String,
    /// Sum of the sampled tokens' log probabilities (under the filters), over the tokens
    /// plus one.
    pub avg_logprob: f64,
    /// Probability of the no-speech token at `<|startoftranscript|>`.
    pub no_speech_prob: f64,
    /// The temperature it was sampled at.
    pub temperature: f64,
    /// The text's length over its zlib-compressed length.
    pub compression_ratio: f64,
}

/// The text's UTF-8 length over the length of its zlib compression (level 6, as Python's
/// `zlib.compress`): above 2.4, openai-whisper takes a window's text as repetitive.
pub fn compression_ratio(text: &str) -> f64 {
    use std::io::Write;
    let bytes = text.as_bytes();
    if bytes.is_empty() {
        return 0.0;
    }
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::new(6));
    z.write_all(bytes).expect("writing to memory");
    let compressed = z.finish().expect("writing to memory");
    bytes.len() as f64 / compressed.len() as f64
}

/// Decodes one window whose encoder output is `audio` (`[1, frames, d]`): greedily or
/// sampled at `options.temperature`, or by beam search when `options.beam_size` is set
/// (temperature 0).
///
/// # Errors
/// [`Error::Input`] for a language the tokenizer lacks or a prompt and prefix longer than
/// the decoder's context.
pub fn decode(
    model: &WhisperModel,
    tokenizer: &WhisperTokenizer,
    audio: Tensor<3>,
    options: &DecodingOptions,
) -> Result<DecodingResult> {
    let task = DecodingTask::new(model, tokenizer, options)?;
    match options.beam_size {
        Some(beams) if options.temperature == 0.0 && beams > 1 => {
            crate::beam::beam_search(&task, audio, beams, options.patience)
        }
        _ => task.sample(audio),
    }
}

/// Decodes several windows at once, greedily or sampled (each row at its own options'
/// temperature and seed), one decoder pass per step for all rows: `audio` is
/// `[rows, frames, d]`, `options[r]` row `r`'s options. Rows must open with as many
/// tokens (the same prompt length); a finished row is fed `<|endoftext|>` until the last
/// one ends, as openai-whisper's batched `DecodingTask` does. Each row's result is what
/// [`decode`] gives it alone (up to float rounding in the batched products).
///
/// # Errors
/// [`Error::Input`] for a number of options other than the rows, opening tokens of
/// different lengths, beam search, or as [`decode`].
pub fn decode_batch(
    model: &WhisperModel,
    tokenizer: &WhisperTokenizer,
    audio: Tensor<3>,
    options: &[DecodingOptions],
) -> Result<Vec<DecodingResult>> {
    let rows = audio.dims()[0];
    if options.len() != rows || options.iter().any(|o| o.beam_size.is_some_and(|b| b > 1)) {
        return Err(Error::Input {
            reason: format!(
                "{} options for {rows} rows (one each, none with beams)",
                options.len()
            ),
        });
    }
    let tasks = options
        .iter()
        .map(|o| DecodingTask::new(model, tokenizer, o))
        .collect::<Result<Vec<_>>>()?;
    let Some(first) = tasks.first() else {
        return Ok(Vec::new());
    };
    if tasks.iter().any(|t| t.initial.len() != first.initial.len()) {
        return Err(Error::Input {
            reason: "rows decoded together must open with as many tokens".into(),
        });
    }
    let eot = tokenizer.eot;
    let sample_len = tasks.iter().map(|t| t.sample_len).max().unwrap_or(0);
    let mut rngs: Vec<_> = options
        .iter()
        .map(|o| rand_chacha::ChaCha8Rng::seed_from_u64(o.seed))
        .collect();
    let mut cache = DecoderCache::default();
    let mut tokens: Vec<Vec<u32>> = tasks.iter().map(|t| t.initial.clone()).collect();
    let mut done = vec![false; rows];
    let (mut sum_logprob, mut no_speech) = (vec![0f64; rows], vec![0f64; rows]);
    let mut fed = 0;
    for step in 0..sample_len {
        let new: Vec<Vec<u32>> = tokens.iter().map(|t| t[fed..].to_vec()).collect();
        let logits = model
            .decoder
            .forward_cached(&new, audio.clone(), &mut cache)?;
        if step == 0 {
            for (r, p) in no_speech.iter_mut().enumerate() {
                *p = first.no_speech_prob_of(&logits, r)?;
            }
        }
        fed = tokens[0].len();
        let last = first.last_rows(logits)?;
        for (r, mut row) in last.into_iter().enumerate() {
            if done[r] {
                tokens[r].push(eot);
                continue;
            }
            let task = &tasks[r];
            if step >= task.sample_len {
                done[r] = true;
                tokens[r].push(eot);
                continue;
            }
            task.filter(&mut row, &tokens[r]);
            let logprobs = log_softmax(&row);
            let next = if task.options.temperature == 0.0 {
                argmax(&row)
            } else {
                sample(&row, task.options.temperature, &mut rngs[r])
            };
            sum_logprob[r] += logprobs[next];
            tokens[r].push(next as u32);
            done[r] = next as u32 == eot;
        }
        if done.iter().all(|&d| d) || tokens[0].len() > first.n_ctx {
            break;
        }
    }
    tasks
        .iter()
        .enumerate()
        .map(|(r, t)| t.result(&tokens[r], sum_logprob[r], no_speech[r]))
        .collect()
}

/// What one window's decoding needs: the opening tokens, the filters, the model.
pub(crate) struct DecodingTask<'a> {
    pub(crate) model: &'a WhisperModel,
    pub(crate) tokenizer: &'a WhisperTokenizer,
    pub(crate) options: &'a DecodingOptions,
    /// The opening tokens.
    pub(crate) initial: Vec<u32>,
    pub(crate) sample_begin: usize,
    pub(crate) sot_index: usize,
    pub(crate) sample_len: usize,
    pub(crate) n_ctx: usize,
    vocab: usize,
    suppress: Vec<u32>,
    blank: Vec<u32>,
    max_initial: Option<usize>,
}

impl<'a> DecodingTask<'a> {
    fn new(
        model: &'a WhisperModel,
        tokenizer: &'a WhisperTokenizer,
        options: &'a DecodingOptions,
    ) -> Result<Self> {
        let n_ctx = model.config().max_target_positions;
        let sample_len = options.sample_len.unwrap_or(n_ctx / 2);
        let mut tokens = tokenizer.sot_sequence(options.language.as_deref(), options.task)?;
        if options.without_timestamps {
            tokens.push(tokenizer.no_timestamps);
        }
        if !options.prefix.is_empty() {
            let keep = (n_ctx / 2).saturating_sub(sample_len);
            let p = &options.prefix;
            tokens.extend_from_slice(&p[p.len().saturating_sub(keep)..]);
        }
        if !options.prompt.is_empty() {
            let p = &options.prompt;
            let mut with = vec![tokenizer.sot_prev];
            with.extend_from_slice(&p[p.len().saturating_sub(n_ctx / 2 - 1)..]);
            with.extend(tokens);
            tokens = with;
        }
        if tokens.len() >= n_ctx {
            return Err(Error::Input {
                reason: format!("{} opening tokens for a context of {n_ctx}", tokens.len()),
            });
        }
        let sot_index = tokens
            .iter()
            .position(|&t| t == tokenizer.sot)
            .expect("the opening tokens hold <|startoftranscript|>");
        let suppress = match &options.suppress_tokens {
            Suppress::NonSpeech => tokenizer.non_speech_suppression(),
            Suppress::Nothing => Vec::new(),
            Suppress::Ids(ids) => ids.clone(),
        };
        let blank = if options.suppress_blank {
            let mut b = tokenizer.encode(" ")?;
            b.push(tokenizer.eot);
            b
        } else {
            Vec::new()
        };
        Ok(DecodingTask {
            model,
            tokenizer,
            options,
            sample_begin: tokens.len(),
            initial: tokens,
            sot_index,
            sample_len,
            n_ctx,
            vocab: model.config().vocab_size,
            suppress,
            blank,
            max_initial: options
                .max_initial_timestamp
                .map(|s| (s / 0.02).round() as usize),
        })
    }

    /// Logits `[rows, t, vocab]` -> the last position's row of each, as `f32`.
    pub(crate) fn last_rows(&self, logits: Tensor<3>) -> Result<Vec<Vec<f32>>> {
        let [b, t, v] = logits.dims();
        let flat = logits
            .slice([0..b, t - 1..t, 0..v])
            .into_data()
            .try_to_vec::<f32>()
            .map_err(|e| Error::Input {
                reason: format!("logits: {e:?}"),
            })?;
        Ok(flat
            .chunks(v)
            .map(|r| r[..self.vocab.min(v)].to_vec())
            .collect())
    }

    /// The no-speech probability from the first step's logits (row 0).
    pub(crate) fn no_speech_prob(&self, logits: &Tensor<3>) -> Result<f64> {
        self.no_speech_prob_of(logits, 0)
    }

    /// The no-speech probability of row `r` from the first step's logits.
    fn no_speech_prob_of(&self, logits: &Tensor<3>, r: usize) -> Result<f64> {
        let [_, _, v] = logits.dims();
        let i = self.sot_index;
        let row = logits
            .clone()
            .slice([r..r + 1, i..i + 1, 0..v])
            .into_data()
            .try_to_vec::<f32>()
            .map_err(|e| Error::Input {
                reason: format!("logits: {e:?}"),
            })?;
        Ok(softmax_at(&row, self.tokenizer.no_speech as usize))
    }

    /// openai-whisper's logit filters, in its order, on the row that follows `tokens`.
    pub(crate) fn filter(&self, row: &mut [f32], tokens: &[u32]) {
        if tokens.len() == self.sample_begin {
            for &b in &self.blank {
                row[b as usize] = f32::NEG_INFINITY;
            }
        }
        for &s in &self.suppress {
            if let Some(x) = row.get_mut(s as usize) {
                *x = f32::NEG_INFINITY;
            }
        }
        if !self.options.without_timestamps {
            apply_timestamp_rules(
                row,
                &tokens[self.sample_begin..],
                self.tokenizer,
                self.max_initial,
            );
        }
    }

    /// The result for `tokens` (opening tokens included) scored `sum_logprob`.
    pub(crate) fn result(
        &self,
        tokens: &[u32],
        sum_logprob: f64,
        no_speech_prob: f64,
    ) -> Result<DecodingResult> {
        let eot = self.tokenizer.eot;
        let end = tokens[self.sample_begin..]
            .iter()
            .position(|&t| t == eot)
            .map_or(tokens.len(), |p| self.sample_begin + p);
        let out = tokens[self.sample_begin..end].to_vec();
        let text = self.tokenizer.decode(&out)?.trim().to_owned();
        Ok(DecodingResult {
            avg_logprob: sum_logprob / (out.len() + 1) as f64,
            compression_ratio: compression_ratio(&text),
            tokens: out,
            text,
            no_speech_prob,
            temperature: self.options.temperature,
        })
    }

    /// Greedy (temperature 0) or sampled decoding of one sequence.
    fn sample(&self, audio: Tensor<3>) -> Result<DecodingResult> {
        let eot = self.tokenizer.eot;
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(self.options.seed);
        let mut cache = DecoderCache::default();
        let mut tokens = self.initial.clone();
        let (mut fed, mut sum_logprob, mut no_speech_prob) = (0, 0f64, 0f64);
        for step in 0..self.sample_len {
            let new = vec![tokens[fed..].to_vec()];
            let logits = self
                .model
                .decoder
                .forward_cached(&new, audio.clone(), &mut cache)?;
            if step == 0 {
                no_speech_prob = self.no_speech_prob(&logits)?;
            }
            fed = tokens.len();
            let mut row = self.last_rows(logits)?.remove(0);
            self.filter(&mut row, &tokens);
            let logprobs = log_softmax(&row);
            let next = if self.options.temperature == 0.0 {
                argmax(&row)
            } else {
                sample(&row, self.options.temperature, &mut rng)
            };
            sum_logprob += logprobs[next];
            tokens.push(next as u32);
            if next as u32 == eot || tokens.len() > self.n_ctx {
                break;
            }
        }
        self.result(&tokens, sum_logprob, no_speech_prob)
    }
}

/// openai-whisper's `ApplyTimestampRules` on one row of logits, `sampled` being the
/// tokens after the opening ones.
fn apply_timestamp_rules(
    row: &mut [f32],
    sampled: &[u32],
    tokenizer: &WhisperTokenizer,
    max_initial: Option<usize>,
) {
    let tb = tokenizer.timestamp_begin as usize;
    let eot = tokenizer.eot as usize;
    row[tokenizer.no_timestamps as usize] = f32::NEG_INFINITY;
    let is_ts = |t: u32| t as usize >= tb;
    let last_was_ts = sampled.last().is_some_and(|&t| is_ts(t));
    let penultimate_was_ts = sampled.len() < 2 || is_ts(sampled[sampled.len() - 2]);
    if last_was_ts {
        if penultimate_was_ts {
            row[tb..].fill(f32::NEG_INFINITY);
        } else {
            row[..eot].fill(f32::NEG_INFINITY);
        }
    }
    if let Some(&last) = sampled.iter().rev().find(|&&t| is_ts(t)) {
        let last = last as usize;
        let upto = if last_was_ts && !penultimate_was_ts {
            last
        } else {
            last + 1
        };
        let upto = upto.min(row.len());
        row[tb..upto].fill(f32::NEG_INFINITY);
    }
    if sampled.is_empty() {
        row[..tb].fill(f32::NEG_INFINITY);
        if let Some(m) = max_initial {
            let from = (tb + m + 1).min(row.len());
            row[from..].fill(f32::NEG_INFINITY);
        }
    }
    let logprobs = log_softmax(row);
    let ts = log_sum_exp(&logprobs[tb..]);
    let text = logprobs[..tb]
        .iter()
        .copied()
        .fold(f64::NEG_INFINITY, f64::max);
    if ts > text {
        row[..tb].fill(f32::NEG_INFINITY);
    }
}

fn log_sum_exp(x: &[f64]) -> f64 {
    let m = x.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if m == f64::NEG_INFINITY {
        return m;
    }
    m + x.iter().map(|v| (v - m).exp()).sum::<f64>().ln()
}

pub(crate) fn log_softmax(row: &[f32]) -> Vec<f64> {
    let x: Vec<f64> = row.iter().map(|&v| f64::from(v)).collect();
    let lse = log_sum_exp(&x);
    x.into_iter().map(|v| v - lse).collect()
}

fn softmax_at(row: &[f32], i: usize) -> f64 {
    log_softmax(row).get(i).map_or(0.0, |l| l.exp())
}

fn argmax(row: &[f32]) -> usize {
    (0..row.len()).fold(0, |b, i| if row[i] > row[b] { i } else { b })
}

fn sample(row: &[f32], temperature: f64, rng: &mut impl Rng) -> usize {
    let scaled: Vec<f32> = row
        .iter()
        .map(|&v| (f64::from(v) / temperature) as f32)
        .collect();
    let p: Vec<f64> = log_softmax(&scaled).into_iter().map(f64::exp).collect();
    let mut u: f64 = rng.random();
    for (i, &pi) in p.iter().enumerate() {
        if u < pi {
            return i;
        }
        u -= pi;
    }
    argmax(row)
}

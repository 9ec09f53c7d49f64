//! Generation with a KV cache: greedy or sampled (temperature, top-k, top-p), repetition
//! penalty, stop tokens and strings, tokens streamed as they come.

use burn::tensor::{Device, Tensor};
use rand::{Rng, SeedableRng};
use whet_core::burn;

use crate::error::{Error, Result};
use crate::model::{KvCache, LlamaForCausalLM};
use crate::tokenizer::Tokenizer;

/// How to choose each next token.
#[derive(Debug, Clone, PartialEq)]
pub struct GenerationConfig {
    /// Most tokens to generate.
    pub max_new_tokens: usize,
    /// Softmax temperature; 0: greedy (the most likely token, llama.cpp's `temp = 0`).
    pub temperature: f32,
    /// Sample among the `k` most likely only (0: all).
    pub top_k: usize,
    /// Sample among the most likely tokens whose probabilities add up to `p` (1: all).
    pub top_p: f32,
    /// Divide positive logits (multiply negative ones) of tokens already in the sequence
    /// by this (1: off; llama.cpp's and Hugging Face's rule).
    pub repetition_penalty: f32,
    /// Stop after any of these tokens (the end-of-sequence token is added by
    /// [`generate`] when the tokenizer has one).
    pub stop_tokens: Vec<u32>,
    /// Stop once the text ends with any of these (the stop string is kept in the text).
    pub stop_strings: Vec<String>,
    /// Seed of the sampler.
    pub seed: u64,
}

impl Default for GenerationConfig {
    fn default() -> Self {
        GenerationConfig {
            max_new_tokens: 256,
            temperature: 0.0,
            top_k: 0,
            top_p: 1.0,
            repetition_penalty: 1.0,
            stop_tokens: Vec::new(),
            stop_strings: Vec::new(),
            seed: 0,
        }
    }
}

/// Why generation stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StopReason {
    /// `max_new_tokens` reached.
    Length,
    /// A stop token was generated.
    Token(u32),
    /// The text ended with this stop string.
    String(String),
}

/// What [`generate`] returns.
#[derive(Debug, Clone, PartialEq)]
pub struct Generation {
    /// The new tokens (the stop token included).
    pub tokens: Vec<u32>,
    /// Their text, control tokens left out.
    pub text: String,
    /// Why it stopped.
    pub stop: StopReason,
    /// Seconds spent on the prompt (its forward pass, to the first token's logits).
    pub prompt_seconds: f64,
    /// Seconds spent generating after that.
    pub decode_seconds: f64,
}

/// Picks the next token from `logits` of the vocabulary, given the sequence so far.
pub fn choose(
    logits: &mut [f32],
    seen: &[u32],
    config: &GenerationConfig,
    rng: &mut impl Rng,
) -> u32 {
    if config.repetition_penalty != 1.0 {
        let mut done = std::collections::HashSet::new();
        for &t in seen {
            if done.insert(t)
                && let Some(l) = logits.get_mut(t as usize)
            {
                *l = if *l > 0.0 {
                    *l / config.repetition_penalty
                } else {
                    *l * config.repetition_penalty
                };
            }
        }
    }
    let argmax = || {
        let mut best = 0;
        for (i, &l) in logits.iter().enumerate() {
            if l > logits[best] {
                best = i;
            }
        }
        best as u32
    };
    if config.temperature <= 0.0 {
        return argmax();
    }
    let mut cand: Vec<(u32, f32)> = logits
        .iter()
        .enumerate()
        .map(|(i, &l)| (i as u32, l / config.temperature))
        .collect();
    cand.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    if config.top_k > 0 {
        cand.truncate(config.top_k);
    }
    let max = cand[0].1;
    let mut probs: Vec<f32> = cand.iter().map(|c| (c.1 - max).exp()).collect();
    let sum: f32 = probs.iter().sum();
    probs.iter_mut().for_each(|p| *p /= sum);
    if config.top_p < 1.0 {
        let mut acc = 0.0;
        let mut keep = probs.len();
        for (i, p) in probs.iter().enumerate() {
            acc += p;
            if acc >= config.top_p {
                keep = i + 1;
                break;
            }
        }
        probs.truncate(keep);
        let s: f32 = probs.iter().sum();
        probs.iter_mut().for_each(|p| *p /= s);
    }
    let mut u: f32 = rng.random();
    for (i, p) in probs.iter().enumerate() {
        if u < *p {
            return cand[i].0;
        }
        u -= p;
    }
    cand[probs.len() - 1].0
}

fn last_logits(t: Tensor<2>) -> Result<Vec<f32>> {
    t.into_data()
        .try_into_vec::<f32>()
        .map_err(|e| Error::Input {
            reason: format!("cannot read logits back: {e:?}"),
        })
}

/// Continues `prompt` (token ids) with `model`, calling `on_token` with each new token
/// and its text as it comes.
///
/// # Errors
/// As [`LlamaForCausalLM::forward_last`]; [`Error::Input`] for an empty prompt.
pub fn generate(
    model: &LlamaForCausalLM,
    tokenizer: &Tokenizer,
    prompt: &[u32],
    config: &GenerationConfig,
    device: &Device,
    mut on_token: impl FnMut(u32, &str),
) -> Result<Generation> {
    if prompt.is_empty() {
        return Err(Error::Input {
            reason: "an empty prompt".into(),
        });
    }
    let mut stops = config.stop_tokens.clone();
    stops.extend(tokenizer.eos());
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(config.seed);
    let mut cache = KvCache::new();
    let mut seq = prompt.to_vec();
    let started = std::time::Instant::now();
    let mut logits =
        last_logits(model.forward_last(&[prompt.to_vec()], Some(&mut cache), device)?)?;
    let prompt_seconds = started.elapsed().as_secs_f64();
    let decoding = std::time::Instant::now();
    let mut tokens = Vec::new();
    let mut text = String::new();
    loop {
        let next = choose(&mut logits, &seq, config, &mut rng);
        tokens.push(next);
        seq.push(next);
        let piece = tokenizer.decode(&tokens, true)?;
        let new_text = piece
            .strip_prefix(text.as_str())
            .unwrap_or(&piece)
            .to_string();
        text = piece;
        on_token(next, &new_text);
        let stop = if stops.contains(&next) {
            Some(StopReason::Token(next))
        } else if let Some(s) = config
            .stop_strings
            .iter()
            .find(|s| text.ends_with(s.as_str()))
        {
            Some(StopReason::String(s.clone()))
        } else if tokens.len() >= config.max_new_tokens {
            Some(StopReason::Length)
        } else {
            None
        };
        if let Some(stop) = stop {
            return Ok(Generation {
                tokens,
                text,
                stop,
                prompt_seconds,
                decode_seconds: decoding.elapsed().as_secs_f64(),
            });
        }
        logits = last_logits(model.forward_last(&[vec![next]], Some(&mut cache), device)?)?;
    }
}

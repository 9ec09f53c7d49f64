//! Generation with a KV cache: greedy or sampled (temperature, top-k, top-p), repetition
//! penalty, stop tokens and strings, tokens streamed as they come, one prompt or a batch,
//! free or held to a grammar ([`Constraint`]).

use burn::tensor::{Device, Tensor};
use rand::{Rng, SeedableRng};
use whet_core::burn;

use crate::constrain::Constraint;
use crate::error::{Error, Result};
use crate::kv_cache::KvCache;
use crate::model::LlamaForCausalLM;
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
    /// [`generate`] when the tokenizer has one, unless `ignore_eos`).
    pub stop_tokens: Vec<u32>,
    /// Go on past the end-of-sequence token (llama.cpp's `--ignore-eos`, vLLM's
    /// `ignore_eos`): for benchmarks and for comparing long continuations.
    pub ignore_eos: bool,
    /// Stop once the text ends with any of these (the stop string is kept in the text).
    pub stop_strings: Vec<String>,
    /// Seed of the sampler (row `i` of a batch samples with `seed + i`).
    pub seed: u64,
    /// With a [`Constraint`], its last this-many tokens of `max_new_tokens` prefer
    /// tokens that close what is open (strings, arrays, objects), so that a JSON
    /// document ends complete rather than cut short ([`Constraint::apply_closing`]).
    /// 0: off.
    pub closing_reserve: usize,
    /// With a [`Constraint`] and a single prompt: tokens the grammar forces (the one
    /// continuation it allows, such as a JSON key) are taken without the model choosing
    /// them, written as the tokenizer would write that text, and fed to the model in one
    /// forward pass with the token before them (llguidance's fast-forward tokens); their
    /// log-probabilities are 0. Fewer, larger passes: faster on a CPU. Off by default,
    /// so that a batch generates what each of its prompts alone does.
    pub fast_forward: bool,
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
            ignore_eos: false,
            stop_strings: Vec::new(),
            seed: 0,
            closing_reserve: 32,
            fast_forward: false,
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
    /// The constraint's grammar is complete: nothing but end-of-sequence could follow.
    Grammar,
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
    /// The natural log of each new token's probability under the model's distribution
    /// at temperature 1, over the tokens the constraint allowed (renormalised among
    /// them when there is a constraint): what a confidence is made of.
    pub logprobs: Vec<f32>,
    /// Seconds spent on the prompt (its forward pass, to the first token's logits).
    pub prompt_seconds: f64,
    /// Seconds spent generating after that, until this sequence stopped.
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

fn logits_rows(t: Tensor<2>) -> Result<Vec<Vec<f32>>> {
    let [_, vocab] = t.dims();
    let flat = t
        .into_data()
        .try_into_vec::<f32>()
        .map_err(|e| Error::Input {
            reason: format!("cannot read logits back: {e:?}"),
        })?;
    Ok(flat.chunks(vocab).map(<[f32]>::to_vec).collect())
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
    let mut out = run(
        model,
        tokenizer,
        &[prompt.to_vec()],
        config,
        vec![None],
        device,
        |_, t, s| on_token(t, s),
    )?;
    Ok(out.remove(0))
}

/// As [`generate`], every token chosen among those `constraint` allows: the text is a
/// sentence of its grammar (a JSON document valid under its schema, say) unless
/// `max_new_tokens` cut it short ([`StopReason::Length`]). The mask costs are in
/// [`Constraint::stats`].
///
/// ```no_run
/// use whet_vlm_lora::{generate_constrained, ChatMessage, GenerationConfig, Grammars, LlamaForCausalLM, Precision, Tokenizer};
/// let device = whet_core::DeviceSpec::from_env()?.device()?;
/// let file = whet_core::gguf::Gguf::open("assets/smollm2-135m/SmolLM2-135M-Instruct.Q4_1.gguf")?;
/// let model = LlamaForCausalLM::from_gguf_file(&file, Precision::Packed, &device)?;
/// let tokenizer = Tokenizer::from_gguf(&file)?;
/// let grammars = Grammars::new(&tokenizer, model.config().vocab_size)?;
/// let schema = serde_json::json!({"type": "object", "properties": {"total": {"type": "number"}}, "required": ["total"]});
/// let mut constraint = grammars.json_schema(&schema)?;
/// let prompt = tokenizer.apply_chat_template(&[ChatMessage::new("user", "TOTAL 112.00. JSON:")], true)?;
/// let ids = tokenizer.encode(&prompt, true)?;
/// let out = generate_constrained(&model, &tokenizer, &ids, &GenerationConfig::default(), &mut constraint, &device, |_, _| {})?;
/// let value: serde_json::Value = serde_json::from_str(&out.text)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// As [`generate`]; [`Error::Grammar`] when the grammar cannot go on.
pub fn generate_constrained(
    model: &LlamaForCausalLM,
    tokenizer: &Tokenizer,
    prompt: &[u32],
    config: &GenerationConfig,
    constraint: &mut Constraint,
    device: &Device,
    mut on_token: impl FnMut(u32, &str),
) -> Result<Generation> {
    let mut out = run(
        model,
        tokenizer,
        &[prompt.to_vec()],
        config,
        vec![Some(constraint)],
        device,
        |_, t, s| on_token(t, s),
    )?;
    Ok(out.remove(0))
}

/// Continues several prompts at once (of any lengths: they are left-padded and masked),
/// one forward pass per step for all the rows still going; a row that stops leaves the
/// batch. `constraints` is empty (none) or holds one [`Constraint`] per prompt.
/// `on_token(row, token, text)` streams every row's tokens.
///
/// Row `i` samples with seed `config.seed + i`; its results equal those of [`generate`]
/// up to the rounding of batched arithmetic.
///
/// # Errors
/// As [`generate`]; [`Error::Input`] when `constraints` is neither empty nor one per prompt.
pub fn generate_batch(
    model: &LlamaForCausalLM,
    tokenizer: &Tokenizer,
    prompts: &[Vec<u32>],
    config: &GenerationConfig,
    constraints: &mut [Constraint],
    device: &Device,
    on_token: impl FnMut(usize, u32, &str),
) -> Result<Vec<Generation>> {
    let constraints: Vec<Option<&mut Constraint>> = if constraints.is_empty() {
        prompts.iter().map(|_| None).collect()
    } else if constraints.len() == prompts.len() {
        constraints.iter_mut().map(Some).collect()
    } else {
        return Err(Error::Input {
            reason: format!(
                "{} constraints for {} prompts",
                constraints.len(),
                prompts.len()
            ),
        });
    };
    run(
        model,
        tokenizer,
        prompts,
        config,
        constraints,
        device,
        on_token,
    )
}

/// `ln softmax(logits)[token]`, masked (`-inf`) logits left out.
fn log_prob(logits: &[f32], token: u32) -> f32 {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    if !max.is_finite() {
        return f32::NEG_INFINITY;
    }
    let sum: f64 = logits.iter().map(|&l| f64::from(l - max).exp()).sum();
    logits.get(token as usize).map_or(f32::NEG_INFINITY, |&l| {
        ((f64::from(l - max)) - sum.ln()) as f32
    })
}

/// Runs `f` on one of rayon's threads, which then works on the products it splits
/// (`PackedMatrix::matmul`) instead of waiting for them: called from another thread, the
/// caller would wait while the pool's threads, idle between products, spin on the cores
/// it needs.
fn on_pool<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    let mut out = None;
    rayon::scope(|_| out = Some(f()));
    out.expect("the scope ran")
}

/// One row of a batch being generated.
struct Row<'c> {
    rng: rand_chacha::ChaCha8Rng,
    seq: Vec<u32>,
    tokens: Vec<u32>,
    logprobs: Vec<f32>,
    text: String,
    constraint: Option<&'c mut Constraint>,
    done: Option<(StopReason, f64)>,
}

fn run(
    model: &LlamaForCausalLM,
    tokenizer: &Tokenizer,
    prompts: &[Vec<u32>],
    config: &GenerationConfig,
    constraints: Vec<Option<&mut Constraint>>,
    device: &Device,
    mut on_token: impl FnMut(usize, u32, &str),
) -> Result<Vec<Generation>> {
    if prompts.is_empty() || prompts.iter().any(Vec::is_empty) {
        return Err(Error::Input {
            reason: "an empty prompt".into(),
        });
    }
    let mut stops = config.stop_tokens.clone();
    if !config.ignore_eos {
        stops.extend(tokenizer.eos());
    }
    let mut rows: Vec<Row<'_>> = prompts
        .iter()
        .zip(constraints)
        .enumerate()
        .map(|(i, (p, constraint))| Row {
            rng: rand_chacha::ChaCha8Rng::seed_from_u64(config.seed.wrapping_add(i as u64)),
            seq: p.clone(),
            tokens: Vec::new(),
            logprobs: Vec::new(),
            text: String::new(),
            constraint,
            done: None,
        })
        .collect();
    let fast_forward = config.fast_forward && rows.len() == 1;
    // How much of each row's sequence the cache holds.
    let mut fed: Vec<usize> = rows.iter().map(|r| r.seq.len()).collect();
    let mut cache = KvCache::new();
    let started = std::time::Instant::now();
    let mut logits = logits_rows(on_pool(|| {
        model.forward_last(prompts, Some(&mut cache), device)
    })?)?;
    let prompt_seconds = started.elapsed().as_secs_f64();
    let decoding = std::time::Instant::now();
    // Cache row -> batch row, for the rows still going.
    let mut active: Vec<usize> = (0..rows.len()).collect();
    while !active.is_empty() {
        let mut still = Vec::with_capacity(active.len());
        for (slot, &r) in active.iter().enumerate() {
            let row = &mut rows[r];
            let row_logits = &mut logits[slot];
            if let Some(c) = row.constraint.as_deref_mut() {
                if row.tokens.len() + config.closing_reserve >= config.max_new_tokens {
                    c.apply_closing(row_logits, &stops)?;
                } else {
                    c.apply(row_logits)?;
                }
            }
            let masked = row_logits.clone();
            let next = choose(row_logits, &row.seq, config, &mut row.rng);
            let logprob = log_prob(&masked, next);
            if let Some(c) = row.constraint.as_deref_mut()
                && !stops.contains(&next)
            {
                c.consume(next)?;
            }
            let mut taken = vec![(next, logprob)];
            if fast_forward
                && !stops.contains(&next)
                && let Some(c) = row.constraint.as_deref_mut()
            {
                let room = config.max_new_tokens.saturating_sub(row.tokens.len() + 1);
                taken.extend(c.fast_forward(room)?.into_iter().map(|t| (t, 0.0)));
            }
            for (token, logprob) in taken {
                row.tokens.push(token);
                row.seq.push(token);
                row.logprobs.push(logprob);
                let piece = tokenizer.decode(&row.tokens, true)?;
                let new_text = piece
                    .strip_prefix(row.text.as_str())
                    .unwrap_or(&piece)
                    .to_string();
                row.text = piece;
                on_token(r, token, &new_text);
            }
            let stop = if stops.contains(&next) {
                Some(StopReason::Token(next))
            } else if let Some(s) = config
                .stop_strings
                .iter()
                .find(|s| row.text.ends_with(s.as_str()))
            {
                Some(StopReason::String(s.clone()))
            } else if row
                .constraint
                .as_deref()
                .is_some_and(Constraint::is_finished)
            {
                Some(StopReason::Grammar)
            } else if row.tokens.len() >= config.max_new_tokens {
                Some(StopReason::Length)
            } else {
                None
            };
            match stop {
                Some(stop) => row.done = Some((stop, decoding.elapsed().as_secs_f64())),
                None => still.push(slot),
            }
        }
        if still.is_empty() {
            break;
        }
        if still.len() < active.len() {
            cache.keep_rows(&still)?;
        }
        active = still.iter().map(|&slot| active[slot]).collect();
        // Every token not yet fed: the one chosen, and any forced after it.
        let next: Vec<Vec<u32>> = active
            .iter()
            .map(|&r| rows[r].seq[fed[r]..].to_vec())
            .collect();
        for &r in &active {
            fed[r] = rows[r].seq.len();
        }
        logits = logits_rows(on_pool(|| {
            model.forward_last(&next, Some(&mut cache), device)
        })?)?;
    }
    Ok(rows
        .into_iter()
        .map(|row| {
            let (stop, decode_seconds) = row.done.expect("every row stopped");
            Generation {
                tokens: row.tokens,
                logprobs: row.logprobs,
                text: row.text,
                stop,
                prompt_seconds,
                decode_seconds,
            }
        })
        .collect())
}

//! Supervised fine-tuning with LoRA through whet-core's Trainer, scoring only the
//! completion (TRL's `completion_only_loss`).
//!
//! A conversation becomes an [`SftExample`] as TRL builds one for prompt-completion data:
//! the prompt (every message but the last, rendered by the chat template with the
//! assistant's turn opened) and the whole conversation are tokenised; the tokens after
//! the prompt are the completion; labels are the input ids with the prompt's set to
//! [`IGNORE_INDEX`] (-100). The loss is the cross-entropy of the completion tokens,
//! summed and divided by their count over the whole optimiser step (accumulated
//! micro-batches weigh by tokens, as transformers' `num_items_in_batch` does). Only the
//! positions that predict a completion token go through the output head: the prompt's
//! logits are never made.

use std::sync::Arc;

use burn::tensor::activation::log_softmax;
use burn::tensor::{Device, Int, Tensor, TensorData};
use serde::{Deserialize, Serialize};
use whet_core::burn;
use whet_core::lora::{self, LoraConfig, TargetModules};
use whet_core::run::RunDir;
use whet_core::train::{
    CheckpointWeights, OptimizerConfig, ScheduleConfig, StepOutput, TrainConfig, TrainOutcome,
    Trainer,
};

use crate::error::{Error, Result};
use crate::model::LlamaForCausalLM;
use crate::tokenizer::{ChatMessage, Tokenizer};

/// The label of a token the loss ignores (PyTorch's `ignore_index`).
pub const IGNORE_INDEX: i64 = -100;

/// One tokenised conversation: input ids and labels of the same length, the labels
/// [`IGNORE_INDEX`] on the prompt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SftExample {
    /// Token ids of the whole conversation.
    pub input_ids: Vec<u32>,
    /// `input_ids` with the prompt's tokens set to -100 (not shifted: the token at `t`
    /// is predicted from the positions before it).
    pub labels: Vec<i64>,
}

impl SftExample {
    /// Tokenises `messages` (the last one is the completion) as TRL's `SFTTrainer` (1.16)
    /// does for conversational prompt-completion data: the completion starts where the
    /// tokens of the prompt (rendered with the assistant's turn opened) and of the whole
    /// conversation part (normally the prompt's end; logged when not), and the first
    /// `max_length` tokens are kept (TRL's `truncation_mode="keep_start"`).
    ///
    /// # Errors
    /// [`Error::Input`] for fewer than two messages; as the tokenizer.
    pub fn from_messages(
        tokenizer: &Tokenizer,
        messages: &[ChatMessage],
        max_length: Option<usize>,
    ) -> Result<Self> {
        if messages.len() < 2 {
            return Err(Error::Input {
                reason: "a conversation needs a prompt and a completion".into(),
            });
        }
        let prompt = tokenizer.apply_chat_template(&messages[..messages.len() - 1], true)?;
        let whole = tokenizer.apply_chat_template(messages, false)?;
        let prompt_ids = tokenizer.encode(&prompt, true)?;
        let mut input_ids = tokenizer.encode(&whole, true)?;
        let prompt_len = prompt_ids
            .iter()
            .zip(&input_ids)
            .take_while(|(a, b)| a == b)
            .count();
        if prompt_len < prompt_ids.len() {
            tracing::warn!(
                prompt_tokens = prompt_ids.len(),
                shared = prompt_len,
                "the prompt's tokens are not a prefix of the conversation's: the completion starts where they part"
            );
        }
        let mut labels: Vec<i64> = input_ids.iter().map(|&t| i64::from(t)).collect();
        labels[..prompt_len].fill(IGNORE_INDEX);
        if let Some(max) = max_length {
            input_ids.truncate(max);
            labels.truncate(max);
        }
        Ok(SftExample { input_ids, labels })
    }

    /// How many tokens the loss scores (labels other than -100 past the first position).
    pub fn scored_tokens(&self) -> usize {
        self.labels
            .iter()
            .skip(1)
            .filter(|&&l| l != IGNORE_INDEX)
            .count()
    }
}

/// A micro-batch: rows left-padded by the model, and which hidden rows predict which
/// token.
#[derive(Debug, Clone)]
pub struct SftBatch {
    /// Each row's ids (unpadded).
    pub ids: Vec<Vec<u32>>,
    /// Indices into the `[batch * seq]` rows of the padded hidden states.
    pub positions: Vec<i64>,
    /// The token each of those rows predicts.
    pub targets: Vec<i64>,
    /// Padding-free: `ids` is one row of sequences of these lengths back to back
    /// ([`SftBatch::padding_free`]); `None`: one row per example, left-padded.
    pub segments: Option<Vec<usize>>,
}

impl SftBatch {
    /// The batch of `examples` (left padding to the longest, as the model pads).
    pub fn new(examples: &[impl AsRef<SftExample>]) -> Self {
        let s = examples
            .iter()
            .map(|e| e.as_ref().input_ids.len())
            .max()
            .unwrap_or(0);
        let (mut positions, mut targets) = (Vec::new(), Vec::new());
        for (r, e) in examples.iter().enumerate() {
            let e = e.as_ref();
            let pad = s - e.input_ids.len();
            for t in 1..e.labels.len() {
                if e.labels[t] != IGNORE_INDEX {
                    positions.push((r * s + pad + t - 1) as i64);
                    targets.push(e.labels[t]);
                }
            }
        }
        SftBatch {
            ids: examples
                .iter()
                .map(|e| e.as_ref().input_ids.clone())
                .collect(),
            positions,
            targets,
            segments: None,
        }
    }

    /// The batch of `examples` packed into one row without padding, positions restarting
    /// and attention kept within each example (TRL's `padding_free = True`): no compute
    /// spent on padding, the same loss as [`SftBatch::new`]'s.
    pub fn padding_free(examples: &[impl AsRef<SftExample>]) -> Self {
        let (mut ids, mut positions, mut targets, mut segments) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for e in examples {
            let e = e.as_ref();
            let offset = ids.len();
            for t in 1..e.labels.len() {
                if e.labels[t] != IGNORE_INDEX {
                    positions.push((offset + t - 1) as i64);
                    targets.push(e.labels[t]);
                }
            }
            ids.extend_from_slice(&e.input_ids);
            segments.push(e.input_ids.len());
        }
        SftBatch {
            ids: vec![ids],
            positions,
            targets,
            segments: Some(segments),
        }
    }
}

impl AsRef<SftExample> for SftExample {
    fn as_ref(&self) -> &SftExample {
        self
    }
}

/// The summed cross-entropy of a batch's completion tokens and their count, `[1]`
/// each. Only the predicting positions go through the output head.
///
/// # Errors
/// As [`LlamaForCausalLM::hidden`].
pub fn completion_loss(
    model: &LlamaForCausalLM,
    batch: &SftBatch,
    device: &Device,
) -> Result<(Tensor<1>, usize)> {
    let n = batch.targets.len();
    if n == 0 {
        return Err(Error::Input {
            reason: "a batch without completion tokens".into(),
        });
    }
    let h = match &batch.segments {
        Some(lengths) => model.hidden_packed(
            batch.ids.first().map_or(&[][..], Vec::as_slice),
            lengths,
            device,
        )?,
        None => model.hidden(&batch.ids, None, device)?,
    };
    let [b, s, d] = h.dims();
    let rows = Tensor::<1, Int>::from_data(TensorData::new(batch.positions.clone(), [n]), device);
    let picked = h.reshape([b * s, d]).select(0, rows);
    let logits = model.lm_head.forward(picked);
    let targets =
        Tensor::<2, Int>::from_data(TensorData::new(batch.targets.clone(), [n, 1]), device);
    let nll = log_softmax(logits, 1).gather(1, targets).sum().neg();
    Ok((nll, n))
}

/// The seven projections of a Llama block: LoRA's targets by default.
pub const LLAMA_PROJECTIONS: [&str; 7] = [
    "q_proj",
    "k_proj",
    "v_proj",
    "o_proj",
    "gate_proj",
    "up_proj",
    "down_proj",
];

/// A LoRA SFT run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SftConfig {
    /// The adapter (rank 16, alpha 32, every attention and MLP projection by default).
    pub lora: LoraConfig,
    /// Its name in the model.
    pub adapter: String,
    /// The loop: optimiser, schedule, steps, batch, accumulation, clipping, checkpoints.
    pub train: TrainConfig,
    /// Longest example in tokens (TRL's `max_length`); longer ones are cut at the end.
    pub max_length: usize,
    /// Pack each micro-batch into one row without padding, positions restarting per
    /// example (TRL's `padding_free`; [`SftBatch::padding_free`]). Off by default.
    #[serde(default)]
    pub padding_free: bool,
}

impl SftConfig {
    /// `steps` optimiser steps of `batch_size` conversations at peak rate `lr` (AdamW,
    /// weight decay 0), 3% warm-up and cosine decay to 0 as TRL's recipes use, gradient
    /// norm clipped at 1, a checkpoint (the adapter only) every 50 steps;
    /// LoRA r 16, alpha 32 on the seven projections; `max_length` 1024.
    pub fn new(steps: usize, batch_size: usize, lr: f64) -> Self {
        let mut optimizer = OptimizerConfig::adamw(lr);
        if let OptimizerConfig::AdamW { weight_decay, .. } = &mut optimizer {
            *weight_decay = 0.0;
        }
        let mut train = TrainConfig::new(optimizer, steps, batch_size);
        train.schedule = ScheduleConfig::WarmupCosine {
            warmup_steps: (steps * 3).div_ceil(100),
            min_lr: 0.0,
        };
        train.clip_grad_norm = Some(1.0);
        train.checkpoint_every = 50.min(steps.max(1));
        train.checkpoint_weights = CheckpointWeights::Trainable;
        let targets = LLAMA_PROJECTIONS.iter().map(|s| (*s).to_owned()).collect();
        SftConfig {
            lora: LoraConfig::new(16, 32.0, TargetModules::Names(targets)),
            adapter: "sft".into(),
            train,
            max_length: 1024,
            padding_free: false,
        }
    }
}

/// Fine-tunes `model` (on an autodiff device) on `examples` with a new LoRA adapter,
/// logging to `run` and resuming from its newest checkpoint when it holds one (the
/// same base model, the same examples: the resumed run is bit-exact). Returns the
/// Trainer's outcome; the model carries the trained adapter, active.
///
/// # Errors
/// As [`finetune_with`].
pub fn finetune(
    model: LlamaForCausalLM,
    examples: Vec<SftExample>,
    config: &SftConfig,
    run: RunDir,
    device: &Device,
) -> Result<TrainOutcome<LlamaForCausalLM>> {
    let trainer = Trainer::new(config.train.clone(), device, run)?.with_user_config(config)?;
    finetune_with(model, examples, config, trainer)
}

/// [`finetune`] with a Trainer of your own (made from `config.train`, with a progress
/// bar, an `on_step` hook, a plot): the adapter is initialised from `config.train.seed`,
/// so a stopped run resumed on the same run folder continues bit-exactly.
///
/// # Errors
/// [`Error::Input`] without examples (or none with a completion token left after
/// truncation; those are left out, as TRL drops them), or a Trainer whose device has no
/// autodiff; [`Error::Core`] from LoRA or the Trainer.
pub fn finetune_with(
    mut model: LlamaForCausalLM,
    examples: Vec<SftExample>,
    config: &SftConfig,
    mut trainer: Trainer<'_>,
) -> Result<TrainOutcome<LlamaForCausalLM>> {
    let device = trainer.device().clone();
    if examples.is_empty() || !device.is_autodiff() {
        return Err(Error::Input {
            reason: format!(
                "fine-tuning needs examples ({} given) and an autodiff device",
                examples.len()
            ),
        });
    }
    // As TRL: an example whose completion was cut away entirely trains nothing.
    let given = examples.len();
    let examples: Vec<SftExample> = examples
        .into_iter()
        .filter(|e| e.scored_tokens() > 0)
        .collect();
    if examples.len() < given {
        tracing::warn!(
            dropped = given - examples.len(),
            "examples without completion tokens (cut by max_length) left out"
        );
    }
    if examples.is_empty() {
        return Err(Error::Input {
            reason: "no example keeps a completion token".into(),
        });
    }
    whet_core::seed::Seed::new(config.train.seed).apply(&device);
    lora::add_adapter(&mut model, &config.adapter, &config.lora, &device)?;
    let data: Vec<Arc<SftExample>> = examples.into_iter().map(Arc::new).collect();
    let packed = config.padding_free;
    let batcher = move |items: Vec<Arc<SftExample>>, _: &Device| {
        if packed {
            SftBatch::padding_free(&items)
        } else {
            SftBatch::new(&items)
        }
    };
    let dev = device.clone();
    let step = move |m: &LlamaForCausalLM, batch: SftBatch| -> StepOutput {
        let (loss, n) = completion_loss(m, &batch, &dev).expect("batches are built valid");
        StepOutput::summed(
            loss,
            Tensor::from_data(TensorData::new(vec![n as f32], [1]), &dev),
        )
    };
    Ok(trainer.fit(model, &data, &batcher, &step, None)?)
}

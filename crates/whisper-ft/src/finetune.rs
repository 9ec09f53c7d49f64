//! Fine-tuning through whet-core's Trainer: full or LoRA (PEFT's module paths, so the
//! adapter loads in PEFT), SpecAugment on the log-mel, cross-entropy on the transcript.
//!
//! Each utterance is one 30-second window built as [`Whisper::transcribe`] builds it (the
//! log-mel of the audio, zeros after its last frame), so the model trains on what it
//! will see. The decoder reads `<|startoftranscript|>` (with language and task on a
//! multilingual model), `<|notimestamps|>`, then `" " + text`; the loss is over
//! `<|notimestamps|>`, the text and `<|endoftext|>` — transformers' labels, less the
//! language and task tokens, which are given at inference and never predicted.

use std::sync::Arc;

use rand::Rng;
use serde::{Deserialize, Serialize};
use whet_core::burn::tensor::activation::log_softmax;
use whet_core::burn::tensor::{Device, Int, Tensor, TensorData};
use whet_core::lora::{self, LoraConfig, TargetModules};
use whet_core::run::RunDir;
use whet_core::train::{
    BatchRng, CheckpointWeights, OptimizerConfig, ScheduleConfig, StepOutput, TrainConfig,
    TrainOutcome, Trainer, freeze_where, seeded,
};

use crate::audio::{Audio, SAMPLE_RATE};
use crate::error::{Error, Result};
use crate::manifest::SpeechRecord;
use crate::mel::{HOP_LENGTH, N_FRAMES, N_SAMPLES, log_mel_spectrogram};
use crate::model::WhisperModel;
use crate::tokenizer::{Task, WhisperTokenizer};
use crate::transcribe::Whisper;

/// SpecAugment (Park et al., 2019) on the log-mel of each training window: frequency
/// bands and time spans set to the utterance's mean, drawn anew for every batch from the
/// Trainer's seeded generator (a resumed run draws the same masks). Time masks fall
/// within the speech, not the silence padded after it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SpecAugment {
    /// Frequency masks per utterance.
    pub freq_masks: usize,
    /// Widest frequency mask in mel bins (`F`).
    pub freq_width: usize,
    /// Time masks per utterance.
    pub time_masks: usize,
    /// Longest time mask in frames of 10 ms (`T`).
    pub time_width: usize,
    /// No time mask longer than this share of the utterance (`p`).
    pub time_share: f64,
}

impl Default for SpecAugment {
    /// Two frequency masks of up to 27 bins and two time masks of up to 40 frames, each
    /// at most 5% of the utterance: SpecAugment's LibriSpeech-double policy with time
    /// masks shortened for utterances of a few seconds.
    fn default() -> Self {
        SpecAugment {
            freq_masks: 2,
            freq_width: 27,
            time_masks: 2,
            time_width: 40,
            time_share: 0.05,
        }
    }
}

impl SpecAugment {
    /// Masks `mel` (`[n_mels, frames]`, row-major) whose first `speech` frames hold the
    /// audio.
    pub fn apply(
        &self,
        mel: &mut [f32],
        n_mels: usize,
        frames: usize,
        speech: usize,
        rng: &mut impl Rng,
    ) {
        let speech = speech.min(frames);
        if n_mels == 0 || speech == 0 {
            return;
        }
        let mean = (0..n_mels)
            .flat_map(|m| &mel[m * frames..m * frames + speech])
            .map(|v| f64::from(*v))
            .sum::<f64>()
            / (n_mels * speech) as f64;
        let mean = mean as f32;
        for _ in 0..self.freq_masks {
            let f = rng.random_range(0..=self.freq_width.min(n_mels));
            let f0 = rng.random_range(0..=n_mels - f);
            for m in f0..f0 + f {
                mel[m * frames..m * frames + speech].fill(mean);
            }
        }
        let widest = self
            .time_width
            .min((self.time_share * speech as f64).floor() as usize);
        for _ in 0..self.time_masks {
            let t = rng.random_range(0..=widest);
            let t0 = rng.random_range(0..=speech - t);
            for m in 0..n_mels {
                mel[m * frames + t0..m * frames + t0 + t].fill(mean);
            }
        }
    }
}

/// One utterance ready to train on: its 16 kHz samples (at most 30 s) and its token
/// sequence.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainingUtterance {
    /// Mono samples at 16 kHz.
    pub samples: Vec<f32>,
    /// `<|startoftranscript|>` ... `<|endoftext|>`: what the decoder reads, shifted.
    pub tokens: Vec<u32>,
    /// Index in `tokens` of the first token the loss scores (`<|notimestamps|>`).
    pub first_target: usize,
}

impl TrainingUtterance {
    /// The utterance of `audio` (resampled to 16 kHz when it is not) saying `text` in
    /// `language`.
    ///
    /// # Errors
    /// [`Error::Input`] for audio longer than 30 s, a transcript too long for the
    /// decoder's positions, or a language the tokenizer lacks.
    pub fn new(
        tokenizer: &WhisperTokenizer,
        audio: &Audio,
        text: &str,
        language: &str,
        max_positions: usize,
    ) -> Result<Self> {
        let audio = audio.resampled(SAMPLE_RATE)?;
        if audio.samples.len() > N_SAMPLES {
            return Err(Error::Input {
                reason: format!(
                    "{:.1} s of audio: training takes utterances of up to 30 s",
                    audio.duration()
                ),
            });
        }
        let mut tokens = tokenizer.sot_sequence(Some(language), Task::Transcribe)?;
        let first_target = tokens.len();
        tokens.push(tokenizer.no_timestamps);
        tokens.extend(tokenizer.encode(&format!(" {}", text.trim()))?);
        tokens.push(tokenizer.eot);
        // The decoder reads all but the last token.
        if tokens.len() - 1 > max_positions {
            return Err(Error::Input {
                reason: format!(
                    "a transcript of {} tokens: the decoder holds {max_positions}",
                    tokens.len()
                ),
            });
        }
        Ok(TrainingUtterance {
            samples: audio.samples,
            tokens,
            first_target,
        })
    }

    /// Reads every record of a speech set (audio resampled to 16 kHz).
    ///
    /// # Errors
    /// As [`Audio::read_16k`] (naming the file) and [`TrainingUtterance::new`].
    pub fn from_records(whisper: &Whisper, records: &[SpeechRecord]) -> Result<Vec<Self>> {
        let positions = whisper.model.config().max_target_positions;
        records
            .iter()
            .map(|r| {
                let audio = Audio::read_16k(&r.audio)?;
                Self::new(&whisper.tokenizer, &audio, &r.text, &r.language, positions).map_err(
                    |e| Error::Input {
                        reason: format!("{}: {e}", r.audio.display()),
                    },
                )
            })
            .collect()
    }

    /// Tokens the loss scores.
    pub fn scored_tokens(&self) -> usize {
        self.tokens.len() - self.first_target
    }
}

/// A batch: log-mel windows on the device and the decoder's rows, padded.
#[derive(Debug, Clone)]
pub struct TrainingBatch {
    /// `[batch, n_mels, 3000]`.
    pub mel: Tensor<3>,
    /// Decoder input rows, padded with `<|endoftext|>` to one length.
    pub tokens: Vec<Vec<u32>>,
    /// Flat indexes (`row * length + position`) of the scored positions.
    pub positions: Vec<i64>,
    /// The token each scored position must predict.
    pub targets: Vec<i64>,
}

impl TrainingBatch {
    /// Batches utterances: each log-mel as [`Whisper::transcribe`] computes it, masked by
    /// `augment` when given.
    ///
    /// # Errors
    /// As [`log_mel_spectrogram`].
    pub fn new(
        items: &[impl AsRef<TrainingUtterance>],
        filters: &crate::mel::MelFilters,
        pad: u32,
        augment: Option<(&SpecAugment, &mut BatchRng)>,
        device: &Device,
    ) -> Result<Self> {
        let n_mels = filters.n_mels();
        let mut mel = Vec::with_capacity(items.len() * n_mels * N_FRAMES);
        let mut augment = augment;
        for u in items {
            let u = u.as_ref();
            let full = log_mel_spectrogram(&u.samples, filters, N_SAMPLES)?;
            let speech = u.samples.len().div_ceil(HOP_LENGTH).min(N_FRAMES);
            let mut window = full.window(0, speech, N_FRAMES);
            if let Some((spec, rng)) = augment.as_mut() {
                spec.apply(&mut window, n_mels, N_FRAMES, speech, *rng);
            }
            mel.extend(window);
        }
        let len = items
            .iter()
            .map(|u| u.as_ref().tokens.len() - 1)
            .max()
            .unwrap_or(0);
        let (mut tokens, mut positions, mut targets) = (Vec::new(), Vec::new(), Vec::new());
        for (row, u) in items.iter().enumerate() {
            let u = u.as_ref();
            let mut input = u.tokens[..u.tokens.len() - 1].to_vec();
            for p in u.first_target - 1..input.len() {
                positions.push((row * len + p) as i64);
                targets.push(i64::from(u.tokens[p + 1]));
            }
            input.resize(len, pad);
            tokens.push(input);
        }
        let b = items.len();
        Ok(TrainingBatch {
            mel: Tensor::from_data(TensorData::new(mel, [b, n_mels, N_FRAMES]), device),
            tokens,
            positions,
            targets,
        })
    }
}

impl AsRef<TrainingUtterance> for TrainingUtterance {
    fn as_ref(&self) -> &TrainingUtterance {
        self
    }
}

/// The summed cross-entropy of a batch's scored tokens and their count. Only the scored
/// positions go through the output projection.
///
/// # Errors
/// As [`WhisperDecoder::hidden`](crate::WhisperDecoder::hidden).
pub fn transcript_loss(model: &WhisperModel, batch: &TrainingBatch) -> Result<(Tensor<1>, usize)> {
    let device = batch.mel.device();
    let audio = model.encoder.forward(batch.mel.clone());
    let h = model.decoder.hidden(&batch.tokens, audio)?;
    let [b, t, d] = h.dims();
    let n = batch.positions.len();
    let rows = Tensor::<1, Int>::from_data(TensorData::new(batch.positions.clone(), [n]), &device);
    let logits = model.decoder.project(h.reshape([b * t, d]).select(0, rows));
    let targets =
        Tensor::<2, Int>::from_data(TensorData::new(batch.targets.clone(), [n, 1]), &device);
    Ok((log_softmax(logits, 1).gather(1, targets).sum().neg(), n))
}

/// A Whisper fine-tuning run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WhisperFinetuneConfig {
    /// A LoRA adapter to train (the base frozen), or `None` to train the weights
    /// themselves.
    pub lora: Option<LoraConfig>,
    /// The adapter's name.
    pub adapter: String,
    /// Keep the encoder frozen in full fine-tuning (transformers' `freeze_encoder`).
    pub freeze_encoder: bool,
    /// SpecAugment on each window, or none.
    pub spec_augment: Option<SpecAugment>,
    /// The loop: optimiser, schedule, steps, batch, clipping, checkpoints.
    pub train: TrainConfig,
}

impl WhisperFinetuneConfig {
    /// LoRA as PEFT's Whisper recipe: r 32, alpha 64, on every attention's `q_proj` and
    /// `v_proj` in encoder and decoder; AdamW at `lr` (weight decay 0), 10% warm-up then
    /// linear decay, gradient norm clipped at 1, SpecAugment, a checkpoint (the adapter
    /// only) every 50 steps.
    pub fn lora(steps: usize, batch_size: usize, lr: f64) -> Self {
        let targets = ["q_proj", "v_proj"].map(str::to_owned).to_vec();
        let mut train = Self::full(steps, batch_size, lr).train;
        train.checkpoint_weights = CheckpointWeights::Trainable;
        WhisperFinetuneConfig {
            lora: Some(LoraConfig::new(32, 64.0, TargetModules::Names(targets))),
            adapter: "whisper".into(),
            freeze_encoder: false,
            spec_augment: Some(SpecAugment::default()),
            train,
        }
    }

    /// Every weight trained (the encoder too), AdamW at `lr` (weight decay 0), 10%
    /// warm-up then linear decay as transformers' Seq2SeqTrainer, norm clipped at 1,
    /// SpecAugment, a checkpoint every 50 steps.
    pub fn full(steps: usize, batch_size: usize, lr: f64) -> Self {
        let optimizer = OptimizerConfig::adamw(lr).with_weight_decay(0.0);
        let mut train = TrainConfig::new(optimizer, steps, batch_size);
        train.schedule = ScheduleConfig::WarmupLinear {
            warmup_steps: steps.div_ceil(10),
            min_lr: 0.0,
        };
        train.clip_grad_norm = Some(1.0);
        train.checkpoint_every = 50.min(steps.max(1));
        WhisperFinetuneConfig {
            lora: None,
            adapter: "whisper".into(),
            freeze_encoder: false,
            spec_augment: Some(SpecAugment::default()),
            train,
        }
    }
}

/// Fine-tunes `model` on `device` (with autodiff; `whisper` gives the tokenizer and mel
/// filters) on `utterances`, logging to `run`
/// and resuming from its newest checkpoint when it holds one. Returns the Trainer's
/// outcome; with LoRA the model carries the trained adapter, active
/// (`whet_core::lora::save_peft` writes it in PEFT's format).
///
/// # Errors
/// As [`finetune_with`].
pub fn finetune(
    whisper: &Whisper,
    model: WhisperModel,
    utterances: Vec<TrainingUtterance>,
    config: &WhisperFinetuneConfig,
    run: RunDir,
    device: &Device,
) -> Result<TrainOutcome<WhisperModel>> {
    let trainer = Trainer::new(config.train.clone(), device, run)?.with_user_config(config)?;
    finetune_with(whisper, model, utterances, config, trainer)
}

/// [`finetune`] with a Trainer of your own (made from `config.train`, with a progress
/// bar or an `on_step` hook). `whisper` gives the tokenizer and mel filters; `model` is
/// what trains (loaded on the Trainer's autodiff device). The adapter is initialised from
/// `config.train.seed`, so a stopped run resumed on the same run folder continues
/// bit-exactly.
///
/// # Errors
/// [`Error::Input`] without utterances or on a device without autodiff;
/// [`Error::Core`] from LoRA or the Trainer.
pub fn finetune_with(
    whisper: &Whisper,
    mut model: WhisperModel,
    utterances: Vec<TrainingUtterance>,
    config: &WhisperFinetuneConfig,
    mut trainer: Trainer<'_>,
) -> Result<TrainOutcome<WhisperModel>> {
    let device = trainer.device().clone();
    if utterances.is_empty() || !device.is_autodiff() {
        return Err(Error::Input {
            reason: format!(
                "fine-tuning needs utterances ({} given) and an autodiff device",
                utterances.len()
            ),
        });
    }
    whet_core::seed::Seed::new(config.train.seed).apply(&device);
    let model = match &config.lora {
        Some(lora_config) => {
            lora::add_adapter(&mut model, &config.adapter, lora_config, &device)?;
            freeze_where(model, &|path| !path.contains(".adapters.")).0
        }
        None if config.freeze_encoder => {
            freeze_where(model, &|path| path.starts_with("encoder.")).0
        }
        None => model,
    };
    let data: Vec<Arc<TrainingUtterance>> = utterances.into_iter().map(Arc::new).collect();
    let filters = whisper.filters.clone();
    let (pad, spec) = (whisper.tokenizer.eot, config.spec_augment);
    let batcher = seeded(
        move |items: Vec<Arc<TrainingUtterance>>, rng: &mut BatchRng, device: &Device| {
            TrainingBatch::new(
                &items,
                &filters,
                pad,
                spec.as_ref().map(|s| (s, rng)),
                device,
            )
            .expect("utterances are checked when made")
        },
    );
    let step = move |m: &WhisperModel, batch: TrainingBatch| -> StepOutput {
        let device = batch.mel.device();
        let (loss, n) = transcript_loss(m, &batch).expect("batches are built valid");
        StepOutput::summed(
            loss,
            Tensor::from_data(TensorData::new(vec![n as f32], [1]), &device),
        )
    };
    Ok(trainer.fit(model, &data, &batcher, &step, None)?)
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;

    #[test]
    fn spec_augment_masks_the_speech_with_its_mean() {
        let (n_mels, frames, speech) = (80, 3000, 400);
        let mel: Vec<f32> = (0..n_mels * frames)
            .map(|i| {
                if i % frames < speech {
                    (i % 7) as f32 * 0.1
                } else {
                    -1.0
                }
            })
            .collect();
        let spec = SpecAugment::default();
        let mut a = mel.clone();
        spec.apply(
            &mut a,
            n_mels,
            frames,
            speech,
            &mut BatchRng::seed_from_u64(3),
        );
        let mut b = mel.clone();
        spec.apply(
            &mut b,
            n_mels,
            frames,
            speech,
            &mut BatchRng::seed_from_u64(3),
        );
        assert_eq!(a, b, "the same generator, the same masks");
        let mean = (0..n_mels)
            .flat_map(|m| &mel[m * frames..m * frames + speech])
            .sum::<f32>()
            / (n_mels * speech) as f32;
        let mut masked_rows = 0;
        for m in 0..n_mels {
            let row = &a[m * frames..(m + 1) * frames];
            assert!(
                row[speech..].iter().all(|&v| v == -1.0),
                "padding untouched"
            );
            let changed: Vec<usize> = (0..speech)
                .filter(|&t| row[t] != mel[m * frames + t])
                .collect();
            assert!(changed.iter().all(|&t| (row[t] - mean).abs() < 1e-5));
            if changed.len() > speech / 2 {
                masked_rows += 1;
            }
        }
        assert!(masked_rows <= 2 * 27, "{masked_rows} bins masked");
        // Time masks: at most 2 spans of at most 5% of 400 frames = 20.
        let masked_frames = (0..speech)
            .filter(|&t| (0..n_mels).all(|m| (a[m * frames + t] - mean).abs() < 1e-5))
            .count();
        assert!(masked_frames <= 40, "{masked_frames} frames masked");
        assert_ne!(a, mel);
    }
}

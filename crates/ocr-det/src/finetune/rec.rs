//! The recognizer recipe.

use std::path::Path;

use burn::module::Module;
use burn::tensor::Device;
use rand::Rng;
use serde::{Deserialize, Serialize};
use whet_core::run::RunDir;
use whet_core::train::{
    BatchRng, Control, Goal, Metrics, Monitor, OptimizerConfig, ParamGroupConfig, ScheduleConfig,
    StepReport, StopReason, TrainConfig, freeze_statistics, freeze_where, seeded,
};
use whet_eval_metrics::ocr::{RecOptions, RecReport, recognition};

use super::Hooks;
use crate::dict::{CharDict, look_alike};
use crate::error::{Error, Result};
use crate::ocr::{Ocr, recognize_lines};
use crate::rec::SvtrRecognizer;
use crate::train::{
    RecItem, RecShape, augment_line, load_rec_labels, rec_batch, rec_distill_step, rec_step,
    width_batches,
};

/// Text lines to train on and to validate with.
#[derive(Debug, Clone, Default)]
pub struct RecData {
    /// Training lines.
    pub train: Vec<RecItem>,
    /// Validation lines (never trained on).
    pub valid: Vec<RecItem>,
}

impl RecData {
    /// Splits `lines` deterministically: every `valid_every`-th line (the first, the
    /// `valid_every + 1`-th, ...) validates, the rest trains.
    pub fn split(lines: Vec<RecItem>, valid_every: usize) -> Self {
        let k = valid_every.max(2);
        let mut data = RecData::default();
        for (i, line) in lines.into_iter().enumerate() {
            if i % k == 0 {
                data.valid.push(line);
            } else {
                data.train.push(line);
            }
        }
        data
    }

    /// A PaddleOCR recognition label file (`rec_gt.txt`, as `whet-synth-docs` exports
    /// it), split by [`RecData::split`].
    ///
    /// # Errors
    /// As [`load_rec_labels`].
    pub fn from_labels(label_file: impl AsRef<Path>, valid_every: usize) -> Result<Self> {
        Ok(Self::split(load_rec_labels(label_file)?, valid_every))
    }

    /// Adds `lines` to the training lines `repeat` times (a few real documents among many
    /// synthetic ones weigh more when repeated).
    pub fn add_train(&mut self, lines: &[RecItem], repeat: usize) {
        for _ in 0..repeat {
            self.train.extend_from_slice(lines);
        }
    }

    /// Repeats the training lines that hold a rare character of `chars` until each of
    /// them is in at least `min_lines` lines (a character in `k` lines has those lines
    /// repeated `ceil(min_lines / k)` times in all); returns each character's line count
    /// before and after. Characters a dictionary gains are often rare in the data (`ñ`
    /// in 19 of 7,248 synthetic receipt lines): too few examples to overtake the
    /// look-alike their output row started from.
    ///
    /// ```
    /// use whet_ocr_det::finetune::RecData;
    /// use whet_ocr_det::train::RecItem;
    /// let line = |text: &str| RecItem { image: image::RgbImage::new(8, 8), text: text.into() };
    /// let mut data = RecData { train: vec![line("Osmeña"), line("₱1"), line("₱2")], valid: vec![] };
    /// let counts = data.oversample(&['ñ', '₱'], 4);
    /// assert_eq!(counts, [('ñ', 1, 4), ('₱', 2, 4)]);
    /// assert_eq!(data.train.len(), 8);
    /// ```
    pub fn oversample(&mut self, chars: &[char], min_lines: usize) -> Vec<(char, usize, usize)> {
        let count =
            |train: &[RecItem], c: char| train.iter().filter(|l| l.text.contains(c)).count();
        let mut counts = Vec::with_capacity(chars.len());
        for &c in chars {
            let before = count(&self.train, c);
            if before > 0 && before < min_lines {
                let extra = min_lines.div_ceil(before) - 1;
                let lines: Vec<RecItem> = self
                    .train
                    .iter()
                    .filter(|l| l.text.contains(c))
                    .cloned()
                    .collect();
                self.add_train(&lines, extra);
            }
            counts.push((c, before, count(&self.train, c)));
        }
        counts
    }
}

/// Which parts of the recognizer train; the rest stays frozen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum RecTrainPart {
    /// The CTC head alone.
    Head,
    /// The SVTR neck and the head (the default: the backbone's features stay).
    #[default]
    Neck,
    /// Everything, the backbone at a lower rate
    /// ([`RecFinetuneConfig::backbone_lr_scale`]).
    All,
}

impl RecTrainPart {
    /// Whether the parameter at `path` trains.
    pub fn trains(self, path: &str) -> bool {
        match self {
            RecTrainPart::Head => path.starts_with("head"),
            RecTrainPart::Neck => !path.starts_with("backbone"),
            RecTrainPart::All => true,
        }
    }
}

impl std::str::FromStr for RecTrainPart {
    type Err = Error;

    /// `head`, `neck` or `all`.
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "head" => Ok(RecTrainPart::Head),
            "neck" => Ok(RecTrainPart::Neck),
            "all" => Ok(RecTrainPart::All),
            other => Err(Error::Config {
                what: "recognizer part",
                reason: format!("{other:?}: expected head, neck or all"),
            }),
        }
    }
}

/// Distillation from the pretrained recognizer ([`rec_distill_step`]): its softened
/// outputs on the same lines keep what it knew of characters the new data lacks.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DistillConfig {
    /// Weight of the distillation loss beside CTC (1).
    pub weight: f64,
    /// Softening temperature (2).
    pub temperature: f64,
}

impl Default for DistillConfig {
    fn default() -> Self {
        DistillConfig {
            weight: 1.0,
            temperature: 2.0,
        }
    }
}

impl DistillConfig {
    /// Distillation with loss weight `weight` at the default temperature.
    pub fn new(weight: f64) -> Self {
        DistillConfig {
            weight,
            ..Default::default()
        }
    }
}

/// The recognizer recipe's settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecFinetuneConfig {
    /// The training run: optimiser, schedule, steps, clipping, validation and checkpoint
    /// intervals, parameter groups. `batch_size` is the number of lines per batch (lines
    /// are batched by width).
    pub train: TrainConfig,
    /// What trains.
    #[serde(default)]
    pub part: RecTrainPart,
    /// Distillation from the pretrained recognizer (`None`: CTC alone).
    #[serde(default)]
    pub distill: Option<DistillConfig>,
    /// Input shape of the line images.
    #[serde(default)]
    pub shape: RecShape,
    /// Let batch norms re-estimate their statistics on the training batches (off: kept,
    /// which protects accuracy on real documents when training on synthetic ones).
    #[serde(default)]
    pub train_statistics: bool,
    /// Share of training lines drawn augmented each time they are read (perspective,
    /// blur, noise, contrast), from the Trainer's seeded generator.
    #[serde(default)]
    pub augment: f64,
    /// Every character added to the dictionary is in at least this many training lines:
    /// rarer ones have their lines repeated ([`RecData::oversample`]; 0: never; 600 by
    /// default).
    #[serde(default = "default_added_char_lines")]
    pub added_char_lines: usize,
    /// With [`RecTrainPart::All`], the backbone's learning rate as a multiple of the
    /// rest's (0.1): a parameter group `^backbone\.` added to `train.param_groups` unless
    /// one already names the backbone.
    #[serde(default = "default_backbone_lr_scale")]
    pub backbone_lr_scale: f64,
}

fn default_added_char_lines() -> usize {
    600
}

fn default_backbone_lr_scale() -> f64 {
    0.1
}

impl RecFinetuneConfig {
    /// The recipe that lifts PP-OCRv4 on synthetic Philippine receipts (the crate README's
    /// figures): `steps` AdamW steps peaking at `lr` with 5% warm-up and cosine decay to
    /// 1%, 16 lines per batch, gradients clipped at 5, validation and checkpoints every
    /// 100 steps keeping the best line accuracy, the neck and head trained, distilled
    /// from the pretrained recognizer.
    pub fn new(steps: usize, lr: f64) -> Self {
        let mut train = TrainConfig::new(OptimizerConfig::adamw(lr), steps, 16);
        train.schedule = ScheduleConfig::WarmupCosine {
            warmup_steps: (steps / 20).max(1),
            min_lr: lr * 0.01,
        };
        train.valid_every = Some(100.min(steps));
        train.checkpoint_every = 100.min(steps);
        train.clip_grad_norm = Some(5.0);
        train.monitor = Some(Monitor {
            metric: "line_accuracy".into(),
            goal: Goal::Maximize,
            patience: None,
            min_delta: 0.0,
            ties_to_later: true,
        });
        RecFinetuneConfig {
            train,
            part: RecTrainPart::Neck,
            distill: Some(DistillConfig::default()),
            shape: RecShape::default(),
            train_statistics: false,
            augment: 0.0,
            added_char_lines: default_added_char_lines(),
            backbone_lr_scale: default_backbone_lr_scale(),
        }
    }
}

/// What [`RecFinetune::run`] returns.
#[derive(Debug)]
pub struct RecFinetuned {
    /// The best validated recognizer, for inference.
    pub recognizer: SvtrRecognizer,
    /// Its dictionary (the pretrained one grown with `added`).
    pub dict: CharDict,
    /// Characters added to the dictionary, most frequent first.
    pub added: Vec<char>,
    /// The pretrained recognizer on the validation lines.
    pub pretrained: RecReport,
    /// The fine-tuned one on the same lines.
    pub tuned: RecReport,
    /// Why training stopped.
    pub stop: StopReason,
    /// Optimiser steps applied.
    pub steps: usize,
}

/// The recognizer fine-tuning recipe.
pub struct RecFinetune<'a> {
    config: RecFinetuneConfig,
    hooks: Hooks<'a>,
}

impl<'a> RecFinetune<'a> {
    /// The recipe with `config`.
    pub fn new(config: RecFinetuneConfig) -> Self {
        RecFinetune {
            config,
            hooks: Hooks::default(),
        }
    }

    /// Calls `f` after every optimiser step (the Trainer's `on_step`).
    #[must_use]
    pub fn on_step(mut self, f: impl FnMut(&StepReport<'_>) -> Control + 'a) -> Self {
        self.hooks.on_step = Some(Box::new(f));
        self
    }

    /// Shows or hides the progress bar (shown by default on a terminal).
    #[must_use]
    pub fn with_progress(mut self, show: bool) -> Self {
        self.hooks.progress = show;
        self
    }

    /// Fine-tunes `base`'s recognizer on `data.train` into `run` (resuming it when it
    /// holds a checkpoint), validating on `data.valid`.
    ///
    /// # Errors
    /// [`Error::Config`] for data that leaves nothing to train on; as the Trainer
    /// ([`Error::Core`]) and [`recognize_lines`].
    pub fn run(self, base: &Ocr, data: &RecData, run: RunDir) -> Result<RecFinetuned> {
        let cfg = self.config;
        let device = base.device().clone();
        let shape = cfg.shape;
        let (dict, added) = base.dict.grow(data.train.iter().map(|l| l.text.as_str()));
        tracing::info!(
            ?added,
            classes = dict.len(),
            "characters added to the dictionary"
        );
        let mut oversampled = RecData::default();
        let train_lines = if cfg.added_char_lines > 0 && !added.is_empty() {
            oversampled.train.clone_from(&data.train);
            let counts = oversampled.oversample(&added, cfg.added_char_lines);
            tracing::info!(?counts, "lines with added characters (before, after)");
            &oversampled.train
        } else {
            &data.train
        };
        let (batches, skipped) = width_batches(train_lines, &dict, shape, cfg.train.batch_size);
        tracing::info!(batches = batches.len(), ?skipped, "training batches");
        if batches.is_empty() || data.valid.is_empty() {
            return Err(Error::Config {
                what: "recognizer data",
                reason: format!(
                    "{} training batches and {} validation lines: both must be non-empty",
                    batches.len(),
                    data.valid.len()
                ),
            });
        }
        let pretrained = line_accuracy(&base.rec, &base.dict, &data.valid, &device)?;

        let train_device = device.clone().autodiff();
        // The pretrained recognizer, frozen, teaches the one being tuned: no gradients, and
        // its batch norms in inference mode (running statistics), so its targets are the
        // pretrained model's own outputs, not those of batch statistics.
        let (teacher, _) = freeze_where(base.rec.clone().to_device(&train_device), &|_| true);
        let student = base
            .rec
            .clone()
            .with_dict(&base.dict, &dict, look_alike)?
            .to_device(&train_device)
            .train();
        let (student, frozen) = freeze_where(student, &|path: &str| !cfg.part.trains(path));
        let student = if cfg.train_statistics {
            student
        } else {
            freeze_statistics(student)
        };
        tracing::info!(frozen, part = ?cfg.part, "recognizer parameters frozen");

        // The Trainer's batches are groups of lines of similar width.
        let mut train = cfg.train.clone();
        train.batch_size = 1;
        if cfg.part == RecTrainPart::All
            && !train
                .param_groups
                .iter()
                .any(|g| g.pattern.contains("backbone"))
        {
            train.param_groups.push(
                ParamGroupConfig::new("backbone", r"^backbone\.")
                    .with_lr_scale(cfg.backbone_lr_scale),
            );
        }
        let mut trainer = self.hooks.trainer(train, &train_device, run, &cfg)?;
        let augment = cfg.augment.clamp(0.0, 1.0);
        let batcher = seeded(
            |groups: Vec<Vec<RecItem>>, rng: &mut BatchRng, device: &Device| {
                let mut lines = groups.concat();
                if augment > 0.0 {
                    for line in &mut lines {
                        if rng.random_bool(augment) {
                            line.image = augment_line(&line.image, rng.random());
                        }
                    }
                }
                rec_batch(&lines, &dict, shape, device)
            },
        );
        let valid = |model: &SvtrRecognizer| -> Metrics {
            // Validation cannot return an error to the Trainer: a lost device ends the
            // process, and the run resumes from its last checkpoint.
            let r = line_accuracy(model, &dict, &data.valid, &device)
                .expect("validation results read back from the device");
            Metrics::from([
                ("line_accuracy".to_owned(), r.acc),
                ("norm_edit_dis".to_owned(), r.norm_edit_dis),
            ])
        };
        let step = |model: &SvtrRecognizer, batch| match cfg.distill {
            Some(d) => rec_distill_step(model, &teacher, batch, d.weight, d.temperature),
            None => rec_step(model, batch),
        };
        let outcome = trainer.fit(student, &batches, &batcher, &step, Some(&valid))?;
        let model = match &outcome.best_checkpoint {
            Some(best) => best.load_model(outcome.model)?,
            None => outcome.model,
        };
        let recognizer = model.valid();
        let tuned = line_accuracy(&recognizer, &dict, &data.valid, &device)?;
        tracing::info!(
            pretrained = pretrained.acc,
            tuned = tuned.acc,
            stop = ?outcome.stop,
            "recognizer fine-tuned"
        );
        Ok(RecFinetuned {
            recognizer,
            dict,
            added,
            pretrained,
            tuned,
            stop: outcome.stop,
            steps: outcome.state.step,
        })
    }
}

/// Recognition accuracy of `rec` on line crops (PaddleOCR's `RecMetric`: exact, spaces
/// ignored).
///
/// # Errors
/// As [`recognize_lines`].
pub fn line_accuracy(
    rec: &SvtrRecognizer,
    dict: &CharDict,
    items: &[RecItem],
    device: &Device,
) -> Result<RecReport> {
    let images: Vec<_> = items.iter().map(|i| i.image.clone()).collect();
    let texts = recognize_lines(rec, dict, &images, 48, 320, 16, device)?;
    Ok(recognition(
        texts
            .iter()
            .zip(items)
            .map(|((p, _), i)| (p.as_str(), i.text.as_str())),
        RecOptions::default(),
    ))
}

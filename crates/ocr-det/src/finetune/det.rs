//! The detector recipe.

use std::path::Path;
use std::sync::Arc;

use burn::module::Module;
use burn::tensor::Device;
use rand::Rng;
use serde::{Deserialize, Serialize};
use whet_core::run::RunDir;
use whet_core::train::{
    BatchRng, Control, Goal, Metrics, Monitor, OptimizerConfig, ScheduleConfig, StepReport,
    StopReason, TrainConfig, freeze_statistics, freeze_where, seeded,
};
use whet_eval_metrics::ocr::{DetImage, detection_db};

use super::Hooks;
use crate::det::DbNet;
use crate::error::{Error, Result};
use crate::ocr::Ocr;
use crate::postprocess::{DbPostConfig, db_boxes};
use crate::train::{
    DbLabelConfig, DbTrainNet, DetAugment, DetItem, ShrinkLoss, det_batch, det_crop, det_step,
    load_det_labels,
};

/// Labelled pages to train on and to validate with.
#[derive(Debug, Clone, Default)]
pub struct DetData {
    /// Training pages.
    pub train: Vec<DetItem>,
    /// Validation pages (never trained on).
    pub valid: Vec<DetItem>,
}

impl DetData {
    /// Splits `pages` deterministically: every `valid_every`-th page validates (at most
    /// `max_valid` of them; the rest train).
    pub fn split(pages: Vec<DetItem>, valid_every: usize, max_valid: usize) -> Self {
        let k = valid_every.max(2);
        let mut data = DetData::default();
        for (i, page) in pages.into_iter().enumerate() {
            if i % k == 0 && data.valid.len() < max_valid {
                data.valid.push(page);
            } else {
                data.train.push(page);
            }
        }
        data
    }

    /// A PaddleOCR detection label file (`det_gt.txt`, `Label.txt`), split by
    /// [`DetData::split`].
    ///
    /// # Errors
    /// As [`load_det_labels`].
    pub fn from_labels(
        label_file: impl AsRef<Path>,
        valid_every: usize,
        max_valid: usize,
    ) -> Result<Self> {
        Ok(Self::split(
            load_det_labels(label_file)?,
            valid_every,
            max_valid,
        ))
    }

    /// Adds `pages` to the training pages `repeat` times.
    pub fn add_train(&mut self, pages: &[DetItem], repeat: usize) {
        for _ in 0..repeat {
            self.train.extend_from_slice(pages);
        }
    }
}

/// The detector recipe's settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DetFinetuneConfig {
    /// The training run; `batch_size` is the number of crops per batch.
    pub train: TrainConfig,
    /// How training crops are drawn.
    #[serde(default)]
    pub augment: DetAugment,
    /// DB target settings.
    #[serde(default)]
    pub labels: DbLabelConfig,
    /// Train the backbone too (frozen by default).
    #[serde(default)]
    pub train_backbone: bool,
    /// Let batch norms re-estimate their statistics (kept by default).
    #[serde(default)]
    pub train_statistics: bool,
    /// The loss on the probability map (dice, as PaddleOCR trains PP-OCRv4's detector).
    #[serde(default)]
    pub shrink_loss: ShrinkLoss,
    /// Unclip ratios tried at each validation (besides the pipeline's own): the one with
    /// the best hmean goes with the detector, since how far a kernel must grow back
    /// depends on the shrink ratio it was trained with and on how sharp training made
    /// the map. Empty: the pipeline's ratio only.
    #[serde(default)]
    pub unclip_ratios: Vec<f64>,
}

impl DetFinetuneConfig {
    /// `steps` AdamW steps of 4 crops of 640 x 640 (at the scale the pipeline reads pages,
    /// [`DetAugment::at_reading_scale`]; DB targets with shrink ratio 0.5, dice on the
    /// probability map) peaking at `lr`,
    /// 5% warm-up and cosine decay to 1%, clipped at 5, validated by detection hmean every
    /// 100 steps (and at the end) keeping the best, with the best of the unclip ratios
    /// 1.4, 1.5, .., 2.4.
    pub fn new(steps: usize, lr: f64) -> Self {
        let mut train = TrainConfig::new(OptimizerConfig::adamw(lr), steps, 4);
        train.schedule = ScheduleConfig::WarmupCosine {
            warmup_steps: (steps / 20).max(1),
            min_lr: lr * 0.01,
        };
        train.valid_every = Some(100.min(steps));
        train.checkpoint_every = 100.min(steps);
        train.clip_grad_norm = Some(5.0);
        train.monitor = Some(Monitor {
            metric: "hmean".into(),
            goal: Goal::Maximize,
            patience: None,
            min_delta: 0.0,
            ties_to_later: true,
        });
        DetFinetuneConfig {
            train,
            augment: DetAugment::at_reading_scale(),
            // Shrink ratio 0.5. Trained by balanced BCE, PaddleOCR's 0.4 thinned the
            // pretrained map (its hard negatives are the soft fringe the map has around each
            // kernel) until unclip 1.6 fell short of the lines: validation hmean 0.877 at
            // step 100; 0.6 held it (0.954). With dice, as PaddleOCR trains this detector,
            // the pretrained map fits kernels of 0.4-0.6 alike (dice 0.25 / 0.22 / 0.24 at
            // 0.4 / 0.5 / 0.6 on real receipt crops) and 0.5 fits best: crate README,
            // "Detector".
            labels: DbLabelConfig {
                shrink_ratio: 0.5,
                ..DbLabelConfig::default()
            },
            train_backbone: false,
            train_statistics: false,
            shrink_loss: ShrinkLoss::Dice,
            unclip_ratios: (14..=24).map(|i| f64::from(i) / 10.0).collect(),
        }
    }
}

/// What [`DetFinetune::run`] returns.
#[derive(Debug)]
pub struct DetFinetuned {
    /// The best validated detector, for inference.
    pub detector: DbNet,
    /// The unclip ratio that goes with it (the best on the validation pages).
    pub unclip_ratio: f64,
    /// The pretrained detector's hmean on the validation pages (DB protocol), with the
    /// best of the same unclip ratios.
    pub pretrained_hmean: f64,
    /// The unclip ratio of that hmean.
    pub pretrained_unclip_ratio: f64,
    /// The fine-tuned detector's.
    pub tuned_hmean: f64,
    /// Why training stopped.
    pub stop: StopReason,
    /// Optimiser steps applied.
    pub steps: usize,
}

impl DetFinetuned {
    /// The result when the fine-tuned detector beats the pretrained one on the validation
    /// pages, else `None` (keep the pretrained detector).
    pub fn if_better(self) -> Option<Self> {
        (self.tuned_hmean > self.pretrained_hmean).then_some(self)
    }

    /// `base` reading with the fine-tuned detector and its unclip ratio.
    pub fn pipeline(&self, base: &Ocr) -> Ocr {
        let mut ocr = base.clone().with_detector(self.detector.clone());
        ocr.config.db.unclip_ratio = self.unclip_ratio;
        ocr
    }
}

/// The detector fine-tuning recipe.
pub struct DetFinetune<'a> {
    config: DetFinetuneConfig,
    hooks: Hooks<'a>,
}

impl<'a> DetFinetune<'a> {
    /// The recipe with `config`.
    pub fn new(config: DetFinetuneConfig) -> Self {
        DetFinetune {
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

    /// Shows or hides the progress bar.
    #[must_use]
    pub fn with_progress(mut self, show: bool) -> Self {
        self.hooks.progress = show;
        self
    }

    /// Fine-tunes `base`'s detector on crops of `data.train` into `run` (resuming it when
    /// it holds a checkpoint), validating by hmean on `data.valid`.
    ///
    /// # Errors
    /// [`Error::Config`] without training or validation pages; as the Trainer.
    pub fn run(self, base: &Ocr, data: &DetData, run: RunDir) -> Result<DetFinetuned> {
        let cfg = self.config;
        if data.train.is_empty() || data.valid.is_empty() {
            return Err(Error::Config {
                what: "detector data",
                reason: format!(
                    "{} training and {} validation pages: both must be non-empty",
                    data.train.len(),
                    data.valid.len()
                ),
            });
        }
        let device = base.device().clone();
        let mut ratios = cfg.unclip_ratios.clone();
        ratios.push(base.config.db.unclip_ratio);
        ratios.sort_by(f64::total_cmp);
        ratios.dedup();
        // The best (hmean, unclip ratio) of `net` on the validation pages: one probability
        // map per page, post-processed with each ratio.
        let hmean_of = |net: &DbNet| -> Result<(f64, f64)> {
            let probe = Ocr::new(
                net.clone(),
                base.rec.clone(),
                base.dict.clone(),
                base.config.clone(),
                &device,
            );
            let maps = data
                .valid
                .iter()
                .map(|page| probe.probability_map(&page.image))
                .collect::<Result<Vec<_>>>()?;
            let mut best = (f64::NEG_INFINITY, base.config.db.unclip_ratio);
            for &unclip_ratio in &ratios {
                let post = DbPostConfig {
                    unclip_ratio,
                    ..base.config.db.clone()
                };
                let images: Vec<DetImage> = data
                    .valid
                    .iter()
                    .zip(&maps)
                    .map(|(page, (prob, w, h))| {
                        let (dw, dh) = (page.image.width() as usize, page.image.height() as usize);
                        DetImage {
                            gt: page.regions.clone(),
                            det: db_boxes(prob, *w, *h, dw, dh, &post)
                                .iter()
                                .map(|(q, _)| whet_core::geom::Polygon::from_f32(q))
                                .collect(),
                        }
                    })
                    .collect();
                let hmean = detection_db(&images).hmean;
                if hmean > best.0 {
                    best = (hmean, unclip_ratio);
                }
            }
            Ok(best)
        };
        let (pretrained_hmean, pretrained_unclip_ratio) = hmean_of(&base.det)?;
        tracing::info!(
            hmean = pretrained_hmean,
            unclip_ratio = pretrained_unclip_ratio,
            "pretrained detector on the validation pages"
        );

        let train_device = device.clone().autodiff();
        let mut model = DbTrainNet::new(base.det.clone().to_device(&train_device).train());
        model.shrink_loss = cfg.shrink_loss;
        if !cfg.train_statistics {
            model = freeze_statistics(model);
        }
        if !cfg.train_backbone {
            let (net, frozen) = freeze_where(model.net, &|path: &str| path.starts_with("backbone"));
            tracing::info!(frozen, "detector backbone frozen");
            model.net = net;
        }
        let mut trainer = self
            .hooks
            .trainer(cfg.train.clone(), &train_device, run, &cfg)?;
        let pages: Vec<Arc<DetItem>> = data.train.iter().cloned().map(Arc::new).collect();
        let (aug, labels) = (cfg.augment, cfg.labels);
        // Every read of a page draws a new crop from the Trainer's seeded generator.
        let batcher = seeded(
            |pages: Vec<Arc<DetItem>>, rng: &mut BatchRng, device: &Device| {
                let crops: Vec<DetItem> = pages
                    .iter()
                    .map(|page| det_crop(page, &aug, rng.random()))
                    .collect();
                det_batch(&crops, &labels, device)
            },
        );
        let valid = |model: &DbTrainNet| -> Metrics {
            let (hmean, unclip) =
                hmean_of(&model.net).expect("detections read back from the device");
            Metrics::from([("hmean".to_owned(), hmean), ("unclip".to_owned(), unclip)])
        };
        let outcome = trainer.fit(model, &pages, &batcher, &det_step, Some(&valid))?;
        let model = match &outcome.best_checkpoint {
            Some(best) => best.load_model(outcome.model)?,
            None => outcome.model,
        };
        let detector = model.valid().net;
        let (tuned_hmean, unclip_ratio) = hmean_of(&detector)?;
        tracing::info!(
            pretrained_hmean,
            tuned_hmean,
            unclip_ratio,
            stop = ?outcome.stop,
            "detector fine-tuned"
        );
        Ok(DetFinetuned {
            detector,
            unclip_ratio,
            pretrained_hmean,
            pretrained_unclip_ratio,
            tuned_hmean,
            stop: outcome.stop,
            steps: outcome.state.step,
        })
    }
}

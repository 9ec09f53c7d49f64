//! What a training run is: serde configs saved as `config.json` next to every checkpoint,
//! so a run can be reproduced from its folder.

use burn::lr_scheduler::LrSchedulerConfig;
use burn::lr_scheduler::cosine::CosineAnnealingLrSchedulerConfig;
use burn::lr_scheduler::linear::LinearLrSchedulerConfig;
use burn::lr_scheduler::module_lr_scheduler::{ModuleLrScheduler, ModuleLrSchedulerConfig};
use burn::lr_scheduler::sequential::SequentialLrSchedulerConfig;
use burn::module::ParamGroup;
use burn::optim::decay::WeightDecayConfig;
use burn::optim::momentum::MomentumConfig;
use burn::optim::{AdamW, AdamWConfig, ModuleOptimizer, Sgd, SgdConfig};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
pub use crate::goal::Goal;

/// The optimiser. Defaults follow PyTorch's, which fine-tuning recipes assume.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum OptimizerConfig {
    /// AdamW (decoupled weight decay), burn's implementation.
    AdamW {
        /// Peak learning rate.
        lr: f64,
        /// First-moment decay.
        #[serde(default = "default_beta1")]
        beta1: f32,
        /// Second-moment decay.
        #[serde(default = "default_beta2")]
        beta2: f32,
        /// Denominator epsilon.
        #[serde(default = "default_eps")]
        eps: f32,
        /// Decoupled weight decay.
        #[serde(default = "default_weight_decay")]
        weight_decay: f32,
    },
    /// Stochastic gradient descent with optional momentum, burn's implementation.
    Sgd {
        /// Peak learning rate.
        lr: f64,
        /// Momentum factor (0 disables momentum).
        #[serde(default)]
        momentum: f64,
        /// Momentum dampening.
        #[serde(default)]
        dampening: f64,
        /// Nesterov momentum.
        #[serde(default)]
        nesterov: bool,
        /// L2 penalty added to the gradient (0 disables it).
        #[serde(default)]
        weight_decay: f32,
    },
}

fn default_beta1() -> f32 {
    0.9
}
fn default_beta2() -> f32 {
    0.999
}
fn default_eps() -> f32 {
    1e-8
}
fn default_weight_decay() -> f32 {
    0.01
}

impl OptimizerConfig {
    /// AdamW with PyTorch's defaults (betas 0.9/0.999, eps 1e-8, weight decay 0.01).
    pub fn adamw(lr: f64) -> Self {
        OptimizerConfig::AdamW {
            lr,
            beta1: default_beta1(),
            beta2: default_beta2(),
            eps: default_eps(),
            weight_decay: default_weight_decay(),
        }
    }

    /// SGD with momentum (no dampening, no weight decay).
    pub fn sgd(lr: f64, momentum: f64) -> Self {
        OptimizerConfig::Sgd {
            lr,
            momentum,
            dampening: 0.0,
            nesterov: false,
            weight_decay: 0.0,
        }
    }

    /// The peak learning rate.
    pub fn lr(&self) -> f64 {
        match self {
            OptimizerConfig::AdamW { lr, .. } | OptimizerConfig::Sgd { lr, .. } => *lr,
        }
    }

    /// The weight decay (AdamW's decoupled decay, SGD's L2 penalty).
    pub fn weight_decay(&self) -> f32 {
        match self {
            OptimizerConfig::AdamW { weight_decay, .. }
            | OptimizerConfig::Sgd { weight_decay, .. } => *weight_decay,
        }
    }

    /// The same optimiser with another weight decay.
    #[must_use]
    pub fn with_weight_decay(&self, decay: f32) -> Self {
        let mut out = self.clone();
        match &mut out {
            OptimizerConfig::AdamW { weight_decay, .. }
            | OptimizerConfig::Sgd { weight_decay, .. } => *weight_decay = decay,
        }
        out
    }

    /// burn's optimiser for this config.
    pub fn init(&self) -> ModuleOptimizer {
        match self.build() {
            Built::AdamW(o) => o.into(),
            Built::Sgd(o) => o.into(),
        }
    }

    /// burn's optimiser for every parameter, with one optimiser per weight-decay group:
    /// `groups` lists the parameter paths that take another decay than this config's.
    pub(crate) fn init_grouped(&self, groups: &[(f32, Vec<String>)]) -> ModuleOptimizer {
        let mut optim = self.init();
        for (decay, paths) in groups {
            let group = ParamGroup::from_paths(paths.clone());
            optim = match self.with_weight_decay(*decay).build() {
                Built::AdamW(o) => optim.with_group(group, o, None),
                Built::Sgd(o) => optim.with_group(group, o, None),
            };
        }
        optim
    }

    fn build(&self) -> Built {
        match *self {
            OptimizerConfig::AdamW {
                beta1,
                beta2,
                eps,
                weight_decay,
                ..
            } => Built::AdamW(
                AdamWConfig::new()
                    .with_beta_1(beta1)
                    .with_beta_2(beta2)
                    .with_epsilon(eps)
                    .with_weight_decay(weight_decay)
                    .build(),
            ),
            OptimizerConfig::Sgd {
                momentum,
                dampening,
                nesterov,
                weight_decay,
                ..
            } => {
                let mut config = SgdConfig::new();
                if momentum > 0.0 {
                    config = config.with_momentum(Some(MomentumConfig {
                        momentum,
                        dampening,
                        nesterov,
                    }));
                }
                if weight_decay > 0.0 {
                    config = config.with_weight_decay(Some(WeightDecayConfig {
                        penalty: weight_decay,
                    }));
                }
                Built::Sgd(config.build())
            }
        }
    }
}

enum Built {
    AdamW(AdamW),
    Sgd(Sgd),
}

/// How the learning rate moves with the optimiser step.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ScheduleConfig {
    /// The peak learning rate throughout.
    #[default]
    Constant,
    /// Linear warm-up to the peak over `warmup_steps`, then cosine decay to `min_lr` at
    /// the last step.
    WarmupCosine {
        /// Warm-up length in optimiser steps; step `k < warmup_steps` uses
        /// `lr * (k + 1) / warmup_steps`.
        warmup_steps: usize,
        /// Final learning rate.
        #[serde(default)]
        min_lr: f64,
    },
    /// Linear warm-up, then linear decay to `min_lr` at the last step.
    WarmupLinear {
        /// Warm-up length in optimiser steps.
        warmup_steps: usize,
        /// Final learning rate.
        #[serde(default)]
        min_lr: f64,
    },
}

impl ScheduleConfig {
    /// burn's scheduler for a run of `total_steps` optimiser steps peaking at `lr`.
    ///
    /// # Errors
    /// [`Error::Config`] when burn refuses the values (learning rates outside (0, 1],
    /// a warm-up not shorter than the run).
    pub fn init(&self, lr: f64, total_steps: usize) -> Result<ModuleLrScheduler> {
        self.init_grouped(lr, total_steps, &[])
    }

    /// The scheduler with one copy of the schedule per learning-rate group: `groups`
    /// lists the parameter paths whose peak rate is `lr * scale`.
    pub(crate) fn init_grouped(
        &self,
        lr: f64,
        total_steps: usize,
        groups: &[(f64, Vec<String>)],
    ) -> Result<ModuleLrScheduler> {
        let mut config = ModuleLrSchedulerConfig::new(self.lr_config(lr, total_steps)?);
        for (scale, paths) in groups {
            config = config.with_group(
                ParamGroup::from_paths(paths.clone()),
                self.lr_config(lr * scale, total_steps)?,
            );
        }
        config.init().map_err(|reason| Error::Config {
            field: "schedule",
            reason,
        })
    }

    fn lr_config(&self, lr: f64, total_steps: usize) -> Result<LrSchedulerConfig> {
        let refuse = |reason: String| Error::Config {
            field: "schedule",
            reason,
        };
        let (warmup, min_lr, cosine) = match *self {
            ScheduleConfig::Constant => return Ok(LrSchedulerConfig::Constant(lr)),
            ScheduleConfig::WarmupCosine {
                warmup_steps,
                min_lr,
            } => (warmup_steps, min_lr, true),
            ScheduleConfig::WarmupLinear {
                warmup_steps,
                min_lr,
            } => (warmup_steps, min_lr, false),
        };
        if warmup >= total_steps {
            return Err(refuse(format!(
                "warm-up ({warmup} steps) must be shorter than the run ({total_steps} steps)"
            )));
        }
        let decay_steps = total_steps - warmup;
        let decay = if cosine {
            LrSchedulerConfig::Cosine(
                CosineAnnealingLrSchedulerConfig::new(lr, decay_steps).with_min_lr(min_lr),
            )
        } else {
            LrSchedulerConfig::Linear(LinearLrSchedulerConfig::new(lr, min_lr, decay_steps))
        };
        if warmup <= 1 {
            return Ok(decay);
        }
        Ok(LrSchedulerConfig::Sequential(
            SequentialLrSchedulerConfig::new(
                vec![
                    LrSchedulerConfig::Linear(LinearLrSchedulerConfig::new(
                        lr / warmup as f64,
                        lr,
                        warmup - 1,
                    )),
                    decay,
                ],
                vec![warmup],
            ),
        ))
    }
}

/// What to do when a loss or gradient is NaN or infinite.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum NonFinitePolicy {
    /// Skip the batch (no update), count it, and go on; stop with
    /// [`Error::NonFinite`] after `max_consecutive` skips in a row.
    Skip {
        /// Consecutive skipped batches tolerated.
        max_consecutive: usize,
    },
    /// Stop, restore the last good checkpoint, and return it with
    /// [`StopReason::NonFinite`](super::StopReason::NonFinite).
    Rollback,
}

impl Default for NonFinitePolicy {
    fn default() -> Self {
        NonFinitePolicy::Skip {
            max_consecutive: 10,
        }
    }
}

/// The validation metric that decides the best checkpoint and early stopping.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Monitor {
    /// Name of a metric returned by the validation step.
    pub metric: String,
    /// Direction of improvement.
    pub goal: Goal,
    /// Stop after this many validations without improvement (`None`: never stop early).
    #[serde(default)]
    pub patience: Option<usize>,
    /// Smallest change that counts as an improvement.
    #[serde(default)]
    pub min_delta: f64,
    /// On a tie (a validation exactly equal to the best so far) the later checkpoint
    /// becomes the best, as PaddleOCR keeps its `best_accuracy` (`>=`); off, the earlier
    /// one stays, as in Hugging Face's Trainer. A tie never resets `patience`. On small
    /// validation sets accuracy often repeats while training still improves the model.
    #[serde(default)]
    pub ties_to_later: bool,
}

impl Monitor {
    /// Keep the checkpoint where `metric` is highest (no early stopping, any increase
    /// counts).
    ///
    /// ```
    /// use whet_core::train::{Goal, Monitor};
    /// let m = Monitor::maximize("accuracy");
    /// assert_eq!((m.goal, m.patience, m.min_delta), (Goal::Maximize, None, 0.0));
    /// ```
    pub fn maximize(metric: impl Into<String>) -> Self {
        Monitor {
            metric: metric.into(),
            goal: Goal::Maximize,
            patience: None,
            min_delta: 0.0,
            ties_to_later: false,
        }
    }

    /// Keep the checkpoint where `metric` is lowest (no early stopping).
    pub fn minimize(metric: impl Into<String>) -> Self {
        Monitor {
            goal: Goal::Minimize,
            ..Monitor::maximize(metric)
        }
    }
}

/// A group of parameters, chosen by path, with its own learning rate and weight decay.
///
/// Groups are matched in order and the last match wins, as in burn's `ParamGroup`. Norm
/// weights and biases (every parameter of rank 1) take no weight decay unless
/// [`TrainConfig::decay_norms_and_biases`] is set, in any group.
///
/// ```
/// use whet_core::train::ParamGroupConfig;
/// // The backbone learns ten times slower than the rest.
/// let backbone = ParamGroupConfig::new("backbone", r"^backbone\.").with_lr_scale(0.1);
/// assert!(backbone.matches("backbone.conv1.weight").unwrap());
/// assert!(!backbone.matches("head.fc.weight").unwrap());
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParamGroupConfig {
    /// A name for logs.
    pub name: String,
    /// Regular expression searched in the parameter's dotted path (`^encoder\.layers\.[0-5]\.`).
    pub pattern: String,
    /// The group's peak learning rate as a multiple of the optimiser's (the schedule's
    /// shape is the same).
    #[serde(default = "one_f64")]
    pub lr_scale: f64,
    /// The group's weight decay (`None`: the optimiser's).
    #[serde(default)]
    pub weight_decay: Option<f32>,
}

fn one_f64() -> f64 {
    1.0
}

impl ParamGroupConfig {
    /// A group of the parameters whose path matches `pattern`, with the optimiser's
    /// learning rate and decay.
    pub fn new(name: impl Into<String>, pattern: impl Into<String>) -> Self {
        ParamGroupConfig {
            name: name.into(),
            pattern: pattern.into(),
            lr_scale: 1.0,
            weight_decay: None,
        }
    }

    /// Sets the learning-rate multiple.
    #[must_use]
    pub fn with_lr_scale(mut self, scale: f64) -> Self {
        self.lr_scale = scale;
        self
    }

    /// Sets the weight decay.
    #[must_use]
    pub fn with_weight_decay(mut self, decay: f32) -> Self {
        self.weight_decay = Some(decay);
        self
    }

    /// Whether `path` belongs to the group.
    ///
    /// # Errors
    /// [`Error::Config`] when the pattern is not a valid regular expression.
    pub fn matches(&self, path: &str) -> Result<bool> {
        let group = ParamGroup::from_regex(&self.pattern).map_err(|e| Error::Config {
            field: "param_groups.pattern",
            reason: format!("{:?}: {e:?}", self.pattern),
        })?;
        Ok(group.matches(&burn::module::ParamId::from(0), Some(path)))
    }
}

/// What a checkpoint's weights file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum CheckpointWeights {
    /// Every parameter.
    #[default]
    All,
    /// Only what training changes: trainable parameters, and the state of modules that
    /// update it while training (batch-norm statistics under an enabled training flag).
    /// A LoRA run then writes its adapters, not the whole base model; resuming needs the
    /// same base model handed to `fit`, and stays bit-exact.
    Trainable,
}

/// The one configuration of a training run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    /// Seed for data order, burn's RNG (dropout, initialisation) and everything else.
    pub seed: u64,
    /// Optimiser steps to run (each consumes `grad_accum` batches).
    pub max_steps: usize,
    /// Samples per batch.
    pub batch_size: usize,
    /// Batches whose gradients are summed (and averaged) into one optimiser step.
    #[serde(default = "one")]
    pub grad_accum: usize,
    /// The optimiser.
    pub optimizer: OptimizerConfig,
    /// The learning-rate schedule.
    #[serde(default)]
    pub schedule: ScheduleConfig,
    /// Clip gradients to this global L2 norm (`None`: no clipping).
    #[serde(default)]
    pub clip_grad_norm: Option<f64>,
    /// Validate every this many optimiser steps (and at the end); `None`: only at the end.
    #[serde(default)]
    pub valid_every: Option<usize>,
    /// The metric for best-checkpoint tracking and early stopping.
    #[serde(default)]
    pub monitor: Option<Monitor>,
    /// Write a checkpoint every this many optimiser steps (and at the end).
    #[serde(default = "default_checkpoint_every")]
    pub checkpoint_every: usize,
    /// Periodic checkpoints kept on disk (the best one is kept besides).
    #[serde(default = "default_keep")]
    pub keep_checkpoints: usize,
    /// What to do with NaN or infinite losses and gradients.
    #[serde(default)]
    pub non_finite: NonFinitePolicy,
    /// Check gradients for NaN/Inf every step (one extra pass over the gradients, its
    /// global norm, which is logged). Always on when `clip_grad_norm` is set, since
    /// clipping computes that norm anyway; losses are always checked.
    #[serde(default = "yes")]
    pub check_grads: bool,
    /// Log metrics every this many optimiser steps.
    #[serde(default = "default_log_every")]
    pub log_every: usize,
    /// Drop the last incomplete batch of each epoch.
    #[serde(default = "yes")]
    pub drop_last: bool,
    /// Parameter groups with their own learning rate and weight decay (empty: one group).
    #[serde(default)]
    pub param_groups: Vec<ParamGroupConfig>,
    /// Apply weight decay to rank-1 parameters (norm weights, biases) too; off by default,
    /// as in Hugging Face's and nanoGPT's recipes.
    #[serde(default)]
    pub decay_norms_and_biases: bool,
    /// What checkpoints hold.
    #[serde(default)]
    pub checkpoint_weights: CheckpointWeights,
    /// Batches prepared ahead of the step on a worker thread (0: prepared on the training
    /// thread, in turn).
    #[serde(default = "default_prefetch")]
    pub prefetch: usize,
}

fn one() -> usize {
    1
}
fn yes() -> bool {
    true
}
fn default_checkpoint_every() -> usize {
    500
}
fn default_keep() -> usize {
    2
}
fn default_log_every() -> usize {
    10
}
fn default_prefetch() -> usize {
    2
}

impl TrainConfig {
    /// A config with the given optimiser and defaults for everything else.
    pub fn new(optimizer: OptimizerConfig, max_steps: usize, batch_size: usize) -> Self {
        TrainConfig {
            seed: 0,
            max_steps,
            batch_size,
            grad_accum: 1,
            optimizer,
            schedule: ScheduleConfig::Constant,
            clip_grad_norm: None,
            valid_every: None,
            monitor: None,
            checkpoint_every: default_checkpoint_every(),
            keep_checkpoints: default_keep(),
            non_finite: NonFinitePolicy::default(),
            check_grads: true,
            log_every: default_log_every(),
            drop_last: true,
            param_groups: Vec::new(),
            decay_norms_and_biases: false,
            checkpoint_weights: CheckpointWeights::All,
            prefetch: default_prefetch(),
        }
    }

    /// Checks values that would otherwise fail late.
    ///
    /// # Errors
    /// [`Error::Config`] naming the field.
    pub fn validate(&self) -> Result<()> {
        let bad = |field: &'static str, reason: &str| {
            Err(Error::Config {
                field,
                reason: reason.to_owned(),
            })
        };
        if self.max_steps == 0 {
            return bad("max_steps", "must be at least 1");
        }
        if self.batch_size == 0 {
            return bad("batch_size", "must be at least 1");
        }
        if self.grad_accum == 0 {
            return bad("grad_accum", "must be at least 1");
        }
        if self.checkpoint_every == 0 {
            return bad("checkpoint_every", "must be at least 1");
        }
        if self.keep_checkpoints == 0 {
            return bad("keep_checkpoints", "must be at least 1");
        }
        if self.log_every == 0 {
            return bad("log_every", "must be at least 1");
        }
        if self.valid_every == Some(0) {
            return bad("valid_every", "must be at least 1");
        }
        if let Some(norm) = self.clip_grad_norm
            && !(norm.is_finite() && norm > 0.0)
        {
            return bad("clip_grad_norm", "must be a positive number");
        }
        for group in &self.param_groups {
            group.matches("")?;
            if !(group.lr_scale.is_finite() && group.lr_scale > 0.0) {
                return bad("param_groups.lr_scale", "must be a positive number");
            }
        }
        let lr = self.optimizer.lr();
        if !(lr.is_finite() && lr > 0.0) {
            return bad("optimizer.lr", "must be a positive number");
        }
        self.schedule.init(lr, self.max_steps).map(|_| ())
    }
}

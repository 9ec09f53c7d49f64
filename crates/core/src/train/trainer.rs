//! The one training loop every Whetstone model uses.

use std::time::Instant;

use burn::module::Module;
use burn::optim::{GradientsAccumulator, GradientsParams, ModuleOptimizer};
use burn::tensor::{Device, Tensor};
use serde::Serialize;

use super::checkpoint::{BestMetric, Checkpoint, CheckpointDir, TrainState, checkpoint_name};
use super::config::{NonFinitePolicy, TrainConfig};
use super::grads::{clip_by_square_sum, grad_square_sum, scale_grads};
use super::order::DataOrder;
use super::progress::{Ema, Progress};
use super::step::{Batcher, Dataset, Metrics, TrainStep, ValidStep};
use crate::error::{Error, Result};
use crate::run::{RunDir, RunStatus};
use crate::seed::Seed;

/// Why training stopped.
#[derive(Debug, Clone, PartialEq)]
pub enum StopReason {
    /// `max_steps` optimiser steps were applied.
    MaxSteps,
    /// The monitored metric did not improve for `patience` validations.
    EarlyStopped {
        /// The step at which training stopped.
        step: usize,
    },
    /// A NaN or infinite loss or gradient under [`NonFinitePolicy::Rollback`]: the model
    /// returned is the last good checkpoint's.
    NonFinite {
        /// The step that produced it.
        step: usize,
        /// The step of the checkpoint restored.
        rolled_back_to: usize,
    },
    /// The `on_step` callback asked to stop.
    Requested {
        /// The step after which it asked.
        step: usize,
    },
}

/// What [`Trainer::fit`] returns.
#[derive(Debug)]
pub struct TrainOutcome<M> {
    /// The trained model (for `NonFinite`, the restored one).
    pub model: M,
    /// The loop's final state.
    pub state: TrainState,
    /// Why it stopped.
    pub stop: StopReason,
    /// The newest checkpoint.
    pub last_checkpoint: Checkpoint,
    /// The best checkpoint by the monitored metric, if a monitor was configured.
    pub best_checkpoint: Option<Checkpoint>,
}

/// What the `on_step` callback sees after each applied optimiser step.
#[derive(Debug)]
pub struct StepReport<'a> {
    /// Optimiser steps applied so far (this one included).
    pub step: usize,
    /// Current epoch (0-based).
    pub epoch: usize,
    /// This step's loss (mean over its accumulated batches).
    pub loss: f64,
    /// The learning rate applied.
    pub lr: f64,
    /// Global gradient norm before clipping, when computed.
    pub grad_norm: Option<f64>,
    /// The step's extra metrics (mean over accumulated batches).
    pub metrics: &'a Metrics,
    /// Validation metrics, when this step validated.
    pub validation: Option<&'a Metrics>,
}

/// The callback's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    /// Go on.
    Continue,
    /// Checkpoint and stop with [`StopReason::Requested`].
    Stop,
}

type OnStep<'a> = Box<dyn FnMut(&StepReport<'_>) -> Control + 'a>;

/// The training loop: burn's optimisers, schedulers and gradient accumulation, plus
/// global-norm clipping, NaN handling, validation, best-checkpoint tracking, early
/// stopping, exact resume, MLflow-layout logging and a progress bar.
///
/// A run lives in a [`RunDir`]; its checkpoints are in `artifacts/checkpoints/`. If that
/// folder holds a checkpoint, [`Trainer::fit`] resumes from it: same weights, optimiser
/// state, learning rate, data position and RNG streams, so the result is bit-identical
/// to an uninterrupted run on the CPU.
///
/// burn's random number generator is global to the process: for bit-exact runs, train
/// one model at a time per process (tests that train in parallel threads share it).
pub struct Trainer<'a> {
    config: TrainConfig,
    device: Device,
    run: RunDir,
    checkpoints: CheckpointDir,
    user_config: serde_json::Value,
    progress: bool,
    plot: bool,
    on_step: Option<OnStep<'a>>,
}

#[derive(Serialize)]
struct LogRecord<'a> {
    step: usize,
    epoch: usize,
    timestamp: i64,
    #[serde(flatten)]
    values: &'a Metrics,
}

impl<'a> Trainer<'a> {
    /// A trainer for `config` on `device` (made autodiff if it is not), writing to `run`.
    ///
    /// # Errors
    /// [`Error::Config`] for an invalid config; [`Error::File`].
    pub fn new(config: TrainConfig, device: &Device, run: RunDir) -> Result<Self> {
        config.validate()?;
        let checkpoints = CheckpointDir::new(run.artifacts().join("checkpoints"))?;
        Ok(Trainer {
            config,
            device: device.clone().autodiff(),
            run,
            checkpoints,
            user_config: serde_json::Value::Null,
            progress: true,
            plot: true,
            on_step: None,
        })
    }

    /// Saves `config` (the model's, the data's) beside every checkpoint and as run
    /// parameters under `user.`.
    ///
    /// # Errors
    /// [`Error::Config`] when it cannot be serialised.
    pub fn with_user_config(mut self, config: &impl Serialize) -> Result<Self> {
        self.user_config = serde_json::to_value(config).map_err(|e| Error::Config {
            field: "user_config",
            reason: e.to_string(),
        })?;
        Ok(self)
    }

    /// Shows or hides the terminal progress bar (shown by default; never drawn when
    /// stderr is not a terminal).
    #[must_use]
    pub fn with_progress(mut self, show: bool) -> Self {
        self.progress = show;
        self
    }

    /// Writes `artifacts/curves.png` at the end of the run (on by default; needs the
    /// `plot` feature).
    #[must_use]
    pub fn with_plot(mut self, plot: bool) -> Self {
        self.plot = plot;
        self
    }

    /// Calls `f` after every optimiser step; returning [`Control::Stop`] ends training.
    #[must_use]
    pub fn on_step(mut self, f: impl FnMut(&StepReport<'_>) -> Control + 'a) -> Self {
        self.on_step = Some(Box::new(f));
        self
    }

    /// The run being written.
    pub fn run(&self) -> &RunDir {
        &self.run
    }

    /// The run's checkpoints.
    pub fn checkpoints(&self) -> &CheckpointDir {
        &self.checkpoints
    }

    /// The device models and batches live on (autodiff).
    pub fn device(&self) -> &Device {
        &self.device
    }

    fn saved_config(&self) -> serde_json::Value {
        serde_json::json!({ "train": self.config, "user": self.user_config })
    }

    /// Trains `model` (freshly initialised, on [`Trainer::device`]) on `data`.
    ///
    /// Resumes from the run's latest checkpoint when there is one. `batcher` turns
    /// samples into a batch on the device; `step` computes the loss; `valid`, if given,
    /// runs every `valid_every` steps and at the end.
    ///
    /// # Errors
    /// [`Error::Dataset`] when the data cannot fill a batch; [`Error::NonFinite`] when the
    /// skip policy gives up; [`Error::Checkpoint`] / [`Error::File`] when a checkpoint
    /// cannot be written (the previous one stays intact) or read.
    pub fn fit<M, I, B>(
        &mut self,
        model: M,
        data: &dyn Dataset<I>,
        batcher: &dyn Batcher<I, B>,
        step_fn: &dyn TrainStep<M, B>,
        valid: Option<&dyn ValidStep<M>>,
    ) -> Result<TrainOutcome<M>>
    where
        M: Module,
    {
        let result = self.fit_inner(model, data, batcher, step_fn, valid);
        let status = match &result {
            Ok(outcome) => match outcome.stop {
                StopReason::NonFinite { .. } => RunStatus::Failed,
                StopReason::Requested { .. } => RunStatus::Killed,
                _ => RunStatus::Finished,
            },
            Err(_) => RunStatus::Failed,
        };
        // A failure to record the status must not hide the error that ended training.
        match (self.run.finish(status), &result) {
            (Err(e), Ok(_)) => return Err(e),
            (Err(e), Err(_)) => tracing::warn!(error = %e, "could not record the run's status"),
            (Ok(()), _) => {}
        }
        #[cfg(feature = "plot")]
        if self.plot && result.is_ok() {
            let out = self.run.artifacts().join("curves.png");
            if let Err(e) = crate::run::plot_run(&self.run, &out) {
                tracing::warn!(error = %e, "could not plot the run's curves");
            }
        }
        result
    }

    fn fit_inner<M, I, B>(
        &mut self,
        model: M,
        data: &dyn Dataset<I>,
        batcher: &dyn Batcher<I, B>,
        step_fn: &dyn TrainStep<M, B>,
        valid: Option<&dyn ValidStep<M>>,
    ) -> Result<TrainOutcome<M>>
    where
        M: Module,
    {
        let cfg = self.config.clone();
        let seed = Seed::new(cfg.seed);
        let saved_config = self.saved_config();
        let mut optim: ModuleOptimizer = cfg.optimizer.init();
        let mut scheduler = cfg.schedule.init(cfg.optimizer.lr(), cfg.max_steps)?;

        // Resume or start.
        let (mut model, mut state, mut last_ckpt) = match self.checkpoints.latest()? {
            Some(ckpt) => {
                let state = ckpt.state()?;
                let model = ckpt.load_model(model)?;
                optim = ckpt.load_optimizer(optim)?;
                for _ in 0..state.step {
                    scheduler.step();
                }
                self.run.truncate_logs(&state.log_sizes)?;
                self.run.reopen()?;
                tracing::info!(step = state.step, checkpoint = %ckpt.dir().display(), "resuming");
                (model, state, ckpt)
            }
            None => {
                self.run
                    .log_params_json("", &serde_json::to_value(&cfg).unwrap_or_default())?;
                if !self.user_config.is_null() {
                    self.run.log_params_json("user", &self.user_config)?;
                }
                let state = TrainState {
                    log_sizes: self.run.log_sizes()?,
                    ..TrainState::default()
                };
                // Step 0 is a checkpoint too: rollback and resume always have a target.
                let ckpt = self
                    .checkpoints
                    .save(&model, &optim, &state, &saved_config)?;
                (model, state, ckpt)
            }
        };

        let mut order = DataOrder::new(seed, data.len(), cfg.batch_size, cfg.drop_last);
        if order.batches_per_epoch() == 0 {
            return Err(Error::Dataset {
                reason: format!(
                    "{} samples cannot fill one batch of {} (drop_last = {})",
                    data.len(),
                    cfg.batch_size,
                    cfg.drop_last
                ),
            });
        }

        let progress = Progress::new(self.progress, cfg.max_steps, state.step, state.samples_seen);
        let mut loss_ema = Ema::new(0.98);
        let mut window = Window::default();
        let mut consecutive_skips = 0usize;
        let mut stop = StopReason::MaxSteps;
        let started = Instant::now();

        while state.step < cfg.max_steps {
            let step_index = state.step;
            // Every random draw of this step (dropout, augmentation on the device) comes
            // from a stream named after the step, so a resumed run draws the same numbers.
            self.device
                .seed(seed.derive("step").derive(&step_index.to_string()).value());

            let mut accumulator = GradientsAccumulator::<M>::new();
            let mut single: Option<GradientsParams> = None;
            let mut losses: Vec<Tensor<1>> = Vec::with_capacity(cfg.grad_accum + 1);
            let mut step_metrics = Metrics::new();
            for _ in 0..cfg.grad_accum {
                let indices = order
                    .next(&mut state.cursor)
                    .ok_or_else(|| Error::Dataset {
                        reason: "no batch available".into(),
                    })?;
                state.samples_seen += indices.len() as u64;
                let items = indices
                    .iter()
                    .map(|&i| {
                        data.get(i).ok_or_else(|| Error::Dataset {
                            reason: format!(
                                "sample {i} missing (dataset reports {} samples)",
                                data.len()
                            ),
                        })
                    })
                    .collect::<Result<Vec<I>>>()?;
                let batch = batcher.batch(items, &self.device);
                let out = step_fn.step(&model, batch);
                losses.push(out.loss.clone().inner().reshape([1]));
                for (k, v) in out.metrics {
                    *step_metrics.entry(k).or_insert(0.0) += v / cfg.grad_accum as f64;
                }
                let grads = GradientsParams::from_grads(out.loss.backward(), &model);
                if cfg.grad_accum == 1 {
                    single = Some(grads);
                } else {
                    accumulator.accumulate(&model, grads);
                }
            }

            let mut grads = match single {
                Some(g) => g,
                None => accumulator.grads(),
            };
            if cfg.grad_accum > 1 {
                scale_grads(&model, &mut grads, 1.0 / cfg.grad_accum as f64);
            }
            // Gradient statistics and clipping stay on the device; the losses and the
            // gradients' sum of squares then come back to the host in one read, the step's
            // only synchronisation (each extra one stalls the backend's pipeline).
            let square_sum = if cfg.clip_grad_norm.is_some() || cfg.check_grads {
                grad_square_sum(&model, &grads)
            } else {
                None
            };
            if let (Some(max), Some(sq)) = (cfg.clip_grad_norm, &square_sum) {
                clip_by_square_sum(&model, &mut grads, sq, max);
            }
            let n_losses = losses.len();
            if let Some(sq) = square_sum {
                losses.push(sq);
            }
            let values: Vec<f32> = Tensor::cat(losses, 0)
                .into_data()
                .try_into_vec::<f32>()
                .map_err(|e| Error::Readback {
                    what: "the step's losses",
                    reason: format!("{e:?}"),
                })?;
            let loss_sum: f64 = values[..n_losses].iter().map(|&v| f64::from(v)).sum();
            let grad_norm = <[f32]>::get(&values, n_losses).map(|sq| f64::from(*sq).sqrt());
            let non_finite = if values[..n_losses].iter().any(|v| !v.is_finite()) {
                Some("loss")
            } else if grad_norm.is_some_and(|n| !n.is_finite()) {
                Some("gradient")
            } else {
                None
            };

            if let Some(what) = non_finite {
                state.skipped_batches += 1;
                self.run.log_metric(
                    "train/skipped_batches",
                    state.skipped_batches as f64,
                    step_index as u64,
                )?;
                match cfg.non_finite {
                    NonFinitePolicy::Skip { max_consecutive } => {
                        consecutive_skips += 1;
                        tracing::warn!(
                            step = step_index,
                            what,
                            consecutive_skips,
                            "non-finite value: batch skipped"
                        );
                        if consecutive_skips > max_consecutive {
                            return Err(Error::NonFinite {
                                what,
                                step: step_index,
                                reason: format!(
                                    "{consecutive_skips} batches in a row skipped (max {max_consecutive})"
                                ),
                            });
                        }
                        continue;
                    }
                    NonFinitePolicy::Rollback => {
                        let restored = last_ckpt.load_model(model)?;
                        let rolled_back_to = last_ckpt.state()?.step;
                        tracing::error!(
                            step = step_index,
                            what,
                            rolled_back_to,
                            "non-finite value: rolled back"
                        );
                        progress.finish();
                        let best_checkpoint = self.checkpoints.best()?;
                        return Ok(TrainOutcome {
                            model: restored,
                            state: last_ckpt.state()?,
                            stop: StopReason::NonFinite {
                                step: step_index,
                                rolled_back_to,
                            },
                            last_checkpoint: last_ckpt,
                            best_checkpoint,
                        });
                    }
                }
            }
            consecutive_skips = 0;

            let lr = scheduler.step();
            let lr_value = lr.base();
            model = optim.step(lr, model, grads);
            state.step += 1;
            let step_loss = loss_sum / cfg.grad_accum as f64;
            let ema = loss_ema.push(step_loss);
            window.push(step_loss, lr_value, grad_norm, &step_metrics);

            if state.step % cfg.log_every == 0 || state.step == cfg.max_steps {
                let mut values = window.drain();
                values.insert(
                    "train/samples_per_sec".into(),
                    progress.throughput(state.samples_seen),
                );
                self.log(state.step, state.cursor.epoch, &values)?;
            }
            progress.update(
                state.step,
                ema,
                lr_value,
                progress.throughput(state.samples_seen),
            );

            // Validation, best checkpoint, early stopping.
            let mut validation = None;
            let mut improved = false;
            let validate_now =
                cfg.valid_every.is_some_and(|n| state.step % n == 0) || state.step == cfg.max_steps;
            if let (true, Some(valid)) = (validate_now, valid) {
                let metrics = valid.validate(&model.valid());
                let logged: Metrics = metrics
                    .iter()
                    .map(|(k, v)| (format!("valid/{k}"), *v))
                    .collect();
                self.log(state.step, state.cursor.epoch, &logged)?;
                progress.println(format!("step {}: {}", state.step, fmt_metrics(&metrics)));
                tracing::info!(step = state.step, metrics = %fmt_metrics(&metrics), "validation");
                if let Some(monitor) = &cfg.monitor {
                    let value = *metrics.get(&monitor.metric).ok_or_else(|| Error::Config {
                        field: "monitor.metric",
                        reason: format!(
                            "validation returned no {:?} (it returned {:?})",
                            monitor.metric,
                            metrics.keys().collect::<Vec<_>>()
                        ),
                    })?;
                    improved = match &state.best {
                        None => value.is_finite(),
                        Some(best) => monitor.goal.improves(value, best.value, monitor.min_delta),
                    };
                    if improved {
                        state.best = Some(BestMetric {
                            value,
                            step: state.step,
                            checkpoint: checkpoint_name(state.step),
                        });
                        state.stale_validations = 0;
                    } else {
                        state.stale_validations += 1;
                        if monitor
                            .patience
                            .is_some_and(|p| state.stale_validations >= p)
                        {
                            stop = StopReason::EarlyStopped { step: state.step };
                        }
                    }
                }
                validation = Some(metrics);
            }

            let mut control = Control::Continue;
            if let Some(cb) = self.on_step.as_mut() {
                control = cb(&StepReport {
                    step: state.step,
                    epoch: state.cursor.epoch,
                    loss: step_loss,
                    lr: lr_value,
                    grad_norm,
                    metrics: &step_metrics,
                    validation: validation.as_ref(),
                });
            }
            if control == Control::Stop {
                stop = StopReason::Requested { step: state.step };
            }
            let finishing = state.step == cfg.max_steps || stop != StopReason::MaxSteps;

            if improved || finishing || state.step % cfg.checkpoint_every == 0 {
                state.log_sizes = self.run.log_sizes()?;
                last_ckpt = self
                    .checkpoints
                    .save(&model, &optim, &state, &saved_config)?;
                if improved {
                    self.checkpoints.set_best(&last_ckpt)?;
                }
                self.checkpoints.prune(cfg.keep_checkpoints)?;
            }
            if finishing {
                break;
            }
        }
        progress.finish();
        tracing::info!(
            steps = state.step,
            seconds = started.elapsed().as_secs_f64(),
            skipped = state.skipped_batches,
            stop = ?stop,
            "training finished"
        );
        let best_checkpoint = self.checkpoints.best()?;
        Ok(TrainOutcome {
            model,
            state,
            stop,
            last_checkpoint: last_ckpt,
            best_checkpoint,
        })
    }

    fn log(&mut self, step: usize, epoch: usize, values: &Metrics) -> Result<()> {
        for (k, v) in values {
            self.run.log_metric(k, *v, step as u64)?;
        }
        self.run.append_jsonl(&LogRecord {
            step,
            epoch,
            timestamp: crate::run::now_ms(),
            values,
        })
    }
}

fn fmt_metrics(m: &Metrics) -> String {
    m.iter()
        .map(|(k, v)| format!("{k} {v:.4}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Means of the logged quantities since the last log line.
#[derive(Default)]
struct Window {
    n: usize,
    sums: Metrics,
    norms: usize,
}

impl Window {
    fn push(&mut self, loss: f64, lr: f64, grad_norm: Option<f64>, metrics: &Metrics) {
        self.n += 1;
        *self.sums.entry("train/loss".into()).or_insert(0.0) += loss;
        *self.sums.entry("train/lr".into()).or_insert(0.0) += lr;
        if let Some(n) = grad_norm {
            self.norms += 1;
            *self.sums.entry("train/grad_norm".into()).or_insert(0.0) += n;
        }
        for (k, v) in metrics {
            *self.sums.entry(format!("train/{k}")).or_insert(0.0) += v;
        }
    }

    fn drain(&mut self) -> Metrics {
        let n = self.n.max(1) as f64;
        let norms = self.norms.max(1) as f64;
        let out = std::mem::take(&mut self.sums)
            .into_iter()
            .map(|(k, v)| {
                let d = if k == "train/grad_norm" { norms } else { n };
                (k, v / d)
            })
            .collect();
        self.n = 0;
        self.norms = 0;
        out
    }
}

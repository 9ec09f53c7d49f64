//! The one training loop every Whetstone model uses.

use std::time::Instant;

use burn::lr_scheduler::module_lr_scheduler::ModuleLrScheduler;
use burn::module::Module;
use burn::optim::{GradientsAccumulator, GradientsParams, ModuleOptimizer};
use burn::tensor::{Device, Tensor};
use serde::Serialize;

use super::checkpoint::{BestMetric, Checkpoint, CheckpointDir, TrainState, checkpoint_name};
use super::config::{NonFinitePolicy, TrainConfig};
use super::grads::{clip_by_square_sum, grad_square_sum, scale_grads, scale_grads_by};
use super::groups::{grouped_optim, param_settings};
use super::loader::{Batches, Loader};
use super::order::DataOrder;
use super::progress::{Ema, Progress};
use super::step::{Batcher, Dataset, Metrics, TrainStep, ValidStep};
use super::step_values::{Accumulated, LogRecord, Window, fmt_metrics};
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

impl<'a> Trainer<'a> {
    /// A trainer for `config` on `device` (made autodiff if it is not), writing to `run`.
    ///
    /// # Errors
    /// [`Error::Config`] for an invalid config; [`Error::File`].
    pub fn new(config: TrainConfig, device: &Device, run: RunDir) -> Result<Self> {
        config.validate()?;
        let checkpoints = CheckpointDir::new(run.artifacts().join("checkpoints"))?
            .with_weights(config.checkpoint_weights);
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
        batcher: &(dyn Batcher<I, B> + Sync),
        step_fn: &dyn TrainStep<M, B>,
        valid: Option<&dyn ValidStep<M>>,
    ) -> Result<TrainOutcome<M>>
    where
        M: Module,
        B: Send,
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
        batcher: &(dyn Batcher<I, B> + Sync),
        step_fn: &dyn TrainStep<M, B>,
        valid: Option<&dyn ValidStep<M>>,
    ) -> Result<TrainOutcome<M>>
    where
        M: Module,
        B: Send,
    {
        let cfg = self.config.clone();
        let settings = param_settings(&model, &cfg)?;
        let (optim, scheduler) = grouped_optim(&cfg, &settings)?;
        let run = self.start_or_resume(model, optim, scheduler)?;

        let order = DataOrder::new(
            Seed::new(cfg.seed),
            data.len(),
            cfg.batch_size,
            cfg.drop_last,
        );
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
        let loader = Loader {
            order,
            seed: Seed::new(cfg.seed),
            cursor: run.state.cursor,
            device: self.device.clone(),
        };
        let run = std::thread::scope(|scope| {
            let mut batches = if cfg.prefetch == 0 {
                Batches::Inline(loader)
            } else {
                let (tx, rx) = std::sync::mpsc::sync_channel(cfg.prefetch);
                scope.spawn(move || loader.produce(data, batcher, &tx));
                Batches::Prefetched(rx)
            };
            let result = self.train_loop(run, &mut batches, data, batcher, step_fn, valid);
            // Dropping the receiver stops the worker.
            drop(batches);
            result
        })?;
        let RunState {
            model,
            state,
            last_ckpt,
            stop,
            ..
        } = run;
        let best_checkpoint = self.checkpoints.best()?;
        Ok(TrainOutcome {
            model,
            state,
            stop,
            last_checkpoint: last_ckpt,
            best_checkpoint,
        })
    }

    /// Restores the run's latest checkpoint into `model` and `optim`, or writes step 0.
    fn start_or_resume<M: Module>(
        &mut self,
        model: M,
        mut optim: ModuleOptimizer,
        mut scheduler: ModuleLrScheduler,
    ) -> Result<RunState<M>> {
        let saved_config = self.saved_config();
        let (model, state, last_ckpt) = match self.checkpoints.latest()? {
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
                    .log_params_json("", &serde_json::to_value(&self.config).unwrap_or_default())?;
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
        Ok(RunState {
            progress: Progress::new(
                self.progress,
                self.config.max_steps,
                state.step,
                state.samples_seen,
            ),
            model,
            state,
            last_ckpt,
            optim,
            scheduler,
            stop: StopReason::MaxSteps,
            loss_ema: Ema::new(0.98),
            window: Window::default(),
            consecutive_skips: 0,
        })
    }

    fn train_loop<M, I, B>(
        &mut self,
        mut run: RunState<M>,
        batches: &mut Batches<B>,
        data: &dyn Dataset<I>,
        batcher: &(dyn Batcher<I, B> + Sync),
        step_fn: &dyn TrainStep<M, B>,
        valid: Option<&dyn ValidStep<M>>,
    ) -> Result<RunState<M>>
    where
        M: Module,
    {
        let cfg = self.config.clone();
        let seed = Seed::new(cfg.seed);
        let started = Instant::now();
        while run.state.step < cfg.max_steps {
            let step_index = run.state.step;
            // Every random draw of this step on the device (dropout) comes from a stream
            // named after the step, so a resumed run draws the same numbers.
            self.device
                .seed(seed.derive("step").derive(&step_index.to_string()).value());

            let accumulated = self.accumulate(&mut run, batches, data, batcher, step_fn)?;
            let read = accumulated.read_back()?;
            if let Some(what) = read.non_finite() {
                if self.on_non_finite(&mut run, step_index, what)? {
                    // Rolled back: the last good checkpoint's weights end the run.
                    run.model = run.last_ckpt.load_model(run.model)?;
                    return Ok(run);
                }
                continue;
            }
            run.consecutive_skips = 0;

            let lr = run.scheduler.step();
            let lr_value = lr.base();
            run.model = run.optim.step(lr, run.model, accumulated.grads);
            run.state.step += 1;
            let step_loss = read.loss;
            let ema = run.loss_ema.push(step_loss);
            run.window
                .push(step_loss, lr_value, read.grad_norm, &read.metrics);
            if run.state.step.is_multiple_of(cfg.log_every) || run.state.step == cfg.max_steps {
                let mut values = run.window.drain();
                values.insert(
                    "train/samples_per_sec".into(),
                    run.progress.throughput(run.state.samples_seen),
                );
                self.log(run.state.step, run.state.cursor.epoch, &values)?;
            }
            run.progress.update(
                run.state.step,
                ema,
                lr_value,
                run.progress.throughput(run.state.samples_seen),
            );

            let (validation, improved) = self.validate(&mut run, valid)?;
            if let Some(cb) = self.on_step.as_mut() {
                let control = cb(&StepReport {
                    step: run.state.step,
                    epoch: run.state.cursor.epoch,
                    loss: step_loss,
                    lr: lr_value,
                    grad_norm: read.grad_norm,
                    metrics: &read.metrics,
                    validation: validation.as_ref(),
                });
                if control == Control::Stop {
                    run.stop = StopReason::Requested {
                        step: run.state.step,
                    };
                }
            }
            let finishing = run.state.step == cfg.max_steps || run.stop != StopReason::MaxSteps;
            if improved || finishing || run.state.step.is_multiple_of(cfg.checkpoint_every) {
                self.checkpoint(&mut run, improved)?;
            }
            if finishing {
                break;
            }
        }
        run.progress.finish();
        tracing::info!(
            steps = run.state.step,
            seconds = started.elapsed().as_secs_f64(),
            skipped = run.state.skipped_batches,
            stop = ?run.stop,
            "training finished"
        );
        Ok(run)
    }

    /// Runs `grad_accum` micro-batches forward and backward; their gradients summed and
    /// normalised (by their count, or by their total weight), still on the device.
    fn accumulate<M, I, B>(
        &self,
        run: &mut RunState<M>,
        batches: &mut Batches<B>,
        data: &dyn Dataset<I>,
        batcher: &(dyn Batcher<I, B> + Sync),
        step_fn: &dyn TrainStep<M, B>,
    ) -> Result<Accumulated>
    where
        M: Module,
    {
        let cfg = &self.config;
        let mut accumulator = GradientsAccumulator::<M>::new();
        let mut single: Option<GradientsParams> = None;
        let mut acc = Accumulated::default();
        for micro in 0..cfg.grad_accum {
            let prepared = batches.next(data, batcher)?;
            run.state.samples_seen += prepared.samples as u64;
            run.state.cursor = prepared.cursor;
            let out = step_fn.step(&run.model, prepared.batch);
            let weighted = out.weight.is_some();
            if micro > 0 && weighted != acc.weights.is_some() {
                return Err(Error::Config {
                    field: "StepOutput::weight",
                    reason: "every micro-batch of a step must return a weight, or none".into(),
                });
            }
            acc.losses.push(out.loss.clone().inner().reshape([1]));
            if let Some(w) = out.weight {
                acc.weights
                    .get_or_insert_with(Vec::new)
                    .push(w.inner().reshape([1]));
            }
            for (k, v) in out.metrics {
                *acc.metrics.entry(k).or_insert(0.0) += v / cfg.grad_accum as f64;
            }
            acc.tensor_metrics.extend(
                out.tensor_metrics
                    .into_iter()
                    .map(|(k, v)| (k, v.inner().reshape([1]))),
            );
            let grads = GradientsParams::from_grads(out.loss.backward(), &run.model);
            if cfg.grad_accum == 1 {
                single = Some(grads);
            } else {
                accumulator.accumulate(&run.model, grads);
            }
        }
        let mut grads = match single {
            Some(g) => g,
            None => accumulator.grads(),
        };
        match &acc.weights {
            // Sums over items: divided by the step's total weight, on the device.
            Some(weights) => {
                let total = Tensor::cat(weights.clone(), 0)
                    .sum()
                    .to_device(&self.device);
                scale_grads_by(&run.model, &mut grads, total.recip());
            }
            None if cfg.grad_accum > 1 => {
                scale_grads(&run.model, &mut grads, 1.0 / cfg.grad_accum as f64);
            }
            None => {}
        }
        // Gradient statistics and clipping stay on the device; everything the host needs
        // then comes back in one read, the step's only synchronisation (each extra one
        // stalls the backend's pipeline).
        let square_sum = if cfg.clip_grad_norm.is_some() || cfg.check_grads {
            grad_square_sum(&run.model, &grads)
        } else {
            None
        };
        if let (Some(max), Some(sq)) = (cfg.clip_grad_norm, &square_sum) {
            clip_by_square_sum(&run.model, &mut grads, sq, max);
        }
        acc.square_sum = square_sum;
        acc.grads = grads;
        Ok(acc)
    }

    /// Skips the batch (`false`) or ends the run rolled back to its last checkpoint
    /// (`true`: the caller restores the weights).
    fn on_non_finite<M: Module>(
        &mut self,
        run: &mut RunState<M>,
        step_index: usize,
        what: &'static str,
    ) -> Result<bool> {
        run.state.skipped_batches += 1;
        self.run.log_metric(
            "train/skipped_batches",
            run.state.skipped_batches as f64,
            step_index as u64,
        )?;
        match self.config.non_finite {
            NonFinitePolicy::Skip { max_consecutive } => {
                run.consecutive_skips += 1;
                tracing::warn!(
                    step = step_index,
                    what,
                    consecutive_skips = run.consecutive_skips,
                    "non-finite value: batch skipped"
                );
                if run.consecutive_skips > max_consecutive {
                    return Err(Error::NonFinite {
                        what,
                        step: step_index,
                        reason: format!(
                            "{} batches in a row skipped (max {max_consecutive})",
                            run.consecutive_skips
                        ),
                    });
                }
                Ok(false)
            }
            NonFinitePolicy::Rollback => {
                let rolled_back_to = run.last_ckpt.state()?.step;
                tracing::error!(
                    step = step_index,
                    what,
                    rolled_back_to,
                    "non-finite value: rolled back"
                );
                run.progress.finish();
                run.state = run.last_ckpt.state()?;
                run.stop = StopReason::NonFinite {
                    step: step_index,
                    rolled_back_to,
                };
                Ok(true)
            }
        }
    }

    /// Validates when due: the metrics, and whether this step became the best (which
    /// also updates the best metric and early stopping).
    fn validate<M: Module>(
        &mut self,
        run: &mut RunState<M>,
        valid: Option<&dyn ValidStep<M>>,
    ) -> Result<(Option<Metrics>, bool)> {
        let cfg = &self.config;
        let step = run.state.step;
        let due = cfg.valid_every.is_some_and(|n| step.is_multiple_of(n)) || step == cfg.max_steps;
        let Some(valid) = valid.filter(|_| due) else {
            return Ok((None, false));
        };
        let metrics = valid.validate(&run.model.valid());
        let logged: Metrics = metrics
            .iter()
            .map(|(k, v)| (format!("valid/{k}"), *v))
            .collect();
        self.log(step, run.state.cursor.epoch, &logged)?;
        run.progress
            .println(format!("step {step}: {}", fmt_metrics(&metrics)));
        tracing::info!(step, metrics = %fmt_metrics(&metrics), "validation");
        let Some(monitor) = &self.config.monitor else {
            return Ok((Some(metrics), false));
        };
        let value = *metrics.get(&monitor.metric).ok_or_else(|| Error::Config {
            field: "monitor.metric",
            reason: format!(
                "validation returned no {:?} (it returned {:?})",
                monitor.metric,
                metrics.keys().collect::<Vec<_>>()
            ),
        })?;
        let (improved, tie) = match &run.state.best {
            None => (value.is_finite(), false),
            Some(best) => (
                monitor.goal.improves(value, best.value, monitor.min_delta),
                monitor.ties_to_later && value == best.value,
            ),
        };
        if improved || tie {
            run.state.best = Some(BestMetric {
                value,
                step,
                checkpoint: checkpoint_name(step),
            });
        }
        if improved {
            run.state.stale_validations = 0;
        } else {
            run.state.stale_validations += 1;
            if monitor
                .patience
                .is_some_and(|p| run.state.stale_validations >= p)
            {
                run.stop = StopReason::EarlyStopped { step };
            }
        }
        Ok((Some(metrics), improved || tie))
    }

    fn checkpoint<M: Module>(&mut self, run: &mut RunState<M>, best: bool) -> Result<()> {
        run.state.log_sizes = self.run.log_sizes()?;
        run.last_ckpt =
            self.checkpoints
                .save(&run.model, &run.optim, &run.state, &self.saved_config())?;
        if best {
            self.checkpoints.set_best(&run.last_ckpt)?;
        }
        self.checkpoints.prune(self.config.keep_checkpoints)
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

/// Everything the loop carries from step to step.
struct RunState<M> {
    model: M,
    state: TrainState,
    last_ckpt: Checkpoint,
    optim: ModuleOptimizer,
    scheduler: ModuleLrScheduler,
    stop: StopReason,
    progress: Progress,
    loss_ema: Ema,
    window: Window,
    consecutive_skips: usize,
}

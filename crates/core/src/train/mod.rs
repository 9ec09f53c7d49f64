//! The shared training engine: one loop for every model.
//!
//! The [`Trainer`] composes what burn 0.22 already has (its optimisers, learning-rate
//! schedulers, gradient accumulator, burn-store's safetensors) and adds what a
//! fine-tuning run needs around them: global-norm gradient clipping, freezing by
//! parameter path, NaN/Inf handling, validation with best-checkpoint tracking and early
//! stopping, checkpoints that resume bit-exactly, MLflow-layout logging and a progress bar.
//!
//! ```
//! use whet_core::burn::nn::{Linear, LinearConfig};
//! use whet_core::burn::tensor::{Device, Tensor, TensorData};
//! use whet_core::run::RunDir;
//! use whet_core::train::{OptimizerConfig, StepOutput, TrainConfig, Trainer};
//!
//! // y = 2x - 1 from 64 samples.
//! let data: Vec<(f32, f32)> = (0..64).map(|i| { let x = i as f32 / 64.0; (x, 2.0 * x - 1.0) }).collect();
//! let batcher = |items: Vec<(f32, f32)>, device: &Device| {
//!     let n = items.len();
//!     let (x, y): (Vec<f32>, Vec<f32>) = items.into_iter().unzip();
//!     (Tensor::<2>::from_data(TensorData::new(x, [n, 1]), device),
//!      Tensor::<2>::from_data(TensorData::new(y, [n, 1]), device))
//! };
//! let step = |model: &Linear, (x, y): (Tensor<2>, Tensor<2>)| {
//!     StepOutput::new((model.forward(x) - y).powi_scalar(2).mean())
//! };
//!
//! # let tmp = tempfile::tempdir()?;
//! let run = RunDir::create(tmp.path().join("mlruns"), "doc", "linear")?;
//! let config = TrainConfig::new(OptimizerConfig::adamw(0.05), 200, 16);
//! let mut trainer = Trainer::new(config, &Device::flex(), run)?.with_progress(false);
//! // Seed weight initialisation so the run is reproducible.
//! whet_core::seed::Seed::new(7).apply(trainer.device());
//! let model = LinearConfig::new(1, 1).init(trainer.device());
//! let outcome = trainer.fit(model, &data, &batcher, &step, None)?;
//! let w = outcome.model.weight.val().into_scalar::<f32>();
//! assert!((w - 2.0).abs() < 0.1, "learned w = {w}");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod checkpoint;
mod config;
mod grads;
mod groups;
mod loader;
mod order;
mod params;
mod progress;
mod step;
mod step_values;
mod trainer;

pub use checkpoint::{
    BestMetric, Checkpoint, CheckpointDir, DataCursor, TrainState, checkpoint_name,
};
pub use config::{
    CheckpointWeights, Goal, Monitor, NonFinitePolicy, OptimizerConfig, ParamGroupConfig,
    ScheduleConfig, TrainConfig,
};
pub use grads::{clip_grad_norm, global_grad_norm, scale_grads};
pub use groups::{ParamSettings, param_settings};
pub use params::{ParamInfo, changing_params, freeze_statistics, freeze_where, list_params};
pub use step::{
    BatchRng, Batcher, Dataset, Metrics, Seeded, StepOutput, TrainStep, ValidStep, seeded,
};
pub use trainer::{Control, StepReport, StopReason, TrainOutcome, Trainer};

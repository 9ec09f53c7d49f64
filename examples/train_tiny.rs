//! The whole training engine on a task small enough for any CPU: a model of your own (an
//! MLP telling three interleaved spirals apart) trained by the Trainer, **killed**
//! part-way, **resumed** by the same command from its last checkpoint, and its best
//! checkpoint **registered**, promoted only if it beats production.
//!
//! ```text
//! cargo run -p whet-examples --example train_tiny -- --kill-at 250   # aborts at step 250
//! cargo run -p whet-examples --example train_tiny                    # resumes, finishes
//! mlflow ui --backend-store-uri whet-out/mlruns     # MLFLOW_ALLOW_FILE_STORE=true on MLflow 3
//! ```
#![allow(clippy::print_stdout)] // reporting is this program's job

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use burn::module::Module;
use burn::nn::loss::CrossEntropyLossConfig;
use burn::nn::{Linear, LinearConfig};
use burn::tensor::{Device, Int, Tensor, TensorData, activation::relu};
use clap::Parser;
use rand::Rng;
use serde::{Deserialize, Serialize};
use whet_core::registry::{NewVersion, PromotionRule, Registry};
use whet_core::train::{Goal, Metrics, Monitor, OptimizerConfig, ScheduleConfig};
use whet_core::train::{StepOutput, TrainConfig, Trainer};
use whet_core::{DeviceSpec, Seed, data::Fingerprint, run::RunDir};

#[derive(Parser, Debug)]
struct Args {
    /// Output folder (MLflow runs and the model registry go inside).
    #[arg(long, default_value = "whet-out")]
    out: PathBuf,
    #[arg(long, default_value_t = 600)]
    steps: usize,
    /// Abort the process at this step, a simulated crash (0: never).
    #[arg(long, default_value_t = 0)]
    kill_at: usize,
    /// Seed for data, initialisation and training.
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// `cpu`, `wgpu`, `cuda:0`; defaults to $WHET_DEVICE, then cpu.
    #[arg(long)]
    device: Option<String>,
}

/// The model's own configuration, saved beside every checkpoint.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct MlpConfig {
    hidden: usize,
    classes: usize,
}

/// `[batch, 2] -> [batch, classes]` logits.
#[derive(Module, Debug)]
struct Mlp {
    layers: Vec<Linear>,
}

impl MlpConfig {
    fn init(&self, device: &Device) -> Mlp {
        let widths = [2, self.hidden, self.hidden, self.classes];
        let layers = widths
            .windows(2)
            .map(|w| LinearConfig::new(w[0], w[1]).init(device));
        Mlp {
            layers: layers.collect(),
        }
    }
}

impl Mlp {
    fn forward(&self, mut x: Tensor<2>) -> Tensor<2> {
        let last = self.layers.len() - 1;
        for (i, layer) in self.layers.iter().enumerate() {
            x = layer.forward(x);
            if i < last {
                x = relu(x);
            }
        }
        x
    }
}

/// Three noisy spirals: a point and its class.
fn spirals(n: usize, seed: Seed) -> Vec<([f32; 2], i64)> {
    let mut rng = seed.rng();
    (0..n)
        .map(|i| {
            let class = (i % 3) as i64;
            let t: f32 = rng.random_range(0.05..1.0);
            let angle = t * 7.0 + class as f32 * 2.0 * std::f32::consts::PI / 3.0;
            let (nx, ny): (f32, f32) =
                (rng.random_range(-0.06..0.06), rng.random_range(-0.06..0.06));
            ([t * angle.cos() + nx, t * angle.sin() + ny], class)
        })
        .collect()
}

fn batch(items: &[([f32; 2], i64)], device: &Device) -> (Tensor<2>, Tensor<1, Int>) {
    let x: Vec<f32> = items.iter().flat_map(|(p, _)| *p).collect();
    let y: Vec<i64> = items.iter().map(|(_, c)| *c).collect();
    let n = items.len();
    let x = Tensor::from_data(TensorData::new(x, [n, 2]), device);
    (x, Tensor::from_data(TensorData::new(y, [n]), device))
}

fn accuracy(model: &Mlp, data: &[([f32; 2], i64)], device: &Device) -> f64 {
    let (x, y) = batch(data, device);
    let right = model.forward(x).argmax(1).reshape([data.len()]).equal(y);
    right.int().sum().into_scalar::<i64>() as f64 / data.len() as f64
}

fn main() -> Result<()> {
    whet_examples::init_tracing();
    let args = Args::parse();
    let device = DeviceSpec::from_arg_or_env(args.device.as_deref())?.autodiff_device()?;
    let seed = Seed::new(args.seed);
    seed.apply(&device);
    let mlp = MlpConfig {
        hidden: 64,
        classes: 3,
    };
    let (train, valid) = (
        spirals(3000, seed.derive("train")),
        spirals(600, seed.derive("valid")),
    );
    let loss = CrossEntropyLossConfig::new().init(&device);
    let step = |m: &Mlp, (x, y)| StepOutput::new(loss.forward(m.forward(x), y));
    let batcher = |items: Vec<_>, device: &Device| batch(&items, device);
    let validate = |m: &Mlp| Metrics::from([("accuracy".into(), accuracy(m, &valid, &device))]);

    let mut config = TrainConfig::new(OptimizerConfig::adamw(0.01), args.steps, 64);
    config.seed = args.seed;
    config.schedule = ScheduleConfig::WarmupCosine {
        warmup_steps: 30,
        min_lr: 1e-4,
    };
    (config.clip_grad_norm, config.valid_every) = (Some(1.0), Some(50));
    config.checkpoint_every = 100;
    config.monitor = Some(Monitor::maximize("accuracy"));
    // An unfinished (killed) run of this name is resumed from its last checkpoint.
    let name = format!("spirals-seed{}", args.seed);
    let run = RunDir::resume_or_create(args.out.join("mlruns"), "train_tiny", &name)?;
    let run_id = run.run_id().to_owned();
    let mut trainer = Trainer::new(config.clone(), &device, run)?
        .with_user_config(&mlp)?
        .on_step(whet_examples::crash_at(Some(args.kill_at)));
    let outcome = trainer.fit(mlp.init(&device), &train, &batcher, &step, Some(&validate))?;
    let best = outcome
        .best_checkpoint
        .context("a monitored run has a best checkpoint")?;
    let acc = accuracy(
        &best.load_model(mlp.init(&device))?.valid(),
        &valid,
        &device,
    );
    println!(
        "best checkpoint {} with validation accuracy {acc:.4}",
        best.dir().display()
    );

    let registry = Registry::open(args.out.join("registry"))?;
    let meta = NewVersion::new().metric("accuracy", acc).run(run_id);
    let meta = meta
        .dataset(Fingerprint::of_records(&train)?)
        .config(serde_json::to_value(&config)?);
    let version = registry.register("spirals", best.dir(), meta)?;
    let rule = PromotionRule::new("accuracy", Goal::Maximize, 0.01);
    let decision = registry.promote_if_improved("spirals", version.version, &rule)?;
    let verdict = if decision.promoted {
        "promoted"
    } else {
        "kept as candidate"
    };
    println!(
        "registered spirals v{}: {verdict} ({})",
        version.version, decision.reason
    );
    if acc < 0.9 {
        bail!("validation accuracy {acc:.3} is below 0.9: training is broken");
    }
    Ok(())
}

//! The whole training engine on a task small enough for any CPU: an MLP learns to tell
//! three interleaved spirals apart. The run is **killed** part-way (a child process
//! aborts itself between checkpoints), **resumed** from its last checkpoint, and the
//! best model is **registered** and promoted only if it beats production.
//!
//! ```text
//! cargo run -p whet-examples --example train_tiny -- --out whet-out
//! mlflow ui --backend-store-uri whet-out/mlruns     # MLFLOW_ALLOW_FILE_STORE=true on MLflow 3
//! ```
#![allow(clippy::print_stdout)] // reporting is this program's job

use std::path::PathBuf;
use std::process::Command;

use anyhow::{Context, Result, bail};
use burn::module::Module;
use burn::nn::loss::CrossEntropyLossConfig;
use burn::nn::{Linear, LinearConfig, Relu};
use burn::tensor::{Device, Int, Tensor, TensorData};
use clap::Parser;
use serde::{Deserialize, Serialize};
use whet_core::data::Fingerprint;
use whet_core::registry::{NewVersion, PromotionRule, Registry};
use whet_core::run::RunDir;
use whet_core::train::{
    Goal, Metrics, Monitor, OptimizerConfig, ScheduleConfig, StepOutput, TrainConfig, Trainer,
};
use whet_core::{DeviceSpec, Seed};

#[derive(Parser, Debug)]
#[command(about = "Train, get killed, resume, register: the training engine end to end")]
struct Args {
    /// Output folder (MLflow runs and the model registry go inside).
    #[arg(long, default_value = "whet-out")]
    out: PathBuf,
    /// Optimiser steps.
    #[arg(long, default_value_t = 600)]
    steps: usize,
    /// The step at which the first attempt is killed (0: do not kill it).
    #[arg(long, default_value_t = 250)]
    kill_at: usize,
    /// Seed for data, initialisation and training.
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// Device (`cpu`, `wgpu`, `cuda:0`); defaults to $WHET_DEVICE, then cpu.
    #[arg(long)]
    device: Option<String>,
    /// Internal: train in this existing run folder (the child process).
    #[arg(long, hide = true)]
    child_run: Option<PathBuf>,
}

/// The model's own configuration, saved beside every checkpoint.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct ModelConfig {
    hidden: usize,
    classes: usize,
}

/// `[batch, 2] -> [batch, classes]` logits.
#[derive(Module, Debug)]
struct Mlp {
    l1: Linear,
    l2: Linear,
    out: Linear,
    act: Relu,
}

impl Mlp {
    fn new(c: &ModelConfig, device: &Device) -> Self {
        Mlp {
            l1: LinearConfig::new(2, c.hidden).init(device),
            l2: LinearConfig::new(c.hidden, c.hidden).init(device),
            out: LinearConfig::new(c.hidden, c.classes).init(device),
            act: Relu::new(),
        }
    }
    fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        let h = self.act.forward(self.l1.forward(x));
        let h = self.act.forward(self.l2.forward(h));
        self.out.forward(h)
    }
}

type Sample = ([f32; 2], i64);

/// Three noisy spirals.
fn spirals(n: usize, seed: Seed) -> Vec<Sample> {
    use rand::Rng;
    let mut rng = seed.rng();
    (0..n)
        .map(|i| {
            let class = (i % 3) as i64;
            let t: f32 = rng.random_range(0.05..1.0);
            let angle = t * 7.0 + class as f32 * 2.0 * std::f32::consts::PI / 3.0;
            let (nx, ny): (f32, f32) =
                (rng.random_range(-0.06..0.06), rng.random_range(-0.06..0.06));
            let p = [t * angle.cos() + nx, t * angle.sin() + ny];
            (p, class)
        })
        .collect()
}

fn batch(items: &[Sample], device: &Device) -> (Tensor<2>, Tensor<1, Int>) {
    let n = items.len();
    let x: Vec<f32> = items.iter().flat_map(|(p, _)| *p).collect();
    let y: Vec<i64> = items.iter().map(|(_, c)| *c).collect();
    (
        Tensor::from_data(TensorData::new(x, [n, 2]), device),
        Tensor::from_data(TensorData::new(y, [n]), device),
    )
}

fn accuracy(model: &Mlp, data: &[Sample]) -> f64 {
    let device = model.l1.weight.val().device();
    let (x, y) = batch(data, &device);
    let pred = model.forward(x).argmax(1).reshape([data.len()]);
    let correct = pred.equal(y).int().sum().into_scalar::<i64>();
    correct as f64 / data.len() as f64
}

fn config(args: &Args) -> TrainConfig {
    let mut c = TrainConfig::new(OptimizerConfig::adamw(0.01), args.steps, 64);
    c.seed = args.seed;
    c.schedule = ScheduleConfig::WarmupCosine {
        warmup_steps: 30,
        min_lr: 1e-4,
    };
    c.clip_grad_norm = Some(1.0);
    c.valid_every = Some(50);
    c.checkpoint_every = 100;
    c.monitor = Some(Monitor {
        metric: "accuracy".into(),
        goal: Goal::Maximize,
        patience: None,
        min_delta: 0.0,
    });
    c
}

/// Trains in `run` until done (or until `abort_at`, where the process kills itself).
fn train(args: &Args, run: RunDir, abort_at: Option<usize>) -> Result<(Mlp, f64, PathBuf)> {
    let device = DeviceSpec::from_arg_or_env(args.device.as_deref())?.autodiff_device()?;
    Seed::new(args.seed).apply(&device);
    let model_config = ModelConfig {
        hidden: 64,
        classes: 3,
    };
    let model = Mlp::new(&model_config, &device);
    let train_data = spirals(3000, Seed::new(args.seed).derive("train"));
    let valid_data = spirals(600, Seed::new(args.seed).derive("valid"));
    let loss = CrossEntropyLossConfig::new().init(&device);

    let step = |m: &Mlp, (x, y): (Tensor<2>, Tensor<1, Int>)| {
        StepOutput::new(loss.forward(m.forward(x), y))
    };
    let batcher = |items: Vec<Sample>, device: &Device| batch(&items, device);
    let valid = |m: &Mlp| Metrics::from([("accuracy".to_owned(), accuracy(m, &valid_data))]);

    let mut trainer = Trainer::new(config(args), &device, run)?
        .with_user_config(&model_config)?
        .on_step(whet_examples::crash_at(abort_at));
    let outcome = trainer.fit(model, &train_data, &batcher, &step, Some(&valid))?;
    let best = outcome
        .best_checkpoint
        .context("a monitored run has a best checkpoint")?;
    let best_model = best.load_model(Mlp::new(&model_config, &device))?;
    let acc = accuracy(&best_model.valid(), &valid_data);
    Ok((best_model, acc, best.dir().to_owned()))
}

fn main() -> Result<()> {
    whet_examples::init_tracing();
    let args = Args::parse();

    if let Some(run_path) = &args.child_run {
        // The first attempt, in a child process that dies at --kill-at.
        let run = RunDir::open(run_path)?;
        train(&args, run, Some(args.kill_at))?;
        bail!("the child was meant to be killed at step {}", args.kill_at);
    }

    // Fail early (typed error, exit status 1) on a device this build cannot create.
    DeviceSpec::from_arg_or_env(args.device.as_deref())?.device()?;

    let mlruns = args.out.join("mlruns");
    let run_name = format!("spirals-seed{}-{}", args.seed, std::process::id());
    let run = RunDir::create(&mlruns, "train_tiny", &run_name)?;
    println!("run: {}", run.path().display());

    if args.kill_at > 0 && args.kill_at < args.steps {
        println!(
            "attempt 1: training in a child process that will be killed at step {}",
            args.kill_at
        );
        let status = Command::new(std::env::current_exe()?)
            .args(std::env::args_os().skip(1))
            .arg("--child-run")
            .arg(run.path())
            .status()?;
        if status.success() {
            bail!("the first attempt was supposed to die");
        }
        let latest = std::fs::read_to_string(run.artifacts().join("checkpoints/latest"))?;
        println!("attempt 1 died ({status}); last checkpoint on disk: {latest}");
    }

    println!("attempt 2: resuming");
    // The killed run is unfinished: resumed, not started again.
    let run = RunDir::resume_or_create(&mlruns, "train_tiny", &run_name)?;
    let run_id = run.run_id().to_owned();
    let (_, acc, best_dir) = train(&args, run, None)?;
    println!(
        "best checkpoint {} with validation accuracy {acc:.4}",
        best_dir.display()
    );

    let registry = Registry::open(args.out.join("registry"))?;
    let dataset = Fingerprint::of_records(&spirals(3000, Seed::new(args.seed).derive("train")))?;
    let version = registry.register(
        "spirals",
        &best_dir,
        NewVersion::new()
            .metric("accuracy", acc)
            .dataset(dataset)
            .run(run_id)
            .config(serde_json::to_value(config(&args))?),
    )?;
    let decision = registry.promote_if_improved(
        "spirals",
        version.version,
        &PromotionRule::new("accuracy", Goal::Maximize, 0.01),
    )?;
    println!(
        "registered spirals v{}: {} ({})",
        version.version,
        if decision.promoted {
            "promoted to production"
        } else {
            "kept as candidate"
        },
        decision.reason
    );
    if acc < 0.9 {
        bail!("validation accuracy {acc:.3} is below 0.9: training is broken");
    }
    Ok(())
}

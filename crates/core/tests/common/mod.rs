//! A tiny model, task and training setup shared by the trainer tests.
#![allow(dead_code)]

use burn::module::{Module, ModuleVisitor, Param};
use burn::nn::{Dropout, DropoutConfig, Linear, LinearConfig, Relu};
use burn::tensor::{Device, Tensor, TensorData};
use whet_core::run::RunDir;
use whet_core::train::{
    Metrics, NonFinitePolicy, OptimizerConfig, ScheduleConfig, StepOutput, TrainConfig, Trainer,
};

/// burn's RNG is global to the process, so tests that initialise models or train with
/// dropout take this lock to stay deterministic while the harness runs them in parallel.
pub fn serial() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// `[batch, 4] -> [batch, 1]`, with dropout so the RNG matters.
#[derive(Module, Debug)]
pub struct Net {
    pub first: Linear,
    pub act: Relu,
    pub drop: Dropout,
    pub second: Linear,
}

impl Net {
    pub fn new(device: &Device) -> Self {
        Net {
            first: LinearConfig::new(4, 16).init(device),
            act: Relu::new(),
            drop: DropoutConfig::new(0.1).init(),
            second: LinearConfig::new(16, 1).init(device),
        }
    }
    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        self.second
            .forward(self.drop.forward(self.act.forward(self.first.forward(x))))
    }
}

pub type Sample = ([f32; 4], f32);

/// y = x0 - 2 x1 + 0.5 x2 x3, deterministic.
pub fn dataset(n: usize) -> Vec<Sample> {
    (0..n)
        .map(|i| {
            let f = |k: usize| (((i * 37 + k * 11) % 101) as f32 / 50.0) - 1.0;
            let x = [f(0), f(1), f(2), f(3)];
            (x, x[0] - 2.0 * x[1] + 0.5 * x[2] * x[3])
        })
        .collect()
}

pub fn batcher(items: Vec<Sample>, device: &Device) -> (Tensor<2>, Tensor<2>) {
    let n = items.len();
    let x: Vec<f32> = items.iter().flat_map(|(x, _)| *x).collect();
    let y: Vec<f32> = items.iter().map(|(_, y)| *y).collect();
    (
        Tensor::from_data(TensorData::new(x, [n, 4]), device),
        Tensor::from_data(TensorData::new(y, [n, 1]), device),
    )
}

pub fn step(model: &Net, (x, y): (Tensor<2>, Tensor<2>)) -> StepOutput {
    StepOutput::new((model.forward(x) - y).powi_scalar(2).mean())
}

pub fn valid_mse(model: &Net) -> Metrics {
    let device = model.first.weight.val().device();
    let (x, y) = batcher(dataset(64), &device);
    let mse = (model.forward(x) - y)
        .powi_scalar(2)
        .mean()
        .into_scalar::<f32>();
    Metrics::from([("mse".to_owned(), f64::from(mse))])
}

/// A config exercising most of the engine: AdamW, warm-up + cosine, accumulation,
/// clipping, validation, periodic checkpoints.
pub fn config(max_steps: usize) -> TrainConfig {
    let mut c = TrainConfig::new(OptimizerConfig::adamw(0.02), max_steps, 8);
    c.seed = 11;
    c.grad_accum = 2;
    c.schedule = ScheduleConfig::WarmupCosine {
        warmup_steps: 5,
        min_lr: 0.001,
    };
    c.clip_grad_norm = Some(1.0);
    c.valid_every = Some(10);
    c.checkpoint_every = 10;
    c.keep_checkpoints = 3;
    c.log_every = 5;
    c.non_finite = NonFinitePolicy::Skip { max_consecutive: 3 };
    c
}

pub fn trainer<'a>(config: TrainConfig, run: RunDir) -> Trainer<'a> {
    Trainer::new(config, &Device::flex(), run)
        .unwrap()
        .with_progress(false)
        .with_plot(false)
}

/// Every float parameter's values, in visiting order.
pub fn weights(model: &Net) -> Vec<Vec<f32>> {
    struct Collect(Vec<Vec<f32>>);
    impl ModuleVisitor for Collect {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            self.0
                .push(param.val().into_data().try_into_vec::<f32>().unwrap());
        }
    }
    let mut c = Collect(Vec::new());
    model.visit(&mut c);
    c.0
}

/// Bit patterns, so equality means bit-identical (and NaN-safe).
pub fn bits(w: &[Vec<f32>]) -> Vec<Vec<u32>> {
    w.iter()
        .map(|v| v.iter().map(|x| x.to_bits()).collect())
        .collect()
}

//! The smallest end-to-end training run: a two-layer perceptron learns
//! `y = sin(3x) + x^2 / 2` on the CPU, printing its loss as it falls.
//!
//! ```text
//! cargo run -p whet-examples --example hello_train -- --steps 300
//! WHET_DEVICE=wgpu cargo run -p whet-examples --features wgpu --example hello_train
//! ```
//!
//! It exits with an error (status 1) if the loss did not fall at least tenfold, so it
//! doubles as a smoke test of the whole stack: device choice, seeding, autodiff, AdamW.
#![allow(clippy::print_stdout)] // printing the loss curve is this program's job

use anyhow::{Result, bail};
use burn::module::Module;
use burn::nn::{Linear, LinearConfig, Relu};
use burn::optim::{AdamWConfig, GradientsParams};
use burn::tensor::{Device, Tensor, TensorData};
use clap::Parser;
use rand::Rng;
use whet_core::{DeviceSpec, Seed};

#[derive(Parser, Debug)]
#[command(about = "Train a tiny MLP end to end and watch the loss fall")]
struct Args {
    /// Optimisation steps.
    #[arg(long, default_value_t = 400)]
    steps: usize,
    /// Batch size.
    #[arg(long, default_value_t = 64)]
    batch: usize,
    /// Learning rate for AdamW.
    #[arg(long, default_value_t = 1e-2)]
    lr: f64,
    /// Seed for weights and data.
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// Device (`cpu`, `wgpu`, `wgpu:cpu`, `cuda:0`); defaults to $WHET_DEVICE, then cpu.
    #[arg(long)]
    device: Option<DeviceSpec>,
}

/// `[batch, 1] -> [batch, 1]`
#[derive(Module, Debug)]
struct Mlp {
    hidden: Linear,
    act: Relu,
    out: Linear,
}

impl Mlp {
    fn new(width: usize, device: &Device) -> Self {
        Mlp {
            hidden: LinearConfig::new(1, width).init(device),
            act: Relu::new(),
            out: LinearConfig::new(width, 1).init(device),
        }
    }

    fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        self.out.forward(self.act.forward(self.hidden.forward(x)))
    }
}

fn target(x: f32) -> f32 {
    (3.0 * x).sin() + 0.5 * x * x
}

fn batch(rng: &mut impl Rng, n: usize, device: &Device) -> (Tensor<2>, Tensor<2>) {
    let xs: Vec<f32> = (0..n).map(|_| rng.random_range(-1.0f32..1.0)).collect();
    let ys: Vec<f32> = xs.iter().map(|&x| target(x)).collect();
    (
        Tensor::from_data(TensorData::new(xs, [n, 1]), device),
        Tensor::from_data(TensorData::new(ys, [n, 1]), device),
    )
}

fn mse(pred: Tensor<2>, y: Tensor<2>) -> Tensor<1> {
    (pred - y).powi_scalar(2).mean()
}

fn main() -> Result<()> {
    whet_examples::init_tracing();
    let args = Args::parse();
    let spec = match args.device {
        Some(spec) => spec,
        None => DeviceSpec::from_env()?,
    };
    let device = spec.autodiff_device()?;
    let mut rng = Seed::new(args.seed).apply(&device);

    let mut model = Mlp::new(32, &device);
    let mut optim = AdamWConfig::new().init();
    let (val_x, val_y) = batch(&mut rng, 512, &device);
    let eval = |model: &Mlp| -> f32 {
        mse(
            model.valid().forward(val_x.clone().inner()),
            val_y.clone().inner(),
        )
        .into_scalar::<f32>()
    };

    let first = eval(&model);
    println!(
        "device {spec}, {} steps of batch {}",
        args.steps, args.batch
    );
    println!("step {:>5}  validation mse {first:.5}", 0);
    let report_every = (args.steps / 8).max(1);
    for step in 1..=args.steps {
        let (x, y) = batch(&mut rng, args.batch, &device);
        let loss = mse(model.forward(x), y);
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = optim.step(args.lr, model, grads);
        if step % report_every == 0 || step == args.steps {
            println!("step {step:>5}  validation mse {:.5}", eval(&model));
        }
    }
    let last = eval(&model);
    println!(
        "validation mse {first:.5} -> {last:.5} ({:.0}x lower)",
        first / last
    );
    if last.is_nan() || last * 10.0 >= first {
        bail!("the loss did not fall tenfold ({first} -> {last}): something is broken");
    }
    Ok(())
}

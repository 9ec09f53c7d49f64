//! Per-step cost of the whet-core Trainer against a hand-written burn loop on the same
//! model, data and optimiser. Target: under 3% overhead.
//!
//! Both sides time only the steady state: the Trainer's per-step clock runs from its
//! first to its last `on_step` callback, so run creation and the step-0 and final
//! checkpoints are outside it, while everything the Trainer does on every step (loss
//! read-back and NaN check, global gradient norm, logging every 10 steps, progress
//! accounting) is inside. `whet_trainer_no_grad_check` turns off the per-step gradient
//! NaN/Inf check (`TrainConfig::check_grads`), the one extra pass over the gradients.
//!
//! `hand_written_loop_reading_loss` is the same minimal loop reading its loss back every
//! step, as any loop that logs or checks its loss must.
//!
//! `cargo bench -p whet-benches --bench trainer_overhead`
#![allow(missing_docs)]
#![allow(clippy::print_stdout)] // the paired ratio is this bench's report

use std::cell::Cell;
use std::time::{Duration, Instant};

use burn::module::Module;
use burn::nn::{Linear, LinearConfig, Relu};
use burn::optim::GradientsParams;
use burn::tensor::{Device, Tensor, TensorData};
use criterion::{Criterion, criterion_group};
use whet_core::Seed;
use whet_core::run::RunDir;
use whet_core::train::{Control, OptimizerConfig, StepOutput, TrainConfig, Trainer};

const IN: usize = 784;
const HIDDEN: usize = 256;
const OUT: usize = 10;
const BATCH: usize = 64;

/// `[batch, 784] -> [batch, 10]`: an MNIST-sized MLP.
#[derive(Module, Debug)]
struct Mlp {
    l1: Linear,
    l2: Linear,
    l3: Linear,
    act: Relu,
}

impl Mlp {
    fn new(device: &Device) -> Self {
        Mlp {
            l1: LinearConfig::new(IN, HIDDEN).init(device),
            l2: LinearConfig::new(HIDDEN, HIDDEN).init(device),
            l3: LinearConfig::new(HIDDEN, OUT).init(device),
            act: Relu::new(),
        }
    }
    fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        let h = self.act.forward(self.l1.forward(x));
        let h = self.act.forward(self.l2.forward(h));
        self.l3.forward(h)
    }
}

type Sample = (Vec<f32>, Vec<f32>);

fn data(n: usize) -> Vec<Sample> {
    (0..n)
        .map(|i| {
            let x: Vec<f32> = (0..IN)
                .map(|j| ((i * 31 + j * 7) % 97) as f32 / 97.0)
                .collect();
            let y: Vec<f32> = (0..OUT)
                .map(|j| if (i + j) % OUT == 0 { 1.0 } else { 0.0 })
                .collect();
            (x, y)
        })
        .collect()
}

fn batcher(items: Vec<Sample>, device: &Device) -> (Tensor<2>, Tensor<2>) {
    let n = items.len();
    let x: Vec<f32> = items.iter().flat_map(|(x, _)| x.iter().copied()).collect();
    let y: Vec<f32> = items.iter().flat_map(|(_, y)| y.iter().copied()).collect();
    (
        Tensor::from_data(TensorData::new(x, [n, IN]), device),
        Tensor::from_data(TensorData::new(y, [n, OUT]), device),
    )
}

fn loss(model: &Mlp, (x, y): (Tensor<2>, Tensor<2>)) -> Tensor<1> {
    (model.forward(x) - y).powi_scalar(2).mean()
}

/// The minimal burn loop; `read_loss` adds the per-step loss read-back any loop that
/// logs its loss has. Like the Trainer (and like any real training loop), it reshuffles
/// the samples every epoch and gathers each batch from the shuffled order, so that both
/// sides copy the same bytes from the same kind of memory layout.
fn hand_loop(device: &Device, samples: &[Sample], iters: u64, read_loss: bool) -> Duration {
    use rand::SeedableRng;
    use rand::seq::SliceRandom;
    Seed::new(1).apply(device);
    let mut model = Mlp::new(device);
    let mut optim = OptimizerConfig::adamw(1e-3).init();
    let per_epoch = samples.len() / BATCH;
    let mut order: Vec<usize> = (0..samples.len()).collect();
    let mut start = Instant::now();
    for i in 0..=iters as usize {
        if i == 1 {
            start = Instant::now(); // step 0 is the warm-up, as in the Trainer run
        }
        let (epoch, b) = (i / per_epoch, i % per_epoch);
        if b == 0 {
            order.sort_unstable();
            order.shuffle(&mut rand_chacha::ChaCha8Rng::seed_from_u64(epoch as u64));
        }
        let items: Vec<Sample> = order[b * BATCH..(b + 1) * BATCH]
            .iter()
            .map(|&k| samples[k].clone())
            .collect();
        let batch = batcher(items, device);
        let l = loss(&model, batch);
        if read_loss {
            std::hint::black_box(l.clone().into_scalar::<f32>());
        }
        let grads = GradientsParams::from_grads(l.backward(), &model);
        model = optim.step(1e-3, model, grads);
    }
    // Wait for the last update, as the Trainer's loss read-back does.
    let _ = model.l3.bias.as_ref().map(|b| b.val().into_data());
    start.elapsed()
}

/// The Trainer, timed from its first to its last `on_step` callback.
fn trainer_loop(device: &Device, samples: &[Sample], iters: u64, check_grads: bool) -> Duration {
    let tmp = tempfile::tempdir().expect("temp dir");
    let run = RunDir::create(tmp.path(), "bench", "trainer").expect("run");
    let mut config = TrainConfig::new(OptimizerConfig::adamw(1e-3), iters as usize + 1, BATCH);
    config.checkpoint_every = usize::MAX;
    config.check_grads = check_grads;
    Seed::new(1).apply(device);
    let model = Mlp::new(device);
    let first = Cell::new(None::<Instant>);
    let elapsed = Cell::new(Duration::ZERO);
    let last = iters as usize + 1;
    let mut trainer = Trainer::new(config, device, run)
        .expect("trainer")
        .with_progress(false)
        .with_plot(false)
        .on_step(|r| {
            if r.step == 1 {
                first.set(Some(Instant::now()));
            } else if r.step == last {
                elapsed.set(first.get().map(|t| t.elapsed()).unwrap_or_default());
            }
            Control::Continue
        });
    let step = |m: &Mlp, b| StepOutput::new(loss(m, b));
    trainer
        .fit(model, &samples.to_vec(), &batcher, &step, None)
        .expect("fit");
    elapsed.get()
}

fn bench(c: &mut Criterion) {
    let device = Device::flex().autodiff();
    let samples = data(BATCH * 32);
    let mut group = c.benchmark_group("trainer_overhead");
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(20));
    group.bench_function("hand_written_loop", |b| {
        b.iter_custom(|iters| hand_loop(&device, &samples, iters, false))
    });
    group.bench_function("hand_written_loop_reading_loss", |b| {
        b.iter_custom(|iters| hand_loop(&device, &samples, iters, true))
    });
    group.bench_function("whet_trainer", |b| {
        b.iter_custom(|iters| trainer_loop(&device, &samples, iters, true))
    });
    group.bench_function("whet_trainer_no_grad_check", |b| {
        b.iter_custom(|iters| trainer_loop(&device, &samples, iters, false))
    });
    group.finish();
}

/// Paired, interleaved comparison: criterion measures each variant in its own time
/// window, and on a shared 2-core machine the windows drift by more than the overhead
/// being measured. Here each round runs the hand-written loop and the Trainer back to back
/// (alternating which goes first) for the same number of steps, and the ratio of the two
/// is taken per round; the median over rounds is the figure `docs/benchmarks.md` quotes.
fn paired_ratio(device: &Device, samples: &[Sample]) {
    const ROUNDS: usize = 61;
    const STEPS: u64 = 200;
    let mut vs_minimal = Vec::new();
    let mut vs_reading = Vec::new();
    let mut unchecked = Vec::new();
    for round in 0..ROUNDS {
        let run = |which: usize| match which {
            0 => hand_loop(device, samples, STEPS, false),
            1 => hand_loop(device, samples, STEPS, true),
            2 => trainer_loop(device, samples, STEPS, true),
            _ => trainer_loop(device, samples, STEPS, false),
        };
        let order: [usize; 4] = if round % 2 == 0 {
            [0, 1, 2, 3]
        } else {
            [3, 2, 1, 0]
        };
        let mut t = [0.0f64; 4];
        for which in order {
            t[which] = run(which).as_secs_f64();
        }
        vs_minimal.push(t[2] / t[0]);
        vs_reading.push(t[2] / t[1]);
        unchecked.push(t[3] / t[0]);
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        (v[v.len() / 2], v[v.len() / 4], v[3 * v.len() / 4])
    };
    for (name, v) in [
        ("whet_trainer / hand_written_loop", &mut vs_minimal),
        (
            "whet_trainer / hand_written_loop_reading_loss",
            &mut vs_reading,
        ),
        (
            "whet_trainer_no_grad_check / hand_written_loop",
            &mut unchecked,
        ),
    ] {
        let (m, q1, q3) = median(v);
        println!(
            "paired ratio {name}: median {m:.4} (quartiles {q1:.4}..{q3:.4}, {ROUNDS} rounds of {STEPS} steps)"
        );
    }
}

criterion_group!(benches, bench);

/// One variant for a fixed number of steps, for instruction counting under callgrind
/// (`WHET_BENCH_VARIANT` = hand | hand_reading | trainer | trainer_no_grad_check,
/// `WHET_BENCH_STEPS`): instruction counts do not drift with the machine's load, so the
/// difference between two step counts gives the exact per-step work of each variant.
fn single_variant() {
    let variant = std::env::var("WHET_BENCH_VARIANT").unwrap_or_default();
    let steps: u64 = std::env::var("WHET_BENCH_STEPS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(100);
    let device = Device::flex().autodiff();
    let samples = data(BATCH * 32);
    let t = match variant.as_str() {
        "hand" => hand_loop(&device, &samples, steps, false),
        "hand_reading" => hand_loop(&device, &samples, steps, true),
        "trainer" => trainer_loop(&device, &samples, steps, true),
        "trainer_no_grad_check" => trainer_loop(&device, &samples, steps, false),
        other => panic!("unknown WHET_BENCH_VARIANT {other:?}"),
    };
    println!("{variant} {steps} steps {:.3} s", t.as_secs_f64());
}

fn main() {
    if std::env::var_os("WHET_BENCH_VARIANT").is_some() {
        single_variant();
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
    // `cargo test --all-targets` runs benches once as smoke tests, without `--bench`.
    if std::env::args().any(|a| a == "--bench") {
        paired_ratio(&Device::flex().autodiff(), &data(BATCH * 32));
    }
}

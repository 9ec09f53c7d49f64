//! The kernels every Whetstone model spends its time in, on burn-flex (the CPU backend):
//! f32 matrix multiply at 1024^3 and at SmolLM2-135M's real shapes (a 64-token prompt
//! through the MLP's up projection and the tied output head, one generated token through
//! the up projection), a 3x3 convolution, a 5x5 depthwise convolution (PP-LCNetV3's;
//! Whetstone's kernel, and burn's as `..._burn` with no peer),
//! softmax and layer norm over the last dimension.
//!
//! `scripts/bench-kernels.sh` runs this with `--side-by-side` (it then prints
//! `rust <kernel> <seconds>` lines, the median of several timed repeats) alternating with
//! `scripts/bench/kernels_ref.py`, the same kernels in numpy (OpenBLAS) and PyTorch on the
//! CPU. Without the flag it is a criterion bench of the same kernels.
#![allow(missing_docs)]
#![allow(clippy::print_stdout)] // the side-by-side figures are this bench's report

use std::time::Instant;

use burn::tensor::activation::softmax;
use burn::tensor::module::{conv2d, layer_norm};
use burn::tensor::ops::ConvOptions;
use burn::tensor::{Device, Distribution, Tensor};
use criterion::{Criterion, criterion_group};
use whet_core::ops::depthwise_conv2d;

/// One kernel: its name (shared with the Python side) and a closure that runs it once on
/// inputs made beforehand and waits for the result.
struct Kernel {
    name: &'static str,
    run: Box<dyn Fn()>,
}

fn rand<const D: usize>(shape: [usize; D], device: &Device) -> Tensor<D> {
    Tensor::random(shape, Distribution::Normal(0.0, 1.0), device)
}

/// Reads one value back: burn-flex runs eagerly, but the read keeps the timer honest on
/// any backend.
fn wait<const D: usize>(t: Tensor<D>) {
    let _ = t.flatten::<1>(0, D - 1).narrow(0, 0, 1).into_data();
}

fn matmul(name: &'static str, m: usize, k: usize, n: usize, device: &Device) -> Kernel {
    let (a, b) = (rand([m, k], device), rand([k, n], device));
    Kernel {
        name,
        run: Box::new(move || wait(a.clone().matmul(b.clone()))),
    }
}

/// A 2-D convolution of `x` (`[1, channels, h, w]`) by `k x k` kernels, stride 1,
/// padded to keep the size; `groups == channels` makes it depthwise, run as Whetstone runs
/// it (`whet_core::ops::depthwise_conv2d`) unless `burn` (burn's `conv2d`).
fn conv(
    name: &'static str,
    channels: usize,
    hw: usize,
    k: usize,
    groups: usize,
    burn: bool,
    device: &Device,
) -> Kernel {
    let x = rand([1, channels, hw, hw], device);
    let w = rand([channels, channels / groups, k, k], device);
    let opts = ConvOptions::new([1, 1], [k / 2, k / 2], [1, 1], groups);
    let run: Box<dyn Fn()> = if groups == channels && !burn {
        Box::new(move || wait(depthwise_conv2d(x.clone(), w.clone(), None, opts.clone())))
    } else {
        Box::new(move || wait(conv2d(x.clone(), w.clone(), None, opts.clone())))
    };
    Kernel { name, run }
}

fn kernels(device: &Device) -> Vec<Kernel> {
    let soft = {
        let x = rand([4096, 1024], device);
        Kernel {
            name: "softmax_4096x1024",
            run: Box::new(move || wait(softmax(x.clone(), 1))),
        }
    };
    let norm = {
        let (x, g, b) = (
            rand([4096, 576], device),
            rand([576], device),
            rand([576], device),
        );
        Kernel {
            name: "layernorm_4096x576",
            run: Box::new(move || wait(layer_norm(x.clone(), g.clone(), Some(b.clone()), 1e-5))),
        }
    };
    vec![
        matmul("matmul_1024x1024x1024", 1024, 1024, 1024, device),
        matmul("matmul_64x576x1536", 64, 576, 1536, device),
        matmul("matmul_1x576x1536", 1, 576, 1536, device),
        matmul("matmul_64x576x49152", 64, 576, 49152, device),
        conv("conv3x3_64x160x160", 64, 160, 3, 1, false, device),
        conv("depthwise5x5_256x80x80", 256, 80, 5, 256, false, device),
        conv("depthwise5x5_256x80x80_burn", 256, 80, 5, 256, true, device),
        soft,
        norm,
    ]
}

/// Median seconds of one run of `k`, over repeats of at least `budget` seconds in all.
fn median_seconds(k: &Kernel, budget: f64) -> f64 {
    (k.run)();
    let mut times = Vec::new();
    let start = Instant::now();
    while times.len() < 5 || (start.elapsed().as_secs_f64() < budget && times.len() < 1000) {
        let t = Instant::now();
        (k.run)();
        times.push(t.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

fn bench(c: &mut Criterion) {
    let device = Device::flex();
    let mut group = c.benchmark_group("kernels");
    group.sample_size(10);
    for k in kernels(&device) {
        group.bench_function(k.name, |b| b.iter(|| (k.run)()));
    }
    group.finish();
}

criterion_group!(benches, bench);

fn main() {
    if std::env::args().any(|a| a == "--side-by-side") {
        for k in kernels(&Device::flex()) {
            println!("rust {} {:.9}", k.name, median_seconds(&k, 1.0));
        }
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}

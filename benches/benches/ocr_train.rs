//! Training throughput of PP-OCRv4 in burn: one full optimiser step (forward, loss,
//! backward, global-norm clipping at 5, AdamW) of
//! - the detector at 640 x 640, batch 4: `DbTrainNet` (probability and threshold branches)
//!   with PaddleOCR's DB loss, every parameter trained;
//! - the recognizer at 48 x 320, batch 32: SVTR-LCNet with CTC loss (6,625 classes, 20
//!   characters per line), every parameter trained.
//!
//! The batches are made once (their labels with `det_batch` / `rec_batch`) and fed again
//! every step, so both sides time the model and the optimiser, not data preparation.
//! `scripts/bench-ocr-train.sh` alternates this with `scripts/bench/ocr_train_ref.py`, the
//! same networks converted from the same ONNX files to PyTorch; with `--side-by-side`
//! this bench prints `rust det_step_seconds <v>` and `rust rec_step_seconds <v>`. The
//! device is `$WHET_DEVICE`'s (`DeviceSpec::from_env`: the CPU when unset, with its allocator
//! tuning, as the examples get it; `wgpu` in a build with `--features whet-core/wgpu`).
#![allow(missing_docs)]
#![allow(clippy::print_stdout, clippy::print_stderr)] // the side-by-side figures are this bench's report

use std::path::PathBuf;
use std::time::Instant;
use whet_core::geom::{Polygon, TextRegion};

use burn::module::Module;
use burn::optim::GradientsParams;
use burn::optim::ModuleOptimizer;
use burn::tensor::Device;
use criterion::{Criterion, criterion_group};
use image::{Rgb, RgbImage};
use whet_core::DeviceSpec;
use whet_core::train::{OptimizerConfig, StepOutput, clip_grad_norm};
use whet_ocr_det::train::{
    DbLabelConfig, DbTrainNet, DetBatch, DetItem, RecBatch, RecItem, RecShape, det_batch, det_step,
    rec_batch, rec_step,
};
use whet_ocr_det::{DET_FILE, DbNet, REC_FILE, SvtrRecognizer};

const LR: f64 = 1e-4;

/// `assets/rapidocr-1.4.4`, or `$WHET_OCR_WEIGHTS` (a binary run away from its sources).
fn weights() -> PathBuf {
    std::env::var_os("WHET_OCR_WEIGHTS").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../assets/rapidocr-1.4.4"),
        PathBuf::from,
    )
}

/// Pseudo-random pixels, the same for every run.
fn noise(w: u32, h: u32, seed: u32) -> RgbImage {
    RgbImage::from_fn(w, h, |x, y| {
        let v = (x.wrapping_mul(73_856_093)
            ^ y.wrapping_mul(19_349_663)
            ^ seed.wrapping_mul(83_492_791))
            % 251;
        Rgb([v as u8, (v * 3 % 251) as u8, (v * 7 % 251) as u8])
    })
}

/// Four 640 x 640 pages, each with twelve text bars of 560 x 24 pixels (the script draws
/// the same bars).
fn det_data(device: &Device) -> DetBatch {
    let items: Vec<DetItem> = (0..4)
        .map(|k| DetItem {
            image: noise(640, 640, k),
            regions: (0..12)
                .map(|i| {
                    let y = 30.0 + 50.0 * f64::from(i);
                    TextRegion::new(Polygon::rect(40.0, y, 600.0, y + 24.0), "")
                })
                .collect(),
        })
        .collect();
    det_batch(&items, &DbLabelConfig::default(), device)
}

/// Thirty-two 320 x 48 lines of twenty characters each.
fn rec_data(dict: &whet_ocr_det::CharDict, device: &Device) -> RecBatch {
    let items: Vec<RecItem> = (0..32)
        .map(|k| RecItem {
            image: noise(320, 48, k),
            text: "TOTAL 1,234.50 VAT12".to_owned(),
        })
        .collect();
    rec_batch(&items, dict, RecShape::default(), device)
}

/// Seconds per training step (forward and loss by `step`, backward, clipping, AdamW)
/// over `steps` steps after two warm-up steps; `wait` reads a weight, since the last
/// update is lazy until then.
fn seconds_per_step<M: Module, B: Clone>(
    mut model: M,
    batch: &B,
    step: impl Fn(&M, B) -> StepOutput,
    steps: usize,
    wait: impl Fn(&M),
) -> f64 {
    let mut optim: ModuleOptimizer = OptimizerConfig::adamw(LR).init();
    let mut t = Instant::now();
    for i in 0..steps + 2 {
        if i == 2 {
            t = Instant::now();
        }
        let out = step(&model, batch.clone());
        let mut grads = GradientsParams::from_grads(out.loss.backward(), &model);
        clip_grad_norm(&model, &mut grads, 5.0);
        model = optim.step(LR, model, grads);
    }
    wait(&model);
    t.elapsed().as_secs_f64() / steps as f64
}

/// The device of `$WHET_DEVICE` (the CPU when unset), with gradient tracking.
fn device() -> Device {
    DeviceSpec::from_env()
        .and_then(|spec| spec.autodiff_device())
        .expect("a device this build has (WHET_DEVICE)")
}

/// Seconds per detector step.
fn det_seconds(steps: usize) -> f64 {
    let device = device();
    let net = DbNet::from_onnx(weights().join(DET_FILE), &device).expect("scripts/assets.sh");
    let model = DbTrainNet::new(net);
    eprintln!("# detector trainable parameters: {}", model.num_params());
    let batch = det_data(&device);
    seconds_per_step(model, &batch, det_step, steps, |m| {
        let _ = m.thresh.conv.weight.val().into_data();
    })
}

/// Seconds per recognizer step.
fn rec_seconds(steps: usize) -> f64 {
    let device = device();
    let (model, dict) =
        SvtrRecognizer::from_onnx(weights().join(REC_FILE), &device).expect("scripts/assets.sh");
    eprintln!("# recognizer trainable parameters: {}", model.num_params());
    let batch = rec_data(&dict, &device);
    seconds_per_step(model, &batch, rec_step, steps, |m| {
        let _ = m.head.weight.val().into_data();
    })
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("ocr_train");
    group.sample_size(10);
    group.bench_function("det_step_640x640_b4", |b| {
        b.iter_custom(|iters| {
            std::time::Duration::from_secs_f64(det_seconds(iters as usize) * iters as f64)
        })
    });
    group.bench_function("rec_step_48x320_b32", |b| {
        b.iter_custom(|iters| {
            std::time::Duration::from_secs_f64(rec_seconds(iters as usize) * iters as f64)
        })
    });
    group.finish();
}

criterion_group!(benches, bench);

fn main() {
    if std::env::args().any(|a| a == "--side-by-side") {
        println!("rust det_step_seconds {:.3}", det_seconds(5));
        println!("rust rec_step_seconds {:.3}", rec_seconds(10));
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}

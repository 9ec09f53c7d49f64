//! whet-ocr-det against rapidocr-onnxruntime on real receipts: seconds per receipt for the
//! whole pipeline (detection, crops, recognition) on five SROIE receipts (000, 010, 020,
//! 030, 040 of `../shared/data/sroie-dev`), after one warm-up read. Needs the weights
//! (`scripts/assets.sh`). `scripts/bench-ocr-det.sh` alternates this with
//! `scripts/bench/ocr_det_ref.py`; with `--side-by-side` this bench prints
//! `rust seconds_per_receipt <value>`. The device is `$WHET_DEVICE`'s (the CPU when unset,
//! with its allocator tuning, as the examples get it).
#![allow(missing_docs)]
#![allow(clippy::print_stdout)] // the side-by-side figure is this bench's report

use std::path::PathBuf;
use std::time::Instant;

use criterion::{Criterion, criterion_group};
use image::RgbImage;
use whet_core::DeviceSpec;
use whet_ocr_det::Ocr;

const RECEIPTS: [&str; 5] = ["000.jpg", "010.jpg", "020.jpg", "030.jpg", "040.jpg"];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn setup() -> (Ocr, Vec<RgbImage>) {
    let device = DeviceSpec::from_env()
        .and_then(|spec| spec.device())
        .expect("a device this build has (WHET_DEVICE)");
    let ocr = Ocr::from_pretrained(root().join("assets/rapidocr-1.4.4"), &device)
        .expect("weights: run scripts/assets.sh");
    let images = RECEIPTS
        .iter()
        .map(|n| {
            image::open(root().join("../shared/data/sroie-dev/img").join(n))
                .expect("SROIE receipt in ../shared/data")
                .to_rgb8()
        })
        .collect();
    (ocr, images)
}

fn bench(c: &mut Criterion) {
    let (ocr, images) = setup();
    let mut group = c.benchmark_group("ocr_det");
    group.sample_size(10);
    group.bench_function("read_receipt_000", |b| {
        b.iter(|| std::hint::black_box(ocr.read(&images[0])))
    });
    group.finish();
}

criterion_group!(benches, bench);

fn main() {
    if std::env::args().any(|a| a == "--side-by-side") {
        let (ocr, images) = setup();
        std::hint::black_box(ocr.read(&images[0]).expect("read"));
        let t = Instant::now();
        for img in &images {
            std::hint::black_box(ocr.read(img).expect("read"));
        }
        println!(
            "rust seconds_per_receipt {:.3}",
            t.elapsed().as_secs_f64() / images.len() as f64
        );
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}

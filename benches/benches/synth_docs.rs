//! Receipts per second on one core: generate, render (58 mm thermal) and apply one
//! augmentation (rotation and perspective with the polygons moved), ground truth
//! included; no file I/O. The peer is `scripts/bench/synth_docs_ref.py`, the same work
//! with Python's PIL and Faker, run by `scripts/bench-synth-docs.sh` in the same session.
//!
//! With `--side-by-side` the bench prints `rust receipts_per_second <n>` instead.
#![allow(missing_docs)]
#![allow(clippy::print_stdout)] // the side-by-side figure is this bench's report

use std::time::Instant;

use criterion::{Criterion, criterion_group};
use rand::SeedableRng;
use whet_synth_docs::{
    AugmentConfig, FontSet, Generator, GeneratorConfig, ReceiptLayout, augment, render_receipt,
};

fn one(g: &Generator, fonts: &FontSet, cfg: &AugmentConfig, i: u64) -> usize {
    let doc = g.document(i);
    let page = render_receipt(&doc, fonts, ReceiptLayout::THERMAL_58MM).expect("render");
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(i);
    let out = augment(&page, cfg, &mut rng).expect("augment");
    out.words.len()
}

fn setup() -> (Generator, FontSet, AugmentConfig) {
    (
        Generator::new(7, GeneratorConfig::default()).expect("config"),
        FontSet::system().expect("a font (fonts-dejavu-core)"),
        AugmentConfig::geometric_only(),
    )
}

fn bench(c: &mut Criterion) {
    let (g, fonts, cfg) = setup();
    let mut i = 0u64;
    c.bench_function("synth_docs/receipt_render_augment", |b| {
        b.iter(|| {
            i += 1;
            std::hint::black_box(one(&g, &fonts, &cfg, i))
        })
    });
}

criterion_group!(benches, bench);

fn main() {
    if std::env::args().any(|a| a == "--side-by-side") {
        let (g, fonts, cfg) = setup();
        for i in 0..20 {
            one(&g, &fonts, &cfg, i);
        }
        let n = 500u64;
        let t = Instant::now();
        for i in 0..n {
            std::hint::black_box(one(&g, &fonts, &cfg, 1_000 + i));
        }
        println!(
            "rust receipts_per_second {:.1}",
            n as f64 / t.elapsed().as_secs_f64()
        );
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}

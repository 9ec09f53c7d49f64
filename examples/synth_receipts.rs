//! Synthetic receipts, invoices and purchase orders with perfect ground truth, as a dataset
//! folder, in the eight templates of `Layout::catalogue()`.
//!
//! ```sh
//! cargo run --release -p whet-examples --example synth_receipts -- --n 1000 --seed 7 --out data/receipts
//! # hard samples: a plan, and augmentations
//! echo '{"features": {"long_table": 0.3, "faded_print": 0.3, "skew": 0.2}}' > plan.json
//! cargo run --release -p whet-examples --example synth_receipts -- --n 1000 --plan plan.json --augment
//! ```
//!
//! Writes `images/`, `gt/` (words, lines, regions, table HTML, every number),
//! `key/` (SROIE-style keys), `rec/` crops, PaddleOCR `det_gt.txt` / `rec_gt.txt` and a
//! `manifest.jsonl`. The same seed gives the same bytes.

#![allow(clippy::print_stdout)] // a program: it prints its results

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use clap::Parser;
use indicatif::{ProgressBar, ProgressStyle};
use whet_synth_docs::{GeneratorConfig, Synthesis, SynthesisPlan};

#[derive(Parser)]
#[command(about = "Render synthetic receipts with ground truth")]
struct Args {
    /// Number of documents.
    #[arg(long, default_value_t = 100)]
    n: u64,
    /// Seed: the same seed gives the same dataset, byte for byte.
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// Output folder.
    #[arg(long, default_value = "data/receipts")]
    out: PathBuf,
    /// Only this template of `Layout::catalogue()` (0-7); all eight in turn when not given.
    #[arg(long)]
    layout: Option<usize>,
    /// A synthesis plan (JSON: `{"features": {"long_table": 0.3, ...}}`) of hard samples.
    #[arg(long)]
    plan: Option<PathBuf>,
    /// Apply the plan's augmentations (rotation, perspective, fade, noise, blur, JPEG).
    #[arg(long)]
    augment: bool,
}

fn main() -> anyhow::Result<()> {
    whet_examples::init_tracing();
    let args = Args::parse();
    let plan: SynthesisPlan = match &args.plan {
        Some(path) => serde_json::from_str(
            &std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?,
        )
        .with_context(|| format!("{} is not a synthesis plan", path.display()))?,
        None => SynthesisPlan::default(),
    };
    let bar = ProgressBar::new(args.n);
    bar.set_style(ProgressStyle::with_template(
        "{bar:40} {pos}/{len} documents  {per_sec}  eta {eta}",
    )?);
    let started = Instant::now();
    let synthesis = Synthesis {
        plan,
        layout: args.layout,
        augment: args.augment,
        ..Synthesis::new(args.n, args.seed, GeneratorConfig::default())
    };
    let n = synthesis.write(&args.out, |_| bar.inc(1))?.len();
    bar.finish_and_clear();
    tracing::info!(
        documents = n,
        seconds = started.elapsed().as_secs_f64(),
        out = %args.out.display(),
        "dataset written"
    );
    Ok(())
}

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
use rand::SeedableRng;
use whet_synth_docs::{
    AugmentConfig, DatasetWriter, FontSet, GeneratorConfig, Layout, PlannedGenerator,
    SynthesisPlan, augment,
};

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
    let generator = PlannedGenerator::new(args.seed, GeneratorConfig::default(), plan)?;
    let catalogue = Layout::catalogue();
    if let Some(k) = args.layout.filter(|&k| k >= catalogue.len()) {
        anyhow::bail!("--layout must be 0 to {}, not {k}", catalogue.len() - 1);
    }
    let fonts = FontSet::system().context("rendering needs a font")?;
    let mut writer = DatasetWriter::create(&args.out)?;
    let bar = ProgressBar::new(args.n);
    bar.set_style(ProgressStyle::with_template(
        "{bar:40} {pos}/{len} documents  {per_sec}  eta {eta}",
    )?);
    let started = Instant::now();
    for i in 0..args.n {
        let sample = generator.sample(i);
        // Every template in turn; each round of templates in the next installed font.
        let template = args.layout.unwrap_or(i as usize % catalogue.len());
        let font = (i as usize / catalogue.len()) % fonts.len();
        let mut layout = catalogue[template].with_font(font);
        if let (Layout::Receipt(r), true) = (&mut layout, sample.layout.font_px < 16.0) {
            r.font_px = sample.layout.font_px; // the plan's small type
        }
        let mut page = layout.render(&sample.document, &fonts)?;
        if args.augment {
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(args.seed ^ i.rotate_left(17));
            page = augment(&page, &sample.augment, &mut rng)?;
        } else if sample.augment != AugmentConfig::default() {
            tracing::debug!(
                index = i,
                "plan asked for augmentation; pass --augment to apply it"
            );
        }
        writer.add_with_features(
            &format!("{i:06}"),
            &sample.document,
            &page,
            &sample.features,
        )?;
        bar.inc(1);
    }
    let n = writer.finish()?;
    bar.finish_and_clear();
    tracing::info!(
        documents = n,
        seconds = started.elapsed().as_secs_f64(),
        out = %args.out.display(),
        "dataset written"
    );
    Ok(())
}

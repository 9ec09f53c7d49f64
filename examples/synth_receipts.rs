//! Synthetic receipts with perfect ground truth, as a dataset folder.
//!
//! ```sh
//! cargo run --release -p whet-examples --example synth_receipts -- --n 1000 --seed 7 --out data/receipts
//! ```
//!
//! Writes `images/`, `gt/` (words, lines, regions, table HTML, every number),
//! `key/` (SROIE-style keys), `rec/` crops, PaddleOCR `det_gt.txt` / `rec_gt.txt` and a
//! `manifest.jsonl`. The same seed gives the same bytes.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use clap::Parser;
use indicatif::{ProgressBar, ProgressStyle};
use whet_synth_docs::{
    DatasetWriter, FontSet, Generator, GeneratorConfig, ReceiptLayout, render_receipt,
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
    /// Paper: 58 or 80 (mm); mixed when not given.
    #[arg(long)]
    paper: Option<u32>,
    /// Share of documents whose totals are deliberately wrong (to train verification).
    #[arg(long, default_value_t = 0.0)]
    inconsistent_rate: f64,
}

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter("info")
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    let config = GeneratorConfig {
        inconsistent_rate: args.inconsistent_rate,
        ..GeneratorConfig::default()
    };
    let generator = Generator::new(args.seed, config)?;
    let fonts = FontSet::system().context("rendering needs a font")?;
    let mut writer = DatasetWriter::create(&args.out)?;
    let bar = ProgressBar::new(args.n);
    bar.set_style(ProgressStyle::with_template(
        "{bar:40} {pos}/{len} receipts  {per_sec}  eta {eta}",
    )?);
    let started = Instant::now();
    for i in 0..args.n {
        let doc = generator.document(i);
        let layout = match args.paper {
            Some(58) => ReceiptLayout::THERMAL_58MM,
            Some(80) => ReceiptLayout::THERMAL_80MM,
            Some(other) => anyhow::bail!("--paper must be 58 or 80, not {other}"),
            None if i % 2 == 0 => ReceiptLayout::THERMAL_58MM,
            None => ReceiptLayout::THERMAL_80MM,
        };
        let page = render_receipt(&doc, &fonts, layout)?;
        writer.add(&format!("{i:06}"), &doc, &page)?;
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

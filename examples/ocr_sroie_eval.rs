//! Reads real receipts with PP-OCRv4 in burn and scores it the way OCR papers do:
//! detection precision / recall / hmean under the DB protocol (IoU 0.5) and recognition
//! accuracy on the matched lines, against the SROIE annotations in `sroie-dev`. Other
//! systems' outputs (rapidocr, Tesseract: `scripts/ocr-sroie-eval.sh` makes them) are
//! scored on the same images by the same code.
//!
//! ```sh
//! scripts/assets.sh
//! cargo run --release -p whet-examples --example ocr_sroie_eval -- --limit 10
//! ```

#![allow(clippy::print_stdout)] // a program: it prints its results

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use clap::Parser;
use serde::Deserialize;
use whet_core::DeviceSpec;
use whet_core::data::sroie;
use whet_core::geom::{Polygon, TextRegion};
use whet_eval_metrics::ocr::{DetImage, EndToEndOptions, Pages, detection_errors, end_to_end};
use whet_hard_mining::mining::CharConfusion;
use whet_ocr_det::Ocr;
use whet_ocr_det::finetune::read_pages;

#[derive(Parser)]
#[command(about = "Evaluate PP-OCRv4 (and other systems' outputs) on SROIE receipts")]
struct Args {
    /// The SROIE folder (`img/*.jpg`, `box/*.csv`).
    #[arg(long, default_value = "../shared/data/sroie-dev")]
    sroie: PathBuf,
    /// The weights folder: PP-OCRv4 (`assets/rapidocr-1.4.4`) or PP-OCRv6
    /// (`assets/rapidocr-3.10.0`).
    #[arg(long, default_value = "assets/rapidocr-1.4.4")]
    weights: PathBuf,
    /// Score on a synth-docs dataset folder (its `det_gt.txt`) instead, case kept: how
    /// hard each synthetic degradation is for the pretrained model.
    #[arg(long, conflicts_with = "sroie")]
    synthetic: Option<PathBuf>,
    /// Only the first N images (sorted by name).
    #[arg(long)]
    limit: Option<usize>,
    /// Skip the first N images (sorted by name): `--skip 48` scores the 15 receipts the
    /// fine-tuning example's `--sroie-train 48` holds out.
    #[arg(long, default_value_t = 0)]
    skip: usize,
    /// Other systems' outputs: `name=path.json`, mapping image file names to lists of
    /// `{"box": [[x, y] x 4], "text": ...}`.
    #[arg(long = "other")]
    others: Vec<String>,
    /// Read with this folder's detector instead: a weights folder (PP-OCRv4's detector
    /// with PP-OCRv6's recognizer, say) or a saved pipeline (a fine-tuned detector with
    /// the pretrained recognizer; its post-processing settings come with it).
    #[arg(long)]
    det_weights: Option<PathBuf>,
    /// A fine-tuned model folder (a registry version): it replaces the pretrained parts.
    #[arg(long)]
    finetuned: Option<PathBuf>,
    /// Write Whetstone's misread lines here (JSONL: image, truth, read) and print the most
    /// frequent character errors.
    #[arg(long)]
    errors: Option<PathBuf>,
    #[arg(long)]
    device: Option<String>,
}

/// A line in the other systems' JSON.
#[derive(Deserialize)]
struct Line {
    #[serde(rename = "box")]
    points: Vec<[f64; 2]>,
    text: String,
}

fn main() -> anyhow::Result<()> {
    whet_examples::init_tracing();
    let args = Args::parse();
    let device = DeviceSpec::from_arg_or_env(args.device.as_deref())?.device()?;
    let (root, pages) = match &args.synthetic {
        Some(dir) => (dir, whet_synth_docs::read_line_regions(dir)?),
        None => (&args.sroie, sroie::read_folder(&args.sroie)?),
    };
    let gt: Pages = pages
        .into_iter()
        .skip(args.skip)
        .take(args.limit.unwrap_or(usize::MAX))
        .collect();
    // A fine-tuned pipeline (`Ocr::save`, a registry version) needs nothing else.
    let ocr = match &args.finetuned {
        Some(dir) => Ocr::load(dir, &device)?,
        None => Ocr::from_pretrained(&args.weights, &device)?,
    };
    let ocr = match &args.det_weights {
        Some(dir) if dir.join("config.json").exists() => {
            // A saved pipeline's detector, with the post-processing it was tuned with.
            let saved = Ocr::load(dir, &device)?;
            let mut ocr = ocr.with_detector(saved.det);
            ocr.config.db = saved.config.db;
            ocr
        }
        Some(dir) => ocr.with_detector(Ocr::from_pretrained(dir, &device)?.det),
        None => ocr,
    };
    let started = Instant::now();
    let ours = read_pages(&ocr, root, &gt)?;
    let per_image = started.elapsed().as_secs_f64() / gt.len().max(1) as f64;
    let options = EndToEndOptions {
        upper_case: args.synthetic.is_none(),
        ..Default::default()
    };
    if let Some(path) = &args.errors {
        let mut out = String::new();
        let mut confusion = CharConfusion::default();
        for (image, read, truth) in &end_to_end(&gt, &ours, &options).pairs {
            let (read, truth) = (read.replace(' ', ""), truth.replace(' ', ""));
            if read != truth {
                confusion.add(&truth, &read);
                out += &format!(
                    "{}\n",
                    serde_json::json!({"image": image, "truth": truth, "read": read})
                );
            }
        }
        whet_core::data::atomic_write(path, out.as_bytes())?;
        println!("most frequent character errors on misread lines (whet-hard-mining):");
        for (edit, n) in confusion.top(10) {
            println!("  {n:>4}  {edit:?}");
        }
    }
    let (det, rec) = (ocr.det.backbone.generation(), ocr.rec.backbone.generation());
    let name = if det == rec {
        format!("whetstone ({det} in burn)")
    } else {
        format!("whetstone ({det} det, {rec} rec)")
    };
    let mut systems = vec![(name, ours)];
    for o in &args.others {
        let (name, path) = o.split_once('=').context("--other takes name=path.json")?;
        let text = std::fs::read_to_string(path).with_context(|| format!("reading {path}"))?;
        let lines: std::collections::BTreeMap<String, Vec<Line>> =
            serde_json::from_str(&text).with_context(|| format!("parsing {path}"))?;
        let pages = lines.into_iter().map(|(image, lines)| {
            let regions = lines
                .into_iter()
                .map(|l| TextRegion::new(Polygon::new(l.points), l.text));
            (format!("img/{image}"), regions.collect())
        });
        systems.push((name.to_owned(), pages.collect()));
    }
    println!(
        "{} pages, {} annotated lines; Whetstone {per_image:.2} s per page",
        gt.len(),
        gt.values().map(Vec::len).sum::<usize>()
    );
    println!(
        "{:<30} {:>9} {:>9} {:>9} {:>8} {:>12} {:>12}",
        "system", "precision", "recall", "hmean", "matched", "exact (case)", "no spaces"
    );
    for (name, out) in &systems {
        let r = end_to_end(&gt, out, &options);
        let exact =
            r.pairs.iter().filter(|(_, p, t)| p == t).count() as f64 / r.pairs.len().max(1) as f64;
        let (d, n) = (r.det, r.pairs.len());
        println!(
            "{name:<30} {:>9.4} {:>9.4} {:>9.4} {n:>8} {exact:>12.4} {:>12.4}",
            d.precision, d.recall, d.hmean, r.rec.acc
        );
    }
    println!("unmatched annotated lines and boxes by cause (whet-eval-metrics' detection_errors):");
    for (name, out) in &systems {
        let images: Vec<DetImage> = gt
            .iter()
            .map(|(page, lines)| DetImage {
                gt: lines.clone(),
                det: out
                    .get(page)
                    .into_iter()
                    .flatten()
                    .map(|l| l.polygon.clone())
                    .collect(),
            })
            .collect();
        let e = detection_errors(&images);
        println!(
            "{name:<30} lines: merged {} cut {} missed {} misplaced {}; boxes: spurious {} overlapping {}",
            e.merged, e.cut, e.missed, e.misplaced, e.spurious, e.overlapping
        );
    }
    Ok(())
}

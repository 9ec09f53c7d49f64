//! Reads real receipts with PP-OCRv4 in burn and scores it the way OCR papers do:
//! detection precision / recall / hmean under the DB protocol (IoU 0.5) and recognition
//! accuracy on the matched lines, against the SROIE annotations in `sroie-dev`. Other
//! systems' outputs (rapidocr, Tesseract: `scripts/ocr-sroie-eval.sh` makes them) can be
//! scored on the same images with the same code.
//!
//! ```sh
//! scripts/assets.sh
//! cargo run --release -p whet-examples --example ocr_sroie_eval -- --limit 10
//! ```

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use burn::tensor::Device;
use clap::Parser;
use whet_eval_metrics::ocr::{RecOptions, recognition};
use whet_examples::ocr_score::{Line, Outputs, score, sroie_lines};
use whet_hard_mining::mining::CharConfusion;
use whet_ocr_det::Ocr;

#[derive(Parser)]
#[command(about = "Evaluate PP-OCRv4 (and other systems' outputs) on SROIE receipts")]
struct Args {
    /// The SROIE folder (`img/*.jpg`, `box/*.csv`).
    #[arg(long, default_value = "../shared/data/sroie-dev")]
    sroie: PathBuf,
    /// The PP-OCRv4 weights folder.
    #[arg(long, default_value = "assets/rapidocr-1.4.4")]
    weights: PathBuf,
    /// Only the first N images (sorted by name).
    #[arg(long)]
    limit: Option<usize>,
    /// Other systems' outputs to score too: `name=path.json`, the JSON mapping image file
    /// names to lists of `{"box": [[x, y] x 4], "text": ...}`.
    #[arg(long = "other")]
    others: Vec<String>,
    /// Write Whetstone's own outputs in that JSON format here.
    #[arg(long)]
    save: Option<PathBuf>,
    /// A fine-tuned model folder (a registry version, or what `finetune_receipts_ocr`
    /// saves): its recognizer and detector replace the pretrained ones.
    #[arg(long)]
    finetuned: Option<PathBuf>,
    /// Write Whetstone's misread matched lines here, one JSON object per line
    /// (`image`, `truth`, `read`), for error analysis, and print the most frequent
    /// character errors.
    #[arg(long)]
    errors: Option<PathBuf>,
}

fn main() -> anyhow::Result<()> {
    whet_examples::init_tracing();
    let args = Args::parse();
    let mut names: Vec<String> = std::fs::read_dir(args.sroie.join("img"))
        .with_context(|| format!("reading {}", args.sroie.display()))?
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .filter(|n| n.ends_with(".jpg"))
        .collect();
    names.sort();
    names.truncate(args.limit.unwrap_or(usize::MAX));
    let mut gt = Outputs::new();
    for n in &names {
        let stem = n.trim_end_matches(".jpg");
        gt.insert(
            n.clone(),
            sroie_lines(&args.sroie.join("box").join(format!("{stem}.csv")))?,
        );
    }
    let mut ocr = Ocr::from_pretrained(&args.weights, &Device::flex())?;
    if let Some(dir) = &args.finetuned {
        ocr = ocr.with_finetuned(&args.weights, dir)?;
    }
    let mut ours = Outputs::new();
    let started = Instant::now();
    for n in &names {
        let img = image::open(args.sroie.join("img").join(n))
            .with_context(|| format!("reading {n}"))?
            .to_rgb8();
        let lines = ocr
            .read(&img)
            .into_iter()
            .map(|l| Line {
                points: l
                    .polygon
                    .points
                    .iter()
                    .map(|p| [f64::from(p[0]), f64::from(p[1])])
                    .collect(),
                text: l.text,
            })
            .collect();
        ours.insert(n.clone(), lines);
    }
    let per_image = started.elapsed().as_secs_f64() / names.len().max(1) as f64;
    if let Some(path) = &args.save {
        whet_core::data::atomic_write(path, &serde_json::to_vec(&ours)?)?;
    }
    if let Some(path) = &args.errors {
        let mut out = String::new();
        let mut confusion = CharConfusion::default();
        for n in &names {
            let one = |o: &Outputs| Outputs::from([(n.clone(), o[n].clone())]);
            let (_, pairs) = score(&one(&gt), &one(&ours), true);
            for (read, truth) in pairs {
                if read.replace(' ', "") != truth.replace(' ', "") {
                    confusion.add(&truth.replace(' ', ""), &read.replace(' ', ""));
                    out +=
                        &serde_json::json!({"image": n, "truth": truth, "read": read}).to_string();
                    out.push('\n');
                }
            }
        }
        whet_core::data::atomic_write(path, out.as_bytes())?;
        println!("most frequent character errors on misread lines (whet-hard-mining):");
        for (edit, n) in confusion.top(10) {
            println!("  {n:>4}  {edit:?}");
        }
    }
    let mut systems = vec![("whetstone (PP-OCRv4 in burn)".to_owned(), ours)];
    for o in &args.others {
        let (name, path) = o.split_once('=').context("--other takes name=path.json")?;
        let text = std::fs::read_to_string(path).with_context(|| format!("reading {path}"))?;
        systems.push((
            name.to_owned(),
            serde_json::from_str(&text).with_context(|| format!("parsing {path}"))?,
        ));
    }
    println!(
        "{} SROIE receipts, {} annotated lines; Whetstone {per_image:.2} s per receipt (CPU)",
        names.len(),
        gt.values().map(Vec::len).sum::<usize>()
    );
    println!(
        "{:<30} {:>9} {:>9} {:>9} {:>8} {:>12} {:>12}",
        "system", "precision", "recall", "hmean", "matched", "exact (case)", "no spaces"
    );
    for (name, out) in &systems {
        let (det, pairs) = score(&gt, out, true);
        let exact = pairs.iter().filter(|(p, t)| p == t).count() as f64 / pairs.len().max(1) as f64;
        let rec = recognition(
            pairs.iter().map(|(p, t)| (p.as_str(), t.as_str())),
            RecOptions::default(),
        );
        println!(
            "{name:<30} {:>9.4} {:>9.4} {:>9.4} {:>8} {:>12.4} {:>12.4}",
            det.precision,
            det.recall,
            det.hmean,
            pairs.len(),
            exact,
            rec.acc
        );
    }
    Ok(())
}

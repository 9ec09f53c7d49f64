//! Fine-tunes PP-OCRv4 on synthetic Philippine receipts, on a CPU, and registers the result
//! if it beats the current version.
//!
//! 1. Synthesises training receipts and held-out receipts (their own seed) with
//!    whet-synth-docs (English and Filipino, Philippine VAT, `₱` amounts).
//! 2. Measures the pretrained pipeline on the held-out receipts: detection hmean (DB
//!    protocol), line accuracy and `norm_edit_dis` on matched lines (eval-metrics).
//! 3. With `--det-steps N`, fine-tunes the detector on crops of the training pages and
//!    keeps it only if it beats the pretrained one on validation pages.
//! 4. Adds the characters PP-OCRv4's dictionary lacks (`₱`, `ñ`, ...) to the recognizer,
//!    each starting from a look-alike's output row, and fine-tunes the recognizer on the
//!    training receipts' line crops (CTC loss plus distillation from the pretrained
//!    recognizer, which keeps what it knew of characters the synthetic receipts lack;
//!    backbone frozen by default) through the whet-core Trainer, validating every
//!    `--valid-every` steps. Killed (`--kill-at`, or for real), the same command resumes
//!    the run from its last checkpoint.
//! 5. Measures again, optionally on real SROIE receipts too (`--sroie`), and registers
//!    the recognizer in the whet-core registry, promoted to production only when its
//!    line accuracy beats the current production version.
//!
//! The detector is fine-tuned first (DB loss on augmented 640 x 640 crops, its threshold
//! branch started from the probability branch), validated by detection hmean.
//!
//! ```sh
//! scripts/assets.sh
//! cargo run --release -p whet-examples --example finetune_receipts_ocr
//! ```

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use burn::module::Module;
use burn::tensor::Device;
use clap::Parser;
use whet_core::device::DeviceSpec;
use whet_core::registry::{Alias, NewVersion, PromotionRule, Registry};
use whet_core::run::{RunDir, RunStatus};
use whet_core::train::{
    Control, Goal, Metrics, Monitor, OptimizerConfig, ScheduleConfig, TrainConfig, Trainer,
    freeze_statistics, freeze_where,
};
use whet_eval_metrics::ocr::{
    DetImage, DetReport, GtBox, RecOptions, RecReport, detection_db, recognition,
};
use whet_examples::ocr_score::{Line, Outputs, score, sroie_lines};
use whet_ocr_det::train::{
    DbLabelConfig, DbTrainNet, DetAugment, DetItem, RecItem, RecShape, augment_lines, det_batch,
    det_crop, det_samples, det_step, load_det_labels, load_rec_labels, rec_batch, rec_distill_step,
    rec_step, width_batches,
};
use whet_ocr_det::{CharDict, DET_FILE, DbNet, Ocr, REC_FILE, SvtrRecognizer, recognize_lines};
use whet_synth_docs::{
    DatasetWriter, DocKind, FontSet, GeneratorConfig, GroundTruth, Layout, Locale, ManifestRecord,
    PlannedGenerator, SynthesisPlan,
};

#[derive(Parser)]
#[command(about = "Fine-tune PP-OCRv4 on synthetic Philippine receipts")]
struct Args {
    /// The PP-OCRv4 weights folder (`scripts/assets.sh`).
    #[arg(long, default_value = "assets/rapidocr-1.4.4")]
    weights: PathBuf,
    /// Working folder: datasets, the training run, the registry.
    #[arg(long, default_value = "whet-out/finetune-ocr")]
    out: PathBuf,
    /// Training receipts.
    #[arg(long, default_value_t = 200)]
    train: u64,
    /// Held-out receipts.
    #[arg(long, default_value_t = 40)]
    test: u64,
    /// Seed of the training receipts.
    #[arg(long, default_value_t = 11)]
    seed: u64,
    /// Seed of the held-out receipts (never trained on).
    #[arg(long, default_value_t = 90_001)]
    test_seed: u64,
    /// Optimiser steps.
    #[arg(long, default_value_t = 300)]
    steps: usize,
    /// Lines per batch.
    #[arg(long, default_value_t = 16)]
    batch: usize,
    /// Peak learning rate (AdamW, cosine decay).
    #[arg(long, default_value_t = 5e-4)]
    lr: f64,
    /// Train the backbones too (default: frozen).
    #[arg(long)]
    train_backbone: bool,
    /// Which recognizer parts train: `head` (the CTC head alone), `neck` (SVTR neck and
    /// head) or `all`.
    #[arg(long, default_value = "neck")]
    rec_train: String,
    /// Let batch norms re-estimate their statistics on the fine-tuning batches (default:
    /// kept, which protects accuracy on real documents when training on synthetic ones).
    #[arg(long)]
    train_statistics: bool,
    /// Share of synthetic training lines replaced by an augmented copy (distortion, blur,
    /// noise, contrast).
    #[arg(long, default_value_t = 0.0)]
    rec_augment: f64,
    /// Weight of the distillation from the pretrained recognizer (its softened outputs on
    /// the same lines), which keeps what it knew about characters the synthetic receipts
    /// lack; 0 turns it off.
    #[arg(long, default_value_t = 1.0)]
    distill: f64,
    /// Softening temperature of the distillation.
    #[arg(long, default_value_t = 2.0)]
    distill_temperature: f64,
    /// Evaluate on at most this many of the held-out SROIE receipts.
    #[arg(long)]
    sroie_limit: Option<usize>,
    /// Detector optimiser steps (0, the default: keep the pretrained detector; see the
    /// crate README: 60 steps on synthetic receipts did not beat it yet).
    #[arg(long, default_value_t = 0)]
    det_steps: usize,
    /// Detector crops per batch.
    #[arg(long, default_value_t = 4)]
    det_batch: usize,
    /// Detector crop side.
    #[arg(long, default_value_t = 640)]
    det_size: u32,
    /// Detector peak learning rate.
    #[arg(long, default_value_t = 2e-4)]
    det_lr: f64,
    /// Validate every this many steps.
    #[arg(long, default_value_t = 100)]
    valid_every: usize,
    /// Also measure on this SROIE folder (`img/`, `box/`) before and after.
    #[arg(long)]
    sroie: Option<PathBuf>,
    /// Train on the first N SROIE receipts (sorted by name) too, and measure on the rest
    /// (recipe B: a few real labelled documents besides the synthetic ones).
    #[arg(long, default_value_t = 0)]
    sroie_train: usize,
    /// How many times each real training line is repeated among the synthetic ones.
    #[arg(long, default_value_t = 3)]
    real_repeat: usize,
    /// Device: `cpu`, `wgpu`, ... (default: `WHET_DEVICE` or `cpu`).
    #[arg(long)]
    device: Option<String>,
    /// Abort the process at this recognizer step, a simulated crash (0: never). Run the
    /// same command again and it resumes from the last checkpoint.
    #[arg(long, default_value_t = 0)]
    kill_at: usize,
}

/// Look-alikes for characters PP-OCRv4's dictionary lacks: a new output row starts from
/// its look-alike's row.
fn look_alike(text: &str) -> Option<char> {
    let c = text.chars().next()?;
    Some(match c {
        '₱' => 'P',
        'ñ' => 'n',
        'Ñ' => 'N',
        'á' | 'à' | 'â' => 'a',
        'é' | 'è' | 'ê' => 'e',
        'í' | 'ì' => 'i',
        'ó' | 'ò' | 'ô' => 'o',
        'ú' | 'ù' => 'u',
        _ => return None,
    })
}

/// Renders `n` Philippine receipts with `seed` into `dir` (skipped when already there).
fn synthesise(dir: &Path, n: u64, seed: u64) -> anyhow::Result<Vec<ManifestRecord>> {
    let manifest = dir.join("manifest.jsonl");
    if !manifest.exists() {
        let config = GeneratorConfig {
            locales: vec![Locale::EnPh, Locale::FilPh],
            kinds: vec![DocKind::Receipt, DocKind::Invoice],
            ..GeneratorConfig::default()
        };
        let generator = PlannedGenerator::new(seed, config, SynthesisPlan::default())?;
        let catalogue = Layout::catalogue();
        let fonts = FontSet::system().context("rendering needs a font")?;
        let mut writer = DatasetWriter::create(dir)?;
        for i in 0..n {
            let sample = generator.sample(i);
            let layout = catalogue[i as usize % catalogue.len()]
                .with_font((i as usize / catalogue.len()) % fonts.len());
            let page = layout.render(&sample.document, &fonts)?;
            writer.add_with_features(
                &format!("{i:06}"),
                &sample.document,
                &page,
                &sample.features,
            )?;
        }
        writer.finish()?;
    }
    let read = whet_core::data::read_jsonl::<ManifestRecord>(
        &manifest,
        whet_core::data::MalformedPolicy::Fail,
    )?;
    Ok(read.records.into_iter().map(|(_, r)| r).collect())
}

/// Ground-truth lines of a synthesised dataset, per image.
fn ground_truth(dir: &Path, manifest: &[ManifestRecord]) -> anyhow::Result<Outputs> {
    let mut out = Outputs::new();
    for r in manifest {
        let path = dir.join(&r.ground_truth);
        let gt: GroundTruth = serde_json::from_slice(
            &std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?,
        )
        .with_context(|| format!("{} is not ground truth", path.display()))?;
        let lines = gt
            .lines
            .iter()
            .map(|l| Line::from_polygon(&l.polygon.points, l.text.clone()))
            .collect();
        out.insert(r.image.clone(), lines);
    }
    Ok(out)
}

/// End-to-end scores of `ocr` on images under `dir` against `gt`.
fn evaluate(
    ocr: &Ocr,
    dir: &Path,
    gt: &Outputs,
    upper_case: bool,
) -> anyhow::Result<(DetReport, RecReport)> {
    let mut pred = Outputs::new();
    for name in gt.keys() {
        let path = dir.join(name);
        let img = image::open(&path)
            .with_context(|| format!("reading {}", path.display()))?
            .to_rgb8();
        let lines = ocr
            .read(&img)
            .into_iter()
            .map(|l| Line::from_polygon(&l.polygon.points, l.text))
            .collect();
        pred.insert(name.clone(), lines);
    }
    let (det, pairs) = score(gt, &pred, upper_case);
    Ok((det, recognition(pairs, RecOptions::default())))
}

/// Ground truth of a SROIE folder (`box/*.csv`: 8 coordinates and the text per row).
fn sroie_truth(dir: &Path) -> anyhow::Result<Outputs> {
    let mut out = Outputs::new();
    let mut names: Vec<_> = std::fs::read_dir(dir.join("img"))
        .with_context(|| format!("reading {}", dir.join("img").display()))?
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect();
    names.sort();
    for name in names {
        let stem = name.rsplit_once('.').map_or(name.as_str(), |(s, _)| s);
        let lines = sroie_lines(&dir.join("box").join(format!("{stem}.csv")))?;
        out.insert(format!("img/{name}"), lines);
    }
    Ok(out)
}

/// Recognition accuracy of `rec` on line crops (exact, spaces ignored).
fn crop_accuracy(
    rec: &SvtrRecognizer,
    dict: &CharDict,
    items: &[RecItem],
    device: &Device,
) -> RecReport {
    let images: Vec<_> = items.iter().map(|i| i.image.clone()).collect();
    let texts = recognize_lines(rec, dict, &images, 48, 320, 16, device);
    recognition(
        texts
            .iter()
            .zip(items)
            .map(|((p, _), i)| (p.as_str(), i.text.as_str())),
        RecOptions::default(),
    )
}

fn report(label: &str, det: &DetReport, rec: &RecReport) {
    println!(
        "{label:<28} hmean {:.4}  line accuracy {:.4}  norm_edit_dis {:.4}  ({} matched lines)",
        det.hmean, rec.acc, rec.norm_edit_dis, rec.total
    );
}

fn main() -> anyhow::Result<()> {
    whet_examples::init_tracing();
    let args = Args::parse();
    let started = Instant::now();
    let spec = match &args.device {
        Some(d) => d.parse::<DeviceSpec>()?,
        None => DeviceSpec::from_env()?,
    };
    let device = spec.device()?;

    // 1. Data.
    let train_dir = args.out.join(format!("train-{}-{}", args.seed, args.train));
    let test_dir = args
        .out
        .join(format!("test-{}-{}", args.test_seed, args.test));
    let _ = synthesise(&train_dir, args.train, args.seed)?;
    let test_manifest = synthesise(&test_dir, args.test, args.test_seed)?;
    let test_gt = ground_truth(&test_dir, &test_manifest)?;
    let mut lines = load_rec_labels(train_dir.join("rec_gt.txt"))?;
    // Every tenth line validates; the rest trains.
    let valid: Vec<RecItem> = lines.iter().step_by(10).cloned().collect();
    let mut k = 0;
    lines.retain(|_| {
        k += 1;
        (k - 1) % 10 != 0
    });
    tracing::info!(
        train_lines = lines.len(),
        valid_lines = valid.len(),
        test_receipts = args.test,
        seconds = started.elapsed().as_secs_f64(),
        "data ready"
    );

    let ocr = Ocr::from_pretrained(&args.weights, &device)?;
    if args.rec_augment > 0.0 {
        augment_lines(&mut lines, args.rec_augment, args.seed);
    }
    let mut sroie_gt = args.sroie.as_deref().map(sroie_truth).transpose()?;
    // Recipe B: the first receipts train, the rest are held out.
    let sroie_train: Outputs = match &mut sroie_gt {
        Some(gt) => {
            let names: Vec<String> = gt.keys().take(args.sroie_train).cloned().collect();
            names
                .into_iter()
                .filter_map(|n| gt.remove_entry(&n))
                .collect()
        }
        None => Outputs::new(),
    };
    if let (Some(gt), Some(limit)) = (&mut sroie_gt, args.sroie_limit) {
        let keep: Vec<String> = gt.keys().take(limit).cloned().collect();
        gt.retain(|k, _| keep.contains(k));
    }
    if let (Some(dir), false) = (&args.sroie, sroie_train.is_empty()) {
        let mut real = Vec::new();
        for (name, truth) in &sroie_train {
            let path = dir.join(name);
            let img = image::open(&path)
                .with_context(|| format!("reading {}", path.display()))?
                .to_rgb8();
            for l in truth {
                let quad: [[f32; 2]; 4] =
                    std::array::from_fn(|i| [l.points[i][0] as f32, l.points[i][1] as f32]);
                if let Some(image) = Ocr::crop(&img, &quad) {
                    real.push(RecItem {
                        image,
                        text: l.text.clone(),
                    });
                }
            }
        }
        tracing::info!(
            receipts = sroie_train.len(),
            lines = real.len(),
            repeat = args.real_repeat,
            "real SROIE lines added to training"
        );
        for _ in 0..args.real_repeat {
            lines.extend(real.iter().cloned());
        }
    }

    // 2. Baseline (kept in the working folder, so a resumed run does not measure again).
    type Scores = (DetReport, RecReport);
    let baseline_file = args.out.join(format!(
        "baseline-test{}-{}-sroie{}-{}.json",
        args.test_seed,
        args.test,
        args.sroie_train,
        args.sroie_limit.map_or("all".to_owned(), |l| l.to_string())
    ));
    let cached: Option<(Scores, Option<Scores>)> = std::fs::read(&baseline_file)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .filter(|(_, s): &(Scores, Option<Scores>)| s.is_some() == sroie_gt.is_some());
    let ((base_det, base_rec), base_sroie) = match cached {
        Some(c) => {
            tracing::info!(file = %baseline_file.display(), "pretrained scores from an earlier attempt");
            c
        }
        None => {
            let synthetic = evaluate(&ocr, &test_dir, &test_gt, false)?;
            let sroie = match (&args.sroie, &sroie_gt) {
                (Some(dir), Some(gt)) => Some(evaluate(&ocr, dir, gt, true)?),
                _ => None,
            };
            whet_core::data::atomic_write(
                &baseline_file,
                &serde_json::to_vec(&(synthetic, sroie))?,
            )?;
            (synthetic, sroie)
        }
    };
    report("pretrained, synthetic", &base_det, &base_rec);
    if let Some(r) = &base_sroie {
        report("pretrained, SROIE", &r.0, &r.1);
    }

    // 3. Fine-tune the detector on crops of the training pages (and the real ones).
    let train_device = device.clone().autodiff();
    let tuned_det = if args.det_steps > 0 {
        let mut pages = load_det_labels(train_dir.join("det_gt.txt"))?;
        let det_valid: Vec<DetItem> = pages.iter().step_by(10).take(10).cloned().collect();
        let mut k = 0;
        pages.retain(|_| {
            k += 1;
            (k - 1) % 10 != 0 || (k - 1) / 10 >= 10
        });
        if let Some(dir) = &args.sroie {
            for (name, truth) in &sroie_train {
                let path = dir.join(name);
                let image = image::open(&path)
                    .with_context(|| format!("reading {}", path.display()))?
                    .to_rgb8();
                let polygons = truth.iter().map(|l| (l.points.clone(), false)).collect();
                for _ in 0..args.real_repeat {
                    pages.push(DetItem {
                        image: image.clone(),
                        polygons: Vec::clone(&polygons),
                    });
                }
            }
        }
        let repeats = (args.det_steps * args.det_batch).div_ceil(pages.len().max(1));
        let samples = det_samples(pages, repeats, args.seed);
        let aug = DetAugment {
            size: args.det_size,
            ..DetAugment::default()
        };
        let labels = DbLabelConfig::default();
        let net = DbNet::from_onnx(args.weights.join(DET_FILE), &train_device)?;
        let mut model = DbTrainNet::new(net);
        if !args.train_statistics {
            model = freeze_statistics(model);
        }
        if !args.train_backbone {
            let (net, frozen) = freeze_where(model.net, &|path: &str| path.starts_with("backbone"));
            tracing::info!(frozen, "detector backbone frozen");
            model.net = net;
        }
        let mut config = TrainConfig::new(
            OptimizerConfig::adamw(args.det_lr),
            args.det_steps,
            args.det_batch,
        );
        config.schedule = ScheduleConfig::WarmupCosine {
            warmup_steps: (args.det_steps / 20).max(1),
            min_lr: args.det_lr * 0.01,
        };
        config.valid_every = Some(args.valid_every.min(args.det_steps));
        config.monitor = Some(Monitor {
            metric: "hmean".into(),
            goal: Goal::Maximize,
            patience: None,
            min_delta: 0.0,
        });
        config.clip_grad_norm = Some(5.0);
        config.checkpoint_every = args.valid_every.min(args.det_steps);
        let run = RunDir::create(args.out.join("mlruns"), "finetune-receipts-ocr", "detector")?;
        let mut trainer = Trainer::new(config, &train_device, run)?;
        let batcher = |items: Vec<(Arc<DetItem>, u64)>, device: &Device| {
            let crops: Vec<DetItem> = items
                .iter()
                .map(|(page, seed)| det_crop(page, &aug, *seed))
                .collect();
            det_batch(&crops, &labels, device)
        };
        let hmean_of = |net: &DbNet| -> f64 {
            let probe = Ocr::new(
                net.clone(),
                ocr.rec.clone(),
                ocr.dict.clone(),
                ocr.config.clone(),
                &device,
            );
            let images: Vec<DetImage> = det_valid
                .iter()
                .map(|page| DetImage {
                    gt: page
                        .polygons
                        .iter()
                        .map(|(p, ignore)| GtBox {
                            points: p.clone(),
                            ignore: *ignore,
                        })
                        .collect(),
                    det: probe
                        .detect(&page.image)
                        .iter()
                        .map(|(q, _)| {
                            q.iter()
                                .map(|p| [f64::from(p[0]), f64::from(p[1])])
                                .collect()
                        })
                        .collect(),
                })
                .collect();
            detection_db(&images).hmean
        };
        let pretrained_hmean = hmean_of(&ocr.det);
        tracing::info!(
            hmean = pretrained_hmean,
            "pretrained detector on the validation pages"
        );
        let valid_step = |model: &DbTrainNet| -> Metrics {
            Metrics::from([("hmean".to_owned(), hmean_of(&model.net))])
        };
        let outcome = trainer.fit(model, &samples, &batcher, &det_step, Some(&valid_step))?;
        let model = match &outcome.best_checkpoint {
            Some(best) => best.load_model(outcome.model)?,
            None => outcome.model,
        };
        let tuned = model.valid().net;
        let tuned_hmean = hmean_of(&tuned);
        tracing::info!(stop = ?outcome.stop, hmean = tuned_hmean, seconds = started.elapsed().as_secs_f64(), "detector trained");
        // Only a detector that beats the pretrained one on the validation pages is kept.
        if tuned_hmean > pretrained_hmean {
            Some(tuned)
        } else {
            tracing::warn!(
                pretrained_hmean,
                tuned_hmean,
                "the fine-tuned detector is not better; keeping the pretrained one"
            );
            None
        }
    } else {
        None
    };

    // 4. Fine-tune the recognizer, with the characters the dictionary lacks added.
    let shape = RecShape::default();
    let (_, skipped) = width_batches(&lines, &ocr.dict, shape, args.batch);
    let missing: Vec<char> = skipped.unknown.iter().map(|(c, _)| *c).collect();
    let (dict, _) = ocr.dict.with_chars(&missing);
    tracing::info!(?skipped.unknown, classes = dict.len(), "characters added to the dictionary");
    let (batches, skipped) = width_batches(&lines, &dict, shape, args.batch);
    tracing::info!(batches = batches.len(), ?skipped, "training batches");

    let (rec, base_dict) = SvtrRecognizer::from_onnx(args.weights.join(REC_FILE), &train_device)?;
    // The pretrained recognizer, frozen, teaches the one being tuned (`--distill`).
    let (teacher, _) = freeze_where(rec.clone(), &|_: &str| true);
    let rec = rec.with_dict(&base_dict, &dict, look_alike);
    let trains: &dyn Fn(&str) -> bool = match args.rec_train.as_str() {
        "head" => &|path: &str| path.starts_with("head"),
        "neck" => &|path: &str| !path.starts_with("backbone"),
        "all" => &|_: &str| true,
        other => anyhow::bail!("--rec-train must be head, neck or all, not {other}"),
    };
    let (rec, frozen) = freeze_where(rec, &|path: &str| !trains(path));
    let rec = if args.train_statistics {
        rec
    } else {
        freeze_statistics(rec)
    };
    tracing::info!(frozen, part = %args.rec_train, "recognizer parameters frozen");
    let mut config = TrainConfig::new(OptimizerConfig::adamw(args.lr), args.steps, 1);
    config.schedule = ScheduleConfig::WarmupCosine {
        warmup_steps: (args.steps / 20).max(1),
        min_lr: args.lr * 0.01,
    };
    config.valid_every = Some(args.valid_every);
    config.monitor = Some(Monitor {
        metric: "line_accuracy".into(),
        goal: Goal::Maximize,
        patience: None,
        min_delta: 0.0,
    });
    config.clip_grad_norm = Some(5.0);
    config.checkpoint_every = args.valid_every;
    // The run of this configuration an earlier attempt left unfinished resumes (same
    // weights, optimiser state and data order); otherwise a new run starts.
    let mlruns = args.out.join("mlruns");
    let run_name = format!(
        "recognizer-seed{}-train{}-steps{}-sroie{}",
        args.seed, args.train, args.steps, args.sroie_train
    );
    let run = match whet_examples::find_run(&mlruns, &run_name)? {
        Some(path) if RunDir::open(&path)?.status()? == RunStatus::Running => {
            tracing::info!(run = %path.display(), "resuming the run an earlier attempt left");
            RunDir::open(path)?
        }
        _ => RunDir::create(&mlruns, "finetune-receipts-ocr", &run_name)?,
    };
    let kill_at = args.kill_at;
    let mut trainer = Trainer::new(config, &train_device, run)?.on_step(move |r| {
        if kill_at > 0 && r.step == kill_at {
            tracing::warn!(
                step = r.step,
                "--kill-at: aborting the process (a simulated crash)"
            );
            std::process::abort();
        }
        Control::Continue
    });
    let batcher = |groups: Vec<Vec<RecItem>>, device: &Device| {
        rec_batch(&groups.concat(), &dict, shape, device)
    };
    let valid_step = |model: &SvtrRecognizer| -> Metrics {
        let r = crop_accuracy(model, &dict, &valid, &device);
        Metrics::from([
            ("line_accuracy".to_owned(), r.acc),
            ("norm_edit_dis".to_owned(), r.norm_edit_dis),
        ])
    };
    let step = |model: &SvtrRecognizer, batch| {
        if args.distill > 0.0 {
            rec_distill_step(
                model,
                &teacher,
                batch,
                args.distill,
                args.distill_temperature,
            )
        } else {
            rec_step(model, batch)
        }
    };
    let outcome = trainer.fit(rec, &batches, &batcher, &step, Some(&valid_step))?;
    tracing::info!(stop = ?outcome.stop, seconds = started.elapsed().as_secs_f64(), "recognizer trained");
    // The best validated weights, not merely the last.
    let model = match &outcome.best_checkpoint {
        Some(best) => best.load_model(outcome.model)?,
        None => outcome.model,
    };
    let tuned = model.valid();

    // 5. Measure again, register, promote if better.
    let mut ocr = ocr.with_recognizer(tuned.clone(), dict.clone());
    if let Some(det) = &tuned_det {
        ocr = ocr.with_detector(det.clone());
    }
    let (det, rec) = evaluate(&ocr, &test_dir, &test_gt, false)?;
    report("pretrained, synthetic", &base_det, &base_rec);
    report("fine-tuned, synthetic", &det, &rec);
    let mut meta = NewVersion::new()
        .metric("line_accuracy", rec.acc)
        .metric("norm_edit_dis", rec.norm_edit_dis)
        .metric("hmean", det.hmean)
        .note(format!(
            "recognizer fine-tuned {} steps on {} synthetic receipts",
            args.steps, args.train
        ));
    if let (Some(dir), Some(gt), Some(base)) = (&args.sroie, &sroie_gt, &base_sroie) {
        let (d, r) = evaluate(&ocr, dir, gt, true)?;
        report("pretrained, SROIE", &base.0, &base.1);
        report("fine-tuned, SROIE", &d, &r);
        meta = meta.metric("sroie_line_accuracy", r.acc);
    }
    let staging = args.out.join("staging");
    tuned.save(&dict, &staging)?;
    if let Some(det) = &tuned_det {
        det.save(&staging)?;
    }
    let registry = Registry::open(args.out.join("registry"))?;
    let name = "ppocrv4-receipts";
    if let Some(prod) = registry.alias(name, &Alias::Production)? {
        meta = meta.parent(prod.version);
    }
    let version = registry.register(name, &staging, meta)?;
    let _ = std::fs::remove_dir_all(&staging);
    let decision = registry.promote_if_improved(
        name,
        version.version,
        &PromotionRule::new("line_accuracy", Goal::Maximize, 0.0),
    )?;
    println!("registered {name} v{}: {decision:?}", version.version);
    println!("total {:.0} s", started.elapsed().as_secs_f64());
    Ok(())
}

//! Fine-tunes PP-OCRv4 on synthetic Philippine receipts on a CPU, measures it before and
//! after (held-out synthetic receipts; real SROIE receipts with `--sroie`), and registers
//! it, promoted only when better. Killed (`--kill-at N`, or for real), the same command
//! resumes from the last checkpoint. `--sroie-train N` also trains on the first N real
//! receipts (recipe B); `--det-steps N` first fine-tunes the detector, kept if better.
//!
//! ```sh
//! scripts/assets.sh   # and the fonts of ../shared/ASSETS.md, as scripts/main-job.sh does
//! cargo run --release -p whet-examples --example finetune_receipts_ocr -- --sroie ../shared/data/sroie-dev
//! ```

#![allow(clippy::print_stdout)] // a program: it prints its results

use std::path::PathBuf;

use clap::Parser;
use whet_core::registry::{NewVersion, PromotionRule, Registry};
use whet_core::{DeviceSpec, Goal, run::RunDir};
use whet_eval_metrics::ocr::EndToEndReport;
use whet_ocr_det::finetune::{DetData, DetFinetune, DetFinetuneConfig, DistillConfig, EvalSet};
use whet_ocr_det::finetune::{RecData, RecFinetune, RecFinetuneConfig, RecTrainPart};
use whet_ocr_det::{Ocr, train::DetItem, train::RecItem};
use whet_synth_docs::{GeneratorConfig, SynthesisPlan, synthesise_once};

#[derive(Clone, Copy, PartialEq, clap::ValueEnum)]
enum TrainPlan {
    Clean,
    Photographed,
}

#[derive(Parser)]
struct Args {
    #[arg(long, default_value = "assets/rapidocr-1.4.4")]
    weights: PathBuf,
    #[arg(long, default_value = "whet-out/finetune-ocr")]
    out: PathBuf,
    /// Synthetic training receipts (40 more are held out, with their own seed).
    #[arg(long, default_value_t = 200)]
    train: u64,
    #[arg(long, default_value_t = 300)]
    steps: usize,
    /// The training receipts: clean renders, or as people photograph and scan them
    /// (`SynthesisPlan::photographed_receipts`). The held-out ones are always clean.
    #[arg(long, value_enum, default_value_t = TrainPlan::Clean)]
    plan: TrainPlan,
    /// Seed of the training order (the receipts keep theirs).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// What trains: head, neck or all.
    #[arg(long, default_value = "neck")]
    rec_train: RecTrainPart,
    /// Distillation weight (0: none).
    #[arg(long, default_value_t = 1.0)]
    distill: f64,
    /// SROIE folder to measure on; its first `--sroie-train` receipts train.
    #[arg(long)]
    sroie: Option<PathBuf>,
    #[arg(long, default_value_t = 0)]
    sroie_train: usize,
    /// Cut the real training lines from the annotated boxes instead of the detector's
    /// boxes matched to them.
    #[arg(long)]
    annotated_crops: bool,
    /// Detector steps (0: keep the pretrained detector).
    #[arg(long, default_value_t = 0)]
    det_steps: usize,
    /// Detector peak learning rate.
    #[arg(long, default_value_t = 2e-4)]
    det_lr: f64,
    #[arg(long)]
    device: Option<String>,
    /// Abort at this recognizer step, a simulated crash (0: never).
    #[arg(long, default_value_t = 0)]
    kill_at: usize,
}

fn main() -> anyhow::Result<()> {
    whet_examples::init_tracing();
    let a = Args::parse();
    let device = DeviceSpec::from_arg_or_env(a.device.as_deref())?.device()?;
    let base = Ocr::from_pretrained(&a.weights, &device)?;
    let base_generation = base.det.backbone.generation();
    let (receipts, plan) = (
        GeneratorConfig::philippine_receipts(),
        SynthesisPlan::default(),
    );
    let (train_dir, train_plan) = match a.plan {
        TrainPlan::Clean => (format!("train-11-{}", a.train), plan.clone()),
        TrainPlan::Photographed => (
            format!("train-photographed-11-{}", a.train),
            SynthesisPlan::photographed_receipts(),
        ),
    };
    let train_dir = a.out.join(train_dir);
    synthesise_once(&train_dir, a.train, 11, receipts.clone(), train_plan)?;
    let test_dir = a.out.join("test-90001-40");
    let test = synthesise_once(&test_dir, 40, 90_001, receipts, plan)?;
    let mut sets = vec![EvalSet::new(test_dir, test)];
    let mut real = Vec::new();
    if let Some(dir) = &a.sroie {
        let (trained, held_out) = whet_examples::sroie_split(dir, a.sroie_train)?;
        real = DetItem::open_all(dir, &trained)?;
        sets.push(EvalSet::new(dir, held_out).upper_case());
    }
    let scores = |ocr: &Ocr| {
        sets.iter()
            .map(|s| s.evaluate(ocr))
            .collect::<Result<Vec<_>, _>>()
    };
    // The pretrained scores are measured once per output folder: a resumed run reuses them.
    let cached = a.out.join(format!(
        "pretrained-{}-sroie{}-{}.json",
        a.weights.file_name().unwrap_or_default().to_string_lossy(),
        a.sroie_train,
        sets.len()
    ));
    let before: Vec<EndToEndReport> = match std::fs::read(&cached) {
        Ok(bytes) => serde_json::from_slice(&bytes)?,
        Err(_) => {
            let before = scores(&base)?;
            whet_core::data::atomic_write(&cached, &serde_json::to_vec(&before)?)?;
            before
        }
    };
    let run =
        |name: &str| RunDir::resume_or_create(a.out.join("mlruns"), "finetune-receipts-ocr", name);
    let mut det = None;
    if a.det_steps > 0 {
        let mut data = DetData::from_labels(train_dir.join("det_gt.txt"), 10, 10)?;
        // With real receipts, every 8th of them (at most 6) validates instead of the
        // synthetic pages: the detector is kept only if it beats the pretrained one there.
        // (`finetune_detector` has the detector recipe's other settings.)
        let real_pages = DetData::split(real.clone(), 8, 6);
        data.add_train(&real_pages.train, 3);
        if !real_pages.valid.is_empty() {
            data.valid = real_pages.valid;
        }
        let recipe = DetFinetune::new(DetFinetuneConfig::new(a.det_steps, a.det_lr));
        let name = format!("detector-steps{}-sroie{}", a.det_steps, a.sroie_train);
        det = recipe.run(&base, &data, run(&name)?)?.if_better();
    }
    // Real lines are cut where the detector the pipeline will read with finds them.
    let tuned_det = det.as_ref().map(|d| d.pipeline(&base));
    let cutter = tuned_det.as_ref().unwrap_or(&base);
    let mut data = RecData::from_labels(train_dir.join("rec_gt.txt"), 10)?;
    // Real lines: every 10th validates (with the synthetic validation lines), the rest
    // train, repeated 3 times among the synthetic ones.
    let mut lines = Vec::new();
    for page in &real {
        lines.extend(if a.annotated_crops {
            RecItem::crops(&page.image, &page.regions)
        } else {
            RecItem::detected(cutter, &page.image, &page.regions, 0.5)?
        });
    }
    let real_lines = RecData::split(lines, 10);
    data.add_train(&real_lines.train, 3);
    data.valid.extend(real_lines.valid);
    let mut config = RecFinetuneConfig::new(a.steps, 5e-4);
    config.part = a.rec_train;
    config.train.seed = a.seed;
    config.distill = (a.distill > 0.0).then(|| DistillConfig::new(a.distill));
    let name = format!(
        "recognizer-train{}{}-steps{}-sroie{}-seed{}",
        a.train,
        if a.plan == TrainPlan::Photographed {
            "-photographed"
        } else {
            ""
        },
        a.steps,
        a.sroie_train,
        a.seed
    );
    let recipe = RecFinetune::new(config).on_step(whet_examples::crash_at(Some(a.kill_at)));
    let tuned = recipe.run(&base, &data, run(&name)?)?;
    let ocr = tuned_det
        .unwrap_or(base)
        .with_recognizer(tuned.recognizer, tuned.dict);
    let mut meta = NewVersion::new();
    for ((b, f), set) in before.iter().zip(scores(&ocr)?).zip(["synthetic", "sroie"]) {
        let (hmean, acc) = ((b.det.hmean, f.det.hmean), (b.rec.acc, f.rec.acc));
        println!("{set:<9} hmean {hmean:.4?}  line accuracy {acc:.4?} (before, after)");
        meta = meta.metric(&format!("{set}_line_accuracy"), f.rec.acc);
    }
    let registry = Registry::open(a.out.join("registry"))?;
    // "ppocrv4-receipts" or "ppocrv6-receipts", after the base.
    let model = format!(
        "{}-receipts",
        base_generation.to_lowercase().replace('-', "")
    );
    let version = registry.register_written(&model, meta, |dir| ocr.save(dir))?;
    let rule = PromotionRule::new("synthetic_line_accuracy", Goal::Maximize, 0.0);
    let decision = registry.promote_if_improved(&model, version.version, &rule)?;
    println!("registered v{}: {decision:?}", version.version);
    Ok(())
}

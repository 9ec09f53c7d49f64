//! Fine-tunes the text detector on labelled receipts and measures what it changes on
//! receipts it never saw: the first `--sroie-train` SROIE receipts train (every 8th of
//! them, at most 6, validates and decides whether the tuned detector is kept), the rest
//! are held out and read end to end before and after (the pretrained recognizer reads
//! both). PaddleOCR detection labels of your own (`--labels det_gt.txt`, what synth-docs
//! writes) join the real pages. Kept only if better on validation, then registered.
//!
//! ```sh
//! scripts/assets.sh
//! cargo run --release -p whet-examples --example finetune_detector -- --steps 300
//! ```

#![allow(clippy::print_stdout)] // a program: it prints its results

use std::path::PathBuf;

use clap::Parser;
use whet_core::registry::{NewVersion, PromotionRule, Registry};
use whet_core::{DeviceSpec, Goal, run::RunDir};
use whet_ocr_det::Ocr;
use whet_ocr_det::finetune::{DetData, DetFinetune, DetFinetuneConfig, EvalSet};
use whet_ocr_det::train::{DetItem, ShrinkLoss};

#[derive(Parser)]
struct Args {
    #[arg(long, default_value = "assets/rapidocr-1.4.4")]
    weights: PathBuf,
    #[arg(long, default_value = "whet-out/finetune-detector")]
    out: PathBuf,
    #[arg(long, default_value = "../shared/data/sroie-dev")]
    sroie: PathBuf,
    /// The first N SROIE receipts train and validate; the rest are held out.
    #[arg(long, default_value_t = 48)]
    sroie_train: usize,
    /// How many times each real training page is repeated.
    #[arg(long, default_value_t = 3)]
    real_repeat: usize,
    /// PaddleOCR detection labels (`det_gt.txt`, `Label.txt`) that also train.
    #[arg(long)]
    labels: Option<PathBuf>,
    #[arg(long, default_value_t = 200)]
    steps: usize,
    /// Peak learning rate.
    #[arg(long, default_value_t = 2e-4)]
    lr: f64,
    /// Shrink ratio of the DB targets (default: the recipe's).
    #[arg(long)]
    shrink: Option<f64>,
    /// The DB paper's balanced BCE on the probability map instead of dice.
    #[arg(long)]
    bce: bool,
    /// Train the backbone too.
    #[arg(long)]
    train_backbone: bool,
    /// Also save the tuned pipeline here, kept or not (to study it).
    #[arg(long)]
    save_tuned: Option<PathBuf>,
    #[arg(long)]
    device: Option<String>,
}

fn main() -> anyhow::Result<()> {
    whet_examples::init_tracing();
    let a = Args::parse();
    let device = DeviceSpec::from_arg_or_env(a.device.as_deref())?.device()?;
    let base = Ocr::from_pretrained(&a.weights, &device)?;
    let (trained, held_out) = whet_examples::sroie_split(&a.sroie, a.sroie_train)?;
    let real = DetData::split(DetItem::open_all(&a.sroie, &trained)?, 8, 6);
    let mut data = match &a.labels {
        Some(file) => DetData::from_labels(file, 10, 0)?, // all of them train
        None => DetData::default(),
    };
    data.add_train(&real.train, a.real_repeat);
    data.valid = real.valid;

    let mut config = DetFinetuneConfig::new(a.steps, a.lr);
    if let Some(r) = a.shrink {
        config.labels.shrink_ratio = r;
    }
    if a.bce {
        config.shrink_loss = ShrinkLoss::BalancedBce;
    }
    config.train_backbone = a.train_backbone;
    let name = format!(
        "steps{}-lr{}-real{}x{}{}{}",
        a.steps,
        a.lr,
        real.train.len(),
        a.real_repeat,
        if a.labels.is_some() { "-labels" } else { "" },
        if a.train_backbone { "-backbone" } else { "" },
    );
    let run = RunDir::resume_or_create(a.out.join("mlruns"), "finetune-detector", &name)?;
    let tuned = DetFinetune::new(config).run(&base, &data, run)?;
    let valid = (tuned.pretrained_hmean, tuned.tuned_hmean);
    let unclip = (tuned.pretrained_unclip_ratio, tuned.unclip_ratio);
    println!("validation hmean {valid:.4?} at unclip ratios {unclip:.1?} (pretrained, tuned)");

    let held_out = EvalSet::new(&a.sroie, held_out).upper_case();
    let before = held_out.evaluate(&base)?;
    let ocr = tuned.pipeline(&base);
    let after = held_out.evaluate(&ocr)?;
    if let Some(dir) = &a.save_tuned {
        ocr.save(dir)?;
    }
    for (name, r) in [("pretrained", &before), ("tuned", &after)] {
        let d = &r.det;
        println!(
            "held-out {name:<10} hmean {:.4} precision {:.4} recall {:.4} line accuracy {:.4}",
            d.hmean, d.precision, d.recall, r.rec.acc
        );
    }
    if tuned.if_better().is_some() {
        let meta = NewVersion::new()
            .metric("validation_hmean", valid.1)
            .metric("held_out_hmean", after.det.hmean);
        let model = format!(
            "{}-detector",
            base.det
                .backbone
                .generation()
                .to_lowercase()
                .replace('-', "")
        );
        let registry = Registry::open(a.out.join("registry"))?;
        let version = registry.register_written(&model, meta, |dir| ocr.save(dir))?;
        let rule = PromotionRule::new("validation_hmean", Goal::Maximize, 0.0);
        let decision = registry.promote_if_improved(&model, version.version, &rule)?;
        println!("registered {model} v{}: {decision:?}", version.version);
    } else {
        println!("not better than the pretrained detector on validation: not registered");
    }
    Ok(())
}

//! Fine-tunes Whisper tiny.en on spoken Philippine English and Tagalog expense phrases
//! (espeak-ng voices at several speeds and pitches, noise added) with LoRA on the CPU,
//! general English sentences (CLINC150's queries) spoken beside them as replay so the
//! decoder keeps its English: WER on held-out phrases (their own seed, voices and noise)
//! before and after, WER on the LibriVox clips to show nothing else was lost, and the
//! adapter registered and promoted only when it is better. `--train-manifest` and
//! `--test-manifest` take your own speech instead.
//!
//! ```sh
//! scripts/assets.sh && scripts/speech-data.sh
//! cargo run --release -p whet-examples --example finetune_whisper
//! ```
//! Killed part-way, the same command resumes from the last checkpoint.

#![allow(clippy::print_stdout)] // a program: it prints its report

use std::path::PathBuf;

use clap::Parser;
use whet_core::DeviceSpec;
use whet_core::lora::TargetModules;
use whet_core::registry::{NewVersion, PromotionRule, Registry};
use whet_core::run::RunDir;
use whet_core::train::{Goal, Trainer};
use whet_examples::speech::ExpenseSpeech;
use whet_whisper_ft::{
    TrainingUtterance, TranscribeOptions, WerReport, Whisper, WhisperFinetuneConfig, WhisperModel,
    finetune_with, read_manifest, read_sphinx_transcription,
};

#[derive(Parser)]
struct Args {
    /// A CTranslate2 or Hugging Face Whisper folder (with its tokenizer.json).
    #[arg(long, default_value = "assets/whisper-tiny.en")]
    model: PathBuf,
    #[arg(long, default_value = "assets/whisper/mel_filters.npz")]
    mel_filters: PathBuf,
    /// Real speech that must not get worse (the LibriVox clips of pocketsphinx-testdata).
    #[arg(long, default_value = "/usr/share/pocketsphinx/test/data/librivox")]
    librivox: PathBuf,
    #[arg(long, default_value = "whet-out/whisper")]
    out: PathBuf,
    /// Your own training speech: a manifest JSONL of {"audio", "text", "language"}
    /// (instead of the espeak-ng set).
    #[arg(long, requires = "test_manifest")]
    train_manifest: Option<PathBuf>,
    /// Your own held-out speech, the same format.
    #[arg(long, requires = "train_manifest")]
    test_manifest: Option<PathBuf>,
    #[arg(long, default_value_t = 320)]
    train: u64,
    #[arg(long, default_value_t = 40)]
    test: u64,
    /// General English sentences spoken beside the phrases, against forgetting.
    #[arg(long, default_value_t = 320)]
    replay: usize,
    #[arg(long, default_value = "../shared/data/clinc150/data_full.json")]
    replay_text: PathBuf,
    #[arg(long, default_value_t = 120)]
    steps: usize,
    #[arg(long, default_value_t = 8)]
    batch: usize,
    /// Peak learning rate: 3e-4 for LoRA, 1e-5 with `--full`.
    #[arg(long)]
    lr: Option<f64>,
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// LoRA's targets (a regex over module paths): the decoder's by default, as adapting
    /// the encoder triples a CPU step and moves how real speech is heard.
    #[arg(long, default_value = r"model\.decoder\..*(q_proj|v_proj)")]
    targets: String,
    /// Train every weight instead of a LoRA adapter.
    #[arg(long)]
    full: bool,
    /// Abort after this step (to show that the same command resumes).
    #[arg(long)]
    kill_at: Option<usize>,
    #[arg(long)]
    device: Option<String>,
}

fn show(name: &str, synthetic: &WerReport, librivox: &WerReport) {
    println!(
        "{name:<11} held-out WER {:.4} ({}) | LibriVox WER {:.4} | RTF {:.3}",
        synthetic.wer,
        synthetic
            .by_language
            .iter()
            .map(|(l, w)| format!("{l} {w:.4}"))
            .collect::<Vec<_>>()
            .join(", "),
        librivox.wer,
        synthetic.real_time_factor()
    );
}

fn main() -> anyhow::Result<()> {
    whet_examples::init_tracing();
    let a = Args::parse();
    let spec = DeviceSpec::from_arg_or_env(a.device.as_deref())?;
    let (device, train_device) = (spec.device()?, spec.autodiff_device()?);

    let (train_set, test_set) = match (&a.train_manifest, &a.test_manifest) {
        (Some(train), Some(test)) => (read_manifest(train)?, read_manifest(test)?),
        _ => ExpenseSpeech {
            seed: a.seed,
            train: a.train,
            test: a.test,
            replay: a.replay,
            replay_text: a.replay_text.clone(),
            out: a.out.join("speech"),
        }
        .synthesize()?,
    };
    let librivox = read_sphinx_transcription(a.librivox.join("transcription"))?;
    println!(
        "{} training, {} held-out utterances",
        train_set.len(),
        test_set.len()
    );

    let mut options = TranscribeOptions::default();
    options.decoding.without_timestamps = true;
    let whisper = Whisper::from_dir(&a.model, &a.mel_filters, &device)?;
    let before = (
        whisper.evaluate(&test_set, &options)?,
        whisper.evaluate(&librivox, &options)?,
    );
    show("base", &before.0, &before.1);

    let mut config = if a.full {
        WhisperFinetuneConfig::full(a.steps, a.batch, a.lr.unwrap_or(1e-5))
    } else {
        WhisperFinetuneConfig::lora(a.steps, a.batch, a.lr.unwrap_or(3e-4))
    };
    config.train.seed = a.seed;
    if let Some(lora) = config.lora.as_mut() {
        lora.target_modules = TargetModules::Pattern(a.targets.clone());
    }
    let run = RunDir::resume_or_create(a.out.join("mlruns"), "whisper-ft", "tiny.en")?;
    let trainer = Trainer::new(config.train.clone(), &train_device, run)?
        .with_user_config(&config)?
        .on_step(whet_examples::crash_at(a.kill_at));
    let model = WhisperModel::from_dir(&a.model, &train_device)?;
    let data = TrainingUtterance::from_records(&whisper, &train_set)?;
    let trained = finetune_with(&whisper, model, data, &config, trainer)?.model;

    // The trained weights into an inference copy.
    let tuned_dir = a.out.join("tuned");
    let tuned = if a.full {
        trained.save_pretrained(&tuned_dir)?;
        WhisperModel::from_pretrained(&tuned_dir, &device)?
    } else {
        whet_core::lora::save_peft(&trained, &config.adapter, tuned_dir.join("peft"))?;
        let mut m = WhisperModel::from_dir(&a.model, &device)?;
        whet_core::lora::load_peft(&mut m, &config.adapter, tuned_dir.join("peft"), &device)?;
        m
    };
    let whisper = Whisper::new(tuned, whisper.tokenizer, whisper.filters, &device);
    let after = (
        whisper.evaluate(&test_set, &options)?,
        whisper.evaluate(&librivox, &options)?,
    );
    show("fine-tuned", &after.0, &after.1);
    // Every utterance's transcript before and after, for a look at what changed.
    let report = serde_json::json!({
        "base": { "held_out": before.0, "librivox": before.1 },
        "fine_tuned": { "held_out": after.0, "librivox": after.1 },
    });
    std::fs::write(
        a.out.join("report.json"),
        serde_json::to_vec_pretty(&report)?,
    )?;

    // Better on the new speech, and no more than a point worse on LibriVox.
    let better = after.0.wer < before.0.wer && after.1.wer <= before.1.wer + 0.01;
    if better {
        let registry = Registry::open(a.out.join("registry"))?;
        let name = "whisper-tiny.en-ph-expenses";
        let meta = NewVersion::new()
            .metric("wer", after.0.wer)
            .metric("base_wer", before.0.wer)
            .metric("librivox_wer", after.1.wer)
            .metric("base_librivox_wer", before.1.wer);
        let version = registry.register_written(name, meta, |dir| {
            if a.full {
                whisper.model.save_pretrained(dir.join("model"))
            } else {
                whet_core::lora::save_peft(&whisper.model, &config.adapter, dir.join("peft"))?;
                Ok(())
            }
        })?;
        let rule = PromotionRule::new("wer", Goal::Minimize, 0.0);
        let decision = registry.promote_if_improved(name, version.version, &rule)?;
        println!("registered {name} v{}: {decision:?}", version.version);
    } else {
        println!("not better than the base model: not registered");
    }
    Ok(())
}

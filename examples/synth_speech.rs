//! Writes a synthetic speech set: spoken expense phrases in Philippine English and
//! Tagalog (whet-synth-docs) read by espeak-ng voices at several speeds and pitches with
//! noise added (whet-whisper-ft), as 16 kHz WAV files and a `manifest.jsonl` of
//! `{"audio", "text", "language"}` records.
//!
//! ```sh
//! scripts/speech-data.sh   # espeak-ng
//! cargo run --release -p whet-examples --example synth_speech -- --n 20 --out whet-out/speech
//! ```

#![allow(clippy::print_stdout)] // a program: it prints what it wrote

use std::path::PathBuf;

use clap::Parser;
use whet_synth_docs::PhraseGenerator;
use whet_whisper_ft::{SpeechSynthConfig, synthesize_speech_set};

#[derive(Parser)]
struct Args {
    /// Utterances.
    #[arg(long, default_value_t = 20)]
    n: u64,
    /// Seeds the phrases and the voices.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Share of Tagalog phrases.
    #[arg(long, default_value_t = 0.5)]
    tagalog_share: f64,
    /// Clean audio (no noise added).
    #[arg(long)]
    clean: bool,
    #[arg(long, default_value = "whet-out/speech")]
    out: PathBuf,
}

fn main() -> anyhow::Result<()> {
    whet_examples::init_tracing();
    let a = Args::parse();
    let mut phrases = PhraseGenerator::new(a.seed);
    phrases.tagalog_share = a.tagalog_share;
    let utterances: Vec<(String, String)> = phrases
        .phrases(a.n)
        .map(|p| (p.text.clone(), p.language().to_owned()))
        .collect();
    let mut config = SpeechSynthConfig {
        seed: a.seed,
        ..SpeechSynthConfig::default()
    };
    if a.clean {
        config.snr_db = None;
    }
    let records = synthesize_speech_set(&utterances, &a.out, &config)?;
    for r in &records {
        println!("{} [{}] {}", r.audio.display(), r.language, r.text);
    }
    println!(
        "{} utterances: {}",
        records.len(),
        a.out.join("manifest.jsonl").display()
    );
    Ok(())
}

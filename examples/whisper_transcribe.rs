//! Transcribes audio files (WAV, MP3, FLAC, Ogg Vorbis; any sample rate) with Whisper as
//! openai-whisper's `transcribe` does, printing each segment with its times.
//!
//! ```sh
//! scripts/assets.sh && scripts/speech-data.sh
//! cargo run --release -p whet-examples --example whisper_transcribe -- \
//!     /usr/share/pocketsphinx/test/data/librivox/*.wav
//! ```

#![allow(clippy::print_stdout)] // a program: it prints the transcripts

use std::path::PathBuf;

use clap::Parser;
use whet_core::DeviceSpec;
use whet_whisper_ft::{Audio, TranscribeOptions, Whisper};

#[derive(Parser)]
struct Args {
    /// Audio files.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// A CTranslate2 or Hugging Face Whisper folder (with its tokenizer.json).
    #[arg(long, default_value = "assets/whisper-tiny.en")]
    model: PathBuf,
    #[arg(long, default_value = "assets/whisper/mel_filters.npz")]
    mel_filters: PathBuf,
    /// A PEFT LoRA adapter folder (what finetune_whisper writes) to apply.
    #[arg(long)]
    adapter: Option<PathBuf>,
    /// Print each word with its time.
    #[arg(long)]
    words: bool,
    /// Text only (no timestamp tokens).
    #[arg(long)]
    without_timestamps: bool,
    #[arg(long)]
    device: Option<String>,
}

fn main() -> anyhow::Result<()> {
    whet_examples::init_tracing();
    let a = Args::parse();
    let device = DeviceSpec::from_arg_or_env(a.device.as_deref())?.device()?;
    let mut whisper = Whisper::from_dir(&a.model, &a.mel_filters, &device)?;
    if let Some(adapter) = &a.adapter {
        whet_core::lora::load_peft(&mut whisper.model, "adapter", adapter, &device)?;
    }
    let mut options = TranscribeOptions::default();
    options.decoding.without_timestamps = a.without_timestamps;
    options.word_timestamps = a.words;
    for file in &a.files {
        let started = std::time::Instant::now();
        let audio = Audio::read(file)?;
        let transcript = whisper.transcribe(&audio, &options)?;
        println!("{}:", file.display());
        for s in &transcript.segments {
            println!("  [{:6.2} -> {:6.2}]{}", s.start, s.end, s.text);
            for w in &s.words {
                println!(
                    "      {:6.2} {:6.2} {:.2}{}",
                    w.start, w.end, w.probability, w.word
                );
            }
        }
        let seconds = started.elapsed().as_secs_f64();
        println!(
            "  ({:.1} s of audio in {seconds:.1} s: real-time factor {:.3})",
            audio.duration(),
            seconds / audio.duration().max(1e-9)
        );
    }
    Ok(())
}

//! LoRA supervised fine-tuning of SmolLM2-135M-Instruct on the CPU, against PEFT + torch
//! (`scripts/bench-lora-sft.sh`): seconds per optimiser step and peak resident memory for
//! one conversation of `SEQ` tokens (default 512, the second half scored), batch 1, LoRA
//! r 16 / alpha 32 on the seven projections, AdamW, clipping at 1. The base is the Q4_1
//! GGUF decoded to f32 on both sides; `PRECISION=packed` keeps Whetstone's base in its
//! Q4_1 blocks instead (QLoRA). Prints `rust lora_step_seconds <median of steps 2..>` and
//! `rust lora_peak_rss_mib <VmHWM>`.

#![allow(clippy::print_stdout)] // the side-by-side figures are this bench's report

use std::path::PathBuf;
use std::time::Instant;

use whet_core::run::RunDir;
use whet_core::train::{Control, Trainer};
use whet_vlm_lora::{LlamaForCausalLM, Precision, SftConfig, SftExample, finetune_with};

fn main() {
    let seq: usize = std::env::var("SEQ")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(512);
    let steps: usize = std::env::var("STEPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(6);
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let gguf = root.join("assets/smollm2-135m/SmolLM2-135M-Instruct.Q4_1.gguf");
    let device = whet_core::DeviceSpec::from_env()
        .and_then(|d| d.autodiff_device())
        .expect("a device");
    let precision = match std::env::var("PRECISION").as_deref() {
        Ok("packed") => Precision::Packed,
        Ok("f32") | Err(_) => Precision::F32,
        Ok(other) => panic!("PRECISION={other}: f32 or packed"),
    };
    let model = LlamaForCausalLM::from_gguf(&gguf, precision, &device).expect("the model");
    // The same token ids as the Python side: (7 i + 100) mod 40,000, the second half scored.
    let input_ids: Vec<u32> = (0..seq).map(|i| ((7 * i + 100) % 40_000) as u32).collect();
    let labels = input_ids
        .iter()
        .enumerate()
        .map(|(i, &t)| if i < seq / 2 { -100 } else { i64::from(t) })
        .collect();
    let example = SftExample { input_ids, labels };
    let config = SftConfig::new(steps, 1, 1e-4);
    let tmp = tempfile::tempdir().expect("a temporary folder");
    let run = RunDir::create(tmp.path(), "bench", "lora").expect("a run");
    let mut times = Vec::new();
    let mut last = Instant::now();
    let trainer = Trainer::new(config.train.clone(), &device, run)
        .expect("a trainer")
        .with_progress(false)
        .on_step(|_| {
            times.push(last.elapsed().as_secs_f64());
            last = Instant::now();
            Control::Continue
        });
    finetune_with(model, vec![example; steps], &config, trainer).expect("training");
    let mut steady: Vec<f64> = times[1..].to_vec();
    steady.sort_by(f64::total_cmp);
    println!("rust lora_step_seconds {:.3}", steady[steady.len() / 2]);
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let hwm_kib: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0.0);
    println!("rust lora_peak_rss_mib {:.0}", hwm_kib / 1024.0);
}

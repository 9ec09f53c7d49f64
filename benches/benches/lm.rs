//! SmolLM2-135M-Instruct on burn-flex, the three workloads a language model puts on the
//! CPU:
//! - `prompt_64`: a 64-token prompt through the model (weights kept packed, llama.cpp's
//!   arithmetic, the KV cache filled), what `generate` does first;
//! - `token_1`: one more token after a 64-token prompt (the cache truncated back each
//!   time), what every generated token costs;
//! - `lora_step_64`: one LoRA training step on a 64-token sequence (weights decoded to
//!   f32, adapters of rank 16 on every attention and MLP projection, next-token
//!   cross-entropy, backward, AdamW on the adapters only).
//!
//! `scripts/bench-smollm2.sh` compares generation with llama.cpp; this bench is the
//! criterion view and what the profiles of `docs/benchmarks.md` were recorded on
//! (`scripts/profile-cpu.sh`, which runs it with `--profile-time` under `perf`).
#![allow(missing_docs)]

use std::path::PathBuf;

use burn::optim::GradientsParams;
use burn::tensor::{Device, Int, Tensor, TensorData};
use criterion::{Criterion, criterion_group, criterion_main};
use whet_core::lora::{self, LoraConfig, TargetModules};
use whet_core::train::OptimizerConfig;
use whet_vlm_lora::{KvCache, LlamaForCausalLM, Precision};

fn model_file() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../assets/smollm2-135m/SmolLM2-135M-Instruct.Q4_1.gguf")
}

/// `n` token ids, the same every run.
fn ids(n: usize) -> Vec<u32> {
    (0..n as u32).map(|i| 100 + (i * 7919) % 40_000).collect()
}

fn bench(c: &mut Criterion) {
    let device = Device::flex();
    let mut group = c.benchmark_group("lm");
    group.sample_size(10);

    let model = LlamaForCausalLM::from_gguf(model_file(), Precision::Packed, &device)
        .expect("scripts/assets.sh");
    let prompt = vec![ids(64)];
    group.bench_function("prompt_64", |b| {
        b.iter(|| {
            let mut cache = KvCache::new();
            let logits = model.forward_last(&prompt, Some(&mut cache), &device);
            logits.expect("forward").into_data()
        })
    });
    let mut cache = KvCache::new();
    let _ = model.forward_last(&prompt, Some(&mut cache), &device);
    group.bench_function("token_1", |b| {
        b.iter(|| {
            let mut cache = cache.clone();
            let logits = model.forward_last(&[vec![42]], Some(&mut cache), &device);
            logits.expect("forward").into_data()
        })
    });
    drop(model);

    let train = device.clone().autodiff();
    let mut model = LlamaForCausalLM::from_gguf(model_file(), Precision::F32, &train)
        .expect("scripts/assets.sh");
    let targets = whet_vlm_lora::LLAMA_PROJECTIONS;
    let config = LoraConfig::new(
        16,
        32.0,
        TargetModules::Names(targets.iter().map(|t| (*t).to_owned()).collect()),
    );
    lora::add_adapter(&mut model, "bench", &config, &train).expect("adapter");
    let seq = ids(65);
    let (inputs, labels) = (vec![seq[..64].to_vec()], seq[1..].to_vec());
    let labels: Tensor<1, Int> = Tensor::from_data(
        TensorData::new(labels.iter().map(|&t| i64::from(t)).collect(), [64]),
        &train,
    );
    let mut optim = OptimizerConfig::adamw(1e-4).init();
    let cross_entropy = burn::nn::loss::CrossEntropyLossConfig::new().init(&train);
    group.bench_function("lora_step_64", |b| {
        b.iter(|| {
            let logits = model.forward(&inputs, None, &train).expect("forward");
            let [_, s, v] = logits.dims();
            let loss = cross_entropy.forward(logits.reshape([s, v]), labels.clone());
            let value = loss.clone().into_scalar::<f32>();
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            model = optim.step(1e-4, model.clone(), grads);
            value
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

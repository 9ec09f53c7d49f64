//! LoRA on the real model: a PEFT 0.21.2 adapter made on SmolLM2-135M-Instruct (in
//! transformers, `scripts/golden/llama-cpp.sh`) loads by PEFT's key names and gives PEFT's
//! logits; turned off, the base model's; written as a GGUF adapter and read back, the
//! same.

use std::path::Path;

use serde::Deserialize;
use whet_core::burn::tensor::Device;
use whet_core::gguf::Gguf;
use whet_core::lora;
use whet_vlm_lora::{LlamaForCausalLM, Precision};

#[derive(Deserialize)]
struct Position {
    top1: usize,
    probe_logits: Vec<f32>,
    off_probe_logits: Vec<f32>,
}

#[derive(Deserialize)]
struct Fixture {
    tokens: Vec<u32>,
    probe: Vec<usize>,
    positions: Vec<Position>,
}

fn golden() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

/// Largest difference of each position's probed logits from the fixture's, adapter on
/// (`off`: the base model's).
fn worst(model: &LlamaForCausalLM, fx: &Fixture, off: bool, device: &Device) -> f32 {
    let logits = model
        .forward(std::slice::from_ref(&fx.tokens), None, device)
        .unwrap();
    let [_, _, v] = logits.dims();
    let vals = logits.into_data().try_into_vec::<f32>().unwrap();
    let mut worst = 0.0f32;
    for (row, want) in vals.chunks(v).zip(&fx.positions) {
        let expected = if off {
            &want.off_probe_logits
        } else {
            &want.probe_logits
        };
        if !off {
            let top1 = (0..v).fold(0, |b, i| if row[i] > row[b] { i } else { b });
            assert_eq!(top1, want.top1);
        }
        for (&t, &l) in fx.probe.iter().zip(expected) {
            worst = worst.max((row[t] - l).abs());
        }
    }
    worst
}

#[test]
fn a_peft_adapter_on_smollm2_gives_peft_logits() {
    let fx: Fixture =
        serde_json::from_slice(&std::fs::read(golden().join("smollm2_peft.json")).unwrap())
            .unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let file =
        Gguf::open(root.join("assets/smollm2-135m/SmolLM2-135M-Instruct.Q4_1.gguf")).unwrap();
    let device = Device::default();
    let mut model = LlamaForCausalLM::from_gguf_file(&file, Precision::F32, &device).unwrap();
    // q, k, v and down projections of layers 0, 15 and 29.
    let n = lora::load_peft(&mut model, "peft", golden().join("smollm2_peft"), &device).unwrap();
    assert_eq!(n, 12);
    let on = worst(&model, &fx, false, &device);
    assert!(
        on < 1e-3,
        "adapter on: largest logit difference from PEFT {on}"
    );
    lora::set_adapter(&mut model, None).unwrap();
    let off = worst(&model, &fx, true, &device);
    assert!(
        off < 1e-3,
        "adapter off: largest logit difference from PEFT {off}"
    );

    // The same adapter through llama.cpp's GGUF adapter format and back.
    let dir = tempfile::tempdir().unwrap();
    lora::save_gguf(&model, "peft", dir.path().join("adapter.gguf")).unwrap();
    let written = Gguf::open(dir.path().join("adapter.gguf")).unwrap();
    assert_eq!(written.str("general.type").unwrap(), "adapter");
    assert!(written.tensor("blk.15.attn_k.weight.lora_b").is_ok());
    let mut again = LlamaForCausalLM::from_gguf_file(&file, Precision::F32, &device).unwrap();
    assert_eq!(
        lora::load_gguf(&mut again, "gguf", dir.path().join("adapter.gguf"), &device).unwrap(),
        12
    );
    let back = worst(&again, &fx, false, &device);
    assert!(
        back < 1e-3,
        "through GGUF: largest logit difference from PEFT {back}"
    );
}

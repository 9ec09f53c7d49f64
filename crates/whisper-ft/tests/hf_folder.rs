//! Whisper tiny.en read from CTranslate2's file, written as a Hugging Face folder and read
//! back: the same weights bit for bit, the same encoder output; a damaged folder is an
//! error naming the file and tensor. (`scripts/check-whisper-export.sh` checks that
//! transformers reads the folder and gives CTranslate2's tokens.)

use std::path::{Path, PathBuf};

use whet_core::burn::tensor::Device;
use whet_whisper_ft::WhisperModel;

fn model_bin() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/whisper-tiny.en/model.bin")
}

#[test]
fn a_saved_folder_reads_back_bit_for_bit() {
    let device = Device::default();
    let model = WhisperModel::from_ct2(model_bin(), &device).unwrap();
    let dir = tempfile::tempdir().unwrap();
    model.save_pretrained(dir.path()).unwrap();
    let back = WhisperModel::from_pretrained(dir.path(), &device).unwrap();
    assert_eq!(back.config(), model.config());
    let (a, b) = (
        model.named_tensors().unwrap(),
        back.named_tensors().unwrap(),
    );
    assert_eq!(a.len(), b.len());
    // Encoder: 2 convolutions (weight, bias), positions, final norm; 15 per layer (an
    // attention's 7 with the key's bias absent, 2 linears, 2 norms). Decoder: tokens,
    // positions, final norm; 24 per layer (2 attentions, 2 linears, 3 norms).
    assert_eq!(a.len(), (4 + 1 + 2) + 4 * 15 + (2 + 2) + 4 * 24);
    for ((n1, d1, v1), (n2, d2, v2)) in a.iter().zip(&b) {
        assert_eq!((n1, d1), (n2, d2));
        assert!(
            v1.iter().zip(v2).all(|(x, y)| x.to_bits() == y.to_bits()),
            "{n1}"
        );
    }

    // A tensor of the wrong shape, and a missing file, name what is wrong.
    let config = dir.path().join("config.json");
    let mut c: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&config).unwrap()).unwrap();
    c["d_model"] = serde_json::json!(256);
    std::fs::write(&config, serde_json::to_vec(&c).unwrap()).unwrap();
    let err = WhisperModel::from_pretrained(dir.path(), &device)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("model.safetensors") && err.contains("shape"),
        "{err}"
    );
    std::fs::remove_file(dir.path().join("model.safetensors")).unwrap();
    let err = WhisperModel::from_pretrained(dir.path(), &device)
        .unwrap_err()
        .to_string();
    assert!(err.contains("model.safetensors"), "{err}");
}

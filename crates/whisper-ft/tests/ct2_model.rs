//! CTranslate2's `model.bin` of Whisper tiny.en (`scripts/assets.sh`) reads whole: every
//! variable CTranslate2's `WhisperSpec` writes, fp16 weights widened, the tied output
//! projection through its alias; damaged files are errors naming the file and variable.

use std::path::{Path, PathBuf};

use whet_whisper_ft::{Ct2Dtype, Ct2Model, Error};

fn model_bin() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/whisper-tiny.en/model.bin")
}

#[test]
fn whisper_tiny_en_reads_whole() {
    let m = Ct2Model::read(model_bin()).expect("scripts/assets.sh fetches it");
    assert_eq!(
        (m.binary_version, m.spec.as_str(), m.revision),
        (6, "WhisperSpec", 3)
    );
    assert_eq!(m.variables.len(), 148);
    // Self-attention's query, key and value fused; cross-attention's key and value.
    let qkv = m
        .get("decoder/layer_0/self_attention/linear_0/weight")
        .unwrap();
    assert_eq!(
        (qkv.shape.as_slice(), qkv.dtype),
        (&[1152, 384][..], Ct2Dtype::F16)
    );
    let kv = m.get("decoder/layer_3/attention/linear_1/weight").unwrap();
    assert_eq!(kv.shape, vec![768, 384]);
    // The output projection is the token embedding.
    let head = m.get("decoder/projection/weight").unwrap();
    assert_eq!(head, m.get("decoder/embeddings/weight").unwrap());
    assert_eq!(head.shape, vec![51864, 384]);
    let values = qkv.to_f32();
    assert_eq!(values.len(), 1152 * 384);
    assert!(values.iter().all(|v| v.is_finite()) && values.iter().any(|&v| v != 0.0));
    // Every layer of the 4 + 4.
    for side in ["encoder", "decoder"] {
        for l in 0..4 {
            assert!(
                m.variables
                    .keys()
                    .any(|k| k.starts_with(&format!("{side}/layer_{l}/"))),
                "{side} layer {l}"
            );
        }
    }
}

#[test]
fn damaged_files_name_the_file_and_the_variable() {
    let bytes = std::fs::read(model_bin()).unwrap();
    // Cut inside the first large variable's payload.
    let err = Ct2Model::parse(&bytes[..200_000], "cut.bin").unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, Error::Model { .. }), "{text}");
    assert!(
        text.contains("cut.bin") && text.contains("decoder/embeddings/weight"),
        "{text}"
    );

    // An unknown binary version.
    let mut old = bytes[..64].to_vec();
    old[0] = 2;
    let text = Ct2Model::parse(&old, "old.bin").unwrap_err().to_string();
    assert!(
        text.contains("old.bin") && text.contains("binary version 2"),
        "{text}"
    );

    // Extra bytes after the aliases.
    let mut long = bytes.clone();
    long.push(0);
    let text = Ct2Model::parse(&long, "long.bin").unwrap_err().to_string();
    assert!(text.contains("1 bytes after"), "{text}");

    // A missing file.
    let text = Ct2Model::read("no/such/model.bin").unwrap_err().to_string();
    assert!(text.contains("no/such/model.bin"), "{text}");
}

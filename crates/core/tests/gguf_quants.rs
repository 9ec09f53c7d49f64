//! ggml's block formats against gguf-py 0.19.0 (`scripts/golden/gguf-quants.sh`), in a
//! GGUF file gguf-py wrote: quantising here gives its bytes exactly, and decoding its K
//! blocks gives its values.

use whet_core::gguf::Gguf;
use whet_core::quant::{GgmlType, PackedMatrix, quantize};

fn fixture() -> Gguf {
    Gguf::open(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/golden/gguf/quants.gguf"
    ))
    .unwrap()
}

#[test]
fn reads_a_file_gguf_py_wrote() {
    let f = fixture();
    assert_eq!(f.version, 3);
    assert_eq!(f.str("general.architecture").unwrap(), "llama");
    assert_eq!(f.str("general.name").unwrap(), "whet-core quant fixtures");
    assert_eq!(f.tensor("x").unwrap().dims, [256, 4]);
}

#[test]
fn quantising_gives_ggmls_bytes() {
    let f = fixture();
    let x = f.tensor_f32("x").unwrap();
    for ty in [GgmlType::Q8_0, GgmlType::Q4_0, GgmlType::Q4_1] {
        let (want, stored) = f.tensor_bytes(&format!("q.{ty}")).unwrap();
        assert_eq!(stored, ty);
        assert!(
            quantize(ty, &x).unwrap() == want,
            "{ty} bytes differ from gguf-py's"
        );
        let m = PackedMatrix::quantize(ty, 4, 256, &x).unwrap();
        assert_eq!(m.bytes(), want);
    }
}

#[test]
fn k_blocks_decode_as_ggml_does() {
    let f = fixture();
    for ty in [GgmlType::Q4_K, GgmlType::Q6_K] {
        let got = f.tensor_f32(&format!("k.{ty}")).unwrap();
        let want = f.tensor_f32(&format!("k.{ty}.f32")).unwrap();
        assert_eq!(got.len(), 1024);
        for (i, (a, b)) in got.iter().zip(&want).enumerate() {
            assert_eq!(a.to_bits(), b.to_bits(), "{ty} value {i}: {a} vs {b}");
        }
        assert_eq!(f.packed(&format!("k.{ty}")).unwrap().dims(), [4, 256]);
    }
}

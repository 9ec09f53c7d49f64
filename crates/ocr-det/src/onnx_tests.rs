//! The (private) ONNX reader on the real PP-OCRv4 files (`scripts/assets.sh` fetches them) against
//! the `onnx` package's view of the same files (`scripts/golden/ocr-det.sh`): every node,
//! every stored tensor's shape, sum and first value, the graph's inputs and outputs, and
//! the recognizer's dictionary; and typed errors for missing, truncated and corrupt files.

use std::collections::HashMap;
use std::path::PathBuf;

use crate::onnx::{OnnxModel, TensorData};
use crate::{CharDict, Error};
use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn asset(name: &str) -> PathBuf {
    let p = root().join("assets/rapidocr-1.4.4").join(name);
    assert!(
        p.exists(),
        "{} is missing: run scripts/assets.sh (scripts/test.sh does)",
        p.display()
    );
    p
}

fn golden() -> Value {
    let p = root().join("crates/ocr-det/tests/golden/onnx.json");
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

fn check(model: &OnnxModel, want: &Value) {
    assert_eq!(model.nodes.len() as u64, want["nodes"].as_u64().unwrap());
    let mut ops: HashMap<&str, u64> = HashMap::new();
    for n in &model.nodes {
        *ops.entry(n.op_type.as_str()).or_default() += 1;
    }
    for (op, count) in want["ops"].as_object().unwrap() {
        assert_eq!(ops.get(op.as_str()).copied(), count.as_u64(), "{op}");
    }
    let names = |v: &Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(model.inputs, names(&want["inputs"]));
    assert_eq!(model.outputs, names(&want["outputs"]));
    let tensors = want["tensors"].as_object().unwrap();
    assert_eq!(model.tensors.len(), tensors.len());
    for (name, t) in tensors {
        let got = &model.tensors[name];
        let dims: Vec<usize> = t["dims"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d.as_u64().unwrap() as usize)
            .collect();
        assert_eq!(got.dims, dims, "{name}");
        let values: Vec<f64> = match &got.data {
            TensorData::F32(v) => v.iter().map(|&x| f64::from(x)).collect(),
            TensorData::I64(v) => v.iter().map(|&x| x as f64).collect(),
            TensorData::I32(v) => v.iter().map(|&x| f64::from(x)).collect(),
            TensorData::Other(kind, _) => panic!("{name}: unread element type {kind}"),
        };
        let sum: f64 = values.iter().sum();
        let want_sum = t["sum"].as_f64().unwrap();
        assert!(
            (sum - want_sum).abs() <= 1e-9 * want_sum.abs().max(1.0),
            "{name}: sum {sum} vs {want_sum}"
        );
        if let Some(first) = t["first"].as_f64() {
            assert_eq!(values[0], first, "{name}");
        }
    }
}

#[test]
fn detector_reads_as_the_onnx_package_reads_it() {
    let model = OnnxModel::open(asset("ch_PP-OCRv4_det_infer.onnx")).unwrap();
    check(&model, &golden()["det"]);
    let (dims, w) = model.f32("conv2d_0.w_0").unwrap();
    assert_eq!((dims, w.len()), (&[16, 3, 3, 3][..], 432));
    let conv = model.nodes.iter().find(|n| n.op_type == "Conv").unwrap();
    assert_eq!(conv.ints("strides", &[1, 1]), [2, 2]);
    assert_eq!(conv.ints("pads", &[0; 4]), [1, 1, 1, 1]);
}

#[test]
fn recognizer_and_its_dictionary() {
    let model = OnnxModel::open(asset("ch_PP-OCRv4_rec_infer.onnx")).unwrap();
    let want = golden();
    check(&model, &want["rec"]);
    let dict = CharDict::from_onnx(&model).unwrap();
    let d = &want["rec"]["dictionary"];
    assert_eq!(dict.len() as u64, d["lines"].as_u64().unwrap() + 2);
    // The output layer has one row per class: blank + dictionary + space.
    assert_eq!(dict.len(), 6625);
    for (i, c) in d["first"].as_array().unwrap().iter().enumerate() {
        assert_eq!(dict.get(i + 1), c.as_str());
    }
    assert_eq!(dict.get(dict.len() - 1), Some(" "));
}

#[test]
fn bad_files_are_typed_errors_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    assert!(matches!(
        OnnxModel::open(dir.path().join("absent.onnx")),
        Err(Error::Core(_))
    ));
    let bytes = std::fs::read(asset("ch_PP-OCRv4_det_infer.onnx")).unwrap();
    for (name, data) in [
        ("truncated.onnx", bytes[..bytes.len() / 2].to_vec()),
        (
            "noise.onnx",
            (0..4096u32)
                .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
                .collect(),
        ),
        ("empty.onnx", Vec::new()),
        ("text.onnx", b"this is not a model".to_vec()),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, &data).unwrap();
        match OnnxModel::open(&path) {
            Err(Error::Weights { path: p, reason }) => {
                assert_eq!(p, path);
                assert!(!reason.is_empty());
            }
            other => panic!("{name}: {other:?}"),
        }
    }
    // A detector is not a recognizer: no dictionary.
    let det = OnnxModel::open(asset("ch_PP-OCRv4_det_infer.onnx")).unwrap();
    assert!(matches!(
        CharDict::from_onnx(&det),
        Err(Error::Weights { .. })
    ));
}

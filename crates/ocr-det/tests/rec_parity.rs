//! The recognizer network against onnxruntime running the same ONNX file
//! (`scripts/golden/ocr-det.sh`) on 12 real SROIE text lines: at every time step the
//! same most probable class, the five most probable classes' probabilities within 1e-3,
//! and the same greedy CTC text.

#![allow(clippy::print_stderr)] // reports the lines that differ and the measured figures

use std::path::PathBuf;

use burn::tensor::{Device, Tensor, TensorData};
use serde_json::Value;
use whet_ocr_det::{SvtrRecognizer, greedy_decode};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn recognizer_matches_onnxruntime_on_real_lines() {
    let golden = root().join("crates/ocr-det/tests/golden");
    let want: Value =
        serde_json::from_str(&std::fs::read_to_string(golden.join("rec.json")).unwrap()).unwrap();
    let device = Device::flex();
    let weights = root().join("assets/rapidocr-1.4.4/ch_PP-OCRv4_rec_infer.onnx");
    assert!(weights.exists(), "run scripts/assets.sh");
    let (net, dict) = SvtrRecognizer::from_onnx(&weights, &device).unwrap();
    let mut worst = 0f32;
    let mut same_text = 0;
    let lines = want.as_array().unwrap();
    for line in lines {
        let img = image::open(golden.join(line["file"].as_str().unwrap()))
            .unwrap()
            .to_rgb8();
        let (w, h) = (img.width() as usize, img.height() as usize);
        let mut x = vec![0f32; 3 * h * w];
        for (i, p) in img.pixels().enumerate() {
            for (c, &v) in p.0.iter().rev().enumerate() {
                x[c * h * w + i] = (f32::from(v) / 255.0 - 0.5) / 0.5;
            }
        }
        let input = Tensor::<4>::from_data(TensorData::new(x, [1, 3, h, w]), &device);
        let prob = net.forward(input);
        let [_, steps, classes] = prob.dims();
        let got: Vec<f32> = prob.into_data().try_to_vec::<f32>().unwrap();
        let top = line["top"].as_array().unwrap();
        assert_eq!(steps, top.len(), "{}", line["file"]);
        for (t, candidates) in top.iter().enumerate() {
            let row = &got[t * classes..(t + 1) * classes];
            let argmax = row
                .iter()
                .enumerate()
                .fold(0, |b, (i, &v)| if v > row[b] { i } else { b });
            let cands = candidates.as_array().unwrap();
            assert_eq!(
                argmax as u64,
                cands[0][0].as_u64().unwrap(),
                "{} step {t}",
                line["file"]
            );
            for c in cands {
                let (i, p) = (
                    c[0].as_u64().unwrap() as usize,
                    c[1].as_f64().unwrap() as f32,
                );
                worst = worst.max((row[i] - p).abs());
            }
        }
        let text = greedy_decode(&got, &dict).text;
        same_text += usize::from(text == line["text"].as_str().unwrap());
        eprintln!("{}: {text:?}", line["file"]);
    }
    eprintln!(
        "max |diff| {worst:.2e}; same text on {same_text}/{}",
        lines.len()
    );
    assert!(worst <= 1e-3, "probabilities differ by {worst}");
    assert_eq!(same_text, lines.len());
}

//! The detector network against onnxruntime running the same ONNX file
//! (`scripts/golden/ocr-det.sh`): on a 160 x 224 crop of a real receipt, the text
//! probability map agrees within 1e-3 everywhere (the bar).

#![allow(clippy::print_stdout, clippy::print_stderr)] // reports what it measured

use std::path::PathBuf;

use burn::tensor::{Device, Tensor, TensorData};
use whet_ocr_det::DbNet;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn probability_map_matches_onnxruntime() {
    let golden = root().join("crates/ocr-det/tests/golden");
    let img = image::open(golden.join("det_crop.png")).unwrap().to_rgb8();
    let (w, h) = (img.width() as usize, img.height() as usize);
    // BGR planes, x = (p / 255 - 0.5) / 0.5 in f32, as the fixture script computes.
    let mut x = vec![0f32; 3 * h * w];
    for (i, p) in img.pixels().enumerate() {
        for (c, &v) in p.0.iter().rev().enumerate() {
            x[c * h * w + i] = (f32::from(v) / 255.0 - 0.5) / 0.5;
        }
    }
    let want: Vec<f32> = std::fs::read(golden.join("det_crop_prob.bin"))
        .unwrap()
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    assert_eq!(want.len(), h * w);

    let device = Device::flex();
    let weights = root().join("assets/rapidocr-1.4.4/ch_PP-OCRv4_det_infer.onnx");
    assert!(weights.exists(), "run scripts/assets.sh");
    let net = DbNet::from_onnx(&weights, &device).unwrap();
    let input = Tensor::<4>::from_data(TensorData::new(x, [1, 3, h, w]), &device);
    let prob = net.forward(input);
    assert_eq!(prob.dims(), [1, 1, h, w]);
    let got: Vec<f32> = prob.into_data().try_to_vec::<f32>().unwrap();
    let worst = got
        .iter()
        .zip(&want)
        .map(|(a, b)| (a - b).abs())
        .fold(0f32, f32::max);
    let text = want.iter().filter(|&&p| p > 0.3).count();
    eprintln!(
        "max |diff| {worst:.2e} over {} pixels ({text} above 0.3)",
        want.len()
    );
    assert!(text > 1000, "the crop should hold text");
    assert!(worst <= 1e-3, "probability maps differ by {worst}");
}

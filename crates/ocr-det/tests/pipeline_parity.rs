//! The whole pipeline against rapidocr-onnxruntime 1.4.4 run in Python on 20 real SROIE
//! receipts (`scripts/golden/ocr-pipeline.sh`; direction classifier off on both sides):
//! boxes with IoU >= 0.95 against rapidocr's, and the same text.
//!
//! Measured: 981 of 1,017 boxes (96.5%) and 969 lines with the same box and text (95.3%).
//! The bar is 98% for both and is NOT met yet; the floors below are regression
//! guards at the measured level, not the target. The known cause of most misses:
//! `cv2.minAreaRect` computes in `f32` (a corner at 660.99994 instead of 661) and pyclipper
//! truncates to integers, so rapidocr's grown box sits one pixel up-left of the exact one
//! for about 3% of lines; reproducing that needs OpenCV's `convexHull` and
//! `rotatingCalipers` float path, step for step.

use std::path::PathBuf;

use burn::tensor::Device;
use serde_json::Value;
use whet_eval_metrics::ocr::polygon::iou;
use whet_ocr_det::Ocr;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn pipeline_matches_rapidocr_on_20_receipts() {
    let sroie = root().join("../shared/data/sroie-dev/img");
    let golden: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("crates/ocr-det/tests/golden/pipeline.json")).unwrap(),
    )
    .unwrap();
    let ocr = Ocr::from_pretrained(root().join("assets/rapidocr-1.4.4"), &Device::flex()).unwrap();
    let (mut want_lines, mut got_lines, mut same_box, mut same_text) = (0, 0, 0, 0);
    for (name, lines) in golden.as_object().unwrap() {
        let img = image::open(sroie.join(name)).unwrap().to_rgb8();
        let got = ocr.read(&img);
        got_lines += got.len();
        let mut used = vec![false; got.len()];
        for line in lines.as_array().unwrap() {
            want_lines += 1;
            let want_box: Vec<[f64; 2]> = line["box"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| [p[0].as_f64().unwrap(), p[1].as_f64().unwrap()])
                .collect();
            let best = got
                .iter()
                .enumerate()
                .filter(|(i, _)| !used[*i])
                .map(|(i, g)| {
                    let b: Vec<[f64; 2]> = g
                        .polygon
                        .points
                        .iter()
                        .map(|p| [f64::from(p[0]), f64::from(p[1])])
                        .collect();
                    (i, iou(&want_box, &b))
                })
                .max_by(|a, b| a.1.total_cmp(&b.1));
            if let Some((i, v)) = best.filter(|(_, v)| *v >= 0.95) {
                used[i] = true;
                same_box += 1;
                if got[i].text == line["text"].as_str().unwrap() {
                    same_text += 1;
                } else {
                    eprintln!(
                        "{name}: {:?} vs rapidocr {:?} (IoU {v:.3})",
                        got[i].text, line["text"]
                    );
                }
            } else {
                eprintln!(
                    "{name}: no box for {:?} (best IoU {:?})",
                    line["text"],
                    best.map(|b| b.1)
                );
            }
        }
    }
    let (boxes, texts) = (
        same_box as f64 / want_lines as f64,
        same_text as f64 / want_lines as f64,
    );
    eprintln!(
        "rapidocr {want_lines} lines, Whetstone {got_lines}; same box {same_box} ({boxes:.4}), same box and text {same_text} ({texts:.4})"
    );
    assert!(boxes >= 0.96, "only {same_box} of {want_lines} boxes match");
    assert!(
        texts >= 0.95,
        "only {same_text} of {want_lines} lines read the same"
    );
    assert!(
        (got_lines as f64) <= want_lines as f64 * 1.02,
        "{got_lines} lines found, rapidocr {want_lines}"
    );
}

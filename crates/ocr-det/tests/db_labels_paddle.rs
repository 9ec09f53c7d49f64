//! DB training targets against PaddleOCR's own MakeBorderMap and MakeShrinkMap
//! (paddleocr 2.9.1, `scripts/golden/ocr-db-labels.sh`) on hand-made cases: boxes with
//! fractional and rotated corners, a thin line, an ignored box, a box off the image's edge
//! and two touching boxes.
//!
//! Measured: the threshold map within 6e-8 wherever the masks agree (PaddleOCR's
//! single-precision edge lengths and NaN handling included); of 34,176 pixels, 61 of the
//! shrink map and 7 of the threshold mask differ, all on polygon outlines, where
//! `cv2.fillPoly`'s rasterisation is followed only approximately; the shrink mask agrees
//! everywhere.

#![allow(clippy::print_stdout, clippy::print_stderr)] // reports what it measured

use serde_json::Value;
use whet_core::geom::{Polygon, TextRegion};
use whet_ocr_det::train::{DbLabelConfig, db_targets};

fn base64(text: &str) -> Vec<u8> {
    let value = |c: u8| -> u32 {
        match c {
            b'A'..=b'Z' => u32::from(c - b'A'),
            b'a'..=b'z' => u32::from(c - b'a') + 26,
            b'0'..=b'9' => u32::from(c - b'0') + 52,
            b'+' => 62,
            b'/' => 63,
            _ => panic!("not base64: {c}"),
        }
    };
    let mut out = Vec::new();
    for chunk in text.trim_end_matches('=').as_bytes().chunks(4) {
        let n = chunk.iter().fold(0u32, |acc, &c| acc << 6 | value(c)) << (6 * (4 - chunk.len()));
        out.extend(&n.to_be_bytes()[1..chunk.len()]);
    }
    out
}

#[test]
fn db_targets_match_paddleocr() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden/db_labels.json");
    let cases: Vec<Value> = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert_eq!(cases.len(), 5);
    let (mut pixels, mut shrink_off, mut mask_off, mut tmask_off) = (0, 0, 0, 0);
    let mut worst_thresh = 0f32;
    for (k, case) in cases.iter().enumerate() {
        let (w, h) = (
            case["w"].as_u64().unwrap() as usize,
            case["h"].as_u64().unwrap() as usize,
        );
        let polygons: Vec<TextRegion> = case["polygons"]
            .as_array()
            .unwrap()
            .iter()
            .zip(case["ignore"].as_array().unwrap())
            .map(|(p, i)| {
                let pts = p
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|q| {
                        [
                            q[0].as_f64().unwrap() as f32 as f64,
                            q[1].as_f64().unwrap() as f32 as f64,
                        ]
                    })
                    .collect();
                TextRegion {
                    polygon: Polygon::new(pts),
                    text: String::new(),
                    ignore: i.as_bool().unwrap(),
                }
            })
            .collect();
        let t = db_targets(w, h, &polygons, &DbLabelConfig::default());
        let want_thresh: Vec<f32> = base64(case["thresh"].as_str().unwrap())
            .chunks(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        let bytes = |name: &str| base64(case[name].as_str().unwrap());
        let (ws, wsm, wtm) = (bytes("shrink"), bytes("shrink_mask"), bytes("thresh_mask"));
        assert_eq!(ws.len(), w * h);
        for i in 0..w * h {
            pixels += 1;
            shrink_off += usize::from(t.shrink[i] != f32::from(ws[i]));
            mask_off += usize::from(t.shrink_mask[i] != f32::from(wsm[i]));
            tmask_off += usize::from(t.thresh_mask[i] != f32::from(wtm[i]));
            if t.thresh_mask[i] == f32::from(wtm[i]) {
                if (t.thresh[i] - want_thresh[i]).abs() > 0.01 && std::env::var("DBG").is_ok() {
                    eprintln!(
                        "case {k} ({}, {}): {} vs {} mask {}",
                        i % w,
                        i / w,
                        t.thresh[i],
                        want_thresh[i],
                        wtm[i]
                    );
                }
                worst_thresh = worst_thresh.max((t.thresh[i] - want_thresh[i]).abs());
            }
        }
        eprintln!(
            "case {k}: shrink off {shrink_off}, masks off {mask_off} / {tmask_off} (running totals)"
        );
    }
    eprintln!(
        "{pixels} pixels: shrink map {shrink_off}, shrink mask {mask_off}, threshold mask {tmask_off} differ; threshold map within {worst_thresh:e}"
    );
    // Polygon filling follows cv2.fillPoly only approximately (pixel centres within half
    // a pixel of the outline), so the masks may differ along outlines.
    assert!(
        shrink_off * 100 <= pixels,
        "{shrink_off} of {pixels} shrink pixels differ"
    );
    assert!(
        mask_off * 100 <= pixels,
        "{mask_off} of {pixels} mask pixels differ"
    );
    assert!(
        tmask_off * 100 <= pixels,
        "{tmask_off} of {pixels} threshold-mask pixels differ"
    );
    assert!(
        worst_thresh < 1e-5,
        "threshold map differs by {worst_thresh}"
    );
}

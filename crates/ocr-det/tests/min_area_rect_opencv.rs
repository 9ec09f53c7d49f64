//! `min_area_rect` against OpenCV 4.12's `cv2.minAreaRect` + `cv2.boxPoints`, bit for bit,
//! on every call rapidocr 1.4.4 makes while reading the first 20 SROIE receipts: the
//! contours `findContours` traces around regions and the polygons pyclipper grows from
//! them. Fixture: `scripts/golden/ocr-pipeline.sh` (`ocr_min_area_rect.py`).

use serde_json::Value;
use whet_ocr_det::min_area_rect::{RotatedRect, min_area_rect, region_rect};

fn fixture() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/golden/min_area_rect.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn points(v: &Value) -> Vec<[i64; 2]> {
    let flat: Vec<i64> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_i64().unwrap())
        .collect();
    flat.chunks(2).map(|p| [p[0], p[1]]).collect()
}

/// Whether `got` is OpenCV's answer in `call`, bit for bit (as f32).
fn same(got: &RotatedRect, call: &Value) -> bool {
    let f = |v: &Value| v.as_f64().unwrap() as f32;
    let want: Vec<f32> = call["rect"].as_array().unwrap().iter().map(f).collect();
    let corners: Vec<[f32; 2]> = call["corners"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| [f(&p[0]), f(&p[1])])
        .collect();
    let rect = [
        got.center[0],
        got.center[1],
        got.size[0],
        got.size[1],
        got.angle,
    ];
    rect.as_slice() == want.as_slice() && got.points().as_slice() == corners.as_slice()
}

#[test]
fn every_rectangle_matches_opencv_bit_for_bit() {
    let fixture = fixture();
    let calls = fixture["rects"].as_array().unwrap();
    assert!(calls.len() > 2000, "{}", calls.len());
    let bad: Vec<usize> = (0..calls.len())
        .filter(|&i| !same(&min_area_rect(&points(&calls[i]["points"])), &calls[i]))
        .collect();
    assert!(
        bad.is_empty(),
        "{} of {} differ: {bad:?}",
        bad.len(),
        calls.len()
    );
}

#[test]
fn a_region_gives_the_rectangle_of_its_traced_contour() {
    // region_rect sees only the region's points, in no particular order (here the
    // contour's points sorted), and must still start where findContours starts.
    let fixture = fixture();
    let contours: Vec<&Value> = fixture["rects"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["kind"] == "contour")
        .collect();
    assert!(contours.len() > 1000, "{}", contours.len());
    let bad: Vec<usize> = (0..contours.len())
        .filter(|&i| {
            let mut p = points(&contours[i]["points"]);
            p.sort_unstable();
            !same(&region_rect(&p), contours[i])
        })
        .collect();
    assert!(
        bad.is_empty(),
        "{} of {} differ: {bad:?}",
        bad.len(),
        contours.len()
    );
}

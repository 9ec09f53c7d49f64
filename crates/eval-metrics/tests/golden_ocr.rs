//! OCR metrics against the references (`tests/golden/{detection,recognition}.jsonl`, made
//! by `scripts/golden/eval-metrics.sh`): shapely 2.2.0 geometry, the PaddleOCR / DB
//! matching rules, docTR 1.1.0's `LocalizationConfusion`, PaddleOCR's `RecMetric` over
//! rapidfuzz 3.14.6.

mod common;

use common::{close, count, golden};
use serde_json::Value;
use whet_core::geom::{Polygon, TextRegion};
use whet_eval_metrics::ocr::polygon::{Point, area, intersection_area, is_valid};
use whet_eval_metrics::ocr::{
    DetImage, DoctrImage, RecOptions, detection_db, detection_doctr, detection_doctr_boxes,
    evaluate_image_db, recognition,
};

fn polygon(v: &Value) -> Polygon {
    Polygon::new(poly(v))
}

fn poly(v: &Value) -> Vec<Point> {
    v.as_array()
        .expect("polygon")
        .iter()
        .map(|p| [p[0].as_f64().unwrap(), p[1].as_f64().unwrap()])
        .collect()
}

fn images(case: &Value) -> Vec<DetImage> {
    case["images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|im| DetImage {
            gt: im["gt"]
                .as_array()
                .unwrap()
                .iter()
                .map(|g| TextRegion {
                    polygon: polygon(&g["points"]),
                    text: String::new(),
                    ignore: g["ignore"].as_bool().unwrap(),
                })
                .collect(),
            det: im["det"].as_array().unwrap().iter().map(polygon).collect(),
        })
        .collect()
}

#[test]
fn polygon_primitives_match_shapely() {
    let mut checked = 0;
    for (i, case) in golden("detection").iter().enumerate() {
        for (k, pair) in case["pairs"].as_array().unwrap().iter().enumerate() {
            let (a, b) = (poly(&pair["a"]), poly(&pair["b"]));
            let what = format!("case {i} pair {k}: {a:?} / {b:?}");
            assert_eq!(
                is_valid(&a),
                pair["a_valid"].as_bool().unwrap(),
                "{what}: a valid"
            );
            assert_eq!(
                is_valid(&b),
                pair["b_valid"].as_bool().unwrap(),
                "{what}: b valid"
            );
            if pair["a_valid"].as_bool().unwrap() {
                close(area(&a), &pair["a_area"], &format!("{what}: a area"));
            }
            if let Some(inter) = pair.get("intersection") {
                close(
                    intersection_area(&a, &b),
                    inter,
                    &format!("{what}: intersection"),
                );
                checked += 1;
            }
        }
    }
    assert!(checked >= 1000, "only {checked} intersections checked");
}

#[test]
fn db_protocol_matches_paddleocr() {
    for (i, case) in golden("detection").iter().enumerate() {
        let ims = images(case);
        for (k, (im, want)) in ims
            .iter()
            .zip(case["per_image"].as_array().unwrap())
            .enumerate()
        {
            let got = evaluate_image_db(im);
            let what = format!("case {i} image {k}");
            assert_eq!(
                [got.counts.gt_care, got.counts.det_care, got.counts.matched],
                [
                    count(&want["gt_care"]),
                    count(&want["det_care"]),
                    count(&want["matched"])
                ],
                "{what}: {im:?}"
            );
            close(got.precision, &want["precision"], &what);
            close(got.recall, &want["recall"], &what);
            close(got.hmean, &want["hmean"], &what);
        }
        let got = detection_db(&ims);
        let want = &case["db"];
        assert_eq!(got.counts.matched, count(&want["matched"]), "case {i}");
        close(
            got.precision,
            &want["precision"],
            &format!("case {i} precision"),
        );
        close(got.recall, &want["recall"], &format!("case {i} recall"));
        close(got.hmean, &want["hmean"], &format!("case {i} hmean"));
    }
}

#[test]
fn doctr_matches_localization_confusion() {
    for (i, case) in golden("detection").iter().enumerate() {
        let ims: Vec<DoctrImage> = case["doctr_images"]
            .as_array()
            .unwrap()
            .iter()
            .map(|im| DoctrImage {
                gt: im["gt"].as_array().unwrap().iter().map(polygon).collect(),
                pred: im["det"].as_array().unwrap().iter().map(polygon).collect(),
            })
            .collect();
        for (name, got) in [
            ("doctr_polygon", detection_doctr(&ims)),
            ("doctr_box", detection_doctr_boxes(&ims)),
        ] {
            let want = &case[name];
            let what = format!("case {i} {name}");
            assert_eq!(
                [got.matches, got.num_gts, got.num_preds],
                [
                    count(&want["matches"]),
                    count(&want["num_gts"]),
                    count(&want["num_preds"])
                ],
                "{what}"
            );
            close(got.tot_iou, &want["tot_iou"], &format!("{what} tot_iou"));
            for (g, key) in [(got.recall, "recall"), (got.precision, "precision")] {
                match g {
                    Some(v) => close(v, &want[key], &format!("{what} {key}")),
                    None => assert!(want[key].is_null(), "{what} {key}"),
                }
            }
        }
    }
}

#[test]
fn recognition_matches_paddleocr() {
    let cases = golden("recognition");
    assert!(cases.len() >= 1000);
    for (i, case) in cases.iter().enumerate() {
        let pairs: Vec<(String, String)> = case["pairs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                (
                    p[0].as_str().unwrap().to_owned(),
                    p[1].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        for (key, ignore_space, filter) in [
            ("space0_filter0", true, false),
            ("space0_filter1", true, true),
            ("space1_filter0", false, false),
            ("space1_filter1", false, true),
        ] {
            let got = recognition(
                pairs.iter().map(|(p, t)| (p, t)),
                RecOptions {
                    ignore_space,
                    filter,
                },
            );
            let want = &case[key];
            let what = format!("case {i} {key}");
            assert_eq!(
                (got.correct, got.total),
                (count(&want["correct"]), count(&want["total"])),
                "{what}"
            );
            close(got.ned_sum, &want["ned_sum"], &what);
            close(got.acc, &want["acc"], &what);
            close(got.norm_edit_dis, &want["norm_edit_dis"], &what);
        }
    }
}

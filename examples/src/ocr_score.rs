//! End-to-end OCR scoring shared by the OCR examples: lines found and read, against
//! ground-truth lines, with eval-metrics' DB detection protocol and recognition accuracy
//! on one-to-one matches.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use whet_eval_metrics::ocr::polygon::{Point, iou};
use whet_eval_metrics::ocr::{DetImage, DetReport, GtBox, detection_db};

/// One read line in the interchange format.
#[derive(Serialize, Deserialize, Clone)]
pub struct Line {
    /// The polygon.
    #[serde(rename = "box")]
    pub points: Vec<[f64; 2]>,
    /// The text.
    pub text: String,
}

/// Lines per image name.
pub type Outputs = BTreeMap<String, Vec<Line>>;

/// Detection report, and the (prediction, truth) text pairs of one-to-one matches
/// (IoU >= 0.5, best first); with `upper_case` both texts upper-cased (SROIE's
/// transcripts are upper-case, and its evaluation compares without case).
pub fn score(gt: &Outputs, pred: &Outputs, upper_case: bool) -> (DetReport, Vec<(String, String)>) {
    let mut images = Vec::new();
    let mut pairs = Vec::new();
    for (name, truth) in gt {
        let got = pred.get(name).cloned().unwrap_or_default();
        images.push(DetImage {
            gt: truth
                .iter()
                .map(|l| GtBox {
                    points: l.points.clone(),
                    ignore: false,
                })
                .collect(),
            det: got.iter().map(|l| l.points.clone()).collect(),
        });
        let mut candidates: Vec<(f64, usize, usize)> = Vec::new();
        for (i, t) in truth.iter().enumerate() {
            for (j, p) in got.iter().enumerate() {
                let v = iou(&t.points as &[Point], &p.points);
                if v >= 0.5 {
                    candidates.push((v, i, j));
                }
            }
        }
        candidates.sort_by(|a, b| b.0.total_cmp(&a.0));
        let (mut used_t, mut used_p) = (vec![false; truth.len()], vec![false; got.len()]);
        for (_, i, j) in candidates {
            if !used_t[i] && !used_p[j] {
                used_t[i] = true;
                used_p[j] = true;
                let (p, t) = (&got[j].text, &truth[i].text);
                pairs.push(if upper_case {
                    (p.to_uppercase(), t.to_uppercase())
                } else {
                    (p.clone(), t.clone())
                });
            }
        }
    }
    (detection_db(&images), pairs)
}

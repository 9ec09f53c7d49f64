//! End-to-end OCR scoring: lines found and read, against ground-truth lines.
//!
//! Detection is scored with the DB protocol ([`detection_db`]); recognition with
//! [`recognition`] on the one-to-one matches of predicted and ground-truth lines at an
//! IoU of at least 0.5, best first (the way OCR papers and PaddleOCR's end-to-end
//! evaluation pair them).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use whet_core::geom::TextRegion;

use super::det::{DetImage, DetReport, detection_db};
use super::polygon::iou;
use super::rec::{RecOptions, RecReport, recognition};

/// Lines per image name.
pub type Pages = BTreeMap<String, Vec<TextRegion>>;

/// One ground-truth line matched to one predicted line.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LineMatch {
    /// Index into the ground truth.
    pub truth: usize,
    /// Index into the predictions.
    pub pred: usize,
    /// Their intersection over union.
    pub iou: f64,
}

/// How lines are paired and compared.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EndToEndOptions {
    /// Smallest IoU of a pair (0.5).
    pub min_iou: f64,
    /// Compare texts upper-cased (SROIE's transcripts are upper-case and its evaluation
    /// ignores case).
    pub upper_case: bool,
    /// How recognised texts are compared.
    pub rec: RecOptions,
}

impl Default for EndToEndOptions {
    fn default() -> Self {
        EndToEndOptions {
            min_iou: 0.5,
            upper_case: false,
            rec: RecOptions::default(),
        }
    }
}

/// End-to-end results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EndToEndReport {
    /// Detection under the DB protocol.
    pub det: DetReport,
    /// Recognition on the matched lines.
    pub rec: RecReport,
    /// `(image, read, truth)` of every matched line, for error analysis.
    pub pairs: Vec<(String, String, String)>,
}

/// One-to-one matches of `pred` to `truth` (ignored truths left out) at an IoU of at
/// least `min_iou`, greedily from the best IoU down.
///
/// ```
/// use whet_core::geom::{Polygon, TextRegion};
/// use whet_eval_metrics::ocr::match_lines;
/// let truth = [TextRegion::new(Polygon::rect(0.0, 0.0, 10.0, 2.0), "TOTAL")];
/// let pred = [
///     TextRegion::new(Polygon::rect(20.0, 0.0, 30.0, 2.0), "VAT"),
///     TextRegion::new(Polygon::rect(0.5, 0.0, 10.0, 2.0), "TOTAL"),
/// ];
/// let m = match_lines(&truth, &pred, 0.5);
/// assert_eq!((m.len(), m[0].truth, m[0].pred), (1, 0, 1));
/// ```
pub fn match_lines(truth: &[TextRegion], pred: &[TextRegion], min_iou: f64) -> Vec<LineMatch> {
    let mut candidates: Vec<LineMatch> = Vec::new();
    for (i, t) in truth.iter().enumerate().filter(|(_, t)| !t.ignore) {
        for (j, p) in pred.iter().enumerate() {
            let v = iou(&t.polygon.points, &p.polygon.points);
            if v >= min_iou {
                candidates.push(LineMatch {
                    truth: i,
                    pred: j,
                    iou: v,
                });
            }
        }
    }
    candidates.sort_by(|a, b| b.iou.total_cmp(&a.iou));
    let (mut used_t, mut used_p) = (vec![false; truth.len()], vec![false; pred.len()]);
    candidates
        .into_iter()
        .filter(|m| {
            let free = !used_t[m.truth] && !used_p[m.pred];
            if free {
                used_t[m.truth] = true;
                used_p[m.pred] = true;
            }
            free
        })
        .collect()
}

/// Scores `pred` against `gt`, image by image (an image `pred` lacks has no lines).
pub fn end_to_end(gt: &Pages, pred: &Pages, options: &EndToEndOptions) -> EndToEndReport {
    let mut images = Vec::with_capacity(gt.len());
    let mut pairs = Vec::new();
    let none = Vec::new();
    for (name, truth) in gt {
        let got = pred.get(name).unwrap_or(&none);
        images.push(DetImage {
            gt: truth.clone(),
            det: got.iter().map(|l| l.polygon.clone()).collect(),
        });
        for m in match_lines(truth, got, options.min_iou) {
            let (p, t) = (&got[m.pred].text, &truth[m.truth].text);
            let (p, t) = if options.upper_case {
                (p.to_uppercase(), t.to_uppercase())
            } else {
                (p.clone(), t.clone())
            };
            pairs.push((name.clone(), p, t));
        }
    }
    let rec = recognition(
        pairs.iter().map(|(_, p, t)| (p.as_str(), t.as_str())),
        options.rec,
    );
    EndToEndReport {
        det: detection_db(&images),
        rec,
        pairs,
    }
}

#[cfg(test)]
mod tests {
    use whet_core::geom::Polygon;

    use super::*;

    #[test]
    fn lines_pair_one_to_one_and_ignored_truth_is_left_out() {
        let r = |x: f64, t: &str| TextRegion::new(Polygon::rect(x, 0.0, x + 10.0, 2.0), t);
        let gt = Pages::from([(
            "a".to_owned(),
            vec![
                r(0.0, "ONE"),
                r(20.0, "TWO"),
                TextRegion::ignored(Polygon::rect(40.0, 0.0, 50.0, 2.0)),
            ],
        )]);
        let pred = Pages::from([(
            "a".to_owned(),
            vec![r(0.5, "one"), r(1.0, "ONE"), r(20.0, "TW0"), r(40.0, "x")],
        )]);
        let report = end_to_end(
            &gt,
            &pred,
            &EndToEndOptions {
                upper_case: true,
                ..EndToEndOptions::default()
            },
        );
        // "one" at 0.5 overlaps better than "ONE" at 1.0; the detection on the ignored
        // region is neither a hit nor a false positive.
        let texts: Vec<(&str, &str)> = report
            .pairs
            .iter()
            .map(|(_, p, t)| (p.as_str(), t.as_str()))
            .collect();
        assert_eq!(texts, [("TW0", "TWO"), ("ONE", "ONE")], "best IoU first");
        assert_eq!(report.det.counts.gt_care, 2);
        assert_eq!(report.det.counts.det_care, 3);
        assert_eq!(report.det.counts.matched, 2);
        assert_eq!(report.rec.total, 2);
        assert_eq!(report.rec.exact_accuracy(), 0.5);
        // A missing image reads nothing.
        let empty = end_to_end(&gt, &Pages::new(), &EndToEndOptions::default());
        assert_eq!((empty.det.counts.matched, empty.rec.total), (0, 0));
    }
}

//! Text detection precision, recall and hmean over polygons, in three named modes.
//!
//! - [`detection_db`]: PaddleOCR / DB (`ppocr/metrics/eval_det_iou.py`, from MhLiao/DB):
//!   invalid polygons dropped, detections mostly inside a don't-care region dropped, greedy
//!   one-to-one matching in order at IoU **> 0.5**, counts **summed over images**.
//! - [`detection_doctr`]: docTR's `LocalizationConfusion`: Hungarian matching on the IoU
//!   matrix (SciPy's `linear_sum_assignment`), a match at IoU **>= 0.5**, no don't-care.
//! - [`detection_per_image_mean`]: the DB rules per image, then the mean of the images'
//!   precision, recall and hmean (as ocrs-models reports).

use serde::{Deserialize, Serialize};

use whet_core::geom::{Polygon, TextRegion};

use super::hungarian::linear_sum_assignment;
use super::polygon::{area, intersection_area, is_valid};
use crate::numpy::{sum_f32 as numpy_sum_f32, sum_f64 as numpy_sum_f64};

/// One image's ground truth and detections.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct DetImage {
    /// Ground-truth regions; an ignored one (`###` in ICDAR labels) is a don't-care
    /// region, neither a miss nor a hit. Their text is not used.
    pub gt: Vec<TextRegion>,
    /// Detected polygons.
    pub det: Vec<Polygon>,
}

/// Counts of the DB protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct DetCounts {
    /// Valid ground-truth regions that are not don't-care.
    pub gt_care: usize,
    /// Valid detections not inside a don't-care region.
    pub det_care: usize,
    /// One-to-one matches.
    pub matched: usize,
}

/// Precision, recall and hmean with the counts behind them.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct DetReport {
    /// Summed counts (for the per-image mean: the sums over images, for reference).
    pub counts: DetCounts,
    /// Precision.
    pub precision: f64,
    /// Recall.
    pub recall: f64,
    /// Harmonic mean of precision and recall.
    pub hmean: f64,
}

fn hmean(p: f64, r: f64) -> f64 {
    if p + r == 0.0 {
        0.0
    } else {
        2.0 * p * r / (p + r)
    }
}

/// One image under the DB rules: its counts and its own precision, recall and hmean
/// (an image without cared-for ground truth has recall 1 and precision 1, or 0 if it
/// has cared-for detections), exactly as `DetectionIoUEvaluator.evaluate_image`.
pub fn evaluate_image_db(image: &DetImage) -> DetReport {
    const IOU: f64 = 0.5;
    const AREA_PRECISION: f64 = 0.5;
    let mut gts: Vec<&[[f64; 2]]> = Vec::new();
    let mut gt_dont_care: Vec<usize> = Vec::new();
    for g in &image.gt {
        if !is_valid(&g.polygon.points) {
            continue;
        }
        gts.push(&g.polygon.points);
        if g.ignore {
            gt_dont_care.push(gts.len() - 1);
        }
    }
    let mut dets: Vec<&[[f64; 2]]> = Vec::new();
    let mut det_dont_care: Vec<usize> = Vec::new();
    for d in &image.det {
        let d = &d.points;
        if !is_valid(d) {
            continue;
        }
        dets.push(d);
        let det_area = area(d);
        for &k in &gt_dont_care {
            let inter = intersection_area(gts[k], d);
            let precision = if det_area == 0.0 {
                0.0
            } else {
                inter / det_area
            };
            if precision > AREA_PRECISION {
                det_dont_care.push(dets.len() - 1);
                break;
            }
        }
    }
    let mut matched = 0;
    if !gts.is_empty() && !dets.is_empty() {
        let det_areas: Vec<f64> = dets.iter().map(|d| area(d)).collect();
        let mut gt_used = vec![false; gts.len()];
        let mut det_used = vec![false; dets.len()];
        for (i, g) in gts.iter().enumerate() {
            if gt_dont_care.contains(&i) {
                continue;
            }
            let g_area = area(g);
            for (j, d) in dets.iter().enumerate() {
                if gt_used[i] || det_used[j] || det_dont_care.contains(&j) {
                    continue;
                }
                let inter = intersection_area(d, g);
                let union = det_areas[j] + g_area - inter;
                if union > 0.0 && inter / union > IOU {
                    gt_used[i] = true;
                    det_used[j] = true;
                    matched += 1;
                }
            }
        }
    }
    let gt_care = gts.len() - gt_dont_care.len();
    let det_care = dets.len() - det_dont_care.len();
    let (recall, precision) = if gt_care == 0 {
        (1.0, if det_care > 0 { 0.0 } else { 1.0 })
    } else {
        (
            matched as f64 / gt_care as f64,
            if det_care == 0 {
                0.0
            } else {
                matched as f64 / det_care as f64
            },
        )
    };
    DetReport {
        counts: DetCounts {
            gt_care,
            det_care,
            matched,
        },
        precision,
        recall,
        hmean: hmean(precision, recall),
    }
}

fn summed(counts: DetCounts) -> DetReport {
    let recall = if counts.gt_care == 0 {
        0.0
    } else {
        counts.matched as f64 / counts.gt_care as f64
    };
    let precision = if counts.det_care == 0 {
        0.0
    } else {
        counts.matched as f64 / counts.det_care as f64
    };
    DetReport {
        counts,
        precision,
        recall,
        hmean: hmean(precision, recall),
    }
}

/// PaddleOCR / DB detection metrics: per-image matching, counts summed over images,
/// then precision, recall and hmean (`DetectionIoUEvaluator.combine_results`).
///
/// ```
/// use whet_core::geom::{Polygon, TextRegion};
/// use whet_eval_metrics::ocr::{detection_db, DetImage};
/// let square = |x: f64| Polygon::rect(x, 0.0, x + 10.0, 5.0);
/// let image = DetImage {
///     gt: vec![TextRegion::new(square(0.0), ""), TextRegion::new(square(20.0), "")],
///     det: vec![square(1.0), square(50.0)],
/// };
/// let r = detection_db(&[image]);
/// assert_eq!((r.counts.matched, r.precision, r.recall), (1, 0.5, 0.5));
/// ```
pub fn detection_db(images: &[DetImage]) -> DetReport {
    let mut counts = DetCounts::default();
    for image in images {
        let c = evaluate_image_db(image).counts;
        counts.gt_care += c.gt_care;
        counts.det_care += c.det_care;
        counts.matched += c.matched;
    }
    summed(counts)
}

/// The DB rules per image, then the unweighted mean over images of precision, recall and
/// hmean (each image counts once, however many regions it has). 0 for no images.
pub fn detection_per_image_mean(images: &[DetImage]) -> DetReport {
    let mut out = DetReport::default();
    if images.is_empty() {
        return out;
    }
    for image in images {
        let r = evaluate_image_db(image);
        out.counts.gt_care += r.counts.gt_care;
        out.counts.det_care += r.counts.det_care;
        out.counts.matched += r.counts.matched;
        out.precision += r.precision;
        out.recall += r.recall;
        out.hmean += r.hmean;
    }
    let n = images.len() as f64;
    out.precision /= n;
    out.recall /= n;
    out.hmean /= n;
    out
}

/// One image for the docTR protocol: ground-truth and predicted polygons (docTR has no
/// don't-care regions).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct DoctrImage {
    /// Ground-truth polygons.
    pub gt: Vec<Polygon>,
    /// Predicted polygons.
    pub pred: Vec<Polygon>,
}

/// docTR's `LocalizationConfusion` results.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct DoctrReport {
    /// Assigned pairs with IoU >= 0.5.
    pub matches: usize,
    /// Ground-truth regions.
    pub num_gts: usize,
    /// Predictions.
    pub num_preds: usize,
    /// Sum over images of each prediction's best IoU (docTR's `tot_iou`).
    pub tot_iou: f64,
    /// `matches / num_gts`; `None` without ground truth.
    pub recall: Option<f64>,
    /// `matches / num_preds`; `None` without predictions.
    pub precision: Option<f64>,
    /// `tot_iou / num_preds` rounded to 2 decimals as docTR reports it; `None` without
    /// predictions.
    pub mean_iou: Option<f64>,
}

fn round2(x: f64) -> f64 {
    // Python's round(x, 2) is correctly rounded (half to even on the exact decimal value);
    // formatting with 2 decimals rounds the exact binary value the same way.
    format!("{x:.2}").parse().unwrap_or(x)
}

/// Accumulates one image into a docTR report, from its `gts x preds` IoU matrix
/// (row-major); `tot_iou` is the numpy sum of the per-prediction maxima.
fn doctr_update(report: &mut DoctrReport, iou: &[f64], n_gt: usize, n_pred: usize, tot: f64) {
    if n_gt > 0 && n_pred > 0 {
        report.tot_iou += tot;
        let cost: Vec<f64> = iou.iter().map(|v| -v).collect();
        if let Some(pairs) = linear_sum_assignment(&cost, n_gt, n_pred) {
            report.matches += pairs
                .iter()
                .filter(|&&(g, p)| iou[g * n_pred + p] >= 0.5)
                .count();
        }
    }
    report.num_gts += n_gt;
    report.num_preds += n_pred;
}

fn doctr_finish(mut r: DoctrReport) -> DoctrReport {
    r.recall = (r.num_gts > 0).then(|| r.matches as f64 / r.num_gts as f64);
    r.precision = (r.num_preds > 0).then(|| r.matches as f64 / r.num_preds as f64);
    r.mean_iou = (r.num_preds > 0).then(|| round2(r.tot_iou / r.num_preds as f64));
    r
}

/// docTR's `LocalizationConfusion(iou_thresh=0.5, use_polygons=True)` over images. docTR keeps its polygon IoU matrix in float32;
/// so does this, so `tot_iou` and the matches agree with it exactly.
///
/// Polygons should be valid (see [`super::polygon::is_valid`]); docTR does not filter.
pub fn detection_doctr(images: &[DoctrImage]) -> DoctrReport {
    let mut report = DoctrReport::default();
    for DoctrImage {
        gt: gts,
        pred: preds,
    } in images
    {
        let (n, m) = (gts.len(), preds.len());
        let mut iou32 = vec![0.0f32; n * m];
        if n > 0 && m > 0 {
            let gt_areas: Vec<f64> = gts.iter().map(|g| area(&g.points)).collect();
            let pred_areas: Vec<f64> = preds.iter().map(|p| area(&p.points)).collect();
            for i in 0..n {
                for j in 0..m {
                    let inter = intersection_area(&gts[i].points, &preds[j].points);
                    let union = gt_areas[i] + pred_areas[j] - inter;
                    if union > 0.0 {
                        iou32[i * m + j] = (inter / union) as f32;
                    }
                }
            }
        }
        let maxima: Vec<f32> = (0..m)
            .map(|j| {
                (0..n)
                    .map(|i| iou32[i * m + j])
                    .fold(f32::NEG_INFINITY, f32::max)
            })
            .collect();
        let tot = if n > 0 {
            f64::from(numpy_sum_f32(&maxima))
        } else {
            0.0
        };
        let iou: Vec<f64> = iou32.iter().map(|&v| f64::from(v)).collect();
        doctr_update(&mut report, &iou, n, m, tot);
    }
    doctr_finish(report)
}

/// docTR's `LocalizationConfusion(iou_thresh=0.5)` on straight boxes: each polygon is
/// replaced by its bounding box `(xmin, ymin, xmax, ymax)` (float64 IoU, as docTR's
/// `box_iou`).
pub fn detection_doctr_boxes(images: &[DoctrImage]) -> DoctrReport {
    let to_box = |p: &Polygon| -> [f64; 4] {
        let mut b = [
            f64::INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NEG_INFINITY,
        ];
        for q in &p.points {
            b[0] = b[0].min(q[0]);
            b[1] = b[1].min(q[1]);
            b[2] = b[2].max(q[0]);
            b[3] = b[3].max(q[1]);
        }
        b
    };
    let mut report = DoctrReport::default();
    for DoctrImage {
        gt: gts,
        pred: preds,
    } in images
    {
        let g: Vec<[f64; 4]> = gts.iter().map(to_box).collect();
        let p: Vec<[f64; 4]> = preds.iter().map(to_box).collect();
        let (n, m) = (g.len(), p.len());
        let mut iou = vec![0.0f64; n * m];
        for i in 0..n {
            for j in 0..m {
                let (a, b) = (g[i], p[j]);
                let w = (a[2].min(b[2]) - a[0].max(b[0])).clamp(0.0, f64::INFINITY);
                let h = (a[3].min(b[3]) - a[1].max(b[1])).clamp(0.0, f64::INFINITY);
                let inter = w * h;
                let union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter;
                if union > 0.0 {
                    iou[i * m + j] = inter / union;
                }
            }
        }
        let maxima: Vec<f64> = (0..m)
            .map(|j| {
                (0..n)
                    .map(|i| iou[i * m + j])
                    .fold(f64::NEG_INFINITY, f64::max)
            })
            .collect();
        let tot = if n > 0 { numpy_sum_f64(&maxima) } else { 0.0 };
        doctr_update(&mut report, &iou, n, m, tot);
    }
    doctr_finish(report)
}

impl std::fmt::Display for DetReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "precision {:.4}  recall {:.4}  hmean {:.4}  (matched {}, cared-for ground truth {}, cared-for detections {})",
            self.precision,
            self.recall,
            self.hmean,
            self.counts.matched,
            self.counts.gt_care,
            self.counts.det_care
        )
    }
}

impl std::fmt::Display for DoctrReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let opt = |v: Option<f64>| v.map_or("n/a".to_owned(), |v| format!("{v:.4}"));
        write!(
            f,
            "recall {}  precision {}  mean IoU {}  (matches {}, ground truth {}, predictions {})",
            opt(self.recall),
            opt(self.precision),
            opt(self.mean_iou),
            self.matches,
            self.num_gts,
            self.num_preds
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dont_care_detections_are_not_false_positives() {
        let sq = |x: f64| Polygon::rect(x, 0.0, x + 10.0, 5.0);
        let image = DetImage {
            gt: vec![TextRegion::ignored(sq(0.0))],
            det: vec![sq(1.0)],
        };
        let r = evaluate_image_db(&image);
        assert_eq!(
            r.counts,
            DetCounts {
                gt_care: 0,
                det_care: 0,
                matched: 0
            }
        );
        assert_eq!((r.precision, r.recall), (1.0, 1.0));
    }
}

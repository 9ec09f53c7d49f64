//! End-to-end OCR scoring shared by the OCR examples: lines found and read, against
//! ground-truth lines, with eval-metrics' DB detection protocol and recognition accuracy
//! on one-to-one matches.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Context;

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

impl Line {
    /// A line from a polygon in `f32` pixels.
    pub fn from_polygon(points: &[[f32; 2]], text: String) -> Self {
        Line {
            points: points
                .iter()
                .map(|p| [f64::from(p[0]), f64::from(p[1])])
                .collect(),
            text,
        }
    }
}

/// The lines of one SROIE box file (`x1,y1,...,x4,y4,text` per row).
///
/// # Errors
/// When the file cannot be read, or a row (named by its line) is malformed.
pub fn sroie_lines(path: &Path) -> anyhow::Result<Vec<Line>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut out = Vec::new();
    for (n, row) in text
        .lines()
        .enumerate()
        .filter(|(_, r)| !r.trim().is_empty())
    {
        let parts: Vec<&str> = row.splitn(9, ',').collect();
        anyhow::ensure!(
            parts.len() == 9,
            "{}:{}: expected 8 coordinates and a text",
            path.display(),
            n + 1
        );
        let v: Vec<f64> = parts[..8]
            .iter()
            .map(|s| s.trim().parse::<f64>())
            .collect::<Result<_, _>>()
            .with_context(|| format!("{}:{}: bad coordinate", path.display(), n + 1))?;
        out.push(Line {
            points: (0..4).map(|i| [v[2 * i], v[2 * i + 1]]).collect(),
            text: parts[8].to_owned(),
        });
    }
    Ok(out)
}

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

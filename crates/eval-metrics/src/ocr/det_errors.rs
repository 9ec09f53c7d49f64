//! Why detection misses: the unmatched lines and boxes of the DB protocol, by cause.
//!
//! Hmean says how many lines a detector misses; a fine-tuning decision needs to know
//! why. A ground-truth line is unmatched when no detection reaches IoU 0.5 with it; the
//! detection covering most of it tells the cause:
//!
//! - **merged**: that detection also covers most of another line (a label and its value,
//!   two table columns, drawn as one box where the annotation has two);
//! - **cut**: it lies inside the line but covers less than 70% of it (cut short, or the
//!   line split in several boxes);
//! - **missed**: nothing covers even 10% of it;
//! - **misplaced**: anything else (a box off in height or position).
//!
//! A detection reaching IoU 0.5 with no line is **spurious** when less than 20% of it
//! lies on annotated lines (text the annotation leaves out, or noise), else
//! **overlapping** (the other side of a merge or a cut). Don't-care lines are skipped,
//! and detections mostly inside one.

use serde::{Deserialize, Serialize};

use super::det::DetImage;
use super::polygon::{area, intersection_area, iou, is_valid};

/// Unmatched ground-truth lines and detections by cause (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct DetErrors {
    /// Lines drawn in one box with another line.
    pub merged: usize,
    /// Lines only partly covered by a box inside them.
    pub cut: usize,
    /// Lines with no box on them.
    pub missed: usize,
    /// Other unmatched lines.
    pub misplaced: usize,
    /// Boxes on no annotated line.
    pub spurious: usize,
    /// Unmatched boxes on annotated lines.
    pub overlapping: usize,
}

impl DetErrors {
    /// Unmatched ground-truth lines.
    pub fn lines(&self) -> usize {
        self.merged + self.cut + self.missed + self.misplaced
    }
}

/// Counts the causes over `images`.
pub fn detection_errors(images: &[DetImage]) -> DetErrors {
    let mut out = DetErrors::default();
    for image in images {
        image_errors(image, &mut out);
    }
    out
}

fn image_errors(image: &DetImage, out: &mut DetErrors) {
    let valid = |p: &&whet_core::geom::Polygon| is_valid(&p.points);
    let (care, dont_care): (Vec<_>, Vec<_>) = image
        .gt
        .iter()
        .filter(|g| is_valid(&g.polygon.points))
        .partition(|g| !g.ignore);
    let care: Vec<&[[f64; 2]]> = care.iter().map(|g| g.polygon.points.as_slice()).collect();
    let dets: Vec<&[[f64; 2]]> = image
        .det
        .iter()
        .filter(valid)
        .map(|p| p.points.as_slice())
        .filter(|d| {
            let a = area(d);
            !dont_care
                .iter()
                .any(|g| a > 0.0 && intersection_area(&g.polygon.points, d) / a > 0.5)
        })
        .collect();
    let share = |part: &[[f64; 2]], of: &[[f64; 2]]| {
        let a = area(of);
        if a > 0.0 {
            intersection_area(part, of) / a
        } else {
            0.0
        }
    };
    for (i, g) in care.iter().enumerate() {
        if dets.iter().any(|d| iou(g, d) > 0.5) {
            continue;
        }
        let best = dets
            .iter()
            .map(|d| (*d, share(d, g)))
            .max_by(|a, b| a.1.total_cmp(&b.1));
        match best {
            Some((_, cover)) if cover < 0.1 => out.missed += 1,
            None => out.missed += 1,
            Some((d, cover)) => {
                let other = care
                    .iter()
                    .enumerate()
                    .any(|(j, o)| j != i && share(d, o) > 0.5);
                if other {
                    out.merged += 1;
                } else if cover < 0.7 && share(g, d) > 0.8 {
                    out.cut += 1;
                } else {
                    out.misplaced += 1;
                }
            }
        }
    }
    for d in &dets {
        if care.iter().any(|g| iou(g, d) > 0.5) {
            continue;
        }
        let on_lines: f64 = care.iter().map(|g| share(g, d)).sum();
        if on_lines < 0.2 {
            out.spurious += 1;
        } else {
            out.overlapping += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use whet_core::geom::{Polygon, TextRegion};

    fn line(x0: f64, y0: f64, x1: f64, y1: f64) -> TextRegion {
        TextRegion::new(Polygon::rect(x0, y0, x1, y1), "x")
    }

    #[test]
    fn each_cause_is_told_apart() {
        let image = DetImage {
            gt: vec![
                line(0.0, 0.0, 40.0, 10.0),   // matched
                line(0.0, 20.0, 40.0, 30.0),  // merged with the next
                line(45.0, 20.0, 80.0, 30.0), // merged
                line(0.0, 40.0, 100.0, 50.0), // cut: only its first 30%
                line(0.0, 60.0, 40.0, 70.0),  // missed
                line(0.0, 80.0, 40.0, 90.0),  // misplaced: a box twice as tall
                TextRegion::ignored(Polygon::rect(200.0, 0.0, 240.0, 10.0)),
            ],
            det: vec![
                Polygon::rect(0.0, 0.0, 40.0, 10.0),
                Polygon::rect(0.0, 20.0, 80.0, 30.0),
                Polygon::rect(0.0, 40.0, 30.0, 50.0),
                Polygon::rect(0.0, 75.0, 40.0, 100.0),
                Polygon::rect(300.0, 0.0, 340.0, 10.0), // spurious
                Polygon::rect(201.0, 0.0, 239.0, 10.0), // inside the don't-care: skipped
            ],
        };
        let e = detection_errors(&[image]);
        assert_eq!(
            e,
            DetErrors {
                merged: 2,
                cut: 1,
                missed: 1,
                misplaced: 1,
                spurious: 1,
                overlapping: 3,
            }
        );
        assert_eq!(e.lines(), 5);
    }
}

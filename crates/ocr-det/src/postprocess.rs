//! DB post-processing as rapidocr 1.4.4 (`DBPostProcess`, after PaddleOCR) does it: the
//! probability map thresholded and dilated, each connected region's minimum-area
//! rectangle, its mean probability, the rectangle grown by the Vatti offset (`unclip`,
//! pyclipper's round joins) and its minimum-area rectangle again, scaled back to the
//! image, ordered, clipped, filtered and sorted in reading order.
//!
//! Regions come from 8-connected components of the bitmap: a region's minimum-area
//! rectangle depends only on its convex hull, which its outer contour (what OpenCV's
//! `findContours` traces) shares. OpenCV's `RETR_LIST` also returns the contours of holes
//! inside regions; those are not candidates here (documented deviation; holes in dilated
//! text maps are rare and their boxes almost always fall below the minimum size).

use serde::{Deserialize, Serialize};

use crate::min_area_rect::{RotatedRect, min_area_rect, region_rect};

/// A quadrilateral: top-left, top-right, bottom-right, bottom-left.
pub type Quad = [[f32; 2]; 4];

/// DB post-processing settings (rapidocr's `config.yaml` defaults).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DbPostConfig {
    /// Pixels above this probability are text.
    pub thresh: f32,
    /// Regions whose mean probability is below this are dropped.
    pub box_thresh: f32,
    /// At most this many regions are considered.
    pub max_candidates: usize,
    /// How far rectangles grow: area * ratio / perimeter.
    pub unclip_ratio: f64,
    /// Dilate the bitmap with a 2 x 2 kernel first.
    pub use_dilation: bool,
    /// Rectangles with a shorter side are dropped (before growing; after growing the
    /// bound is this plus 2).
    pub min_size: f32,
}

impl Default for DbPostConfig {
    fn default() -> Self {
        DbPostConfig {
            thresh: 0.3,
            box_thresh: 0.5,
            max_candidates: 1000,
            unclip_ratio: 1.6,
            use_dilation: true,
            min_size: 3.0,
        }
    }
}

/// Text boxes from a `w x h` probability map (row-major) of an image `dest_w x dest_h`,
/// each with its score, in reading order.
pub fn db_boxes(
    prob: &[f32],
    w: usize,
    h: usize,
    dest_w: usize,
    dest_h: usize,
    cfg: &DbPostConfig,
) -> Vec<(Quad, f32)> {
    let mut bitmap: Vec<bool> = prob.iter().map(|&p| p > cfg.thresh).collect();
    if cfg.use_dilation {
        // cv2.dilate with a 2x2 kernel, anchor (1, 1): the maximum over (x-1..=x, y-1..=y).
        let src = bitmap.clone();
        for y in 0..h {
            for x in 0..w {
                let i = y * w + x;
                bitmap[i] = src[i]
                    || (x > 0 && src[i - 1])
                    || (y > 0 && src[i - w])
                    || (x > 0 && y > 0 && src[i - w - 1]);
            }
        }
    }
    let mut out = Vec::new();
    for region in components(&bitmap, w, h)
        .into_iter()
        .take(cfg.max_candidates)
    {
        let (quad, short) = mini_box(region_rect(&region));
        if short < cfg.min_size {
            continue;
        }
        let score = box_score(prob, w, h, &quad);
        if cfg.box_thresh > score {
            continue;
        }
        let grown = unclip(&quad, cfg.unclip_ratio);
        let (quad, short) = mini_box(min_area_rect(&grown));
        if short < cfg.min_size + 2.0 {
            continue;
        }
        let scale = |v: f32, from: usize, to: usize| -> f32 {
            ((f64::from(v) / from as f64 * to as f64).round_ties_even() as f32)
                .clamp(0.0, to as f32)
        };
        let quad = quad.map(|[x, y]| [scale(x, w, dest_w), scale(y, h, dest_h)]);
        out.push((quad, score));
    }
    // filter_tag_det_res: order clockwise, clip, drop thin boxes.
    let mut kept: Vec<(Quad, f32)> = out
        .into_iter()
        .filter_map(|(q, s)| {
            let q = order_clockwise(q).map(|[x, y]| {
                [
                    x.clamp(0.0, dest_w as f32 - 1.0),
                    y.clamp(0.0, dest_h as f32 - 1.0),
                ]
            });
            let dist =
                |a: [f32; 2], b: [f32; 2]| ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)).sqrt();
            let (rw, rh) = (dist(q[0], q[1]) as i32, dist(q[0], q[3]) as i32);
            (rw > 3 && rh > 3).then_some((q, s))
        })
        .collect();
    sort_reading_order(&mut kept);
    kept
}

/// 8-connected components of the bitmap, each as its pixels `(x, y)`, in raster order
/// of their first pixel.
fn components(bitmap: &[bool], w: usize, h: usize) -> Vec<Vec<[i64; 2]>> {
    let mut seen = vec![false; bitmap.len()];
    let mut out = Vec::new();
    let mut stack = Vec::new();
    for start in 0..bitmap.len() {
        if !bitmap[start] || seen[start] {
            continue;
        }
        seen[start] = true;
        stack.push(start);
        let mut pixels = Vec::new();
        while let Some(i) = stack.pop() {
            let (x, y) = ((i % w) as i64, (i / w) as i64);
            pixels.push([x, y]);
            for dy in -1..=1i64 {
                for dx in -1..=1i64 {
                    let (nx, ny) = (x + dx, y + dy);
                    if nx < 0 || ny < 0 || nx >= w as i64 || ny >= h as i64 {
                        continue;
                    }
                    let j = ny as usize * w + nx as usize;
                    if bitmap[j] && !seen[j] {
                        seen[j] = true;
                        stack.push(j);
                    }
                }
            }
        }
        out.push(pixels);
    }
    out
}

/// `get_mini_boxes`: the corners of OpenCV's minimum-area rectangle ordered top-left,
/// top-right, bottom-right, bottom-left the way rapidocr orders them, and its shorter side.
fn mini_box(rect: RotatedRect) -> (Quad, f32) {
    let mut pts = rect.points();
    // Python's `sorted` by x: stable.
    pts.sort_by(|a, b| a[0].total_cmp(&b[0]));
    let (i1, i4) = if pts[1][1] > pts[0][1] {
        (0, 1)
    } else {
        (1, 0)
    };
    let (i2, i3) = if pts[3][1] > pts[2][1] {
        (2, 3)
    } else {
        (3, 2)
    };
    (
        [pts[i1], pts[i2], pts[i3], pts[i4]],
        rect.size[0].min(rect.size[1]),
    )
}

/// `box_score_fast`: the mean probability over the quadrilateral (pixels whose centre
/// lies inside or within half a pixel of its edges), in its clipped bounding box.
fn box_score(prob: &[f32], w: usize, h: usize, quad: &Quad) -> f32 {
    let clampi = |v: f32, hi: usize| (v as i64).clamp(0, hi as i64 - 1) as usize;
    let xs = quad.iter().map(|p| p[0]);
    let ys = quad.iter().map(|p| p[1]);
    let xmin = clampi(xs.clone().fold(f32::MAX, f32::min).floor(), w);
    let xmax = clampi(xs.fold(f32::MIN, f32::max).ceil(), w);
    let ymin = clampi(ys.clone().fold(f32::MAX, f32::min).floor(), h);
    let ymax = clampi(ys.fold(f32::MIN, f32::max).ceil(), h);
    // The polygon as cv2.fillPoly receives it: integer (truncated) vertices.
    let poly: Vec<[f64; 2]> = quad
        .iter()
        .map(|p| [f64::from(p[0] as i32), f64::from(p[1] as i32)])
        .collect();
    let (mut sum, mut count) = (0f64, 0usize);
    for y in ymin..=ymax {
        for x in xmin..=xmax {
            if inside_or_near(&poly, x as f64, y as f64, 0.5) {
                sum += f64::from(prob[y * w + x]);
                count += 1;
            }
        }
    }
    if count == 0 {
        0.0
    } else {
        (sum / count as f64) as f32
    }
}

/// Whether `(x, y)` is inside the polygon or within `tol` of its boundary.
pub(crate) fn inside_or_near(poly: &[[f64; 2]], x: f64, y: f64, tol: f64) -> bool {
    let n = poly.len();
    let mut inside = false;
    for i in 0..n {
        let (a, b) = (poly[i], poly[(i + 1) % n]);
        if (a[1] > y) != (b[1] > y) && x < (b[0] - a[0]) * (y - a[1]) / (b[1] - a[1]) + a[0] {
            inside = !inside;
        }
        // Distance to the segment.
        let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
        let len2 = dx * dx + dy * dy;
        let t = if len2 > 0.0 {
            (((x - a[0]) * dx + (y - a[1]) * dy) / len2).clamp(0.0, 1.0)
        } else {
            0.0
        };
        let (px, py) = (a[0] + t * dx - x, a[1] + t * dy - y);
        if px * px + py * py <= tol * tol {
            return true;
        }
    }
    inside
}

/// `unclip`: the quadrilateral offset outwards by `area * ratio / perimeter` with round
/// joins, as pyclipper (Clipper 6, arc tolerance 0.25) computes it on integer
/// (truncated) coordinates; the offset polygon's integer vertices.
fn unclip(quad: &Quad, ratio: f64) -> Vec<[i64; 2]> {
    let (src, delta) = unclip_input(quad, ratio);
    clipper_output(offset_round(src, delta))
}

/// The offset polygon as Clipper's closing union hands it back: repeated and collinear
/// points dropped (`FixupOutPolygon`), ending at its top (smallest y), rightmost point.
/// `cv2.minAreaRect` starts its search where the points start, so the order matters.
pub(crate) fn clipper_output(mut out: Vec<[i64; 2]>) -> Vec<[i64; 2]> {
    let collinear = |a: [i64; 2], b: [i64; 2], c: [i64; 2]| {
        (b[1] - a[1]) * (c[0] - b[0]) == (b[0] - a[0]) * (c[1] - b[1])
    };
    let mut i = 0;
    let mut since_removal = 0;
    while out.len() > 2 && since_removal < out.len() {
        let n = out.len();
        let (prev, next) = (out[(i + n - 1) % n], out[(i + 1) % n]);
        if collinear(prev, out[i], next) {
            out.remove(i);
            since_removal = 0;
            i = (i + n - 2) % (n - 1);
        } else {
            since_removal += 1;
            i = (i + 1) % n;
        }
    }
    if let Some(last) = (0..out.len()).min_by_key(|&i| (out[i][1], -out[i][0])) {
        let n = out.len();
        out.rotate_left((last + 1) % n);
    }
    out
}

fn unclip_input(quad: &Quad, ratio: f64) -> (Vec<[f64; 2]>, f64) {
    // Shapely's area and length of the float quadrilateral.
    let q: Vec<[f64; 2]> = quad
        .iter()
        .map(|p| [f64::from(p[0]), f64::from(p[1])])
        .collect();
    let n = q.len();
    let area = (0..n)
        .map(|i| q[i][0] * q[(i + 1) % n][1] - q[(i + 1) % n][0] * q[i][1])
        .sum::<f64>()
        .abs()
        / 2.0;
    let length: f64 = (0..n)
        .map(|i| {
            ((q[(i + 1) % n][0] - q[i][0]).powi(2) + (q[(i + 1) % n][1] - q[i][1]).powi(2)).sqrt()
        })
        .sum();
    if length == 0.0 {
        return (
            q.iter().map(|p| [p[0].trunc(), p[1].trunc()]).collect(),
            0.0,
        );
    }
    let delta = area * ratio / length;
    let src = q.iter().map(|p| [p[0].trunc(), p[1].trunc()]).collect();
    (src, delta)
}

pub(crate) fn offset_round(mut src: Vec<[f64; 2]>, delta: f64) -> Vec<[i64; 2]> {
    src.dedup();
    // Clipper orients outer polygons so that its Area() is positive before offsetting.
    let clip_area: f64 = (0..src.len())
        .map(|i| {
            let (a, b) = (src[(i + src.len() - 1) % src.len()], src[i]);
            (a[0] + b[0]) * (a[1] - b[1])
        })
        .sum::<f64>()
        * -0.5;
    if clip_area < 0.0 {
        src.reverse();
    }
    let m = src.len();
    let normals: Vec<[f64; 2]> = (0..m)
        .map(|j| {
            let (a, b) = (src[j], src[(j + 1) % m]);
            let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
            let l = (dx * dx + dy * dy).sqrt();
            if l == 0.0 {
                [0.0, 0.0]
            } else {
                [dy / l, -dx / l]
            }
        })
        .collect();
    let arc_tol = 0.25f64.min(delta.abs() * 0.25);
    let steps = std::f64::consts::PI / (1.0 - arc_tol / delta.abs()).acos();
    let (sin, cos) = (std::f64::consts::TAU / steps).sin_cos();
    let steps_per_rad = steps / std::f64::consts::TAU;
    let round = |v: f64| v.round() as i64;
    let mut out = Vec::new();
    for j in 0..m {
        let k = (j + m - 1) % m;
        let (nk, nj, p) = (normals[k], normals[j], src[j]);
        let sin_a = (nk[0] * nj[1] - nj[0] * nk[1]).clamp(-1.0, 1.0);
        let cos_a = nk[0] * nj[0] + nk[1] * nj[1];
        if (sin_a * delta).abs() < 1.0 && cos_a > 0.0 {
            out.push([round(p[0] + nk[0] * delta), round(p[1] + nk[1] * delta)]);
            continue;
        }
        if sin_a * delta < 0.0 {
            out.push([round(p[0] + nk[0] * delta), round(p[1] + nk[1] * delta)]);
            out.push([round(p[0]), round(p[1])]);
            out.push([round(p[0] + nj[0] * delta), round(p[1] + nj[1] * delta)]);
            continue;
        }
        let a = sin_a.atan2(cos_a);
        let n_steps = ((steps_per_rad * a.abs()).round() as i64).max(1);
        let (mut x, mut y) = (nk[0], nk[1]);
        for _ in 0..n_steps {
            out.push([round(p[0] + x * delta), round(p[1] + y * delta)]);
            let x2 = x;
            x = x * cos - sin * y;
            y = x2 * sin + y * cos;
        }
        out.push([round(p[0] + nj[0] * delta), round(p[1] + nj[1] * delta)]);
    }
    out
}

/// rapidocr's `order_points_clockwise`: the two leftmost points (top one first) and the
/// two rightmost (top one first) as top-left, top-right, bottom-right, bottom-left.
fn order_clockwise(q: Quad) -> Quad {
    let mut p = q.to_vec();
    p.sort_by(|a, b| a[0].total_cmp(&b[0]));
    let (mut left, mut right) = ([p[0], p[1]], [p[2], p[3]]);
    left.sort_by(|a, b| a[1].total_cmp(&b[1]));
    right.sort_by(|a, b| a[1].total_cmp(&b[1]));
    [left[0], right[0], right[1], left[1]]
}

/// rapidocr's `sorted_boxes`: by top-left `y` then `x`, then boxes whose tops are within
/// 10 pixels are put left to right.
fn sort_reading_order(boxes: &mut [(Quad, f32)]) {
    boxes.sort_by(|a, b| {
        (a.0[0][1], a.0[0][0])
            .partial_cmp(&(b.0[0][1], b.0[0][0]))
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    for i in 0..boxes.len().saturating_sub(1) {
        for j in (0..=i).rev() {
            if (boxes[j + 1].0[0][1] - boxes[j].0[0][1]).abs() < 10.0
                && boxes[j + 1].0[0][0] < boxes[j].0[0][0]
            {
                boxes.swap(j, j + 1);
            } else {
                break;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unclip_reproduces_pyclipper_on_real_receipts() {
        // Every offset rapidocr made on 20 SROIE receipts (scripts/golden/ocr-pipeline.sh):
        // the same distance, and the same polygon point for point, in Clipper's order.
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/golden/min_area_rect.json"
        );
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let offsets = v["offsets"].as_array().unwrap();
        assert!(offsets.len() > 1000);
        let mut bad = Vec::new();
        for (i, c) in offsets.iter().enumerate() {
            let quad: Vec<[f32; 2]> = c["quad"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| [p[0].as_f64().unwrap() as f32, p[1].as_f64().unwrap() as f32])
                .collect();
            let quad: Quad = quad.try_into().unwrap();
            let (_, delta) = unclip_input(&quad, 1.6);
            let want: Vec<i64> = c["out"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_i64().unwrap())
                .collect();
            let got: Vec<i64> = unclip(&quad, 1.6).into_iter().flatten().collect();
            if got != want || delta != c["delta"].as_f64().unwrap() {
                bad.push(i);
            }
        }
        assert!(
            bad.is_empty(),
            "{} of {} differ: {bad:?}",
            bad.len(),
            offsets.len()
        );
    }

    #[test]
    fn a_filled_rectangle_becomes_a_grown_box() {
        // A 40 x 10 block of high probability in a 64 x 32 map.
        let (w, h) = (64, 32);
        let mut prob = vec![0.0f32; w * h];
        for y in 11..21 {
            for x in 12..52 {
                prob[y * w + x] = 0.9;
            }
        }
        let boxes = db_boxes(&prob, w, h, w, h, &DbPostConfig::default());
        assert_eq!(boxes.len(), 1);
        let (q, score) = boxes[0];
        // The dilated ring (probability 0) is part of the region, as in rapidocr.
        assert!(score > 0.7 && score < 0.9, "{score}");
        // Grown beyond the block on every side, by about area * 1.6 / perimeter.
        assert!(
            q[0][0] < 12.0 && q[0][1] < 11.0 && q[2][0] > 51.0 && q[2][1] > 20.0,
            "{q:?}"
        );
        assert!(q[0][0] >= 0.0 && q[2][0] <= 63.0);
    }

    #[test]
    fn faint_and_tiny_regions_are_dropped() {
        let (w, h) = (32, 32);
        let mut prob = vec![0.0f32; w * h];
        prob[5 * w + 5] = 0.9; // one pixel: too small
        for y in 15..25 {
            for x in 5..25 {
                prob[y * w + x] = 0.35; // above thresh, below box_thresh
            }
        }
        assert!(db_boxes(&prob, w, h, w, h, &DbPostConfig::default()).is_empty());
    }

    #[test]
    fn reading_order_puts_a_line_left_to_right() {
        let q =
            |x: f32, y: f32| -> Quad { [[x, y], [x + 5.0, y], [x + 5.0, y + 5.0], [x, y + 5.0]] };
        let mut b = vec![
            (q(50.0, 12.0), 1.0),
            (q(10.0, 15.0), 1.0),
            (q(0.0, 40.0), 1.0),
        ];
        sort_reading_order(&mut b);
        let xs: Vec<f32> = b.iter().map(|(q, _)| q[0][0]).collect();
        assert_eq!(xs, [10.0, 50.0, 0.0]);
    }
}

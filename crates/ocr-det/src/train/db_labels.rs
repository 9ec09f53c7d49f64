//! DB training targets as PaddleOCR makes them (`ppocr/data/imaug/make_shrink_map.py`,
//! `make_border_map.py`): the shrink map (each text polygon shrunk by the Vatti offset
//! `D = A (1 - r^2) / L`, `r` = 0.4, filled with 1) with its mask (ignored and tiny texts
//! masked out), and the threshold map (1 on each polygon's border, falling to 0 at
//! distance `D`, rescaled to [0.3, 0.7]) with its mask (the polygons grown by `D`).

use crate::postprocess::{clipper_output, inside_or_near, offset_round};
use whet_core::geom::TextRegion;

/// Label settings (PaddleOCR's defaults).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DbLabelConfig {
    /// `r` in the offset `A (1 - r^2) / L`.
    pub shrink_ratio: f64,
    /// Texts whose box is thinner than this (pixels) are ignored.
    pub min_text_size: f64,
    /// Threshold map floor.
    pub thresh_min: f32,
    /// Threshold map ceiling.
    pub thresh_max: f32,
}

impl Default for DbLabelConfig {
    fn default() -> Self {
        DbLabelConfig {
            shrink_ratio: 0.4,
            min_text_size: 8.0,
            thresh_min: 0.3,
            thresh_max: 0.7,
        }
    }
}

/// The four target maps of one image, row-major `h x w`.
#[derive(Debug, Clone, PartialEq)]
pub struct DbTargets {
    /// Width.
    pub w: usize,
    /// Height.
    pub h: usize,
    /// 1 inside shrunk text polygons.
    pub shrink: Vec<f32>,
    /// 0 over ignored texts, 1 elsewhere.
    pub shrink_mask: Vec<f32>,
    /// The threshold map in `[thresh_min, thresh_max]`.
    pub thresh: Vec<f32>,
    /// 1 inside grown text polygons.
    pub thresh_mask: Vec<f32>,
}

/// Shapely's area and perimeter of a polygon.
fn area_length(p: &[[f64; 2]]) -> (f64, f64) {
    let n = p.len();
    let mut area = 0.0;
    let mut length = 0.0;
    for i in 0..n {
        let (a, b) = (p[i], p[(i + 1) % n]);
        area += a[0] * b[1] - b[0] * a[1];
        length += ((b[0] - a[0]).powi(2) + (b[1] - a[1]).powi(2)).sqrt();
    }
    (area.abs() / 2.0, length)
}

/// A convex polygon moved inwards by `d` (pyclipper's `Execute(-d)` on its integer
/// (truncated) points: edges moved in, consecutive ones intersected, rounded). `None`
/// when it vanishes (an edge would turn round).
fn shrink(points: &[[f64; 2]], d: f64) -> Option<Vec<[f64; 2]>> {
    let mut p: Vec<[f64; 2]> = points
        .iter()
        .map(|q| [q[0].trunc(), q[1].trunc()])
        .collect();
    p.dedup();
    if p.len() > 1 && p.first() == p.last() {
        p.pop();
    }
    let n = p.len();
    if n < 3 {
        return None;
    }
    let signed: f64 = (0..n)
        .map(|i| p[i][0] * p[(i + 1) % n][1] - p[(i + 1) % n][0] * p[i][1])
        .sum();
    if signed == 0.0 {
        return None;
    }
    // Inward normal of each edge: rotate the edge direction towards the inside.
    let s = signed.signum();
    let lines: Vec<([f64; 2], [f64; 2])> = (0..n)
        .map(|i| {
            let (a, b) = (p[i], p[(i + 1) % n]);
            let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
            let l = (dx * dx + dy * dy).sqrt();
            let normal = [-dy / l * s, dx / l * s];
            ([a[0] + normal[0] * d, a[1] + normal[1] * d], [dx, dy])
        })
        .collect();
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let (p1, d1) = lines[(i + n - 1) % n];
        let (p2, d2) = lines[i];
        let den = d1[0] * d2[1] - d1[1] * d2[0];
        if den.abs() < 1e-12 {
            // Collinear edges: the point moves along the normal.
            out.push(p2);
            continue;
        }
        let t = ((p2[0] - p1[0]) * d2[1] - (p2[1] - p1[1]) * d2[0]) / den;
        out.push([(p1[0] + d1[0] * t).round(), (p1[1] + d1[1] * t).round()]);
    }
    // Every edge must keep its direction, else the polygon has collapsed.
    for i in 0..n {
        let (a, b) = (out[i], out[(i + 1) % n]);
        let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
        if dx * lines[i].1[0] + dy * lines[i].1[1] <= 0.0 {
            return None;
        }
    }
    Some(out)
}

/// `cv2.fillPoly` of one polygon with `value` (pixels whose centre is inside or within
/// half a pixel of the outline).
fn fill(map: &mut [f32], w: usize, h: usize, poly: &[[f64; 2]], value: f32) {
    let (x0, x1, y0, y1) = bounds(poly, w, h);
    for y in y0..=y1 {
        for x in x0..=x1 {
            if inside_or_near(poly, x as f64, y as f64, 0.5) {
                map[y * w + x] = value;
            }
        }
    }
}

fn bounds(poly: &[[f64; 2]], w: usize, h: usize) -> (usize, usize, usize, usize) {
    let clamp = |v: f64, hi: usize| (v.max(0.0) as usize).min(hi.saturating_sub(1));
    let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for p in poly {
        x0 = x0.min(p[0].floor());
        x1 = x1.max(p[0].ceil());
        y0 = y0.min(p[1].floor());
        y1 = y1.max(p[1].ceil());
    }
    (clamp(x0, w), clamp(x1, w), clamp(y0, h), clamp(y1, h))
}

/// PaddleOCR's `_distance`: distance from `(x, y)` to the segment `a b` (to the line when
/// the angle at the point is acute, else to the nearer end).
fn distance(x: f64, y: f64, a: [f64; 2], b: [f64; 2]) -> f64 {
    let d1 = (x - a[0]).powi(2) + (y - a[1]).powi(2);
    let d2 = (x - b[0]).powi(2) + (y - b[1]).powi(2);
    // The edge's squared length in single precision (PaddleOCR's polygon is float32).
    let (ex, ey) = ((a[0] as f32 - b[0] as f32), (a[1] as f32 - b[1] as f32));
    let d = f64::from(ex * ex + ey * ey);
    let cosin = (d - d1 - d2) / (2.0 * (d1 * d2).sqrt());
    if cosin < 0.0 {
        return d1.min(d2).sqrt();
    }
    let sin2 = 1.0 - cosin * cosin;
    let sin2 = if sin2.is_nan() { 0.0 } else { sin2 };
    (d1 * d2 * sin2 / d).sqrt()
}

/// Training targets for an image `w x h` with text `regions` (ignored ones masked out).
pub fn db_targets(w: usize, h: usize, regions: &[TextRegion], cfg: &DbLabelConfig) -> DbTargets {
    let mut t = DbTargets {
        w,
        h,
        shrink: vec![0.0; w * h],
        shrink_mask: vec![1.0; w * h],
        thresh: vec![0.0; w * h],
        thresh_mask: vec![0.0; w * h],
    };
    // Threshold map first, as PaddleOCR's pipeline runs MakeBorderMap before
    // MakeShrinkMap: every polygon not tagged to ignore, as labelled (not yet clipped).
    for poly in regions
        .iter()
        .filter(|r| !r.ignore)
        .map(|r| &r.polygon.points)
    {
        let (area, length) = area_length(poly);
        if area <= 0.0 {
            continue;
        }
        let d = area * (1.0 - cfg.shrink_ratio * cfg.shrink_ratio) / length;
        // pyclipper takes the polygon's points as integers (truncated).
        let subject = poly.iter().map(|p| [p[0].trunc(), p[1].trunc()]).collect();
        let grown: Vec<[f64; 2]> = clipper_output(offset_round(subject, d))
            .into_iter()
            .map(|p| [p[0] as f64, p[1] as f64])
            .collect();
        fill(&mut t.thresh_mask, w, h, &grown, 1.0);
        let (gx0, gx1, gy0, gy1) = bounds(&grown, w, h);
        // As PaddleOCR computes it: the polygon moved to the grown box's corner in single
        // precision, distances in double; a NaN distance (a rounding-negative sine) makes
        // the pixel's minimum NaN, which `np.fmax` then ignores.
        let (ox, oy) = grown
            .iter()
            .fold((f64::MAX, f64::MAX), |o, p| (o.0.min(p[0]), o.1.min(p[1])));
        let rel: Vec<[f64; 2]> = poly
            .iter()
            .map(|p| {
                [
                    f64::from(p[0] as f32 - ox as f32),
                    f64::from(p[1] as f32 - oy as f32),
                ]
            })
            .collect();
        let n = rel.len();
        for y in gy0..=gy1 {
            for x in gx0..=gx1 {
                let (xr, yr) = (x as f64 - ox, y as f64 - oy);
                let dmin = (0..n)
                    .map(|i| {
                        (distance(xr, yr, rel[i], rel[(i + 1) % n]) / d).clamp(0.0, 1.0) as f32
                    })
                    .fold(f32::INFINITY, |m, v| {
                        if v.is_nan() || m.is_nan() {
                            f32::NAN
                        } else {
                            m.min(v)
                        }
                    });
                if dmin.is_nan() {
                    continue;
                }
                let cell = &mut t.thresh[y * w + x];
                *cell = cell.max(1.0 - dmin);
            }
        }
    }
    // Shrink map: polygons clipped to the image; ignored, degenerate and thin ones masked.
    for region in regions {
        let ignored = &region.ignore;
        let poly: Vec<[f64; 2]> = region
            .polygon
            .points
            .iter()
            .map(|p| {
                [
                    p[0].clamp(0.0, w as f64 - 1.0),
                    p[1].clamp(0.0, h as f64 - 1.0),
                ]
            })
            .collect();
        let (area, length) = area_length(&poly);
        let (x0, x1, y0, y1) = poly
            .iter()
            .fold((f64::MAX, f64::MIN, f64::MAX, f64::MIN), |b, p| {
                (b.0.min(p[0]), b.1.max(p[0]), b.2.min(p[1]), b.3.max(p[1]))
            });
        let small = (x1 - x0).min(y1 - y0) < cfg.min_text_size;
        if *ignored || small || area < 1.0 {
            fill(&mut t.shrink_mask, w, h, &poly, 0.0);
            continue;
        }
        // The first ratio (0.4, then 0.8) whose offset leaves a polygon.
        let mut ratio = cfg.shrink_ratio;
        let mut shrunk = None;
        while ratio < 1.0 && shrunk.is_none() {
            shrunk = shrink(&poly, area * (1.0 - ratio * ratio) / length);
            ratio += cfg.shrink_ratio;
        }
        match shrunk {
            Some(s) => fill(&mut t.shrink, w, h, &s, 1.0),
            None => fill(&mut t.shrink_mask, w, h, &poly, 0.0),
        }
    }
    for v in &mut t.thresh {
        *v = *v * (cfg.thresh_max - cfg.thresh_min) + cfg.thresh_min;
    }
    t
}

#[cfg(test)]
mod tests {
    use whet_core::geom::Polygon;

    use super::*;

    #[test]
    fn a_box_shrinks_by_the_vatti_offset_and_its_border_peaks_on_the_outline() {
        let (w, h) = (100, 60);
        let poly = vec![[10.0, 10.0], [90.0, 10.0], [90.0, 40.0], [10.0, 40.0]];
        let t = db_targets(
            w,
            h,
            &[TextRegion::new(Polygon::new(poly), "")],
            &DbLabelConfig::default(),
        );
        // D = 80 * 30 * (1 - 0.16) / 220 = 9.16: the shrunk box is about 19..81 x 19..31.
        let at = |m: &[f32], x: usize, y: usize| m[y * w + x];
        assert_eq!(at(&t.shrink, 50, 25), 1.0);
        assert_eq!(at(&t.shrink, 15, 25), 0.0);
        assert_eq!(at(&t.shrink, 50, 15), 0.0);
        assert_eq!(at(&t.shrink, 22, 25), 1.0);
        // Threshold: 0.7 on the outline, 0.3 far away, the mask covering the grown box.
        assert!((at(&t.thresh, 10, 25) - 0.7).abs() < 1e-6);
        assert!((at(&t.thresh, 50, 25) - 0.3).abs() < 1e-6);
        assert_eq!(at(&t.thresh_mask, 2, 25), 1.0);
        assert_eq!(at(&t.thresh_mask, 50, 55), 0.0);
        assert!(t.shrink_mask.iter().all(|&m| m == 1.0));
    }

    #[test]
    fn ignored_and_tiny_texts_are_masked_out() {
        let (w, h) = (50, 50);
        let ignored = vec![[5.0, 5.0], [40.0, 5.0], [40.0, 20.0], [5.0, 20.0]];
        let tiny = vec![[5.0, 30.0], [40.0, 30.0], [40.0, 34.0], [5.0, 34.0]];
        let t = db_targets(
            w,
            h,
            &[
                TextRegion::ignored(Polygon::new(ignored)),
                TextRegion::new(Polygon::new(tiny), ""),
            ],
            &DbLabelConfig::default(),
        );
        assert_eq!(t.shrink_mask[10 * w + 20], 0.0);
        assert_eq!(t.shrink_mask[32 * w + 20], 0.0);
        assert!(t.shrink.iter().all(|&v| v == 0.0));
        // PaddleOCR still draws the thin text's border (only `###` skips it).
        assert_eq!(t.thresh_mask[10 * w + 20], 0.0);
        assert_eq!(t.thresh_mask[32 * w + 20], 1.0);
    }
}

//! Geometry shared by the crates that produce and consume text regions (synth-docs
//! ground truth, ocr-det predictions).

use serde::{Deserialize, Serialize};

/// A polygon in pixel coordinates, points clockwise from the top-left (x right, y down).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Polygon {
    /// The vertices, not closed (the last connects to the first).
    pub points: Vec<[f32; 2]>,
}

impl Polygon {
    /// The axis-aligned rectangle `[x0, x1] x [y0, y1]`: top-left, top-right,
    /// bottom-right, bottom-left.
    ///
    /// ```
    /// use whet_core::geom::Polygon;
    /// let r = Polygon::rect(1.0, 2.0, 5.0, 4.0);
    /// assert_eq!(r.bounds(), [1.0, 2.0, 5.0, 4.0]);
    /// ```
    pub fn rect(x0: f32, y0: f32, x1: f32, y1: f32) -> Self {
        Polygon {
            points: vec![[x0, y0], [x1, y0], [x1, y1], [x0, y1]],
        }
    }

    /// `[min x, min y, max x, max y]` (zeros for an empty polygon).
    pub fn bounds(&self) -> [f32; 4] {
        if self.points.is_empty() {
            return [0.0; 4];
        }
        self.points.iter().fold(
            [
                f32::INFINITY,
                f32::INFINITY,
                f32::NEG_INFINITY,
                f32::NEG_INFINITY,
            ],
            |b, p| {
                [
                    b[0].min(p[0]),
                    b[1].min(p[1]),
                    b[2].max(p[0]),
                    b[3].max(p[1]),
                ]
            },
        )
    }

    /// The bounding rectangle of several polygons (`None` when there are none).
    pub fn union_bounds<'a>(polys: impl IntoIterator<Item = &'a Polygon>) -> Option<Polygon> {
        let mut b: Option<[f32; 4]> = None;
        for p in polys {
            let q = p.bounds();
            b = Some(match b {
                None => q,
                Some(a) => [
                    a[0].min(q[0]),
                    a[1].min(q[1]),
                    a[2].max(q[2]),
                    a[3].max(q[3]),
                ],
            });
        }
        b.map(|b| Polygon::rect(b[0], b[1], b[2], b[3]))
    }
}

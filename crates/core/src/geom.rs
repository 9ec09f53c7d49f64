//! The one geometry of every Whetstone crate: synth-docs' ground truth, ocr-det's
//! predictions and training labels, eval-metrics' detection protocols, hard-mining's
//! review items and PaddleOCR label files all speak [`Polygon`] and [`TextRegion`].
//!
//! Coordinates are `f64` pixels, x right and y down: detection protocols (shapely,
//! PaddleOCR's evaluation) compute in double precision on label coordinates that are not
//! always representable in `f32`.

use serde::{Deserialize, Serialize};

/// A polygon in pixel coordinates, points clockwise from the top-left (x right, y down).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Polygon {
    /// The vertices, not closed (the last connects to the first).
    pub points: Vec<[f64; 2]>,
}

impl Polygon {
    /// A polygon of the given vertices.
    pub fn new(points: Vec<[f64; 2]>) -> Self {
        Polygon { points }
    }

    /// A polygon from `f32` vertices (a detector's quadrilateral, say).
    ///
    /// ```
    /// use whet_core::geom::Polygon;
    /// let q = Polygon::from_f32(&[[0.5, 1.0], [4.0, 1.0], [4.0, 3.0], [0.5, 3.0]]);
    /// assert_eq!(q.bounds(), [0.5, 1.0, 4.0, 3.0]);
    /// ```
    pub fn from_f32(points: &[[f32; 2]]) -> Self {
        Polygon {
            points: points
                .iter()
                .map(|p| [f64::from(p[0]), f64::from(p[1])])
                .collect(),
        }
    }

    /// The vertices as `f32` (for drawing and image warps).
    pub fn to_f32(&self) -> Vec<[f32; 2]> {
        self.points
            .iter()
            .map(|p| [p[0] as f32, p[1] as f32])
            .collect()
    }

    /// The four vertices of a quadrilateral as `f32`, `None` for another vertex count.
    pub fn quad_f32(&self) -> Option<[[f32; 2]; 4]> {
        if self.points.len() != 4 {
            return None;
        }
        let p = &self.points;
        Some(std::array::from_fn(|i| [p[i][0] as f32, p[i][1] as f32]))
    }

    /// The axis-aligned rectangle `[x0, x1] x [y0, y1]`: top-left, top-right,
    /// bottom-right, bottom-left.
    ///
    /// ```
    /// use whet_core::geom::Polygon;
    /// let r = Polygon::rect(1.0, 2.0, 5.0, 4.0);
    /// assert_eq!(r.bounds(), [1.0, 2.0, 5.0, 4.0]);
    /// ```
    pub fn rect(x0: f64, y0: f64, x1: f64, y1: f64) -> Self {
        Polygon {
            points: vec![[x0, y0], [x1, y0], [x1, y1], [x0, y1]],
        }
    }

    /// `[min x, min y, max x, max y]` (zeros for an empty polygon).
    pub fn bounds(&self) -> [f64; 4] {
        if self.points.is_empty() {
            return [0.0; 4];
        }
        self.points.iter().fold(
            [
                f64::INFINITY,
                f64::INFINITY,
                f64::NEG_INFINITY,
                f64::NEG_INFINITY,
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
        let mut b: Option<[f64; 4]> = None;
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

    /// The area enclosed (shoelace formula; positive for either orientation).
    ///
    /// ```
    /// use whet_core::geom::Polygon;
    /// assert_eq!(Polygon::rect(0.0, 0.0, 4.0, 2.5).area(), 10.0);
    /// ```
    pub fn area(&self) -> f64 {
        let n = self.points.len();
        let twice: f64 = (0..n)
            .map(|i| {
                let (a, b) = (self.points[i], self.points[(i + 1) % n]);
                a[0] * b[1] - b[0] * a[1]
            })
            .sum();
        twice.abs() / 2.0
    }
}

/// A labelled text region: a polygon, what it says, and whether training and evaluation
/// leave it out (PaddleOCR's `###` "do not care" boxes, unreadable regions).
///
/// The one type for detection labels, ground-truth lines and recognised lines without
/// confidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct TextRegion {
    /// Where.
    pub polygon: Polygon,
    /// What it says (empty when unknown).
    #[serde(default)]
    pub text: String,
    /// Left out of training and evaluation.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub ignore: bool,
}

impl TextRegion {
    /// A region that counts.
    pub fn new(polygon: Polygon, text: impl Into<String>) -> Self {
        TextRegion {
            polygon,
            text: text.into(),
            ignore: false,
        }
    }

    /// A region left out of training and evaluation.
    pub fn ignored(polygon: Polygon) -> Self {
        TextRegion {
            polygon,
            text: String::new(),
            ignore: true,
        }
    }
}

//! Polygon geometry for detection metrics, with shapely (GEOS) semantics: validity,
//! area, and the area of the intersection of two simple polygons.
//!
//! Polygons are vertex rings, not closed (the last vertex connects to the first), in any
//! orientation. The intersection area is computed by Green's theorem over the parts of
//! each boundary that lie inside the other polygon, with edges that run along each other
//! handled exactly, so concave polygons and shared edges need no triangulation and no
//! snapping: results agree with GEOS's overlay to rounding error (about 1e-13 relative).

/// A point `[x, y]`.
pub type Point = [f64; 2];

fn sub(a: Point, b: Point) -> Point {
    [a[0] - b[0], a[1] - b[1]]
}

fn cross(a: Point, b: Point) -> f64 {
    a[0] * b[1] - a[1] * b[0]
}

fn dot(a: Point, b: Point) -> f64 {
    a[0] * b[0] + a[1] * b[1]
}

/// Orientation of `c` relative to the line `a -> b`: > 0 left, < 0 right, 0 on it.
fn orient(a: Point, b: Point, c: Point) -> f64 {
    cross(sub(b, a), sub(c, a))
}

/// The ring without consecutive repeated vertices (the closing one included).
fn dedup(ring: &[Point]) -> Vec<Point> {
    let mut out: Vec<Point> = Vec::with_capacity(ring.len());
    for &p in ring {
        if out.last() != Some(&p) {
            out.push(p);
        }
    }
    while out.len() > 1 && out.first() == out.last() {
        out.pop();
    }
    out
}

/// Area with GEOS's `Area::ofRingSigned` summation (relative to the first vertex), so
/// that valid polygons get shapely's `area` to the last bit. Positive for clockwise rings.
fn geos_signed_area(ring: &[Point]) -> f64 {
    let n = ring.len();
    if n < 3 {
        return 0.0;
    }
    // The closed ring p0 .. p(n-1) p0, as GEOS stores it.
    let at = |i: usize| ring[i % n];
    let x0 = ring[0][0];
    let mut sum = 0.0;
    for i in 1..n {
        let x = at(i)[0] - x0;
        let y1 = at(i + 1)[1];
        let y2 = at(i - 1)[1];
        sum += x * (y2 - y1);
    }
    sum / 2.0
}

/// The polygon's area (shapely's `Polygon(ring).area`).
pub fn area(ring: &[Point]) -> f64 {
    geos_signed_area(ring).abs()
}

fn segments_touch(a: Point, b: Point, c: Point, d: Point) -> bool {
    let (o1, o2) = (orient(a, b, c), orient(a, b, d));
    let (o3, o4) = (orient(c, d, a), orient(c, d, b));
    if ((o1 > 0.0 && o2 < 0.0) || (o1 < 0.0 && o2 > 0.0))
        && ((o3 > 0.0 && o4 < 0.0) || (o3 < 0.0 && o4 > 0.0))
    {
        return true;
    }
    let on = |p: Point, q: Point, r: Point| {
        r[0] >= p[0].min(q[0])
            && r[0] <= p[0].max(q[0])
            && r[1] >= p[1].min(q[1])
            && r[1] <= p[1].max(q[1])
    };
    (o1 == 0.0 && on(a, b, c))
        || (o2 == 0.0 && on(a, b, d))
        || (o3 == 0.0 && on(c, d, a))
        || (o4 == 0.0 && on(c, d, b))
}

/// Whether shapely would call `Polygon(ring)` both valid and simple: finite coordinates,
/// at least three distinct vertices, and a boundary that never touches or crosses itself
/// (so no bow-ties, no spikes folding back along an edge, no zero-area rings).
pub fn is_valid(ring: &[Point]) -> bool {
    if ring.iter().any(|p| !p[0].is_finite() || !p[1].is_finite()) {
        return false;
    }
    let v = dedup(ring);
    let n = v.len();
    if n < 3 {
        return false;
    }
    for i in 0..n {
        // Adjacent edges (i, i+1) share v[i+1]: they must not fold back on each other.
        let (a, b, c) = (v[i], v[(i + 1) % n], v[(i + 2) % n]);
        if orient(a, b, c) == 0.0 && dot(sub(b, a), sub(c, b)) < 0.0 {
            return false;
        }
        for j in i + 2..n {
            if i == 0 && j == n - 1 {
                continue; // adjacent through the closing vertex
            }
            if segments_touch(v[i], v[(i + 1) % n], v[j], v[(j + 1) % n]) {
                return false;
            }
        }
    }
    true
}

fn point_in(p: Point, ring: &[Point]) -> bool {
    let n = ring.len();
    let mut inside = false;
    let mut j = n - 1;
    for i in 0..n {
        let (a, b) = (ring[i], ring[j]);
        if (a[1] > p[1]) != (b[1] > p[1]) {
            let x = a[0] + (p[1] - a[1]) * (b[0] - a[0]) / (b[1] - a[1]);
            if p[0] < x {
                inside = !inside;
            }
        }
        j = i;
    }
    inside
}

/// Twice the signed area contributed by the parts of `p`'s boundary inside `q` (and, when
/// `own_shared`, the parts running along `q`'s boundary in the same direction).
fn boundary_inside(p: &[Point], q: &[Point], own_shared: bool) -> f64 {
    let n = p.len();
    let m = q.len();
    let mut sum = 0.0;
    let mut ts: Vec<f64> = Vec::new();
    let mut shared: Vec<(f64, f64, bool)> = Vec::new();
    for i in 0..n {
        let (s, e) = (p[i], p[(i + 1) % n]);
        let d = sub(e, s);
        let dd = dot(d, d);
        ts.clear();
        shared.clear();
        ts.extend([0.0, 1.0]);
        for k in 0..m {
            let (u, v) = (q[k], q[(k + 1) % m]);
            let f = sub(v, u);
            let denom = cross(d, f);
            let us = sub(u, s);
            if denom == 0.0 {
                if cross(us, d) == 0.0 {
                    // Collinear: the overlap, if any, is shared boundary.
                    let tu = dot(us, d) / dd;
                    let tv = dot(sub(v, s), d) / dd;
                    let lo = tu.min(tv).max(0.0);
                    let hi = tu.max(tv).min(1.0);
                    if lo < hi {
                        ts.extend([lo, hi]);
                        shared.push((lo, hi, dot(d, f) > 0.0));
                    }
                }
                continue;
            }
            let t = cross(us, f) / denom;
            let w = cross(us, d) / denom;
            if (0.0..=1.0).contains(&t) && (0.0..=1.0).contains(&w) {
                ts.push(t);
            }
        }
        ts.sort_by(f64::total_cmp);
        let at = |t: f64| -> Point {
            if t == 0.0 {
                s
            } else if t == 1.0 {
                e
            } else {
                [s[0] + t * d[0], s[1] + t * d[1]]
            }
        };
        for w in ts.windows(2) {
            let (t0, t1) = (w[0], w[1]);
            if t1 <= t0 {
                continue;
            }
            let tm = 0.5 * (t0 + t1);
            let include = match shared.iter().find(|(lo, hi, _)| *lo <= tm && tm <= *hi) {
                Some(&(_, _, same)) => own_shared && same,
                None => point_in(at(tm), q),
            };
            if include {
                sum += cross(at(t0), at(t1));
            }
        }
    }
    sum
}

fn ccw_local(ring: &[Point], origin: Point) -> Vec<Point> {
    let mut v: Vec<Point> = dedup(ring).into_iter().map(|p| sub(p, origin)).collect();
    if geos_signed_area(&v) > 0.0 {
        v.reverse(); // GEOS's sign is positive for clockwise rings
    }
    v
}

fn bbox(ring: &[Point]) -> [f64; 4] {
    let mut b = [
        f64::INFINITY,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NEG_INFINITY,
    ];
    for p in ring {
        b[0] = b[0].min(p[0]);
        b[1] = b[1].min(p[1]);
        b[2] = b[2].max(p[0]);
        b[3] = b[3].max(p[1]);
    }
    b
}

/// The area of the intersection of two valid polygons (see [`is_valid`]); what shapely's
/// `a.intersection(b).area` returns. For invalid input the result is unspecified (but
/// finite when the coordinates are).
///
/// ```
/// use whet_eval_metrics::ocr::polygon::intersection_area;
/// let a = [[0.0, 0.0], [4.0, 0.0], [4.0, 4.0], [0.0, 4.0]];
/// let b = [[2.0, 2.0], [6.0, 2.0], [6.0, 6.0], [2.0, 6.0]];
/// assert_eq!(intersection_area(&a, &b), 4.0);
/// ```
pub fn intersection_area(a: &[Point], b: &[Point]) -> f64 {
    if a.len() < 3 || b.len() < 3 {
        return 0.0;
    }
    let (ba, bb) = (bbox(a), bbox(b));
    if ba[2] < bb[0] || bb[2] < ba[0] || ba[3] < bb[1] || bb[3] < ba[1] {
        return 0.0;
    }
    // Work relative to a nearby origin to keep the cross products small.
    let origin = [ba[0], ba[1]];
    let (pa, pb) = (ccw_local(a, origin), ccw_local(b, origin));
    if pa.len() < 3 || pb.len() < 3 {
        return 0.0;
    }
    let twice = boundary_inside(&pa, &pb, true) + boundary_inside(&pb, &pa, false);
    (twice / 2.0).max(0.0)
}

/// Intersection over union of two valid polygons, the union taken as
/// `area(a) + area(b) - intersection` (0 when the union is empty).
pub fn iou(a: &[Point], b: &[Point]) -> f64 {
    let inter = intersection_area(a, b);
    let union = area(a) + area(b) - inter;
    if union > 0.0 { inter / union } else { 0.0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SQUARE: [Point; 4] = [[0.0, 0.0], [2.0, 0.0], [2.0, 2.0], [0.0, 2.0]];

    #[test]
    fn identical_and_contained_polygons() {
        assert_eq!(intersection_area(&SQUARE, &SQUARE), 4.0);
        let inner = [[0.5, 0.5], [1.0, 0.5], [1.0, 1.0], [0.5, 1.0]];
        assert_eq!(intersection_area(&SQUARE, &inner), 0.25);
        assert_eq!(intersection_area(&inner, &SQUARE), 0.25);
        let mut cw = SQUARE;
        cw.reverse();
        assert_eq!(intersection_area(&SQUARE, &cw), 4.0);
    }

    #[test]
    fn shared_edges_and_touching() {
        let right = [[2.0, 0.0], [4.0, 0.0], [4.0, 2.0], [2.0, 2.0]];
        assert_eq!(intersection_area(&SQUARE, &right), 0.0);
        let half = [[0.0, 0.0], [1.0, 0.0], [1.0, 2.0], [0.0, 2.0]];
        assert_eq!(intersection_area(&SQUARE, &half), 2.0);
        let corner = [[2.0, 2.0], [3.0, 2.0], [3.0, 3.0]];
        assert_eq!(intersection_area(&SQUARE, &corner), 0.0);
    }

    #[test]
    fn concave_dart() {
        // A dart whose notch cuts into the square from below.
        let dart = [[0.0, 0.0], [2.0, 0.0], [1.0, 1.0], [0.0, 2.0]];
        assert!((area(&dart) - 2.0).abs() < 1e-12);
        let top = [[0.0, 1.0], [2.0, 1.0], [2.0, 2.0], [0.0, 2.0]];
        // Above y = 1 the dart is the triangle (0,1) (1,1) (0,2): area 0.5.
        assert!((intersection_area(&dart, &top) - 0.5).abs() < 1e-12);
    }

    #[test]
    fn validity() {
        assert!(is_valid(&SQUARE));
        assert!(!is_valid(&[[0.0, 0.0], [2.0, 2.0], [2.0, 0.0], [0.0, 2.0]])); // bow-tie
        assert!(!is_valid(&[[0.0, 0.0], [1.0, 0.0], [2.0, 0.0], [0.5, 0.0]])); // collinear
        assert!(is_valid(&[[0.0, 0.0], [0.0, 0.0], [1.0, 0.0], [1.0, 1.0]])); // repeated vertex
        assert!(is_valid(&[[0.0, 0.0], [1.0, 0.0], [2.0, 0.0], [1.0, 1.0]])); // straight vertex
        assert!(!is_valid(&[[0.0, 0.0], [f64::NAN, 0.0], [1.0, 1.0]]));
    }
}

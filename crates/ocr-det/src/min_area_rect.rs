//! OpenCV 4.12's `convexHull` and `minAreaRect` (with `boxPoints`), operation for
//! operation, so that boxes match rapidocr's to the last bit.
//!
//! DB post-processing grows each rectangle with pyclipper, which truncates its float
//! corners to integers; a corner OpenCV computes as `660.99994` (single-precision
//! rotating calipers) truncates to 660, not 661. An exact rectangle in `f64` therefore
//! moves about 3% of rapidocr's boxes by a pixel. This module follows OpenCV's code:
//! Sklansky's hull with its cyclic shift of the output (which decides where the calipers
//! start, and so which of equal-area rectangles wins), the calipers in `f32` with the
//! same `f64` steps, and `RotatedRect::points`. `tests/min_area_rect_opencv.rs` checks it
//! bit for bit against OpenCV on every call rapidocr makes on 20 receipts.

/// A rotated rectangle as `cv2.minAreaRect` returns it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RotatedRect {
    /// Centre `(x, y)`.
    pub center: [f32; 2],
    /// `(width, height)`.
    pub size: [f32; 2],
    /// Degrees, in OpenCV's convention.
    pub angle: f32,
}

impl RotatedRect {
    /// The four corners, as `cv2.boxPoints` orders them.
    pub fn points(&self) -> [[f32; 2]; 4] {
        let angle = f64::from(self.angle) * std::f64::consts::PI / 180.0;
        let b = angle.cos() as f32 * 0.5;
        let a = angle.sin() as f32 * 0.5;
        let [cx, cy] = self.center;
        let [w, h] = self.size;
        let p0 = [cx - a * h - b * w, cy + b * h - a * w];
        let p1 = [cx + a * h - b * w, cy - b * h - a * w];
        let p2 = [2.0 * cx - p0[0], 2.0 * cy - p0[1]];
        let p3 = [2.0 * cx - p1[0], 2.0 * cy - p1[1]];
        [p0, p1, p2, p3]
    }
}

fn sign(v: i64) -> i64 {
    i64::from(v > 0) - i64::from(v < 0)
}

/// OpenCV's `Sklansky_` over `a` (points sorted by x, then y) from `start` towards `end`;
/// returns the stack length.
fn sklansky(
    a: &[[i64; 2]],
    start: isize,
    end: isize,
    stack: &mut [isize],
    nsign: i64,
    sign2: i64,
) -> usize {
    let at = |i: isize| a[i as usize];
    let incr = if end > start { 1 } else { -1 };
    let (mut pprev, mut pcur) = (start, start + incr);
    let mut pnext = pcur + incr;
    let mut size = 3usize;
    if start == end || at(start) == at(end) {
        stack[0] = start;
        return 1;
    }
    stack[0] = pprev;
    stack[1] = pcur;
    stack[2] = pnext;
    let after = end + incr;
    while pnext != after {
        let cury = at(pcur)[1];
        let by = at(pnext)[1] - cury;
        if sign(by) != nsign {
            let ax = at(pcur)[0] - at(pprev)[0];
            let bx = at(pnext)[0] - at(pcur)[0];
            let ay = cury - at(pprev)[1];
            let convexity = ay * bx - ax * by;
            if sign(convexity) == sign2 && (ax != 0 || ay != 0) {
                pprev = pcur;
                pcur = pnext;
                pnext += incr;
                stack[size] = pnext;
                size += 1;
            } else if pprev == start {
                pcur = pnext;
                stack[1] = pcur;
                pnext += incr;
                stack[2] = pnext;
            } else {
                stack[size - 2] = pnext;
                pcur = pprev;
                pprev = stack[size - 4];
                size -= 1;
            }
        } else {
            pnext += incr;
            stack[size - 1] = pnext;
        }
    }
    size - 1
}

/// `cv::convexHull(points, clockwise = false, returnPoints = true)` for integer points:
/// the hull's points in OpenCV's order.
pub fn convex_hull(points: &[[i64; 2]], clockwise: bool) -> Vec<[i64; 2]> {
    let total = points.len();
    if total == 0 {
        return Vec::new();
    }
    // std::sort by (x, y); equal points keep their input order here (OpenCV's sort is
    // unstable, which only matters for repeated points).
    let mut ptr: Vec<usize> = (0..total).collect();
    ptr.sort_by_key(|&i| (points[i][0], points[i][1]));
    let a: Vec<[i64; 2]> = ptr.iter().map(|&i| points[i]).collect();
    let (mut miny, mut maxy) = (0usize, 0usize);
    for i in 1..total {
        let y = a[i][1];
        if a[miny][1] > y {
            miny = i;
        }
        if a[maxy][1] < y {
            maxy = i;
        }
    }
    let mut hull: Vec<usize> = Vec::new();
    if a[0] == a[total - 1] {
        hull.push(ptr[0]);
    } else {
        let last = total as isize - 1;
        let mut s1 = vec![0isize; total + 2];
        let mut s2 = vec![0isize; total + 2];
        // Upper half; counter-clockwise output swaps the two chains.
        let n1 = sklansky(&a, 0, maxy as isize, &mut s1, -1, 1);
        let n2 = sklansky(&a, last, maxy as isize, &mut s2, -1, -1);
        let (tl, tl_n, tr, tr_n) = if clockwise {
            (&s1, n1, &s2, n2)
        } else {
            (&s2, n2, &s1, n1)
        };
        for &s in &tl[..tl_n - 1] {
            hull.push(ptr[s as usize]);
        }
        for i in (1..tr_n).rev() {
            hull.push(ptr[tr[i] as usize]);
        }
        let stop = if tr_n > 2 {
            tr[1]
        } else if tl_n > 2 {
            tl[tl_n - 2]
        } else {
            -1
        };
        // Lower half.
        let mut s3 = vec![0isize; total + 2];
        let mut s4 = vec![0isize; total + 2];
        let mut bl_n = sklansky(&a, 0, miny as isize, &mut s3, 1, -1);
        let mut br_n = sklansky(&a, last, miny as isize, &mut s4, 1, 1);
        let (bl, br) = if clockwise {
            std::mem::swap(&mut bl_n, &mut br_n);
            (&s4, &s3)
        } else {
            (&s3, &s4)
        };
        if stop >= 0 {
            let check = if bl_n > 2 {
                bl[1]
            } else if bl_n + br_n > 2 {
                br[2 - bl_n]
            } else {
                -1
            };
            if check == stop || (check >= 0 && a[check as usize] == a[stop as usize]) {
                // All points on one line: the lower chain mirrors the upper one.
                bl_n = bl_n.min(2);
                br_n = br_n.min(2);
            }
        }
        for &s in &bl[..bl_n - 1] {
            hull.push(ptr[s as usize]);
        }
        for i in (1..br_n).rev() {
            hull.push(ptr[br[i] as usize]);
        }
        cyclic_shift(&mut hull);
    }
    hull.into_iter().map(|i| points[i]).collect()
}

/// OpenCV's attempt to make the hull's input indices one ascending or descending run by
/// rotating the output.
fn cyclic_shift(hull: &mut Vec<usize>) {
    let n = hull.len();
    if n < 3 {
        return;
    }
    let (mut min_i, mut max_i, mut lt) = (0usize, 0usize, 0isize);
    for i in 1..n {
        let idx = hull[i];
        lt += isize::from(hull[i - 1] < idx);
        if lt > 1 && lt <= i as isize - 2 {
            break;
        }
        if idx < hull[min_i] {
            min_i = i;
        }
        if idx > hull[max_i] {
            max_i = i;
        }
    }
    let mmdist = min_i.abs_diff(max_i);
    if (mmdist == 1 || mmdist == n - 1) && (lt <= 1 || lt >= n as isize - 2) {
        let ascending = (max_i + 1) % n == min_i;
        let i0 = if ascending { min_i } else { max_i };
        if i0 > 0 {
            let mut out = Vec::with_capacity(n);
            let mut j = i0;
            for i in 0..n {
                let cur = hull[j];
                out.push(cur);
                let next_j = if j + 1 < n { j + 1 } else { 0 };
                if i < n - 1 && (ascending != (cur < hull[next_j])) {
                    return;
                }
                j = next_j;
            }
            *hull = out;
        }
    }
}

/// OpenCV's `rotatingCalipers(.., CALIPERS_MINAREARECT, ..)`: the corner and the two
/// side vectors of the smallest rectangle around the convex polygon `p`.
fn rotating_calipers(p: &[[f32; 2]]) -> [[f32; 2]; 3] {
    let n = p.len();
    let mut vect = vec![[0f32; 2]; n];
    let mut inv_len = vec![0f32; n];
    let (mut left, mut bottom, mut right, mut top) = (0usize, 0usize, 0usize, 0usize);
    let mut pt0 = p[0];
    let (mut left_x, mut right_x, mut top_y, mut bottom_y) = (pt0[0], pt0[0], pt0[1], pt0[1]);
    for i in 0..n {
        if pt0[0] < left_x {
            left_x = pt0[0];
            left = i;
        }
        if pt0[0] > right_x {
            right_x = pt0[0];
            right = i;
        }
        if pt0[1] > top_y {
            top_y = pt0[1];
            top = i;
        }
        if pt0[1] < bottom_y {
            bottom_y = pt0[1];
            bottom = i;
        }
        let pt = p[if i + 1 < n { i + 1 } else { 0 }];
        let dx = f64::from(pt[0] - pt0[0]);
        let dy = f64::from(pt[1] - pt0[1]);
        vect[i] = [dx as f32, dy as f32];
        inv_len[i] = (1.0 / (dx * dx + dy * dy).sqrt()) as f32;
        pt0 = pt;
    }
    let (mut base_a, mut base_b);
    let mut seq = [bottom, right, top, left];
    let mut minarea = f32::MAX;
    let mut best = (0usize, 0f32, 0f32, 0f32, 0f32, 0usize);
    for _ in 0..n {
        // The edge making the smallest angle with its caliper: the one whose direction
        // (rotated into the first caliper's frame) lies furthest to the right.
        let v = |i: usize| vect[seq[i]];
        let rot = [
            v(0),
            [v(1)[1], -v(1)[0]],
            [-v(2)[0], -v(2)[1]],
            [-v(3)[1], v(3)[0]],
        ];
        let first_is_right = |a: [f32; 2], b: [f32; 2]| a[1] * b[0] + (-a[0]) * b[1] < 0.0;
        let mut main = 0usize;
        for i in 1..4 {
            if first_is_right(rot[i], rot[main]) {
                main = i;
            }
        }
        let pi = seq[main];
        let lead_x = vect[pi][0] * inv_len[pi];
        let lead_y = vect[pi][1] * inv_len[pi];
        (base_a, base_b) = match main {
            0 => (lead_x, lead_y),
            1 => (lead_y, -lead_x),
            2 => (-lead_x, -lead_y),
            _ => (-lead_y, lead_x),
        };
        seq[main] += 1;
        if seq[main] == n {
            seq[main] = 0;
        }
        let dx = p[seq[1]][0] - p[seq[3]][0];
        let dy = p[seq[1]][1] - p[seq[3]][1];
        let width = dx * base_a + dy * base_b;
        let dx = p[seq[2]][0] - p[seq[0]][0];
        let dy = p[seq[2]][1] - p[seq[0]][1];
        let height = -dx * base_b + dy * base_a;
        let area = width * height;
        if area <= minarea {
            minarea = area;
            best = (seq[3], base_a, width, base_b, height, seq[0]);
        }
    }
    let (li, a1, width, b1, height, bi) = best;
    let (a2, b2) = (-b1, a1);
    let c1 = a1 * p[li][0] + p[li][1] * b1;
    let c2 = a2 * p[bi][0] + p[bi][1] * b2;
    let idet = 1.0 / (a1 * b2 - a2 * b1);
    let px = (c1 * b2 - c2 * b1) * idet;
    let py = (a1 * c2 - a2 * c1) * idet;
    [
        [px, py],
        [a1 * width, b1 * width],
        [a2 * height, b2 * height],
    ]
}

/// The rectangle `cv2.minAreaRect` returns for the outer contour `cv2.findContours`
/// traces around a region, given any of the region's points (all its pixels, say).
///
/// Only the contour's hull vertices and their order matter: the contour starts at the
/// region's first pixel in raster order and runs counter-clockwise on screen, so the hull
/// is handed to [`min_area_rect`] in that order. (A region whose border passes through
/// one hull vertex twice, a one-pixel-wide neck, can start differently in OpenCV.)
pub fn region_rect(points: &[[i64; 2]]) -> RotatedRect {
    let mut hull = monotone_hull(points);
    // `monotone_hull` runs clockwise on screen; the contour runs the other way.
    hull.reverse();
    if let Some(first) = (0..hull.len()).min_by_key(|&i| (hull[i][1], hull[i][0])) {
        hull.rotate_left(first);
    }
    min_area_rect(&hull)
}

/// Convex hull by Andrew's monotone chain, clockwise on screen (y down), without
/// repeated or collinear points.
fn monotone_hull(points: &[[i64; 2]]) -> Vec<[i64; 2]> {
    let mut p: Vec<[i64; 2]> = points.to_vec();
    p.sort_unstable();
    p.dedup();
    if p.len() < 3 {
        return p;
    }
    let cross = |o: [i64; 2], a: [i64; 2], b: [i64; 2]| {
        (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])
    };
    let mut lower: Vec<[i64; 2]> = Vec::new();
    for &q in &p {
        while lower.len() >= 2 && cross(lower[lower.len() - 2], lower[lower.len() - 1], q) <= 0 {
            lower.pop();
        }
        lower.push(q);
    }
    let mut upper: Vec<[i64; 2]> = Vec::new();
    for &q in p.iter().rev() {
        while upper.len() >= 2 && cross(upper[upper.len() - 2], upper[upper.len() - 1], q) <= 0 {
            upper.pop();
        }
        upper.push(q);
    }
    lower.pop();
    upper.pop();
    lower.extend(upper);
    lower
}

/// `cv::minAreaRect` of integer points.
pub fn min_area_rect(points: &[[i64; 2]]) -> RotatedRect {
    let hull: Vec<[f32; 2]> = convex_hull(points, false)
        .into_iter()
        .map(|[x, y]| [x as f32, y as f32])
        .collect();
    let mut r = RotatedRect {
        center: [0.0; 2],
        size: [0.0; 2],
        angle: 0.0,
    };
    match hull.len() {
        0 => {}
        1 => r.center = hull[0],
        2 => {
            r.center = [
                (hull[0][0] + hull[1][0]) * 0.5,
                (hull[0][1] + hull[1][1]) * 0.5,
            ];
            let dx = f64::from(hull[1][0] - hull[0][0]);
            let dy = f64::from(hull[1][1] - hull[0][1]);
            r.size = [(dx * dx + dy * dy).sqrt() as f32, 0.0];
            r.angle = dy.atan2(dx) as f32;
        }
        _ => {
            let out = rotating_calipers(&hull);
            r.center = [
                out[0][0] + (out[1][0] + out[2][0]) * 0.5,
                out[0][1] + (out[1][1] + out[2][1]) * 0.5,
            ];
            let len = |v: [f32; 2]| {
                let (x, y) = (f64::from(v[0]), f64::from(v[1]));
                (x * x + y * y).sqrt() as f32
            };
            r.size = [len(out[1]), len(out[2])];
            r.angle = f64::from(out[1][1]).atan2(f64::from(out[1][0])) as f32;
        }
    }
    // `box.angle*180/CV_PI`: a float product, then a double quotient.
    r.angle = (f64::from(r.angle * 180.0) / std::f64::consts::PI) as f32;
    r
}

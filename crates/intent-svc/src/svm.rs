//! A linear support-vector classifier trained as liblinear trains scikit-learn's
//! `LinearSVC`: dual coordinate descent with shrinking (Hsieh et al. 2008) for the
//! L2-regularised squared hinge (or hinge) loss, one-vs-rest over the sorted classes, the
//! intercept as an extra feature of value `intercept_scaling` (regularised like the
//! weights, as liblinear does), `class_weight="balanced"` and per-sample weights scaling
//! `C` per sample. Classes train in parallel (rayon).
//!
//! The problem is strictly convex, so the solution is unique: it matches scikit-learn's
//! up to the stopping tolerance, whichever order coordinates are visited in.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::tfidf::SparseRow;

/// The loss.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Loss {
    /// `max(0, 1 - y w.x)^2`: `LinearSVC`'s default.
    SquaredHinge,
    /// `max(0, 1 - y w.x)`.
    Hinge,
}

/// Training settings, named as scikit-learn names them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SvmConfig {
    /// Inverse regularisation strength.
    pub c: f64,
    /// The loss.
    pub loss: Loss,
    /// `class_weight="balanced"`: class `c`'s weight `n / (k * n_c)` scales `C` on the
    /// positive side of its one-vs-rest problem (both sides for two classes), as in
    /// liblinear.
    pub balanced: bool,
    /// Value of the extra intercept feature.
    pub intercept_scaling: f64,
    /// Stopping tolerance on the projected-gradient range.
    pub tol: f64,
    /// Most passes over the data per class.
    pub max_iter: usize,
    /// Seed of the coordinate order.
    pub seed: u64,
}

impl Default for SvmConfig {
    fn default() -> Self {
        SvmConfig {
            c: 1.0,
            loss: Loss::SquaredHinge,
            balanced: false,
            intercept_scaling: 1.0,
            tol: 1e-4,
            max_iter: 1000,
            seed: 0,
        }
    }
}

/// A trained one-vs-rest linear SVM.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinearSvm {
    /// Class labels, sorted.
    pub classes: Vec<String>,
    /// Per model (one per class; one in all for two classes): `dim` weights then the
    /// intercept weight.
    pub weights: Vec<Vec<f64>>,
    /// Feature count.
    pub dim: usize,
    /// The intercept feature's value.
    pub intercept_scaling: f64,
}

fn dot(w: &[f64], x: &SparseRow, bias: f64) -> f64 {
    x.indices
        .iter()
        .zip(&x.values)
        .map(|(&i, v)| w[i as usize] * v)
        .sum::<f64>()
        + w[w.len() - 1] * bias
}

/// The training rows packed into three contiguous arrays (compressed sparse rows), so
/// the solver's random visits read one block of memory rather than a heap allocation per
/// row.
/// How many visits ahead rows are prefetched.
const PREFETCH: usize = 4;

struct Packed {
    /// Row `r` is `idx[start[r]..start[r + 1]]`.
    start: Vec<usize>,
    idx: Vec<u32>,
    val: Vec<f64>,
    /// Features are renumbered by falling frequency, so the weights that most rows read
    /// share a few cache lines: solver feature `j` is the caller's feature `order[j]`.
    order: Vec<u32>,
}

impl Packed {
    fn new(x: &[SparseRow], rows: &[usize], dim: usize) -> Packed {
        let mut count = vec![0u32; dim];
        for &r in rows {
            for &k in &x[r].indices {
                count[k as usize] += 1;
            }
        }
        let mut order: Vec<u32> = (0..dim as u32).collect();
        order.sort_by_key(|&k| std::cmp::Reverse(count[k as usize]));
        let mut rank = vec![0u32; dim];
        for (j, &k) in order.iter().enumerate() {
            rank[k as usize] = j as u32;
        }
        let nnz = rows.iter().map(|&r| x[r].indices.len()).sum();
        let mut p = Packed {
            start: Vec::with_capacity(rows.len() + 1),
            idx: Vec::with_capacity(nnz),
            val: Vec::with_capacity(nnz),
            order,
        };
        p.start.push(0);
        let mut entries: Vec<(u32, f64)> = Vec::new();
        for &r in rows {
            entries.clear();
            entries.extend(
                x[r].indices
                    .iter()
                    .zip(&x[r].values)
                    .map(|(&k, &v)| (rank[k as usize], v)),
            );
            entries.sort_unstable_by_key(|e| e.0);
            p.idx.extend(entries.iter().map(|e| e.0));
            p.val.extend(entries.iter().map(|e| e.1));
            p.start.push(p.idx.len());
        }
        p
    }

    /// Solver weights (plus the intercept weight) in the caller's feature order.
    fn unpermute(&self, w: &[f64]) -> Vec<f64> {
        let mut out = vec![0.0; w.len()];
        for (j, &k) in self.order.iter().enumerate() {
            out[k as usize] = w[j];
        }
        out[w.len() - 1] = w[w.len() - 1];
        out
    }

    fn len(&self) -> usize {
        self.start.len() - 1
    }

    /// Asks the processor to start loading row `r`.
    #[inline]
    fn prefetch(&self, r: usize) {
        let a = self.start[r];
        if a < self.idx.len() {
            prefetch(&self.idx[a]);
            prefetch(&self.val[a]);
            if a + 8 < self.val.len() {
                prefetch(&self.val[a + 8]);
            }
        }
    }

    fn row(&self, r: usize) -> (&[u32], &[f64]) {
        let (a, b) = (self.start[r], self.start[r + 1]);
        (&self.idx[a..b], &self.val[a..b])
    }
}

/// Asks the processor to start loading the cache line holding `r` (a hint, no effect on
/// the program's results; nothing on other architectures).
#[inline]
fn prefetch<T>(r: &T) {
    #[cfg(target_arch = "x86_64")]
    #[allow(unsafe_code)]
    // SAFETY: `r` is a valid reference, and a prefetch never faults or changes memory.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(
            std::ptr::from_ref(r).cast(),
        );
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = r;
}

/// SplitMix64: the coordinate order only has to be a fair shuffle, and this costs a few
/// instructions where a cryptographic generator costs a refill buffer.
struct SplitMix(u64);

impl SplitMix {
    /// Uniform in `0..n` (Lemire's multiply-shift; the bias for `n` far below 2^64 is
    /// negligible for ordering coordinates).
    fn below(&mut self, n: usize) -> usize {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        ((u128::from(z) * n as u128) >> 64) as usize
    }
}

/// One dual coordinate's state, kept together so a visit reads one cache line.
#[derive(Clone, Copy)]
struct Coord {
    alpha: f64,
    /// `Q_ii`: the row's squared norm (with the intercept feature) plus `diag`.
    qd: f64,
    /// The loss's diagonal term `0.5 / C_i` (squared hinge) or the box bound `C_i`
    /// (hinge).
    c: f64,
    y: f64,
}

/// liblinear's `solve_l2r_l1l2_svc` for one binary problem (`y` in {-1, +1}), started
/// from the dual point `alpha` (zeros for a cold start; a neighbouring problem's solution
/// for a warm one, clipped to this problem's box). Returns the weights and the final dual
/// point.
#[allow(clippy::too_many_arguments)]
fn solve(
    x: &Packed,
    y: &[i8],
    cost: &[f64],
    dim: usize,
    bias: f64,
    cfg: &SvmConfig,
    seed: u64,
    alpha: Vec<f64>,
) -> (Vec<f64>, Vec<f64>) {
    match cfg.loss {
        Loss::SquaredHinge => solve_loss::<false>(x, y, cost, dim, bias, cfg, seed, alpha),
        Loss::Hinge => solve_loss::<true>(x, y, cost, dim, bias, cfg, seed, alpha),
    }
}

/// [`solve`] for one loss: `HINGE` boxes `alpha` in `[0, C_i]` with no diagonal term;
/// otherwise (squared hinge) `alpha >= 0` with the diagonal `0.5 / C_i`.
#[allow(clippy::too_many_arguments)]
fn solve_loss<const HINGE: bool>(
    x: &Packed,
    y: &[i8],
    cost: &[f64],
    dim: usize,
    bias: f64,
    cfg: &SvmConfig,
    seed: u64,
    alpha: Vec<f64>,
) -> (Vec<f64>, Vec<f64>) {
    let l = x.len();
    let diag = |c: &Coord| if HINGE { 0.0 } else { c.c };
    let upper = |c: &Coord| if HINGE { c.c } else { f64::INFINITY };
    let mut w = vec![0.0; dim + 1];
    let mut coords: Vec<Coord> = (0..l)
        .map(|i| {
            let c = if HINGE { cost[i] } else { 0.5 / cost[i] };
            let mut co = Coord {
                alpha: 0.0,
                qd: 0.0,
                c,
                y: f64::from(y[i]),
            };
            co.alpha = alpha[i].clamp(0.0, upper(&co));
            co.qd = diag(&co) + x.row(i).1.iter().map(|v| v * v).sum::<f64>() + bias * bias;
            co
        })
        .collect();
    for (i, co) in coords.iter().enumerate() {
        if co.alpha != 0.0 {
            let d = co.alpha * co.y;
            let (idx, val) = x.row(i);
            for (&k, v) in idx.iter().zip(val) {
                w[k as usize] += d * v;
            }
            w[dim] += d * bias;
        }
    }
    let mut index: Vec<u32> = (0..l as u32).collect();
    let mut active = l;
    let (mut pg_max_old, mut pg_min_old) = (f64::INFINITY, f64::NEG_INFINITY);
    let mut rng = SplitMix(seed);
    for _ in 0..cfg.max_iter {
        let (mut pg_max_new, mut pg_min_new) = (f64::NEG_INFINITY, f64::INFINITY);
        for i in 0..active {
            let j = i + rng.below(active - i);
            index.swap(i, j);
        }
        let mut s = 0;
        while s < active {
            let i = index[s] as usize;
            // Rows are visited in random order, so each visit would wait on memory: ask
            // for the coordinate and row offsets two steps ahead and the row one step
            // ahead (its offsets have arrived by then).
            if s + 2 * PREFETCH < active {
                let far = index[s + 2 * PREFETCH] as usize;
                prefetch(&coords[far]);
                prefetch(&x.start[far]);
            }
            if s + PREFETCH < active {
                x.prefetch(index[s + PREFETCH] as usize);
            }
            let (idx, val) = x.row(i);
            // Two partial sums: the additions of a row do not wait on each other.
            let (mut a, mut b) = (0.0, 0.0);
            let mut pairs = idx.chunks_exact(2).zip(val.chunks_exact(2));
            for (k, v) in &mut pairs {
                a += w[k[0] as usize] * v[0];
                b += w[k[1] as usize] * v[1];
            }
            if idx.len() % 2 == 1 {
                a += w[idx[idx.len() - 1] as usize] * val[val.len() - 1];
            }
            let co = &mut coords[i];
            let g = co.y * (a + b + w[dim] * bias) - 1.0 + co.alpha * diag(co);
            let mut pg = 0.0;
            if co.alpha == 0.0 {
                if g > pg_max_old {
                    active -= 1;
                    index.swap(s, active);
                    continue;
                } else if g < 0.0 {
                    pg = g;
                }
            } else if HINGE && co.alpha == upper(co) {
                if g < pg_min_old {
                    active -= 1;
                    index.swap(s, active);
                    continue;
                } else if g > 0.0 {
                    pg = g;
                }
            } else {
                pg = g;
            }
            pg_max_new = pg_max_new.max(pg);
            pg_min_new = pg_min_new.min(pg);
            if pg.abs() > 1e-12 {
                let old = co.alpha;
                co.alpha = (co.alpha - g / co.qd).clamp(0.0, upper(co));
                let d = (co.alpha - old) * co.y;
                for (&k, v) in idx.iter().zip(val) {
                    w[k as usize] += d * v;
                }
                w[dim] += d * bias;
            }
            s += 1;
        }
        if pg_max_new - pg_min_new <= cfg.tol {
            if active == l {
                break;
            }
            active = l;
            pg_max_old = f64::INFINITY;
            pg_min_old = f64::NEG_INFINITY;
            continue;
        }
        pg_max_old = if pg_max_new <= 0.0 {
            f64::INFINITY
        } else {
            pg_max_new
        };
        pg_min_old = if pg_min_new >= 0.0 {
            f64::NEG_INFINITY
        } else {
            pg_min_new
        };
    }
    (w, coords.into_iter().map(|c| c.alpha).collect())
}

impl LinearSvm {
    /// Trains on rows `x` (of `dim` features) with labels `y` and optional per-sample
    /// weights (a corrected sample can weigh 2).
    ///
    /// # Errors
    /// [`Error::Fit`] for mismatched lengths, fewer than two classes, or a non-positive
    /// `C` or weight.
    pub fn fit<S: AsRef<str>>(
        x: &[SparseRow],
        y: &[S],
        sample_weight: Option<&[f64]>,
        dim: usize,
        cfg: &SvmConfig,
    ) -> Result<Self> {
        if x.len() != y.len() || sample_weight.is_some_and(|w| w.len() != x.len()) {
            return Err(Error::Fit {
                reason: format!("{} rows, {} labels", x.len(), y.len()),
            });
        }
        let rows: Vec<usize> = (0..x.len()).collect();
        Ok(Self::fit_rows(x, &rows, y, sample_weight, dim, cfg, None)?.0)
    }

    /// Trains on the rows `rows` of `x` (labels and weights indexed like `x`), each binary
    /// problem started from `warm`'s dual point when given (one vector per model, indexed
    /// like `x`). Returns the model and its dual points, indexed like `x` (zero outside
    /// `rows`), to warm-start a neighbouring problem: the cross-validation folds share
    /// three quarters of their rows.
    pub(crate) fn fit_rows<S: AsRef<str>>(
        x: &[SparseRow],
        rows: &[usize],
        y: &[S],
        sample_weight: Option<&[f64]>,
        dim: usize,
        cfg: &SvmConfig,
        warm: Option<&[Vec<f64>]>,
    ) -> Result<(Self, Vec<Vec<f64>>)> {
        let fail = |reason: String| Err(Error::Fit { reason });
        let positive = |v: f64| v > 0.0 && v.is_finite();
        if !positive(cfg.c) || sample_weight.is_some_and(|w| rows.iter().any(|&i| !positive(w[i])))
        {
            return fail("C and sample weights must be positive".into());
        }
        let mut classes: Vec<String> = rows.iter().map(|&i| y[i].as_ref().to_owned()).collect();
        classes.sort();
        classes.dedup();
        if classes.len() < 2 {
            return fail("at least two classes are needed".into());
        }
        let label: Vec<usize> = rows
            .iter()
            .map(|&i| {
                classes
                    .binary_search_by(|c| c.as_str().cmp(y[i].as_ref()))
                    .unwrap_or(0)
            })
            .collect();
        let k = classes.len();
        let mut class_w = vec![1.0; k];
        if cfg.balanced {
            let mut counts = vec![0usize; k];
            for &c in &label {
                counts[c] += 1;
            }
            for (w, n) in class_w.iter_mut().zip(&counts) {
                *w = rows.len() as f64 / (k as f64 * *n as f64);
            }
        }
        // liblinear's costs (sklearn's `linear.cpp`, `train`): with more than two classes
        // the positive class of each one-vs-rest problem gets `C` times its class weight
        // and every negative plain `C`; with two, each side gets its own class's weight.
        // Sample weights multiply both.
        let base: Vec<f64> = rows
            .iter()
            .map(|&i| cfg.c * sample_weight.map_or(1.0, |w| w[i]))
            .collect();
        let bias = cfg.intercept_scaling;
        let models = if k == 2 { 1 } else { k };
        // liblinear's binary case: the positive class is the second sorted label.
        let targets: Vec<usize> = if k == 2 { vec![1] } else { (0..k).collect() };
        let warm = warm.filter(|w| w.len() == models);
        let packed = Packed::new(x, rows, dim);
        let solved: Vec<(Vec<f64>, Vec<f64>)> = (0..models)
            .into_par_iter()
            .map(|m| {
                let t = targets[m];
                let negative_w = if k == 2 { class_w[0] } else { 1.0 };
                let ys: Vec<i8> = label.iter().map(|&c| if c == t { 1 } else { -1 }).collect();
                let cost: Vec<f64> = ys
                    .iter()
                    .zip(&base)
                    .map(|(&s, b)| b * if s > 0 { class_w[t] } else { negative_w })
                    .collect();
                let alpha = match warm {
                    Some(w) => rows.iter().map(|&i| w[m][i]).collect(),
                    None => vec![0.0; rows.len()],
                };
                let seed = cfg.seed.wrapping_add(m as u64);
                let (w, alpha) = solve(&packed, &ys, &cost, dim, bias, cfg, seed, alpha);
                let mut dual = vec![0.0; x.len()];
                for (&i, a) in rows.iter().zip(alpha) {
                    dual[i] = a;
                }
                (packed.unpermute(&w), dual)
            })
            .collect();
        let (weights, duals) = solved.into_iter().unzip();
        Ok((
            LinearSvm {
                classes,
                weights,
                dim,
                intercept_scaling: bias,
            },
            duals,
        ))
    }

    /// The score of model `m` (one per class; the single one for two classes, positive
    /// for the second class).
    pub fn score(&self, m: usize, x: &SparseRow) -> f64 {
        dot(&self.weights[m], x, self.intercept_scaling)
    }

    /// One score per class (for two classes: minus and plus the single score).
    pub fn decision_function(&self, x: &SparseRow) -> Vec<f64> {
        let scores: Vec<f64> = self
            .weights
            .iter()
            .map(|w| dot(w, x, self.intercept_scaling))
            .collect();
        if self.classes.len() == 2 {
            vec![-scores[0], scores[0]]
        } else {
            scores
        }
    }

    /// The predicted class (the first of equal best scores, as numpy's `argmax`).
    pub fn predict(&self, x: &SparseRow) -> &str {
        let s = self.decision_function(x);
        let best = s
            .iter()
            .enumerate()
            .fold(0, |b, (i, v)| if *v > s[b] { i } else { b });
        &self.classes[best]
    }
}

//! A linear support-vector classifier trained as liblinear trains scikit-learn's
//! `LinearSVC`: dual coordinate descent with shrinking (Hsieh et al. 2008) for the
//! L2-regularised squared hinge (or hinge) loss, one-vs-rest over the sorted classes, the
//! intercept as an extra feature of value `intercept_scaling` (regularised like the
//! weights, as liblinear does), `class_weight="balanced"` and per-sample weights scaling
//! `C` per sample. Classes train in parallel.
//!
//! The problem is strictly convex, so the solution is unique: it matches scikit-learn's
//! up to the stopping tolerance, whichever order coordinates are visited in.

use rand::Rng;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
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
    /// `class_weight="balanced"`: each class's `C` scaled by `n / (k * n_class)`.
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

/// liblinear's `solve_l2r_l1l2_svc` for one binary problem (`y` in {-1, +1}).
fn solve(
    x: &[SparseRow],
    y: &[i8],
    cost: &[f64],
    dim: usize,
    bias: f64,
    cfg: &SvmConfig,
    seed: u64,
) -> Vec<f64> {
    let l = x.len();
    let mut w = vec![0.0; dim + 1];
    let mut alpha = vec![0.0; l];
    let (diag, upper): (Vec<f64>, Vec<f64>) = match cfg.loss {
        Loss::SquaredHinge => (
            cost.iter().map(|c| 0.5 / c).collect(),
            vec![f64::INFINITY; l],
        ),
        Loss::Hinge => (vec![0.0; l], cost.to_vec()),
    };
    let qd: Vec<f64> = x
        .iter()
        .zip(&diag)
        .map(|(xi, d)| d + xi.values.iter().map(|v| v * v).sum::<f64>() + bias * bias)
        .collect();
    let mut index: Vec<usize> = (0..l).collect();
    let mut active = l;
    let (mut pg_max_old, mut pg_min_old) = (f64::INFINITY, f64::NEG_INFINITY);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    for _ in 0..cfg.max_iter {
        let (mut pg_max_new, mut pg_min_new) = (f64::NEG_INFINITY, f64::INFINITY);
        for i in 0..active {
            let j = rng.random_range(i..active);
            index.swap(i, j);
        }
        let mut s = 0;
        while s < active {
            let i = index[s];
            let yi = f64::from(y[i]);
            let g = yi * dot(&w, &x[i], bias) - 1.0 + alpha[i] * diag[i];
            let mut pg = 0.0;
            if alpha[i] == 0.0 {
                if g > pg_max_old {
                    active -= 1;
                    index.swap(s, active);
                    continue;
                } else if g < 0.0 {
                    pg = g;
                }
            } else if alpha[i] == upper[i] {
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
                let old = alpha[i];
                alpha[i] = (alpha[i] - g / qd[i]).clamp(0.0, upper[i]);
                let d = (alpha[i] - old) * yi;
                for (&k, v) in x[i].indices.iter().zip(&x[i].values) {
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
    w
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
        let fail = |reason: String| Err(Error::Fit { reason });
        if x.len() != y.len() || sample_weight.is_some_and(|w| w.len() != x.len()) {
            return fail(format!("{} rows, {} labels", x.len(), y.len()));
        }
        let positive = |v: f64| v > 0.0 && v.is_finite();
        if !positive(cfg.c) || sample_weight.is_some_and(|w| w.iter().any(|v| !positive(*v))) {
            return fail("C and sample weights must be positive".into());
        }
        let mut classes: Vec<String> = y.iter().map(|s| s.as_ref().to_owned()).collect();
        classes.sort();
        classes.dedup();
        if classes.len() < 2 {
            return fail("at least two classes are needed".into());
        }
        let label: Vec<usize> = y
            .iter()
            .map(|s| {
                classes
                    .binary_search_by(|c| c.as_str().cmp(s.as_ref()))
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
                *w = x.len() as f64 / (k as f64 * *n as f64);
            }
        }
        let cost: Vec<f64> = label
            .iter()
            .enumerate()
            .map(|(i, &c)| cfg.c * class_w[c] * sample_weight.map_or(1.0, |w| w[i]))
            .collect();
        let bias = cfg.intercept_scaling;
        let models = if k == 2 { 1 } else { k };
        // liblinear's binary case: the positive class is the second sorted label.
        let targets: Vec<usize> = if k == 2 { vec![1] } else { (0..k).collect() };
        let mut weights = vec![Vec::new(); models];
        std::thread::scope(|scope| {
            let threads = std::thread::available_parallelism()
                .map_or(1, |n| n.get())
                .min(models);
            let chunks: Vec<Vec<usize>> = (0..threads)
                .map(|t| (t..models).step_by(threads).collect())
                .collect();
            let handles: Vec<_> = chunks
                .into_iter()
                .map(|mine| {
                    let (label, cost, targets) = (&label, &cost, &targets);
                    scope.spawn(move || {
                        mine.into_iter()
                            .map(|m| {
                                let ys: Vec<i8> = label
                                    .iter()
                                    .map(|&c| if c == targets[m] { 1 } else { -1 })
                                    .collect();
                                (
                                    m,
                                    solve(
                                        x,
                                        &ys,
                                        cost,
                                        dim,
                                        bias,
                                        cfg,
                                        cfg.seed.wrapping_add(m as u64),
                                    ),
                                )
                            })
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            for h in handles {
                for (m, w) in h.join().expect("training thread") {
                    weights[m] = w;
                }
            }
        });
        Ok(LinearSvm {
            classes,
            weights,
            dim,
            intercept_scaling: bias,
        })
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

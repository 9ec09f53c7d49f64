//! Calibrated confidence: scikit-learn's `CalibratedClassifierCV(method="sigmoid", cv=5,
//! ensemble=True)` over [`LinearSvm`]: five stratified folds (scikit-learn's unshuffled
//! `StratifiedKFold` assignment), an SVM per fold on the other four, a Platt sigmoid per
//! class fitted on the held-out fold's decision values with targets `(N+ + 1) / (N+ + 2)`
//! and `1 / (N- + 2)`, per-class probabilities normalised by their sum, and the five
//! calibrated models' probabilities averaged.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::svm::{LinearSvm, SvmConfig};
use crate::tfidf::SparseRow;

/// A sigmoid `p = 1 / (1 + exp(a f + b))`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Sigmoid {
    /// Slope (negative for a useful score).
    pub a: f64,
    /// Offset.
    pub b: f64,
}

impl Sigmoid {
    fn apply(&self, f: f64) -> f64 {
        let z = self.a * f + self.b;
        // Stable in both tails.
        if z >= 0.0 {
            let e = (-z).exp();
            e / (1.0 + e)
        } else {
            1.0 / (1.0 + z.exp())
        }
    }

    /// Platt's fit (Lin, Lin & Weng 2007: Newton's method with backtracking) of decision
    /// values `f` to binary labels `y`, with Platt's regularised targets.
    pub fn fit(f: &[f64], y: &[bool]) -> Sigmoid {
        Self::fit_from(f, y, None)
    }

    /// [`Sigmoid::fit`] started from `guess` (such as the same class's sigmoid in the
    /// previous cross-validation fold) when its objective is lower than at Platt's
    /// starting point. The objective is convex, so the result is the same minimum, to the
    /// same gradient tolerance, in fewer Newton steps.
    pub fn fit_from(f: &[f64], y: &[bool], guess: Option<Sigmoid>) -> Sigmoid {
        Self::fit_weighted(f, y, None, guess)
    }

    /// [`Sigmoid::fit_from`] with a weight per sample scaling its term of the
    /// log-likelihood, as scikit-learn's `_sigmoid_calibration(..., sample_weight)` (the
    /// regularised targets still come from the unweighted class counts, as there).
    pub fn fit_weighted(
        f: &[f64],
        y: &[bool],
        w: Option<&[f64]>,
        guess: Option<Sigmoid>,
    ) -> Sigmoid {
        let weight = |i: usize| w.map_or(1.0, |w| w[i]);
        let prior1 = y.iter().filter(|v| **v).count() as f64;
        let prior0 = y.len() as f64 - prior1;
        let (hi, lo) = ((prior1 + 1.0) / (prior1 + 2.0), 1.0 / (prior0 + 2.0));
        let t: Vec<f64> = y.iter().map(|&v| if v { hi } else { lo }).collect();
        let (mut a, mut b) = (0.0, ((prior0 + 1.0) / (prior1 + 1.0)).ln());
        // The objective at (a, b), leaving exp(-|a f + b|) per sample in `e` for the
        // gradient and Hessian at the same point: one exp and one log per sample and
        // iteration.
        let objective = |a: f64, b: f64, e: &mut [f64]| -> f64 {
            f.iter()
                .zip(&t)
                .zip(e.iter_mut())
                .enumerate()
                .map(|(i, ((&fi, &ti), ei))| {
                    let z = a * fi + b;
                    *ei = (-z.abs()).exp();
                    weight(i)
                        * if z >= 0.0 {
                            ti * z + (1.0 + *ei).ln()
                        } else {
                            (ti - 1.0) * z + (1.0 + *ei).ln()
                        }
                })
                .sum()
        };
        let mut e = vec![0.0; f.len()];
        let mut trial = vec![0.0; f.len()];
        let mut fval = objective(a, b, &mut e);
        if let Some(g) = guess.filter(|g| g.a.is_finite() && g.b.is_finite()) {
            let at_guess = objective(g.a, g.b, &mut trial);
            if at_guess < fval {
                (a, b, fval) = (g.a, g.b, at_guess);
                std::mem::swap(&mut e, &mut trial);
            }
        }
        let sigma = 1e-12;
        for _ in 0..100 {
            let (mut h11, mut h22, mut h21, mut g1, mut g2) = (sigma, sigma, 0.0, 0.0, 0.0);
            for (i, ((&fi, &ti), &ei)) in f.iter().zip(&t).zip(&e).enumerate() {
                let r = 1.0 / (1.0 + ei);
                let (p, q) = if a * fi + b >= 0.0 {
                    (ei * r, r)
                } else {
                    (r, ei * r)
                };
                let wi = weight(i);
                let d2 = wi * p * q;
                h11 += fi * fi * d2;
                h22 += d2;
                h21 += fi * d2;
                let d1 = wi * (ti - p);
                g1 += fi * d1;
                g2 += d1;
            }
            if g1.abs() < 1e-5 && g2.abs() < 1e-5 {
                break;
            }
            let det = h11 * h22 - h21 * h21;
            let (da, db) = (-(h22 * g1 - h21 * g2) / det, -(-h21 * g1 + h11 * g2) / det);
            let gd = g1 * da + g2 * db;
            let mut step = 1.0;
            let mut moved = false;
            while step >= 1e-10 {
                let (na, nb) = (a + step * da, b + step * db);
                let nf = objective(na, nb, &mut trial);
                if nf < fval + 1e-4 * step * gd {
                    a = na;
                    b = nb;
                    fval = nf;
                    std::mem::swap(&mut e, &mut trial);
                    moved = true;
                    break;
                }
                step /= 2.0;
            }
            if !moved {
                break;
            }
        }
        Sigmoid { a, b }
    }
}

/// scikit-learn's unshuffled `StratifiedKFold(n_splits)` test-fold of every sample.
pub fn stratified_folds<S: AsRef<str>>(y: &[S], n_splits: usize) -> Vec<usize> {
    // Classes numbered in order of first appearance.
    let mut first: Vec<&str> = Vec::new();
    let enc: Vec<usize> = y
        .iter()
        .map(|s| match first.iter().position(|c| *c == s.as_ref()) {
            Some(i) => i,
            None => {
                first.push(s.as_ref());
                first.len() - 1
            }
        })
        .collect();
    let k = first.len();
    let mut sorted = enc.clone();
    sorted.sort_unstable();
    // allocation[fold][class] = count of class among sorted[fold::n_splits]
    let mut allocation = vec![vec![0usize; k]; n_splits];
    for (i, &c) in sorted.iter().enumerate() {
        allocation[i % n_splits][c] += 1;
    }
    let mut folds = vec![0usize; y.len()];
    for c in 0..k {
        let per_fold: Vec<usize> = allocation.iter().map(|fold| fold[c]).collect();
        let mut assigned = per_fold
            .iter()
            .enumerate()
            .flat_map(|(f, &n)| std::iter::repeat_n(f, n));
        for (i, &e) in enc.iter().enumerate() {
            if e == c {
                folds[i] = assigned.next().unwrap_or(0);
            }
        }
    }
    folds
}

/// A calibrated classifier: five SVMs and their per-class sigmoids.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CalibratedSvm {
    /// Class labels, sorted.
    pub classes: Vec<String>,
    /// One fold's SVM and its per-class sigmoids.
    pub members: Vec<(LinearSvm, Vec<Sigmoid>)>,
}

/// A prediction with calibrated confidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Prediction {
    /// The most probable class.
    pub intent: String,
    /// Its calibrated probability.
    pub confidence: f64,
    /// The `k` most probable classes with their probabilities, best first.
    pub top: Vec<(String, f64)>,
}

impl CalibratedSvm {
    /// Fits on rows `x` (of `dim` features) and labels `y` with `folds` folds (5), each
    /// sample weighing `sample_weight[i]` (1 when `None`) in the SVMs and in the sigmoids,
    /// as scikit-learn's `CalibratedClassifierCV.fit(..., sample_weight)`.
    ///
    /// # Errors
    /// [`Error::Fit`] when a class has fewer samples than folds, or as [`LinearSvm::fit`].
    pub fn fit<S: AsRef<str>>(
        x: &[SparseRow],
        y: &[S],
        sample_weight: Option<&[f64]>,
        dim: usize,
        cfg: &SvmConfig,
        folds: usize,
    ) -> Result<Self> {
        if folds < 2 {
            return Err(Error::Fit {
                reason: "at least 2 folds".into(),
            });
        }
        if x.len() != y.len() || sample_weight.is_some_and(|w| w.len() != x.len()) {
            return Err(Error::Fit {
                reason: format!(
                    "{} rows, {} labels, {} weights",
                    x.len(),
                    y.len(),
                    sample_weight.map_or(x.len(), <[f64]>::len)
                ),
            });
        }
        let assignment = stratified_folds(y, folds);
        let mut classes: Vec<String> = y.iter().map(|s| s.as_ref().to_owned()).collect();
        classes.sort();
        classes.dedup();
        for c in &classes {
            let n = y.iter().filter(|s| s.as_ref() == c).count();
            if n < folds {
                return Err(Error::Fit {
                    reason: format!("class {c:?} has {n} samples, fewer than {folds} folds"),
                });
            }
        }
        let mut members = Vec::with_capacity(folds);
        // Each fold starts from the dual point its samples last had: the folds share three
        // quarters of their rows, and from the third fold on every row has been trained
        // before, so far fewer passes reach the same tolerance.
        let mut duals: Option<Vec<Vec<f64>>> = None;
        let mut previous: Vec<Sigmoid> = Vec::new();
        for f in 0..folds {
            let train: Vec<usize> = (0..x.len()).filter(|&i| assignment[i] != f).collect();
            let held: Vec<usize> = (0..x.len()).filter(|&i| assignment[i] == f).collect();
            let (svm, dual) =
                LinearSvm::fit_rows(x, &train, y, sample_weight, dim, cfg, duals.as_deref())?;
            match &mut duals {
                None => duals = Some(dual),
                Some(last) => {
                    for (l, d) in last.iter_mut().zip(&dual) {
                        for &i in &train {
                            l[i] = d[i];
                        }
                    }
                }
            }
            // One problem at a time over all held-out rows (its weights stay in cache):
            // the decision values, then the sigmoid fitted to them. With two classes the
            // single problem's score is the second class's.
            let held_class: Vec<&str> = held.iter().map(|&i| y[i].as_ref()).collect();
            let held_weight: Option<Vec<f64>> =
                sample_weight.map(|w| held.iter().map(|&i| w[i]).collect());
            let positive: Vec<usize> = if classes.len() == 2 {
                vec![1]
            } else {
                (0..classes.len()).collect()
            };
            let sigmoids: Vec<Sigmoid> = positive
                .par_iter()
                .enumerate()
                .map(|(m, &c)| {
                    let f: Vec<f64> = held.iter().map(|&i| svm.score(m, &x[i])).collect();
                    let t: Vec<bool> = held_class.iter().map(|&h| h == classes[c]).collect();
                    Sigmoid::fit_weighted(&f, &t, held_weight.as_deref(), previous.get(m).copied())
                })
                .collect();
            previous.clone_from(&sigmoids);
            members.push((svm, sigmoids));
        }
        Ok(CalibratedSvm { classes, members })
    }

    /// Calibrated probabilities of every class (sum 1).
    pub fn predict_proba(&self, x: &SparseRow) -> Vec<f64> {
        let k = self.classes.len();
        let mut mean = vec![0.0; k];
        for (svm, sig) in &self.members {
            let s = svm.decision_function(x);
            let mut p: Vec<f64> = if k == 2 {
                let p1 = sig[0].apply(s[1]);
                vec![1.0 - p1, p1]
            } else {
                (0..k).map(|c| sig[c].apply(s[c])).collect()
            };
            let sum: f64 = p.iter().sum();
            if k > 2 {
                if sum > 0.0 {
                    p.iter_mut().for_each(|v| *v /= sum);
                } else {
                    p.iter_mut().for_each(|v| *v = 1.0 / k as f64);
                }
            }
            for (m, v) in mean.iter_mut().zip(&p) {
                *m += v / self.members.len() as f64;
            }
        }
        mean
    }

    /// The most probable class, its confidence and the `k` best alternatives.
    pub fn predict(&self, x: &SparseRow, k: usize) -> Prediction {
        let p = self.predict_proba(x);
        let mut order: Vec<usize> = (0..p.len()).collect();
        order.sort_by(|&a, &b| p[b].total_cmp(&p[a]).then(a.cmp(&b)));
        let top: Vec<(String, f64)> = order
            .iter()
            .take(k.max(1))
            .map(|&i| (self.classes[i].clone(), p[i]))
            .collect();
        Prediction {
            intent: top[0].0.clone(),
            confidence: top[0].1,
            top,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_follow_scikit_learn() {
        // StratifiedKFold(3).split(X, ["a"]*4 + ["b"]*2) -> test folds [0, 0, 1, 2, 1, 2]?
        // Checked by construction: every class spread over the folds evenly.
        let y = ["a", "a", "a", "a", "b", "b", "b"];
        let f = stratified_folds(&y, 3);
        for c in ["a", "b"] {
            let counts: Vec<usize> = (0..3)
                .map(|k| {
                    y.iter()
                        .zip(&f)
                        .filter(|(s, ff)| **s == c && **ff == k)
                        .count()
                })
                .collect();
            assert!(
                counts.iter().max().unwrap() - counts.iter().min().unwrap() <= 1,
                "{c}: {counts:?}"
            );
        }
    }

    #[test]
    fn sigmoid_separates() {
        let f = [-3.0, -2.0, -1.0, 1.0, 2.0, 3.0];
        let y = [false, false, false, true, true, true];
        let s = Sigmoid::fit(&f, &y);
        assert!(s.a < 0.0);
        assert!(s.apply(3.0) > 0.7 && s.apply(-3.0) < 0.3);
    }
}

//! Confident learning (Northcutt et al., 2021) with cleanlab's semantics: which given
//! labels are probably wrong, from out-of-sample predicted probabilities.
//!
//! Operation for operation as cleanlab 2.9.0's `filter.find_label_issues(labels,
//! pred_probs, filter_by="prune_by_noise_rate")` (defaults: `min_examples_per_class=1`,
//! `frac_noise=1.0`) and `rank.get_label_quality_scores(method="self_confidence")`,
//! including numpy's pairwise summation, its round-half-to-even and integer truncations;
//! checked against cleanlab itself (`scripts/golden/cleanlab.sh`, `tests/cleanlab.rs`).
//!
//! ```
//! use whet_hard_mining::label_issues::{find_label_issues, self_confidence};
//! // Four samples of class 0, four of class 1; sample 3 is labelled 0 but looks like a 1.
//! let labels = [0, 0, 0, 0, 1, 1, 1, 1];
//! let probs = [
//!     [0.9, 0.1], [0.8, 0.2], [0.85, 0.15], [0.1, 0.9],
//!     [0.2, 0.8], [0.1, 0.9], [0.15, 0.85], [0.3, 0.7],
//! ];
//! let probs: Vec<Vec<f64>> = probs.iter().map(|r| r.to_vec()).collect();
//! assert_eq!(self_confidence(&labels, &probs)?[3], 0.1);
//! let issues = find_label_issues(&labels, &probs)?;
//! assert_eq!(issues.iter().filter(|&&x| x).count(), 1);
//! assert!(issues[3]);
//! # Ok::<(), whet_hard_mining::Error>(())
//! ```

use whet_eval_metrics::numpy::{mean_f64, sum_f64};

use crate::error::{Error, Result};

/// cleanlab's `FLOATING_POINT_COMPARISON`.
const FLOATING_POINT_COMPARISON: f64 = 1e-6;
/// cleanlab's `CONFIDENT_THRESHOLDS_LOWER_BOUND`.
const CONFIDENT_THRESHOLDS_LOWER_BOUND: f64 = 2.0 * FLOATING_POINT_COMPARISON;
/// cleanlab's `TINY_VALUE`.
const TINY_VALUE: f64 = 1e-100;

/// Checks the shapes: one row of `K >= 1` probabilities per label, every label below `K`.
fn check(labels: &[usize], probs: &[Vec<f64>]) -> Result<usize> {
    if labels.len() != probs.len() {
        return Err(Error::Input {
            what: "labels",
            reason: format!(
                "{} labels but {} rows of predicted probabilities",
                labels.len(),
                probs.len()
            ),
        });
    }
    let k = probs.first().map_or(0, Vec::len);
    if k == 0 {
        return Err(Error::Input {
            what: "predicted probabilities",
            reason: "none given".into(),
        });
    }
    for (i, (row, &label)) in probs.iter().zip(labels).enumerate() {
        if row.len() != k {
            return Err(Error::Input {
                what: "predicted probabilities",
                reason: format!(
                    "sample {i}: {} probabilities, the first sample has {k}",
                    row.len()
                ),
            });
        }
        if label >= k {
            return Err(Error::Input {
                what: "labels",
                reason: format!("sample {i}: label {label}, but there are only {k} classes"),
            });
        }
    }
    Ok(k)
}

/// Label quality by self-confidence: the predicted probability of each sample's given label
/// (cleanlab's `get_label_quality_scores(method="self_confidence")`). Low is suspicious.
///
/// # Errors
/// [`Error::Input`] when the shapes disagree or a label has no column.
pub fn self_confidence(labels: &[usize], probs: &[Vec<f64>]) -> Result<Vec<f64>> {
    check(labels, probs)?;
    Ok(labels.iter().zip(probs).map(|(&l, p)| p[l]).collect())
}

/// Per-class confidence thresholds: the mean predicted probability of class `k` over the
/// samples labelled `k` (2 for a class nobody has), at least `2e-6`
/// (`count.get_confident_thresholds`).
///
/// # Errors
/// As [`self_confidence`].
pub fn confident_thresholds(labels: &[usize], probs: &[Vec<f64>]) -> Result<Vec<f64>> {
    let k = check(labels, probs)?;
    Ok(thresholds(labels, probs, k))
}

/// [`confident_thresholds`] of checked inputs with `k` classes.
fn thresholds(labels: &[usize], probs: &[Vec<f64>], k: usize) -> Vec<f64> {
    (0..k)
        .map(|c| {
            let of_class: Vec<f64> = labels
                .iter()
                .zip(probs)
                .filter(|(l, _)| **l == c)
                .map(|(_, p)| p[c])
                .collect();
            if of_class.is_empty() {
                2.0
            } else {
                mean_f64(&of_class)
            }
            .max(CONFIDENT_THRESHOLDS_LOWER_BOUND)
        })
        .collect()
}

/// numpy's `argmax`: the first index of the largest value.
fn argmax<T: PartialOrd + Copy>(row: &[T]) -> usize {
    let mut best = 0;
    for (i, &v) in row.iter().enumerate() {
        if v > row[best] {
            best = i;
        }
    }
    best
}

/// The confident joint `C[given][true]`: how many samples labelled `given` are confidently
/// of class `true`, its diagonal at least 1, and, with `calibrate`, scaled so row `i` sums
/// to the number of samples labelled `i` (`count.compute_confident_joint`).
///
/// # Errors
/// As [`self_confidence`].
pub fn confident_joint(
    labels: &[usize],
    probs: &[Vec<f64>],
    calibrate: bool,
) -> Result<Vec<Vec<i64>>> {
    let k = check(labels, probs)?;
    Ok(joint(labels, probs, k, calibrate))
}

/// [`confident_joint`] of checked inputs with `k` classes.
fn joint(labels: &[usize], probs: &[Vec<f64>], k: usize, calibrate: bool) -> Vec<Vec<i64>> {
    let thresholds = thresholds(labels, probs, k);
    let mut cj = vec![vec![0i64; k]; k];
    for (&given, row) in labels.iter().zip(probs) {
        let confident: Vec<bool> = row
            .iter()
            .zip(&thresholds)
            .map(|(&p, &t)| p >= t - FLOATING_POINT_COMPARISON)
            .collect();
        let n = confident.iter().filter(|&&c| c).count();
        if n == 0 {
            continue;
        }
        let guess = if n > 1 {
            argmax(row)
        } else {
            argmax(&confident)
        };
        cj[given][guess] += 1;
    }
    for (i, row) in cj.iter_mut().enumerate() {
        row[i] = row[i].max(1);
    }
    if !calibrate {
        return cj;
    }
    let mut counts = vec![0i64; k];
    for &l in labels {
        counts[l] += 1;
    }
    // (cj.T / clip(cj.sum(axis=1)) * label_counts).T, then scaled to sum to n.
    let mut cal: Vec<f64> = Vec::with_capacity(k * k);
    for (i, row) in cj.iter().enumerate() {
        let total = row.iter().sum::<i64>() as f64;
        for &v in row {
            cal.push(v as f64 / total.max(TINY_VALUE) * counts[i] as f64);
        }
    }
    // numpy sums the matrix in memory order, which is column-major here (cleanlab's joint
    // is a transposed confusion matrix).
    let by_column: Vec<f64> = (0..k)
        .flat_map(|j| (0..k).map(move |i| (i, j)))
        .map(|(i, j)| cal[i * k + j])
        .collect();
    let total = sum_f64(&by_column).max(TINY_VALUE);
    let n = labels.len() as f64;
    for v in &mut cal {
        *v = *v / total * n;
    }
    cal.chunks(k).map(round_preserving_sum).collect()
}

/// cleanlab's `round_preserving_sum`: rounds (half to even) and then moves the entries
/// with the largest (or smallest) rounding residuals until the integers sum to the rounded
/// float sum.
///
/// Equal residuals are common (equal counts in a row). numpy's `argsort` orders them
/// stably for up to 16 classes (insertion sort), so the later index goes first here as
/// there; beyond 16 its order depends on the machine (introsort, or x86-simd-sort's
/// sorting networks on AVX-512), and a tie may be broken the other way: on the fixture's
/// 25-class case that moves one flagged sample in 570.
fn round_preserving_sum(floats: &[f64]) -> Vec<i64> {
    let mut ints: Vec<f64> = floats.iter().map(|v| v.round_ties_even()).collect();
    let orig_sum = sum_f64(floats).round_ties_even();
    let mut int_sum = sum_f64(&ints).round_ties_even();
    while (int_sum - orig_sum).abs() > FLOATING_POINT_COMPARISON {
        let diff = (orig_sum - int_sum).round_ties_even();
        let increment = if diff < 0.0 { -1.0 } else { 1.0 };
        let changes = (diff.abs() as usize).min(floats.len());
        let residual: Vec<f64> = floats.iter().zip(&ints).map(|(f, i)| f - i).collect();
        let mut order: Vec<usize> = (0..floats.len()).collect();
        order.sort_by(|&a, &b| residual[a].total_cmp(&residual[b]));
        if increment > 0.0 {
            order.reverse();
        }
        for &i in order.iter().take(changes) {
            ints[i] += increment;
        }
        int_sum = sum_f64(&ints).round_ties_even();
    }
    ints.into_iter().map(|v| v as i64).collect()
}

/// `filter._keep_at_least_n_per_class` on the transposed confident joint, with `n = 1` and
/// `frac_noise = 1`: the prune counts `P[true][given]`.
fn prune_counts(cj: &[Vec<i64>], n: i64) -> Vec<Vec<i64>> {
    let k = cj.len();
    // prune_count_matrix = confident_joint.T
    let m: Vec<Vec<f64>> = (0..k)
        .map(|i| (0..k).map(|j| cj[j][i] as f64).collect())
        .collect();
    let diag: Vec<f64> = (0..k).map(|i| m[i][i]).collect();
    let new_diag: Vec<f64> = diag.iter().map(|&d| d.max(n as f64)).collect();
    let mut out = vec![vec![0f64; k]; k];
    for j in 0..k {
        let diff = new_diag[j] - diag[j];
        let nonzero = (0..k).filter(|&i| m[i][j] != 0.0).count() as f64;
        let rates = (nonzero - 1.0).max(1.0);
        for i in 0..k {
            out[i][j] = (m[i][j] - diff / rates).max(0.0);
        }
    }
    for i in 0..k {
        out[i][i] = new_diag[i];
    }
    // _reduce_prune_counts with frac_noise 1 leaves the values and truncates to integers;
    // round_preserving_row_totals of integers changes nothing.
    out.iter()
        .map(|row| row.iter().map(|&v| v.trunc() as i64).collect())
        .collect()
}

/// The samples whose given label is probably wrong: cleanlab's `find_label_issues` with
/// `filter_by="prune_by_noise_rate"` (its default). For each class `k` and each other
/// class `j`, as many of the samples labelled `k` as the confident joint counts as truly
/// `j` are flagged, those with the largest margin `p[j] - p[k]` first; samples whose given
/// label is (within 1e-6) their most probable one are never flagged.
///
/// `probs` should be out-of-sample (cross-validated) predictions, as cleanlab requires.
///
/// # Errors
/// As [`self_confidence`].
pub fn find_label_issues(labels: &[usize], probs: &[Vec<f64>]) -> Result<Vec<bool>> {
    let k = check(labels, probs)?;
    let cj = joint(labels, probs, k, true);
    let prune = prune_counts(&cj, 1);
    let mut mask = vec![false; labels.len()];
    for class in 0..k {
        let members: Vec<usize> = (0..labels.len()).filter(|&i| labels[i] == class).collect();
        if members.len() <= 1 {
            continue; // min_examples_per_class
        }
        for j in (0..k).filter(|&j| j != class) {
            let to_prune = prune[j][class];
            if to_prune <= 0 {
                continue;
            }
            let margin: Vec<f64> = members
                .iter()
                .map(|&i| probs[i][j] - probs[i][class])
                .collect();
            let mut order: Vec<usize> = (0..members.len()).collect();
            order.sort_by(|&a, &b| margin[b].total_cmp(&margin[a]));
            for &o in order.iter().take(to_prune as usize) {
                mask[members[o]] = true;
            }
        }
    }
    // _reduce_issues: a sample predicted as its given label is not an issue.
    for (i, (&l, row)) in labels.iter().zip(probs).enumerate() {
        let mut bumped = row.clone();
        bumped[l] += FLOATING_POINT_COMPARISON;
        if argmax(&bumped) == l {
            mask[i] = false;
        }
    }
    Ok(mask)
}

/// The flagged samples, most suspicious (lowest self-confidence) first; ties keep index
/// order.
///
/// # Errors
/// As [`self_confidence`].
pub fn ranked_label_issues(labels: &[usize], probs: &[Vec<f64>]) -> Result<Vec<usize>> {
    let mask = find_label_issues(labels, probs)?;
    let scores = self_confidence(labels, probs)?;
    let mut flagged: Vec<usize> = (0..labels.len()).filter(|&i| mask[i]).collect();
    flagged.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    Ok(flagged)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_preserving_sum_keeps_the_total() {
        // What cleanlab's numpy code returns (ties go to the later index).
        assert_eq!(round_preserving_sum(&[0.4, 0.4, 0.2]), vec![0, 1, 0]);
        assert_eq!(round_preserving_sum(&[2.5, 2.5, 5.0]), vec![2, 3, 5]);
        assert_eq!(
            round_preserving_sum(&[1.3, 2.3, 3.3, 0.1]),
            vec![2, 2, 3, 0]
        );
    }

    #[test]
    fn shapes_are_checked() {
        let probs = vec![vec![0.5, 0.5], vec![1.0]];
        assert!(matches!(
            self_confidence(&[0, 1], &probs),
            Err(Error::Input { .. })
        ));
        assert!(matches!(
            self_confidence(&[0, 2], &[vec![0.5, 0.5], vec![0.5, 0.5]]),
            Err(Error::Input { .. })
        ));
        assert!(matches!(
            find_label_issues(&[0], &[]),
            Err(Error::Input { .. })
        ));
    }

    #[test]
    fn clean_labels_have_no_issues_and_a_swap_is_found() {
        let mut labels = Vec::new();
        let mut probs = Vec::new();
        for i in 0..30 {
            let c = i % 3;
            let mut row = vec![0.1; 3];
            row[c] = 0.8;
            labels.push(c);
            probs.push(row);
        }
        assert!(
            find_label_issues(&labels, &probs)
                .unwrap()
                .iter()
                .all(|&x| !x)
        );
        labels[4] = 0; // truly 1
        let mask = find_label_issues(&labels, &probs).unwrap();
        assert_eq!(mask.iter().filter(|&&x| x).count(), 1);
        assert!(mask[4]);
        assert_eq!(ranked_label_issues(&labels, &probs).unwrap(), vec![4]);
    }
}

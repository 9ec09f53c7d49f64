//! Classification reports matching scikit-learn's `classification_report`,
//! `confusion_matrix` and `brier_score_loss`, plus expected calibration error.

use std::collections::BTreeSet;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::numpy::{mean_f64, sum_f64};

/// Precision, recall, F1 and support of one class (or an average of classes).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct ClassScores {
    /// `tp / (tp + fp)`, 0 when nothing was predicted as the class.
    pub precision: f64,
    /// `tp / (tp + fn)`, 0 when the class has no true samples.
    pub recall: f64,
    /// `2 tp / (2 tp + fp + fn)`, 0 when the denominator is.
    pub f1: f64,
    /// True samples of the class (for averages: of all classes averaged).
    pub support: usize,
}

/// One misclassified sample.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Misclassified {
    /// Its index in the inputs.
    pub index: usize,
    /// The true label.
    pub truth: String,
    /// The predicted label.
    pub predicted: String,
}

/// scikit-learn's `classification_report` (with `zero_division=0`) over the labels that
/// occur in either input, sorted, and the confusion matrix in the same label order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassificationReport {
    /// Labels, sorted (byte order, as Python sorts strings by code point).
    pub labels: Vec<String>,
    /// Scores per label, in `labels` order.
    pub per_class: Vec<ClassScores>,
    /// Fraction of samples predicted correctly (equal to micro-averaged F1 here).
    pub accuracy: f64,
    /// Unweighted mean over labels.
    pub macro_avg: ClassScores,
    /// Mean over labels weighted by support.
    pub weighted_avg: ClassScores,
    /// Micro average (global counts): precision = recall = F1 = accuracy here, since
    /// every label is included.
    pub micro_avg: ClassScores,
    /// `confusion[i][j]`: samples of true label `labels[i]` predicted as `labels[j]`.
    pub confusion: Vec<Vec<usize>>,
    /// Every misclassified sample, in input order.
    pub misclassified: Vec<Misclassified>,
}

fn divide(num: f64, den: f64) -> f64 {
    if den == 0.0 { 0.0 } else { num / den }
}

/// The report of `y_pred` against `y_true`.
///
/// ```
/// use whet_eval_metrics::classification::classification_report;
/// let r = classification_report(&["bayad", "sukli", "bayad"], &["bayad", "bayad", "bayad"])?;
/// assert_eq!(r.labels, ["bayad", "sukli"]);
/// assert!((r.per_class[0].precision - 2.0 / 3.0).abs() < 1e-12);
/// assert_eq!(r.confusion, [[2, 0], [1, 0]]);
/// # Ok::<(), whet_eval_metrics::Error>(())
/// ```
///
/// # Errors
/// [`Error::LengthMismatch`] when the inputs differ in length.
pub fn classification_report<T: AsRef<str>, P: AsRef<str>>(
    y_true: &[T],
    y_pred: &[P],
) -> Result<ClassificationReport> {
    if y_true.len() != y_pred.len() {
        return Err(Error::LengthMismatch {
            what: "classification_report",
            left_name: "true labels",
            left: y_true.len(),
            right_name: "predictions",
            right: y_pred.len(),
        });
    }
    let labels: Vec<String> = y_true
        .iter()
        .map(AsRef::as_ref)
        .chain(y_pred.iter().map(AsRef::as_ref))
        .collect::<BTreeSet<&str>>()
        .into_iter()
        .map(str::to_owned)
        .collect();
    let index = |s: &str| labels.binary_search_by(|l| l.as_str().cmp(s)).unwrap_or(0);
    let k = labels.len();
    let mut confusion = vec![vec![0usize; k]; k];
    let mut misclassified = Vec::new();
    for (i, (t, p)) in y_true.iter().zip(y_pred).enumerate() {
        let (t, p) = (t.as_ref(), p.as_ref());
        confusion[index(t)][index(p)] += 1;
        if t != p {
            misclassified.push(Misclassified {
                index: i,
                truth: t.to_owned(),
                predicted: p.to_owned(),
            });
        }
    }
    let mut per_class = Vec::with_capacity(k);
    for c in 0..k {
        let tp = confusion[c][c] as f64;
        let true_sum: usize = confusion[c].iter().sum();
        let pred_sum: usize = confusion.iter().map(|row| row[c]).sum();
        per_class.push(ClassScores {
            precision: divide(tp, pred_sum as f64),
            recall: divide(tp, true_sum as f64),
            f1: divide(2.0 * tp, (true_sum + pred_sum) as f64),
            support: true_sum,
        });
    }
    let n = y_true.len();
    let correct = n - misclassified.len();
    let accuracy = divide(correct as f64, n as f64);
    let column = |f: fn(&ClassScores) -> f64| -> Vec<f64> { per_class.iter().map(f).collect() };
    let (p, r, f) = (
        column(|s| s.precision),
        column(|s| s.recall),
        column(|s| s.f1),
    );
    let macro_avg = ClassScores {
        precision: mean_f64(&p),
        recall: mean_f64(&r),
        f1: mean_f64(&f),
        support: n,
    };
    let weights: Vec<f64> = per_class.iter().map(|s| s.support as f64).collect();
    let weighted = |x: &[f64]| -> f64 {
        let scale = sum_f64(&weights);
        if scale == 0.0 {
            mean_f64(x)
        } else {
            let products: Vec<f64> = x.iter().zip(&weights).map(|(a, w)| a * w).collect();
            sum_f64(&products) / scale
        }
    };
    let weighted_avg = ClassScores {
        precision: weighted(&p),
        recall: weighted(&r),
        f1: weighted(&f),
        support: n,
    };
    let micro_avg = ClassScores {
        precision: accuracy,
        recall: accuracy,
        f1: accuracy,
        support: n,
    };
    Ok(ClassificationReport {
        labels,
        per_class,
        accuracy,
        macro_avg,
        weighted_avg,
        micro_avg,
        confusion,
        misclassified,
    })
}

impl fmt::Display for ClassificationReport {
    /// The layout of scikit-learn's text report (4 decimals).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let width = self
            .labels
            .iter()
            .map(String::len)
            .chain([12])
            .max()
            .unwrap_or(12);
        writeln!(
            f,
            "{:>width$} {:>9} {:>9} {:>9} {:>9}",
            "", "precision", "recall", "f1-score", "support"
        )?;
        writeln!(f)?;
        for (label, s) in self.labels.iter().zip(&self.per_class) {
            writeln!(
                f,
                "{label:>width$} {:>9.4} {:>9.4} {:>9.4} {:>9}",
                s.precision, s.recall, s.f1, s.support
            )?;
        }
        writeln!(f)?;
        writeln!(
            f,
            "{:>width$} {:>9} {:>9} {:>9.4} {:>9}",
            "accuracy", "", "", self.accuracy, self.macro_avg.support
        )?;
        for (name, s) in [
            ("macro avg", &self.macro_avg),
            ("weighted avg", &self.weighted_avg),
        ] {
            writeln!(
                f,
                "{name:>width$} {:>9.4} {:>9.4} {:>9.4} {:>9}",
                s.precision, s.recall, s.f1, s.support
            )?;
        }
        Ok(())
    }
}

fn check_probs(what: &'static str, probs: &[Vec<f64>], k: usize) -> Result<()> {
    for (i, row) in probs.iter().enumerate() {
        if row.len() != k {
            return Err(Error::InvalidValue {
                what,
                index: i,
                reason: format!("{} probabilities for {k} labels", row.len()),
            });
        }
        if let Some(p) = row.iter().find(|p| !(0.0..=1.0).contains(*p)) {
            return Err(Error::InvalidValue {
                what,
                index: i,
                reason: format!("probability {p} outside [0, 1]"),
            });
        }
    }
    Ok(())
}

/// Multiclass Brier score: the mean over samples of `sum_k (p_k - [y = k])^2`, halved
/// when there are fewer than three labels: scikit-learn's `brier_score_loss(y_true,
/// probs, labels=labels)` (version 1.7 and later, `scale_by_half="auto"`). `probs[i][k]`
/// is the probability of `labels[k]`, in any label order.
///
/// # Errors
/// [`Error::LengthMismatch`], or [`Error::InvalidValue`] for a row of the wrong width, a
/// probability outside `[0, 1]` or a true label not in `labels`.
pub fn brier_score<T: AsRef<str>, L: AsRef<str>>(
    y_true: &[T],
    probs: &[Vec<f64>],
    labels: &[L],
) -> Result<f64> {
    if y_true.len() != probs.len() {
        return Err(Error::LengthMismatch {
            what: "brier_score",
            left_name: "true labels",
            left: y_true.len(),
            right_name: "probability rows",
            right: probs.len(),
        });
    }
    let k = labels.len();
    check_probs("brier_score", probs, k)?;
    // Columns in sorted label order, as scikit-learn's LabelBinarizer lays them out.
    let mut order: Vec<usize> = (0..k).collect();
    order.sort_by(|&a, &b| labels[a].as_ref().cmp(labels[b].as_ref()));
    let mut per_sample = Vec::with_capacity(y_true.len());
    for (i, (t, row)) in y_true.iter().zip(probs).enumerate() {
        let Some(truth) = labels.iter().position(|l| l.as_ref() == t.as_ref()) else {
            return Err(Error::InvalidValue {
                what: "brier_score",
                index: i,
                reason: format!("true label {:?} is not among the labels", t.as_ref()),
            });
        };
        let sq: Vec<f64> = order
            .iter()
            .map(|&c| {
                let d = f64::from(u8::from(c == truth)) - row[c];
                d * d
            })
            .collect();
        per_sample.push(sum_f64(&sq));
    }
    let score = mean_f64(&per_sample);
    Ok(if k < 3 { score / 2.0 } else { score })
}

/// Expected calibration error (Guo et al. 2017) of top-label confidence: samples are
/// binned by their highest probability into `bins` equal-width bins over `(0, 1]`
/// (a bin holds `lo < conf <= hi`), and the bins' `|accuracy - mean confidence|` are
/// averaged, weighted by the share of samples in each. The predicted label is the first
/// highest-probability column.
///
/// # Errors
/// As [`brier_score`]; [`Error::InvalidValue`] also when `bins` is 0.
pub fn expected_calibration_error<T: AsRef<str>, L: AsRef<str>>(
    y_true: &[T],
    probs: &[Vec<f64>],
    labels: &[L],
    bins: usize,
) -> Result<f64> {
    if y_true.len() != probs.len() {
        return Err(Error::LengthMismatch {
            what: "expected_calibration_error",
            left_name: "true labels",
            left: y_true.len(),
            right_name: "probability rows",
            right: probs.len(),
        });
    }
    if bins == 0 {
        return Err(Error::InvalidValue {
            what: "expected_calibration_error",
            index: 0,
            reason: "0 bins".into(),
        });
    }
    check_probs("expected_calibration_error", probs, labels.len())?;
    let mut count = vec![0usize; bins];
    let mut conf_sum = vec![0.0f64; bins];
    let mut correct = vec![0usize; bins];
    for (t, row) in y_true.iter().zip(probs) {
        let (best, conf) = row
            .iter()
            .enumerate()
            .fold(
                (0, f64::NEG_INFINITY),
                |acc, (i, &p)| if p > acc.1 { (i, p) } else { acc },
            );
        // Bin b holds (b / bins, (b + 1) / bins]; confidence 0 goes to the first bin.
        let b = ((conf * bins as f64).ceil() as usize).clamp(1, bins) - 1;
        count[b] += 1;
        conf_sum[b] += conf;
        if labels.get(best).is_some_and(|l| l.as_ref() == t.as_ref()) {
            correct[b] += 1;
        }
    }
    let n = y_true.len();
    if n == 0 {
        return Ok(0.0);
    }
    let mut ece = 0.0;
    for b in 0..bins {
        if count[b] > 0 {
            let c = count[b] as f64;
            ece += (c / n as f64) * (correct[b] as f64 / c - conf_sum[b] / c).abs();
        }
    }
    Ok(ece)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perfectly_calibrated_bins_have_zero_error() {
        // Confidence 0.75 in one bin, right 3 times out of 4.
        let probs = vec![vec![0.75, 0.25]; 4];
        let y = ["a", "a", "a", "b"];
        let ece = expected_calibration_error(&y, &probs, &["a", "b"], 10).unwrap();
        assert!(ece.abs() < 1e-12, "{ece}");
        let wrong =
            expected_calibration_error(&["b", "b", "b", "b"], &probs, &["a", "b"], 10).unwrap();
        assert!((wrong - 0.75).abs() < 1e-12);
    }

    #[test]
    fn brier_rejects_bad_probabilities() {
        let err = brier_score(&["a"], &[vec![1.5, -0.5]], &["a", "b"]).unwrap_err();
        assert!(matches!(err, Error::InvalidValue { index: 0, .. }));
    }

    #[test]
    fn display_has_one_line_per_label() {
        let r = classification_report(&["x", "y"], &["x", "x"]).unwrap();
        let text = r.to_string();
        assert!(
            text.contains("macro avg") && text.lines().filter(|l| l.contains('x')).count() == 1
        );
    }
}

#[cfg(feature = "plot")]
mod png {
    use std::path::Path;

    use plotters::prelude::*;

    use super::ClassificationReport;
    use crate::error::Result;

    impl ClassificationReport {
        /// Draws the confusion matrix as a PNG heat map at `out` (rows: true labels,
        /// columns: predicted labels; each cell shaded by its share of the row and
        /// labelled with its count), written atomically.
        ///
        /// # Errors
        /// [`crate::Error::Core`] when no font is found for the labels (install
        /// `fonts-dejavu-core` or set `WHET_PLOT_FONT`) or the file cannot be written.
        pub fn confusion_png(&self, out: &Path) -> Result<()> {
            let k = self.labels.len().max(1);
            let cell = 48u32.max(480 / k as u32);
            let side = cell * k as u32;
            let size = (side + 160, side + 140);
            whet_core::run::render_png(out, size, |root| {
                let mut chart = ChartBuilder::on(root)
                    .caption(
                        "confusion matrix (rows: true, columns: predicted)",
                        ("sans-serif", 16),
                    )
                    .margin(10)
                    .x_label_area_size(60)
                    .y_label_area_size(120)
                    .build_cartesian_2d(0..k, 0..k)
                    .map_err(|e| e.to_string())?;
                let label = |i: &usize| self.labels.get(*i).cloned().unwrap_or_default();
                chart
                    .configure_mesh()
                    .disable_mesh()
                    .x_labels(k)
                    .y_labels(k)
                    .x_label_formatter(&label)
                    .y_label_formatter(&|i: &usize| label(&(k - 1 - i.min(&(k - 1)))))
                    .label_style(("sans-serif", 12))
                    .draw()
                    .map_err(|e| e.to_string())?;
                for (i, row) in self.confusion.iter().enumerate() {
                    let total: usize = row.iter().sum();
                    for (j, &n) in row.iter().enumerate() {
                        let share = if total == 0 {
                            0.0
                        } else {
                            n as f64 / total as f64
                        };
                        let shade = (255.0 * (1.0 - 0.8 * share)) as u8;
                        let y = k - 1 - i;
                        chart
                            .draw_series(std::iter::once(Rectangle::new(
                                [(j, y), (j + 1, y + 1)],
                                RGBColor(shade, shade, 255).filled(),
                            )))
                            .map_err(|e| e.to_string())?;
                        let colour = if share > 0.6 { WHITE } else { BLACK };
                        chart
                            .draw_series(std::iter::once(Text::new(
                                n.to_string(),
                                (j, y + 1),
                                ("sans-serif", 14).into_font().color(&colour),
                            )))
                            .map_err(|e| e.to_string())?;
                    }
                }
                Ok(())
            })?;
            Ok(())
        }
    }
}

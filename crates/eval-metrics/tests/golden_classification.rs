//! Classification reports against scikit-learn 1.9.1 (`tests/golden/classification.jsonl`,
//! made by `scripts/golden/eval-metrics.sh`).

mod common;

use common::{close, count, golden, strings};
use whet_eval_metrics::classification::{brier_score, classification_report};

#[test]
fn reports_match_scikit_learn() {
    let cases = golden("classification");
    assert!(cases.len() >= 1000);
    for (i, case) in cases.iter().enumerate() {
        let (y_true, y_pred) = (strings(&case["y_true"]), strings(&case["y_pred"]));
        let got = classification_report(&y_true, &y_pred).unwrap();
        assert_eq!(got.labels, strings(&case["present"]), "case {i}");
        let want = &case["report"];
        for (label, s) in got.labels.iter().zip(&got.per_class) {
            let w = &want[label.as_str()];
            let what = format!("case {i} {label}");
            close(s.precision, &w["precision"], &what);
            close(s.recall, &w["recall"], &what);
            close(s.f1, &w["f1-score"], &what);
            close(s.support as f64, &w["support"], &what);
        }
        close(
            got.accuracy,
            &want["accuracy"],
            &format!("case {i} accuracy"),
        );
        for (name, s) in [
            ("macro avg", got.macro_avg),
            ("weighted avg", got.weighted_avg),
        ] {
            let w = &want[name];
            let what = format!("case {i} {name}");
            close(s.precision, &w["precision"], &what);
            close(s.recall, &w["recall"], &what);
            close(s.f1, &w["f1-score"], &what);
            close(s.support as f64, &w["support"], &what);
        }
        let confusion: Vec<Vec<usize>> = case["confusion"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r.as_array().unwrap().iter().map(count).collect())
            .collect();
        assert_eq!(got.confusion, confusion, "case {i}");
        assert_eq!(
            got.misclassified.len(),
            y_true.iter().zip(&y_pred).filter(|(a, b)| a != b).count()
        );
        let probs: Vec<Vec<f64>> = case["probs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                r.as_array()
                    .unwrap()
                    .iter()
                    .map(|v| v.as_f64().unwrap())
                    .collect()
            })
            .collect();
        let brier = brier_score(&y_true, &probs, &strings(&case["labels"])).unwrap();
        close(brier, &case["brier"], &format!("case {i} brier"));
    }
}

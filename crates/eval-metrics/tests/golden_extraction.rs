//! Extraction metrics against donut-python 1.0.9's `JSONParseEvaluator` over zss 1.2.0
//! and nltk 3.9.2 (`tests/golden/donut.jsonl`, made by `scripts/golden/eval-metrics.sh`).

mod common;

use common::{close, golden};
use serde_json::Value;
use whet_eval_metrics::extraction::{donut_f1, donut_flatten, donut_ted_accuracy};

#[test]
fn donut_matches_json_parse_evaluator() {
    let cases = golden("donut");
    assert!(cases.len() >= 1000);
    let mut scored = 0;
    for (i, case) in cases.iter().enumerate() {
        let docs = case["docs"].as_array().unwrap();
        let preds: Vec<Value> = docs.iter().map(|d| d["pred"].clone()).collect();
        let answers: Vec<Value> = docs.iter().map(|d| d["answer"].clone()).collect();
        for (k, (answer, flat)) in answers
            .iter()
            .zip(case["flat"].as_array().unwrap())
            .enumerate()
        {
            let want: Vec<(String, String)> = flat
                .as_array()
                .unwrap()
                .iter()
                .map(|p| {
                    (
                        p[0].as_str().unwrap().to_owned(),
                        p[1].as_str().unwrap().to_owned(),
                    )
                })
                .collect();
            assert_eq!(donut_flatten(answer), want, "case {i} doc {k}: {answer}");
        }
        let f1 = donut_f1(&preds, &answers);
        match &case["f1"] {
            Value::Null => assert!(f1.f1.is_none(), "case {i}: {f1:?}"),
            want => close(f1.f1.unwrap(), want, &format!("case {i} f1")),
        }
        for (k, want) in case["ted_acc"].as_array().unwrap().iter().enumerate() {
            close(
                donut_ted_accuracy(&preds[k], &answers[k]),
                want,
                &format!(
                    "case {i} doc {k} tree-edit accuracy: {} / {}",
                    preds[k], answers[k]
                ),
            );
            scored += 1;
        }
    }
    assert!(scored >= 1000);
}

#[test]
fn anls_matches_the_anls_package() {
    let cases = golden("anls");
    assert!(cases.len() >= 1000);
    for (i, case) in cases.iter().enumerate() {
        let pred = case["pred"].as_str().unwrap();
        let golds: Vec<&str> = case["golds"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| g.as_str().unwrap())
            .collect();
        let threshold = case["threshold"].as_f64().unwrap();
        let got = whet_eval_metrics::extraction::anls_score(pred, &golds, threshold).unwrap();
        close(
            got,
            &case["score"],
            &format!("case {i}: {pred:?} vs {golds:?}"),
        );
    }
}

#[test]
fn anls_star_matches_the_official_package() {
    use whet_eval_metrics::extraction::{AnlsValue, anls_star};
    let mut cases = 0;
    let mut failures = Vec::new();
    for (i, case) in golden("anls_star").iter().enumerate() {
        let (gt_text, pred_text) = (case["gt"].as_str().unwrap(), case["pred"].as_str().unwrap());
        let gt = AnlsValue::from_json(gt_text).unwrap();
        let pred = AnlsValue::from_json(pred_text).unwrap();
        match (&case["score"], anls_star(&gt, &pred)) {
            (Value::Object(_), Err(_)) => {}
            (want, Ok(v)) if want.as_f64().is_some_and(|w| (w - v).abs() <= 1e-9) => {}
            (want, got) => failures.push(format!(
                "case {i}: got {got:?}, reference {want}\n  gt {gt_text}\n  pred {pred_text}"
            )),
        }
        cases += 1;
    }
    assert!(cases >= 1000);
    assert!(
        failures.is_empty(),
        "{} of {cases} differ:\n{}",
        failures.len(),
        failures[..failures.len().min(5)].join("\n")
    );
}

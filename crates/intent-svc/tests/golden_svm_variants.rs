//! The linear SVM's other settings against scikit-learn 1.9.1's `LinearSVC` on CLINC150
//! features (`scripts/golden/intent_svc.py`): `class_weight="balanced"` with per-sample
//! weights on an imbalanced subset, where liblinear weights only the positive side of each
//! one-vs-rest problem, and the hinge loss. Predictions on the 5,500 test texts must agree
//! on at least 99.5%, and decision values stay close.

#![allow(clippy::print_stdout, clippy::print_stderr)] // reports what it measured

mod common;

use serde_json::Value;
use whet_intent_svc::{LinearSvm, Loss, SparseRow, SvmConfig, TfidfVectorizer};

struct Clinc {
    x: Vec<SparseRow>,
    y: Vec<String>,
    test: Vec<SparseRow>,
    dim: usize,
}

fn clinc() -> Clinc {
    let (train, test) = (common::train(), common::test());
    let texts: Vec<&str> = train.iter().map(|(t, _)| t.as_str()).collect();
    let v = TfidfVectorizer::fit(common::bigram_config(), &texts).unwrap();
    Clinc {
        x: texts.iter().map(|t| v.transform(t)).collect(),
        y: train.into_iter().map(|(_, l)| l).collect(),
        test: test.iter().map(|(t, _)| v.transform(t)).collect(),
        dim: v.vocabulary().len(),
    }
}

fn compare(name: &str, svm: &LinearSvm, test: &[SparseRow], want: &Value) {
    let expected: Vec<&str> = want["predictions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    let agree = test
        .iter()
        .zip(&expected)
        .filter(|(x, e)| svm.predict(x) == **e)
        .count();
    let mut worst = 0.0f64;
    for (x, d) in test
        .iter()
        .zip(want["decision_first_20"].as_array().unwrap())
    {
        for (got, want) in svm.decision_function(x).iter().zip(d.as_array().unwrap()) {
            worst = worst.max((got - want.as_f64().unwrap()).abs());
        }
    }
    eprintln!(
        "{name}: agreement {agree}/{}; decision values max |diff| {worst:.2e}",
        expected.len()
    );
    assert!(
        agree as f64 >= 0.995 * expected.len() as f64,
        "{name}: only {agree} of {} predictions agree",
        expected.len()
    );
    // Both solvers stop at a projected-gradient range of 1e-4, so the weights differ at
    // that level (measured: 2.5e-3 for the weighted problem). Weighting the negative side
    // too, as this crate once did, moves them by 8e-2 and breaks the agreement (5,431).
    assert!(worst < 1e-2, "{name}: decision values differ by {worst}");
}

#[test]
fn balanced_and_weighted_and_hinge_agree_with_scikit_learn() {
    let golden = common::read_json("tests/golden/svm_variants.json");
    let c = clinc();
    let subset: Vec<usize> = golden["subset"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i.as_u64().unwrap() as usize)
        .collect();
    let weights: Vec<f64> = golden["sample_weight"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_f64().unwrap())
        .collect();
    let xs: Vec<_> = subset.iter().map(|&i| c.x[i].clone()).collect();
    let ys: Vec<&str> = subset.iter().map(|&i| c.y[i].as_str()).collect();
    let balanced = SvmConfig {
        balanced: true,
        ..SvmConfig::default()
    };
    let svm = LinearSvm::fit(&xs, &ys, Some(&weights), c.dim, &balanced).unwrap();
    compare(
        "balanced + sample weights",
        &svm,
        &c.test,
        &golden["balanced_weighted"],
    );

    let hinge = SvmConfig {
        loss: Loss::Hinge,
        ..SvmConfig::default()
    };
    let svm = LinearSvm::fit(&c.x, &c.y, None, c.dim, &hinge).unwrap();
    compare("hinge", &svm, &c.test, &golden["hinge"]);
}

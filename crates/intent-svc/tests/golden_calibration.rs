//! Calibrated confidence against scikit-learn 1.9.1's `CalibratedClassifierCV(LinearSVC,
//! method="sigmoid", cv=5)` on CLINC150: the same stratified folds, predictions agreeing
//! on at least 99.5% of the 5,500 test texts, and a Brier score within 0.01.

#![allow(clippy::print_stdout, clippy::print_stderr)] // reports what it measured

mod common;

use whet_intent_svc::{CalibratedSvm, SvmConfig, TfidfVectorizer, stratified_folds};

#[test]
fn calibration_matches_scikit_learn_on_clinc150() {
    let golden = common::read_json("tests/golden/tfidf.json");
    let want = &golden["calibration"];
    let (train, test) = (common::train(), common::test());
    let y: Vec<&str> = train.iter().map(|(_, l)| l.as_str()).collect();
    let folds: Vec<usize> = want["folds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_u64().unwrap() as usize)
        .collect();
    assert_eq!(stratified_folds(&y, 5), folds, "fold assignment");

    let texts: Vec<&str> = train.iter().map(|(t, _)| t.as_str()).collect();
    let v = TfidfVectorizer::fit(common::bigram_config(), &texts).unwrap();
    let x: Vec<_> = texts.iter().map(|t| v.transform(t)).collect();
    let model =
        CalibratedSvm::fit(&x, &y, None, v.vocabulary().len(), &SvmConfig::default(), 5).unwrap();

    let classes = &model.classes;
    let mut brier = 0.0;
    let mut agree = 0;
    let mut correct = 0;
    let sk: Vec<&str> = want["predictions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    for (k, (t, label)) in test.iter().enumerate() {
        let p = model.predict_proba(&v.transform(t));
        brier += classes
            .iter()
            .zip(&p)
            .map(|(c, pi)| (pi - f64::from(u8::from(c == label))).powi(2))
            .sum::<f64>();
        let pred = model.predict(&v.transform(t), 3);
        agree += usize::from(pred.intent == sk[k]);
        correct += usize::from(&pred.intent == label);
        assert!((pred.top.iter().map(|(_, p)| p).sum::<f64>()) <= 1.0 + 1e-9);
    }
    let brier = brier / test.len() as f64;
    let sk_brier = want["brier"].as_f64().unwrap();
    eprintln!(
        "agreement {agree}/{}; accuracy {:.4} (scikit-learn {:.4}); Brier {brier:.4} (scikit-learn {sk_brier:.4})",
        test.len(),
        correct as f64 / test.len() as f64,
        want["accuracy"].as_f64().unwrap()
    );
    assert!(
        agree as f64 >= 0.995 * test.len() as f64,
        "only {agree} predictions agree"
    );
    assert!(
        (brier - sk_brier).abs() <= 0.01,
        "Brier {brier} vs {sk_brier}"
    );
}

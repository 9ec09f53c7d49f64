//! The linear SVM against scikit-learn 1.9.1's `LinearSVC` on CLINC150: same features
//! (the exactly reproducible vectoriser configuration), same hyper-parameters; predictions
//! on the 5,500 test texts must agree on at least 99.5% and accuracy within 0.3 points.

#![allow(clippy::print_stdout, clippy::print_stderr)] // reports what it measured

mod common;

use whet_intent_svc::{LinearSvm, SvmConfig, TfidfVectorizer};

#[test]
fn linear_svm_agrees_with_scikit_learn_on_clinc150() {
    let golden = common::read_json("tests/golden/tfidf.json");
    let (train, test) = (common::train(), common::test());
    let texts: Vec<&str> = train.iter().map(|(t, _)| t.as_str()).collect();
    let v = TfidfVectorizer::fit(common::bigram_config(), &texts).unwrap();
    let x: Vec<_> = texts.iter().map(|t| v.transform(t)).collect();
    let y: Vec<&str> = train.iter().map(|(_, l)| l.as_str()).collect();
    let svm = LinearSvm::fit(&x, &y, None, v.vocabulary().len(), &SvmConfig::default()).unwrap();
    let want: Vec<&str> = golden["svm"]["predictions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    let got: Vec<String> = test
        .iter()
        .map(|(t, _)| svm.predict(&v.transform(t)).to_owned())
        .collect();
    let agree = got
        .iter()
        .zip(&want)
        .filter(|(a, b)| a.as_str() == **b)
        .count();
    let acc =
        got.iter().zip(&test).filter(|(p, (_, l))| *p == l).count() as f64 / test.len() as f64;
    let sk_acc = golden["svm"]["accuracy"].as_f64().unwrap();
    eprintln!(
        "agreement {agree}/{} ({:.4}); accuracy {acc:.4} vs scikit-learn {sk_acc:.4}",
        want.len(),
        agree as f64 / want.len() as f64
    );
    assert!(
        agree as f64 >= 0.995 * want.len() as f64,
        "only {agree} of {} predictions agree",
        want.len()
    );
    assert!((acc - sk_acc).abs() <= 0.003, "accuracy {acc} vs {sk_acc}");
}

//! The whole model: deterministic fitting, a lossless model file, refusal of other
//! formats and versions, and the out-of-scope threshold.

mod common;

use whet_intent_svc::{Error, IntentModel, SvmConfig, TfidfConfig};

fn fit() -> IntentModel {
    let tfidf = TfidfConfig {
        ngram_range: (1, 2),
        max_features: None,
        ..TfidfConfig::default()
    };
    IntentModel::fit(&common::samples(), tfidf, &SvmConfig::default()).unwrap()
}

#[test]
fn fitting_is_deterministic_and_sensible() {
    let (a, b) = (fit(), fit());
    assert_eq!(a, b);
    assert_eq!(a.predict("what is my account balance", 2).intent, "balance");
    assert_eq!(a.predict("send money to my sister", 2).intent, "transfer");
    let p = a.predict("will it be sunny tomorrow", 3);
    assert_eq!(p.intent, "weather");
    assert_eq!(p.top.len(), 3);
    assert!((p.top.iter().map(|(_, c)| c).sum::<f64>() - 1.0).abs() < 1e-9);
}

#[test]
fn model_file_round_trips_and_refuses_other_versions() {
    let m = fit();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("intent.json");
    m.save(&path).unwrap();
    let back = IntentModel::load(&path).unwrap();
    assert_eq!(back, m);
    for text in ["balance", "transfer money", "rain", "unrelated words here"] {
        assert_eq!(back.predict(text, 3), m.predict(text, 3));
    }
    let text =
        std::fs::read_to_string(&path)
            .unwrap()
            .replacen("\"version\":1", "\"version\":2", 1);
    std::fs::write(&path, text).unwrap();
    let err = IntentModel::load(&path).unwrap_err();
    assert!(
        matches!(err, Error::ModelFile { .. }) && err.to_string().contains("version 2"),
        "{err}"
    );
    std::fs::write(&path, b"{\"format\": \"something-else\"}").unwrap();
    assert!(matches!(
        IntentModel::load(&path),
        Err(Error::ModelFile { .. })
    ));
}

#[test]
fn threshold_sends_unsure_messages_out_of_scope() {
    let mut m = fit();
    m.threshold = Some(0.99);
    assert_eq!(
        m.predict("completely unrelated gibberish zzz", 1).intent,
        "oos"
    );
    m.threshold = Some(0.0);
    assert_ne!(m.predict("what is my balance", 1).intent, "oos");
}

#[test]
fn tuned_threshold_separates_known_from_unknown_messages() {
    let mut m = fit();
    let validation = [
        ("what is my balance today", "balance"),
        ("send money to my sister", "transfer"),
        ("is it raining in manila", "weather"),
        ("recommend a good pizza recipe", "oos"),
        ("who won the basketball game", "oos"),
    ];
    let scores = m.tune_threshold(&validation).unwrap();
    assert_eq!(scores.len(), 101);
    let chosen = m.threshold.unwrap();
    let best = scores
        .iter()
        .map(|s| s.balanced)
        .fold(f64::NEG_INFINITY, f64::max);
    let at = scores.iter().find(|s| s.threshold == chosen).unwrap();
    assert_eq!(at.balanced, best, "the chosen threshold scores best");
    // The lowest threshold with that score: ties go low.
    assert!(
        scores
            .iter()
            .filter(|s| s.threshold < chosen)
            .all(|s| s.balanced < best)
    );
    // At threshold 0 nothing is out of scope; at 1 everything is.
    assert_eq!(
        (scores[0].oos_recall, scores[0].in_scope_accuracy > 0.0),
        (0.0, true)
    );
    assert_eq!(
        (scores[100].oos_recall, scores[100].in_scope_accuracy),
        (1.0, 0.0)
    );
    // Without out-of-scope samples there is nothing to tune against.
    assert!(matches!(
        m.tune_threshold(&validation[..3]),
        Err(Error::Fit { .. })
    ));
}

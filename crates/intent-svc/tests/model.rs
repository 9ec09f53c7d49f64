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

#[test]
fn a_sample_of_weight_two_trains_as_two_copies_of_it() {
    use whet_intent_svc::{LinearSvm, TfidfVectorizer};
    let samples = common::samples();
    let texts: Vec<&str> = samples.iter().map(|(t, _)| t.as_ref()).collect();
    let labels: Vec<&str> = samples.iter().map(|(_, l)| l.as_ref()).collect();
    let v = TfidfVectorizer::fit(TfidfConfig::default(), &texts).unwrap();
    let rows: Vec<_> = texts.iter().map(|t| v.transform(t)).collect();
    let dim = v.vocabulary().len();
    // A tight tolerance, so both solvers reach the same optimum to 1e-9.
    let cfg = SvmConfig {
        tol: 1e-10,
        max_iter: 100_000,
        ..SvmConfig::default()
    };
    let k = 3;
    let mut weights = vec![1.0; rows.len()];
    weights[k] = 2.0;
    let weighted = LinearSvm::fit(&rows, &labels, Some(&weights), dim, &cfg).unwrap();
    let mut dup_rows = rows.clone();
    dup_rows.push(rows[k].clone());
    let mut dup_labels = labels.clone();
    dup_labels.push(labels[k]);
    let duplicated = LinearSvm::fit(&dup_rows, &dup_labels, None, dim, &cfg).unwrap();
    let plain = LinearSvm::fit(&rows, &labels, None, dim, &cfg).unwrap();
    let mut moved = 0.0f64;
    for row in &rows {
        let (a, b, c) = (
            weighted.decision_function(row),
            duplicated.decision_function(row),
            plain.decision_function(row),
        );
        for ((a, b), c) in a.iter().zip(&b).zip(&c) {
            assert!((a - b).abs() < 1e-7, "weight 2 {a} vs duplicate {b}");
            moved = moved.max((a - c).abs());
        }
    }
    assert!(moved > 1e-3, "the weight changed nothing ({moved})");
}

#[test]
fn a_dataset_trains_with_its_corrections_weighing_two() {
    use whet_intent_svc::{Dataset, IntentConfig, Sample};
    let mut data = Dataset {
        samples: common::samples()
            .iter()
            .map(|(t, l)| Sample::new(t.as_str(), l.as_str()))
            .collect(),
    };
    let config = IntentConfig::default();
    let plain = IntentModel::fit_dataset(&data, &config).unwrap();
    data.samples[3].corrected = true;
    let corrected = IntentModel::fit_dataset(&data, &config).unwrap();
    assert_ne!(plain.classifier, corrected.classifier);
    let pairs: Vec<(&str, &str)> = data
        .samples
        .iter()
        .map(|s| (s.text.as_str(), s.intent.as_str()))
        .collect();
    let explicit =
        IntentModel::fit_weighted(&pairs, Some(&data.sample_weights()), &config).unwrap();
    assert_eq!(explicit, corrected);
    // The config's out-of-scope label and folds are used, and checked.
    let custom = IntentConfig {
        out_of_scope_label: "none_of_these".into(),
        calibration_folds: 3,
        ..IntentConfig::default()
    };
    let m = IntentModel::fit_dataset(&data, &custom).unwrap();
    assert_eq!(m.out_of_scope_label, "none_of_these");
    assert_eq!(m.classifier.members.len(), 3);
    let too_many = IntentConfig {
        calibration_folds: 1000,
        ..IntentConfig::default()
    };
    assert!(IntentModel::fit_dataset(&data, &too_many).is_err());
}

//! The retraining pipeline: buffered interactions reach storage every `flush_every`, a
//! retraining happens after `retrain_after`, the first model is deployed, and a worse model
//! (beyond the tolerance) never is.

mod common;

use whet_intent_svc::{
    Dataset, IntentConfig, IntentModel, Pipeline, PipelineConfig, Sample, Source, SvmConfig,
    TfidfConfig,
};

fn sample(text: String, intent: &str) -> Sample {
    Sample {
        text,
        intent: intent.into(),
        source: Source::Live,
        confidence: None,
        corrected: false,
    }
}

fn stream() -> Vec<Sample> {
    (0..40)
        .flat_map(|k| {
            common::INTENTS.iter().map(move |(i, texts)| {
                sample(
                    format!("{} {}", texts[k % 6], ["", "please", "now", "today"][k % 4])
                        .trim()
                        .to_owned(),
                    i,
                )
            })
        })
        .collect()
}

fn eval() -> Dataset {
    Dataset {
        samples: common::INTENTS
            .iter()
            .flat_map(|(i, texts)| texts.iter().map(move |t| sample(t.to_string(), i)))
            .collect(),
    }
}

#[test]
fn retrains_and_deploys_only_when_not_worse() {
    let dir = tempfile::tempdir().unwrap();
    let config = PipelineConfig {
        flush_every: 20,
        retrain_after: 100,
        model: IntentConfig {
            tfidf: TfidfConfig {
                ngram_range: (1, 2),
                max_features: None,
                ..TfidfConfig::default()
            },
            ..IntentConfig::default()
        },
        ..PipelineConfig::default()
    };
    let mut p = Pipeline::open(
        dir.path().join("data"),
        dir.path().join("registry"),
        eval(),
        config.clone(),
    )
    .unwrap();
    let mut decisions = Vec::new();
    for (n, s) in stream().into_iter().enumerate() {
        if let Some(d) = p.record(s).unwrap() {
            decisions.push((n + 1, d));
        }
        if n + 1 == 45 {
            // 40 flushed (two full buffers), 5 still buffered.
            assert_eq!(p.stored().unwrap().samples.len(), 40);
        }
    }
    assert_eq!(decisions.len(), 1, "one retraining after 100 samples");
    let (at, first) = &decisions[0];
    assert_eq!(*at, 100);
    assert!(first.promoted && first.baseline.is_none(), "{first:?}");
    let good = p.production().unwrap().unwrap();

    // A model trained on scrambled labels is worse by more than the tolerance: refused.
    let scrambled: Vec<(String, String)> = stream()
        .into_iter()
        .enumerate()
        .map(|(k, s)| (s.text, common::INTENTS[(k * 7 + 1) % 3].0.to_owned()))
        .collect();
    let bad = IntentModel::fit(
        &scrambled,
        config.model.tfidf.clone(),
        &SvmConfig::default(),
    )
    .unwrap();
    let d = p.deploy(&bad).unwrap();
    assert!(!d.promoted, "{d:?}");
    assert!(d.candidate_value < d.baseline.unwrap().1 - 0.05);
    assert_eq!(
        p.production().unwrap().unwrap(),
        good,
        "production unchanged"
    );

    // An equally good model is deployed.
    let d = p.deploy(&good).unwrap();
    assert!(d.promoted, "{d:?}");
}

#[test]
fn a_retrained_model_keeps_the_tuned_threshold() {
    let dir = tempfile::tempdir().unwrap();
    let config = PipelineConfig {
        flush_every: 10,
        retrain_after: 60,
        ..PipelineConfig::default()
    };
    let mut p = Pipeline::open(
        dir.path().join("data"),
        dir.path().join("registry"),
        eval(),
        config,
    )
    .unwrap();
    let mut stream = stream().into_iter();
    for s in stream.by_ref().take(60) {
        p.record(s).unwrap();
    }
    let first = p
        .production()
        .unwrap()
        .expect("the first model is deployed");
    assert_eq!(first.threshold, None);
    // A threshold tuned (here: set) on production...
    let mut tuned = first.clone();
    tuned.threshold = Some(0.37);
    assert!(p.deploy(&tuned).unwrap().promoted);
    // ...survives the next retraining.
    let mut decision = None;
    for s in stream.by_ref().take(60) {
        decision = p.record(s).unwrap().or(decision);
    }
    let decision = decision.expect("a second retraining ran");
    assert!(
        decision.promoted,
        "the retrained model is in production: {decision:?}"
    );
    assert_eq!(
        (decision.candidate, decision.baseline.map(|(v, _)| v)),
        (3, Some(2)),
        "version 3 replaced the tuned version 2"
    );
    let retrained = p.production().unwrap().unwrap();
    assert_eq!(retrained.threshold, Some(0.37));
}

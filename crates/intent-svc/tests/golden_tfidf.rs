//! The TF-IDF vectoriser against scikit-learn 1.9.1 on CLINC150
//! (`tests/golden/tfidf.json`, made by `scripts/golden/intent-svc.sh` from
//! `../shared/data/clinc150/data_full.json`): the same vocabulary in the same order, idf
//! within 1e-12, and the same rows.

#![allow(clippy::print_stdout, clippy::print_stderr)] // reports what it measured

mod common;

use whet_intent_svc::{DocFreq, TfidfConfig, TfidfVectorizer};

fn clinc_train() -> Vec<String> {
    common::train().into_iter().map(|(t, _)| t).collect()
}

#[test]
fn tfidf_matches_scikit_learn_on_clinc150() {
    let golden = common::read_json("tests/golden/tfidf.json");
    let train = clinc_train();
    assert_eq!(train.len() as u64, golden["train_size"].as_u64().unwrap());
    let tests: Vec<&str> = golden["test_texts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    for (name, want) in golden["configs"].as_object().unwrap() {
        let p = &want["params"];
        let config = TfidfConfig {
            ngram_range: (
                p["ngram_range"][0].as_u64().unwrap() as usize,
                p["ngram_range"][1].as_u64().unwrap() as usize,
            ),
            max_features: p["max_features"].as_u64().map(|m| m as usize),
            min_df: DocFreq::Count(p["min_df"].as_u64().unwrap() as usize),
            sublinear_tf: p["sublinear_tf"].as_bool().unwrap(),
            ..TfidfConfig::default()
        };
        let v = TfidfVectorizer::fit(config.clone(), &train).unwrap();
        let vocab: Vec<&str> = want["vocabulary"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t.as_str().unwrap())
            .collect();
        assert_eq!(v.vocabulary().len(), vocab.len(), "{name}: vocabulary size");
        let idf: std::collections::HashMap<&str, f64> = vocab
            .iter()
            .copied()
            .zip(
                want["idf"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|x| x.as_f64().unwrap()),
            )
            .collect();
        if config.max_features.is_none() {
            // No cut: the vocabulary is fully determined and must be identical, in order.
            for (i, (got, want)) in v.vocabulary().iter().zip(&vocab).enumerate() {
                assert_eq!(got, want, "{name}: feature {i}");
            }
        } else {
            // With max_features, scikit-learn ranks terms with numpy's unstable argsort, so
            // among terms tied at the cut-off count its choice depends on numpy's sort
            // implementation (SIMD or not). Every term above the cut-off must be in both
            // vocabularies, and the tied ones must fill the same number of places.
            let mut counts: std::collections::HashMap<String, u64> =
                std::collections::HashMap::new();
            for d in &train {
                for t in config.analyze(d) {
                    *counts.entry(t).or_insert(0) += 1;
                }
            }
            let cutoff = vocab.iter().map(|t| counts[*t]).min().unwrap();
            let ours: std::collections::HashSet<&str> =
                v.vocabulary().iter().map(String::as_str).collect();
            let theirs: std::collections::HashSet<&str> = vocab.iter().copied().collect();
            for (t, &c) in &counts {
                if c > cutoff {
                    assert!(
                        ours.contains(t.as_str()) && theirs.contains(t.as_str()),
                        "{name}: {t:?} ({c} > {cutoff}) missing"
                    );
                }
            }
            for t in &ours {
                assert!(counts[*t] >= cutoff, "{name}: {t:?} below the cut-off");
            }
            let tied_ours = ours.iter().filter(|t| counts[**t] == cutoff).count();
            let tied_theirs = theirs.iter().filter(|t| counts[**t] == cutoff).count();
            assert_eq!(tied_ours, tied_theirs, "{name}: tied terms kept");
            let differ = ours.difference(&theirs).count();
            eprintln!(
                "{name}: cut-off count {cutoff}; {differ} of {} tied terms chosen differently",
                tied_ours
            );
        }
        for (t, got) in v.vocabulary().iter().zip(v.idf()) {
            if let Some(want) = idf.get(t.as_str()) {
                assert!(
                    (got - want).abs() <= 1e-12,
                    "{name}: idf of {t:?}: {got} vs {want}"
                );
            }
        }
        if config.max_features.is_some() {
            continue; // rows index the (tie-dependent) vocabulary; compared for the exact config
        }
        for (k, (text, row)) in tests
            .iter()
            .zip(want["rows"].as_array().unwrap())
            .enumerate()
        {
            let got = v.transform(text);
            let idx: Vec<u32> = row[0]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_u64().unwrap() as u32)
                .collect();
            assert_eq!(got.indices, idx, "{name}: row {k} ({text:?}) features");
            for (g, w) in got.values.iter().zip(row[1].as_array().unwrap()) {
                assert!(
                    (g - w.as_f64().unwrap()).abs() <= 1e-12,
                    "{name}: row {k} value {g} vs {w}"
                );
            }
        }
    }
}

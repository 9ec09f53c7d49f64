//! What the integration tests share: a tiny three-intent set, and CLINC150 with the
//! golden files for the scikit-learn parity tests.
#![allow(dead_code)] // each test binary uses its own part

use serde_json::Value;
use whet_intent_svc::{DocFreq, TfidfConfig};

/// A JSON file, relative to this crate.
pub fn read_json(path: &str) -> Value {
    let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(path);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

/// `(text, intent)` rows of CLINC150's `data_full.json` under these keys, in order.
pub fn clinc(keys: &[&str]) -> Vec<(String, String)> {
    let data = read_json("../../../shared/data/clinc150/data_full.json");
    keys.iter()
        .flat_map(|k| data[*k].as_array().unwrap().clone())
        .map(|r| {
            (
                r[0].as_str().unwrap().to_owned(),
                r[1].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// The training rows: in-scope then out-of-scope, as the golden script reads them.
pub fn train() -> Vec<(String, String)> {
    clinc(&["train", "oos_train"])
}

/// The 5,500 test rows: in-scope then out-of-scope.
pub fn test() -> Vec<(String, String)> {
    clinc(&["test", "oos_test"])
}

/// The exactly reproducible vectoriser setting of the parity tests: n-grams 1-2,
/// `min_df` 2, sublinear tf, no feature cap.
pub fn bigram_config() -> TfidfConfig {
    TfidfConfig {
        ngram_range: (1, 2),
        max_features: None,
        min_df: DocFreq::Count(2),
        sublinear_tf: true,
        ..TfidfConfig::default()
    }
}

/// Three small intents with six messages each.
pub const INTENTS: [(&str, [&str; 6]); 3] = [
    (
        "balance",
        [
            "what is my balance",
            "how much money do i have",
            "show my account balance",
            "balance please",
            "check my balance now",
            "tell me my balance",
        ],
    ),
    (
        "transfer",
        [
            "send money to mom",
            "transfer 500 to savings",
            "move funds to checking",
            "wire money abroad",
            "transfer cash to john",
            "send 20 dollars to ana",
        ],
    ),
    (
        "weather",
        [
            "will it rain today",
            "what is the weather",
            "is it sunny in manila",
            "forecast for tomorrow",
            "how hot is it",
            "weather in cebu",
        ],
    ),
];

/// [`INTENTS`] as `(text, intent)` samples.
pub fn samples() -> Vec<(String, String)> {
    INTENTS
        .iter()
        .flat_map(|(label, texts)| {
            texts
                .iter()
                .map(move |t| (t.to_string(), label.to_string()))
        })
        .collect()
}

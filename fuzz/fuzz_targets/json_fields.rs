//! The JSON field flattener (Donut's normalisation) and the field metrics never panic on
//! any JSON document, and a document always matches itself.
#![no_main]

use std::collections::HashMap;

use libfuzzer_sys::fuzz_target;
use whet_eval_metrics::extraction::{
    FieldMatch, Totals, check_consistency, donut_f1, donut_flatten, donut_ted_accuracy,
    field_accuracy, ConsistencyRules,
};

fuzz_target!(|bytes: &[u8]| {
    let Ok(doc) = serde_json::from_slice::<serde_json::Value>(bytes) else {
        return;
    };
    let flat = donut_flatten(&doc);
    let f1 = donut_f1(std::slice::from_ref(&doc), std::slice::from_ref(&doc));
    if flat.is_empty() {
        assert!(f1.f1.is_none());
    } else {
        assert_eq!(f1.f1, Some(1.0));
        assert_eq!(donut_ted_accuracy(&doc, &doc), 1.0);
    }
    let rules: HashMap<&str, FieldMatch> = HashMap::new();
    let report = field_accuracy(std::slice::from_ref(&doc), std::slice::from_ref(&doc), &rules);
    assert_eq!(report.exact_documents, 1);
    let _ = check_consistency(&Totals::from_json(&doc), &ConsistencyRules::philippines());
});

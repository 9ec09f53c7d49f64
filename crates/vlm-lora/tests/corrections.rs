//! A person's corrections, collected by hard-mining into OpenAI chat JSONL, train the
//! grounded answers extraction writes: read back and grounded again to the prompt's page,
//! the corrected document equals its true grounded answer.

use serde_json::json;
use whet_hard_mining::corrections::{examples_from_samples, write_openai_chat};
use whet_hard_mining::queue::{Correction, Provenance, ReviewContext};
use whet_synth_docs::{FontSet, GeneratorConfig};
use whet_vlm_lora::{
    ExtractionSet, FULL_QUESTION, page_from_prompt, read_chat_jsonl, reground_pair, user_message,
};

#[test]
fn corrected_documents_come_back_grounded() {
    let fonts = FontSet::system().expect("a TrueType font (Debian: fonts-dejavu-core)");
    let set =
        ExtractionSet::synthetic(31, 6, &GeneratorConfig::philippine_receipts(), &fonts).unwrap();
    let mut samples = Vec::new();
    for (i, doc) in set.docs.iter().enumerate() {
        let prompt = user_message(&doc.page, FULL_QUESTION);
        assert_eq!(page_from_prompt(&prompt).unwrap().text(), doc.page.text());
        // What the model predicted: a wrong total and a wrong first amount.
        let mut predicted = doc.target.clone();
        predicted["total"] = json!(["9.99", 0]);
        predicted["items"][0]["amount"] = json!(["0.01", 1]);
        let correction = |field: &str, value: &serde_json::Value| Correction {
            doc_id: format!("doc-{i}"),
            field: field.into(),
            value: Some(value[0].as_str().unwrap().to_owned()),
            weight: 2.0,
            context: ReviewContext {
                input: Some(prompt.clone()),
                document: Some(predicted.clone()),
                ..Default::default()
            },
            provenance: Provenance {
                review_id: i as i64,
                key: format!("doc-{i}/{field}"),
                reviewer: "ana".into(),
                reviewed_ms: 0,
                source: "smollm2-135m-extraction".into(),
                predicted: Some(predicted[field.split('[').next().unwrap()].to_string()),
                confidence: 0.4,
            },
        };
        samples.push(correction("total", &doc.target["total"]));
        samples.push(correction(
            "items[0].amount",
            &doc.target["items"][0]["amount"],
        ));
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("corrections.chat.jsonl");
    let examples = examples_from_samples(&samples);
    write_openai_chat(&path, &examples, "You extract documents.").unwrap();

    let pairs = read_chat_jsonl(&path).unwrap();
    assert_eq!(pairs.len(), 2 * set.docs.len()); // weight 2: each written twice
    for (pair, doc) in pairs.iter().step_by(2).zip(&set.docs) {
        let plain: serde_json::Value = serde_json::from_str(pair.answer()).unwrap();
        assert!(
            plain["total"].is_string(),
            "hard-mining writes plain values"
        );
        let fixed = reground_pair(pair).unwrap();
        let answer: serde_json::Value = serde_json::from_str(fixed.answer()).unwrap();
        assert_eq!(answer, doc.target);
        assert_eq!(fixed.messages[0].role, "system");
    }

    // A value the page does not print cannot be grounded: an error naming the field.
    let mut pair = pairs[0].clone();
    let last = pair.messages.len() - 1;
    let mut answer: serde_json::Value = serde_json::from_str(pair.answer()).unwrap();
    answer["vat"] = json!("123,456.78");
    pair.messages[last].content = answer.to_string();
    let err = reground_pair(&pair).unwrap_err().to_string();
    assert!(err.contains("vat"), "{err}");
}

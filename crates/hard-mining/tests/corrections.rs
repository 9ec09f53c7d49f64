//! Corrections from the review queue to fine-tuning files and back.

use serde_json::json;
use whet_hard_mining::corrections::{
    examples_from_samples, read_instruction_pairs, read_openai_chat, write_instruction_pairs,
    write_openai_chat,
};
use whet_hard_mining::queue::{ReviewContext, ReviewItem, ReviewStore, SqliteQueue};

#[test]
fn reviewed_fields_become_whole_examples_and_survive_both_formats() {
    let dir = tempfile::tempdir().unwrap();
    let queue = SqliteQueue::open(dir.path().join("q.sqlite")).unwrap();
    let predicted =
        json!({"total": "1,018.68", "date": "2022-02-O9", "items": [{"amount": "69.66"}]});
    let context = ReviewContext {
        input: Some("OCR text of doc-1".into()),
        document: Some(predicted),
        ..ReviewContext::default()
    };
    for (field, value, conf) in [
        ("total", "1,018.68", 0.7),
        ("date", "2022-02-O9", 0.4),
        ("items[0].amount", "69.66", 0.6),
    ] {
        let mut item = ReviewItem::new(
            format!("doc-1/{field}"),
            "doc-1",
            field,
            Some(value.into()),
            conf,
        );
        item.context = context.clone();
        item.source = "donut-receipts v3".into();
        queue.enqueue(&item).unwrap();
    }
    let mut other = ReviewItem::new("doc-2/total", "doc-2", "total", Some("5.00".into()), 0.5);
    other.context = ReviewContext {
        input: Some("OCR text of doc-2".into()),
        document: Some(json!({"total": "5.00"})),
        ..ReviewContext::default()
    };
    queue.enqueue(&other).unwrap();
    let p = queue.pending(10).unwrap();
    let id = |field: &str, doc: &str| {
        p.iter()
            .find(|s| s.item.field == field && s.item.doc_id == doc)
            .unwrap()
            .id
    };
    queue.validate(id("total", "doc-1"), "ana").unwrap();
    queue
        .correct(id("date", "doc-1"), Some("2022-02-09".into()), "ana")
        .unwrap();
    queue
        .correct(id("items[0].amount", "doc-1"), Some("69.56".into()), "ana")
        .unwrap();
    queue.validate(id("total", "doc-2"), "ben").unwrap();

    let examples = examples_from_samples(&queue.corrections().unwrap());
    assert_eq!(examples.len(), 2);
    let e = &examples[0];
    assert_eq!(e.id, "doc-1");
    assert_eq!(e.input, "OCR text of doc-1");
    assert_eq!(
        e.output,
        json!({"total": "1,018.68", "date": "2022-02-09", "items": [{"amount": "69.56"}]})
    );
    assert_eq!(e.weight, 2.0);
    assert_eq!(e.provenance.len(), 3);
    assert_eq!(examples[1].weight, 1.0);

    let pairs = dir.path().join("pairs.jsonl");
    write_instruction_pairs(&pairs, &examples, "Extract the fields as JSON.").unwrap();
    assert_eq!(read_instruction_pairs(&pairs).unwrap(), examples);

    let chat = dir.path().join("chat.jsonl");
    write_openai_chat(&chat, &examples, "Extract the fields as JSON.").unwrap();
    let text = std::fs::read_to_string(&chat).unwrap();
    assert_eq!(text.lines().count(), 3);
    let first: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    assert_eq!(first["messages"][0]["role"], "system");
    assert_eq!(first["messages"][2]["role"], "assistant");
    let back = read_openai_chat(&chat).unwrap();
    assert_eq!(back.len(), 2);
    assert_eq!(
        (back[0].weight, &back[0].output, &back[0].input),
        (2.0, &examples[0].output, &examples[0].input)
    );
    assert_eq!(back[1].id, "line-3");
}

#[test]
fn bad_files_are_named_with_their_line() {
    let dir = tempfile::tempdir().unwrap();
    let chat = dir.path().join("chat.jsonl");
    std::fs::write(
        &chat,
        concat!(
            r#"{"messages":[{"role":"user","content":"a"},{"role":"assistant","content":"{\"x\":1}"}]}"#,
            "\n",
            r#"{"messages":[{"role":"user","content":"b"},{"role":"assistant","content":"not json"}]}"#,
            "\n"
        ),
    )
    .unwrap();
    let err = read_openai_chat(&chat).unwrap_err().to_string();
    assert!(
        err.contains("chat.jsonl:2:") && err.contains("not JSON"),
        "{err}"
    );
    std::fs::write(
        &chat,
        "{\"messages\":[{\"role\":\"user\",\"content\":\"a\"}]}\n",
    )
    .unwrap();
    let err = read_openai_chat(&chat).unwrap_err().to_string();
    assert!(
        err.contains("chat.jsonl:1:") && err.contains("no assistant"),
        "{err}"
    );
    let pairs = dir.path().join("pairs.jsonl");
    std::fs::write(
        &pairs,
        "{\"instruction\":\"i\",\"input\":\"a\",\"output\":\"{}\",\"weight\":-1,\"id\":\"x\"}\n",
    )
    .unwrap();
    let err = read_instruction_pairs(&pairs).unwrap_err().to_string();
    assert!(
        err.contains("pairs.jsonl:1:") && err.contains("weight"),
        "{err}"
    );
    std::fs::write(&pairs, "{\"instruction\":\"i\"}\n").unwrap();
    let err = read_instruction_pairs(&pairs).unwrap_err().to_string();
    assert!(err.contains("pairs.jsonl:1:"), "{err}");
}

#[test]
fn reviews_export_to_the_formats_the_model_crates_train_from() {
    use whet_hard_mining::corrections::{write_intent_jsonl, write_paddle_rec_labels};
    let dir = tempfile::tempdir().unwrap();
    let queue = SqliteQueue::open(dir.path().join("review.sqlite")).unwrap();
    // Two OCR lines (one misread) and two intent messages (one misclassified); one line
    // without its crop, which cannot become a recognition label.
    let items = [
        ReviewItem::builder("r1/0", "r1", "line0")
            .predicted("TOTAL RN 5.00")
            .confidence(0.41)
            .image("crops/r1_0.png")
            .build(),
        ReviewItem::builder("r1/1", "r1", "line1")
            .predicted("CASH")
            .confidence(0.8)
            .image("crops/r1_1.png")
            .build(),
        ReviewItem::builder("r1/2", "r1", "line2")
            .predicted("CHANGE")
            .confidence(0.8)
            .build(),
        ReviewItem::builder("m1", "m1", "intent")
            .predicted("balance")
            .confidence(0.3)
            .input("send 50 to mum")
            .build(),
        ReviewItem::builder("m2", "m2", "intent")
            .predicted("balance")
            .confidence(0.6)
            .input("how much is in my account")
            .build(),
    ];
    for item in items {
        queue.enqueue(&item.unwrap()).unwrap();
    }
    let p = queue.pending(10).unwrap();
    let id = |key: &str| p.iter().find(|s| s.item.key == key).unwrap().id;
    queue
        .correct(id("r1/0"), Some("TOTAL RM 5.00".into()), "ana")
        .unwrap();
    queue.validate(id("r1/1"), "ana").unwrap();
    queue.validate(id("r1/2"), "ana").unwrap();
    queue
        .correct(id("m1"), Some("transfer".into()), "ben")
        .unwrap();
    queue.validate(id("m2"), "ben").unwrap();
    let reviewed = queue.corrections().unwrap();
    let (lines, messages): (Vec<_>, Vec<_>) = reviewed
        .into_iter()
        .partition(|c| c.field.starts_with("line"));

    let labels = dir.path().join("rec_gt.txt");
    assert_eq!(write_paddle_rec_labels(&labels, &lines).unwrap(), 2);
    let read = whet_core::data::paddle::read_rec_labels(&labels).unwrap();
    let texts: Vec<&str> = read.iter().map(|r| r.text.as_str()).collect();
    assert_eq!(
        texts,
        ["TOTAL RM 5.00", "TOTAL RM 5.00", "CASH"],
        "a correction twice"
    );

    let intents = dir.path().join("intents.jsonl");
    assert_eq!(write_intent_jsonl(&intents, &messages).unwrap(), 2);
    let (dataset, bad) = whet_intent_svc::Dataset::read_jsonl(&intents).unwrap();
    assert!(bad.is_empty(), "{bad:?}");
    assert_eq!(dataset.samples[0].text, "send 50 to mum");
    assert_eq!(dataset.samples[0].intent, "transfer");
    assert!(dataset.samples[0].corrected && !dataset.samples[1].corrected);
    assert_eq!(dataset.sample_weights(), [2.0, 1.0]);
}

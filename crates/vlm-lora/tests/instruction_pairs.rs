//! Instruction pairs from synthetic documents: every printed field is found and grounded
//! to the lines that print it, answers follow their schemas, chat JSONL round-trips.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde_json::Value;
use whet_synth_docs::{
    DocKind, FontSet, Generator, GeneratorConfig, Locale, ReceiptLayout, render_receipt,
};
use whet_vlm_lora::{
    OcrPage, PairKind, grounded_target, grounded_values, instruction_pairs, read_chat_jsonl,
    strip_grounding, write_chat_jsonl,
};

fn documents(n: u64) -> Vec<(whet_synth_docs::Document, OcrPage)> {
    let fonts = FontSet::system().expect("a TrueType font (Debian: fonts-dejavu-core)");
    let config = GeneratorConfig {
        locales: vec![Locale::EnPh, Locale::FilPh],
        kinds: vec![DocKind::Receipt, DocKind::Invoice, DocKind::PurchaseOrder],
        ..GeneratorConfig::default()
    };
    let generator = Generator::new(11, config).unwrap();
    generator
        .documents(n)
        .enumerate()
        .map(|(i, doc)| {
            // Narrow paper too, so that long names and addresses wrap onto two lines.
            let layout = if i % 3 == 0 {
                ReceiptLayout {
                    width: 300,
                    ..ReceiptLayout::THERMAL_58MM
                }
            } else {
                ReceiptLayout::THERMAL_58MM
            };
            let page = render_receipt(&doc, &fonts, layout).unwrap();
            let ocr = OcrPage::from_synthetic(&page);
            (doc, ocr)
        })
        .collect()
}

#[test]
fn every_printed_field_is_found_on_the_lines_that_print_it() {
    let mut wrapped = 0;
    for (doc, page) in documents(60) {
        let target = grounded_target(&doc, &page);
        let plain = strip_grounding(&target);
        let same = |key: &str, want: &str| {
            let got = plain[key]
                .as_str()
                .unwrap_or_else(|| panic!("{key} missing: {target}"));
            assert!(
                got.eq_ignore_ascii_case(want) || got.to_lowercase() == want.to_lowercase(),
                "{key}: {got} != {want}"
            );
        };
        same("seller_name", &doc.seller.name);
        same("seller_address", &doc.seller.address);
        same("document_number", &doc.number);
        same("date", &doc.date);
        same("total", &doc.totals.total.plain());
        same("subtotal", &doc.totals.subtotal.plain());
        same("vat", &doc.totals.vat.plain());
        same("payment_method", &doc.payment);
        match &doc.seller.tax_id {
            Some(tin) => same("seller_tin", tin),
            None => assert!(plain["seller_tin"].is_null()),
        }
        match &doc.buyer {
            Some(b) => same("buyer_name", &b.name),
            None => assert!(plain["buyer_name"].is_null()),
        }
        assert_eq!(
            plain["vat_exempt"].is_null(),
            doc.totals.vat_exempt.minor == 0
        );
        let items = plain["items"].as_array().unwrap();
        assert_eq!(items.len(), doc.items.len());
        for (got, want) in items.iter().zip(&doc.items) {
            assert!(
                got["description"]
                    .as_str()
                    .unwrap()
                    .eq_ignore_ascii_case(&want.description)
            );
            assert_eq!(got["quantity"], want.quantity_text().as_str());
            assert_eq!(got["unit_price"], want.unit_price.plain().as_str());
            assert_eq!(got["amount"], want.amount.plain().as_str());
            if want.discount.minor == 0 {
                assert!(got["discount"].is_null());
            } else {
                assert_eq!(got["discount"], want.discount.plain().as_str());
            }
        }
        // Every value is printed on the lines it cites, and needs each of them.
        for v in grounded_values(&target) {
            let text: Vec<&str> = v
                .lines
                .iter()
                .map(|&l| page.lines[l].text.as_str())
                .collect();
            let joined = text.join(" ").to_lowercase();
            let want = if v.path == "document_type" {
                v.text.replace('_', " ")
            } else {
                v.text.to_lowercase()
            };
            assert!(
                joined.contains(&want),
                "{}: {:?} not in {:?}",
                v.path,
                v.text,
                text
            );
            wrapped += usize::from(v.lines.len() > 1);
        }
        // An item's amount is its own line, not the quantity row before it.
        for it in target["items"].as_array().unwrap() {
            assert!(it["amount"][1].as_u64() > it["unit_price"][1].as_u64());
            assert_eq!(it["quantity"][1], it["unit_price"][1]);
        }
    }
    assert!(wrapped > 0, "some values span two lines on narrow paper");
}

#[test]
fn five_pairs_per_document_answer_within_their_schemas() {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let mut all = Vec::new();
    for (doc, page) in documents(20) {
        let pairs = instruction_pairs(&doc, &page, &mut rng);
        let kinds: Vec<PairKind> = pairs.iter().map(|p| p.kind).collect();
        assert_eq!(kinds, PairKind::ALL);
        for p in &pairs {
            assert_eq!(p.prompt().len(), 1);
            assert!(p.prompt()[0].content.starts_with("Document lines"));
            let answer: Value = serde_json::from_str(p.answer()).unwrap();
            let validator = jsonschema::validator_for(&p.schema).unwrap();
            let errors: Vec<String> = validator
                .iter_errors(&answer)
                .map(|e| e.to_string())
                .collect();
            assert!(errors.is_empty(), "{:?}: {errors:?}\n{answer}", p.kind);
        }
        let consistency: Value = serde_json::from_str(pairs[4].answer()).unwrap();
        assert_eq!(consistency["consistent"], doc.is_consistent());
        all.extend(pairs);
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pairs.jsonl");
    write_chat_jsonl(&path, &all).unwrap();
    let back = read_chat_jsonl(&path).unwrap();
    assert_eq!(back.len(), all.len());
    assert!(back.iter().zip(&all).all(|(a, b)| a.messages == b.messages));

    std::fs::write(
        &path,
        "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}\n",
    )
    .unwrap();
    let err = read_chat_jsonl(&path).unwrap_err().to_string();
    assert!(err.contains("pairs.jsonl:1"), "{err}");
    std::fs::write(&path, "{\"messages\": 3}\n").unwrap();
    let err = read_chat_jsonl(&path).unwrap_err().to_string();
    assert!(err.contains("pairs.jsonl:1"), "{err}");
}

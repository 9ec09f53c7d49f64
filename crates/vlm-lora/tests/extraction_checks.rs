//! Checks on extracted values: a value is grounded to the polygon of the lines it is
//! printed on, a value the page does not print is never confident, a wrong citation is
//! re-grounded at lower confidence, and broken arithmetic sends the document to review.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};
use whet_synth_docs::{FontSet, Generator, GeneratorConfig, ReceiptLayout, render_receipt};
use whet_vlm_lora::{ExtractConfig, Flag, OcrPage, check_answer, grounded_target, grounded_values};

fn pages(n: u64) -> Vec<(whet_synth_docs::Document, OcrPage)> {
    let fonts = FontSet::system().expect("a TrueType font (Debian: fonts-dejavu-core)");
    let generator = Generator::new(21, GeneratorConfig::philippine_receipts()).unwrap();
    generator
        .documents(n)
        .map(|doc| {
            let page = render_receipt(&doc, &fonts, ReceiptLayout::THERMAL_58MM).unwrap();
            let ocr = OcrPage::from_synthetic(&page);
            (doc, ocr)
        })
        .collect()
}

#[test]
fn true_answers_are_grounded_and_confident() {
    let config = ExtractConfig::default();
    for (doc, page) in pages(30) {
        let answer = grounded_target(&doc, &page);
        let n = grounded_values(&answer).len();
        let x = check_answer(&answer, &page, &vec![0.99; n], &config);
        assert!(x.violations.is_empty(), "{:?}\n{}", x.violations, x.json);
        assert!(!x.needs_review);
        for v in &x.values {
            assert!(v.flags.is_empty(), "{v:?}");
            assert!((v.confidence - 0.99).abs() < 1e-12);
            let p = v.polygon.as_ref().expect("every value has a polygon");
            let [x0, y0, x1, y1] = p.bounds();
            assert!(x1 > x0 && y1 > y0);
            for &l in &v.lines {
                let [lx0, ly0, lx1, ly1] = page.lines[l].polygon.bounds();
                assert!(lx0 >= x0 && ly0 >= y0 && lx1 <= x1 && ly1 <= y1);
            }
        }
    }
}

/// A string that no line of `page` holds.
fn absent(rng: &mut ChaCha8Rng, page: &OcrPage) -> String {
    loop {
        let s = match rng.random_range(0..3) {
            0 => format!(
                "{},{:03}.{:02}",
                rng.random_range(1..99),
                rng.random_range(0..1000),
                rng.random_range(0..100)
            ),
            1 => format!(
                "{}-{:02}-{:02}",
                rng.random_range(1990..2030),
                rng.random_range(1..13),
                rng.random_range(1..29)
            ),
            _ => (0..rng.random_range(3..12))
                .map(|_| char::from(b'A' + rng.random_range(0..26u8)))
                .collect(),
        };
        let low = s.to_lowercase();
        if page
            .lines
            .iter()
            .all(|l| !l.text.to_lowercase().contains(&low))
        {
            return s;
        }
    }
}

fn set_value(answer: &mut Value, path: &str, value: Value) {
    let mut at = answer;
    for part in path.split('.') {
        at = match part.parse::<usize>() {
            Ok(i) => &mut at[i],
            Err(_) => &mut at[part],
        };
    }
    *at = value;
}

#[test]
fn a_value_absent_from_the_page_is_never_confident() {
    let config = ExtractConfig::default();
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    for (doc, page) in pages(30) {
        let truth = grounded_target(&doc, &page);
        let values = grounded_values(&truth);
        for _ in 0..10 {
            let victim = &values[rng.random_range(0..values.len())];
            if victim.path == "document_type" {
                continue;
            }
            let fake = absent(&mut rng, &page);
            let mut answer = truth.clone();
            // Cited to the very line the true value is on, and fully "confident".
            set_value(&mut answer, &victim.path, json!([fake, victim.lines[0]]));
            let x = check_answer(&answer, &page, &vec![1.0; values.len()], &config);
            let v = x.get(&victim.path).unwrap();
            assert_eq!(v.value, fake);
            assert_eq!(v.confidence, 0.0, "{v:?}");
            assert!(v.flags.contains(&Flag::NotOnPage));
            assert!(v.polygon.is_none());
            assert!(x.needs_review);
        }
    }
}

#[test]
fn a_wrong_citation_is_regrounded_and_broken_arithmetic_is_flagged() {
    let config = ExtractConfig::default();
    let (doc, page) = pages(1).remove(0);
    let truth = grounded_target(&doc, &page);
    let n = grounded_values(&truth).len();

    let mut answer = truth.clone();
    let seller_line = truth["seller_name"][1].as_u64().unwrap();
    let wrong = truth["payment_method"][1].clone();
    answer["seller_name"][1] = wrong;
    let x = check_answer(&answer, &page, &vec![0.97; n], &config);
    let v = x.get("seller_name").unwrap();
    assert_eq!(v.flags, [Flag::Regrounded]);
    assert_eq!(v.lines, [seller_line as usize]);
    assert!(v.confidence <= config.regrounded_cap);
    assert!(x.needs_review);

    let mut answer = truth.clone();
    answer["seller_name"][1] = json!(999);
    let x = check_answer(&answer, &page, &vec![0.97; n], &config);
    assert!(x.get("seller_name").unwrap().flags.contains(&Flag::BadLine));

    // A total that the page prints elsewhere (the VAT's amount) breaks the arithmetic.
    let mut answer = truth.clone();
    answer["total"] = truth["vat"].clone();
    let x = check_answer(&answer, &page, &vec![0.97; n], &config);
    assert!(
        x.violations.iter().any(|r| r == "Total"),
        "{:?}",
        x.violations
    );
    let total = x.get("total").unwrap();
    assert!(total.flags.contains(&Flag::Inconsistent("Total".into())));
    assert!(total.confidence < config.review_threshold);
    assert!(x.needs_review);
}

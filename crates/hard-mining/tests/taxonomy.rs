//! Hand-made cases, one or more per error type of the taxonomy.

use serde_json::{Value, json};
use whet_hard_mining::taxonomy::{
    Case, ErrorKind, ErrorRecord, FieldFormat, TaxonomyConfig, classify,
};
use whet_synth_docs::DocFeature;

/// A consistent Philippine receipt: 2 x 50 + 12 = 112, VAT-inclusive (100 / 12).
fn truth() -> Value {
    json!({
        "document_type": "receipt",
        "seller_name": "Davao Fruit Stand",
        "seller_tin": "283-027-817-000",
        "date": "2022-02-09",
        "items": [
            {"description": "Banana Cake Slice", "quantity": "2", "unit_price": "50.00", "amount": "100.00"},
            {"description": "Canned Sardines", "quantity": "1", "unit_price": "12.00", "amount": "12.00"}
        ],
        "subtotal": "112.00",
        "vatable_sales": "100.00",
        "vat": "12.00",
        "total": "112.00"
    })
}

fn errors_of(predicted: &Value) -> Vec<ErrorRecord> {
    let t = truth();
    classify(&Case::new("r1", &t, predicted), &TaxonomyConfig::default())
}

fn kinds(errors: &[ErrorRecord]) -> Vec<(String, ErrorKind)> {
    errors
        .iter()
        .map(|e| (e.field.clone(), e.kind.clone()))
        .collect()
}

fn with(path: &[&str], value: Value) -> Value {
    let mut v = truth();
    let mut at = &mut v;
    for p in &path[..path.len() - 1] {
        at = match p.parse::<usize>() {
            Ok(i) => &mut at[i],
            Err(_) => &mut at[*p],
        };
    }
    at[path[path.len() - 1]] = value;
    v
}

#[test]
fn a_perfect_prediction_has_no_errors() {
    assert!(errors_of(&truth()).is_empty());
    // Formatting that means the same is not an error.
    let p = with(&["total"], json!("₱112.00"));
    let p = with_obj(p, "date", json!("Feb 9, 2022"));
    assert!(errors_of(&p).is_empty(), "{:?}", kinds(&errors_of(&p)));
}

fn with_obj(mut v: Value, key: &str, value: Value) -> Value {
    v[key] = value;
    v
}

#[test]
fn missing_and_spurious_fields() {
    let mut p = truth();
    p.as_object_mut().unwrap().remove("seller_name");
    p["buyer_name"] = json!("Paolo Aquino");
    let e = errors_of(&p);
    assert_eq!(
        kinds(&e),
        [
            ("buyer_name".into(), ErrorKind::SpuriousField),
            ("seller_name".into(), ErrorKind::MissingField)
        ]
    );
    assert_eq!(e[1].expected.as_deref(), Some("Davao Fruit Stand"));
    assert_eq!(e[1].region, "header");
    // An empty string or null is missing too.
    assert_eq!(
        kinds(&errors_of(&with(&["seller_name"], json!(""))))[0].1,
        ErrorKind::MissingField
    );
    assert_eq!(
        kinds(&errors_of(&with(&["seller_name"], Value::Null)))[0].1,
        ErrorKind::MissingField
    );
}

#[test]
fn wrong_values() {
    let e = errors_of(&with(&["seller_name"], json!("Cebu Fruit Stand")));
    assert_eq!(kinds(&e), [("seller_name".into(), ErrorKind::WrongValue)]);
    let e = errors_of(&with(&["date"], json!("2022-02-10")));
    assert_eq!(kinds(&e), [("date".into(), ErrorKind::WrongValue)]);
}

#[test]
fn format_errors_for_tin_date_and_amount() {
    let e = errors_of(&with(&["seller_tin"], json!("283-027-817")));
    // A TIN without its branch code is well-formed but not the same TIN: a wrong value.
    assert_eq!(kinds(&e), [("seller_tin".into(), ErrorKind::WrongValue)]);
    let e = errors_of(&with(&["seller_tin"], json!("283027817000")));
    assert_eq!(
        kinds(&e),
        [(
            "seller_tin".into(),
            ErrorKind::FormatError(FieldFormat::Tin)
        )]
    );
    let e = errors_of(&with(&["date"], json!("2022-02-31")));
    assert_eq!(
        kinds(&e),
        [("date".into(), ErrorKind::FormatError(FieldFormat::Date))]
    );
    // A total that is not an amount: a format error, and the numbers no longer add up
    // cannot be checked (the rule needs the total), so nothing else.
    let e = errors_of(&with(&["total"], json!("one hundred")));
    assert_eq!(
        kinds(&e),
        [("total".into(), ErrorKind::FormatError(FieldFormat::Amount))]
    );
}

#[test]
fn ocr_confusions_name_their_characters() {
    for (field, value, pair) in [
        ("seller_tin", "283-O27-817-000", ('0', 'O')),
        ("seller_tin", "283-027-8l7-000", ('1', 'l')),
        ("seller_name", "Davao Fruit 5tand", ('S', '5')),
        ("date", "2022-02-O9", ('0', 'O')),
    ] {
        let e = errors_of(&with(&[field], json!(value)));
        assert_eq!(
            kinds(&e),
            [(field.to_owned(), ErrorKind::OcrConfusion)],
            "{value}"
        );
        assert_eq!(e[0].confusions, [pair]);
    }
    // ₱ read as P, 8 as B in an amount.
    let mut t = truth();
    t["total"] = json!("₱112.00");
    let p = with(&["total"], json!("P112.00"));
    let e = classify(&Case::new("r1", &t, &p), &TaxonomyConfig::default());
    // "P112.00" parses as the same amount: not an error at all.
    assert!(e.is_empty(), "{:?}", kinds(&e));
    let e = errors_of(&with(&["seller_tin"], json!("283-027-B17-000")));
    assert_eq!(kinds(&e), [("seller_tin".into(), ErrorKind::OcrConfusion)]);
    assert_eq!(e[0].confusions, [('8', 'B')]);
    // Two different characters that are not look-alikes: a wrong value, not a confusion.
    let e = errors_of(&with(&["seller_tin"], json!("283-027-917-000")));
    assert_eq!(kinds(&e), [("seller_tin".into(), ErrorKind::WrongValue)]);
}

#[test]
fn numeric_inconsistency_only_where_the_truth_adds_up() {
    // A VAT that is not 12/112 of the VAT-inclusive total: the value is wrong and the
    // rule breaks.
    let e = errors_of(&with(&["vat"], json!("13.00")));
    let k = kinds(&e);
    assert!(k.contains(&("vat".into(), ErrorKind::WrongValue)), "{k:?}");
    assert!(
        k.contains(&(
            "vat".into(),
            ErrorKind::NumericInconsistency("VatRate".into())
        )),
        "{k:?}"
    );
    // A synthetic document made not to add up (InconsistentTotals): the prediction that
    // copies it faithfully has no errors.
    let mut t = truth();
    t["total"] = json!("120.00");
    let case = Case {
        features: vec![DocFeature::InconsistentTotals],
        ..Case::new("r2", &t, &t)
    };
    assert!(classify(&case, &TaxonomyConfig::default()).is_empty());
}

#[test]
fn table_rows_missing_and_extra() {
    let mut p = truth();
    p["items"].as_array_mut().unwrap().remove(0);
    p["items"].as_array_mut().unwrap().push(json!({"description": "Rice 5kg", "quantity": "1", "unit_price": "263.15", "amount": "263.15"}));
    let e = errors_of(&p);
    let k = kinds(&e);
    assert!(
        k.contains(&("items[0]".into(), ErrorKind::TableRowMissing)),
        "{k:?}"
    );
    assert!(
        k.contains(&("items[+1]".into(), ErrorKind::TableRowExtra)),
        "{k:?}"
    );
    assert_eq!(
        e.iter()
            .find(|r| r.kind == ErrorKind::TableRowMissing)
            .unwrap()
            .region,
        "items"
    );
    // The remaining row matched its truth (Canned Sardines) despite the shift.
    assert!(!k.iter().any(|(f, _)| f.starts_with("items[1].")), "{k:?}");
    // A cell wrong in a matched row is reported by row and column.
    let e = errors_of(&with(
        &["items", "1", "description"],
        json!("Canned Sardine"),
    ));
    assert_eq!(
        kinds(&e),
        [("items[1].description".into(), ErrorKind::WrongValue)]
    );
}

#[test]
fn low_confidence_is_reported_right_or_wrong() {
    let t = truth();
    let p = with(&["total"], json!("112.00"));
    let mut case = Case::new("r3", &t, &p);
    case.confidences.insert("total".into(), 0.6);
    case.confidences.insert("date".into(), 0.99);
    let e = classify(&case, &TaxonomyConfig::default());
    assert_eq!(kinds(&e), [("total".into(), ErrorKind::LowConfidence)]);
    assert_eq!(e[0].confidence, Some(0.6));
    assert_eq!(e[0].region, "totals");
    let p = with(&["total"], json!("118.00"));
    let mut case = Case::new("r3", &t, &p);
    case.confidences.insert("total".into(), 0.5);
    let k = kinds(&classify(&case, &TaxonomyConfig::default()));
    assert!(
        k.contains(&("total".into(), ErrorKind::WrongValue)),
        "{k:?}"
    );
    assert!(
        k.contains(&("total".into(), ErrorKind::LowConfidence)),
        "{k:?}"
    );
}

#[test]
fn records_carry_their_provenance() {
    let t = truth();
    let p = with(&["seller_name"], json!("Cebu Fruit Stand"));
    let case = Case {
        features: vec![DocFeature::FadedPrint, DocFeature::Tagalog],
        ..Case::new("r4", &t, &p)
    };
    let e = classify(&case, &TaxonomyConfig::default());
    assert_eq!(e[0].doc_id, "r4");
    assert_eq!(e[0].doc_type.as_deref(), Some("receipt"));
    assert_eq!(e[0].features, [DocFeature::FadedPrint, DocFeature::Tagalog]);
    let json = serde_json::to_value(&e[0]).unwrap();
    assert_eq!(json["kind"], json!({"kind": "wrong_value"}));
    assert_eq!(json["features"], json!(["faded_print", "tagalog"]));
}

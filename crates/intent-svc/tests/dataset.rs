//! The dataset manager: CSV and JSONL round trips, bad rows reported with their line,
//! cleaning, stratified splits and weights.

use proptest::prelude::*;
use whet_intent_svc::{CsvColumns, Dataset, Sample, Source};

fn sample(text: &str, intent: &str) -> Sample {
    Sample {
        text: text.into(),
        intent: intent.into(),
        source: Source::Live,
        confidence: Some(0.5),
        corrected: false,
    }
}

#[test]
fn bad_csv_and_jsonl_rows_are_reported_with_their_line() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("in.csv");
    std::fs::write(&csv, "text,intent,source,confidence\nhello,greet,live,0.9\nlonely\nbye,farewell,martian,\nok,yes,,1.5\nfine,yes,,\n").unwrap();
    let (d, bad) = Dataset::read_csv(&csv).unwrap();
    assert_eq!(d.samples.len(), 2);
    let lines: Vec<usize> = bad.iter().map(|b| b.line).collect();
    assert_eq!(lines, [3, 4, 5], "{bad:?}");
    assert!(bad.iter().all(|b| b.path == csv));

    let jsonl = dir.path().join("in.jsonl");
    std::fs::write(
        &jsonl,
        "{\"text\": \"a\", \"intent\": \"x\"}\nnot json\n{\"text\": \"b\"}\n",
    )
    .unwrap();
    let (d, bad) = Dataset::read_jsonl(&jsonl).unwrap();
    assert_eq!(d.samples.len(), 1);
    assert_eq!(bad.iter().map(|b| b.line).collect::<Vec<_>>(), [2, 3]);

    let headerless = dir.path().join("h.csv");
    std::fs::write(&headerless, "a,b\n1,2\n").unwrap();
    assert!(matches!(
        Dataset::read_csv(&headerless),
        Err(whet_intent_svc::Error::Dataset { line: 1, .. })
    ));
}

#[test]
fn csv_fields_may_hold_quotes_commas_and_newlines_under_any_column_names() {
    let dir = tempfile::tempdir().unwrap();
    // A Hugging Face / pandas export: `text,label`, a message spanning two lines.
    let path = dir.path().join("banking.csv");
    std::fs::write(
        &path,
        "label,text\ncard_arrival,\"Where is my card?\nIt's been a week\"\n\
         transfer,\"Send \"\"50\"\", please, to mum\"\nbalance,what's my balance\n",
    )
    .unwrap();
    let columns = CsvColumns {
        intent: "label".into(),
        ..CsvColumns::default()
    };
    let (d, bad) = Dataset::read_csv_with(&path, &columns).unwrap();
    assert!(bad.is_empty(), "{bad:?}");
    let texts: Vec<&str> = d.samples.iter().map(|s| s.text.as_str()).collect();
    assert_eq!(
        texts,
        [
            "Where is my card?\nIt's been a week",
            "Send \"50\", please, to mum",
            "what's my balance"
        ]
    );
    assert_eq!(d.samples[1].intent, "transfer");
    // The default column names do not fit this file: a clear error naming the header.
    let err = Dataset::read_csv(&path).unwrap_err();
    assert!(err.to_string().contains("label"), "{err}");
    // Round trip through our own writer keeps the newline.
    let out = dir.path().join("out.csv");
    d.write_csv(&out).unwrap();
    let (back, bad) = Dataset::read_csv(&out).unwrap();
    assert!(bad.is_empty());
    assert_eq!(back.samples, d.samples);
    // An unterminated quote runs to the end of the file: reported at the line it starts.
    std::fs::write(
        &path,
        "text,intent\nok,yes\n\"never closed,no\nlost,maybe\n",
    )
    .unwrap();
    let (d, bad) = Dataset::read_csv(&path).unwrap();
    assert_eq!(d.samples.len(), 1);
    assert_eq!(
        bad.iter().map(|b| b.line).collect::<Vec<_>>(),
        [3],
        "{bad:?}"
    );
}

#[test]
fn cleaning_removes_empty_and_duplicates_and_reports_conflicts() {
    let mut d = Dataset {
        samples: vec![
            sample("Hello  there", "greet"),
            sample("hello there", "greet"),
            sample("", "greet"),
            sample("hello there", "farewell"),
        ],
    };
    let r = d.clean();
    assert_eq!((r.empty, r.duplicates), (1, 1));
    assert_eq!(
        r.conflicts,
        [(
            "hello there".to_string(),
            vec!["greet".to_string(), "farewell".to_string()]
        )]
    );
    assert_eq!(d.samples.len(), 2);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn csv_and_jsonl_round_trip(rows in prop::collection::vec(("[a-z ,\"]{1,12}", "[a-z]{1,5}", any::<bool>(), prop::option::of(0.0f64..1.0)), 1..20)) {
        let d = Dataset {
            samples: rows.iter().map(|(t, i, c, p)| Sample {
                text: t.trim().to_string(), intent: i.clone(), source: Source::Corrected, confidence: *p, corrected: *c,
            }).filter(|s| !s.text.is_empty()).collect(),
        };
        let dir = tempfile::tempdir().unwrap();
        d.write_csv(dir.path().join("d.csv")).unwrap();
        let (back, bad) = Dataset::read_csv(dir.path().join("d.csv")).unwrap();
        prop_assert!(bad.is_empty(), "{:?}", bad);
        prop_assert_eq!(&back, &d);
        d.write_jsonl(dir.path().join("d.jsonl")).unwrap();
        let (back, bad) = Dataset::read_jsonl(dir.path().join("d.jsonl")).unwrap();
        prop_assert!(bad.is_empty());
        prop_assert_eq!(back, d.clone());
        prop_assert_eq!(d.sample_weights().iter().filter(|w| **w == 2.0).count(), d.stats().corrected);
    }
}

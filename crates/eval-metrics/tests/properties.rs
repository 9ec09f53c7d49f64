//! Invariants of the metrics on random inputs (proptest): bounds, identity, symmetry,
//! and parsers that never panic.

use proptest::prelude::*;
use whet_eval_metrics::classification::classification_report;
use whet_eval_metrics::extraction::{
    ConsistencyRules, LineAmounts, Totals, check_consistency, donut_f1, donut_ted_accuracy,
    parse_amount, parse_date,
};
use whet_eval_metrics::ocr::linear_sum_assignment;
use whet_eval_metrics::ocr::polygon::{Point, area, intersection_area, iou, is_valid};
use whet_eval_metrics::table::{parse_html, teds};
use whet_eval_metrics::text::{EditKind, distance, editops, normalized_distance, process_words};

fn words() -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec(
        prop::sample::select(vec!["a", "b", "kape", "₱5", "po", "Niña"]),
        0..8,
    )
    .prop_map(|v| v.into_iter().map(str::to_owned).collect())
}

/// A rotated rectangle (always valid, positive area).
fn rect() -> impl Strategy<Value = Vec<Point>> {
    (
        0.0f64..100.0,
        0.0f64..100.0,
        1.0f64..50.0,
        1.0f64..30.0,
        -1.5f64..1.5,
    )
        .prop_map(|(cx, cy, w, h, a)| {
            let (c, s) = (a.cos(), a.sin());
            [(-w, -h), (w, -h), (w, h), (-w, h)]
                .iter()
                .map(|&(x, y)| [cx + (x * c - y * s) / 2.0, cy + (x * s + y * c) / 2.0])
                .collect()
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn editops_replay_and_distance_symmetry(a in "[abc]{0,12}", b in "[abc]{0,12}") {
        let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
        let ops = editops(&a, &b);
        prop_assert_eq!(ops.len(), distance(&a, &b));
        prop_assert_eq!(distance(&a, &b), distance(&b, &a));
        let nd = normalized_distance(&a, &b);
        prop_assert!((0.0..=1.0).contains(&nd));
        let mut out = Vec::new();
        let mut src = 0;
        for op in &ops {
            while src < op.src { out.push(a[src]); src += 1; }
            match op.kind {
                EditKind::Replace => { out.push(b[op.dest]); src += 1; }
                EditKind::Insert => out.push(b[op.dest]),
                EditKind::Delete => src += 1,
            }
        }
        out.extend_from_slice(&a[src..]);
        prop_assert_eq!(out, b);
    }

    #[test]
    fn word_rates_are_bounded_and_counts_add_up(r in words(), h in words()) {
        let (r, h) = (r.join(" "), h.join(" "));
        let out = process_words(&[&r], &[&h]).unwrap();
        let c = out.counts;
        prop_assert_eq!(c.hits + c.substitutions + c.deletions, c.reference_len);
        prop_assert_eq!(c.hits + c.substitutions + c.insertions, c.hypothesis_len);
        prop_assert!(out.wer >= 0.0);
        for v in [out.mer, out.wil, out.wip] {
            prop_assert!((0.0..=1.0).contains(&v));
        }
        let same = process_words(&[&r], &[&r]).unwrap();
        prop_assert_eq!(same.wer, 0.0);
    }

    #[test]
    fn polygon_intersection_is_symmetric_and_bounded(a in rect(), b in rect()) {
        prop_assert!(is_valid(&a) && is_valid(&b));
        let ab = intersection_area(&a, &b);
        let ba = intersection_area(&b, &a);
        prop_assert!((ab - ba).abs() <= 1e-9 * (1.0 + ab), "{} vs {}", ab, ba);
        prop_assert!(ab <= area(&a).min(area(&b)) * (1.0 + 1e-12) + 1e-9);
        let v = iou(&a, &b);
        prop_assert!((0.0..=1.0 + 1e-12).contains(&v));
        prop_assert!((iou(&a, &a) - 1.0).abs() < 1e-12);
    }

    #[test]
    fn assignment_is_optimal(vals in prop::collection::vec(0u8..10, 9)) {
        // 3 x 3 against brute force over the 6 permutations.
        let cost: Vec<f64> = vals.iter().map(|&v| f64::from(v)).collect();
        let pairs = linear_sum_assignment(&cost, 3, 3).unwrap();
        let got: f64 = pairs.iter().map(|&(r, c)| cost[r * 3 + c]).sum();
        let perms = [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]];
        let best = perms.iter().map(|p| (0..3).map(|r| cost[r * 3 + p[r]]).sum::<f64>()).fold(f64::INFINITY, f64::min);
        prop_assert_eq!(got, best);
    }

    #[test]
    fn html_parser_never_panics(s in "\\PC{0,80}") {
        let _ = parse_html(&s);
        let _ = teds(&format!("<html><body>{s}"), "<html><body><table><tr><td>a</td></tr></table>", false);
    }

    #[test]
    fn html_soup_never_panics(parts in prop::collection::vec(prop::sample::select(vec![
        "<table>", "</table>", "<tr>", "<td", "<td>", "</td>", "&", "&amp", "&#x", "<!--", "-->",
        "<", ">", "/", "\"", "'", "=", "é", "\r", "\0", "<b>", "</b", "<script>", "</script>",
    ]), 0..30)) {
        let s: String = parts.concat();
        let _ = parse_html(&s);
    }

    #[test]
    fn teds_of_a_table_with_itself_is_one(cells in prop::collection::vec(prop::collection::vec("[a-z0-9 ]{0,6}", 1..4), 1..5)) {
        let rows: String = cells.iter().map(|r| {
            format!("<tr>{}</tr>", r.iter().map(|c| format!("<td>{c}</td>")).collect::<String>())
        }).collect();
        let html = format!("<html><body><table>{rows}</table></body></html>");
        prop_assert_eq!(teds(&html, &html, false).unwrap(), 1.0);
        prop_assert_eq!(teds(&html, &html, true).unwrap(), 1.0);
    }

    #[test]
    fn donut_scores_are_bounded(a in "[a-c]{1,6}", b in "[a-c]{0,6}", n in 0i64..5) {
        let answer = serde_json::json!({"menu": [{"nm": a, "cnt": n + 1}], "total": "1.00"});
        let pred = serde_json::json!({"menu": [{"nm": b}], "total": n});
        let acc = donut_ted_accuracy(&pred, &answer);
        prop_assert!((0.0..=1.0).contains(&acc));
        prop_assert_eq!(donut_ted_accuracy(&answer, &answer), 1.0);
        let f1 = donut_f1(&[pred], &[answer]).f1.unwrap();
        prop_assert!((0.0..=1.0).contains(&f1));
    }

    #[test]
    fn classification_identity_is_perfect(labels in prop::collection::vec(prop::sample::select(vec!["a", "b", "c"]), 1..30)) {
        let r = classification_report(&labels, &labels).unwrap();
        prop_assert_eq!(r.accuracy, 1.0);
        for s in &r.per_class {
            prop_assert_eq!((s.precision, s.recall, s.f1), (1.0, 1.0, 1.0));
        }
        let total: usize = r.confusion.iter().flatten().sum();
        prop_assert_eq!(total, labels.len());
    }

    #[test]
    fn normalisers_never_panic(s in "\\PC{0,24}") {
        let _ = parse_amount(&s);
        let _ = parse_date(&s);
    }

    #[test]
    fn amounts_round_trip(minor in -10_000_000i64..10_000_000) {
        let text = format!("{}₱{}.{:02}", if minor < 0 { "-" } else { "" }, minor.abs() / 100, minor.abs() % 100);
        prop_assert_eq!(parse_amount(&text), Some(minor));
    }

    #[test]
    fn a_consistent_receipt_has_no_violations(prices in prop::collection::vec((1u32..5, 100i64..100_000), 1..6)) {
        let lines: Vec<LineAmounts> = prices.iter().map(|&(q, p)| LineAmounts {
            quantity: Some(f64::from(q)), unit_price: Some(p), amount: Some(i64::from(q) * p), discount: None,
        }).collect();
        let subtotal: i64 = lines.iter().filter_map(|l| l.amount).sum();
        let vatable = (subtotal as f64 / 1.12).round() as i64;
        let doc = Totals {
            lines, subtotal: Some(subtotal), vatable_sales: Some(vatable),
            vat: Some(subtotal - vatable), total: Some(subtotal), ..Totals::default()
        };
        prop_assert!(check_consistency(&doc, &ConsistencyRules::philippines()).is_empty());
    }
}

#[cfg(feature = "plot")]
#[test]
fn confusion_matrix_png_is_written() {
    let r = classification_report(
        &["bayad", "sukli", "bayad", "resibo"],
        &["bayad", "bayad", "bayad", "resibo"],
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("confusion.png");
    r.confusion_png(&out)
        .expect("drawn (needs a TrueType font, e.g. fonts-dejavu-core)");
    let bytes = std::fs::read(&out).unwrap();
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    assert!(bytes.len() > 1_000, "a real picture, not an empty canvas");
}

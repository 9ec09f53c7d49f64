//! TEDS against PubTabNet's `metric.py` over apted 1.0.3, lxml 6.0.2 and distance 0.1.3
//! (`tests/golden/teds.jsonl`, made by `scripts/golden/eval-metrics.sh`), malformed model
//! output included.

mod common;

use common::golden;
use whet_eval_metrics::table::teds;

#[test]
fn teds_matches_pubtabnet() {
    let cases = golden("teds");
    assert!(cases.len() >= 1000);
    let mut failures = Vec::new();
    for (i, case) in cases.iter().enumerate() {
        let (pred, truth) = (
            case["pred"].as_str().unwrap(),
            case["true"].as_str().unwrap(),
        );
        for (key, structure_only) in [("teds", false), ("teds_struct", true)] {
            let want = &case[key];
            let got = teds(pred, truth, structure_only);
            match (want.get("error"), got) {
                (Some(_), Err(_)) => {}
                (None, Ok(v)) => {
                    if (v - want.as_f64().unwrap()).abs() > 1e-9 {
                        failures.push(format!("case {i} {key}: got {v}, reference {want}\n  pred {pred}\n  true {truth}"));
                    }
                }
                (w, g) => failures.push(format!("case {i} {key}: got {g:?}, reference {w:?}")),
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} disagree:\n{}",
        failures.len(),
        2 * cases.len(),
        failures[..failures.len().min(8)].join("\n")
    );
}

fn tree_json(e: &whet_eval_metrics::table::Element) -> serde_json::Value {
    serde_json::json!({
        "tag": e.tag,
        "attrs": e.attrs.iter().map(|(k, v)| serde_json::json!([k, v])).collect::<Vec<_>>(),
        "text": e.text,
        "tail": e.tail,
        "children": e.children.iter().map(tree_json).collect::<Vec<_>>(),
    })
}

#[test]
fn html_trees_match_lxml() {
    let cases = golden("html");
    assert!(cases.len() >= 1000);
    let mut failures = Vec::new();
    for (i, case) in cases.iter().enumerate() {
        let html = case["html"].as_str().unwrap();
        let got = tree_json(&whet_eval_metrics::table::parse_html(html));
        if got != case["tree"] {
            failures.push(format!(
                "case {i}: {html:?}\n  got  {got}\n  lxml {}",
                case["tree"]
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} trees differ:\n{}",
        failures.len(),
        cases.len(),
        failures[..failures.len().min(4)].join("\n")
    );
}

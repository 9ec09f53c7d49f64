//! The HTML table parser never panics on arbitrary text, and TEDS of any table markup
//! with itself is 1 (or a typed error: a non-integer span, or no elements at all).
#![no_main]

use libfuzzer_sys::fuzz_target;
use whet_eval_metrics::table::{parse_html, teds};

fuzz_target!(|input: &str| {
    let _ = parse_html(input);
    let doc = format!("<html><body>{input}");
    if let Ok(score) = teds(&doc, &doc, false) {
        assert!(score == 1.0 || score == 0.0, "self-TEDS {score}");
    }
    if let Ok(score) = teds(&doc, "<html><body><table><tr><td>x</td></tr></table>", true) {
        assert!(score <= 1.0);
    }
});

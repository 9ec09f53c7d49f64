//! Grounded decoding: a grammar, built for one page, under which every value a model
//! writes is text printed on the lines it cites.
//!
//! [`document_schema`] says what shape an answer has; [`grounded_grammar`] says, for one
//! [`OcrPage`], which answers of that shape are true to the page: a value
//! `["1,780.05", 36]` is only allowed when `1,780.05` is part of line 36's text (or of a
//! run of up to five consecutive lines, joined by spaces, for a wrapped value cited as
//! `[..., 1, 2]`). A model held to it cannot copy a line's coordinates into a value, invent
//! a value, or cite a line the value is not on; and items, cited in printed order, cannot
//! repeat, skip or run on: an item is described within three lines after the previous
//! item's amount, and its own
//! amount lies on or below its description and above the subtotal (the totals are
//! written first, so that the subtotal's line is known when the items are).

use whet_synth_docs::DocKind;

use crate::layout::OcrPage;
use crate::target::{
    DATE_PATTERN, ITEM_FIELDS, MAX_RUN, NUMBER_FIELDS, NUMBER_PATTERN, field_order, kind_name,
    title_lines,
};

/// The field whose cited line the items are printed above.
const ITEMS_BOUND: &str = "subtotal";

/// The most lines an item's description may start after the previous item's amount:
/// a discount's label and value between them, not a whole item skipped (three lines on
/// a receipt: description, quantity and price, amount).
pub(crate) const ITEM_GAP: usize = 3;

/// `s` as a Lark string literal (a JSON string literal: llguidance reads both alike).
fn lit(s: &str) -> String {
    serde_json::to_string(s).expect("a string serialises")
}

/// `text`'s characters as they appear inside a JSON string, one chunk per character (so
/// that a substring never ends inside an escape).
fn json_chunks(text: &str) -> Vec<String> {
    text.chars()
        .map(|c| {
            let quoted = serde_json::to_string(&c.to_string()).expect("a string serialises");
            quoted[1..quoted.len() - 1].to_owned()
        })
        .collect()
}

/// The Lark grammar (llguidance's dialect, for [`crate::Grammars::lark`]) of the grounded
/// answers to a whole extraction of `page`, a document of `kind`: [`document_schema`]'s
/// shape in its field order (`document_type` cited to a line that prints the kind's
/// name, when one does), laid out as `serde_json` writes it compactly (as training
/// targets are), with every value a substring of the lines it cites (neither empty nor
/// starting or ending with a space; a number field's ([`crate::NUMBER_FIELDS`]) a number
/// on one line, the date a date on one line ([`crate::DATE_PATTERN`]), when the page
/// prints one), and each item described on one of the three lines after the previous
/// item's amount (the first anywhere above the subtotal), with its amount on or below
/// its description, above the subtotal's line. A page without lines has no grounded
/// answer: its grammar does not compile.
///
/// ```
/// use whet_vlm_lora::{grounded_grammar, OcrPage};
/// use whet_core::geom::{Polygon, TextRegion};
/// let line = |text: &str, y: f64| TextRegion::new(Polygon::rect(0.0, y, 100.0, y + 10.0), text);
/// let page = OcrPage::new([line("SARI-SARI STORE", 0.0), line("TOTAL 112.00", 20.0)], [100.0, 40.0]);
/// let grammar = grounded_grammar(whet_synth_docs::DocKind::Receipt, &page);
/// assert!(grammar.contains(r#""substring_chunks""#));
/// ```
///
/// [`document_schema`]: crate::document_schema
pub fn grounded_grammar(kind: DocKind, page: &OcrPage) -> String {
    let n = page.lines.len();
    let mut g = String::new();
    // Fields, in the schema's order; the subtotal, the fields after it and the items
    // come as one rule per line the subtotal may cite, which bounds the items above it.
    let order = field_order();
    let body = |key: &str| -> String {
        let name = lit(&format!("\"{key}\":"));
        let body = match key {
            "document_type" => format!(
                "{} title {}",
                lit(&format!("[\"{}\",", kind_name(kind))),
                lit("]")
            ),
            "buyer_name" if kind == DocKind::Receipt => lit("null"),
            "buyer_name" | "seller_tin" => format!("(value | {})", lit("null")),
            "vat_exempt" | "vatable_sales" | "vat" => format!("(number | {})", lit("null")),
            "total" => "number".to_owned(),
            "date" => "date".to_owned(),
            _ => "value".to_owned(),
        };
        format!("{name} {body}")
    };
    let sub = order
        .iter()
        .position(|k| *k == ITEMS_BOUND)
        .expect("the subtotal is a field");
    let items = order
        .iter()
        .position(|k| *k == "items")
        .expect("items are a field");
    debug_assert!(sub < items && items + 1 == order.len(), "{order:?}");
    let head: Vec<String> = order[..sub].iter().map(|k| body(k)).collect();
    let middle: Vec<String> = order[sub + 1..items].iter().map(|k| body(k)).collect();
    g.push_str(&format!(
        "start: {} {} {} {} bounded {}\n",
        lit("{"),
        head.join(&format!(" {} ", lit(","))),
        lit(","),
        lit(&format!("\"{ITEMS_BOUND}\":")),
        lit("}")
    ));
    g.push_str(&format!(
        "middle: {}\n",
        middle.join(&format!(" {} ", lit(",")))
    ));
    let titles: Vec<String> = title_lines(kind, page)
        .iter()
        .map(|i| lit(&i.to_string()))
        .collect();
    g.push_str(&format!("title: {}\n", titles.join(" | ")));

    // One value per run of lines: `run_i_k` is a value on lines i..i+k. A value on one
    // line is any part of it; one on a run of lines starts in the first, takes the
    // middle ones whole and ends in the last (it needs every line it cites).
    let chunks: Vec<Vec<String>> = page.lines.iter().map(|l| json_chunks(&l.text)).collect();
    let mut value_alts = Vec::new();
    for i in 0..n {
        let mut starting = Vec::new();
        for k in 1..=MAX_RUN.min(n - i) {
            let text = if k == 1 {
                let all = serde_json::to_string(&chunks[i]).expect("strings serialise");
                format!("%regex {{\"substring_chunks\": {all}}} & /[^ ](.*[^ ])?/")
            } else {
                let c = &chunks[i..i + k];
                let suffixes: Vec<String> = (0..c[0].len())
                    .filter(|&j| c[0][j] != " ")
                    .map(|j| lit(&c[0][j..].concat()))
                    .collect();
                let prefixes: Vec<String> = (1..=c[k - 1].len())
                    .filter(|&j| c[k - 1][j - 1] != " ")
                    .map(|j| lit(&c[k - 1][..j].concat()))
                    .collect();
                let mut parts = vec![format!("({})", suffixes.join(" | "))];
                parts.extend(c[1..k - 1].iter().map(|m| lit(&m.concat())));
                parts.push(format!("({})", prefixes.join(" | ")));
                parts.join(&format!(" {} ", lit(" ")))
            };
            let cite: Vec<String> = (i..i + k).map(|l| l.to_string()).collect();
            g.push_str(&format!(
                "TEXT_{i}_{k}: {text}\nrun_{i}_{k}: {} TEXT_{i}_{k} {}\n",
                lit("[\""),
                lit(&format!("\",{}]", cite.join(",")))
            ));
            starting.push(format!("run_{i}_{k}"));
        }
        g.push_str(&format!("from_{i}: {}\n", starting.join(" | ")));
        value_alts.push(format!("from_{i}"));
    }
    g.push_str(&format!("value: {}\n", value_alts.join(" | ")));
    // A number is printed on one line: a part of it that is a number.
    let numbers_at: Vec<usize> = (0..n)
        .filter(|&i| page.lines[i].text.chars().any(|c| c.is_ascii_digit()))
        .collect();
    let numbers: Vec<String> = numbers_at
        .iter()
        .map(|&i| {
            g.push_str(&format!(
                "NUMBER_{i}: TEXT_{i}_1 & /{NUMBER_PATTERN}/\nnumber_{i}: {} NUMBER_{i} {}\n",
                lit("[\""),
                lit(&format!("\",{i}]"))
            ));
            format!("number_{i}")
        })
        .collect();
    // A date is printed on one line: a part of it that is a date ([`DATE_PATTERN`]).
    let date = regex::Regex::new(DATE_PATTERN).expect("the date pattern compiles");
    // A slash ends a Lark regex literal: written as its code.
    let date_lark = DATE_PATTERN.replace('/', "\\x2F");
    let dates: Vec<String> = (0..n)
        .filter(|&i| date.is_match(&page.lines[i].text))
        .map(|i| {
            g.push_str(&format!(
                "DATE_{i}: TEXT_{i}_1 & /{date_lark}/\ndate_{i}: {} DATE_{i} {}\n",
                lit("[\""),
                lit(&format!("\",{i}]"))
            ));
            format!("date_{i}")
        })
        .collect();
    if dates.is_empty() {
        // No date on the page (or none the OCR read whole): any printed text.
        g.push_str("date: value\n");
    } else {
        g.push_str(&format!("date: {}\n", dates.join(" | ")));
    }
    if numbers.is_empty() {
        // No digit on the page (an OCR that read none): any printed text.
        g.push_str("number: value\n");
    } else {
        g.push_str(&format!("number: {}\n", numbers.join(" | ")));
    }

    // Items, in printed order under the subtotal cited at line `s`: each described on one
    // of the `ITEM_GAP` lines after the previous item's amount, with its own amount on its description's
    // line or below, above `s`. `desc_from_j_s`: an item described from line j on;
    // `amounts_j_s`: its amount from line j on; `item_j_s`: an item described
    // from line j. A line can hold an amount when it holds a number.
    let amount_at = |a: usize| -> Option<String> {
        if numbers.is_empty() {
            Some(format!("from_{a}"))
        } else {
            numbers_at.contains(&a).then(|| format!("number_{a}"))
        }
    };
    let field = |f: &str| lit(&format!(",\"{f}\":"));
    let amount = ITEM_FIELDS
        .iter()
        .position(|f| *f == "amount")
        .expect("an item has an amount");
    let typed = |f: &str| {
        let rule = if NUMBER_FIELDS.contains(&f) {
            "number"
        } else {
            "value"
        };
        if f == "discount" {
            format!("({rule} | {})", lit("null"))
        } else {
            rule.to_owned()
        }
    };
    let before: Vec<String> = ITEM_FIELDS[1..amount]
        .iter()
        .map(|f| format!("{} {}", field(f), typed(f)))
        .collect();
    let after: Vec<String> = ITEM_FIELDS[amount + 1..]
        .iter()
        .map(|f| format!("{} {}", field(f), typed(f)))
        .collect();
    g.push_str(&format!("item_head: {}\n", before.join(" ")));
    g.push_str(&format!("item_tail: {} {}\n", after.join(" "), lit("}")));
    let bounds: Vec<(usize, String)> = if numbers.is_empty() {
        vec![(n, "value".to_owned())]
    } else {
        numbers_at
            .iter()
            .map(|&s| (s, format!("number_{s}")))
            .collect()
    };
    let mut alts = Vec::new();
    for (s, subtotal) in bounds {
        alts.push(format!("sub_{s}"));
        g.push_str(&format!(
            "sub_{s}: {subtotal} {} middle {} below_{s}\n",
            lit(","),
            lit(",\"items\":[")
        ));
        // Whether an amount fits on line j or below (above s).
        let mut fits = vec![false; s + 1];
        for j in (0..s).rev() {
            fits[j] = fits[j + 1] || amount_at(j).is_some();
        }
        for j in (0..s).rev() {
            if !fits[j] {
                continue;
            }
            let mut amounts = Vec::new();
            if let Some(a) = amount_at(j) {
                let near: Vec<String> = (j + 1..=(j + ITEM_GAP).min(s))
                    .filter(|&x| x < s && fits[x])
                    .map(|x| format!("item_{x}_{s}"))
                    .collect();
                let next = if near.is_empty() {
                    lit("]")
                } else {
                    format!("{} | {} ({})", lit("]"), lit(","), near.join(" | "))
                };
                g.push_str(&format!("amt_{j}_{s}: {a} item_tail ({next})\n"));
                amounts.push(format!("amt_{j}_{s}"));
            }
            let mut descs = vec![format!("item_{j}_{s}")];
            if fits[j + 1] {
                amounts.push(format!("amounts_{}_{s}", j + 1));
                descs.push(format!("desc_from_{}_{s}", j + 1));
            }
            g.push_str(&format!("amounts_{j}_{s}: {}\n", amounts.join(" | ")));
            g.push_str(&format!(
                "item_{j}_{s}: {} from_{j} item_head {} amounts_{j}_{s}\n",
                lit(&format!("{{\"{}\":", ITEM_FIELDS[0])),
                field("amount")
            ));
            g.push_str(&format!("desc_from_{j}_{s}: {}\n", descs.join(" | ")));
        }
        if fits[0] {
            g.push_str(&format!("below_{s}: {} | desc_from_0_{s}\n", lit("]")));
        } else {
            g.push_str(&format!("below_{s}: {}\n", lit("]")));
        }
    }
    g.push_str(&format!("bounded: {}\n", alts.join(" | ")));
    g
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_keep_escapes_whole() {
        assert_eq!(json_chunks("a\"b\\ñ"), vec!["a", "\\\"", "b", "\\\\", "ñ"]);
    }
}

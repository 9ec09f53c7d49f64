//! Grounded decoding: a grammar, built for one page, under which every value a model
//! writes is text printed on the lines it cites.
//!
//! [`document_schema`] says what shape an answer has; [`grounded_grammar`] says, for one
//! [`OcrPage`], which answers of that shape are true to the page: a value
//! `["1,780.05", 36]` is only allowed when `1,780.05` is part of line 36's text (or of a
//! run of two or three consecutive lines, joined by spaces, for a wrapped value cited as
//! `[..., 1, 2]`). A model held to it cannot copy a line's coordinates into a value, invent
//! a value, or cite a line the value is not on; and items, cited in printed order, cannot
//! repeat: an item's description starts on a later line than the one before it.

use whet_synth_docs::DocKind;

use crate::layout::OcrPage;
use crate::target::{
    ITEM_FIELDS, NUMBER_FIELDS, NUMBER_PATTERN, field_order, kind_name, title_lines,
};

/// The field whose cited line the items are printed above.
const ITEMS_BOUND: &str = "subtotal";

/// The longest run of consecutive lines a value may span (as [`crate::grounded_target`]
/// looks values up).
const MAX_RUN: usize = 3;

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
/// targets are), with every value a substring of the lines it cites (neither empty nor starting or
/// ending with a space) and item
/// descriptions on strictly increasing lines. A page without lines has no grounded
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
    if numbers.is_empty() {
        // No digit on the page (an OCR that read none): any printed text.
        g.push_str("number: value\n");
    } else {
        g.push_str(&format!("number: {}\n", numbers.join(" | ")));
    }

    // Items: `items_from_i` is a non-empty list whose first description starts on line
    // i or later; after an item described from line i, the next starts after i.
    let rest: Vec<String> = ITEM_FIELDS
        .iter()
        .skip(1)
        .map(|f| {
            let rule = if NUMBER_FIELDS.contains(f) {
                "number"
            } else {
                "value"
            };
            let v = if *f == "discount" {
                format!("({rule} | {})", lit("null"))
            } else {
                rule.to_owned()
            };
            format!("{} {v}", lit(&format!(",\"{f}\":")))
        })
        .collect();
    g.push_str(&format!("item_rest: {} {}\n", rest.join(" "), lit("}")));
    // `bounded`: the subtotal cited at line `s`, the fields after it, then the items,
    // each described on a line above `s` and below the one before it.
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
        if s == 0 {
            g.push_str(&format!("below_0: {}\n", lit("]")));
            continue;
        }
        g.push_str(&format!("below_{s}: {} | chain_0_{s}\n", lit("]")));
        for i in 0..s {
            let after = if i + 1 < s {
                format!("{} | {} chain_{}_{s}", lit("]"), lit(","), i + 1)
            } else {
                lit("]")
            };
            g.push_str(&format!(
                "item_{i}_{s}: {} from_{i} item_rest ({after})\n",
                lit(&format!("{{\"{}\":", ITEM_FIELDS[0]))
            ));
            if i + 1 < s {
                g.push_str(&format!(
                    "chain_{i}_{s}: item_{i}_{s} | chain_{}_{s}\n",
                    i + 1
                ));
            } else {
                g.push_str(&format!("chain_{i}_{s}: item_{i}_{s}\n"));
            }
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

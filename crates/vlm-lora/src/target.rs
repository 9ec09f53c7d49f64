//! What an extraction model is trained to answer: a document's fields as printed, each
//! value grounded to the OCR lines it is read from, and the JSON schema of that answer.
//!
//! A grounded value is `["1,780.05", 17]`: the text as printed, then the numbers of the
//! lines it comes from (one, or several consecutive lines for a value the printer
//! wrapped). A field that is not printed is `null`. [`strip_grounding`] turns an answer
//! into plain values (what Donut's field F1 compares); [`grounded_values`] lists every
//! value with its lines.

use serde_json::{Map, Value, json};
use whet_synth_docs::{DocKind, Document, Money};

use crate::layout::OcrPage;

/// The scalar fields of the seller block, in printed order.
pub const SELLER_FIELDS: [&str; 3] = ["seller_name", "seller_address", "seller_tin"];
/// The scalar fields of the document-information block, in printed order.
pub const INFO_FIELDS: [&str; 4] = ["document_type", "document_number", "date", "buyer_name"];
/// The fields of one line item, in printed order (a discount, when there is one, is
/// printed under the amount, which is net of it).
pub const ITEM_FIELDS: [&str; 5] = [
    "description",
    "quantity",
    "unit_price",
    "amount",
    "discount",
];
/// The totals, in printed order.
pub const TOTAL_FIELDS: [&str; 5] = ["subtotal", "vatable_sales", "vat", "vat_exempt", "total"];
/// The footer's field.
pub const FOOTER_FIELDS: [&str; 1] = ["payment_method"];
/// The fields whose values are numbers, as printed (`1,076.50`; a discount without its
/// minus sign, an amount without its currency sign).
pub const NUMBER_FIELDS: [&str; 9] = [
    "quantity",
    "unit_price",
    "amount",
    "discount",
    "subtotal",
    "vatable_sales",
    "vat",
    "vat_exempt",
    "total",
];
/// What a number field's value matches ([`NUMBER_FIELDS`]).
pub const NUMBER_PATTERN: &str = "[0-9][0-9,]*(\\.[0-9]+)?";
/// What the `date` field's value matches: a date as printed — digits with `-`, `/` or
/// `.` between day, month and year (`2022-10-07`, `25/12/2018`), or a month's name
/// (`05 MAR 2018`, `25Mar 2018`, `Mar 5, 2018`) — and not a time printed after it
/// (`25/12/2018` of `25/12/2018 8:13:39 PM`), nor a bare number (`2018`, `47200`).
pub const DATE_PATTERN: &str = "([0-9]{1,4}[-/.][0-9]{1,2}[-/.][0-9]{2,4}|[0-9]{1,2}[-/. ]?[A-Za-z]{3,9}[-/. ,]*[0-9]{2,4}|[A-Za-z]{3,9}\\.? [0-9]{1,2},? [0-9]{4})";

/// Every top-level key of an extraction, in the order it is written: the document's
/// information, its totals and payment, then its items (last, so that a decoder knows the
/// subtotal's line, which the items are printed above, before it writes them).
pub fn field_order() -> Vec<&'static str> {
    let mut keys: Vec<&str> = Vec::new();
    keys.extend(INFO_FIELDS.iter().take(1));
    keys.extend(SELLER_FIELDS);
    keys.extend(INFO_FIELDS.iter().skip(1));
    keys.extend(TOTAL_FIELDS);
    keys.extend(FOOTER_FIELDS);
    keys.push("items");
    keys
}

/// The most consecutive lines one value may span: a name or address wrapped on a narrow
/// receipt (SROIE's addresses take up to five).
pub(crate) const MAX_RUN: usize = 5;

/// Case-insensitive search of `needle` in `hay` at word boundaries (no letter or digit
/// right before or after it); the byte range of the match in `hay`.
fn find_word(hay: &str, needle: &str) -> Option<(usize, usize)> {
    let low = |c: char| c.to_lowercase().next().unwrap_or(c);
    let n: Vec<char> = needle.chars().map(low).collect();
    if n.is_empty() {
        return None;
    }
    let h: Vec<(usize, char)> = hay.char_indices().collect();
    for s in 0..h.len() {
        if s + n.len() > h.len() {
            break;
        }
        if (0..n.len()).all(|k| low(h[s + k].1) == n[k]) {
            let e = s + n.len();
            // A letter or digit continues a word; so does a decimal point or thousands
            // separator between digits (`5` is not found in `5.00`).
            let joined = |i: usize, j: usize| {
                h[i].1.is_alphanumeric()
                    || (matches!(h[i].1, '.' | ',')
                        && h.get(j).is_some_and(|x| x.1.is_ascii_digit()))
            };
            let before_ok = s == 0 || !n[0].is_alphanumeric() || !joined(s - 1, s.wrapping_sub(2));
            let after_ok = e == h.len() || !n[n.len() - 1].is_alphanumeric() || !joined(e, e + 1);
            if before_ok && after_ok {
                let end = h.get(e).map_or(hay.len(), |x| x.0);
                return Some((h[s].0, end));
            }
        }
    }
    None
}

/// Where `value` is printed at or after line `from`: the printed text and its lines
/// (a run of up to [`MAX_RUN`] consecutive lines joined by spaces for a wrapped value).
pub(crate) fn locate(page: &OcrPage, value: &str, from: usize) -> Option<(String, Vec<usize>)> {
    let value = value.split_whitespace().collect::<Vec<_>>().join(" ");
    for run in 1..=MAX_RUN {
        for i in from..page.lines.len() {
            if i + run > page.lines.len() {
                break;
            }
            let joined: Vec<&str> = page.lines[i..i + run]
                .iter()
                .map(|l| l.text.as_str())
                .collect();
            let joined = joined.join(" ");
            if let Some((s, e)) = find_word(&joined, &value) {
                // A run must need every line it names.
                if run > 1 {
                    let first_len = page.lines[i].text.len();
                    let last_start = joined.len() - page.lines[i + run - 1].text.len();
                    if s >= first_len || e <= last_start {
                        continue;
                    }
                }
                return Some((joined[s..e].to_owned(), (i..i + run).collect()));
            }
        }
    }
    None
}

fn grounded(text: String, lines: &[usize]) -> Value {
    let mut v = vec![Value::String(text)];
    v.extend(lines.iter().map(|&l| json!(l)));
    Value::Array(v)
}

/// A cursor through the page in printed order.
struct Walker<'a> {
    page: &'a OcrPage,
    at: usize,
}

impl Walker<'_> {
    /// The next value, looked up from the cursor; the cursor then moves past its lines.
    fn next(&mut self, value: Option<&str>) -> Value {
        self.find(value, false)
    }

    /// `share`: the next value may be on the same line (a quantity and its unit price).
    fn find(&mut self, value: Option<&str>, share: bool) -> Value {
        let Some(value) = value.filter(|v| !v.trim().is_empty()) else {
            return Value::Null;
        };
        match locate(self.page, value, self.at) {
            Some((text, lines)) => {
                self.at = if share {
                    lines[0]
                } else {
                    lines[lines.len() - 1] + 1
                };
                grounded(text, &lines)
            }
            None => {
                tracing::debug!(value, from = self.at, "value not found on the page");
                Value::Null
            }
        }
    }
}

pub(crate) fn kind_name(kind: DocKind) -> &'static str {
    match kind {
        DocKind::Receipt => "receipt",
        DocKind::Invoice => "invoice",
        DocKind::PurchaseOrder => "purchase_order",
    }
}

/// The lines that print `kind`'s name (`OFFICIAL RECEIPT` for a receipt), which a
/// `document_type` cites; every line when none does (a title the OCR missed).
pub(crate) fn title_lines(kind: DocKind, page: &OcrPage) -> Vec<usize> {
    let name = kind_name(kind).replace('_', " ");
    let found: Vec<usize> = (0..page.lines.len())
        .filter(|&i| find_word(&page.lines[i].text, &name).is_some())
        .collect();
    if found.is_empty() {
        (0..page.lines.len()).collect()
    } else {
        found
    }
}

/// The grounded answer for `doc` printed as `page` (its lines in printed order): every
/// field the page prints, as printed (a seller's name in the printer's capitals), with
/// the lines it is on; `document_type` is the kind's name (`receipt`) cited to the title
/// line; fields the page does not print are `null` (`vat_exempt` when there is none).
/// Values are looked up in printed order, so a quantity `5` is found on its item's row
/// and not on an earlier line.
pub fn grounded_target(doc: &Document, page: &OcrPage) -> Value {
    let mut w = Walker { page, at: 0 };
    let mut out = Map::new();
    let kind = kind_name(doc.kind);
    let title = w.next(Some(&kind.replace('_', " ")));
    out.insert(
        "document_type".into(),
        match title {
            Value::Array(mut a) => {
                a[0] = Value::String(kind.into());
                Value::Array(a)
            }
            other => other,
        },
    );
    w.at = 0;
    out.insert("seller_name".into(), w.next(Some(&doc.seller.name)));
    out.insert("seller_address".into(), w.next(Some(&doc.seller.address)));
    out.insert("seller_tin".into(), w.next(doc.seller.tax_id.as_deref()));
    out.insert("document_number".into(), w.next(Some(&doc.number)));
    out.insert("date".into(), w.next(Some(&doc.date)));
    out.insert(
        "buyer_name".into(),
        w.next(doc.buyer.as_ref().map(|b| b.name.as_str())),
    );
    let mut items = Vec::new();
    for item in &doc.items {
        let mut o = Map::new();
        o.insert("description".into(), w.next(Some(&item.description)));
        o.insert("quantity".into(), w.find(Some(&item.quantity_text()), true));
        o.insert("unit_price".into(), w.next(Some(&item.unit_price.plain())));
        o.insert("amount".into(), w.next(Some(&item.amount.plain())));
        let discount = (item.discount != Money::ZERO).then(|| item.discount.plain());
        o.insert("discount".into(), w.next(discount.as_deref()));
        items.push(Value::Object(o));
    }
    out.insert("items".into(), Value::Array(items));
    let t = &doc.totals;
    let money = |m: Money| m.plain();
    out.insert("subtotal".into(), w.next(Some(&money(t.subtotal))));
    out.insert(
        "vatable_sales".into(),
        w.next(Some(&money(t.vatable_sales))),
    );
    out.insert("vat".into(), w.next(Some(&money(t.vat))));
    let exempt = (t.vat_exempt != Money::ZERO).then(|| money(t.vat_exempt));
    out.insert("vat_exempt".into(), w.next(exempt.as_deref()));
    out.insert("total".into(), w.next(Some(&money(t.total))));
    out.insert("payment_method".into(), w.next(Some(&doc.payment)));
    // Looked up in printed order; written in the schema's (the totals before the items,
    // which a decoder can then bound above the subtotal's line).
    Value::Object(
        field_order()
            .into_iter()
            .map(|k| (k.to_owned(), out.remove(k).unwrap_or(Value::Null)))
            .collect(),
    )
}

/// Whether `v` is a grounded value: a string followed by one or more line numbers.
pub fn is_grounded_value(v: &Value) -> bool {
    match v.as_array() {
        Some(a) => a.len() >= 2 && a[0].is_string() && a[1..].iter().all(|x| x.as_u64().is_some()),
        None => false,
    }
}

/// The answer with every grounded value replaced by its text (`["1,780.05", 17]` ->
/// `"1,780.05"`): what field F1 compares.
///
/// ```
/// use serde_json::json;
/// let answer = json!({"total": ["1,780.05", 17], "items": [{"amount": ["5.00", 8]}], "vat": null});
/// assert_eq!(
///     whet_vlm_lora::strip_grounding(&answer),
///     json!({"total": "1,780.05", "items": [{"amount": "5.00"}], "vat": null}),
/// );
/// ```
pub fn strip_grounding(v: &Value) -> Value {
    if is_grounded_value(v) {
        return v[0].clone();
    }
    match v {
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, x)| (k.clone(), strip_grounding(x)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(strip_grounding).collect()),
        other => other.clone(),
    }
}

/// One grounded value of an answer: its path (`total`, `items.2.amount`), text and lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroundedValue {
    /// Dotted path, array positions as numbers.
    pub path: String,
    /// The value as printed.
    pub text: String,
    /// The lines it cites.
    pub lines: Vec<usize>,
}

/// Every grounded value of an answer, in document order.
pub fn grounded_values(v: &Value) -> Vec<GroundedValue> {
    fn walk(v: &Value, path: &str, out: &mut Vec<GroundedValue>) {
        if is_grounded_value(v) {
            let a = v.as_array().expect("checked");
            out.push(GroundedValue {
                path: path.to_owned(),
                text: a[0].as_str().unwrap_or_default().to_owned(),
                lines: a[1..]
                    .iter()
                    .filter_map(Value::as_u64)
                    .map(|l| l as usize)
                    .collect(),
            });
            return;
        }
        let join = |k: &str| {
            if path.is_empty() {
                k.to_owned()
            } else {
                format!("{path}.{k}")
            }
        };
        match v {
            Value::Object(o) => o.iter().for_each(|(k, x)| walk(x, &join(k), out)),
            Value::Array(a) => a
                .iter()
                .enumerate()
                .for_each(|(i, x)| walk(x, &join(&i.to_string()), out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(v, "", &mut out);
    out
}

/// The JSON schema of one grounded value (`["text", line, ...]`), nullable or not.
pub fn grounded_value_schema(nullable: bool) -> Value {
    grounded_schema(nullable, None)
}

fn grounded_schema(nullable: bool, pattern: Option<&str>) -> Value {
    let text = match pattern {
        Some(p) => json!({"type": "string", "pattern": format!("^{p}$")}),
        None => json!({"type": "string"}),
    };
    let value = json!({
        "type": "array",
        "prefixItems": [text],
        "items": {"type": "integer", "minimum": 0},
        "minItems": 2,
        "maxItems": 1 + MAX_RUN
    });
    if nullable {
        json!({"anyOf": [value, {"type": "null"}]})
    } else {
        value
    }
}

/// The JSON schema of a grounded extraction of `kind`: every key of
/// [`field_order`] required, in that order; `document_type` fixed to the kind's name;
/// a buyer only on invoices and purchase orders; values grounded.
pub fn document_schema(kind: DocKind) -> Value {
    let mut props = Map::new();
    let v = |n| grounded_value_schema(n);
    let num = |n| grounded_schema(n, Some(NUMBER_PATTERN));
    for key in field_order() {
        let schema = match key {
            "document_type" => json!({
                "type": "array",
                "prefixItems": [{"const": kind_name(kind)}],
                "items": {"type": "integer", "minimum": 0},
                "minItems": 2,
                "maxItems": 2
            }),
            "buyer_name" if kind == DocKind::Receipt => json!({"type": "null"}),
            "buyer_name" | "seller_tin" => v(true),
            "vat_exempt" | "vatable_sales" | "vat" => num(true),
            "subtotal" | "total" => num(false),
            "date" => grounded_schema(false, Some(DATE_PATTERN)),
            "items" => {
                let mut item = Map::new();
                for f in ITEM_FIELDS {
                    let nullable = f == "discount";
                    let schema = if NUMBER_FIELDS.contains(&f) {
                        num(nullable)
                    } else {
                        v(nullable)
                    };
                    item.insert(f.into(), schema);
                }
                json!({
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": item,
                        "required": ITEM_FIELDS,
                        "additionalProperties": false
                    }
                })
            }
            _ => v(false),
        };
        props.insert(key.into(), schema);
    }
    json!({
        "type": "object",
        "properties": props,
        "required": field_order(),
        "additionalProperties": false
    })
}

/// `schema` with every line number bounded by the page's `lines` (`maximum: lines - 1`):
/// constrained decoding then cannot cite a line the page does not have.
pub fn bound_lines(schema: &Value, lines: usize) -> Value {
    match schema {
        Value::Object(o) => {
            let mut o: Map<String, Value> = o
                .iter()
                .map(|(k, v)| (k.clone(), bound_lines(v, lines)))
                .collect();
            if o.get("type") == Some(&json!("integer")) && o.get("minimum") == Some(&json!(0)) {
                o.insert("maximum".into(), json!(lines.saturating_sub(1)));
            }
            Value::Object(o)
        }
        Value::Array(a) => Value::Array(a.iter().map(|v| bound_lines(v, lines)).collect()),
        other => other.clone(),
    }
}

/// The schema of an answer holding only `keys` of [`document_schema`] (a region's or a
/// single field's question).
pub fn partial_schema(kind: DocKind, keys: &[&str]) -> Value {
    let full = document_schema(kind);
    let mut props = Map::new();
    for k in keys {
        if let Some(s) = full["properties"].get(*k) {
            props.insert((*k).into(), s.clone());
        }
    }
    json!({
        "type": "object",
        "properties": props,
        "required": keys,
        "additionalProperties": false
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_found_whole_and_case_insensitively() {
        assert_eq!(find_word("5 x 356.01", "5"), Some((0, 1)));
        assert_eq!(find_word("15 x 5.00", "5"), None);
        assert_eq!(find_word("1,5 x 2", "5"), None);
        assert_eq!(find_word("TOTAL 5. ", "5"), Some((6, 7)));
        assert_eq!(find_word("₱1,780.05", "1,780.05"), Some((3, 11)));
        assert_eq!(find_word("GOLDEN Harvest", "golden harvest"), Some((0, 14)));
        assert_eq!(find_word("100.00", "0.00"), None);
    }
}

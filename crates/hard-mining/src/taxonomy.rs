//! The error taxonomy of structured extraction: each field of a predicted document
//! compared with the truth and classified as missing, spurious, wrong, badly formatted
//! (TIN, date, amount), an OCR confusion (`0`/`O`, `1`/`l`/`I`, `5`/`S`, `8`/`B`,
//! `₱`/`P`, ...), a numeric inconsistency (whet-eval-metrics' validator), a table row
//! missing or extra, or low confidence; with the provenance needed to aggregate them
//! (document type, region, field, and the synth-docs features a synthetic document was
//! made with).
//!
//! ```
//! use serde_json::json;
//! use whet_hard_mining::taxonomy::{Case, ErrorKind, TaxonomyConfig, classify};
//! let truth = json!({"seller_tin": "283-027-817-000", "total": "1,018.68", "date": "2022-02-09"});
//! let predicted = json!({"seller_tin": "283-O27-817-000", "total": "1,018.68"});
//! let errors = classify(&Case::new("doc-1", &truth, &predicted), &TaxonomyConfig::default());
//! let kinds: Vec<_> = errors.iter().map(|e| (e.field.as_str(), e.kind.clone())).collect();
//! assert_eq!(kinds, [("date", ErrorKind::MissingField), ("seller_tin", ErrorKind::OcrConfusion)]);
//! assert_eq!(errors[1].confusions, [('0', 'O')]);
//! ```

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use whet_eval_metrics::extraction::{
    ConsistencyRules, Rule, Totals, check_consistency, format_minor, normalize_text, parse_amount,
    parse_date,
};
use whet_synth_docs::DocFeature;

/// The format a field's value must have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldFormat {
    /// A Philippine TIN: `###-###-###` with an optional `-###` (or `-#####`) branch code.
    Tin,
    /// A date `parse_date` understands.
    Date,
    /// A money amount `parse_amount` understands.
    Amount,
    /// Free text.
    Text,
}

impl FieldFormat {
    /// The format of a field by its key (the last path segment): `*tin*` is a TIN,
    /// `*date*` a date, the money keys of receipts and invoices (`total`, `subtotal`,
    /// `vat`, `vatable_sales`, `vat_exempt`, `zero_rated`, `discount`, `amount`,
    /// `unit_price`, `service_charge`, `cash`, `change`) amounts; the rest text.
    pub fn of_key(key: &str) -> FieldFormat {
        let last = key.rsplit('.').next().unwrap_or(key);
        let last = last.split('[').next().unwrap_or(last);
        const AMOUNTS: [&str; 13] = [
            "total",
            "subtotal",
            "vat",
            "vatable_sales",
            "vat_exempt",
            "zero_rated",
            "discount",
            "amount",
            "unit_price",
            "price",
            "service_charge",
            "cash",
            "change",
        ];
        if last.contains("tin") && !last.contains("tint") {
            FieldFormat::Tin
        } else if last.contains("date") {
            FieldFormat::Date
        } else if AMOUNTS.contains(&last) {
            FieldFormat::Amount
        } else {
            FieldFormat::Text
        }
    }

    /// Whether `value` is well-formed in this format.
    pub fn accepts(self, value: &str) -> bool {
        match self {
            FieldFormat::Tin => is_tin(value),
            FieldFormat::Date => parse_date(value).is_some(),
            FieldFormat::Amount => parse_amount(value).is_some(),
            FieldFormat::Text => true,
        }
    }

    /// Whether two well-formed values mean the same (amounts in minor units, dates as
    /// dates, TINs by digits, text normalised).
    pub fn same(self, a: &str, b: &str) -> bool {
        match self {
            FieldFormat::Amount => match (parse_amount(a), parse_amount(b)) {
                (Some(x), Some(y)) => x == y,
                _ => normalize_text(a) == normalize_text(b),
            },
            FieldFormat::Date => match (parse_date(a), parse_date(b)) {
                (Some(x), Some(y)) => x == y,
                _ => normalize_text(a) == normalize_text(b),
            },
            FieldFormat::Tin => {
                let digits = |s: &str| s.chars().filter(char::is_ascii_digit).collect::<String>();
                is_tin(a) && is_tin(b) && digits(a) == digits(b)
            }
            FieldFormat::Text => normalize_text(a) == normalize_text(b),
        }
    }
}

/// `###-###-###`, optionally followed by `-###` or `-#####` (BIR's branch code).
fn is_tin(s: &str) -> bool {
    let groups: Vec<&str> = s.trim().split('-').collect();
    let digits = |g: &str, n: usize| g.len() == n && g.chars().all(|c| c.is_ascii_digit());
    match groups.as_slice() {
        [a, b, c] => digits(a, 3) && digits(b, 3) && digits(c, 3),
        [a, b, c, d] => {
            digits(a, 3) && digits(b, 3) && digits(c, 3) && (digits(d, 3) || digits(d, 5))
        }
        _ => false,
    }
}

/// What went wrong with one field (or row, or document).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "detail")]
pub enum ErrorKind {
    /// The truth has a value, the prediction none.
    MissingField,
    /// The prediction has a value the truth does not.
    SpuriousField,
    /// A well-formed value that is simply different.
    WrongValue,
    /// The predicted value is not a valid TIN / date / amount.
    FormatError(FieldFormat),
    /// The predicted document's numbers do not add up where the truth's do (the rule, as
    /// whet-eval-metrics' validator names it: `ItemsSum`, `VatRate`, `Total`, ...).
    NumericInconsistency(String),
    /// The value differs from the truth only by look-alike characters (see
    /// [`ErrorRecord::confusions`]).
    OcrConfusion,
    /// A table row of the truth has no predicted row.
    TableRowMissing,
    /// A predicted table row matches no row of the truth.
    TableRowExtra,
    /// The model's confidence in this field is below the threshold (whether or not the
    /// value is right): it goes to a person.
    LowConfidence,
}

impl ErrorKind {
    /// A short name for reports: `missing_field`, `format_error:tin`, ...
    pub fn name(&self) -> String {
        match self {
            ErrorKind::MissingField => "missing_field".into(),
            ErrorKind::SpuriousField => "spurious_field".into(),
            ErrorKind::WrongValue => "wrong_value".into(),
            ErrorKind::FormatError(f) => {
                format!("format_error:{}", format!("{f:?}").to_lowercase())
            }
            ErrorKind::NumericInconsistency(r) => format!("numeric_inconsistency:{r}"),
            ErrorKind::OcrConfusion => "ocr_confusion".into(),
            ErrorKind::TableRowMissing => "table_row_missing".into(),
            ErrorKind::TableRowExtra => "table_row_extra".into(),
            ErrorKind::LowConfidence => "low_confidence".into(),
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

/// One classified failure with its provenance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorRecord {
    /// The document.
    pub doc_id: String,
    /// Its type (`receipt`, `invoice`, ...), when known.
    pub doc_type: Option<String>,
    /// The field's path: `total`, `items[2].amount`; `items[2]` for a whole row; the rule's
    /// fields for an inconsistency.
    pub field: String,
    /// Where on the document the field lives: `header`, `items` or `totals`.
    pub region: String,
    /// What went wrong.
    pub kind: ErrorKind,
    /// The true value, when there is one.
    pub expected: Option<String>,
    /// The predicted value, when there is one.
    pub predicted: Option<String>,
    /// For OCR confusions: each `(true, predicted)` character pair that differs.
    pub confusions: Vec<(char, char)>,
    /// The model's confidence in the field, when it gave one.
    pub confidence: Option<f64>,
    /// The synth-docs features the document was made with (empty for real documents).
    pub features: Vec<DocFeature>,
}

/// Groups of characters OCR mistakes for each other.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConfusionTable {
    /// Each group's characters are look-alikes of each other.
    pub groups: Vec<String>,
}

impl Default for ConfusionTable {
    fn default() -> Self {
        ConfusionTable {
            groups: [
                "0OoDQ", "1lIi|!", "5Ss", "8B", "₱P", "2Zz", "6Gb", "9gq", "4A", "7T", "uv", ".,",
                "-–—",
            ]
            .iter()
            .map(|s| (*s).to_owned())
            .collect(),
        }
    }
}

impl ConfusionTable {
    /// Whether `a` and `b` are look-alikes.
    pub fn confusable(&self, a: char, b: char) -> bool {
        a != b && self.groups.iter().any(|g| g.contains(a) && g.contains(b))
    }

    /// The differing `(true, predicted)` pairs when `predicted` is `truth` with only
    /// look-alike substitutions (same length, at least one); `None` otherwise.
    pub fn explain(&self, truth: &str, predicted: &str) -> Option<Vec<(char, char)>> {
        let (t, p): (Vec<char>, Vec<char>) = (
            truth.trim().chars().collect(),
            predicted.trim().chars().collect(),
        );
        if t.len() != p.len() {
            return None;
        }
        let pairs: Vec<(char, char)> = t
            .iter()
            .zip(&p)
            .filter(|(a, b)| a != b)
            .map(|(a, b)| (*a, *b))
            .collect();
        (!pairs.is_empty() && pairs.iter().all(|&(a, b)| self.confusable(a, b))).then_some(pairs)
    }
}

/// How fields are judged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaxonomyConfig {
    /// Fields below this confidence are [`ErrorKind::LowConfidence`] (default 0.85).
    pub low_confidence: f64,
    /// The consistency rules (default: the Philippines, 12% VAT inclusive).
    pub rules: ConsistencyRules,
    /// The look-alike characters.
    pub confusions: ConfusionTable,
    /// The key of the table of line items.
    pub items_key: String,
    /// Keys that are metadata, not extracted fields (never compared).
    pub skip: Vec<String>,
}

impl Default for TaxonomyConfig {
    fn default() -> Self {
        TaxonomyConfig {
            low_confidence: 0.85,
            rules: ConsistencyRules::philippines(),
            confusions: ConfusionTable::default(),
            items_key: "items".into(),
            skip: vec!["document_type".into()],
        }
    }
}

/// One document to classify: the truth, the prediction, and what is known about it.
#[derive(Debug, Clone)]
pub struct Case<'a> {
    /// The document's id.
    pub id: &'a str,
    /// Its true fields (a JSON object; synth-docs' manifest `fields`).
    pub truth: &'a Value,
    /// The predicted fields.
    pub predicted: &'a Value,
    /// The model's confidence per field path (`total`, `items[0].amount`), if any.
    pub confidences: BTreeMap<String, f64>,
    /// The synth-docs features the document was made with.
    pub features: Vec<DocFeature>,
    /// The document type (default: the truth's `document_type`).
    pub doc_type: Option<String>,
}

impl<'a> Case<'a> {
    /// A case with no confidences and no features.
    pub fn new(id: &'a str, truth: &'a Value, predicted: &'a Value) -> Self {
        Case {
            id,
            truth,
            predicted,
            confidences: BTreeMap::new(),
            features: Vec::new(),
            doc_type: truth
                .get("document_type")
                .and_then(Value::as_str)
                .map(str::to_owned),
        }
    }
}

/// A scalar's text: strings as they are, numbers and booleans printed; `None` for null,
/// empty text, arrays and objects.
fn scalar(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) if !s.trim().is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

const TOTALS: [&str; 12] = [
    "subtotal",
    "discount",
    "service_charge",
    "vatable_sales",
    "vat",
    "vat_exempt",
    "zero_rated",
    "total",
    "amount_due",
    "cash",
    "change",
    "payment_method",
];

fn region_of(key: &str, items_key: &str) -> &'static str {
    if key.starts_with(items_key) {
        "items"
    } else if TOTALS.contains(&key) {
        "totals"
    } else {
        "header"
    }
}

struct Classifier<'c, 'a> {
    case: &'c Case<'a>,
    config: &'c TaxonomyConfig,
    out: Vec<ErrorRecord>,
}

impl Classifier<'_, '_> {
    fn record(
        &mut self,
        field: &str,
        kind: ErrorKind,
        expected: Option<String>,
        predicted: Option<String>,
    ) -> &mut ErrorRecord {
        self.out.push(ErrorRecord {
            doc_id: self.case.id.to_owned(),
            doc_type: self.case.doc_type.clone(),
            field: field.to_owned(),
            region: region_of(field, &self.config.items_key).to_owned(),
            kind,
            expected,
            predicted,
            confusions: Vec::new(),
            confidence: self.case.confidences.get(field).copied(),
            features: self.case.features.clone(),
        });
        self.out.last_mut().expect("just pushed")
    }

    /// One scalar field.
    fn field(&mut self, path: &str, key: &str, truth: Option<&Value>, predicted: Option<&Value>) {
        let (t, p) = (scalar(truth), scalar(predicted));
        let format = FieldFormat::of_key(key);
        match (&t, &p) {
            (None, None) => {}
            (Some(_), None) => {
                self.record(path, ErrorKind::MissingField, t.clone(), None);
            }
            (None, Some(_)) => {
                self.record(path, ErrorKind::SpuriousField, None, p.clone());
            }
            (Some(tv), Some(pv)) => {
                if format.same(tv, pv) {
                    // right
                } else if let Some(pairs) = self.config.confusions.explain(tv, pv) {
                    self.record(path, ErrorKind::OcrConfusion, t.clone(), p.clone())
                        .confusions = pairs;
                } else if !format.accepts(pv) {
                    self.record(path, ErrorKind::FormatError(format), t.clone(), p.clone());
                } else {
                    self.record(path, ErrorKind::WrongValue, t.clone(), p.clone());
                }
            }
        }
        if let (Some(_), Some(&c)) = (&p, self.case.confidences.get(path))
            && c < self.config.low_confidence
        {
            self.record(path, ErrorKind::LowConfidence, t, p);
        }
    }

    /// The fields of an object, every key of either side, in key order.
    fn object(&mut self, prefix: &str, truth: Option<&Value>, predicted: Option<&Value>) {
        let empty = serde_json::Map::new();
        let t = truth.and_then(Value::as_object).unwrap_or(&empty);
        let p = predicted.and_then(Value::as_object).unwrap_or(&empty);
        let mut keys: Vec<&String> = t.keys().chain(p.keys()).collect();
        keys.sort();
        keys.dedup();
        for key in keys {
            if self.config.skip.contains(key) {
                continue;
            }
            let path = if prefix.is_empty() {
                key.clone()
            } else {
                format!("{prefix}.{key}")
            };
            if prefix.is_empty() && *key == self.config.items_key {
                self.table(key, t.get(key), p.get(key));
            } else if t.get(key).is_some_and(Value::is_object)
                || p.get(key).is_some_and(Value::is_object)
            {
                self.object(&path, t.get(key), p.get(key));
            } else {
                self.field(&path, key, t.get(key), p.get(key));
            }
        }
    }

    /// Line items: rows matched one to one by how many of their fields agree (ties by
    /// order), unmatched rows reported, matched rows compared field by field.
    fn table(&mut self, key: &str, truth: Option<&Value>, predicted: Option<&Value>) {
        let rows = |v: Option<&Value>| v.and_then(Value::as_array).cloned().unwrap_or_default();
        let (t, p) = (rows(truth), rows(predicted));
        let agree = |a: &Value, b: &Value| -> usize {
            let (Some(a), Some(b)) = (a.as_object(), b.as_object()) else {
                return 0;
            };
            a.iter()
                .filter(|(k, v)| match (scalar(Some(v)), scalar(b.get(*k))) {
                    (Some(x), Some(y)) => FieldFormat::of_key(k).same(&x, &y),
                    _ => false,
                })
                .count()
        };
        // Greedy on agreement, best pairs first (ties: earlier rows first).
        let mut pairs: Vec<(usize, usize, usize)> = Vec::new();
        for (i, tr) in t.iter().enumerate() {
            for (j, pr) in p.iter().enumerate() {
                let a = agree(tr, pr);
                if a > 0 {
                    pairs.push((a, i, j));
                }
            }
        }
        pairs.sort_by(|x, y| y.0.cmp(&x.0).then(x.1.cmp(&y.1)).then(x.2.cmp(&y.2)));
        let (mut used_t, mut used_p) = (vec![None; t.len()], vec![false; p.len()]);
        for (_, i, j) in pairs {
            if used_t[i].is_none() && !used_p[j] {
                used_t[i] = Some(j);
                used_p[j] = true;
            }
        }
        for (i, tr) in t.iter().enumerate() {
            let path = format!("{key}[{i}]");
            match used_t[i] {
                Some(j) => self.object(&path, Some(tr), Some(&p[j])),
                None => {
                    self.record(
                        &path,
                        ErrorKind::TableRowMissing,
                        Some(tr.to_string()),
                        None,
                    );
                }
            }
        }
        for (j, pr) in p.iter().enumerate() {
            if !used_p[j] {
                self.record(
                    &format!("{key}[+{j}]"),
                    ErrorKind::TableRowExtra,
                    None,
                    Some(pr.to_string()),
                );
            }
        }
    }

    /// Rules the prediction breaks that the truth keeps.
    fn consistency(&mut self) {
        let broken = |v: &Value| -> Vec<Rule> {
            check_consistency(&Totals::from_json(v), &self.config.rules)
                .into_iter()
                .map(|x| x.rule)
                .collect()
        };
        let truth_broken = broken(self.case.truth);
        for v in check_consistency(&Totals::from_json(self.case.predicted), &self.config.rules) {
            if truth_broken.contains(&v.rule) {
                continue;
            }
            let (field, name) = match v.rule {
                Rule::LineAmount { index } => (
                    format!("{}[{index}].amount", self.config.items_key),
                    "LineAmount".to_owned(),
                ),
                Rule::ItemsSum => ("subtotal".into(), "ItemsSum".into()),
                Rule::VatRate => ("vat".into(), "VatRate".into()),
                Rule::VatBreakdown => ("vatable_sales".into(), "VatBreakdown".into()),
                Rule::Total => ("total".into(), "Total".into()),
            };
            self.record(
                &field,
                ErrorKind::NumericInconsistency(name),
                Some(format_minor(v.expected)),
                Some(format_minor(v.found)),
            );
        }
    }
}

/// Every error of one predicted document: field by field (nested objects by dotted path,
/// line items by `items[i].key` after matching rows), then the consistency rules the
/// prediction breaks and the truth keeps. A field with a confidence below the threshold
/// gets a [`ErrorKind::LowConfidence`] record besides any other.
pub fn classify(case: &Case<'_>, config: &TaxonomyConfig) -> Vec<ErrorRecord> {
    let mut c = Classifier {
        case,
        config,
        out: Vec::new(),
    };
    c.object("", Some(case.truth), Some(case.predicted));
    c.consistency();
    c.out
}

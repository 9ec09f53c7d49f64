//! Numeric consistency of financial documents: do the line items, subtotal, VAT and total
//! add up? Every amount is in integer minor units (centavos), so no rule is fooled by
//! floating-point error; a tolerance in minor units absorbs the rounding a printed
//! receipt does.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::normalize::parse_amount;

/// One line item's numbers.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct LineAmounts {
    /// Quantity (may be fractional: 1.5 kg).
    pub quantity: Option<f64>,
    /// Price of one unit, minor units.
    pub unit_price: Option<i64>,
    /// The line's amount, minor units (net of its discount).
    pub amount: Option<i64>,
    /// The line's discount, minor units, positive (subtracted from quantity x price).
    #[serde(default)]
    pub discount: Option<i64>,
}

/// The numbers of a receipt or invoice, as extracted (any may be missing).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Totals {
    /// Line items.
    pub lines: Vec<LineAmounts>,
    /// Sum of the line amounts.
    pub subtotal: Option<i64>,
    /// Discount subtracted from the subtotal (positive).
    pub discount: Option<i64>,
    /// Service charge added.
    pub service_charge: Option<i64>,
    /// Sales subject to VAT (without the VAT).
    pub vatable_sales: Option<i64>,
    /// VAT amount.
    pub vat: Option<i64>,
    /// VAT-exempt sales.
    pub vat_exempt: Option<i64>,
    /// Zero-rated sales.
    pub zero_rated: Option<i64>,
    /// Amount due.
    pub total: Option<i64>,
}

fn amount(v: Option<&Value>) -> Option<i64> {
    match v? {
        Value::String(s) => parse_amount(s),
        Value::Number(n) => {
            let f = n.as_f64()?;
            f.is_finite().then(|| (f * 100.0).round() as i64)
        }
        _ => None,
    }
}

fn first<'a>(obj: &'a serde_json::Map<String, Value>, keys: &[&str]) -> Option<&'a Value> {
    keys.iter().find_map(|k| obj.get(*k))
}

impl Totals {
    /// Reads the usual keys of an extraction result: `subtotal`, `discount`,
    /// `service_charge`, `vatable_sales`, `vat` (or `vat_amount`, `tax`), `vat_exempt`,
    /// `zero_rated`, `total` (or `amount_due`, `grand_total`), and `items` / `line_items` /
    /// `lines` with `quantity` (or `qty`), `unit_price` (or `price`), `amount` (or
    /// `total`). Amounts may be numbers (major units) or text (`"₱1,250.00"`).
    pub fn from_json(doc: &Value) -> Totals {
        let empty = serde_json::Map::new();
        let o = doc.as_object().unwrap_or(&empty);
        let lines = first(o, &["items", "line_items", "lines"])
            .and_then(Value::as_array)
            .map(|items| {
                items
                    .iter()
                    .filter_map(Value::as_object)
                    .map(|it| LineAmounts {
                        quantity: first(it, &["quantity", "qty"]).and_then(|q| match q {
                            Value::Number(n) => n.as_f64(),
                            Value::String(s) => s.trim().replace(',', "").parse().ok(),
                            _ => None,
                        }),
                        unit_price: amount(first(it, &["unit_price", "price"])),
                        amount: amount(first(it, &["amount", "total"])),
                        discount: amount(it.get("discount")).map(i64::abs),
                    })
                    .collect()
            })
            .unwrap_or_default();
        Totals {
            lines,
            subtotal: amount(o.get("subtotal")),
            discount: amount(o.get("discount")),
            service_charge: amount(o.get("service_charge")),
            vatable_sales: amount(o.get("vatable_sales")),
            vat: amount(first(o, &["vat", "vat_amount", "tax"])),
            vat_exempt: amount(o.get("vat_exempt")),
            zero_rated: amount(o.get("zero_rated")),
            total: amount(first(o, &["total", "amount_due", "grand_total"])),
        }
    }
}

/// The arithmetic a locale's documents obey.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ConsistencyRules {
    /// VAT rate (0.12 in the Philippines).
    pub vat_rate: f64,
    /// Whether prices and the subtotal include VAT (Philippine receipts: yes; then
    /// `vatable_sales + vat + vat_exempt + zero_rated = subtotal`).
    pub prices_include_vat: bool,
    /// Largest difference, in minor units, still counted as equal.
    pub tolerance: i64,
}

impl ConsistencyRules {
    /// Philippine receipts and invoices: 12% VAT included in prices, 1 centavo tolerance.
    pub fn philippines() -> Self {
        ConsistencyRules {
            vat_rate: 0.12,
            prices_include_vat: true,
            tolerance: 1,
        }
    }

    /// The standard VAT / GST rate of a country (ISO 3166 alpha-2 code), with consumer
    /// prices including the tax and a 1-minor-unit tolerance: PH 12%, SG 9%, TH 7%, JP 10%,
    /// AU 10%, NZ 15%, GB 20%, DE 19%, FR 20%. `None` for other codes, and for countries
    /// without one national rate (the US, India): use [`ConsistencyRules::new`] there, and
    /// for reduced rates.
    ///
    /// ```
    /// use whet_eval_metrics::extraction::ConsistencyRules;
    /// assert_eq!(ConsistencyRules::for_country("ph"), Some(ConsistencyRules::philippines()));
    /// assert_eq!(ConsistencyRules::for_country("SG").map(|r| r.vat_rate), Some(0.09));
    /// assert!(ConsistencyRules::for_country("US").is_none());
    /// ```
    pub fn for_country(code: &str) -> Option<Self> {
        let rate = match code.to_ascii_uppercase().as_str() {
            "PH" => 0.12,
            "SG" => 0.09,
            "TH" => 0.07,
            "JP" | "AU" => 0.10,
            "NZ" => 0.15,
            "GB" | "FR" => 0.20,
            "DE" => 0.19,
            _ => return None,
        };
        Some(ConsistencyRules::new(rate, true, 1))
    }

    /// Another locale's rules.
    pub fn new(vat_rate: f64, prices_include_vat: bool, tolerance: i64) -> Self {
        ConsistencyRules {
            vat_rate,
            prices_include_vat,
            tolerance,
        }
    }
}

/// Which rule a document broke.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Rule {
    /// `quantity x unit_price - discount = amount` for line `index`.
    LineAmount {
        /// 0-based line index.
        index: usize,
    },
    /// The line amounts sum to the subtotal.
    ItemsSum,
    /// `vat = rate x vatable_sales`.
    VatRate,
    /// VAT-inclusive documents: `vatable_sales + vat + vat_exempt + zero_rated = subtotal`.
    VatBreakdown,
    /// `subtotal - discount + service_charge (+ vat when prices exclude it) = total`.
    Total,
}

/// One broken rule: what the other numbers imply, and what the document says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Violation {
    /// The rule.
    pub rule: Rule,
    /// The value the rule computes from the other fields, minor units.
    pub expected: i64,
    /// The value on the document, minor units.
    pub found: i64,
}

/// An amount in minor units as plain text with two decimals: `-1234` -> `"-12.34"`.
///
/// ```
/// use whet_eval_metrics::extraction::format_minor;
/// assert_eq!(format_minor(101_868), "1018.68");
/// assert_eq!(format_minor(-5), "-0.05");
/// ```
pub fn format_minor(v: i64) -> String {
    format!(
        "{}{}.{:02}",
        if v < 0 { "-" } else { "" },
        v.abs() / 100,
        v.abs() % 100
    )
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let money = format_minor;
        write!(
            f,
            "{:?}: expected {}, found {} (off by {})",
            self.rule,
            money(self.expected),
            money(self.found),
            money(self.found - self.expected)
        )
    }
}

/// Every rule `doc` breaks under `rules`; a rule is checked only when the fields it needs
/// are present. Empty when the document is consistent.
///
/// ```
/// use whet_eval_metrics::extraction::{check_consistency, ConsistencyRules, Rule, Totals};
/// let doc = Totals::from_json(&serde_json::json!({
///     "items": [{"qty": 2, "unit_price": "₱50.00", "amount": "₱100.00"},
///               {"qty": 1, "unit_price": "₱12.00", "amount": "₱12.00"}],
///     "subtotal": "₱112.00", "vatable_sales": "₱100.00", "vat": "₱12.00", "total": "₱112.00"
/// }));
/// assert!(check_consistency(&doc, &ConsistencyRules::philippines()).is_empty());
/// let mut wrong = doc.clone();
/// wrong.vat = Some(1_300);
/// let rules: Vec<Rule> = check_consistency(&wrong, &ConsistencyRules::philippines())
///     .into_iter().map(|v| v.rule).collect();
/// assert_eq!(rules, [Rule::VatRate, Rule::VatBreakdown]);
/// ```
pub fn check_consistency(doc: &Totals, rules: &ConsistencyRules) -> Vec<Violation> {
    let mut out = Vec::new();
    let mut check = |rule: Rule, expected: i64, found: i64| {
        if (expected - found).abs() > rules.tolerance {
            out.push(Violation {
                rule,
                expected,
                found,
            });
        }
    };
    for (index, line) in doc.lines.iter().enumerate() {
        if let (Some(q), Some(p), Some(a)) = (line.quantity, line.unit_price, line.amount) {
            let gross = (q * p as f64).round() as i64;
            check(
                Rule::LineAmount { index },
                gross - line.discount.unwrap_or(0),
                a,
            );
        }
    }
    let line_amounts: Option<Vec<i64>> = doc.lines.iter().map(|l| l.amount).collect();
    if let (Some(amounts), Some(subtotal)) = (line_amounts.filter(|a| !a.is_empty()), doc.subtotal)
    {
        check(Rule::ItemsSum, amounts.iter().sum(), subtotal);
    }
    if let (Some(vatable), Some(vat)) = (doc.vatable_sales, doc.vat) {
        check(
            Rule::VatRate,
            (vatable as f64 * rules.vat_rate).round() as i64,
            vat,
        );
    }
    let vat = doc.vat.unwrap_or(0);
    if let (true, Some(vatable), Some(subtotal)) =
        (rules.prices_include_vat, doc.vatable_sales, doc.subtotal)
    {
        let parts = vatable + vat + doc.vat_exempt.unwrap_or(0) + doc.zero_rated.unwrap_or(0);
        check(Rule::VatBreakdown, parts, subtotal);
    }
    if let (Some(subtotal), Some(total)) = (doc.subtotal, doc.total) {
        let mut expected = subtotal - doc.discount.unwrap_or(0) + doc.service_charge.unwrap_or(0);
        if !rules.prices_include_vat {
            expected += vat;
        }
        check(Rule::Total, expected, total);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_printed_discount_makes_a_line_add_up() {
        let line = |discount| Totals {
            lines: vec![LineAmounts {
                quantity: Some(4.0),
                unit_price: Some(27_692),
                amount: Some(109_677),
                discount,
            }],
            ..Totals::default()
        };
        let rules = ConsistencyRules::philippines();
        assert!(check_consistency(&line(Some(1_091)), &rules).is_empty());
        let v = check_consistency(&line(None), &rules);
        assert_eq!(v[0].rule, Rule::LineAmount { index: 0 });
        assert_eq!((v[0].expected, v[0].found), (110_768, 109_677));
        let read = Totals::from_json(&serde_json::json!({"items": [
            {"quantity": "4", "unit_price": "276.92", "amount": "1,096.77", "discount": "-10.91"}
        ]}));
        assert_eq!(read.lines[0].discount, Some(1_091));
        assert!(check_consistency(&read, &rules).is_empty());
    }

    #[test]
    fn every_broken_rule_is_reported() {
        let doc = Totals {
            lines: vec![
                LineAmounts {
                    quantity: Some(3.0),
                    unit_price: Some(1_000),
                    amount: Some(3_100),
                    discount: None,
                },
                LineAmounts {
                    quantity: Some(1.5),
                    unit_price: Some(2_000),
                    amount: Some(3_000),
                    discount: None,
                },
            ],
            subtotal: Some(7_000),
            vatable_sales: Some(5_000),
            vat: Some(600),
            total: Some(6_900),
            ..Totals::default()
        };
        let v = check_consistency(&doc, &ConsistencyRules::philippines());
        let rules: Vec<Rule> = v.iter().map(|v| v.rule).collect();
        assert_eq!(
            rules,
            [
                Rule::LineAmount { index: 0 },
                Rule::ItemsSum,
                Rule::VatBreakdown,
                Rule::Total
            ]
        );
        assert_eq!((v[0].expected, v[0].found), (3_000, 3_100));
    }

    #[test]
    fn exclusive_prices_add_vat_to_the_total() {
        let doc = Totals {
            subtotal: Some(10_000),
            vatable_sales: Some(10_000),
            vat: Some(1_000),
            total: Some(11_000),
            ..Totals::default()
        };
        assert!(check_consistency(&doc, &ConsistencyRules::new(0.10, false, 0)).is_empty());
        assert_eq!(
            check_consistency(&doc, &ConsistencyRules::philippines()).len(),
            3
        );
    }
}

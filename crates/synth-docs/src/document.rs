//! The financial document model: parties, line items and totals in integer minor units,
//! with arithmetic that always adds up (unless a document is made inconsistent on
//! purpose, to train verification).

use serde::{Deserialize, Serialize};

use crate::locale::{Locale, TaxRule};
use crate::money::{Currency, Money, mul_div_round};

/// What kind of document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocKind {
    /// A point-of-sale receipt (official receipt / sales invoice in the Philippines).
    Receipt,
    /// An invoice to a named buyer.
    Invoice,
    /// A purchase order from a buyer to a seller.
    PurchaseOrder,
}

/// How a line is taxed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VatClass {
    /// Subject to the locale's tax.
    Vatable,
    /// VAT-exempt (basic food in the Philippines).
    Exempt,
    /// Zero-rated (exports).
    ZeroRated,
}

/// A seller or buyer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Party {
    /// Business or person name.
    pub name: String,
    /// Street address and city, one line.
    pub address: String,
    /// Tax id in the locale's printed form.
    pub tax_id: Option<String>,
}

/// One line of the items table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineItem {
    /// Item text as printed.
    pub description: String,
    /// Quantity in thousandths (1 item = 1000; 1.5 kg = 1500).
    pub quantity_milli: i64,
    /// Price of one unit.
    pub unit_price: Money,
    /// Discount on the line (positive).
    pub discount: Money,
    /// `round(quantity x unit_price) - discount`.
    pub amount: Money,
    /// How the line is taxed.
    pub vat_class: VatClass,
}

impl LineItem {
    /// A line whose amount is computed from quantity, price and discount.
    pub fn new(
        description: impl Into<String>,
        quantity_milli: i64,
        unit_price: Money,
        discount: Money,
        vat_class: VatClass,
    ) -> Self {
        let gross = mul_div_round(unit_price.minor, quantity_milli, 1000);
        LineItem {
            description: description.into(),
            quantity_milli,
            unit_price,
            discount,
            amount: Money::new(gross - discount.minor),
            vat_class,
        }
    }

    /// The quantity as printed: `2`, `1.5`, `0.25`.
    pub fn quantity_text(&self) -> String {
        let q = self.quantity_milli;
        if q % 1000 == 0 {
            (q / 1000).to_string()
        } else {
            let s = format!("{}.{:03}", q / 1000, (q % 1000).abs());
            s.trim_end_matches('0').to_owned()
        }
    }
}

/// The totals block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    /// Sum of the line amounts (tax included where prices include it).
    pub subtotal: Money,
    /// Sales subject to tax, without the tax.
    pub vatable_sales: Money,
    /// The tax.
    pub vat: Money,
    /// VAT-exempt sales.
    pub vat_exempt: Money,
    /// Zero-rated sales.
    pub zero_rated: Money,
    /// Amount due.
    pub total: Money,
}

impl Totals {
    /// The rows a document prints for these totals, in order: subtotal, vatable sales,
    /// the tax with its rate, VAT-exempt sales (when any), total.
    pub fn printed_rows(&self, tax: &TaxRule) -> Vec<(String, Money)> {
        let mut rows = vec![
            ("SUBTOTAL".to_owned(), self.subtotal),
            ("VATable Sales".to_owned(), self.vatable_sales),
            (
                format!(
                    "{} ({}%)",
                    tax.name,
                    tax.rate_num as f64 * 100.0 / tax.rate_den as f64
                ),
                self.vat,
            ),
        ];
        if self.vat_exempt.minor != 0 {
            rows.push(("VAT-Exempt Sales".to_owned(), self.vat_exempt));
        }
        rows.push(("TOTAL".to_owned(), self.total));
        rows
    }

    /// The totals of `items` under `tax`: with tax-inclusive prices the vatable lines'
    /// sum is split into `vatable_sales = round(sum / (1 + rate))` and `vat = sum -
    /// vatable_sales` (as Philippine receipts print them) and the total is the subtotal;
    /// otherwise `vat = round(rate x vatable_sales)` is added to the subtotal.
    pub fn compute(items: &[LineItem], tax: &TaxRule) -> Totals {
        let of = |class: VatClass| -> Money {
            items
                .iter()
                .filter(|i| i.vat_class == class)
                .map(|i| i.amount)
                .sum()
        };
        let (vatable_gross, vat_exempt, zero_rated) = (
            of(VatClass::Vatable),
            of(VatClass::Exempt),
            of(VatClass::ZeroRated),
        );
        let subtotal = vatable_gross + vat_exempt + zero_rated;
        if tax.inclusive {
            let vatable_sales = Money::new(mul_div_round(
                vatable_gross.minor,
                tax.rate_den,
                tax.rate_den + tax.rate_num,
            ));
            Totals {
                subtotal,
                vatable_sales,
                vat: vatable_gross - vatable_sales,
                vat_exempt,
                zero_rated,
                total: subtotal,
            }
        } else {
            let vat = Money::new(mul_div_round(
                vatable_gross.minor,
                tax.rate_num,
                tax.rate_den,
            ));
            Totals {
                subtotal,
                vatable_sales: vatable_gross,
                vat,
                vat_exempt,
                zero_rated,
                total: subtotal + vat,
            }
        }
    }
}

/// One labelled key field of a document (`total` = `"1,250.00"`): the unit of field
/// accuracy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Field {
    /// Field name, as in [`Document::fields_json`].
    pub name: String,
    /// Its value as printed.
    pub value: String,
}

/// A receipt, invoice or purchase order, with everything a renderer prints and every
/// label an extractor is trained on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Document {
    /// Receipt, invoice or purchase order.
    pub kind: DocKind,
    /// Language, tax rules and content.
    pub locale: Locale,
    /// Currency of every amount.
    pub currency: Currency,
    /// Seller (for a purchase order: the supplier).
    pub seller: Party,
    /// Buyer (invoices and purchase orders).
    pub buyer: Option<Party>,
    /// Document number as printed (`OR No. 000123`).
    pub number: String,
    /// Issue date, ISO `YYYY-MM-DD`.
    pub date: String,
    /// Line items.
    pub items: Vec<LineItem>,
    /// Totals.
    pub totals: Totals,
    /// Payment method as printed.
    pub payment: String,
    /// Whether the numbers were made inconsistent on purpose (a plan asked for it).
    pub inconsistent: bool,
}

impl Document {
    /// Every printed text of the document in capitals (names, addresses, item
    /// descriptions, number, payment), as a printer in upper case prints it, so that
    /// key fields match the print of a [`PrintStyle::upper_case`](crate::PrintStyle) receipt.
    pub fn upper_case(&mut self) {
        let parties = std::iter::once(&mut self.seller).chain(self.buyer.as_mut());
        for p in parties {
            p.name = p.name.to_uppercase();
            p.address = p.address.to_uppercase();
        }
        for item in &mut self.items {
            item.description = item.description.to_uppercase();
        }
        self.number = self.number.to_uppercase();
        self.payment = self.payment.to_uppercase();
    }

    /// Recomputes every amount from the items (the consistency invariant).
    pub fn expected_totals(&self) -> Totals {
        Totals::compute(&self.items, &self.locale.tax())
    }

    /// Whether every line amount and total agrees with the arithmetic.
    pub fn is_consistent(&self) -> bool {
        self.items.iter().all(|i| {
            LineItem::new(
                &i.description,
                i.quantity_milli,
                i.unit_price,
                i.discount,
                i.vat_class,
            )
            .amount
                == i.amount
        }) && self.totals == self.expected_totals()
    }

    /// The key fields as JSON, amounts as printed without the symbol (`"1,250.00"`):
    /// what an extraction model is trained to output.
    pub fn fields_json(&self) -> serde_json::Value {
        let t = &self.totals;
        serde_json::json!({
            "document_type": self.kind,
            "seller_name": self.seller.name,
            "seller_address": self.seller.address,
            "seller_tin": self.seller.tax_id,
            "buyer_name": self.buyer.as_ref().map(|b| b.name.clone()),
            "document_number": self.number,
            "date": self.date,
            "currency": self.currency,
            "items": self.items.iter().map(|i| serde_json::json!({
                "description": i.description,
                "quantity": i.quantity_text(),
                "unit_price": i.unit_price.plain(),
                "discount": (i.discount != Money::ZERO).then(|| i.discount.plain()),
                "amount": i.amount.plain(),
            })).collect::<Vec<_>>(),
            "subtotal": t.subtotal.plain(),
            "vatable_sales": t.vatable_sales.plain(),
            "vat": t.vat.plain(),
            "vat_exempt": t.vat_exempt.plain(),
            "zero_rated": t.zero_rated.plain(),
            "total": t.total.plain(),
            "payment_method": self.payment,
        })
    }

    /// The document's scalar key fields (everything of [`Document::fields_json`] but the
    /// item list), in name order.
    pub fn fields(&self) -> Vec<Field> {
        let json = self.fields_json();
        json.as_object()
            .map(|o| {
                o.iter()
                    .filter_map(|(k, v)| {
                        let value = match v {
                            serde_json::Value::String(s) => s.clone(),
                            serde_json::Value::Number(n) => n.to_string(),
                            _ => return None,
                        };
                        Some(Field {
                            name: k.clone(),
                            value,
                        })
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// SROIE-style key fields (`company`, `date`, `address`, `total`).
    pub fn sroie_json(&self) -> serde_json::Value {
        serde_json::json!({
            "company": self.seller.name,
            "date": self.date,
            "address": self.seller.address,
            "total": self.totals.total.plain(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn philippine_vat_is_inside_the_price() {
        let items = [
            LineItem::new(
                "Kape",
                2_000,
                Money::new(5_600),
                Money::ZERO,
                VatClass::Vatable,
            ),
            LineItem::new(
                "Bigas",
                1_000,
                Money::new(5_000),
                Money::ZERO,
                VatClass::Exempt,
            ),
        ];
        let t = Totals::compute(&items, &Locale::EnPh.tax());
        assert_eq!(t.subtotal, Money::new(16_200));
        assert_eq!(t.vatable_sales, Money::new(10_000));
        assert_eq!(t.vat, Money::new(1_200));
        assert_eq!(t.vat_exempt, Money::new(5_000));
        assert_eq!(t.total, t.subtotal);
    }

    #[test]
    fn us_sales_tax_is_added() {
        let items = [LineItem::new(
            "Latte",
            3_000,
            Money::new(450),
            Money::new(50),
            VatClass::Vatable,
        )];
        assert_eq!(items[0].amount, Money::new(1_300));
        let t = Totals::compute(&items, &Locale::EnUs.tax());
        assert_eq!(t.vat, Money::new(94)); // 7.25% of 13.00 = 0.9425
        assert_eq!(t.total, Money::new(1_394));
    }

    #[test]
    fn quantities_print_like_receipts() {
        let l = |q| LineItem::new("x", q, Money::new(100), Money::ZERO, VatClass::Vatable);
        assert_eq!(l(2_000).quantity_text(), "2");
        assert_eq!(l(1_500).quantity_text(), "1.5");
        assert_eq!(l(250).quantity_text(), "0.25");
        assert_eq!(l(1_500).amount, Money::new(150));
    }
}

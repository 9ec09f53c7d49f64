//! Seeded document generation: the same seed and index give the same document, whatever
//! else was generated before.

use rand::Rng;
use rand::seq::IndexedRandom;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use whet_core::Seed;

use crate::document::{DocKind, Document, LineItem, Party, Totals, VatClass};
use crate::error::{Error, Result};
use crate::locale::Locale;
use crate::money::Money;

/// What to generate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GeneratorConfig {
    /// Locales to draw from, uniformly.
    pub locales: Vec<Locale>,
    /// Document kinds to draw from, uniformly.
    pub kinds: Vec<DocKind>,
    /// Fewest line items.
    pub min_items: usize,
    /// Most line items.
    pub max_items: usize,
    /// Share of documents whose numbers are made inconsistent on purpose (0 to 1).
    pub inconsistent_rate: f64,
    /// Earliest issue year.
    pub first_year: i32,
    /// Latest issue year.
    pub last_year: i32,
}

impl Default for GeneratorConfig {
    fn default() -> Self {
        GeneratorConfig {
            locales: Locale::ALL.to_vec(),
            kinds: vec![DocKind::Receipt, DocKind::Invoice, DocKind::PurchaseOrder],
            min_items: 1,
            max_items: 8,
            inconsistent_rate: 0.0,
            first_year: 2022,
            last_year: 2026,
        }
    }
}

impl GeneratorConfig {
    /// Philippine receipts and invoices, in English and Filipino (the other settings
    /// default): what a Philippine business photographs and scans.
    pub fn philippine_receipts() -> Self {
        GeneratorConfig {
            locales: vec![Locale::EnPh, Locale::FilPh],
            kinds: vec![DocKind::Receipt, DocKind::Invoice],
            ..GeneratorConfig::default()
        }
    }

    /// Checks every setting.
    ///
    /// # Errors
    /// [`Error::Config`] naming the setting.
    pub fn validate(&self) -> Result<()> {
        let bad = |field, reason: &str| {
            Err(Error::Config {
                field,
                reason: reason.to_owned(),
            })
        };
        if self.locales.is_empty() {
            return bad("locales", "at least one locale is needed");
        }
        if self.kinds.is_empty() {
            return bad("kinds", "at least one document kind is needed");
        }
        if self.min_items == 0 || self.min_items > self.max_items {
            return bad("min_items", "must be at least 1 and at most max_items");
        }
        if self.max_items > 500 {
            return bad("max_items", "at most 500 line items");
        }
        if !(0.0..=1.0).contains(&self.inconsistent_rate) {
            return bad("inconsistent_rate", "must be between 0 and 1");
        }
        if self.first_year > self.last_year || self.first_year < 1900 || self.last_year > 2100 {
            return bad(
                "first_year",
                "years must satisfy 1900 <= first_year <= last_year <= 2100",
            );
        }
        Ok(())
    }
}

/// Generates documents from a seed.
///
/// ```
/// use whet_synth_docs::{Generator, GeneratorConfig};
/// let g = Generator::new(7, GeneratorConfig::default())?;
/// let a = g.document(0);
/// assert_eq!(a, g.document(0));
/// assert!(a.is_consistent());
/// # Ok::<(), whet_synth_docs::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Generator {
    seed: Seed,
    config: GeneratorConfig,
}

impl Generator {
    /// A generator for `config` (validated) and `seed`.
    ///
    /// # Errors
    /// [`Error::Config`] for an invalid config.
    pub fn new(seed: u64, config: GeneratorConfig) -> Result<Self> {
        config.validate()?;
        Ok(Generator {
            seed: Seed::new(seed),
            config,
        })
    }

    /// The `index`-th document of this seed.
    pub fn document(&self, index: u64) -> Document {
        let mut rng: ChaCha8Rng = self
            .seed
            .derive("document")
            .derive(&index.to_string())
            .rng();
        let cfg = &self.config;
        let locale = *cfg.locales.choose(&mut rng).unwrap_or(&Locale::EnPh);
        let kind = *cfg.kinds.choose(&mut rng).unwrap_or(&DocKind::Receipt);
        let content = locale.content();
        let person = |rng: &mut ChaCha8Rng| {
            format!(
                "{} {}",
                content.pick(content.first_names, rng),
                content.pick(content.last_names, rng)
            )
        };
        let address = |rng: &mut ChaCha8Rng| {
            format!(
                "{} {}, {}",
                rng.random_range(1..2500),
                content.pick(content.streets, rng),
                content.pick(content.cities, rng)
            )
        };
        let seller = Party {
            name: content.pick(content.stores, &mut rng).to_owned(),
            address: address(&mut rng),
            tax_id: Some(locale.tax_id(&mut rng)),
        };
        let buyer = match kind {
            DocKind::Receipt => None,
            _ => Some(Party {
                name: person(&mut rng),
                address: address(&mut rng),
                tax_id: rng.random_bool(0.5).then(|| locale.tax_id(&mut rng)),
            }),
        };
        let n_items = rng.random_range(cfg.min_items..=cfg.max_items);
        let ph = matches!(locale, Locale::EnPh | Locale::FilPh);
        let items: Vec<LineItem> = (0..n_items)
            .map(|_| {
                let product = content
                    .products
                    .choose(&mut rng)
                    .copied()
                    .expect("content has products");
                let unit = rng.random_range(product.price.0..=product.price.1);
                let quantity_milli = if rng.random_bool(0.15) {
                    rng.random_range(1..40) * 250
                } else {
                    rng.random_range(1..6) * 1000
                };
                let discount = if rng.random_bool(0.1) {
                    Money::new(rng.random_range(1..=unit / 10 + 1))
                } else {
                    Money::ZERO
                };
                let vat_class = if ph && product.exempt {
                    VatClass::Exempt
                } else {
                    VatClass::Vatable
                };
                LineItem::new(
                    product.name,
                    quantity_milli,
                    Money::new(unit),
                    discount,
                    vat_class,
                )
            })
            .collect();
        let mut totals = Totals::compute(&items, &locale.tax());
        let inconsistent = rng.random_bool(cfg.inconsistent_rate);
        if inconsistent {
            // One plausible mistake: a total off by a digit's worth.
            let delta = [1, 10, 100, 1_000][rng.random_range(0..4)];
            totals.total =
                Money::new(totals.total.minor + if rng.random_bool(0.5) { delta } else { -delta });
        }
        let year = rng.random_range(cfg.first_year..=cfg.last_year);
        let month = rng.random_range(1..=12u32);
        let day = rng.random_range(1..=28u32);
        let number = match kind {
            DocKind::Receipt => format!("{:06}", rng.random_range(1..1_000_000)),
            DocKind::Invoice => format!("SI-{year}-{:05}", rng.random_range(1..100_000)),
            DocKind::PurchaseOrder => format!("PO-{:06}", rng.random_range(1..1_000_000)),
        };
        Document {
            kind,
            locale,
            currency: locale.currency(),
            seller,
            buyer,
            number,
            date: format!("{year:04}-{month:02}-{day:02}"),
            items,
            totals,
            payment: content.pick(content.payments, &mut rng).to_owned(),
            inconsistent,
        }
    }

    /// Documents `0..n`.
    pub fn documents(&self, n: u64) -> impl Iterator<Item = Document> + '_ {
        (0..n).map(|i| self.document(i))
    }
}

//! Hard-sample synthesis: a `SynthesisPlan` says how often each feature that models
//! struggle with should appear; the generator honours it and records, per document, the
//! features it was made with, so failures can be traced back to them.

use std::collections::BTreeMap;

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use whet_core::Seed;

use crate::augment::AugmentConfig;
use crate::document::Document;
use crate::error::{Error, Result};
use crate::generate::{Generator, GeneratorConfig};
use crate::locale::Locale;
use crate::render::ReceiptLayout;

/// A property of a document that can be asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocFeature {
    /// 15 to 40 line items.
    LongTable,
    /// Small type (14 px).
    SmallFont,
    /// Strongly faded thermal print.
    FadedPrint,
    /// Rotated up to 8 degrees.
    Skew,
    /// Fractional quantities and large prices: many digits per line.
    DenseNumbers,
    /// A total that does not add up (to train verification).
    InconsistentTotals,
    /// Tagalog / Taglish text (`fil_PH`).
    Tagalog,
    /// A Philippine document with VAT-exempt lines.
    VatExempt,
    /// Thermal print-head streaks: vertical bands where the ink faded.
    ThermalStreaks,
    /// Receipts: glyphs printed as dots by an impact (dot-matrix) printer, 12 to 14 dots per em, in
    /// large type (26 to 30 pixels) on 80 mm paper.
    DotMatrix,
    /// Receipts: a condensed font (glyphs 70 to 85% of their width).
    NarrowFont,
    /// Everything printed in capitals (on sheets, the document's own texts).
    UpperCase,
    /// Receipts: a logo printed above the shop's name.
    Logo,
    /// An ink stamp pressed over the print.
    Stamp,
    /// A fold across the paper and a stronger curl.
    Fold,
    /// A low-resolution phone capture: scaled down to 40-100%, blurred, strong JPEG.
    LowResCapture,
}

/// The features a document was made with (what the design calls `DocFeatures`).
pub type DocFeatures = Vec<DocFeature>;

/// How often each feature should appear: a probability per feature, drawn independently
/// for every document. Features not named never appear on purpose.
///
/// ```
/// use whet_synth_docs::{DocFeature, SynthesisPlan};
/// let plan: SynthesisPlan = serde_json::from_str(
///     r#"{"features": {"long_table": 0.5, "faded_print": 0.25}}"#).unwrap();
/// assert!(plan.validate().is_ok());
/// assert_eq!(plan.features[&DocFeature::LongTable], 0.5);
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SynthesisPlan {
    /// Feature -> probability that a document has it.
    pub features: BTreeMap<DocFeature, f64>,
}

impl SynthesisPlan {
    /// Receipts as people photograph and scan them, about a third of them clean: capitals
    /// (20%), condensed fonts (15%), dot-matrix print (10%), logos (10%), thermal streaks,
    /// faded print and low-resolution captures (10% each), folds and stamps (5% each).
    /// What the OCR recipes train on to transfer to real receipts
    /// (`crates/ocr-det/README.md` has the measurements).
    ///
    /// ```
    /// use whet_synth_docs::{DocFeature, SynthesisPlan};
    /// let plan = SynthesisPlan::photographed_receipts();
    /// assert!(plan.validate().is_ok());
    /// assert_eq!(plan.features[&DocFeature::DotMatrix], 0.1);
    /// ```
    pub fn photographed_receipts() -> Self {
        use DocFeature as F;
        SynthesisPlan {
            features: BTreeMap::from([
                (F::UpperCase, 0.2),
                (F::NarrowFont, 0.15),
                (F::DotMatrix, 0.1),
                (F::Logo, 0.1),
                (F::ThermalStreaks, 0.1),
                (F::FadedPrint, 0.1),
                (F::LowResCapture, 0.1),
                (F::Fold, 0.05),
                (F::Stamp, 0.05),
            ]),
        }
    }

    /// Checks that every probability is within 0 and 1.
    ///
    /// # Errors
    /// [`Error::Config`] naming the feature.
    pub fn validate(&self) -> Result<()> {
        for (f, p) in &self.features {
            if !(0.0..=1.0).contains(p) {
                return Err(Error::Config {
                    field: "plan.features",
                    reason: format!("{f:?} has probability {p}, outside 0 to 1"),
                });
            }
        }
        Ok(())
    }
}

/// One planned sample: the document, how to draw it, and the features it was made with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlannedSample {
    /// The document.
    pub document: Document,
    /// The paper and type to render it with.
    pub layout: ReceiptLayout,
    /// The augmentation ranges to apply.
    pub augment: AugmentConfig,
    /// The features drawn for it (the document's `DocFeatures`).
    pub features: Vec<DocFeature>,
}

/// Generates documents following a plan.
#[derive(Debug, Clone)]
pub struct PlannedGenerator {
    seed: Seed,
    base: GeneratorConfig,
    plan: SynthesisPlan,
}

impl PlannedGenerator {
    /// A generator of `plan` on top of `base` (both validated).
    ///
    /// # Errors
    /// [`Error::Config`].
    pub fn new(seed: u64, base: GeneratorConfig, plan: SynthesisPlan) -> Result<Self> {
        base.validate()?;
        plan.validate()?;
        Ok(PlannedGenerator {
            seed: Seed::new(seed),
            base,
            plan,
        })
    }

    /// The `index`-th sample: a pure function of seed, plan and index.
    pub fn sample(&self, index: u64) -> PlannedSample {
        let mut rng: ChaCha8Rng = self.seed.derive("plan").derive(&index.to_string()).rng();
        let features: Vec<DocFeature> = self
            .plan
            .features
            .iter()
            .filter(|&(_, &p)| rng.random_bool(p))
            .map(|(&f, _)| f)
            .collect();
        let has = |f: DocFeature| features.contains(&f);
        let mut config = self.base.clone();
        if has(DocFeature::LongTable) {
            config.min_items = 15;
            config.max_items = 40;
        }
        if has(DocFeature::InconsistentTotals) {
            config.inconsistent_rate = 1.0;
        }
        if has(DocFeature::Tagalog) {
            config.locales = vec![Locale::FilPh];
        } else if has(DocFeature::VatExempt) {
            config.locales = vec![Locale::EnPh, Locale::FilPh];
        }
        let seed = self
            .seed
            .derive("plan-documents")
            .derive(&index.to_string())
            .value();
        let mut document = Generator::new(seed, config.clone())
            .map(|g| g.document(0))
            .unwrap_or_else(|_| {
                Generator::new(seed, GeneratorConfig::default())
                    .expect("default config is valid")
                    .document(0)
            });
        if has(DocFeature::DenseNumbers) {
            dense_numbers(&mut document, &mut rng);
        }
        if has(DocFeature::VatExempt)
            && !document
                .items
                .iter()
                .any(|i| i.vat_class == crate::VatClass::Exempt)
        {
            if let Some(first) = document.items.first_mut() {
                *first = crate::LineItem::new(
                    &first.description,
                    first.quantity_milli,
                    first.unit_price,
                    first.discount,
                    crate::VatClass::Exempt,
                );
            }
            recompute(&mut document);
        }
        let mut layout = if rng.random_bool(0.5) {
            ReceiptLayout::THERMAL_58MM
        } else {
            ReceiptLayout::THERMAL_80MM
        };
        if has(DocFeature::SmallFont) {
            layout.font_px = 14.0;
        }
        // Features added later draw from `rng` only when present, so plans without them
        // make the same documents as before.
        if has(DocFeature::UpperCase) {
            layout.style.upper_case = true;
            document.upper_case();
        }
        if has(DocFeature::NarrowFont) {
            layout.style.width_scale = rng.random_range(0.7..=0.85);
        }
        if has(DocFeature::DotMatrix) {
            // Impact printers print large; a 24-pin head puts about 9 dots in a capital.
            layout.style.dot_matrix = rng.random_range(12..=14);
            layout.font_px = rng.random_range(26.0..=30.0);
            layout.width = ReceiptLayout::THERMAL_80MM.width;
        }
        layout.style.logo = has(DocFeature::Logo);
        let mut augment = AugmentConfig::default();
        if has(DocFeature::FadedPrint) {
            augment.fade = (1.0, 0.8);
        }
        if has(DocFeature::Skew) {
            augment.max_rotation_deg = 8.0;
        }
        if has(DocFeature::ThermalStreaks) {
            augment.streaks = (1.0, 8);
        }
        if has(DocFeature::Stamp) {
            augment.stamp = 1.0;
        }
        if has(DocFeature::Fold) {
            augment.fold = (1.0, 0.5);
            augment.crumple = (1.0, 5.0);
        }
        if has(DocFeature::LowResCapture) {
            augment.low_resolution = (1.0, 0.4);
            augment.blur = (1.0, 1.5);
            augment.jpeg_quality = Some((30, 70));
        }
        PlannedSample {
            document,
            layout,
            augment,
            features,
        }
    }
}

/// Recomputes the totals after lines changed (keeping a deliberate inconsistency).
fn recompute(doc: &mut Document) {
    let was_off = doc.totals.total.minor - doc.expected_totals().total.minor;
    doc.totals = doc.expected_totals();
    if doc.inconsistent {
        doc.totals.total.minor += if was_off == 0 { 1 } else { was_off };
    }
}

fn dense_numbers(doc: &mut Document, rng: &mut ChaCha8Rng) {
    for item in &mut doc.items {
        let quantity = rng.random_range(1..50_000);
        let price = crate::Money::new(
            item.unit_price.minor * rng.random_range(10..200) + rng.random_range(0..100),
        );
        *item = crate::LineItem::new(
            &item.description,
            quantity,
            price,
            item.discount,
            item.vat_class,
        );
    }
    recompute(doc);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plan_outside_probabilities_is_refused() {
        let plan = SynthesisPlan {
            features: BTreeMap::from([(DocFeature::Skew, 1.5)]),
        };
        assert!(matches!(plan.validate(), Err(Error::Config { .. })));
        assert!(
            serde_json::from_str::<SynthesisPlan>(r#"{"features": {"no_such_feature": 0.5}}"#)
                .is_err()
        );
    }

    #[test]
    fn certain_features_always_appear_and_hold() {
        let plan = SynthesisPlan {
            features: BTreeMap::from([
                (DocFeature::LongTable, 1.0),
                (DocFeature::Tagalog, 1.0),
                (DocFeature::DenseNumbers, 1.0),
                (DocFeature::SmallFont, 1.0),
            ]),
        };
        let g = PlannedGenerator::new(3, GeneratorConfig::default(), plan).unwrap();
        for i in 0..20 {
            let s = g.sample(i);
            assert_eq!(s.features.len(), 4);
            assert!(s.document.items.len() >= 15);
            assert_eq!(s.document.locale, Locale::FilPh);
            assert_eq!(s.layout.font_px, 14.0);
            assert!(s.document.is_consistent());
            assert_eq!(s, g.sample(i));
        }
    }

    #[test]
    fn printer_and_capture_features_reach_the_layout_and_augmentations() {
        let all = [
            DocFeature::ThermalStreaks,
            DocFeature::DotMatrix,
            DocFeature::NarrowFont,
            DocFeature::UpperCase,
            DocFeature::Logo,
            DocFeature::Stamp,
            DocFeature::Fold,
            DocFeature::LowResCapture,
        ];
        let plan = SynthesisPlan {
            features: all.iter().map(|&f| (f, 1.0)).collect(),
        };
        let g = PlannedGenerator::new(5, GeneratorConfig::default(), plan).unwrap();
        for i in 0..10 {
            let s = g.sample(i);
            assert_eq!(s.features.len(), all.len());
            let style = s.layout.style;
            assert!(style.upper_case && style.logo);
            assert!((12..=14).contains(&style.dot_matrix));
            assert!(s.layout.font_px >= 26.0);
            assert!((0.7..=0.85).contains(&style.width_scale));
            assert_eq!(
                s.document.seller.name,
                s.document.seller.name.to_uppercase()
            );
            assert!(s.document.is_consistent());
            let a = &s.augment;
            assert!(a.streaks.0 == 1.0 && a.stamp == 1.0 && a.fold.0 == 1.0);
            assert_eq!(a.low_resolution, (1.0, 0.4));
            assert!(a.validate().is_ok() && style.validate().is_ok());
        }
        // A plan without them leaves layouts plain and these augmentations off.
        let plain = PlannedGenerator::new(5, GeneratorConfig::default(), SynthesisPlan::default())
            .unwrap()
            .sample(0);
        assert_eq!(plain.layout.style, crate::PrintStyle::PLAIN);
        assert_eq!(plain.augment, AugmentConfig::default());
    }

    #[test]
    fn planned_rates_are_honoured() {
        let plan = SynthesisPlan {
            features: BTreeMap::from([
                (DocFeature::InconsistentTotals, 0.3),
                (DocFeature::VatExempt, 1.0),
            ]),
        };
        let g = PlannedGenerator::new(4, GeneratorConfig::default(), plan).unwrap();
        let samples: Vec<PlannedSample> = (0..400).map(|i| g.sample(i)).collect();
        let bad = samples
            .iter()
            .filter(|s| s.features.contains(&DocFeature::InconsistentTotals))
            .count();
        assert!(
            (90..=150).contains(&bad),
            "{bad} of 400 inconsistent at rate 0.3"
        );
        for s in &samples {
            assert_eq!(
                s.document.inconsistent,
                s.features.contains(&DocFeature::InconsistentTotals)
            );
            assert_eq!(s.document.is_consistent(), !s.document.inconsistent);
            assert!(
                s.document
                    .items
                    .iter()
                    .any(|i| i.vat_class == crate::VatClass::Exempt)
            );
        }
    }
}

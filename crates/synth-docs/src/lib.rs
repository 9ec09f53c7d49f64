//! # whet-synth-docs
//!
//! Synthetic receipts, invoices and purchase orders (Philippine TIN and 12% VAT, English
//! and Tagalog, many layouts and currencies) with perfect ground truth.
//!
//! Domain model in integer minor units (per-locale tax rules and tax ids), locale content
//! for `en_PH`, `fil_PH`, `en_US` and `ms_MY`, a seeded generator, eight layouts (thermal
//! receipts and A4/A5 sheets) with exact word, line, region and ruling polygons,
//! augmentations that move the polygons with the pixels, synthesis plans, and dataset
//! exports (JSONL manifest, PaddleOCR labels and crops, SROIE keys).
//!
//! ```
//! use whet_synth_docs::{Generator, GeneratorConfig, Locale};
//! let config = GeneratorConfig { locales: vec![Locale::FilPh], ..GeneratorConfig::default() };
//! let doc = Generator::new(7, config)?.document(0);
//! assert_eq!(doc.currency.code(), "PHP");
//! assert_eq!(doc.totals.vat.minor + doc.totals.vatable_sales.minor
//!     + doc.totals.vat_exempt.minor + doc.totals.zero_rated.minor, doc.totals.total.minor);
//! # Ok::<(), whet_synth_docs::Error>(())
//! ```

mod augment;
mod degrade;
mod document;
mod error;
mod export;
mod generate;
mod locale;
mod money;
mod plan;
mod print_style;
mod render;
mod sheet;
mod speech;

pub use augment::{AugmentConfig, augment};
pub use document::{DocKind, Document, Field, LineItem, Party, Totals, VatClass};
pub use error::{Error, Result};
pub use export::{
    DatasetWriter, GroundTruth, ManifestRecord, Synthesis, SynthesisRecord, read_line_regions,
    read_manifest, synthesise, synthesise_once,
};
pub use generate::{Generator, GeneratorConfig};
pub use locale::{Locale, TaxRule};
pub use money::{Currency, Money};
pub use plan::{DocFeature, DocFeatures, PlannedGenerator, PlannedSample, SynthesisPlan};
pub use print_style::PrintStyle;
pub use render::{
    FontSet, Page, ReceiptLayout, Region, SYSTEM_FONTS, TextLine, Word, render_receipt,
};
pub use sheet::{Layout, SheetLayout, SheetStyle, render_sheet};
pub use speech::{PhraseGenerator, SpokenPhrase, tagalog_number};

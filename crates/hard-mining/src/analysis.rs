//! Failure analysis: classified errors aggregated by error type, field, document type,
//! region and, for synthetic documents, by the synth-docs features that produced them,
//! with the denominators (documents seen, with and without each feature) that turn counts
//! into rates.
//!
//! ```
//! use serde_json::json;
//! use whet_hard_mining::analysis::Analysis;
//! use whet_hard_mining::taxonomy::{Case, TaxonomyConfig, classify};
//! use whet_synth_docs::DocFeature;
//! let truth = json!({"total": "112.00"});
//! let (right, wrong) = (json!({"total": "112.00"}), json!({"total": "118.00"}));
//! let mut analysis = Analysis::default();
//! for (id, predicted, features) in [("a", &right, vec![]), ("b", &wrong, vec![DocFeature::FadedPrint])] {
//!     let case = whet_hard_mining::taxonomy::Case { features, ..Case::new(id, &truth, predicted) };
//!     analysis.add(&case, &classify(&case, &TaxonomyConfig::default()));
//! }
//! assert_eq!(analysis.documents, 2);
//! assert_eq!(analysis.failed_documents, 1);
//! assert_eq!(analysis.by_kind["wrong_value"], 1);
//! assert_eq!(analysis.feature_failure_rate(DocFeature::FadedPrint, None), Some(1.0));
//! ```

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use whet_synth_docs::DocFeature;

use crate::taxonomy::{Case, ErrorKind, ErrorRecord};

/// Documents with a feature and how many of them failed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FeatureStats {
    /// Documents made with the feature.
    pub documents: usize,
    /// Of those, documents with at least one error (low confidence not counted).
    pub failed_documents: usize,
    /// Of those, documents with at least one error of each kind (by [`ErrorKind::name`],
    /// and by family: `format_error` besides `format_error:tin`).
    pub failed_by_kind: BTreeMap<String, usize>,
}

/// Aggregated failures over a set of documents.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Analysis {
    /// Documents seen.
    pub documents: usize,
    /// Documents with at least one error (low confidence alone does not count).
    pub failed_documents: usize,
    /// Documents with at least one error of each kind (and family, as in
    /// [`FeatureStats::failed_by_kind`]).
    pub failed_by_kind: BTreeMap<String, usize>,
    /// Errors per kind ([`ErrorKind::name`]).
    pub by_kind: BTreeMap<String, usize>,
    /// Errors per field, row indices dropped (`items[].amount`).
    pub by_field: BTreeMap<String, usize>,
    /// Errors per document type.
    pub by_doc_type: BTreeMap<String, usize>,
    /// Errors per region (`header`, `items`, `totals`).
    pub by_region: BTreeMap<String, usize>,
    /// Per synth-docs feature.
    pub by_feature: BTreeMap<DocFeature, FeatureStats>,
    /// Documents without any feature (the plain ones).
    pub plain: FeatureStats,
    /// OCR confusions, `(true, predicted)` character pairs with their counts, most
    /// frequent first.
    pub confusions: Vec<((char, char), usize)>,
}

/// `items[3].amount` -> `items[].amount`.
fn field_family(field: &str) -> String {
    let mut out = String::with_capacity(field.len());
    let mut in_brackets = false;
    for c in field.chars() {
        match c {
            '[' => {
                in_brackets = true;
                out.push('[');
            }
            ']' => {
                in_brackets = false;
                out.push(']');
            }
            _ if in_brackets => {}
            _ => out.push(c),
        }
    }
    out
}

impl Analysis {
    /// Adds one document and its errors (all of [`crate::taxonomy::classify`]'s output for it,
    /// possibly empty).
    pub fn add(&mut self, case: &Case<'_>, errors: &[ErrorRecord]) {
        self.documents += 1;
        let real: Vec<&ErrorRecord> = errors
            .iter()
            .filter(|e| e.kind != ErrorKind::LowConfidence)
            .collect();
        // Each kind, and its family (`format_error` for `format_error:tin`).
        let mut kinds: Vec<String> = real
            .iter()
            .flat_map(|e| {
                let name = e.kind.name();
                let family = name.split(':').next().unwrap_or(&name).to_owned();
                [name, family]
            })
            .collect();
        kinds.sort();
        kinds.dedup();
        let failed = !real.is_empty();
        if failed {
            self.failed_documents += 1;
        }
        for k in &kinds {
            *self.failed_by_kind.entry(k.clone()).or_default() += 1;
        }
        let count = |s: &mut FeatureStats| {
            s.documents += 1;
            s.failed_documents += usize::from(failed);
            for k in &kinds {
                *s.failed_by_kind.entry(k.clone()).or_default() += 1;
            }
        };
        if case.features.is_empty() {
            count(&mut self.plain);
        }
        let mut features = case.features.clone();
        features.sort();
        features.dedup();
        for f in features {
            count(self.by_feature.entry(f).or_default());
        }
        let mut confusions: BTreeMap<(char, char), usize> =
            self.confusions.iter().copied().collect();
        for e in errors {
            *self.by_kind.entry(e.kind.name()).or_default() += 1;
            *self.by_field.entry(field_family(&e.field)).or_default() += 1;
            *self
                .by_doc_type
                .entry(e.doc_type.clone().unwrap_or_else(|| "unknown".into()))
                .or_default() += 1;
            *self.by_region.entry(e.region.clone()).or_default() += 1;
            for &pair in &e.confusions {
                *confusions.entry(pair).or_default() += 1;
            }
        }
        self.confusions = confusions.into_iter().collect();
        self.confusions
            .sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    }

    /// The share of documents that failed: overall, or with an error of `kind` (a name
    /// such as `format_error:tin`, or a family such as `format_error`).
    pub fn failure_rate(&self, kind: Option<&str>) -> f64 {
        let failed = match kind {
            None => self.failed_documents,
            Some(k) => self.failed_by_kind.get(k).copied().unwrap_or(0),
        };
        failed as f64 / self.documents.max(1) as f64
    }

    /// The share of the documents made with `feature` that failed (with an error of `kind`,
    /// as in [`Analysis::failure_rate`]); `None` when none was seen.
    pub fn feature_failure_rate(&self, feature: DocFeature, kind: Option<&str>) -> Option<f64> {
        let s = self.by_feature.get(&feature)?;
        let failed = match kind {
            None => s.failed_documents,
            Some(k) => s.failed_by_kind.get(k).copied().unwrap_or(0),
        };
        (s.documents > 0).then(|| failed as f64 / s.documents as f64)
    }
}

impl fmt::Display for Analysis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} documents, {} with errors ({:.1}%)",
            self.documents,
            self.failed_documents,
            100.0 * self.failure_rate(None)
        )?;
        let mut table = |title: &str, m: &BTreeMap<String, usize>| -> fmt::Result {
            let mut rows: Vec<_> = m.iter().collect();
            rows.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
            writeln!(f, "{title}:")?;
            for (k, v) in rows {
                writeln!(f, "  {k:<32} {v:>6}")?;
            }
            Ok(())
        };
        table("errors by type", &self.by_kind)?;
        table("errors by field", &self.by_field)?;
        table("errors by document type", &self.by_doc_type)?;
        table("errors by region", &self.by_region)?;
        writeln!(f, "failed documents by feature:")?;
        for (feat, s) in &self.by_feature {
            writeln!(
                f,
                "  {:<32} {:>6} of {:>6} ({:.1}%)",
                format!("{feat:?}"),
                s.failed_documents,
                s.documents,
                100.0 * s.failed_documents as f64 / s.documents.max(1) as f64
            )?;
        }
        if !self.confusions.is_empty() {
            writeln!(f, "OCR confusions (true -> read):")?;
            for ((a, b), n) in self.confusions.iter().take(10) {
                writeln!(f, "  {a} -> {b} {n:>6}")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_families_drop_row_indices() {
        assert_eq!(field_family("items[12].amount"), "items[].amount");
        assert_eq!(field_family("items[+3]"), "items[]");
        assert_eq!(field_family("total"), "total");
    }
}

//! TF-IDF with scikit-learn's `TfidfVectorizer` semantics (`feature_extraction/text.py`):
//! lower-casing, the token pattern `(?u)\b\w\w+\b`, word n-grams, document-frequency
//! limits, `max_features` by corpus frequency (ties in vocabulary order), smooth idf
//! `ln((1 + n) / (1 + df)) + 1`, optional sublinear tf, L2-normalised rows.

use std::collections::HashMap;
use std::sync::OnceLock;

use regex::Regex;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// A document-frequency bound: a count of documents or a share of them.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum DocFreq {
    /// At least / at most this many documents.
    Count(usize),
    /// At least / at most this share of the documents (0 to 1).
    Share(f64),
}

/// Vectoriser settings, named as scikit-learn names them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TfidfConfig {
    /// Smallest and largest word n-gram.
    pub ngram_range: (usize, usize),
    /// Keep only the most frequent terms (by count over the corpus).
    pub max_features: Option<usize>,
    /// Terms in fewer documents are dropped.
    pub min_df: DocFreq,
    /// Terms in more documents are dropped.
    pub max_df: DocFreq,
    /// `1 + ln(tf)` instead of `tf`.
    pub sublinear_tf: bool,
    /// Lower-case before tokenising.
    pub lowercase: bool,
}

impl Default for TfidfConfig {
    /// scikit-learn's defaults, except n-grams 1 to 3 and 10,000 features (the issue's).
    fn default() -> Self {
        TfidfConfig {
            ngram_range: (1, 3),
            max_features: Some(10_000),
            min_df: DocFreq::Count(1),
            max_df: DocFreq::Share(1.0),
            sublinear_tf: false,
            lowercase: true,
        }
    }
}

/// A sparse row: sorted feature indices and their values.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SparseRow {
    /// Feature indices, ascending.
    pub indices: Vec<u32>,
    /// Values, parallel to `indices`.
    pub values: Vec<f64>,
}

/// A fitted vectoriser (serialised as its settings, terms and idf; the term index is
/// rebuilt on load).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(from = "TfidfData", into = "TfidfData")]
pub struct TfidfVectorizer {
    config: TfidfConfig,
    /// Terms in feature order (sorted).
    terms: Vec<String>,
    index: HashMap<String, u32>,
    idf: Vec<f64>,
}

#[derive(Serialize, Deserialize)]
struct TfidfData {
    config: TfidfConfig,
    terms: Vec<String>,
    idf: Vec<f64>,
}

impl From<TfidfData> for TfidfVectorizer {
    fn from(d: TfidfData) -> Self {
        let index = d
            .terms
            .iter()
            .enumerate()
            .map(|(i, t)| (t.clone(), i as u32))
            .collect();
        TfidfVectorizer {
            config: d.config,
            terms: d.terms,
            index,
            idf: d.idf,
        }
    }
}

impl From<TfidfVectorizer> for TfidfData {
    fn from(v: TfidfVectorizer) -> Self {
        TfidfData {
            config: v.config,
            terms: v.terms,
            idf: v.idf,
        }
    }
}

fn token_regex() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    R.get_or_init(|| Regex::new(r"(?u)\b\w\w+\b").expect("valid pattern"))
}

fn bound(f: DocFreq, n: usize) -> f64 {
    match f {
        DocFreq::Count(c) => c as f64,
        DocFreq::Share(s) => s * n as f64,
    }
}

impl TfidfConfig {
    /// Checks the settings.
    ///
    /// # Errors
    /// [`Error::Config`].
    pub fn validate(&self) -> Result<()> {
        let (lo, hi) = self.ngram_range;
        if lo == 0 || lo > hi {
            return Err(Error::Config {
                field: "ngram_range",
                reason: format!("({lo}, {hi}): need 1 <= min <= max"),
            });
        }
        for (field, f) in [("min_df", self.min_df), ("max_df", self.max_df)] {
            if let DocFreq::Share(s) = f
                && !(0.0..=1.0).contains(&s)
            {
                return Err(Error::Config {
                    field,
                    reason: format!("share {s} outside 0 to 1"),
                });
            }
        }
        if self.max_features == Some(0) {
            return Err(Error::Config {
                field: "max_features",
                reason: "must be at least 1".into(),
            });
        }
        Ok(())
    }

    /// The analyser: the document's terms, with repeats (scikit-learn's
    /// `build_analyzer()` for `analyzer="word"`).
    pub fn analyze(&self, doc: &str) -> Vec<String> {
        let mut out = Vec::new();
        self.for_each_term(doc, |t| out.push(t.to_owned()));
        out
    }

    /// Calls `f` with each of the document's terms in [`TfidfConfig::analyze`]'s order,
    /// building n-grams in one reused buffer instead of a string per term.
    pub fn for_each_term(&self, doc: &str, mut f: impl FnMut(&str)) {
        let lowered;
        let text = if self.lowercase {
            lowered = doc.to_lowercase();
            lowered.as_str()
        } else {
            doc
        };
        let tokens: Vec<&str> = token_regex().find_iter(text).map(|m| m.as_str()).collect();
        let (lo, hi) = self.ngram_range;
        if lo == 1 {
            tokens.iter().for_each(|t| f(t));
        }
        let mut gram = String::new();
        for n in lo.max(2)..=hi.min(tokens.len()) {
            for w in tokens.windows(n) {
                gram.clear();
                for (i, t) in w.iter().enumerate() {
                    if i > 0 {
                        gram.push(' ');
                    }
                    gram.push_str(t);
                }
                f(&gram);
            }
        }
    }
}

impl TfidfVectorizer {
    /// Learns the vocabulary and idf of `docs`.
    ///
    /// # Errors
    /// [`Error::Config`] for invalid settings; [`Error::Fit`] when no term survives.
    pub fn fit<S: AsRef<str>>(config: TfidfConfig, docs: &[S]) -> Result<Self> {
        config.validate()?;
        let n = docs.len();
        // Term counts over the corpus and document frequencies (a document is counted
        // once per term by remembering the last document that counted it).
        struct Tally {
            count: u64,
            df: usize,
            last: usize,
        }
        let mut tallies: HashMap<String, Tally> = HashMap::new();
        for (d, doc) in docs.iter().enumerate() {
            config.for_each_term(doc.as_ref(), |t| match tallies.get_mut(t) {
                Some(e) => {
                    e.count += 1;
                    if e.last != d {
                        e.last = d;
                        e.df += 1;
                    }
                }
                None => {
                    tallies.insert(
                        t.to_owned(),
                        Tally {
                            count: 1,
                            df: 1,
                            last: d,
                        },
                    );
                }
            });
        }
        let mut counts: Vec<(String, Tally)> = tallies.into_iter().collect();
        // Byte order, which is Python's code-point order (scikit-learn sorts the terms).
        counts.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        let (low, high) = (bound(config.min_df, n), bound(config.max_df, n));
        let mut kept: Vec<(String, u64, usize)> = counts
            .into_iter()
            .filter(|(_, e)| (e.df as f64) >= low && (e.df as f64) <= high)
            .map(|(t, e)| (t, e.count, e.df))
            .collect();
        if let Some(limit) = config.max_features.filter(|&l| kept.len() > l) {
            // Stable sort by descending corpus count: ties keep vocabulary order.
            let mut order: Vec<usize> = (0..kept.len()).collect();
            order.sort_by(|&a, &b| kept[b].1.cmp(&kept[a].1));
            let mut keep = vec![false; kept.len()];
            for &i in &order[..limit] {
                keep[i] = true;
            }
            let mut i = 0;
            kept.retain(|_| {
                let k = keep[i];
                i += 1;
                k
            });
        }
        if kept.is_empty() {
            return Err(Error::Fit {
                reason: "no term left after the document-frequency limits".into(),
            });
        }
        let idf: Vec<f64> = kept
            .iter()
            .map(|(_, _, df)| ((n + 1) as f64 / (*df + 1) as f64).ln() + 1.0)
            .collect();
        let terms: Vec<String> = kept.into_iter().map(|(t, _, _)| t).collect();
        let index = terms
            .iter()
            .enumerate()
            .map(|(i, t)| (t.clone(), i as u32))
            .collect();
        Ok(TfidfVectorizer {
            config,
            terms,
            index,
            idf,
        })
    }

    /// The terms, in feature order.
    pub fn vocabulary(&self) -> &[String] {
        &self.terms
    }

    /// The idf of each feature.
    pub fn idf(&self) -> &[f64] {
        &self.idf
    }

    /// The settings.
    pub fn config(&self) -> &TfidfConfig {
        &self.config
    }

    /// The TF-IDF row of `doc` (L2-normalised; empty when no known term occurs).
    pub fn transform(&self, doc: &str) -> SparseRow {
        let mut hits: Vec<u32> = Vec::new();
        self.config.for_each_term(doc, |t| {
            if let Some(&i) = self.index.get(t) {
                hits.push(i);
            }
        });
        hits.sort_unstable();
        let mut row = SparseRow::default();
        for run in hits.chunk_by(|a, b| a == b) {
            let (i, c) = (run[0], run.len() as f64);
            let c = if self.config.sublinear_tf {
                c.ln() + 1.0
            } else {
                c
            };
            row.indices.push(i);
            row.values.push(c * self.idf[i as usize]);
        }
        let norm = row.values.iter().map(|v| v * v).sum::<f64>().sqrt();
        if norm > 0.0 {
            for v in &mut row.values {
                *v /= norm;
            }
        }
        row
    }
}

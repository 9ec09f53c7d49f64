//! Intent datasets: samples with their provenance, JSONL and CSV import and export (bad
//! rows reported with file and line), cleaning, stratified splits and statistics.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use whet_core::Seed;
use whet_core::data::{
    MalformedPolicy, SplitRatios, atomic_write, read_jsonl, stratified_split, write_jsonl,
};

use crate::error::{Error, Result};

/// Where a sample came from.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// Recorded from live traffic.
    Live,
    /// Imported from a file.
    #[default]
    Imported,
    /// Generated.
    Synthetic,
    /// Corrected by a person.
    Corrected,
}

/// One labelled message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    /// The message.
    pub text: String,
    /// Its intent.
    pub intent: String,
    /// Where it came from.
    #[serde(default)]
    pub source: Source,
    /// The model's confidence when it was recorded, if any.
    #[serde(default)]
    pub confidence: Option<f64>,
    /// Whether a person corrected its label (such samples weigh 2 in training).
    #[serde(default)]
    pub corrected: bool,
}

/// A row that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BadRow {
    /// The file.
    pub path: PathBuf,
    /// 1-based line.
    pub line: usize,
    /// What was wrong.
    pub reason: String,
}

/// What [`Dataset::clean`] did.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct CleanReport {
    /// Samples with empty text or intent, removed.
    pub empty: usize,
    /// Samples whose normalised text and intent repeat an earlier one, removed.
    pub duplicates: usize,
    /// Normalised texts labelled with more than one intent (kept, reported).
    pub conflicts: Vec<(String, Vec<String>)>,
}

/// Counts per intent and per source.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Stats {
    /// Samples per intent.
    pub per_intent: BTreeMap<String, usize>,
    /// Samples per source.
    pub per_source: BTreeMap<Source, usize>,
    /// Corrected samples.
    pub corrected: usize,
}

/// A set of samples.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Dataset {
    /// The samples, in order.
    pub samples: Vec<Sample>,
}

fn normalise(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// Splits one CSV record (RFC 4180: quoted fields, `""` for a quote inside quotes).
fn csv_fields(line: &str) -> std::result::Result<Vec<String>, String> {
    let mut fields = Vec::new();
    let mut cur = String::new();
    let mut chars = line.chars().peekable();
    let mut quoted = false;
    let mut was_quoted = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            (true, '"') => quoted = false,
            (true, c) => cur.push(c),
            (false, '"') if cur.is_empty() && !was_quoted => {
                quoted = true;
                was_quoted = true;
            }
            (false, '"') => return Err("a quote inside an unquoted field".into()),
            (false, ',') => {
                fields.push(std::mem::take(&mut cur));
                was_quoted = false;
            }
            (false, c) => cur.push(c),
        }
    }
    if quoted {
        return Err("unterminated quoted field".into());
    }
    fields.push(cur);
    Ok(fields)
}

fn csv_escape(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

impl Dataset {
    /// Reads JSONL samples; malformed records are skipped and returned with their line.
    ///
    /// # Errors
    /// [`Error::Core`] when the file cannot be read.
    pub fn read_jsonl(path: impl AsRef<Path>) -> Result<(Dataset, Vec<BadRow>)> {
        let read = read_jsonl::<Sample>(path.as_ref(), MalformedPolicy::Skip)?;
        let bad = read
            .skipped
            .iter()
            .map(|b| BadRow {
                path: read.path.clone(),
                line: b.line,
                reason: b.reason.clone(),
            })
            .collect();
        Ok((
            Dataset {
                samples: read.records.into_iter().map(|(_, s)| s).collect(),
            },
            bad,
        ))
    }

    /// Writes JSONL, atomically.
    ///
    /// # Errors
    /// [`Error::Core`].
    pub fn write_jsonl(&self, path: impl AsRef<Path>) -> Result<()> {
        write_jsonl(path, &self.samples)?;
        Ok(())
    }

    /// Reads CSV with a header naming at least `text` and `intent` (and optionally
    /// `source`, `confidence`, `corrected`); bad rows are skipped and returned with their
    /// line. Records spanning lines are not supported (a newline ends a record).
    ///
    /// # Errors
    /// [`Error::Core`] when the file cannot be read; [`Error::Dataset`] when the header
    /// lacks `text` or `intent`.
    pub fn read_csv(path: impl AsRef<Path>) -> Result<(Dataset, Vec<BadRow>)> {
        let path = path.as_ref();
        let content = std::fs::read_to_string(path).map_err(|e| whet_core::Error::file(path, e))?;
        let mut lines = content.lines().enumerate();
        let header = match lines.next() {
            Some((_, h)) => csv_fields(h.trim_start_matches('\u{feff}')).unwrap_or_default(),
            None => Vec::new(),
        };
        let col = |name: &str| header.iter().position(|h| h.trim() == name);
        let (Some(ti), Some(ii)) = (col("text"), col("intent")) else {
            return Err(Error::Dataset {
                path: path.to_owned(),
                line: 1,
                reason: format!("header {header:?} lacks text and intent"),
            });
        };
        let (si, ci, ki) = (col("source"), col("confidence"), col("corrected"));
        let mut samples = Vec::new();
        let mut bad = Vec::new();
        for (n, line) in lines {
            if line.trim().is_empty() {
                continue;
            }
            let row = csv_fields(line).and_then(|f| {
                let get = |i: Option<usize>| i.and_then(|i| f.get(i)).map(|s| s.trim().to_owned());
                let text = get(Some(ti)).ok_or("missing text")?;
                let intent = get(Some(ii)).ok_or("missing intent")?;
                let source = match get(si).as_deref() {
                    None | Some("") => Source::Imported,
                    Some(s) => serde_json::from_value(serde_json::Value::String(s.to_owned()))
                        .map_err(|_| format!("unknown source {s:?}"))?,
                };
                let confidence = match get(ci).as_deref() {
                    None | Some("") => None,
                    Some(c) => Some(
                        c.parse::<f64>()
                            .ok()
                            .filter(|v| (0.0..=1.0).contains(v))
                            .ok_or(format!("confidence {c:?} not in 0..1"))?,
                    ),
                };
                let corrected = matches!(get(ki).as_deref(), Some("true" | "1" | "yes"));
                Ok(Sample {
                    text,
                    intent,
                    source,
                    confidence,
                    corrected,
                })
            });
            match row {
                Ok(s) => samples.push(s),
                Err(reason) => bad.push(BadRow {
                    path: path.to_owned(),
                    line: n + 1,
                    reason,
                }),
            }
        }
        Ok((Dataset { samples }, bad))
    }

    /// Writes CSV (`text,intent,source,confidence,corrected`), atomically.
    ///
    /// # Errors
    /// [`Error::Core`].
    pub fn write_csv(&self, path: impl AsRef<Path>) -> Result<()> {
        let mut out = String::from("text,intent,source,confidence,corrected\n");
        for s in &self.samples {
            let source = serde_json::to_value(s.source)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default();
            out.push_str(&format!(
                "{},{},{},{},{}\n",
                csv_escape(&s.text),
                csv_escape(&s.intent),
                source,
                s.confidence.map(|c| format!("{c:?}")).unwrap_or_default(),
                s.corrected
            ));
        }
        atomic_write(path, out.as_bytes())?;
        Ok(())
    }

    /// Removes empty samples and normalised duplicates (same text up to case and
    /// whitespace, same intent; the first is kept), and reports texts with conflicting
    /// intents.
    pub fn clean(&mut self) -> CleanReport {
        let mut report = CleanReport::default();
        let before = self.samples.len();
        self.samples
            .retain(|s| !s.text.trim().is_empty() && !s.intent.trim().is_empty());
        report.empty = before - self.samples.len();
        let mut seen: HashMap<(String, String), ()> = HashMap::new();
        let before = self.samples.len();
        self.samples.retain(|s| {
            seen.insert((normalise(&s.text), s.intent.clone()), ())
                .is_none()
        });
        report.duplicates = before - self.samples.len();
        let mut intents: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for s in &self.samples {
            let e = intents.entry(normalise(&s.text)).or_default();
            if !e.contains(&s.intent) {
                e.push(s.intent.clone());
            }
        }
        report.conflicts = intents.into_iter().filter(|(_, v)| v.len() > 1).collect();
        report
    }

    /// Stratified train / validation / test split by intent (whet-core's).
    pub fn split(&self, ratios: SplitRatios, seed: u64) -> (Dataset, Dataset, Dataset) {
        let labels: Vec<&str> = self.samples.iter().map(|s| s.intent.as_str()).collect();
        let sp = stratified_split(&labels, ratios, Seed::new(seed));
        let pick = |idx: &[usize]| Dataset {
            samples: idx.iter().map(|&i| self.samples[i].clone()).collect(),
        };
        (pick(&sp.train), pick(&sp.val), pick(&sp.test))
    }

    /// Counts.
    pub fn stats(&self) -> Stats {
        let mut st = Stats::default();
        for s in &self.samples {
            *st.per_intent.entry(s.intent.clone()).or_default() += 1;
            *st.per_source.entry(s.source).or_default() += 1;
            st.corrected += usize::from(s.corrected);
        }
        st
    }

    /// Training weights: 2 for corrected samples, 1 otherwise.
    pub fn sample_weights(&self) -> Vec<f64> {
        self.samples
            .iter()
            .map(|s| if s.corrected { 2.0 } else { 1.0 })
            .collect()
    }
}

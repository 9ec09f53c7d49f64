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

/// The column names of a CSV dataset. Only `text` and `intent` are required in the file.
///
/// ```
/// use whet_intent_svc::CsvColumns;
/// // A Hugging Face export of Banking77: `text,label`.
/// let columns = CsvColumns { intent: "label".into(), ..CsvColumns::default() };
/// # let _ = columns;
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CsvColumns {
    /// The message (`text`).
    pub text: String,
    /// Its intent (`intent`).
    pub intent: String,
    /// Where it came from (`source`; optional in the file).
    pub source: String,
    /// The model's confidence (`confidence`; optional).
    pub confidence: String,
    /// Whether a person corrected it (`corrected`; optional).
    pub corrected: String,
}

impl Default for CsvColumns {
    fn default() -> Self {
        CsvColumns {
            text: "text".into(),
            intent: "intent".into(),
            source: "source".into(),
            confidence: "confidence".into(),
            corrected: "corrected".into(),
        }
    }
}

impl Sample {
    /// An imported sample with no confidence, not corrected.
    pub fn new(text: impl Into<String>, intent: impl Into<String>) -> Self {
        Sample {
            text: text.into(),
            intent: intent.into(),
            source: Source::Imported,
            confidence: None,
            corrected: false,
        }
    }
}

fn parse_row(
    record: &csv::StringRecord,
    cols: [Option<usize>; 5],
) -> std::result::Result<Sample, String> {
    let get = |i: Option<usize>| i.and_then(|i| record.get(i)).map(|s| s.trim().to_owned());
    let text = get(cols[0]).ok_or("missing text")?;
    let intent = get(cols[1]).ok_or("missing intent")?;
    let source = match get(cols[2]).as_deref() {
        None | Some("") => Source::Imported,
        Some(s) => serde_json::from_value(serde_json::Value::String(s.to_owned()))
            .map_err(|_| format!("unknown source {s:?}"))?,
    };
    let confidence = match get(cols[3]).as_deref() {
        None | Some("") => None,
        Some(c) => Some(
            c.parse::<f64>()
                .ok()
                .filter(|v| (0.0..=1.0).contains(v))
                .ok_or(format!("confidence {c:?} not in 0..1"))?,
        ),
    };
    let corrected = matches!(get(cols[4]).as_deref(), Some("true" | "1" | "yes"));
    Ok(Sample {
        text,
        intent,
        source,
        confidence,
        corrected,
    })
}

impl Dataset {
    /// Reads splits of a CLINC150 file (`data_full.json`: each split a list of
    /// `[text, intent]` pairs), e.g. `["train", "oos_train"]`, in the order given.
    ///
    /// # Errors
    /// [`Error::Core`] when the file cannot be read; [`Error::Dataset`] when it is not
    /// JSON, lacks a split, or a row is not a `[text, intent]` pair (named by split and
    /// index).
    pub fn read_clinc150(path: impl AsRef<Path>, splits: &[&str]) -> Result<Dataset> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| whet_core::Error::file(path, e))?;
        let bad = |line: usize, reason: String| Error::Dataset {
            path: path.to_owned(),
            line,
            reason,
        };
        let data: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| bad(e.line(), format!("not JSON: {e}")))?;
        let mut samples = Vec::new();
        for split in splits {
            let rows = data[*split]
                .as_array()
                .ok_or_else(|| bad(0, format!("no split {split:?}")))?;
            for (i, row) in rows.iter().enumerate() {
                match (row[0].as_str(), row[1].as_str()) {
                    (Some(text), Some(intent)) => samples.push(Sample::new(text, intent)),
                    _ => return Err(bad(0, format!("{split}[{i}] is not a [text, intent] pair"))),
                }
            }
        }
        Ok(Dataset { samples })
    }

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
    /// line.
    ///
    /// # Errors
    /// As [`Dataset::read_csv_with`].
    pub fn read_csv(path: impl AsRef<Path>) -> Result<(Dataset, Vec<BadRow>)> {
        Self::read_csv_with(path, &CsvColumns::default())
    }

    /// Reads CSV (RFC 4180 through the `csv` crate: quoted fields with commas, quotes and
    /// newlines, as Hugging Face's and pandas' exports write them) whose header names the
    /// columns `columns` gives. A row that cannot be read is skipped and returned with
    /// the line it starts on.
    ///
    /// # Errors
    /// [`Error::Core`] when the file cannot be read; [`Error::Dataset`] when the header
    /// lacks the text or intent column.
    pub fn read_csv_with(
        path: impl AsRef<Path>,
        columns: &CsvColumns,
    ) -> Result<(Dataset, Vec<BadRow>)> {
        let path = path.as_ref();
        let file = std::fs::File::open(path).map_err(|e| whet_core::Error::file(path, e))?;
        let mut reader = csv::ReaderBuilder::new()
            .flexible(true)
            .from_reader(std::io::BufReader::new(file));
        let header_error = |reason: String| Error::Dataset {
            path: path.to_owned(),
            line: 1,
            reason,
        };
        let header: Vec<String> = reader
            .headers()
            .map_err(|e| header_error(e.to_string()))?
            .iter()
            .map(|h| h.trim_start_matches('\u{feff}').trim().to_owned())
            .collect();
        let col = |name: &str| header.iter().position(|h| h == name);
        let (Some(ti), Some(ii)) = (col(&columns.text), col(&columns.intent)) else {
            return Err(header_error(format!(
                "header {header:?} lacks {:?} and {:?}",
                columns.text, columns.intent
            )));
        };
        let cols = [
            Some(ti),
            Some(ii),
            col(&columns.source),
            col(&columns.confidence),
            col(&columns.corrected),
        ];
        let mut samples = Vec::new();
        let mut bad = Vec::new();
        let mut record = csv::StringRecord::new();
        loop {
            let line = reader.position().line() as usize;
            match reader.read_record(&mut record) {
                Ok(false) => break,
                Ok(true) => {
                    if record.iter().all(|f| f.trim().is_empty()) {
                        continue;
                    }
                    match parse_row(&record, cols) {
                        Ok(s) => samples.push(s),
                        Err(reason) => bad.push(BadRow {
                            path: path.to_owned(),
                            line: record.position().map_or(line, |p| p.line() as usize),
                            reason,
                        }),
                    }
                }
                Err(e) => {
                    if let csv::ErrorKind::Io(io) = e.kind() {
                        return Err(whet_core::Error::file(
                            path,
                            std::io::Error::new(io.kind(), io.to_string()),
                        )
                        .into());
                    }
                    bad.push(BadRow {
                        path: path.to_owned(),
                        line: e.position().map_or(line, |p| p.line() as usize),
                        reason: e.to_string(),
                    });
                }
            }
        }
        Ok((Dataset { samples }, bad))
    }

    /// Writes CSV (`text,intent,source,confidence,corrected`), atomically.
    ///
    /// # Errors
    /// [`Error::Core`].
    pub fn write_csv(&self, path: impl AsRef<Path>) -> Result<()> {
        let mut writer = csv::Writer::from_writer(Vec::new());
        let fail = |e: csv::Error| Error::Dataset {
            path: path.as_ref().to_owned(),
            line: 0,
            reason: e.to_string(),
        };
        writer
            .write_record(["text", "intent", "source", "confidence", "corrected"])
            .map_err(fail)?;
        for s in &self.samples {
            let source = serde_json::to_value(s.source)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default();
            writer
                .write_record([
                    s.text.as_str(),
                    s.intent.as_str(),
                    source.as_str(),
                    &s.confidence.map(|c| format!("{c:?}")).unwrap_or_default(),
                    if s.corrected { "true" } else { "false" },
                ])
                .map_err(fail)?;
        }
        let bytes = writer
            .into_inner()
            .map_err(|e| fail(e.into_error().into()))?;
        atomic_write(path, &bytes)?;
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

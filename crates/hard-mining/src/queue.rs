//! The review queue: predictions the model was unsure of wait for a person, who validates
//! or corrects them; corrections become training samples with their provenance.
//!
//! [`ReviewStore`] is the interface (a server database can implement it);
//! [`SqliteQueue`] is the embedded default: one SQLite file (compiled in, nothing to
//! install), schema migrations by `PRAGMA user_version`, write-ahead logging with
//! `synchronous = FULL` (a returned [`ReviewStore::enqueue`] survives the process or the
//! machine dying the next instant), a unique key per item (a producer that retries after
//! a crash cannot duplicate anything), and a busy timeout so several producers, threads or
//! processes, can write at once.
//!
//! ```
//! use whet_hard_mining::queue::{ReviewItem, ReviewStore, SqliteQueue, enqueue_low_confidence};
//! let dir = tempfile::tempdir()?;
//! let queue = SqliteQueue::open(dir.path().join("review.sqlite"))?;
//! let items = vec![
//!     ReviewItem::new("doc-1/total", "doc-1", "total", Some("1,018.68".into()), 0.62),
//!     ReviewItem::new("doc-1/date", "doc-1", "date", Some("2022-02-09".into()), 0.97),
//! ];
//! assert_eq!(enqueue_low_confidence(&queue, &items, 0.85)?, 1); // only the unsure one
//! let pending = queue.pending(10)?;
//! assert_eq!(pending[0].item.field, "total");
//! queue.correct(pending[0].id, Some("1,018.98".into()), "ana")?;
//! let stats = queue.stats()?;
//! assert_eq!((stats.pending, stats.corrected), (0, 1));
//! let samples = queue.corrections()?;
//! assert_eq!(samples[0].value.as_deref(), Some("1,018.98"));
//! assert_eq!(samples[0].weight, 2.0);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rusqlite::{Connection, TransactionBehavior, params};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use whet_core::geom::Polygon;

use crate::error::{Error, Result};

/// One prediction waiting for a person.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReviewItem {
    /// Unique key: enqueuing the same key again does nothing (e.g. `doc-id/field/model`).
    pub key: String,
    /// The document.
    pub doc_id: String,
    /// The field's path (`total`, `items[2].amount`).
    pub field: String,
    /// What the model predicted.
    pub predicted: Option<String>,
    /// The model's confidence.
    pub confidence: f64,
    /// Which model (name and version) predicted it.
    pub source: String,
    /// What the reviewer sees and what training needs.
    pub context: ReviewContext,
}

/// What a reviewer sees of an item and what a training sample needs from it.
///
/// Stored as JSON; keys this build does not know are kept in `extra` and written back.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ReviewContext {
    /// The image the prediction was made on: a page, or a text-line crop for OCR line
    /// reviews (then it is the recognizer's training input), as a path the exports keep.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// Where on `image` the value was read (its grounding), to draw for the reviewer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<Polygon>,
    /// What the model read: the OCR text or prompt of an extraction, the message of an
    /// intent classification.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<String>,
    /// The whole predicted document of an extraction (JSON), completed by the reviewed
    /// fields into a training example.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document: Option<Value>,
    /// Anything else the producer recorded.
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

/// Builds a [`ReviewItem`], checking it in [`ReviewItemBuilder::build`].
///
/// ```
/// use whet_hard_mining::queue::ReviewItem;
/// let item = ReviewItem::builder("doc-1/total", "doc-1", "total")
///     .predicted("1,018.68")
///     .confidence(0.62)
///     .source("ppocrv4-receipts v3")
///     .image("images/doc-1.png")
///     .input("TOTAL 1,018.68")
///     .build()?;
/// assert_eq!(item.context.image.as_deref(), Some("images/doc-1.png"));
/// assert!(ReviewItem::builder("k", "d", "f").confidence(1.5).build().is_err());
/// # Ok::<(), whet_hard_mining::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct ReviewItemBuilder {
    item: ReviewItem,
}

impl ReviewItemBuilder {
    /// What the model predicted.
    #[must_use]
    pub fn predicted(mut self, value: impl Into<String>) -> Self {
        self.item.predicted = Some(value.into());
        self
    }

    /// The model's confidence, in `0..=1`.
    #[must_use]
    pub fn confidence(mut self, confidence: f64) -> Self {
        self.item.confidence = confidence;
        self
    }

    /// The model (name and version) that predicted it.
    #[must_use]
    pub fn source(mut self, source: impl Into<String>) -> Self {
        self.item.source = source.into();
        self
    }

    /// The image the prediction was made on.
    #[must_use]
    pub fn image(mut self, path: impl Into<String>) -> Self {
        self.item.context.image = Some(path.into());
        self
    }

    /// Where on the image the value was read.
    #[must_use]
    pub fn region(mut self, region: Polygon) -> Self {
        self.item.context.region = Some(region);
        self
    }

    /// What the model read (OCR text, prompt, message).
    #[must_use]
    pub fn input(mut self, input: impl Into<String>) -> Self {
        self.item.context.input = Some(input.into());
        self
    }

    /// The whole predicted document.
    #[must_use]
    pub fn document(mut self, document: Value) -> Self {
        self.item.context.document = Some(document);
        self
    }

    /// Anything else under `key`.
    #[must_use]
    pub fn extra(mut self, key: impl Into<String>, value: Value) -> Self {
        self.item.context.extra.insert(key.into(), value);
        self
    }

    /// The item.
    ///
    /// # Errors
    /// [`Error::Input`] for an empty key, document id or field, or a confidence outside
    /// `0..=1`.
    pub fn build(self) -> Result<ReviewItem> {
        let item = self.item;
        let bad = |reason: String| Error::Input {
            what: "review item",
            reason,
        };
        if item.key.is_empty() || item.doc_id.is_empty() || item.field.is_empty() {
            return Err(bad(format!(
                "key {:?}, document {:?} and field {:?} must all be given",
                item.key, item.doc_id, item.field
            )));
        }
        if !(0.0..=1.0).contains(&item.confidence) {
            return Err(bad(format!(
                "{}: confidence {} is not in 0..=1",
                item.key, item.confidence
            )));
        }
        Ok(item)
    }
}

impl ReviewItem {
    /// A builder for the item `key` of field `field` of document `doc_id` (confidence 0
    /// until set).
    pub fn builder(
        key: impl Into<String>,
        doc_id: impl Into<String>,
        field: impl Into<String>,
    ) -> ReviewItemBuilder {
        ReviewItemBuilder {
            item: ReviewItem::new(key, doc_id, field, None, 0.0),
        }
    }

    /// An item without source or context.
    pub fn new(
        key: impl Into<String>,
        doc_id: impl Into<String>,
        field: impl Into<String>,
        predicted: Option<String>,
        confidence: f64,
    ) -> Self {
        ReviewItem {
            key: key.into(),
            doc_id: doc_id.into(),
            field: field.into(),
            predicted,
            confidence,
            source: String::new(),
            context: ReviewContext::default(),
        }
    }
}

/// Where an item stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewStatus {
    /// Waiting for a person.
    Pending,
    /// The prediction was right.
    Validated,
    /// The prediction was wrong; the person gave the right value.
    Corrected,
    /// Not reviewable (unreadable image, not a document); kept out of training.
    Rejected,
}

impl ReviewStatus {
    fn as_str(self) -> &'static str {
        match self {
            ReviewStatus::Pending => "pending",
            ReviewStatus::Validated => "validated",
            ReviewStatus::Corrected => "corrected",
            ReviewStatus::Rejected => "rejected",
        }
    }

    /// `None` for a status this build does not know.
    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "pending" => ReviewStatus::Pending,
            "validated" => ReviewStatus::Validated,
            "corrected" => ReviewStatus::Corrected,
            "rejected" => ReviewStatus::Rejected,
            _ => return None,
        })
    }
}

/// An item with its place in the store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stored {
    /// The store's id of the item.
    pub id: i64,
    /// The item.
    pub item: ReviewItem,
    /// Its status.
    pub status: ReviewStatus,
    /// The right value: the prediction when validated, the person's when corrected.
    pub value: Option<String>,
    /// Who reviewed it.
    pub reviewer: Option<String>,
    /// When it was enqueued (Unix milliseconds).
    pub created_ms: i64,
    /// When it was reviewed (Unix milliseconds).
    pub reviewed_ms: Option<i64>,
}

/// Whether [`ReviewStore::enqueue`] added the item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enqueued {
    /// Added with this id.
    New(i64),
    /// The key was already there, with this id; nothing changed.
    Existing(i64),
}

/// Review counts of one field.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FieldStats {
    /// Validated or corrected.
    pub reviewed: usize,
    /// Corrected.
    pub corrected: usize,
    /// `corrected / reviewed`.
    pub correction_rate: f64,
}

/// The state of a queue.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct QueueStats {
    /// Waiting.
    pub pending: usize,
    /// Confirmed right.
    pub validated: usize,
    /// Corrected.
    pub corrected: usize,
    /// Rejected.
    pub rejected: usize,
    /// `corrected / (validated + corrected)`: how often the unsure predictions were wrong.
    pub correction_rate: f64,
    /// The same per field.
    pub per_field: BTreeMap<String, FieldStats>,
}

impl QueueStats {
    /// The statistics of `(status, field, how many)` counts (a field may repeat).
    pub fn from_counts(counts: impl IntoIterator<Item = (ReviewStatus, String, usize)>) -> Self {
        let mut s = QueueStats::default();
        for (status, field, n) in counts {
            match status {
                ReviewStatus::Pending => s.pending += n,
                ReviewStatus::Rejected => s.rejected += n,
                ReviewStatus::Validated | ReviewStatus::Corrected => {
                    let f = s.per_field.entry(field).or_default();
                    f.reviewed += n;
                    if status == ReviewStatus::Corrected {
                        f.corrected += n;
                        s.corrected += n;
                    } else {
                        s.validated += n;
                    }
                }
            }
        }
        for f in s.per_field.values_mut() {
            f.correction_rate = f.corrected as f64 / f.reviewed.max(1) as f64;
        }
        s.correction_rate = s.corrected as f64 / (s.validated + s.corrected).max(1) as f64;
        s
    }
}

/// Provenance of a training sample made from a review.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Provenance {
    /// The review item's store id.
    pub review_id: i64,
    /// Its key.
    pub key: String,
    /// Who reviewed it.
    pub reviewer: String,
    /// When (Unix milliseconds).
    pub reviewed_ms: i64,
    /// The model that predicted it.
    pub source: String,
    /// What the model predicted.
    pub predicted: Option<String>,
    /// With what confidence.
    pub confidence: f64,
}

/// A reviewed field as a training sample (the design's `Correction`): corrected ones weigh
/// 2 (the model was wrong where it was unsure), validated ones 1, with their provenance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Correction {
    /// The document.
    pub doc_id: String,
    /// The field's path.
    pub field: String,
    /// The right value.
    pub value: Option<String>,
    /// Sample weight.
    pub weight: f64,
    /// The item's context (image, region, model input, predicted document).
    pub context: ReviewContext,
    /// Where it came from.
    pub provenance: Provenance,
}

/// A store of review items. Implementations must make `enqueue` durable before it
/// returns and idempotent by key, and must be safe to use from several producers at once.
pub trait ReviewStore {
    /// Adds an item unless its key is already there.
    ///
    /// # Errors
    /// Storage failures.
    fn enqueue(&self, item: &ReviewItem) -> Result<Enqueued>;
    /// The oldest pending items, lowest confidence first among equals, at most `limit`.
    ///
    /// # Errors
    /// Storage failures.
    fn pending(&self, limit: usize) -> Result<Vec<Stored>>;
    /// Marks a pending item right as predicted.
    ///
    /// # Errors
    /// [`Error::NotPending`] for an unknown or already reviewed id; storage failures.
    fn validate(&self, id: i64, reviewer: &str) -> Result<()>;
    /// Records the right value of a pending item (`None`: the field should be empty).
    ///
    /// # Errors
    /// As [`ReviewStore::validate`].
    fn correct(&self, id: i64, value: Option<String>, reviewer: &str) -> Result<()>;
    /// Takes a pending item out of review and out of training.
    ///
    /// # Errors
    /// As [`ReviewStore::validate`].
    fn reject(&self, id: i64, reviewer: &str) -> Result<()>;
    /// Every item with the given status, in id order.
    ///
    /// # Errors
    /// Storage failures.
    fn with_status(&self, status: ReviewStatus) -> Result<Vec<Stored>>;

    /// Counts and correction rates, overall and per field.
    ///
    /// # Errors
    /// Storage failures.
    fn stats(&self) -> Result<QueueStats> {
        let mut counts = Vec::new();
        for status in [
            ReviewStatus::Pending,
            ReviewStatus::Validated,
            ReviewStatus::Corrected,
            ReviewStatus::Rejected,
        ] {
            counts.extend(
                self.with_status(status)?
                    .into_iter()
                    .map(|s| (status, s.item.field, 1)),
            );
        }
        Ok(QueueStats::from_counts(counts))
    }

    /// Reviewed items as training samples (corrected: weight 2, validated: 1), in id
    /// order.
    ///
    /// # Errors
    /// Storage failures.
    fn corrections(&self) -> Result<Vec<Correction>> {
        let mut items = self.with_status(ReviewStatus::Validated)?;
        items.extend(self.with_status(ReviewStatus::Corrected)?);
        items.sort_by_key(|s| s.id);
        Ok(items
            .into_iter()
            .map(|s| Correction {
                doc_id: s.item.doc_id.clone(),
                field: s.item.field.clone(),
                value: s.value.clone(),
                weight: if s.status == ReviewStatus::Corrected {
                    2.0
                } else {
                    1.0
                },
                context: s.item.context.clone(),
                provenance: Provenance {
                    review_id: s.id,
                    key: s.item.key,
                    reviewer: s.reviewer.unwrap_or_default(),
                    reviewed_ms: s.reviewed_ms.unwrap_or_default(),
                    source: s.item.source,
                    predicted: s.item.predicted,
                    confidence: s.item.confidence,
                },
            })
            .collect())
    }
}

/// Enqueues the items whose confidence is below `threshold` (the issue's default: 0.85);
/// returns how many were new.
///
/// # Errors
/// As [`ReviewStore::enqueue`].
pub fn enqueue_low_confidence(
    store: &dyn ReviewStore,
    items: &[ReviewItem],
    threshold: f64,
) -> Result<usize> {
    let mut added = 0;
    for item in items
        .iter()
        .filter(|i| i.confidence < threshold || i.confidence.is_nan())
    {
        if matches!(store.enqueue(item)?, Enqueued::New(_)) {
            added += 1;
        }
    }
    Ok(added)
}

/// Schema versions, applied in order; `PRAGMA user_version` records how many ran.
const MIGRATIONS: [&str; 1] = ["CREATE TABLE review_items (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        key         TEXT NOT NULL UNIQUE,
        doc_id      TEXT NOT NULL,
        field       TEXT NOT NULL,
        predicted   TEXT,
        confidence  REAL NOT NULL,
        source      TEXT NOT NULL,
        context     TEXT NOT NULL,
        status      TEXT NOT NULL DEFAULT 'pending',
        value       TEXT,
        reviewer    TEXT,
        created_ms  INTEGER NOT NULL,
        reviewed_ms INTEGER
    );
    CREATE INDEX review_items_status ON review_items (status, created_ms, confidence);"];

/// The embedded review queue: one SQLite file.
#[derive(Debug)]
pub struct SqliteQueue {
    path: PathBuf,
    conn: Mutex<Connection>,
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

impl SqliteQueue {
    /// Opens (creating if needed) the queue at `path` and brings its schema up to date.
    ///
    /// # Errors
    /// [`Error::Sqlite`] naming the file when it cannot be opened or migrated, or is not a
    /// review queue; [`Error::NewerSchema`] when it was written by a newer version.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let wrap = |e: rusqlite::Error| Error::Sqlite {
            path: path.clone(),
            source: e,
        };
        let mut conn = Connection::open(&path).map_err(wrap)?;
        conn.busy_timeout(Duration::from_secs(30)).map_err(wrap)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(wrap)?;
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(wrap)?;
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(wrap)?;
        let version: i64 = tx
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .map_err(wrap)?;
        if version as usize > MIGRATIONS.len() {
            return Err(Error::NewerSchema {
                path: path.to_owned(),
                found: version,
                known: MIGRATIONS.len(),
            });
        }
        for (i, m) in MIGRATIONS.iter().enumerate().skip(version as usize) {
            tx.execute_batch(m).map_err(wrap)?;
            tx.pragma_update(None, "user_version", (i + 1) as i64)
                .map_err(wrap)?;
            tracing::info!(path = %path.display(), version = i + 1, "review queue schema migrated");
        }
        tx.commit().map_err(wrap)?;
        Ok(SqliteQueue {
            path,
            conn: Mutex::new(conn),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn err(&self, e: rusqlite::Error) -> Error {
        Error::Sqlite {
            path: self.path.clone(),
            source: e,
        }
    }

    fn with_conn<T>(&self, f: impl FnOnce(&mut Connection) -> rusqlite::Result<T>) -> Result<T> {
        let mut conn = self.conn.lock().map_err(|_| Error::Corrupt {
            path: self.path.clone(),
            report: "a writer panicked while holding the connection".into(),
        })?;
        f(&mut conn).map_err(|e| self.err(e))
    }

    fn review(
        &self,
        id: i64,
        status: ReviewStatus,
        value: Option<Option<String>>,
        reviewer: &str,
    ) -> Result<()> {
        let changed = self.with_conn(|c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let n = match value {
                Some(v) => tx.execute(
                    "UPDATE review_items SET status = ?1, value = ?2, reviewer = ?3, reviewed_ms = ?4
                     WHERE id = ?5 AND status = 'pending'",
                    params![status.as_str(), v, reviewer, now_ms(), id],
                )?,
                None => tx.execute(
                    "UPDATE review_items SET status = ?1, value = predicted, reviewer = ?2, reviewed_ms = ?3
                     WHERE id = ?4 AND status = 'pending'",
                    params![status.as_str(), reviewer, now_ms(), id],
                )?,
            };
            tx.commit()?;
            Ok(n)
        })?;
        if changed == 0 {
            return Err(Error::NotPending {
                path: self.path.clone(),
                id,
            });
        }
        Ok(())
    }

    fn rows(&self, status: ReviewStatus, limit: Option<usize>) -> Result<Vec<Stored>> {
        let raw = self.with_conn(|c| {
            let order = if status == ReviewStatus::Pending {
                "created_ms, confidence, id"
            } else {
                "id"
            };
            let mut stmt = c.prepare(&format!(
                "SELECT id, key, doc_id, field, predicted, confidence, source, context, status, value,
                        reviewer, created_ms, reviewed_ms
                 FROM review_items WHERE status = ?1 ORDER BY {order} LIMIT ?2"
            ))?;
            let limit = limit.map_or(-1, |l| l as i64);
            let rows = stmt.query_map(params![status.as_str(), limit], |r| {
                // Context and status are parsed below, where their errors can name the item.
                let stored = Stored {
                    id: r.get(0)?,
                    item: ReviewItem {
                        key: r.get(1)?,
                        doc_id: r.get(2)?,
                        field: r.get(3)?,
                        predicted: r.get(4)?,
                        confidence: r.get(5)?,
                        source: r.get(6)?,
                        context: ReviewContext::default(),
                    },
                    status: ReviewStatus::Pending,
                    value: r.get(9)?,
                    reviewer: r.get(10)?,
                    created_ms: r.get(11)?,
                    reviewed_ms: r.get(12)?,
                };
                Ok((stored, r.get::<_, String>(7)?, r.get::<_, String>(8)?))
            })?;
            rows.collect::<rusqlite::Result<Vec<_>>>()
        })?;
        raw.into_iter()
            .map(|(mut stored, context, status)| {
                let bad = |reason: String| Error::Record {
                    path: self.path.clone(),
                    item: stored.id.to_string(),
                    reason,
                };
                stored.item.context = serde_json::from_str(&context)
                    .map_err(|e| bad(format!("context is not JSON: {e}")))?;
                stored.status = ReviewStatus::parse(&status)
                    .ok_or_else(|| bad(format!("unknown status {status:?}")))?;
                Ok(stored)
            })
            .collect()
    }
}

impl ReviewStore for SqliteQueue {
    fn enqueue(&self, item: &ReviewItem) -> Result<Enqueued> {
        let context = serde_json::to_string(&item.context).map_err(|e| Error::Record {
            path: self.path.clone(),
            item: item.key.clone(),
            reason: format!("context cannot be encoded: {e}"),
        })?;
        self.with_conn(|c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let inserted = tx.execute(
                "INSERT INTO review_items (key, doc_id, field, predicted, confidence, source, context, created_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT (key) DO NOTHING",
                params![item.key, item.doc_id, item.field, item.predicted, item.confidence, item.source, context, now_ms()],
            )?;
            let id: i64 = tx.query_row("SELECT id FROM review_items WHERE key = ?1", params![item.key], |r| r.get(0))?;
            tx.commit()?;
            Ok(if inserted == 1 { Enqueued::New(id) } else { Enqueued::Existing(id) })
        })
    }

    fn pending(&self, limit: usize) -> Result<Vec<Stored>> {
        self.rows(ReviewStatus::Pending, Some(limit))
    }

    fn validate(&self, id: i64, reviewer: &str) -> Result<()> {
        self.review(id, ReviewStatus::Validated, None, reviewer)
    }

    fn correct(&self, id: i64, value: Option<String>, reviewer: &str) -> Result<()> {
        self.review(id, ReviewStatus::Corrected, Some(value), reviewer)
    }

    fn reject(&self, id: i64, reviewer: &str) -> Result<()> {
        self.review(id, ReviewStatus::Rejected, Some(None), reviewer)
    }

    fn with_status(&self, status: ReviewStatus) -> Result<Vec<Stored>> {
        self.rows(status, None)
    }

    /// Counted in SQL, without reading the items.
    fn stats(&self) -> Result<QueueStats> {
        let rows = self.with_conn(|c| {
            let mut stmt = c.prepare(
                "SELECT status, field, COUNT(*) FROM review_items GROUP BY status, field",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                ))
            })?;
            rows.collect::<rusqlite::Result<Vec<_>>>()
        })?;
        let counts = rows
            .into_iter()
            .map(|(status, field, n)| {
                let parsed = ReviewStatus::parse(&status).ok_or_else(|| Error::Record {
                    path: self.path.clone(),
                    item: format!("field {field}"),
                    reason: format!("unknown status {status:?}"),
                })?;
                Ok((parsed, field, n as usize))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(QueueStats::from_counts(counts))
    }
}

impl SqliteQueue {
    /// SQLite's own consistency check of the file (`PRAGMA integrity_check`): `Ok` when it
    /// reports `ok`.
    ///
    /// # Errors
    /// [`Error::Corrupt`] with SQLite's findings; storage failures.
    pub fn check_integrity(&self) -> Result<()> {
        let report: String =
            self.with_conn(|c| c.query_row("PRAGMA integrity_check", [], |r| r.get(0)))?;
        if report == "ok" {
            Ok(())
        } else {
            Err(Error::Corrupt {
                path: self.path.clone(),
                report,
            })
        }
    }
}

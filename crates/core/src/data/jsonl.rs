//! JSON Lines: one JSON value per line, the internal format of every Whetstone manifest.
//!
//! Reading reports each malformed record with its file and 1-based line number, and an
//! explicit [`MalformedPolicy`] says whether a malformed record stops the read or is
//! skipped and reported. Blank lines are ignored (they carry no record); a UTF-8 byte
//! order mark on the first line and `\r\n` line endings are accepted.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::marker::PhantomData;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::atomic::atomic_write_with;
use crate::error::{Error, Result};

/// What to do with a record that cannot be decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MalformedPolicy {
    /// Stop at the first malformed record with [`Error::JsonlRecord`].
    #[default]
    Fail,
    /// Skip malformed records, log each with `tracing`, and list them in
    /// [`JsonlRead::skipped`].
    Skip,
}

/// A record that was skipped under [`MalformedPolicy::Skip`].
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BadRecord {
    /// 1-based line number.
    pub line: usize,
    /// Why the record could not be decoded.
    pub reason: String,
}

/// The outcome of [`read_jsonl`].
#[derive(Debug, Clone)]
pub struct JsonlRead<T> {
    /// The file that was read.
    pub path: PathBuf,
    /// Decoded records, in file order, each with its 1-based line number.
    pub records: Vec<(usize, T)>,
    /// Records skipped under [`MalformedPolicy::Skip`] (always empty under `Fail`).
    pub skipped: Vec<BadRecord>,
}

impl<T> JsonlRead<T> {
    /// The records without their line numbers.
    pub fn into_records(self) -> Vec<T> {
        self.records.into_iter().map(|(_, r)| r).collect()
    }
}

/// Reads every record of a JSONL file.
///
/// ```
/// use whet_core::data::{read_jsonl, MalformedPolicy};
/// # let dir = tempfile::tempdir()?;
/// # let path = dir.path().join("samples.jsonl");
/// std::fs::write(&path, "{\"text\":\"hi\"}\nnot json\n{\"text\":\"yo\"}\n")?;
///
/// #[derive(Debug, serde::Deserialize)]
/// struct Sample { text: String }
///
/// let read = read_jsonl::<Sample>(&path, MalformedPolicy::Skip)?;
/// assert_eq!(read.records.len(), 2);
/// assert_eq!(read.skipped[0].line, 2);
///
/// let err = read_jsonl::<Sample>(&path, MalformedPolicy::Fail).unwrap_err();
/// assert!(err.to_string().contains("samples.jsonl:2:"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// [`Error::File`] when the file cannot be opened or read; [`Error::JsonlRecord`] for
/// the first malformed record under [`MalformedPolicy::Fail`].
pub fn read_jsonl<T: DeserializeOwned>(
    path: impl AsRef<Path>,
    policy: MalformedPolicy,
) -> Result<JsonlRead<T>> {
    let path = path.as_ref();
    let mut out = JsonlRead {
        path: path.to_owned(),
        records: Vec::new(),
        skipped: Vec::new(),
    };
    for item in JsonlReader::<T>::open(path)? {
        match item {
            Ok(record) => out.records.push(record),
            Err(Error::JsonlRecord { line, reason, .. }) if policy == MalformedPolicy::Skip => {
                tracing::warn!(path = %path.display(), line, %reason, "skipping malformed record");
                out.skipped.push(BadRecord { line, reason });
            }
            Err(e) => return Err(e),
        }
    }
    if !out.skipped.is_empty() {
        tracing::warn!(
            path = %path.display(),
            skipped = out.skipped.len(),
            kept = out.records.len(),
            "malformed records skipped"
        );
    }
    Ok(out)
}

/// A streaming JSONL reader: yields `(line, record)` or a located error per record.
///
/// After a malformed record it carries on with the next line, so a caller can apply its
/// own policy; after an I/O error it stops.
pub struct JsonlReader<T> {
    path: PathBuf,
    reader: BufReader<File>,
    line: usize,
    buf: Vec<u8>,
    done: bool,
    _record: PhantomData<fn() -> T>,
}

impl<T: DeserializeOwned> JsonlReader<T> {
    /// Opens `path` for reading.
    ///
    /// # Errors
    /// [`Error::File`] when it cannot be opened.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref().to_owned();
        let file = File::open(&path).map_err(|e| Error::file(&path, e))?;
        Ok(JsonlReader {
            path,
            reader: BufReader::new(file),
            line: 0,
            buf: Vec::new(),
            done: false,
            _record: PhantomData,
        })
    }

    fn bad(&self, reason: String) -> Error {
        Error::JsonlRecord {
            path: self.path.clone(),
            line: self.line,
            reason,
        }
    }
}

impl<T: DeserializeOwned> Iterator for JsonlReader<T> {
    type Item = Result<(usize, T)>;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.done {
            self.buf.clear();
            match self.reader.read_until(b'\n', &mut self.buf) {
                Ok(0) => self.done = true,
                Ok(_) => {
                    self.line += 1;
                    let mut bytes = self.buf.as_slice();
                    if self.line == 1 {
                        bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
                    }
                    let text = match std::str::from_utf8(bytes) {
                        Ok(t) => t,
                        Err(e) => return Some(Err(self.bad(format!("invalid UTF-8: {e}")))),
                    };
                    if text.trim().is_empty() {
                        continue;
                    }
                    return Some(
                        serde_json::from_str::<T>(text)
                            .map(|record| (self.line, record))
                            .map_err(|e| self.bad(e.to_string())),
                    );
                }
                Err(e) => {
                    self.done = true;
                    let path = self.path.clone();
                    return Some(Err(Error::file(path, e)));
                }
            }
        }
        None
    }
}

/// Writes `records` to `path` as JSONL, atomically (the old file stays intact on error).
///
/// # Errors
/// [`Error::JsonlEncode`] naming the record that cannot be serialised, or [`Error::File`].
pub fn write_jsonl<'a, T, I>(path: impl AsRef<Path>, records: I) -> Result<()>
where
    T: Serialize + 'a,
    I: IntoIterator<Item = &'a T>,
{
    let path = path.as_ref();
    atomic_write_with(path, |w| {
        for (index, record) in records.into_iter().enumerate() {
            write_line(w, record).map_err(|e| match e {
                LineError::Encode(source) => Error::JsonlEncode {
                    path: path.to_owned(),
                    index,
                    source,
                },
                LineError::Io(e) => Error::file(path, e),
            })?;
        }
        Ok(())
    })
}

/// Appends records to a JSONL log (metrics, interaction buffers), one line per call.
///
/// Each record is written with a single `write` on a file opened in append mode, so
/// concurrent appenders never interleave within a line and a crash loses at most the
/// record being written. Call [`JsonlAppender::sync`] where durability matters.
#[derive(Debug)]
pub struct JsonlAppender {
    path: PathBuf,
    file: File,
    count: usize,
    line: Vec<u8>,
}

impl JsonlAppender {
    /// Opens (creating if needed) `path` for appending; creates missing parent folders.
    ///
    /// # Errors
    /// [`Error::File`] when the file cannot be opened.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref().to_owned();
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            super::atomic::ensure_dir(parent)?;
        }
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|e| Error::file(&path, e))?;
        Ok(JsonlAppender {
            path,
            file,
            count: 0,
            line: Vec::new(),
        })
    }

    /// Appends one record as one line.
    ///
    /// # Errors
    /// [`Error::JsonlEncode`] or [`Error::File`].
    pub fn append<T: Serialize>(&mut self, record: &T) -> Result<()> {
        self.line.clear();
        write_line(&mut self.line, record).map_err(|e| match e {
            LineError::Encode(source) => Error::JsonlEncode {
                path: self.path.clone(),
                index: self.count,
                source,
            },
            LineError::Io(e) => Error::file(&self.path, e),
        })?;
        self.file
            .write_all(&self.line)
            .map_err(|e| Error::file(&self.path, e))?;
        self.count += 1;
        Ok(())
    }

    /// Flushes appended records to disk.
    ///
    /// # Errors
    /// [`Error::File`].
    pub fn sync(&mut self) -> Result<()> {
        self.file
            .sync_data()
            .map_err(|e| Error::file(&self.path, e))
    }

    /// The file being appended to.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

enum LineError {
    Encode(serde_json::Error),
    Io(std::io::Error),
}

fn write_line<W: Write, T: Serialize + ?Sized>(
    w: &mut W,
    record: &T,
) -> std::result::Result<(), LineError> {
    serde_json::to_writer(&mut *w, record).map_err(|e| {
        if e.is_io() {
            LineError::Io(e.into())
        } else {
            LineError::Encode(e)
        }
    })?;
    w.write_all(b"\n").map_err(LineError::Io)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use std::collections::BTreeMap;

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    struct Rec {
        id: u32,
        text: String,
    }

    fn file_with(content: &[u8]) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data.jsonl");
        std::fs::write(&path, content).unwrap();
        (dir, path)
    }

    #[test]
    fn errors_carry_file_and_line() {
        let content = b"{\"id\":1,\"text\":\"a\"}\n\n{\"id\":2,\"text\":\"b\"}\n{\"id\":\"x\",\"text\":\"c\"}\n";
        let (_dir, path) = file_with(content);
        let err = read_jsonl::<Rec>(&path, MalformedPolicy::Fail).unwrap_err();
        match &err {
            Error::JsonlRecord { path: p, line, .. } => {
                assert_eq!(p, &path);
                assert_eq!(*line, 4, "blank line 2 still counts");
            }
            other => panic!("unexpected {other:?}"),
        }
        assert!(
            err.to_string()
                .starts_with(&format!("{}:4: ", path.display()))
        );
    }

    #[test]
    fn skip_policy_reports_every_bad_line() {
        let mut content = Vec::new();
        let mut expected_bad = Vec::new();
        let mut expected_good = Vec::new();
        for line in 1..=50usize {
            match line % 7 {
                0 => {
                    content.extend_from_slice(b"{\"id\": 1, \"text\": \n");
                    expected_bad.push(line);
                }
                3 => {
                    content.extend_from_slice(b"{\"id\": 1, \"text\": \"\xff\xfe\"}\n");
                    expected_bad.push(line);
                }
                5 => {
                    content.extend_from_slice(b"[1, 2]\r\n");
                    expected_bad.push(line);
                }
                _ => {
                    content.extend_from_slice(
                        format!("{{\"id\": {line}, \"text\": \"t{line}\"}}\r\n").as_bytes(),
                    );
                    expected_good.push(line);
                }
            }
        }
        let (_dir, path) = file_with(&content);
        let read = read_jsonl::<Rec>(&path, MalformedPolicy::Skip).unwrap();
        let bad: Vec<usize> = read.skipped.iter().map(|b| b.line).collect();
        assert_eq!(bad, expected_bad);
        let good: Vec<usize> = read.records.iter().map(|(l, _)| *l).collect();
        assert_eq!(good, expected_good);
        for (line, rec) in &read.records {
            assert_eq!(rec.id as usize, *line);
        }
        assert!(read.skipped.iter().any(|b| b.reason.contains("UTF-8")));
    }

    #[test]
    fn bom_and_missing_final_newline() {
        let (_dir, path) =
            file_with(b"\xEF\xBB\xBF{\"id\":1,\"text\":\"a\"}\n{\"id\":2,\"text\":\"b\"}");
        let read = read_jsonl::<Rec>(&path, MalformedPolicy::Fail).unwrap();
        assert_eq!(read.into_records().len(), 2);
    }

    #[test]
    fn missing_file_is_named() {
        let err =
            read_jsonl::<Rec>("/definitely/not/here.jsonl", MalformedPolicy::Skip).unwrap_err();
        assert!(matches!(err, Error::File { .. }));
        assert!(err.to_string().contains("/definitely/not/here.jsonl"));
    }

    #[test]
    fn write_read_round_trip_and_append() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.jsonl");
        let recs: Vec<Rec> = (0..20)
            .map(|i| Rec {
                id: i,
                text: format!("line\n{i} \u{20b1} \"q\""),
            })
            .collect();
        write_jsonl(&path, &recs).unwrap();
        let back = read_jsonl::<Rec>(&path, MalformedPolicy::Fail).unwrap();
        assert_eq!(back.into_records(), recs);

        let log = dir.path().join("logs/metrics.jsonl");
        let mut app = JsonlAppender::open(&log).unwrap();
        app.append(&recs[0]).unwrap();
        app.sync().unwrap();
        drop(app);
        let mut app = JsonlAppender::open(&log).unwrap();
        app.append(&recs[1]).unwrap();
        let back = read_jsonl::<Rec>(&log, MalformedPolicy::Fail).unwrap();
        assert_eq!(back.into_records(), recs[..2].to_vec());
    }

    #[test]
    fn unencodable_record_names_its_index_and_keeps_old_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.jsonl");
        std::fs::write(&path, b"old\n").unwrap();
        // Maps with non-string keys cannot be encoded as JSON objects.
        let ok: BTreeMap<Vec<u8>, u8> = BTreeMap::new();
        let bad: BTreeMap<Vec<u8>, u8> = [(vec![1u8], 1u8)].into_iter().collect();
        let err = write_jsonl(&path, [&ok, &ok, &bad]).unwrap_err();
        assert!(
            matches!(err, Error::JsonlEncode { index: 2, .. }),
            "{err:?}"
        );
        assert_eq!(std::fs::read(&path).unwrap(), b"old\n");
    }
}

//! Content fingerprints of datasets, for provenance: a model version records the
//! fingerprint of the data it was trained on.

use std::fmt;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// A SHA-256 content hash, written `sha256:<64 hex digits>`.
///
/// Fingerprints depend on content only: not on timestamps, permissions, or the order in
/// which a folder lists its files.
///
/// ```
/// use whet_core::data::Fingerprint;
///
/// let a = Fingerprint::of_bytes(b"hello");
/// assert_eq!(
///     a.to_string(),
///     "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
/// );
/// assert_eq!(a.to_string().parse::<Fingerprint>().unwrap(), a);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Fingerprint([u8; 32]);

impl Fingerprint {
    /// The hash of a byte string.
    pub fn of_bytes(bytes: &[u8]) -> Self {
        Fingerprint(Sha256::digest(bytes).into())
    }

    /// The hash of a file's bytes (equal to [`Fingerprint::of_bytes`] of its content).
    ///
    /// # Errors
    /// [`Error::File`] when it cannot be read.
    pub fn of_file(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let mut hasher = Sha256::new();
        hash_file(path, &mut hasher)?;
        Ok(Fingerprint(hasher.finalize().into()))
    }

    /// The hash of every regular file under `dir`, recursively: relative paths (with `/`
    /// separators) in byte order, each followed by its length and content. Hidden
    /// entries (names starting with `.`) are ignored, so editor and lock files do not
    /// change a dataset's identity.
    ///
    /// # Errors
    /// [`Error::File`] naming the file or folder that cannot be read.
    pub fn of_dir(dir: impl AsRef<Path>) -> Result<Self> {
        let dir = dir.as_ref();
        let mut files = Vec::new();
        collect_files(dir, dir, &mut files)?;
        files.sort();
        let mut hasher = Sha256::new();
        hasher.update(b"whetstone-dir-v1\0");
        for (rel, abs) in &files {
            hasher.update(rel.as_bytes());
            hasher.update(b"\0");
            let len = fs::metadata(abs).map_err(|e| Error::file(abs, e))?.len();
            hasher.update(len.to_le_bytes());
            hash_file(abs, &mut hasher)?;
        }
        Ok(Fingerprint(hasher.finalize().into()))
    }

    /// The hash of a sequence of records, each encoded as compact JSON followed by a
    /// newline: equal to [`Fingerprint::of_file`] of the JSONL file `write_jsonl` makes.
    ///
    /// # Errors
    /// [`Error::JsonlEncode`] when a record cannot be encoded.
    pub fn of_records<'a, T, I>(records: I) -> Result<Self>
    where
        T: Serialize + 'a,
        I: IntoIterator<Item = &'a T>,
    {
        let mut hasher = Sha256::new();
        for (index, record) in records.into_iter().enumerate() {
            let line = serde_json::to_vec(record).map_err(|source| Error::JsonlEncode {
                path: PathBuf::from("<fingerprint>"),
                index,
                source,
            })?;
            hasher.update(&line);
            hasher.update(b"\n");
        }
        Ok(Fingerprint(hasher.finalize().into()))
    }

    /// The raw 32 bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The first 12 hex digits, for display in logs.
    pub fn short(&self) -> String {
        self.hex()[..12].to_owned()
    }

    fn hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }
}

fn hash_file(path: &Path, hasher: &mut Sha256) -> Result<()> {
    let mut file = fs::File::open(path).map_err(|e| Error::file(path, e))?;
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = file.read(&mut buf).map_err(|e| Error::file(path, e))?;
        if n == 0 {
            return Ok(());
        }
        hasher.update(&buf[..n]);
    }
}

fn collect_files(root: &Path, dir: &Path, out: &mut Vec<(String, PathBuf)>) -> Result<()> {
    for entry in fs::read_dir(dir).map_err(|e| Error::file(dir, e))? {
        let entry = entry.map_err(|e| Error::file(dir, e))?;
        let name = entry.file_name();
        if name.to_string_lossy().starts_with('.') {
            continue;
        }
        let path = entry.path();
        // Follows symbolic links: a dataset folder of links hashes like its targets.
        let meta = fs::metadata(&path).map_err(|e| Error::file(&path, e))?;
        if meta.is_dir() {
            collect_files(root, &path, out)?;
        } else if meta.is_file() {
            let rel = path
                .strip_prefix(root)
                .unwrap_or(&path)
                .components()
                .map(|c| c.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/");
            out.push((rel, path));
        }
    }
    Ok(())
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sha256:{}", self.hex())
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fingerprint({self})")
    }
}

/// Error for a string that is not `sha256:<64 hex digits>`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a fingerprint (expected sha256:<64 hex digits>): {0:?}")]
pub struct ParseFingerprintError(String);

impl FromStr for Fingerprint {
    type Err = ParseFingerprintError;

    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        let bad = || ParseFingerprintError(s.to_owned());
        let hex = s.strip_prefix("sha256:").ok_or_else(bad)?;
        if hex.len() != 64 || !hex.is_ascii() {
            return Err(bad());
        }
        let mut out = [0u8; 32];
        for (i, byte) in out.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).map_err(|_| bad())?;
        }
        Ok(Fingerprint(out))
    }
}

impl Serialize for Fingerprint {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Fingerprint {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::write_jsonl;

    #[test]
    fn dir_fingerprint_depends_on_content_and_names_only() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        // Same files written in a different order, plus a hidden file in one of them.
        fs::create_dir_all(a.path().join("img")).unwrap();
        fs::write(a.path().join("img/1.png"), b"one").unwrap();
        fs::write(a.path().join("manifest.jsonl"), b"{}\n").unwrap();
        fs::write(b.path().join("manifest.jsonl"), b"{}\n").unwrap();
        fs::create_dir_all(b.path().join("img")).unwrap();
        fs::write(b.path().join("img/1.png"), b"one").unwrap();
        fs::write(b.path().join(".lock"), b"pid").unwrap();
        let fa = Fingerprint::of_dir(a.path()).unwrap();
        assert_eq!(fa, Fingerprint::of_dir(b.path()).unwrap());

        fs::write(b.path().join("img/1.png"), b"One").unwrap();
        assert_ne!(fa, Fingerprint::of_dir(b.path()).unwrap());
        fs::write(b.path().join("img/1.png"), b"one").unwrap();
        fs::rename(b.path().join("img/1.png"), b.path().join("img/2.png")).unwrap();
        assert_ne!(fa, Fingerprint::of_dir(b.path()).unwrap());
    }

    #[test]
    fn length_prefix_prevents_boundary_collisions() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        fs::write(a.path().join("x"), b"ab").unwrap();
        fs::write(a.path().join("y"), b"c").unwrap();
        fs::write(b.path().join("x"), b"a").unwrap();
        fs::write(b.path().join("y"), b"bc").unwrap();
        assert_ne!(
            Fingerprint::of_dir(a.path()).unwrap(),
            Fingerprint::of_dir(b.path()).unwrap()
        );
    }

    #[test]
    fn records_match_the_file_they_write() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.jsonl");
        let recs = vec![
            serde_json::json!({"a": 1}),
            serde_json::json!({"b": "\u{20b1}5"}),
        ];
        write_jsonl(&path, &recs).unwrap();
        assert_eq!(
            Fingerprint::of_records(&recs).unwrap(),
            Fingerprint::of_file(&path).unwrap()
        );
    }

    #[test]
    fn parse_rejects_garbage() {
        for bad in [
            "",
            "sha256:",
            "md5:00",
            "sha256:zz",
            &format!("sha256:{}", "é".repeat(32)),
        ] {
            assert!(bad.parse::<Fingerprint>().is_err(), "{bad:?}");
        }
    }
}

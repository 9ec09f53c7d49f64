//! Atomic file replacement: write a temporary file beside the target, flush it to disk,
//! rename it over the target, then flush the folder. Readers see the old file or the new
//! one, never a mix, and a failure at any point leaves the old file as it was.

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::Path;

use crate::error::{Error, Result};

/// Replaces `path` with `bytes` atomically.
///
/// ```
/// # let dir = tempfile::tempdir()?;
/// let path = dir.path().join("state.json");
/// whet_core::data::atomic_write(&path, b"{\"step\": 1}")?;
/// assert_eq!(std::fs::read(&path)?, b"{\"step\": 1}");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// [`Error::File`] naming `path` when any step fails; the previous content is intact.
pub fn atomic_write(path: impl AsRef<Path>, bytes: &[u8]) -> Result<()> {
    let path = path.as_ref();
    atomic_write_with(path, |w| {
        w.write_all(bytes).map_err(|e| Error::file(path, e))
    })
}

/// Replaces `path` with whatever `write` produces, atomically.
///
/// `write` gets a buffered writer on a temporary file in the same folder. If it returns
/// an error (or flushing, syncing or renaming fails), the temporary file is removed and
/// `path` keeps its previous content.
///
/// # Errors
/// The error returned by `write`, or [`Error::File`] naming `path` for I/O failures.
pub fn atomic_write_with<F>(path: impl AsRef<Path>, write: F) -> Result<()>
where
    F: FnOnce(&mut BufWriter<File>) -> Result<()>,
{
    let path = path.as_ref();
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .ok_or_else(|| Error::file(path, std::io::Error::other("not a file path")))?;
    let mut prefix = std::ffi::OsString::from(".");
    prefix.push(name);
    prefix.push(".");
    let tmp = tempfile::Builder::new()
        .prefix(&prefix)
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(|e| Error::file(path, e))?;
    // `NamedTempFile` deletes the file on drop, so every early return cleans up.
    let (file, tmp_path) = tmp.into_parts();
    // The temporary file is private (0600); the result gets the old file's permissions,
    // or the usual 0644 for a new file.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(path)
            .map(|m| m.permissions().mode())
            .unwrap_or(0o644);
        file.set_permissions(fs::Permissions::from_mode(mode))
            .map_err(|e| Error::file(path, e))?;
    }
    let mut writer = BufWriter::new(file);
    write(&mut writer)?;
    let file = writer
        .into_inner()
        .map_err(|e| Error::file(path, e.into_error()))?;
    file.sync_all().map_err(|e| Error::file(path, e))?;
    drop(file);
    tmp_path
        .persist(path)
        .map_err(|e| Error::file(path, e.error))?;
    sync_dir(dir).map_err(|e| Error::file(dir, e))?;
    Ok(())
}

/// Flushes a folder's entries (the rename) to disk. A no-op where folders cannot be
/// opened as files.
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        File::open(dir)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}

/// Creates `dir` and its parents when missing.
pub(crate) fn ensure_dir(dir: &Path) -> Result<()> {
    fs::create_dir_all(dir).map_err(|e| Error::file(dir, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leftovers(dir: &Path) -> Vec<String> {
        fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".tmp"))
            .collect()
    }

    #[cfg(unix)]
    #[test]
    fn new_files_are_world_readable_and_old_modes_kept() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.txt");
        atomic_write(&path, b"one").unwrap();
        assert_eq!(
            fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o644
        );
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
        atomic_write(&path, b"two").unwrap();
        assert_eq!(
            fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }

    #[test]
    fn replaces_content() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.txt");
        atomic_write(&path, b"one").unwrap();
        atomic_write(&path, b"two").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"two");
        assert!(leftovers(dir.path()).is_empty());
    }

    #[test]
    fn failed_write_keeps_old_file_and_cleans_up() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.txt");
        atomic_write(&path, b"precious").unwrap();
        let err = atomic_write_with(&path, |w| {
            w.write_all(b"half a new fi").unwrap();
            Err(Error::file("simulated", std::io::Error::other("disk full")))
        })
        .unwrap_err();
        assert!(err.to_string().contains("disk full"));
        assert_eq!(fs::read(&path).unwrap(), b"precious");
        assert!(leftovers(dir.path()).is_empty());
    }

    #[test]
    fn panicking_writer_keeps_old_file_and_cleans_up() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.txt");
        atomic_write(&path, b"precious").unwrap();
        let outcome = std::panic::catch_unwind(|| {
            let _ = atomic_write_with(&path, |w| {
                w.write_all(b"partial").unwrap();
                panic!("writer crashed");
            });
        });
        assert!(outcome.is_err());
        assert_eq!(fs::read(&path).unwrap(), b"precious");
        assert!(leftovers(dir.path()).is_empty());
    }

    #[test]
    fn unwritable_folder_is_a_named_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("missing").join("a.txt");
        let err = atomic_write(&path, b"x").unwrap_err();
        assert!(err.to_string().contains("a.txt"), "{err}");
    }
}

//! Speech sets on disk: a manifest JSONL of `{"audio", "text", "language"}` records (the
//! columns of a Hugging Face audio dataset; relative audio paths resolve against the
//! manifest's folder), and CMU Sphinx transcription files.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use whet_core::data::{MalformedPolicy, atomic_write, read_jsonl};

use crate::error::{Error, Result};

/// One utterance of a speech set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpeechRecord {
    /// The audio file (WAV, MP3, FLAC or Ogg; any rate). Relative paths are relative to
    /// the manifest's folder.
    pub audio: PathBuf,
    /// The transcript.
    pub text: String,
    /// ISO 639-1 language (`en`, `tl`); `en` when absent.
    #[serde(default = "english")]
    pub language: String,
}

fn english() -> String {
    "en".into()
}

/// Reads a manifest, resolving each record's audio path against the manifest's folder.
///
/// ```
/// use whet_whisper_ft::{SpeechRecord, read_manifest, write_manifest};
/// let dir = tempfile::tempdir()?;
/// let records = vec![SpeechRecord {
///     audio: dir.path().join("clips/0001.wav"),
///     text: "Nagbayad ako ng limampung piso.".into(),
///     language: "tl".into(),
/// }];
/// write_manifest(dir.path().join("manifest.jsonl"), &records)?;
/// // Written relative to the manifest ("clips/0001.wav"), read back absolute.
/// assert_eq!(read_manifest(dir.path().join("manifest.jsonl"))?, records);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// [`Error::Core`] naming the file and line of an unreadable or malformed record;
/// [`Error::Input`] naming them for a record with empty text or no audio path.
pub fn read_manifest(path: impl AsRef<Path>) -> Result<Vec<SpeechRecord>> {
    let path = path.as_ref();
    let base = path.parent().unwrap_or(Path::new(""));
    let read = read_jsonl::<SpeechRecord>(path, MalformedPolicy::Fail)?;
    read.records
        .into_iter()
        .map(|(line, mut r)| {
            if r.audio.as_os_str().is_empty() || r.text.trim().is_empty() {
                return Err(Error::Input {
                    reason: format!(
                        "{}:{line}: a record needs an audio path and a transcript",
                        path.display()
                    ),
                });
            }
            if r.audio.is_relative() {
                r.audio = base.join(&r.audio);
            }
            Ok(r)
        })
        .collect()
}

/// Writes a manifest atomically, audio paths relative to its folder where they lie
/// under it.
///
/// # Errors
/// [`Error::Core`] when the file cannot be written.
pub fn write_manifest(path: impl AsRef<Path>, records: &[SpeechRecord]) -> Result<()> {
    let path = path.as_ref();
    let base = path.parent().unwrap_or(Path::new(""));
    let mut out = String::new();
    for r in records {
        let audio = r.audio.strip_prefix(base).unwrap_or(&r.audio).to_owned();
        let record = SpeechRecord { audio, ..r.clone() };
        out.push_str(&serde_json::to_string(&record).map_err(|e| Error::Input {
            reason: format!("{}: {e}", path.display()),
        })?);
        out.push('\n');
    }
    Ok(atomic_write(path, out.as_bytes())?)
}

/// Reads a CMU Sphinx transcription file (`<s> words </s> (utterance-id)` per line, as
/// pocketsphinx-testdata and many older corpora ship) as English records whose audio is
/// `utterance-id.wav` beside it.
///
/// # Errors
/// [`Error::Core`] when the file cannot be read; [`Error::Input`] naming the file and
/// line for a line without its `(utterance-id)`.
pub fn read_sphinx_transcription(path: impl AsRef<Path>) -> Result<Vec<SpeechRecord>> {
    let path = path.as_ref();
    let text = std::fs::read_to_string(path).map_err(|e| whet_core::Error::file(path, e))?;
    parse_sphinx_transcription(&text, path)
}

/// [`read_sphinx_transcription`] of text already read from `path` (which names it in
/// errors and places the audio).
///
/// # Errors
/// [`Error::Input`] naming the file and line for a line without its `(utterance-id)` or
/// with an id that is not a relative path inside the file's folder.
pub fn parse_sphinx_transcription(text: &str, path: &Path) -> Result<Vec<SpeechRecord>> {
    let base = path.parent().unwrap_or(Path::new(""));
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            let parsed = l.trim().strip_suffix(')').and_then(|l| l.rsplit_once(" ("));
            let Some((words, id)) = parsed.filter(|(_, id)| !id.is_empty()) else {
                return Err(Error::Input {
                    reason: format!(
                        "{}:{}: not `<s> words </s> (utterance-id)`",
                        path.display(),
                        i + 1
                    ),
                });
            };
            // The audio stays under the file's folder: no absolute id, no `..`.
            let inside = !id.ends_with(['/', '\\'])
                && Path::new(id)
                    .components()
                    .all(|c| matches!(c, std::path::Component::Normal(_)));
            if !inside {
                return Err(Error::Input {
                    reason: format!(
                        "{}:{}: utterance id {id:?} leaves the transcription's folder",
                        path.display(),
                        i + 1
                    ),
                });
            }
            let words = words.trim();
            let words = words.strip_prefix("<s>").unwrap_or(words);
            let words = words.strip_suffix("</s>").unwrap_or(words);
            Ok(SpeechRecord {
                audio: base.join(format!("{id}.wav")),
                text: words.trim().to_owned(),
                language: english(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sphinx_transcriptions() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("transcription");
        std::fs::write(
            &path,
            "<s> he was not ill </s> (clip-1)\n\nhello there (b)\n",
        )
        .unwrap();
        let r = read_sphinx_transcription(&path).unwrap();
        assert_eq!(r.len(), 2);
        assert_eq!(
            (r[0].text.as_str(), r[1].text.as_str()),
            ("he was not ill", "hello there")
        );
        assert_eq!(r[0].audio, dir.path().join("clip-1.wav"));
        std::fs::write(&path, "<s> a </s> (x)\n<s> b </s> (../../etc/passwd)\n").unwrap();
        let e = read_sphinx_transcription(&path).unwrap_err().to_string();
        assert!(e.contains("transcription:2") && e.contains("leaves"), "{e}");
        std::fs::write(&path, "<s> a </s> (x)\nno id here\n").unwrap();
        let e = read_sphinx_transcription(&path).unwrap_err().to_string();
        assert!(e.contains("transcription:2"), "{e}");
    }

    #[test]
    fn manifest_round_trip_and_errors() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.jsonl");
        let records = vec![SpeechRecord {
            audio: dir.path().join("a.wav"),
            text: "Paid 40 pesos.".into(),
            language: "en".into(),
        }];
        write_manifest(&path, &records).unwrap();
        assert!(
            std::fs::read_to_string(&path)
                .unwrap()
                .contains("\"a.wav\"")
        );
        assert_eq!(read_manifest(&path).unwrap(), records);
        std::fs::write(
            &path,
            "{\"audio\":\"a.wav\",\"text\":\"x\"}\n{\"audio\":\"b.wav\"}\n",
        )
        .unwrap();
        let e = read_manifest(&path).unwrap_err().to_string();
        assert!(e.contains("m.jsonl:2"), "{e}");
        std::fs::write(&path, "{\"audio\":\"a.wav\",\"text\":\" \"}\n").unwrap();
        let e = read_manifest(&path).unwrap_err().to_string();
        assert!(e.contains("m.jsonl:1"), "{e}");
    }
}

//! Corpus-level WER, CER, MER, WIL and WIP with jiwer 4 semantics (`jiwer/process.py`).
//!
//! Counts are summed over all sentence pairs before any rate is taken (a corpus WER is
//! not the mean of sentence WERs). The default transforms are jiwer's: for words,
//! `RemoveMultipleSpaces` (`\s\s+` -> one space), `Strip`, then a split on the space
//! character; for characters, `Strip` and then every code point. Case and punctuation
//! count. An empty reference is allowed: its WER is the number of inserted words.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::levenshtein::{AlignmentChunk, ChunkKind, opcodes};
use crate::error::{Error, Result};

/// Python's `str.isspace` (and `\s` in a `re` pattern over `str`): Unicode `White_Space`
/// plus the four information separators U+001C to U+001F.
pub fn py_is_whitespace(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

fn py_strip(s: &str) -> &str {
    s.trim_matches(py_is_whitespace)
}

/// jiwer's `wer_default` transform of one sentence: its list of words.
///
/// ```
/// use whet_eval_metrics::text::wer_default_words;
/// assert_eq!(wer_default_words("  Salamat\t\tpo!  "), ["Salamat", "po!"]);
/// // A single tab is not a word boundary in jiwer (only runs of 2+ whitespace become a space).
/// assert_eq!(wer_default_words("a\tb"), ["a\tb"]);
/// ```
pub fn wer_default_words(sentence: &str) -> Vec<String> {
    // RemoveMultipleSpaces: every run of two or more whitespace characters becomes " ".
    let mut collapsed = String::with_capacity(sentence.len());
    let mut chars = sentence.chars().peekable();
    while let Some(c) = chars.next() {
        if py_is_whitespace(c) && chars.peek().copied().is_some_and(py_is_whitespace) {
            while chars.peek().copied().is_some_and(py_is_whitespace) {
                chars.next();
            }
            collapsed.push(' ');
        } else {
            collapsed.push(c);
        }
    }
    py_strip(&collapsed)
        .split(' ')
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Hit, substitution, deletion and insertion counts, and the lengths they came from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorCounts {
    /// Reference tokens matched.
    pub hits: usize,
    /// Reference tokens replaced.
    pub substitutions: usize,
    /// Reference tokens missing from the hypothesis.
    pub deletions: usize,
    /// Hypothesis tokens not in the reference.
    pub insertions: usize,
    /// Reference tokens in all.
    pub reference_len: usize,
    /// Hypothesis tokens in all.
    pub hypothesis_len: usize,
}

impl ErrorCounts {
    fn add_chunks(&mut self, chunks: &[AlignmentChunk]) {
        for c in chunks {
            match c.kind {
                ChunkKind::Equal => self.hits += c.ref_end - c.ref_start,
                ChunkKind::Substitute => self.substitutions += c.ref_end - c.ref_start,
                ChunkKind::Delete => self.deletions += c.ref_end - c.ref_start,
                ChunkKind::Insert => self.insertions += c.hyp_end - c.hyp_start,
            }
        }
    }

    /// Error rate `(S + D + I) / (H + S + D)`; with no reference tokens, the number of
    /// insertions (jiwer 4).
    pub fn error_rate(&self) -> f64 {
        let errors = self.substitutions + self.deletions + self.insertions;
        if self.reference_len == 0 {
            self.insertions as f64
        } else {
            errors as f64 / (self.hits + self.substitutions + self.deletions) as f64
        }
    }

    /// Match error rate `(S + D + I) / (H + S + D + I)`.
    pub fn mer(&self) -> f64 {
        let errors = self.substitutions + self.deletions + self.insertions;
        if self.reference_len == 0 {
            if self.hypothesis_len == 0 { 0.0 } else { 1.0 }
        } else {
            errors as f64 / (self.hits + errors) as f64
        }
    }

    /// Word information preserved `(H / N_ref) * (H / N_hyp)`.
    pub fn wip(&self) -> f64 {
        if self.reference_len == 0 {
            if self.hypothesis_len == 0 { 1.0 } else { 0.0 }
        } else if self.hypothesis_len == 0 {
            0.0
        } else {
            (self.hits as f64 / self.reference_len as f64)
                * (self.hits as f64 / self.hypothesis_len as f64)
        }
    }

    /// Word information lost, `1 - WIP`.
    pub fn wil(&self) -> f64 {
        1.0 - self.wip()
    }
}

/// Word-level result: jiwer's `WordOutput`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WordOutput {
    /// Summed counts.
    pub counts: ErrorCounts,
    /// Word error rate.
    pub wer: f64,
    /// Match error rate.
    pub mer: f64,
    /// Word information lost.
    pub wil: f64,
    /// Word information preserved.
    pub wip: f64,
    /// The alignment of each sentence pair, over word indices.
    pub alignments: Vec<Vec<AlignmentChunk>>,
}

/// Character-level result: jiwer's `CharacterOutput`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CharOutput {
    /// Summed counts.
    pub counts: ErrorCounts,
    /// Character error rate.
    pub cer: f64,
    /// The alignment of each sentence pair, over code point indices.
    pub alignments: Vec<Vec<AlignmentChunk>>,
}

fn check_lengths(what: &'static str, refs: usize, hyps: usize) -> Result<()> {
    if refs == hyps {
        Ok(())
    } else {
        Err(Error::LengthMismatch {
            what,
            left_name: "references",
            left: refs,
            right_name: "hypotheses",
            right: hyps,
        })
    }
}

fn align_all<T: PartialEq>(pairs: &[(Vec<T>, Vec<T>)]) -> (ErrorCounts, Vec<Vec<AlignmentChunk>>) {
    let mut counts = ErrorCounts::default();
    let mut alignments = Vec::with_capacity(pairs.len());
    for (r, h) in pairs {
        let chunks = opcodes(r, h);
        counts.add_chunks(&chunks);
        counts.reference_len += r.len();
        counts.hypothesis_len += h.len();
        alignments.push(chunks);
    }
    (counts, alignments)
}

/// Word-level alignment and rates of `references` against `hypotheses` (one sentence
/// each, in order): jiwer 4's `process_words` with its default transform.
///
/// ```
/// use whet_eval_metrics::text::process_words;
/// let out = process_words(&["hello world", "i like monthy python"], &["hello duck", "i like python"])?;
/// assert_eq!((out.counts.hits, out.counts.substitutions, out.counts.deletions), (4, 1, 1));
/// assert!((out.wer - 2.0 / 6.0).abs() < 1e-12);
/// # Ok::<(), whet_eval_metrics::Error>(())
/// ```
///
/// # Errors
/// [`Error::LengthMismatch`] when the two lists differ in length.
pub fn process_words<R: AsRef<str>, H: AsRef<str>>(
    references: &[R],
    hypotheses: &[H],
) -> Result<WordOutput> {
    check_lengths("process_words", references.len(), hypotheses.len())?;
    let mut ids: HashMap<String, u32> = HashMap::new();
    let mut intern = |s: &str| -> Vec<u32> {
        wer_default_words(s)
            .into_iter()
            .map(|w| {
                let next = ids.len() as u32;
                *ids.entry(w).or_insert(next)
            })
            .collect()
    };
    let pairs: Vec<(Vec<u32>, Vec<u32>)> = references
        .iter()
        .zip(hypotheses)
        .map(|(r, h)| (intern(r.as_ref()), intern(h.as_ref())))
        .collect();
    let (counts, alignments) = align_all(&pairs);
    Ok(WordOutput {
        wer: counts.error_rate(),
        mer: counts.mer(),
        wil: counts.wil(),
        wip: counts.wip(),
        counts,
        alignments,
    })
}

/// Character-level alignment and CER: jiwer 4's `process_characters` with its default
/// transform (strip, then every code point, spaces included).
///
/// # Errors
/// [`Error::LengthMismatch`] when the two lists differ in length.
pub fn process_characters<R: AsRef<str>, H: AsRef<str>>(
    references: &[R],
    hypotheses: &[H],
) -> Result<CharOutput> {
    check_lengths("process_characters", references.len(), hypotheses.len())?;
    let chars = |s: &str| -> Vec<char> { py_strip(s).chars().collect() };
    let pairs: Vec<(Vec<char>, Vec<char>)> = references
        .iter()
        .zip(hypotheses)
        .map(|(r, h)| (chars(r.as_ref()), chars(h.as_ref())))
        .collect();
    let (counts, alignments) = align_all(&pairs);
    Ok(CharOutput {
        cer: counts.error_rate(),
        counts,
        alignments,
    })
}

/// Corpus word error rate (jiwer's `wer`).
///
/// # Errors
/// [`Error::LengthMismatch`] when the two lists differ in length.
pub fn wer<R: AsRef<str>, H: AsRef<str>>(references: &[R], hypotheses: &[H]) -> Result<f64> {
    Ok(process_words(references, hypotheses)?.wer)
}

/// Corpus character error rate (jiwer's `cer`).
///
/// # Errors
/// [`Error::LengthMismatch`] when the two lists differ in length.
pub fn cer<R: AsRef<str>, H: AsRef<str>>(references: &[R], hypotheses: &[H]) -> Result<f64> {
    Ok(process_characters(references, hypotheses)?.cer)
}

impl std::fmt::Display for ErrorCounts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "hits {}  substitutions {}  deletions {}  insertions {}  (reference {}, hypothesis {})",
            self.hits,
            self.substitutions,
            self.deletions,
            self.insertions,
            self.reference_len,
            self.hypothesis_len
        )
    }
}

impl std::fmt::Display for WordOutput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "WER {:.4}  MER {:.4}  WIL {:.4}  WIP {:.4}\n{}",
            self.wer, self.mer, self.wil, self.wip, self.counts
        )
    }
}

impl std::fmt::Display for CharOutput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CER {:.4}\n{}", self.cer, self.counts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_reference_counts_insertions() {
        let out = process_words(&[""], &["a b"]).unwrap();
        assert_eq!(out.wer, 2.0);
        assert_eq!((out.mer, out.wip), (1.0, 0.0));
        let out = process_words(&[""], &[""]).unwrap();
        assert_eq!((out.wer, out.mer, out.wip), (0.0, 0.0, 1.0));
    }

    #[test]
    fn mismatched_lengths_are_an_error() {
        let err = process_words(&["a"], &["a", "b"]).unwrap_err();
        assert!(matches!(
            err,
            Error::LengthMismatch {
                left: 1,
                right: 2,
                ..
            }
        ));
    }

    #[test]
    fn separators_count_as_whitespace_like_python() {
        assert_eq!(wer_default_words("a\u{1c}\u{1c}b"), ["a", "b"]);
        assert_eq!(wer_default_words("\u{a0}x\u{3000}"), ["x"]);
    }
}

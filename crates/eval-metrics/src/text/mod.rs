//! Text metrics: Levenshtein alignment and the jiwer family (WER, CER, MER, WIL, WIP).
//!
//! The alignment is rapidfuzz's (`rapidfuzz.distance.Levenshtein.editops` /
//! `opcodes`), which jiwer 4 uses: among the many minimal alignments of two sequences it
//! picks the same one, so hit, substitution, deletion and insertion counts agree with
//! jiwer exactly, not only the distance.

mod english;
mod english_numbers;
mod english_spelling;
mod levenshtein;
mod normalizer;
mod wer;

pub use english::{EnglishTextNormalizer, english_spellings};
pub use english_numbers::english_numbers;
pub use levenshtein::{
    AlignmentChunk, ChunkKind, EditKind, Editop, distance, editops, normalized_distance, opcodes,
};
pub use normalizer::BasicTextNormalizer;
pub use wer::{
    CharOutput, ErrorCounts, WordOutput, cer, process_characters, process_words, py_is_whitespace,
    wer, wer_default_words,
};

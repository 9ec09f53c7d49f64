//! Whisper's `BasicTextNormalizer` (`whisper/normalizers/basic.py`), the normaliser
//! Whisper's authors use for languages other than English (Tagalog included), with
//! byte-identical output.

use unicode_general_category::{GeneralCategory, get_general_category};
use unicode_normalization::UnicodeNormalization;
use unicode_segmentation::UnicodeSegmentation;

use super::wer::py_is_whitespace;

/// Letters that NFKD does not decompose, spelled out (`ADDITIONAL_DIACRITICS`).
const ADDITIONAL_DIACRITICS: &[(char, &str)] = &[
    ('œ', "oe"),
    ('Œ', "OE"),
    ('ø', "o"),
    ('Ø', "O"),
    ('æ', "ae"),
    ('Æ', "AE"),
    ('ß', "ss"),
    ('ẞ', "SS"),
    ('đ', "d"),
    ('Đ', "D"),
    ('ð', "d"),
    ('Ð', "D"),
    ('þ', "th"),
    ('Þ', "th"),
    ('ł', "l"),
    ('Ł', "L"),
];

/// The first letter of the character's general category (`M`ark, `S`ymbol,
/// `P`unctuation, ...), as `unicodedata.category(c)[0]`.
fn category_class(c: char) -> char {
    use GeneralCategory as G;
    match get_general_category(c) {
        G::NonspacingMark | G::SpacingMark | G::EnclosingMark => 'M',
        G::MathSymbol | G::CurrencySymbol | G::ModifierSymbol | G::OtherSymbol => 'S',
        G::ConnectorPunctuation
        | G::DashPunctuation
        | G::OpenPunctuation
        | G::ClosePunctuation
        | G::InitialPunctuation
        | G::FinalPunctuation
        | G::OtherPunctuation => 'P',
        _ => '-',
    }
}

/// `remove_symbols_and_diacritics(s, keep)` of `basic.py`: NFKD; characters in `keep`
/// kept; `ADDITIONAL_DIACRITICS` spelled out; combining marks dropped; other marks,
/// symbols and punctuation become spaces.
pub(crate) fn remove_symbols_and_diacritics(s: &str, keep: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.nfkd() {
        if keep.contains(c) {
            out.push(c);
        } else if let Some(&(_, spelled)) = ADDITIONAL_DIACRITICS.iter().find(|(d, _)| *d == c) {
            out.push_str(spelled);
        } else if get_general_category(c) == GeneralCategory::NonspacingMark {
        } else if matches!(category_class(c), 'M' | 'S' | 'P') {
            out.push(' ');
        } else {
            out.push(c);
        }
    }
    out
}

/// `re.sub(r"\s+", " ", s)` with Python's whitespace.
pub(crate) fn collapse_ws(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut in_space = false;
    for c in s.chars() {
        if py_is_whitespace(c) {
            if !in_space {
                out.push(' ');
            }
            in_space = true;
        } else {
            out.push(c);
            in_space = false;
        }
    }
    out
}

/// Whisper's `BasicTextNormalizer`.
///
/// ```
/// use whet_eval_metrics::text::BasicTextNormalizer;
/// let n = BasicTextNormalizer::default();
/// assert_eq!(n.normalize("Salamat [musika] po (tawa)!  Café"), "salamat po café");
/// let n = BasicTextNormalizer { remove_diacritics: true, split_letters: false };
/// assert_eq!(n.normalize("Niña, Ærø"), "nina aero");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BasicTextNormalizer {
    /// Drop diacritics (NFKD, then combining marks removed and `ß`, `æ`, ... spelled out)
    /// instead of keeping them (NFKC).
    pub remove_diacritics: bool,
    /// Put a space between grapheme clusters (for languages written without spaces).
    pub split_letters: bool,
}

/// Removes `[...]` and `<...>` spans (`re.sub(r"[<\[][^>\]]*[>\]]", "", s)`).
pub(crate) fn drop_bracketed(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find(['<', '[']) {
        out.push_str(&rest[..i]);
        match rest[i + 1..].find(['>', ']']) {
            Some(j) => rest = &rest[i + 1 + j + 1..],
            None => {
                // No closer anywhere after: nothing further can match either.
                out.push_str(&rest[i..]);
                return out;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Removes `(...)` spans with at least one character inside
/// (`re.sub(r"\(([^)]+?)\)", "", s)`).
pub(crate) fn drop_parenthesised(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('(') {
        match rest[i + 1..].find(')') {
            Some(0) => {
                // "()" does not match here; the regex moves on by one character.
                out.push_str(&rest[..=i]);
                rest = &rest[i + 1..];
            }
            Some(j) => {
                out.push_str(&rest[..i]);
                rest = &rest[i + 1 + j + 1..];
            }
            None => break,
        }
    }
    out.push_str(rest);
    out
}

impl BasicTextNormalizer {
    /// Normalises `s` exactly as Whisper's `BasicTextNormalizer(remove_diacritics,
    /// split_letters)(s)` does.
    pub fn normalize(&self, s: &str) -> String {
        let s = drop_parenthesised(&drop_bracketed(&s.to_lowercase()));
        let cleaned: String = if self.remove_diacritics {
            remove_symbols_and_diacritics(&s, "")
        } else {
            s.nfkc()
                .map(|c| {
                    if matches!(category_class(c), 'M' | 'S' | 'P') {
                        ' '
                    } else {
                        c
                    }
                })
                .collect()
        };
        let mut s = cleaned.to_lowercase();
        if self.split_letters {
            s = s.graphemes(true).collect::<Vec<_>>().join(" ");
        }
        collapse_ws(&s)
    }
}

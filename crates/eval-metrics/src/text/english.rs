//! Whisper's `EnglishTextNormalizer` (`whisper/normalizers/english.py`): the normaliser
//! behind every published English Whisper WER. Lower-cases; drops bracketed and
//! parenthesised text and fillers; expands contractions and titles; spells numbers as
//! digits (`EnglishNumberNormalizer`: "twenty five dollars" -> "$25"); maps British
//! spellings to American (`english.json`); removes symbols and diacritics except
//! `. % $ ¢ € £`.
//!
//! A port with the same rules in the same order. Python's `re` and Rust's `regex` agree
//! on ASCII text; they differ only in what counts as a word character next to combining
//! marks and non-decimal numerals (`\b`), and `\d` is taken as ASCII digits in the
//! number normaliser (Python also accepts other scripts' decimal digits there).

use std::sync::OnceLock;

use regex::Regex;

use super::english_numbers::{english_numbers, py_split};
use super::english_spelling::SPELLINGS;
use super::normalizer::{
    collapse_ws, drop_bracketed, drop_parenthesised, remove_symbols_and_diacritics,
};

/// Whisper's `EnglishSpellingNormalizer`: British spellings to American, word by word.
pub fn english_spellings(s: &str) -> String {
    py_split(s)
        .into_iter()
        .map(|w| {
            SPELLINGS
                .binary_search_by(|(k, _)| k.as_bytes().cmp(w.as_bytes()))
                .map_or(w, |i| SPELLINGS[i].1)
        })
        .collect::<Vec<_>>()
        .join(" ")
}

const REPLACERS: &[(&str, &str)] = &[
    (r"\bwon't\b", "will not"),
    (r"\bcan't\b", "can not"),
    (r"\blet's\b", "let us"),
    (r"\bain't\b", "aint"),
    (r"\by'all\b", "you all"),
    (r"\bwanna\b", "want to"),
    (r"\bgotta\b", "got to"),
    (r"\bgonna\b", "going to"),
    (r"\bi'ma\b", "i am going to"),
    (r"\bimma\b", "i am going to"),
    (r"\bwoulda\b", "would have"),
    (r"\bcoulda\b", "could have"),
    (r"\bshoulda\b", "should have"),
    (r"\bma'am\b", "madam"),
    (r"\bmr\b", "mister "),
    (r"\bmrs\b", "missus "),
    (r"\bst\b", "saint "),
    (r"\bdr\b", "doctor "),
    (r"\bprof\b", "professor "),
    (r"\bcapt\b", "captain "),
    (r"\bgov\b", "governor "),
    (r"\bald\b", "alderman "),
    (r"\bgen\b", "general "),
    (r"\bsen\b", "senator "),
    (r"\brep\b", "representative "),
    (r"\bpres\b", "president "),
    (r"\brev\b", "reverend "),
    (r"\bhon\b", "honorable "),
    (r"\basst\b", "assistant "),
    (r"\bassoc\b", "associate "),
    (r"\blt\b", "lieutenant "),
    (r"\bcol\b", "colonel "),
    (r"\bjr\b", "junior "),
    (r"\bsr\b", "senior "),
    (r"\besq\b", "esquire "),
    (r"'d been\b", " had been"),
    (r"'s been\b", " has been"),
    (r"'d gone\b", " had gone"),
    (r"'s gone\b", " has gone"),
    (r"'d done\b", " had done"),
    (r"'s got\b", " has got"),
    (r"n't\b", " not"),
    (r"'re\b", " are"),
    (r"'s\b", " is"),
    (r"'d\b", " would"),
    (r"'ll\b", " will"),
    (r"'t\b", " not"),
    (r"'ve\b", " have"),
    (r"'m\b", " am"),
];

struct EnglishPatterns {
    fillers: Regex,
    space_apostrophe: Regex,
    replacers: Vec<(Regex, &'static str)>,
    digit_comma: Regex,
    period: Regex,
    symbol_before: Regex,
    percent_after: Regex,
}

fn patterns() -> &'static EnglishPatterns {
    static P: OnceLock<EnglishPatterns> = OnceLock::new();
    P.get_or_init(|| {
        let r = |p: &str| Regex::new(p).expect("a valid pattern");
        EnglishPatterns {
            fillers: r(r"\b(hmm|mm|mhm|mmm|uh|um)\b"),
            space_apostrophe: r(r"[\s\x1c-\x1f]+'"),
            replacers: REPLACERS.iter().map(|&(p, s)| (r(p), s)).collect(),
            digit_comma: r(r"(\d),(\d)"),
            period: r(r"\.([^0-9]|$)"),
            symbol_before: r(r"[.$¢€£]([^0-9])"),
            percent_after: r(r"([^0-9])%"),
        }
    })
}

/// Whisper's `EnglishTextNormalizer`.
///
/// ```
/// use whet_eval_metrics::text::EnglishTextNormalizer;
/// let n = EnglishTextNormalizer;
/// assert_eq!(n.normalize("Mr. Smith won't pay twenty-five dollars [laughs]"), "mister smith will not pay $25");
/// assert_eq!(n.normalize("The colour of 1,250 apples, um, is grey."), "the color of 1250 apples is gray");
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct EnglishTextNormalizer;

impl EnglishTextNormalizer {
    /// Normalises `s` as Whisper's `EnglishTextNormalizer()(s)` does.
    pub fn normalize(&self, s: &str) -> String {
        let p = patterns();
        let s = drop_parenthesised(&drop_bracketed(&s.to_lowercase()));
        let mut s = p.fillers.replace_all(&s, "").into_owned();
        s = p.space_apostrophe.replace_all(&s, "'").into_owned();
        for (re, replacement) in &p.replacers {
            s = re.replace_all(&s, *replacement).into_owned();
        }
        s = p.digit_comma.replace_all(&s, "$1$2").into_owned();
        s = p.period.replace_all(&s, " $1").into_owned();
        s = remove_symbols_and_diacritics(&s, ".%$¢€£");
        s = english_numbers(&s);
        s = english_spellings(&s);
        s = p.symbol_before.replace_all(&s, " $1").into_owned();
        s = p.percent_after.replace_all(&s, "$1 ").into_owned();
        collapse_ws(&s)
    }
}

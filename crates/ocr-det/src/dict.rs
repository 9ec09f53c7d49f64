//! The recognizer's character dictionary, as PaddleOCR's `CTCLabelDecode` builds it:
//! class 0 is the CTC blank, then the dictionary's characters in order, then a space
//! (`use_space_char`). PP-OCR's ONNX recognizers keep the dictionary in their metadata
//! under `character`, one character per line.

use std::collections::HashMap;

use crate::error::{Error, Result};
use crate::onnx::OnnxModel;

/// Output classes of a CTC recognizer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CharDict {
    /// Class `i`'s text; class 0 (the blank) is empty.
    classes: Vec<String>,
    /// Class of each text (the first, where a text repeats).
    index: HashMap<String, usize>,
}

impl CharDict {
    /// From dictionary lines (one character, or a short string, per line), adding the
    /// blank first and a space last as PaddleOCR does.
    pub fn from_lines<S: AsRef<str>>(lines: &[S]) -> Self {
        let mut classes = Vec::with_capacity(lines.len() + 2);
        classes.push(String::new());
        classes.extend(lines.iter().map(|l| l.as_ref().to_owned()));
        classes.push(" ".to_owned());
        Self::from_classes(classes)
    }

    fn from_classes(classes: Vec<String>) -> Self {
        let mut index = HashMap::with_capacity(classes.len());
        for (i, c) in classes.iter().enumerate().skip(1) {
            index.entry(c.clone()).or_insert(i);
        }
        CharDict { classes, index }
    }

    /// The dictionary stored in a recognizer's ONNX metadata (`character`).
    ///
    /// # Errors
    /// [`Error::Weights`] when the metadata has no `character` entry.
    pub(crate) fn from_onnx(model: &OnnxModel) -> Result<Self> {
        let text = model.metadata.get("character").ok_or_else(|| {
            Error::weights(
                &model.path,
                "no `character` dictionary in the metadata: not a PP-OCR recognizer",
            )
        })?;
        let lines: Vec<&str> = text.lines().collect();
        Ok(Self::from_lines(&lines))
    }

    /// Number of classes (blank and space included).
    pub fn len(&self) -> usize {
        self.classes.len()
    }

    /// Whether there are no classes (never, once built).
    pub fn is_empty(&self) -> bool {
        self.classes.is_empty()
    }

    /// Class `i`'s text (empty for the blank).
    pub fn get(&self, i: usize) -> Option<&str> {
        self.classes.get(i).map(String::as_str)
    }

    /// The class of a character (never the blank).
    pub fn class_of(&self, c: char) -> Option<usize> {
        let mut buf = [0u8; 4];
        self.index.get(&*c.encode_utf8(&mut buf)).copied()
    }

    /// CTC targets for `text`, as PaddleOCR's `CTCLabelEncode` builds them: one class per
    /// character; characters not in the dictionary are left out and returned apart.
    pub fn encode(&self, text: &str) -> (Vec<usize>, Vec<char>) {
        let (mut classes, mut unknown) = (Vec::with_capacity(text.len()), Vec::new());
        for c in text.chars() {
            match self.class_of(c) {
                Some(i) => classes.push(i),
                None => unknown.push(c),
            }
        }
        (classes, unknown)
    }

    /// This dictionary with `chars` added (those not already in it), inserted before the
    /// trailing space so that the layout stays PaddleOCR's (blank, dictionary, space).
    /// Returns the new dictionary and the classes the added characters got.
    pub fn with_chars(&self, chars: &[char]) -> (CharDict, Vec<usize>) {
        let mut classes = self.classes.clone();
        let space = classes.pop().unwrap_or_else(|| " ".to_owned());
        let mut added = Vec::new();
        for &c in chars {
            let text = c.to_string();
            if !classes.contains(&text) {
                added.push(classes.len());
                classes.push(text);
            }
        }
        classes.push(space);
        (Self::from_classes(classes), added)
    }

    /// The characters of `texts` this dictionary lacks, with how often they occur, most
    /// frequent first (ties in character order).
    pub fn missing<'a>(&self, texts: impl IntoIterator<Item = &'a str>) -> Vec<(char, usize)> {
        let mut counts = std::collections::BTreeMap::<char, usize>::new();
        for text in texts {
            for c in text.chars().filter(|&c| self.class_of(c).is_none()) {
                *counts.entry(c).or_default() += 1;
            }
        }
        let mut out: Vec<(char, usize)> = counts.into_iter().collect();
        out.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        out
    }

    /// This dictionary grown with every character of `texts` it lacks (`₱`, `ñ`, ...),
    /// in order of frequency; returns the new dictionary and the characters added. The
    /// recognizer's head grows with it through
    /// [`SvtrRecognizer::with_dict`](crate::SvtrRecognizer::with_dict), each new row
    /// started from its [`look_alike`].
    ///
    /// ```
    /// use whet_ocr_det::CharDict;
    /// let base = CharDict::from_lines(&["P", "a", "1"]);
    /// let (grown, added) = base.grow(["₱1", "Pa", "ñ₱"]);
    /// assert_eq!(added, ['₱', 'ñ']);
    /// assert_eq!(grown.len(), base.len() + 2);
    /// assert!(grown.class_of('₱').is_some());
    /// ```
    pub fn grow<'a>(&self, texts: impl IntoIterator<Item = &'a str>) -> (CharDict, Vec<char>) {
        let added: Vec<char> = self.missing(texts).into_iter().map(|(c, _)| c).collect();
        (self.with_chars(&added).0, added)
    }

    /// The dictionary file PaddleOCR reads (`character_dict_path`, one entry per line,
    /// blank and trailing space left out: `use_space_char` adds the space back).
    pub fn to_dict_file(&self) -> String {
        let n = self.classes.len();
        self.classes[1..n.saturating_sub(1).max(1)]
            .iter()
            .map(|c| format!("{c}\n"))
            .collect()
    }
}

/// The character a new dictionary entry should start from: a Latin look-alike for the
/// characters Philippine and other Latin-script documents use that PP-OCRv4's dictionary
/// lacks (`₱` -> `P`, `ñ` -> `n`, accented vowels -> the plain vowel); `None` for others.
///
/// ```
/// use whet_ocr_det::look_alike;
/// assert_eq!(look_alike("₱"), Some('P'));
/// assert_eq!(look_alike("Ñ"), Some('N'));
/// assert_eq!(look_alike("€"), None);
/// ```
pub fn look_alike(text: &str) -> Option<char> {
    let mut chars = text.chars();
    let c = chars.next()?;
    if chars.next().is_some() {
        return None;
    }
    Some(match c {
        '₱' => 'P',
        'ñ' => 'n',
        'Ñ' => 'N',
        'á' | 'à' | 'â' | 'ä' => 'a',
        'Á' | 'À' | 'Â' | 'Ä' => 'A',
        'é' | 'è' | 'ê' | 'ë' => 'e',
        'É' | 'È' | 'Ê' | 'Ë' => 'E',
        'í' | 'ì' | 'î' | 'ï' => 'i',
        'Í' | 'Ì' | 'Î' | 'Ï' => 'I',
        'ó' | 'ò' | 'ô' | 'ö' => 'o',
        'Ó' | 'Ò' | 'Ô' | 'Ö' => 'O',
        'ú' | 'ù' | 'û' | 'ü' => 'u',
        'Ú' | 'Ù' | 'Û' | 'Ü' => 'U',
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_first_space_last() {
        let d = CharDict::from_lines(&["a", "b", "₱"]);
        assert_eq!(d.len(), 5);
        assert_eq!(d.get(0), Some(""));
        assert_eq!(d.get(3), Some("₱"));
        assert_eq!(d.get(4), Some(" "));
        assert_eq!(d.get(5), None);
    }

    #[test]
    fn encoding_leaves_unknown_characters_out_and_new_ones_go_before_the_space() {
        let d = CharDict::from_lines(&["a", "b"]);
        assert_eq!(d.encode("ab₱ a"), (vec![1, 2, 3, 1], vec!['₱']));
        let (e, added) = d.with_chars(&['₱', 'a', 'ñ']);
        assert_eq!(added, [3, 4]);
        assert_eq!(e.len(), 6);
        assert_eq!(e.get(3), Some("₱"));
        assert_eq!(e.get(5), Some(" "));
        assert_eq!(e.encode("₱ a").0, [3, 5, 1]);
        assert_eq!(e.to_dict_file(), "a\nb\n₱\nñ\n");
        let file = e.to_dict_file();
        let lines: Vec<&str> = file.lines().collect();
        assert_eq!(CharDict::from_lines(&lines), e);
    }
}

//! The recognizer's character dictionary, as PaddleOCR's `CTCLabelDecode` builds it:
//! class 0 is the CTC blank, then the dictionary's characters in order, then a space
//! (`use_space_char`). PP-OCR's ONNX recognizers keep the dictionary in their metadata
//! under `character`, one character per line.

use crate::error::{Error, Result};
use crate::onnx::OnnxModel;

/// Output classes of a CTC recognizer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CharDict {
    /// Class `i`'s text; class 0 (the blank) is empty.
    classes: Vec<String>,
}

impl CharDict {
    /// From dictionary lines (one character, or a short string, per line), adding the
    /// blank first and a space last as PaddleOCR does.
    pub fn from_lines<S: AsRef<str>>(lines: &[S]) -> Self {
        let mut classes = Vec::with_capacity(lines.len() + 2);
        classes.push(String::new());
        classes.extend(lines.iter().map(|l| l.as_ref().to_owned()));
        classes.push(" ".to_owned());
        CharDict { classes }
    }

    /// The dictionary stored in a recognizer's ONNX metadata (`character`).
    ///
    /// # Errors
    /// [`Error::Weights`] when the metadata has no `character` entry.
    pub fn from_onnx(model: &OnnxModel) -> Result<Self> {
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
}

//! Greedy CTC decoding as PaddleOCR's `CTCLabelDecode` does it: the most probable class
//! per time step, repeats merged, blanks dropped; the confidence is the mean probability
//! of the kept steps (0 when nothing is kept).

use crate::dict::CharDict;

/// A decoded line: its text and confidence.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    /// The text.
    pub text: String,
    /// Mean probability of the kept steps (0 when nothing was kept).
    pub confidence: f32,
}

/// Decodes one line's class probabilities (`steps` rows of `dict.len()` values, row-major).
/// The first of equal maxima wins, as numpy's `argmax`.
pub fn greedy_decode(probs: &[f32], dict: &CharDict) -> Decoded {
    let classes = dict.len();
    let mut text = String::new();
    let (mut sum, mut kept) = (0f32, 0usize);
    let mut previous = usize::MAX;
    for step in probs.chunks_exact(classes) {
        let (best, p) =
            step.iter().enumerate().fold(
                (0, f32::NEG_INFINITY),
                |b, (i, &v)| if v > b.1 { (i, v) } else { b },
            );
        if best != 0 && best != previous {
            text.push_str(dict.get(best).unwrap_or_default());
            sum += p;
            kept += 1;
        }
        previous = best;
    }
    Decoded {
        text,
        confidence: if kept == 0 { 0.0 } else { sum / kept as f32 },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merges_repeats_and_drops_blanks() {
        let d = CharDict::from_lines(&["a", "b"]);
        // classes: blank, a, b, space
        let p = |c: usize, v: f32| -> [f32; 4] {
            let mut r = [(1.0 - v) / 3.0; 4];
            r[c] = v;
            r
        };
        let steps: Vec<f32> = [
            p(1, 0.9),
            p(1, 0.8),
            p(0, 0.9),
            p(1, 0.7),
            p(2, 0.6),
            p(3, 0.5),
        ]
        .concat();
        let out = greedy_decode(&steps, &d);
        assert_eq!(out.text, "aab ");
        assert!((out.confidence - (0.9 + 0.7 + 0.6 + 0.5) / 4.0).abs() < 1e-6);
        assert_eq!(greedy_decode(&p(0, 0.9), &d).confidence, 0.0);
    }
}

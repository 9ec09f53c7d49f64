//! Layout-aware prompts: OCR lines with quantised coordinates (LMDX, Perot et al. 2023),
//! numbered so that an answer cites the lines it read a value from.
//!
//! Each line is written `{n}: {x}|{y} {text}`: its number, the centre of its box
//! quantised to `0..buckets` of the page's width and height (LMDX's "`XX|YY`" segment
//! identifiers, 100 buckets), and its text. The coordinates come before the text (LMDX
//! writes them after it) so that a value copied from the end of a line is followed by the
//! line's end, not by numbers a small model copies on into it. The number is what answers
//! cite: a value's grounding is the polygon of the line(s) it names.

use whet_core::geom::TextRegion;

/// LMDX's quantisation: 100 buckets per axis.
pub const DEFAULT_BUCKETS: u32 = 100;

/// OCR lines, as a prompt shows them to the model and as answers cite them.
#[derive(Debug, Clone, PartialEq)]
pub struct OcrPage {
    /// The lines in reading order; line `n` of the prompt is `lines[n]`.
    pub lines: Vec<TextRegion>,
    /// Page width and height in pixels (what coordinates are quantised against).
    pub size: [f64; 2],
    /// Buckets per axis.
    pub buckets: u32,
}

impl OcrPage {
    /// The lines of a page of `size` (`[width, height]` pixels), in the order given,
    /// leaving out ignored and empty ones; [`DEFAULT_BUCKETS`] buckets.
    pub fn new(lines: impl IntoIterator<Item = TextRegion>, size: [f64; 2]) -> Self {
        let lines = lines
            .into_iter()
            .filter(|l| !l.ignore && !l.text.trim().is_empty())
            .map(|mut l| {
                l.text = l.text.split_whitespace().collect::<Vec<_>>().join(" ");
                l
            })
            .collect();
        OcrPage {
            lines,
            size,
            buckets: DEFAULT_BUCKETS,
        }
    }

    /// The lines sorted into reading order first: top to bottom by box centre, and
    /// left to right among lines whose centres lie within half a line height of each
    /// other (what a detector's unordered output needs).
    pub fn in_reading_order(lines: impl IntoIterator<Item = TextRegion>, size: [f64; 2]) -> Self {
        let mut lines: Vec<TextRegion> = lines.into_iter().collect();
        let key = |l: &TextRegion| {
            let [x0, y0, x1, y1] = l.polygon.bounds();
            ((x0 + x1) / 2.0, (y0 + y1) / 2.0, (y1 - y0).max(1.0))
        };
        lines.sort_by(|a, b| {
            let (ax, ay, ah) = key(a);
            let (bx, by, bh) = key(b);
            if (ay - by).abs() < ah.min(bh) / 2.0 {
                ax.total_cmp(&bx)
            } else {
                ay.total_cmp(&by)
            }
        });
        OcrPage::new(lines, size)
    }

    /// The quantised centre `[x, y]` of line `n`'s box.
    pub fn centre(&self, n: usize) -> Option<[u32; 2]> {
        let l = self.lines.get(n)?;
        let [x0, y0, x1, y1] = l.polygon.bounds();
        let q = |v: f64, extent: f64| {
            let b = f64::from(self.buckets);
            ((v / extent.max(1.0) * b).floor()).clamp(0.0, b - 1.0) as u32
        };
        Some([
            q((x0 + x1) / 2.0, self.size[0]),
            q((y0 + y1) / 2.0, self.size[1]),
        ])
    }

    /// The prompt's text: one line per OCR line, `{n}: {x}|{y} {text}`.
    ///
    /// ```
    /// use whet_core::geom::{Polygon, TextRegion};
    /// use whet_vlm_lora::OcrPage;
    /// let layout = OcrPage::new(
    ///     [TextRegion::new(Polygon::rect(10.0, 5.0, 90.0, 15.0), "GOLDEN  HARVEST"),
    ///      TextRegion::new(Polygon::rect(60.0, 180.0, 95.0, 190.0), "1,780.05")],
    ///     [100.0, 200.0],
    /// );
    /// assert_eq!(layout.text(), "0: 50|5 GOLDEN HARVEST\n1: 77|92 1,780.05");
    /// ```
    pub fn text(&self) -> String {
        let mut out = String::new();
        for (n, l) in self.lines.iter().enumerate() {
            let [x, y] = self.centre(n).unwrap_or_default();
            if n > 0 {
                out.push('\n');
            }
            out.push_str(&format!("{n}: {x}|{y} {}", l.text));
        }
        out
    }
}

impl OcrPage {
    /// The true lines of a synthetic page (synth-docs' ground truth), in printed order:
    /// what training prompts are built from.
    pub fn from_synthetic(page: &whet_synth_docs::Page) -> Self {
        OcrPage::new(
            page.lines
                .iter()
                .map(|l| TextRegion::new(l.polygon.clone(), l.text.clone())),
            [
                f64::from(page.image.width()),
                f64::from(page.image.height()),
            ],
        )
    }
}

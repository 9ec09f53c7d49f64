//! Rendering documents to images with exact ground truth: every word and line with its
//! polygon, the items table as HTML, and named regions.
//!
//! Glyphs are rasterised with `ab_glyph`; a word's polygon is the union of its glyphs'
//! pixel bounds, so it covers every pixel of the word's ink by construction (and the
//! tests check it on the rendered pixels).

use std::path::{Path, PathBuf};

use ab_glyph::{Font, FontVec, PxScale, ScaleFont, point};
use image::GrayImage;
use serde::{Deserialize, Serialize};
use whet_core::geom::Polygon;

use crate::document::{DocKind, Document};
use crate::error::{Error, Result};
use crate::money::Money;
use crate::print_style::{PrintStyle, dot_matrix, draw_logo, grown};

/// Fonts tried by [`FontSet::system`], monospace first (thermal printers are monospace).
/// The first one found is also the fallback for characters another font lacks.
pub const SYSTEM_FONTS: &[&str] = &[
    "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationMono-Regular.ttf",
    "/usr/share/fonts/truetype/noto/NotoSansMono-Regular.ttf",
    "/usr/share/fonts/opentype/ocr-b/OCRB.otf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
];

/// The fonts a renderer draws with.
pub struct FontSet {
    fonts: Vec<(PathBuf, FontVec)>,
}

impl std::fmt::Debug for FontSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.fonts.iter().map(|(p, _)| p))
            .finish()
    }
}

impl FontSet {
    /// Loads the given TrueType / OpenType files.
    ///
    /// # Errors
    /// [`Error::Font`] naming the file that could not be read or parsed, or when `paths`
    /// is empty.
    pub fn load(paths: &[impl AsRef<Path>]) -> Result<Self> {
        let mut fonts = Vec::new();
        for p in paths {
            let p = p.as_ref();
            let bytes = std::fs::read(p).map_err(|e| Error::Font {
                reason: format!("{}: {e}", p.display()),
            })?;
            let font = FontVec::try_from_vec(bytes).map_err(|e| Error::Font {
                reason: format!("{}: {e}", p.display()),
            })?;
            fonts.push((p.to_owned(), font));
        }
        if fonts.is_empty() {
            return Err(Error::Font {
                reason: "no font given".into(),
            });
        }
        Ok(FontSet { fonts })
    }

    pub(crate) fn font(&self, i: usize) -> Option<&FontVec> {
        self.fonts.get(i).map(|(_, f)| f)
    }

    /// The installed fonts of [`SYSTEM_FONTS`] that exist.
    ///
    /// # Errors
    /// [`Error::Font`] when none is installed.
    pub fn system() -> Result<Self> {
        let found: Vec<&str> = SYSTEM_FONTS
            .iter()
            .copied()
            .filter(|p| Path::new(p).exists())
            .collect();
        if found.is_empty() {
            return Err(Error::Font {
                reason: format!("none of {SYSTEM_FONTS:?} exists"),
            });
        }
        FontSet::load(&found)
    }

    /// The font files, in order.
    pub fn paths(&self) -> Vec<PathBuf> {
        self.fonts.iter().map(|(p, _)| p.clone()).collect()
    }

    /// Number of fonts.
    pub fn len(&self) -> usize {
        self.fonts.len()
    }

    /// Whether there are none (never, once constructed).
    pub fn is_empty(&self) -> bool {
        self.fonts.is_empty()
    }
}

/// A printed word and where it is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Word {
    /// The word's text.
    pub text: String,
    /// Its polygon: the union of its glyphs' pixel bounds.
    pub polygon: Polygon,
}

/// A printed line: one run of text without a layout gap (a receipt row's label and its
/// right-aligned amount are two lines; words of one segment share a line).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TextLine {
    /// The line's text, words joined by single spaces.
    pub text: String,
    /// The union of its words' polygons.
    pub polygon: Polygon,
    /// Indices of its words in [`Page::words`].
    pub words: Vec<usize>,
}

/// A named block of the page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Region {
    /// `vendor_block`, `document_info`, `line_items`, `totals_section`, `footer`, and
    /// `logo` (ink that is not text) when the receipt has one.
    pub name: String,
    /// The union of its lines' polygons.
    pub polygon: Polygon,
}

/// A rendered page and its ground truth.
#[derive(Debug, Clone)]
pub struct Page {
    /// The image (8-bit grey, white paper).
    pub image: GrayImage,
    /// Every word.
    pub words: Vec<Word>,
    /// Every line.
    pub lines: Vec<TextLine>,
    /// Named regions.
    pub regions: Vec<Region>,
    /// The items table as HTML (`<html><body><table>...`), for TEDS.
    pub table_html: String,
    /// Ruling lines drawn on the page (table borders), as thin rectangles: the only ink
    /// that is not text.
    pub rules: Vec<Polygon>,
}

/// A thermal receipt layout: paper width and type size.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ReceiptLayout {
    /// Paper width in pixels (384 for 58 mm, 576 for 80 mm at 203 dpi).
    pub width: u32,
    /// Type size in pixels.
    pub font_px: f32,
    /// Which font of the set.
    pub font: usize,
    /// How the printer prints (case, narrow glyphs, dot matrix, logo); plain by default.
    #[serde(default)]
    pub style: PrintStyle,
}

impl ReceiptLayout {
    /// 58 mm thermal paper.
    pub const THERMAL_58MM: ReceiptLayout = ReceiptLayout {
        width: 384,
        font_px: 20.0,
        font: 0,
        style: PrintStyle::PLAIN,
    };
    /// 80 mm thermal paper.
    pub const THERMAL_80MM: ReceiptLayout = ReceiptLayout {
        width: 576,
        font_px: 22.0,
        font: 0,
        style: PrintStyle::PLAIN,
    };
}

#[derive(Clone, Copy)]
enum Align {
    Left,
    Center,
    Right,
}

/// One printed row: segments placed on the same baseline.
struct Row {
    segments: Vec<(String, Align)>,
    region: &'static str,
}

fn row(region: &'static str, segments: Vec<(String, Align)>) -> Row {
    Row { segments, region }
}

fn document_rows(doc: &Document) -> Vec<Row> {
    let c = doc.currency;
    let mut rows = vec![row(
        "vendor_block",
        vec![(doc.seller.name.to_uppercase(), Align::Center)],
    )];
    rows.push(row(
        "vendor_block",
        vec![(doc.seller.address.clone(), Align::Center)],
    ));
    if let Some(tin) = &doc.seller.tax_id {
        rows.push(row(
            "vendor_block",
            vec![(
                format!("{} {tin}", doc.locale.tax_id_label()),
                Align::Center,
            )],
        ));
    }
    let title = match doc.kind {
        DocKind::Receipt => "OFFICIAL RECEIPT",
        DocKind::Invoice => "SALES INVOICE",
        DocKind::PurchaseOrder => "PURCHASE ORDER",
    };
    rows.push(row("document_info", vec![(title.into(), Align::Center)]));
    rows.push(row(
        "document_info",
        vec![
            (format!("No. {}", doc.number), Align::Left),
            (doc.date.clone(), Align::Right),
        ],
    ));
    if let Some(b) = &doc.buyer {
        rows.push(row(
            "document_info",
            vec![(format!("Sold to: {}", b.name), Align::Left)],
        ));
    }
    for item in &doc.items {
        rows.push(row(
            "line_items",
            vec![(item.description.clone(), Align::Left)],
        ));
        rows.push(row(
            "line_items",
            vec![
                (
                    format!("{} x {}", item.quantity_text(), item.unit_price.plain()),
                    Align::Left,
                ),
                (item.amount.plain(), Align::Right),
            ],
        ));
        // A discount is printed under its line (the amount above is net of it), so the
        // page's own arithmetic adds up: quantity x price - discount = amount.
        if item.discount != Money::ZERO {
            rows.push(row(
                "line_items",
                vec![
                    ("Discount".into(), Align::Left),
                    (format!("-{}", item.discount.plain()), Align::Right),
                ],
            ));
        }
    }
    for (label, m) in doc.totals.printed_rows(&doc.locale.tax()) {
        rows.push(row(
            "totals_section",
            vec![(label, Align::Left), (m.with_symbol(c), Align::Right)],
        ));
    }
    rows.push(row(
        "footer",
        vec![(format!("Paid: {}", doc.payment), Align::Left)],
    ));
    rows.push(row("footer", vec![("Thank you!".into(), Align::Center)]));
    rows
}

/// The font that draws `ch`: `font` when it has the character (or neither has it),
/// otherwise `fallback`.
pub(crate) fn pick<'a>(font: &'a FontVec, fallback: &'a FontVec, ch: char) -> &'a FontVec {
    if font.glyph_id(ch).0 != 0 || fallback.glyph_id(ch).0 == 0 {
        font
    } else {
        fallback
    }
}

/// The advance width of `s` at `scale`, each character in the font that draws it.
pub(crate) fn text_width(font: &FontVec, fallback: &FontVec, scale: PxScale, s: &str) -> f32 {
    let mut w = 0.0;
    let mut prev: Option<(*const FontVec, ab_glyph::GlyphId)> = None;
    for ch in s.chars() {
        let f = pick(font, fallback, ch);
        let scaled = f.as_scaled(scale);
        let id = scaled.glyph_id(ch);
        if let Some((pf, p)) = prev.filter(|(pf, _)| std::ptr::eq(*pf, f)) {
            let _ = pf;
            w += scaled.kern(p, id);
        }
        w += scaled.h_advance(id);
        prev = Some((f as *const FontVec, id));
    }
    w
}

/// Splits `text` into lines no wider than `max` at spaces (a word wider than `max` is
/// split between characters): long text wraps onto more lines, as a receipt printer does,
/// so every character of the document is printed and the labels stay exact.
pub(crate) fn wrap(text: &str, max: f32, width: &impl Fn(&str) -> f32) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut current = String::new();
    for word in text.split(' ') {
        let candidate = if current.is_empty() {
            word.to_owned()
        } else {
            format!("{current} {word}")
        };
        if width(&candidate) <= max {
            current = candidate;
            continue;
        }
        if !current.is_empty() {
            lines.push(std::mem::take(&mut current));
        }
        // The word alone: split it if it does not fit either.
        let mut piece = String::new();
        for ch in word.chars() {
            piece.push(ch);
            if width(&piece) > max && piece.chars().count() > 1 {
                piece.pop();
                lines.push(std::mem::take(&mut piece));
                piece.push(ch);
            }
        }
        current = piece;
    }
    if !current.is_empty() || lines.is_empty() {
        lines.push(current);
    }
    lines
}

/// Wraps every row to the paper: a row's first segment gets the width its other segments
/// leave; the lines it wraps onto become rows of their own.
fn wrap_rows(rows: Vec<Row>, usable: f32, width: impl Fn(&str) -> f32) -> Vec<Row> {
    let mut out = Vec::with_capacity(rows.len());
    for mut row in rows {
        let others: f32 = row
            .segments
            .iter()
            .skip(1)
            .map(|(t, _)| width(t) + width("  "))
            .sum();
        let Some((first, align)) = row.segments.first() else {
            continue;
        };
        let lines = wrap(first, (usable - others).max(width("MM")), &width);
        if lines.len() == 1 {
            out.push(row);
            continue;
        }
        let align = *align;
        let region = row.region;
        let rest: Vec<(String, Align)> = row.segments.drain(1..).collect();
        let n = lines.len();
        for (k, line) in lines.into_iter().enumerate() {
            let mut segments = vec![(line, align)];
            if k == n - 1 {
                segments.extend(rest.iter().cloned());
            }
            out.push(Row { segments, region });
        }
    }
    out
}

pub(crate) fn table_html(doc: &Document) -> String {
    let esc = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    };
    let mut html = String::from(
        "<html><body><table><thead><tr><td>Item</td><td>Qty</td><td>Price</td><td>Amount</td></tr></thead><tbody>",
    );
    for i in &doc.items {
        html.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&i.description),
            i.quantity_text(),
            i.unit_price.plain(),
            i.amount.plain()
        ));
    }
    html.push_str("</tbody></table></body></html>");
    html
}

/// Draws `text` from `x0` on `baseline` onto `image` (ink darkens the paper) and appends a
/// [`Word`] per run of non-space characters with ink, its polygon the union of its
/// glyphs' pixel bounds; returns the new words' indices.
#[allow(clippy::too_many_arguments)]
pub(crate) fn draw_text(
    image: &mut GrayImage,
    (font, fallback): (&FontVec, &FontVec),
    scale: PxScale,
    x0: f32,
    baseline: f32,
    text: &str,
    words: &mut Vec<Word>,
) -> Vec<usize> {
    let mut added = Vec::new();
    let mut x = x0;
    let mut prev: Option<(*const FontVec, ab_glyph::GlyphId)> = None;
    let mut current: Option<(String, [f32; 4])> = None;
    let flush = |current: &mut Option<(String, [f32; 4])>,
                 words: &mut Vec<Word>,
                 added: &mut Vec<usize>| {
        // A word without any outline (no ink) has no polygon and is not a word.
        if let Some((t, b)) = current.take().filter(|(_, b)| b[0] < b[2]) {
            added.push(words.len());
            words.push(Word {
                text: t,
                polygon: Polygon::rect(b[0].into(), b[1].into(), b[2].into(), b[3].into()),
            });
        }
    };
    for ch in text.chars() {
        // A character the layout's font lacks is drawn in the fallback font, so the
        // image always shows the labelled text (never a missing-glyph box).
        let font = pick(font, fallback, ch);
        let scaled = font.as_scaled(scale);
        let id = scaled.glyph_id(ch);
        if let Some((_, p)) = prev.filter(|(pf, _)| std::ptr::eq(*pf, font)) {
            x += scaled.kern(p, id);
        }
        prev = Some((font as *const FontVec, id));
        if ch.is_whitespace() {
            flush(&mut current, words, &mut added);
            x += scaled.h_advance(id);
            continue;
        }
        let glyph = id.with_scale_and_position(scale, point(x, baseline));
        x += scaled.h_advance(id);
        let entry = current.get_or_insert_with(|| {
            (
                String::new(),
                [
                    f32::INFINITY,
                    f32::INFINITY,
                    f32::NEG_INFINITY,
                    f32::NEG_INFINITY,
                ],
            )
        });
        entry.0.push(ch);
        if let Some(outlined) = font.outline_glyph(glyph) {
            let b = outlined.px_bounds();
            let e = &mut entry.1;
            e[0] = e[0].min(b.min.x.floor());
            e[1] = e[1].min(b.min.y.floor());
            e[2] = e[2].max(b.max.x.ceil());
            e[3] = e[3].max(b.max.y.ceil());
            let (ox, oy) = (b.min.x as i64, b.min.y as i64);
            outlined.draw(|gx, gy, coverage| {
                let (px, py) = (ox + i64::from(gx), oy + i64::from(gy));
                if coverage > 0.0
                    && px >= 0
                    && py >= 0
                    && (px as u32) < image.width()
                    && (py as u32) < image.height()
                {
                    let p = image.get_pixel_mut(px as u32, py as u32);
                    let ink = (255.0 * (1.0 - coverage.min(1.0))) as u8;
                    p.0[0] = p.0[0].min(ink);
                }
            });
        }
    }
    flush(&mut current, words, &mut added);
    added
}

/// Renders `doc` as a thermal receipt.
///
/// # Errors
/// [`Error::Config`] when `layout.font` is not in `fonts` or the type size is not
/// positive.
pub fn render_receipt(doc: &Document, fonts: &FontSet, layout: ReceiptLayout) -> Result<Page> {
    let font = &fonts
        .fonts
        .get(layout.font)
        .ok_or_else(|| Error::Config {
            field: "layout.font",
            reason: format!("font {} of {}", layout.font, fonts.len()),
        })?
        .1;
    if !(layout.font_px > 0.0 && layout.font_px < 512.0) || layout.width < 64 {
        return Err(Error::Config {
            field: "layout",
            reason: "font_px must be in (0, 512) and width at least 64".into(),
        });
    }
    let style = layout.style;
    style.validate()?;
    let scale = PxScale {
        x: layout.font_px * style.width_scale,
        y: layout.font_px,
    };
    let scaled = font.as_scaled(scale);
    let line_height = (scaled.height() + scaled.line_gap()).ceil() + 4.0;
    let margin = 12.0f32;
    let usable = layout.width as f32 - 2.0 * margin;
    let fallback = fonts.font(0).unwrap_or(font);
    let mut rows = document_rows(doc);
    if style.upper_case {
        for (text, _) in rows.iter_mut().flat_map(|r| r.segments.iter_mut()) {
            *text = text.to_uppercase();
        }
    }
    let rows = wrap_rows(rows, usable, |t| text_width(font, fallback, scale, t));
    let logo_band = if style.logo { 3.0 * line_height } else { 0.0 };
    let height = (margin * 2.0 + logo_band + line_height * rows.len() as f32).ceil() as u32;
    let mut image = GrayImage::from_pixel(layout.width, height, image::Luma([255]));
    let mut words: Vec<Word> = Vec::new();
    let mut lines: Vec<TextLine> = Vec::new();
    let mut region_lines: Vec<(&'static str, Vec<usize>)> = Vec::new();
    let text_width = |t: &str| text_width(font, fallback, scale, t);
    for (r, row) in rows.iter().enumerate() {
        let baseline = margin + logo_band + line_height * r as f32 + scaled.ascent();
        // One text line per segment, as a detector sees them: a row's left-aligned label
        // and right-aligned amount are two lines (as they are in SROIE and PPOCRLabel
        // data), not one box across the gap.
        for (text, align) in &row.segments {
            let w = text_width(text);
            let x0 = match align {
                Align::Left => margin,
                Align::Center => margin + (usable - w) / 2.0,
                Align::Right => margin + usable - w,
            };
            let line_words = draw_text(
                &mut image,
                (font, fallback),
                scale,
                x0,
                baseline,
                text,
                &mut words,
            );
            if line_words.is_empty() {
                continue;
            }
            let polygon = Polygon::union_bounds(line_words.iter().map(|&i| &words[i].polygon))
                .expect("non-empty");
            let text = line_words
                .iter()
                .map(|&i| words[i].text.as_str())
                .collect::<Vec<_>>()
                .join(" ");
            match region_lines.last_mut() {
                Some((name, ls)) if *name == row.region => ls.push(lines.len()),
                _ => region_lines.push((row.region, vec![lines.len()])),
            }
            lines.push(TextLine {
                text,
                polygon,
                words: line_words,
            });
        }
    }
    if let Some(pitch) = style.dot_pitch(layout.font_px) {
        // Dots can spill past the glyphs they replace: every polygon grows by as much.
        let spill = dot_matrix(&mut image, pitch);
        for w in &mut words {
            w.polygon = grown(&w.polygon, spill);
        }
        for l in &mut lines {
            l.polygon = grown(&l.polygon, spill);
        }
    }
    let mut regions: Vec<Region> = region_lines
        .into_iter()
        .filter_map(|(name, ls)| {
            Polygon::union_bounds(ls.iter().map(|&i| &lines[i].polygon)).map(|polygon| Region {
                name: name.to_owned(),
                polygon,
            })
        })
        .collect();
    if style.logo {
        let band = [
            margin,
            margin,
            layout.width as f32 - margin,
            margin + logo_band,
        ];
        let seed = doc
            .number
            .bytes()
            .fold(0u64, |h, b| h.wrapping_mul(31) ^ u64::from(b));
        let polygon = draw_logo(&mut image, band, seed);
        regions.insert(
            0,
            Region {
                name: "logo".into(),
                polygon,
            },
        );
    }
    Ok(Page {
        image,
        words,
        lines,
        regions,
        table_html: table_html(doc),
        rules: Vec::new(),
    })
}

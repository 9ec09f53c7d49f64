//! Full-page layouts: A4 invoices and purchase orders with ruled or unruled item tables,
//! a two-column header, and a compact A5 form.

use ab_glyph::{Font, PxScale, ScaleFont};
use image::{GrayImage, Luma};
use serde::{Deserialize, Serialize};
use whet_core::geom::Polygon;

use crate::document::{DocKind, Document};
use crate::error::{Error, Result};
use crate::locale::Locale;
use crate::render::{
    FontSet, Page, Region, TextLine, Word, draw_text, table_html, text_width, wrap,
};

/// How a sheet is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SheetStyle {
    /// Seller block on top, the items table ruled with lines.
    Ruled,
    /// Seller block on top, the items table without lines.
    Unruled,
    /// Seller on the left, title, number and date on the right; ruled table.
    TwoColumnHeader,
}

/// A sheet layout: page size, style and type.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SheetLayout {
    /// Style.
    pub style: SheetStyle,
    /// Page width in pixels.
    pub width: u32,
    /// Smallest page height in pixels (longer documents make longer pages).
    pub height: u32,
    /// Type size in pixels.
    pub font_px: f32,
    /// Which font of the set.
    pub font: usize,
}

impl SheetLayout {
    /// A4 at 100 dpi, ruled table.
    pub const A4_RULED: SheetLayout = SheetLayout {
        style: SheetStyle::Ruled,
        width: 827,
        height: 1169,
        font_px: 18.0,
        font: 0,
    };
    /// A4 at 100 dpi, unruled table.
    pub const A4_UNRULED: SheetLayout = SheetLayout {
        style: SheetStyle::Unruled,
        width: 827,
        height: 1169,
        font_px: 18.0,
        font: 0,
    };
    /// A4 at 100 dpi, two-column header.
    pub const A4_TWO_COLUMN: SheetLayout = SheetLayout {
        style: SheetStyle::TwoColumnHeader,
        width: 827,
        height: 1169,
        font_px: 18.0,
        font: 0,
    };
    /// A5 at 100 dpi, compact type, ruled table.
    pub const A5_COMPACT: SheetLayout = SheetLayout {
        style: SheetStyle::Ruled,
        width: 583,
        height: 827,
        font_px: 14.0,
        font: 0,
    };
}

fn headers(locale: Locale) -> [&'static str; 4] {
    match locale {
        Locale::FilPh => ["Paglalarawan", "Dami", "Presyo", "Halaga"],
        Locale::MsMy => ["Perihal", "Kuantiti", "Harga", "Jumlah"],
        _ => ["Description", "Qty", "Unit Price", "Amount"],
    }
}

struct Canvas<'a> {
    image: GrayImage,
    font: &'a ab_glyph::FontVec,
    fallback: &'a ab_glyph::FontVec,
    scale: PxScale,
    words: Vec<Word>,
    lines: Vec<TextLine>,
    regions: Vec<(&'static str, Vec<usize>)>,
    rules: Vec<Polygon>,
}

impl Canvas<'_> {
    fn width_of(&self, t: &str) -> f32 {
        text_width(self.font, self.fallback, self.scale, t)
    }

    /// Draws `text` in `[x0, x1]` with its baseline at `baseline`, as one line of `region`.
    fn text(
        &mut self,
        text: &str,
        x0: f32,
        x1: f32,
        right: bool,
        baseline: f32,
        region: &'static str,
    ) {
        if text.trim().is_empty() {
            return;
        }
        let x = if right { x1 - self.width_of(text) } else { x0 };
        let ids = draw_text(
            &mut self.image,
            (self.font, self.fallback),
            self.scale,
            x,
            baseline,
            text,
            &mut self.words,
        );
        if ids.is_empty() {
            return;
        }
        let polygon =
            Polygon::union_bounds(ids.iter().map(|&i| &self.words[i].polygon)).expect("non-empty");
        let line_text = ids
            .iter()
            .map(|&i| self.words[i].text.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        match self.regions.last_mut() {
            Some((name, ls)) if *name == region => ls.push(self.lines.len()),
            _ => self.regions.push((region, vec![self.lines.len()])),
        }
        self.lines.push(TextLine {
            text: line_text,
            polygon,
            words: ids,
        });
    }

    fn hline(&mut self, x0: f32, x1: f32, y: f32) {
        let y = y.round().max(0.0) as u32;
        let (a, b) = (
            x0.round().max(0.0) as u32,
            (x1.round() as u32).min(self.image.width()),
        );
        if y >= self.image.height() || a >= b {
            return;
        }
        for x in a..b {
            self.image.put_pixel(x, y, Luma([40]));
        }
        self.rules.push(Polygon::rect(
            f64::from(a),
            f64::from(y),
            f64::from(b),
            f64::from(y) + 1.0,
        ));
    }

    fn vline(&mut self, x: f32, y0: f32, y1: f32) {
        let x = x.round().max(0.0) as u32;
        let (a, b) = (
            y0.round().max(0.0) as u32,
            (y1.round() as u32).min(self.image.height()),
        );
        if x >= self.image.width() || a >= b {
            return;
        }
        for y in a..b {
            self.image.put_pixel(x, y, Luma([40]));
        }
        self.rules.push(Polygon::rect(
            f64::from(x),
            f64::from(a),
            f64::from(x) + 1.0,
            f64::from(b),
        ));
    }
}

/// Renders `doc` on a full page.
///
/// # Errors
/// [`Error::Config`] when `layout.font` is not in `fonts`, the type size is not positive
/// or the page is too small.
pub fn render_sheet(doc: &Document, fonts: &FontSet, layout: SheetLayout) -> Result<Page> {
    let font = fonts.font(layout.font).ok_or_else(|| Error::Config {
        field: "layout.font",
        reason: format!("font {} of {}", layout.font, fonts.len()),
    })?;
    if !(layout.font_px > 0.0 && layout.font_px < 128.0)
        || layout.width < 300
        || layout.height < 300
    {
        return Err(Error::Config {
            field: "layout",
            reason: "font_px must be in (0, 128), the page at least 300 x 300".into(),
        });
    }
    let scale = PxScale::from(layout.font_px);
    let scaled = font.as_scaled(scale);
    let lh = (scaled.height() + scaled.line_gap()).ceil() + 6.0;
    let asc = scaled.ascent();
    let w = layout.width as f32;
    let margin = (w * 0.06).round();
    let (left, right) = (margin, w - margin);
    let fallback = fonts.font(0).unwrap_or(font);
    let width_of = |t: &str| text_width(font, fallback, scale, t);

    // Column edges: description, quantity, unit price, amount.
    let cols = [
        left,
        left + (right - left) * 0.50,
        left + (right - left) * 0.64,
        left + (right - left) * 0.82,
        right,
    ];
    let pad = 6.0;
    let desc_lines: Vec<Vec<String>> = doc
        .items
        .iter()
        .map(|i| wrap(&i.description, cols[1] - cols[0] - 2.0 * pad, &width_of))
        .collect();
    let seller_lines = wrap(
        &doc.seller.address,
        if layout.style == SheetStyle::TwoColumnHeader {
            (right - left) * 0.55
        } else {
            right - left
        },
        &width_of,
    );
    let rows_needed = 12 + seller_lines.len() + desc_lines.iter().map(Vec::len).sum::<usize>() + 10;
    let height = (layout.height as f32)
        .max(2.0 * margin + lh * rows_needed as f32)
        .ceil() as u32;
    let mut c = Canvas {
        image: GrayImage::from_pixel(layout.width, height, Luma([255])),
        font,
        fallback,
        scale,
        words: Vec::new(),
        lines: Vec::new(),
        regions: Vec::new(),
        rules: Vec::new(),
    };
    let title = match doc.kind {
        DocKind::Receipt => "OFFICIAL RECEIPT",
        DocKind::Invoice => "SALES INVOICE",
        DocKind::PurchaseOrder => "PURCHASE ORDER",
    };
    let tin = doc
        .seller
        .tax_id
        .as_ref()
        .map(|t| format!("{} {t}", doc.locale.tax_id_label()));
    let mut y = margin;
    let base = |y: &mut f32| {
        let b = *y + asc;
        *y += lh;
        b
    };
    if layout.style == SheetStyle::TwoColumnHeader {
        let mid = left + (right - left) * 0.6;
        let mut l: Vec<String> = vec![doc.seller.name.to_uppercase()];
        l.extend(seller_lines.iter().cloned());
        l.extend(tin.clone());
        let r = [
            title.to_owned(),
            format!("No. {}", doc.number),
            format!("Date: {}", doc.date),
        ];
        for i in 0..l.len().max(r.len()) {
            let b = base(&mut y);
            if let Some(t) = l.get(i) {
                c.text(t, left, mid, false, b, "vendor_block");
            }
            if let Some(t) = r.get(i) {
                c.text(t, mid, right, true, b, "document_info");
            }
        }
    } else {
        let b = base(&mut y);
        c.text(
            &doc.seller.name.to_uppercase(),
            left,
            right,
            false,
            b,
            "vendor_block",
        );
        for t in &seller_lines {
            let b = base(&mut y);
            c.text(t, left, right, false, b, "vendor_block");
        }
        if let Some(t) = &tin {
            let b = base(&mut y);
            c.text(t, left, right, false, b, "vendor_block");
        }
        y += lh * 0.5;
        let b = base(&mut y);
        c.text(title, left, right, true, b, "document_info");
        let b = base(&mut y);
        c.text(
            &format!("No. {}", doc.number),
            left,
            right,
            true,
            b,
            "document_info",
        );
        let b = base(&mut y);
        c.text(
            &format!("Date: {}", doc.date),
            left,
            right,
            true,
            b,
            "document_info",
        );
    }
    if let Some(buyer) = &doc.buyer {
        y += lh * 0.5;
        let label = if doc.kind == DocKind::PurchaseOrder {
            "Supplier"
        } else {
            "Bill to"
        };
        let b = base(&mut y);
        c.text(
            &format!("{label}: {}", buyer.name),
            left,
            right,
            false,
            b,
            "buyer_block",
        );
        for t in wrap(&buyer.address, right - left, &width_of) {
            let b = base(&mut y);
            c.text(&t, left, right, false, b, "buyer_block");
        }
    }
    // The items table.
    y += lh * 0.5;
    let ruled = layout.style != SheetStyle::Unruled;
    let table_top = y;
    if ruled {
        c.hline(left, right, y);
    }
    y += 4.0;
    let hb = base(&mut y);
    let heads = headers(doc.locale);
    for (k, h) in heads.iter().enumerate() {
        c.text(h, cols[k] + pad, cols[k + 1] - pad, k > 0, hb, "line_items");
    }
    y += 2.0;
    if ruled {
        c.hline(left, right, y);
    }
    for (item, desc) in doc.items.iter().zip(&desc_lines) {
        y += 4.0;
        for (j, t) in desc.iter().enumerate() {
            let b = base(&mut y);
            c.text(t, cols[0] + pad, cols[1] - pad, false, b, "line_items");
            if j == 0 {
                c.text(
                    &item.quantity_text(),
                    cols[1] + pad,
                    cols[2] - pad,
                    true,
                    b,
                    "line_items",
                );
                c.text(
                    &item.unit_price.plain(),
                    cols[2] + pad,
                    cols[3] - pad,
                    true,
                    b,
                    "line_items",
                );
                c.text(
                    &item.amount.plain(),
                    cols[3] + pad,
                    cols[4] - pad,
                    true,
                    b,
                    "line_items",
                );
            }
        }
        y += 2.0;
        if ruled {
            c.hline(left, right, y);
        }
    }
    if ruled {
        for &x in &cols {
            c.vline(x, table_top, y + 1.0);
        }
    }
    // Totals.
    y += lh * 0.5;
    for (label, m) in doc.totals.printed_rows(&doc.locale.tax()) {
        let b = base(&mut y);
        c.text(&label, cols[2], cols[3], false, b, "totals_section");
        c.text(
            &m.with_symbol(doc.currency),
            cols[3],
            right - pad,
            true,
            b,
            "totals_section",
        );
    }
    y += lh * 0.5;
    let b = base(&mut y);
    c.text(
        &format!("Payment: {}", doc.payment),
        left,
        right,
        false,
        b,
        "footer",
    );
    let regions = c
        .regions
        .iter()
        .filter_map(|(name, ls)| {
            Polygon::union_bounds(ls.iter().map(|&i| &c.lines[i].polygon)).map(|polygon| Region {
                name: (*name).to_owned(),
                polygon,
            })
        })
        .collect();
    Ok(Page {
        image: c.image,
        words: c.words,
        lines: c.lines,
        regions,
        table_html: table_html(doc),
        rules: c.rules,
    })
}

/// Any layout: a thermal receipt or a full page.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Layout {
    /// A thermal receipt.
    Receipt(crate::render::ReceiptLayout),
    /// A full page.
    Sheet(SheetLayout),
}

impl Layout {
    /// The built-in templates: 58 mm and 80 mm receipts in regular, small and large type,
    /// and A4 ruled, A4 unruled, A4 two-column-header and A5 compact sheets.
    pub fn catalogue() -> [Layout; 8] {
        use crate::render::ReceiptLayout as R;
        [
            Layout::Receipt(R::THERMAL_58MM),
            Layout::Receipt(R::THERMAL_80MM),
            Layout::Receipt(R {
                font_px: 16.0,
                ..R::THERMAL_58MM
            }),
            Layout::Receipt(R {
                font_px: 26.0,
                ..R::THERMAL_80MM
            }),
            Layout::Sheet(SheetLayout::A4_RULED),
            Layout::Sheet(SheetLayout::A4_UNRULED),
            Layout::Sheet(SheetLayout::A4_TWO_COLUMN),
            Layout::Sheet(SheetLayout::A5_COMPACT),
        ]
    }

    /// The same layout drawn with font `font` of the [`FontSet`].
    #[must_use]
    pub fn with_font(self, font: usize) -> Layout {
        match self {
            Layout::Receipt(r) => Layout::Receipt(crate::render::ReceiptLayout { font, ..r }),
            Layout::Sheet(s) => Layout::Sheet(SheetLayout { font, ..s }),
        }
    }

    /// Renders `doc` in this layout.
    ///
    /// # Errors
    /// As [`crate::render_receipt`] and [`render_sheet`].
    pub fn render(&self, doc: &Document, fonts: &FontSet) -> Result<Page> {
        match self {
            Layout::Receipt(r) => crate::render::render_receipt(doc, fonts, *r),
            Layout::Sheet(s) => render_sheet(doc, fonts, *s),
        }
    }
}

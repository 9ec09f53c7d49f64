//! How a receipt printer prints: case, glyph width, dot-matrix heads and a logo.
//!
//! Real receipts are rarely set in a clean vector font: impact printers put each glyph
//! together from a grid of round dots, thermal printers often use condensed fonts and
//! print everything in capitals, and most shops print a logo above their name. A
//! [`PrintStyle`] asks the receipt renderer for any of these; the ground truth stays
//! exact (the dot pass grows the polygons by the distance a dot can spill over).

use image::{GrayImage, Luma};
use serde::{Deserialize, Serialize};
use whet_core::geom::Polygon;

use crate::error::{Error, Result};

/// What a receipt's printer does to its text (all off by default: a clean vector font).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PrintStyle {
    /// Every printed character in capitals (`Osmeña` -> `OSMEÑA`), as many point-of-sale
    /// printers do.
    pub upper_case: bool,
    /// Horizontal glyph scale: below 1 a condensed (narrow) receipt font, 1 the font as
    /// drawn. Within 0.5 to 1.5.
    pub width_scale: f32,
    /// Glyphs rebuilt from round dots on a grid of this many dots per em (an impact
    /// printer's head, 7 to 9 dots for a capital); 0 draws the glyphs solid.
    pub dot_matrix: u32,
    /// A logo above the shop's name (a shape drawn in a band of its own, recorded as a
    /// `logo` region).
    pub logo: bool,
}

impl Default for PrintStyle {
    fn default() -> Self {
        PrintStyle::PLAIN
    }
}

impl PrintStyle {
    /// A clean vector font as drawn, case kept, no logo.
    pub const PLAIN: PrintStyle = PrintStyle {
        upper_case: false,
        width_scale: 1.0,
        dot_matrix: 0,
        logo: false,
    };

    /// Checks the ranges.
    ///
    /// # Errors
    /// [`Error::Config`] naming the setting.
    pub fn validate(&self) -> Result<()> {
        if !(0.5..=1.5).contains(&self.width_scale) {
            return Err(Error::Config {
                field: "style.width_scale",
                reason: format!("{} is outside 0.5 to 1.5", self.width_scale),
            });
        }
        if self.dot_matrix != 0 && !(5..=24).contains(&self.dot_matrix) {
            return Err(Error::Config {
                field: "style.dot_matrix",
                reason: format!("{} dots per em: 0 (off) or 5 to 24", self.dot_matrix),
            });
        }
        Ok(())
    }

    /// The dot pitch in pixels at type size `font_px` (`None` when glyphs are solid).
    pub(crate) fn dot_pitch(&self, font_px: f32) -> Option<f32> {
        (self.dot_matrix > 0).then(|| (font_px / self.dot_matrix as f32).max(1.5))
    }
}

/// Redraws the ink of `image` as round dots on a grid of `pitch` pixels: a grid cell at
/// least 30% inked (or holding a small mark no neighbour's dot stands for) gets a dot of diameter `0.8 * pitch` at its centre.
/// Returns how far (pixels) a dot can reach outside the ink it replaced, the amount every
/// polygon must grow by.
pub(crate) fn dot_matrix(image: &mut GrayImage, pitch: f32) -> f64 {
    let (w, h) = (image.width(), image.height());
    let cols = (w as f32 / pitch).ceil() as u32;
    let rows = (h as f32 / pitch).ceil() as u32;
    let ink = |x: u32, y: u32| 1.0 - f32::from(image.get_pixel(x, y).0[0]) / 255.0;
    // Each cell's mean and largest ink.
    let mut mean = vec![0.0f32; (cols * rows) as usize];
    let mut most = vec![0.0f32; (cols * rows) as usize];
    for r in 0..rows {
        for c in 0..cols {
            let (x0, y0) = ((c as f32 * pitch) as u32, (r as f32 * pitch) as u32);
            let x1 = (((c + 1) as f32 * pitch) as u32).min(w);
            let y1 = (((r + 1) as f32 * pitch) as u32).min(h);
            let (mut sum, mut n, mut top) = (0.0f32, 0u32, 0.0f32);
            for y in y0..y1 {
                for x in x0..x1 {
                    let v = ink(x, y);
                    sum += v;
                    top = top.max(v);
                    n += 1;
                }
            }
            let k = (r * cols + c) as usize;
            mean[k] = if n > 0 { sum / n as f32 } else { 0.0 };
            most[k] = top;
        }
    }
    // A dot where the glyph inks at least 30% of the cell, and one for a small mark (a
    // colon's dot, a full stop) that no neighbouring cell's dot stands for.
    let on = |r: u32, c: u32| mean[(r * cols + c) as usize] >= 0.3;
    let mut centres = Vec::new();
    for r in 0..rows {
        for c in 0..cols {
            let lone_mark = most[(r * cols + c) as usize] >= 0.75
                && (r.saturating_sub(1)..(r + 2).min(rows))
                    .all(|rr| (c.saturating_sub(1)..(c + 2).min(cols)).all(|cc| !on(rr, cc)));
            if on(r, c) || lone_mark {
                centres.push(((c as f32 + 0.5) * pitch, (r as f32 + 0.5) * pitch));
            }
        }
    }
    let radius = 0.4 * pitch;
    let mut out = GrayImage::from_pixel(w, h, Luma([255]));
    for (cx, cy) in centres {
        draw_disc(&mut out, cx, cy, radius, 30);
    }
    *image = out;
    // A cell's centre lies within half a pitch of its inked pixels (diagonally
    // sqrt(2)/2 of a pitch), and its dot reaches `radius` further.
    f64::from((std::f32::consts::FRAC_1_SQRT_2 * pitch + radius).ceil())
}

/// An anti-aliased filled disc of grey `ink` (darkening only).
fn draw_disc(image: &mut GrayImage, cx: f32, cy: f32, radius: f32, ink: u8) {
    let (w, h) = (image.width() as i64, image.height() as i64);
    let (x0, x1) = ((cx - radius - 1.0) as i64, (cx + radius + 1.0) as i64);
    let (y0, y1) = ((cy - radius - 1.0) as i64, (cy + radius + 1.0) as i64);
    for y in y0.max(0)..=y1.min(h - 1) {
        for x in x0.max(0)..=x1.min(w - 1) {
            let d = ((x as f32 + 0.5 - cx).powi(2) + (y as f32 + 0.5 - cy).powi(2)).sqrt();
            let coverage = (radius + 0.5 - d).clamp(0.0, 1.0);
            if coverage > 0.0 {
                darken(image, x as u32, y as u32, ink, coverage);
            }
        }
    }
}

fn darken(image: &mut GrayImage, x: u32, y: u32, ink: u8, coverage: f32) {
    let p = image.get_pixel_mut(x, y);
    let v = 255.0 - (255.0 - f32::from(ink)) * coverage;
    p.0[0] = p.0[0].min(v.round() as u8);
}

/// Draws a logo centred in the band `(x0, y0, x1, y1)`, its shape picked by `seed`: a
/// ring around a disc, a diamond, or a block of bars (a stylised mark). Returns the
/// polygon of its ink.
pub(crate) fn draw_logo(image: &mut GrayImage, band: [f32; 4], seed: u64) -> Polygon {
    let [x0, y0, x1, y1] = band;
    let (cx, cy) = ((x0 + x1) / 2.0, (y0 + y1) / 2.0);
    let r = ((y1 - y0) / 2.0 - 2.0).max(2.0);
    let (w, h) = (image.width() as i64, image.height() as i64);
    let mut fill = |inside: &dyn Fn(f32, f32) -> bool| {
        for y in ((cy - r) as i64).max(0)..=((cy + r) as i64).min(h - 1) {
            for x in ((cx - 2.0 * r) as i64).max(0)..=((cx + 2.0 * r) as i64).min(w - 1) {
                if inside(x as f32 + 0.5 - cx, y as f32 + 0.5 - cy) {
                    darken(image, x as u32, y as u32, 20, 1.0);
                }
            }
        }
    };
    let half_width = match seed % 3 {
        0 => {
            fill(&|dx, dy| {
                let d = (dx * dx + dy * dy).sqrt();
                d <= 0.45 * r || (0.75 * r..=r).contains(&d)
            });
            r
        }
        1 => {
            fill(&|dx, dy| dx.abs() + dy.abs() <= r && dx.abs() + dy.abs() >= 0.5 * r);
            r
        }
        _ => {
            // Four bars of rising height: a bar-chart mark, twice as wide as tall.
            fill(&|dx, dy| {
                let k = ((dx + 2.0 * r) / r).floor();
                let within = (dx + 2.0 * r) % r < 0.7 * r;
                (0.0..4.0).contains(&k) && within && dy >= r - (k + 1.0) * 0.5 * r
            });
            2.0 * r
        }
    };
    Polygon::rect(
        f64::from((cx - half_width - 1.0).floor().max(0.0)),
        f64::from((cy - r - 1.0).floor().max(0.0)),
        f64::from((cx + half_width + 1.0).ceil()),
        f64::from((cy + r + 1.0).ceil()),
    )
}

/// `p`'s bounding rectangle grown by `d` pixels on every side.
pub(crate) fn grown(p: &Polygon, d: f64) -> Polygon {
    let [x0, y0, x1, y1] = p.bounds();
    Polygon::rect(x0 - d, y0 - d, x1 + d, y1 + d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dots_stay_within_the_grown_ink() {
        let mut image = GrayImage::from_pixel(60, 40, Luma([255]));
        for y in 10..30 {
            for x in 20..24 {
                image.put_pixel(x, y, Luma([0]));
            }
        }
        let grow = dot_matrix(&mut image, 4.0);
        let dark: Vec<(u32, u32)> = image
            .enumerate_pixels()
            .filter(|(_, _, p)| p.0[0] < 200)
            .map(|(x, y, _)| (x, y))
            .collect();
        assert!(!dark.is_empty(), "a 4-pixel-wide stroke keeps its dots");
        let reach = grow as u32;
        for (x, y) in dark {
            assert!((20 - reach..24 + reach).contains(&x), "dot at x {x}");
            assert!((10 - reach..30 + reach).contains(&y), "dot at y {y}");
        }
    }

    #[test]
    fn bad_styles_are_refused() {
        let bad = PrintStyle {
            width_scale: 0.2,
            ..PrintStyle::default()
        };
        assert!(bad.validate().is_err());
        let bad = PrintStyle {
            dot_matrix: 2,
            ..PrintStyle::default()
        };
        assert!(bad.validate().is_err());
        assert!(PrintStyle::default().validate().is_ok());
    }
}

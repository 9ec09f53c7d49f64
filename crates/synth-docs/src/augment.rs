//! Augmentations in the ranges of Donut's SynthDoG (`synthdog/config_en.yaml`): geometric
//! (rotation and perspective, with every ground-truth polygon moved exactly as the pixels
//! are) and photometric (blur, noise, brightness, contrast, thermal fade, shadow, JPEG),
//! plus what receipts people photograph have and SynthDoG lacks (`degrade`: print-head
//! streaks, folds, stamps, low-resolution captures; off by default).

use std::io::Cursor;

use image::{GrayImage, ImageFormat, Luma};
use rand::Rng;
use serde::{Deserialize, Serialize};
use whet_core::geom::Polygon;

use crate::degrade;
use crate::error::{Error, Result};
use crate::render::Page;

/// Ranges to draw each augmentation's strength from (SynthDoG's by default).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AugmentConfig {
    /// Largest rotation, degrees (either way).
    pub max_rotation_deg: f32,
    /// Largest perspective distortion: corner displacement as a share of the image size.
    pub max_perspective: f32,
    /// Probability and largest sigma of a Gaussian blur (SynthDoG: 0 to 1.5).
    pub blur: (f64, f32),
    /// Largest Gaussian noise sigma, grey levels (SynthDoG: 0 to 8).
    pub max_noise: f32,
    /// Brightness shift range, grey levels (SynthDoG: -48 to 0).
    pub brightness: (f32, f32),
    /// Contrast factor range (SynthDoG: 1 to 1.5).
    pub contrast: (f32, f32),
    /// Probability and strongest fading of thermal print (ink lightened by up to this
    /// share).
    pub fade: (f64, f32),
    /// Probability and darkest shadow (a linear gradient darkening up to this share).
    pub shadow: (f64, f32),
    /// JPEG quality range (SynthDoG: 50 to 95); `None` keeps the image lossless.
    pub jpeg_quality: Option<(u8, u8)>,
    /// Probability and largest amplitude (pixels) of crumpling: a smooth wave
    /// displacement (SynthDoG's elastic distortion), polygons bent with the paper.
    #[serde(default)]
    pub crumple: (f64, f32),
    /// Probability and largest number of thermal print-head streaks (vertical bands
    /// where the ink faded); off by default.
    #[serde(default)]
    pub streaks: (f64, u32),
    /// Probability and darkest crease of a fold across the page; off by default.
    #[serde(default)]
    pub fold: (f64, f32),
    /// Probability of an ink stamp pressed over the page; off by default.
    #[serde(default)]
    pub stamp: f64,
    /// Probability and smallest scale of a low-resolution capture (the page scaled down
    /// and back up, before blur and JPEG); off by default.
    #[serde(default)]
    pub low_resolution: (f64, f32),
}

impl Default for AugmentConfig {
    fn default() -> Self {
        AugmentConfig {
            max_rotation_deg: 3.0,
            max_perspective: 0.03,
            blur: (0.5, 1.5),
            max_noise: 8.0,
            brightness: (-48.0, 0.0),
            contrast: (1.0, 1.5),
            fade: (0.3, 0.5),
            shadow: (0.3, 0.4),
            jpeg_quality: Some((50, 95)),
            crumple: (0.3, 3.0),
            streaks: (0.0, 0),
            fold: (0.0, 0.0),
            stamp: 0.0,
            low_resolution: (0.0, 1.0),
        }
    }
}

impl AugmentConfig {
    /// Only the geometry (no photometric change): for checking polygons.
    pub fn geometric_only() -> Self {
        AugmentConfig {
            blur: (0.0, 0.0),
            max_noise: 0.0,
            brightness: (0.0, 0.0),
            contrast: (1.0, 1.0),
            fade: (0.0, 0.0),
            shadow: (0.0, 0.0),
            jpeg_quality: None,
            crumple: (0.0, 0.0),
            streaks: (0.0, 0),
            fold: (0.0, 0.0),
            stamp: 0.0,
            low_resolution: (0.0, 1.0),
            ..AugmentConfig::default()
        }
    }

    /// Checks every range.
    ///
    /// # Errors
    /// [`Error::Config`] naming the setting.
    pub fn validate(&self) -> Result<()> {
        let bad = |field, reason: &str| {
            Err(Error::Config {
                field,
                reason: reason.to_owned(),
            })
        };
        let prob = |p: f64| (0.0..=1.0).contains(&p);
        if !(0.0..=45.0).contains(&self.max_rotation_deg) {
            return bad("max_rotation_deg", "must be within 0 to 45");
        }
        if !(0.0..0.25).contains(&self.max_perspective) {
            return bad("max_perspective", "must be within 0 to 0.25");
        }
        if !prob(self.blur.0) || !(0.0..=10.0).contains(&self.blur.1) {
            return bad("blur", "probability in 0..1, sigma in 0..10");
        }
        if !(0.0..=64.0).contains(&self.max_noise) {
            return bad("max_noise", "must be within 0 to 64");
        }
        if self.brightness.0 > self.brightness.1
            || self.contrast.0 > self.contrast.1
            || self.contrast.0 <= 0.0
        {
            return bad("brightness", "ranges must be ordered and contrast positive");
        }
        if !prob(self.fade.0)
            || !prob(self.shadow.0)
            || !(0.0..=1.0).contains(&self.fade.1)
            || !(0.0..=1.0).contains(&self.shadow.1)
        {
            return bad("fade", "probabilities and strengths must be within 0 to 1");
        }
        if !prob(self.crumple.0) || !(0.0..=20.0).contains(&self.crumple.1) {
            return bad("crumple", "probability in 0..1, amplitude in 0..20 px");
        }
        if !prob(self.streaks.0) || self.streaks.1 > 64 {
            return bad("streaks", "probability in 0..1, at most 64 streaks");
        }
        if !prob(self.fold.0) || !(0.0..=1.0).contains(&self.fold.1) {
            return bad("fold", "probability and strength within 0 to 1");
        }
        if !prob(self.stamp) {
            return bad("stamp", "probability within 0 to 1");
        }
        if !prob(self.low_resolution.0) || !(0.1..=1.0).contains(&self.low_resolution.1) {
            return bad("low_resolution", "probability in 0..1, scale in 0.1..1");
        }
        if let Some((lo, hi)) = self.jpeg_quality
            && (lo == 0 || lo > hi || hi > 100)
        {
            return bad("jpeg_quality", "must satisfy 1 <= low <= high <= 100");
        }
        Ok(())
    }
}

/// A 3x3 projective transform, row-major.
#[derive(Debug, Clone, Copy)]
struct Homography([f64; 9]);

impl Homography {
    fn apply(&self, x: f64, y: f64) -> (f64, f64) {
        let h = &self.0;
        let w = h[6] * x + h[7] * y + h[8];
        (
            (h[0] * x + h[1] * y + h[2]) / w,
            (h[3] * x + h[4] * y + h[5]) / w,
        )
    }

    /// The transform taking the four `src` points to the four `dst` points (direct
    /// linear solve of the 8 unknowns).
    fn from_points(src: [(f64, f64); 4], dst: [(f64, f64); 4]) -> Option<Homography> {
        let mut a = [[0.0f64; 9]; 8];
        for (k, (&(x, y), &(u, v))) in src.iter().zip(&dst).enumerate() {
            a[2 * k] = [x, y, 1.0, 0.0, 0.0, 0.0, -u * x, -u * y, u];
            a[2 * k + 1] = [0.0, 0.0, 0.0, x, y, 1.0, -v * x, -v * y, v];
        }
        // Gaussian elimination with partial pivoting on the 8x8 system.
        for col in 0..8 {
            let pivot = (col..8).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))?;
            if a[pivot][col].abs() < 1e-12 {
                return None;
            }
            a.swap(col, pivot);
            let pivot_row = a[col];
            for (row, r) in a.iter_mut().enumerate() {
                if row != col {
                    let f = r[col] / pivot_row[col];
                    for (x, p) in r.iter_mut().zip(&pivot_row).skip(col) {
                        *x -= f * p;
                    }
                }
            }
        }
        let mut h = [0.0; 9];
        for i in 0..8 {
            h[i] = a[i][8] / a[i][i];
        }
        h[8] = 1.0;
        Some(Homography(h))
    }
}

fn move_polygon(p: &Polygon, h: &Homography) -> Polygon {
    Polygon {
        points: p
            .points
            .iter()
            .map(|q| {
                let (x, y) = h.apply(q[0], q[1]);
                [x, y]
            })
            .collect(),
    }
}

/// Bilinear sample of `image` at continuous position (`sx`, `sy`) in pixel-edge
/// coordinates (pixel centres at `i + 0.5`); white outside the image.
fn sample_bilinear(image: &GrayImage, sx: f64, sy: f64) -> u8 {
    let (w, h) = (f64::from(image.width()), f64::from(image.height()));
    let (fx, fy) = (sx - 0.5, sy - 0.5);
    let (x0, y0) = (fx.floor(), fy.floor());
    let (ax, ay) = (fx - x0, fy - y0);
    let sample = |xi: f64, yi: f64| -> f64 {
        if xi < 0.0 || yi < 0.0 || xi >= w || yi >= h {
            255.0
        } else {
            f64::from(image.get_pixel(xi as u32, yi as u32).0[0])
        }
    };
    let v = sample(x0, y0) * (1.0 - ax) * (1.0 - ay)
        + sample(x0 + 1.0, y0) * ax * (1.0 - ay)
        + sample(x0, y0 + 1.0) * (1.0 - ax) * ay
        + sample(x0 + 1.0, y0 + 1.0) * ax * ay;
    v.round().clamp(0.0, 255.0) as u8
}

/// Rotates and tilts `page` (pixels and polygons alike) onto a canvas that holds all of it.
fn geometric(page: &Page, cfg: &AugmentConfig, rng: &mut impl Rng) -> Page {
    let (w, h) = (
        f64::from(page.image.width()),
        f64::from(page.image.height()),
    );
    let angle =
        f64::from(rng.random_range(-cfg.max_rotation_deg..=cfg.max_rotation_deg)).to_radians();
    let (s, c) = angle.sin_cos();
    let (cx, cy) = (w / 2.0, h / 2.0);
    let jitter = f64::from(cfg.max_perspective) * w.min(h);
    let src = [(0.0, 0.0), (w, 0.0), (w, h), (0.0, h)];
    let mut dst = src.map(|(x, y)| {
        let (dx, dy) = (x - cx, y - cy);
        (cx + dx * c - dy * s, cy + dx * s + dy * c)
    });
    if jitter > 0.0 {
        for p in &mut dst {
            p.0 += rng.random_range(-jitter..=jitter);
            p.1 += rng.random_range(-jitter..=jitter);
        }
    }
    let (min_x, min_y) = dst.iter().fold((f64::INFINITY, f64::INFINITY), |m, p| {
        (m.0.min(p.0), m.1.min(p.1))
    });
    let (max_x, max_y) = dst
        .iter()
        .fold((f64::NEG_INFINITY, f64::NEG_INFINITY), |m, p| {
            (m.0.max(p.0), m.1.max(p.1))
        });
    let dst = dst.map(|(x, y)| (x - min_x.floor(), y - min_y.floor()));
    let out_w = (max_x - min_x.floor()).ceil().max(1.0) as u32;
    let out_h = (max_y - min_y.floor()).ceil().max(1.0) as u32;
    let (Some(forward), Some(inverse)) = (
        Homography::from_points(src, dst),
        Homography::from_points(dst, src),
    ) else {
        return page.clone();
    };
    let mut out = GrayImage::from_pixel(out_w, out_h, Luma([255]));
    for (x, y, px) in out.enumerate_pixels_mut() {
        // Pixel centres map to pixel centres.
        let (sx, sy) = inverse.apply(f64::from(x) + 0.5, f64::from(y) + 0.5);
        px.0[0] = sample_bilinear(&page.image, sx, sy);
    }
    let mut moved = page.clone();
    moved.image = out;
    for wd in &mut moved.words {
        wd.polygon = move_polygon(&wd.polygon, &forward);
    }
    for l in &mut moved.lines {
        l.polygon = move_polygon(&l.polygon, &forward);
    }
    for r in &mut moved.regions {
        r.polygon = move_polygon(&r.polygon, &forward);
    }
    for r in &mut moved.rules {
        *r = move_polygon(r, &forward);
    }
    moved
}

/// A smooth displacement `d(x, y)`: waves across and along the page.
#[derive(Debug, Clone, Copy)]
struct Wave {
    amp: f64,
    kx: f64,
    ky: f64,
    px: f64,
    py: f64,
}

impl Wave {
    fn displace(&self, x: f64, y: f64) -> (f64, f64) {
        (
            x + self.amp * (self.ky * y + self.py).sin(),
            y + self.amp * (self.kx * x + self.px).sin(),
        )
    }

    /// The source point that `displace` sends to `(u, v)` (fixed-point iteration; the
    /// displacement's slope is far below 1, so it converges fast).
    fn source_of(&self, u: f64, v: f64) -> (f64, f64) {
        let (mut x, mut y) = (u, v);
        for _ in 0..8 {
            let (dx, dy) = self.displace(x, y);
            x -= dx - u;
            y -= dy - v;
        }
        (x, y)
    }
}

/// Bends a polygon with the paper: its outline, pushed `grow` pixels away from its
/// centre, is split into 8 pieces per edge whose ends are displaced, so the bent outline
/// still encloses what the flat one did.
fn bend(p: &Polygon, wave: &Wave, grow: f32) -> Polygon {
    let n = p.points.len();
    if n == 0 {
        return p.clone();
    }
    let (cx, cy) = p.points.iter().fold((0.0, 0.0), |(x, y), q| {
        (x + q[0] as f32 / n as f32, y + q[1] as f32 / n as f32)
    });
    let out: Vec<[f32; 2]> = p
        .points
        .iter()
        .map(|q| {
            let q = [q[0] as f32, q[1] as f32];
            let (dx, dy) = (q[0] - cx, q[1] - cy);
            let len = (dx * dx + dy * dy).sqrt().max(1e-6);
            [q[0] + grow * dx / len, q[1] + grow * dy / len]
        })
        .collect();
    let mut points = Vec::with_capacity(8 * n);
    for k in 0..n {
        let (a, b) = (out[k], out[(k + 1) % n]);
        for s in 0..8 {
            let t = s as f32 / 8.0;
            let (x, y) = wave.displace(
                f64::from(a[0] + (b[0] - a[0]) * t),
                f64::from(a[1] + (b[1] - a[1]) * t),
            );
            points.push([x, y]);
        }
    }
    Polygon { points }
}

fn crumple(page: &Page, amplitude: f32, rng: &mut impl Rng) -> Page {
    let (w, h) = (page.image.width(), page.image.height());
    let wave = Wave {
        amp: f64::from(amplitude),
        kx: std::f64::consts::TAU / rng.random_range(150.0..400.0),
        ky: std::f64::consts::TAU / rng.random_range(150.0..400.0),
        px: rng.random_range(0.0..std::f64::consts::TAU),
        py: rng.random_range(0.0..std::f64::consts::TAU),
    };
    let mut out = GrayImage::from_pixel(w, h, Luma([255]));
    for (x, y, px) in out.enumerate_pixels_mut() {
        let (sx, sy) = wave.source_of(f64::from(x) + 0.5, f64::from(y) + 0.5);
        px.0[0] = sample_bilinear(&page.image, sx, sy);
    }
    let mut bent = page.clone();
    bent.image = out;
    // Words grow by a pixel so that resampled edges stay inside their outline.
    for wd in &mut bent.words {
        wd.polygon = bend(&wd.polygon, &wave, 1.0);
    }
    for l in &mut bent.lines {
        l.polygon = bend(&l.polygon, &wave, 1.0);
    }
    for r in &mut bent.regions {
        r.polygon = bend(&r.polygon, &wave, 1.0);
    }
    for r in &mut bent.rules {
        *r = bend(r, &wave, 1.0);
    }
    bent
}

/// Applies one random draw of every augmentation of `cfg` to `page`.
///
/// # Errors
/// [`Error::Config`] for an invalid `cfg`; [`Error::Image`] if the JPEG round trip fails.
pub fn augment(page: &Page, cfg: &AugmentConfig, rng: &mut impl Rng) -> Result<Page> {
    cfg.validate()?;
    let mut out = geometric(page, cfg, rng);
    if rng.random_bool(cfg.crumple.0) && cfg.crumple.1 > 0.0 {
        out = crumple(&out, rng.random_range(0.5..=cfg.crumple.1), rng);
    }
    let img = &mut out.image;
    // The new degradations draw nothing when off, so older datasets stay byte-identical.
    if cfg.streaks.0 > 0.0 && cfg.streaks.1 > 0 && rng.random_bool(cfg.streaks.0) {
        let count = rng.random_range(1..=cfg.streaks.1);
        degrade::streaks(img, count, rng);
    }
    if cfg.stamp > 0.0 && rng.random_bool(cfg.stamp) {
        degrade::stamp(img, rng);
    }
    if cfg.fold.0 > 0.0 && cfg.fold.1 > 0.0 && rng.random_bool(cfg.fold.0) {
        let strength = rng.random_range(0.0..=cfg.fold.1);
        degrade::fold(img, strength, rng);
    }
    let (w, h) = (img.width() as f32, img.height() as f32);
    if rng.random_bool(cfg.fade.0) && cfg.fade.1 > 0.0 {
        // Thermal fade: ink lightened, more towards one side.
        let strength = rng.random_range(0.0..=cfg.fade.1);
        let from_left = rng.random_bool(0.5);
        for (x, _, p) in img.enumerate_pixels_mut() {
            let t = if from_left {
                x as f32 / w
            } else {
                1.0 - x as f32 / w
            };
            let v = f32::from(p.0[0]);
            p.0[0] = (v + (255.0 - v) * strength * t).round() as u8;
        }
    }
    if rng.random_bool(cfg.shadow.0) && cfg.shadow.1 > 0.0 {
        let strength = rng.random_range(0.0..=cfg.shadow.1);
        let angle = rng.random_range(0.0..std::f32::consts::TAU);
        let (dx, dy) = (angle.cos(), angle.sin());
        for (x, y, p) in img.enumerate_pixels_mut() {
            let t = ((x as f32 / w - 0.5) * dx + (y as f32 / h - 0.5) * dy + 0.5).clamp(0.0, 1.0);
            p.0[0] = (f32::from(p.0[0]) * (1.0 - strength * t)).round() as u8;
        }
    }
    let contrast = rng.random_range(cfg.contrast.0..=cfg.contrast.1);
    let brightness = rng.random_range(cfg.brightness.0..=cfg.brightness.1);
    let noise = if cfg.max_noise > 0.0 {
        rng.random_range(0.0..=cfg.max_noise)
    } else {
        0.0
    };
    if contrast != 1.0 || brightness != 0.0 || noise > 0.0 {
        for p in img.pixels_mut() {
            let mut v = (f32::from(p.0[0]) - 128.0) * contrast + 128.0 + brightness;
            if noise > 0.0 {
                // Box-Muller from two uniforms.
                let (u1, u2): (f32, f32) = (rng.random_range(f32::EPSILON..1.0), rng.random());
                v += noise * (-2.0 * u1.ln()).sqrt() * (std::f32::consts::TAU * u2).cos();
            }
            p.0[0] = v.round().clamp(0.0, 255.0) as u8;
        }
    }
    if cfg.low_resolution.0 > 0.0
        && cfg.low_resolution.1 < 1.0
        && rng.random_bool(cfg.low_resolution.0)
    {
        let scale = rng.random_range(cfg.low_resolution.1..=1.0);
        degrade::low_resolution(img, scale);
    }
    if rng.random_bool(cfg.blur.0) && cfg.blur.1 > 0.0 {
        let sigma = rng.random_range(0.0..=cfg.blur.1);
        if sigma > 0.05 {
            *img = image::imageops::blur(img, sigma);
        }
    }
    if let Some((lo, hi)) = cfg.jpeg_quality {
        let quality = rng.random_range(lo..=hi);
        let mut bytes = Cursor::new(Vec::new());
        let fail = |e: image::ImageError| Error::Image {
            path: "<jpeg round trip>".into(),
            reason: e.to_string(),
        };
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, quality)
            .encode_image(&*img)
            .map_err(fail)?;
        *img = image::load_from_memory_with_format(bytes.get_ref(), ImageFormat::Jpeg)
            .map_err(fail)?
            .to_luma8();
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn homography_round_trips() {
        let src = [(0.0, 0.0), (10.0, 0.0), (10.0, 20.0), (0.0, 20.0)];
        let dst = [(1.0, 2.0), (12.0, 1.0), (11.0, 23.0), (-1.0, 21.0)];
        let h = Homography::from_points(src, dst).unwrap();
        for (s, d) in src.iter().zip(&dst) {
            let (x, y) = h.apply(s.0, s.1);
            assert!((x - d.0).abs() < 1e-9 && (y - d.1).abs() < 1e-9);
        }
    }

    #[test]
    fn bad_ranges_are_refused() {
        let cfg = AugmentConfig {
            jpeg_quality: Some((90, 10)),
            ..AugmentConfig::default()
        };
        assert!(cfg.validate().is_err());
        let cfg = AugmentConfig {
            max_rotation_deg: 90.0,
            ..AugmentConfig::default()
        };
        assert!(cfg.validate().is_err());
        assert!(AugmentConfig::default().validate().is_ok());
    }
}

//! Degradations of printed and photographed receipts that SynthDoG's augmentations lack:
//! thermal print-head streaks, folds, ink stamps and low-resolution captures. Each
//! changes pixels only: the ground-truth polygons stay where they are.

use image::GrayImage;
use image::imageops::{FilterType, resize};
use rand::Rng;

/// Thermal print-head streaks: `count` vertical bands 1 to 3 pixels wide where the head's
/// dots printed weakly, the ink there lightened by 60 to 100%, evenly down the page.
pub(crate) fn streaks(image: &mut GrayImage, count: u32, rng: &mut impl Rng) {
    let (w, h) = (image.width(), image.height());
    for _ in 0..count {
        let x0 = rng.random_range(0..w);
        let width = rng.random_range(1..=3u32);
        let strength = rng.random_range(0.6f32..=1.0);
        for x in x0..(x0 + width).min(w) {
            for y in 0..h {
                let p = image.get_pixel_mut(x, y);
                let v = f32::from(p.0[0]);
                p.0[0] = (v + (255.0 - v) * strength).round() as u8;
            }
        }
    }
}

/// A fold across the page at a random height: a dark crease line and a shading band
/// on one side of it (the paper turned away from the light), `strength` the darkest
/// share (0 to 1).
pub(crate) fn fold(image: &mut GrayImage, strength: f32, rng: &mut impl Rng) {
    let (w, h) = (image.width(), image.height());
    if h < 8 {
        return;
    }
    let y0 = rng.random_range(h / 8..h - h / 8) as f32;
    let slope = rng.random_range(-0.05f32..0.05);
    let band = rng.random_range(8.0f32..30.0);
    let below = rng.random_bool(0.5);
    for (x, y, p) in image.enumerate_pixels_mut() {
        let d = y as f32 - (y0 + slope * (x as f32 - w as f32 / 2.0));
        let shade = if d.abs() < 1.0 {
            strength
        } else if (d > 0.0) == below && d.abs() < band {
            strength * 0.5 * (1.0 - d.abs() / band)
        } else {
            0.0
        };
        if shade > 0.0 {
            p.0[0] = (f32::from(p.0[0]) * (1.0 - shade)).round() as u8;
        }
    }
}

/// An ink stamp pressed over the page: two concentric rings and a bar across them,
/// in light-grey ink (a blue or red stamp seen in grey), anywhere on the page.
pub(crate) fn stamp(image: &mut GrayImage, rng: &mut impl Rng) {
    let (w, h) = (image.width() as f32, image.height() as f32);
    let r = rng.random_range(0.12f32..0.22) * w.min(h).max(40.0);
    let (cx, cy) = (rng.random_range(0.0..w), rng.random_range(0.0..h));
    let ink = rng.random_range(140.0f32..210.0);
    let angle = rng.random_range(-0.6f32..0.6);
    let (s, c) = angle.sin_cos();
    let x_range = ((cx - r - 1.0).max(0.0) as u32)..((cx + r + 1.0).min(w) as u32);
    let y_range = ((cy - r - 1.0).max(0.0) as u32)..((cy + r + 1.0).min(h) as u32);
    for y in y_range {
        for x in x_range.clone() {
            let (dx, dy) = (x as f32 + 0.5 - cx, y as f32 + 0.5 - cy);
            let d = (dx * dx + dy * dy).sqrt();
            // Rotated coordinates for the bar.
            let (u, v) = (dx * c + dy * s, -dx * s + dy * c);
            let on = (0.9 * r..=r).contains(&d)
                || (0.7 * r..=0.76 * r).contains(&d)
                || (d < 0.7 * r && v.abs() < 0.12 * r && u.abs() < 0.65 * r);
            if on {
                let p = image.get_pixel_mut(x, y);
                // Stamp ink multiplies with what is under it.
                p.0[0] = (f32::from(p.0[0]) * ink / 255.0).round() as u8;
            }
        }
    }
}

/// A low-resolution capture: the page scaled down by `scale` (0 to 1) and back up to its
/// size, both bilinear, so fine strokes blur into their neighbours as in a distant phone
/// photo.
pub(crate) fn low_resolution(image: &mut GrayImage, scale: f32) {
    let (w, h) = (image.width(), image.height());
    let small_w = ((w as f32 * scale).round() as u32).max(1);
    let small_h = ((h as f32 * scale).round() as u32).max(1);
    if (small_w, small_h) == (w, h) {
        return;
    }
    let small = resize(image, small_w, small_h, FilterType::Triangle);
    *image = resize(&small, w, h, FilterType::Triangle);
}

#[cfg(test)]
mod tests {
    use image::Luma;
    use rand::SeedableRng;

    use super::*;

    fn all_white(image: &GrayImage) -> bool {
        image.pixels().all(|p| *p == Luma([255]))
    }

    fn page() -> GrayImage {
        let mut image = GrayImage::from_pixel(200, 300, Luma([255]));
        for y in 100..120 {
            for x in 20..180 {
                image.put_pixel(x, y, Luma([0]));
            }
        }
        image
    }

    #[test]
    fn streaks_lighten_ink_and_leave_paper_white() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        let mut image = page();
        streaks(&mut image, 6, &mut rng);
        let lightened = (20..180)
            .filter(|&x| image.get_pixel(x, 110).0[0] > 100)
            .count();
        assert!(lightened > 0, "some ink columns lightened");
        let top = image::imageops::crop_imm(&image, 0, 0, 200, 90).to_image();
        assert!(all_white(&top), "paper stays white");
    }

    #[test]
    fn stamps_folds_and_low_resolution_change_pixels_only_as_asked() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(2);
        let mut image = page();
        stamp(&mut image, &mut rng);
        assert_ne!(image, page());
        let mut image = page();
        fold(&mut image, 0.5, &mut rng);
        assert!(image.pixels().any(|p| (1..255).contains(&p.0[0])));
        let mut image = page();
        low_resolution(&mut image, 1.0);
        assert_eq!(image, page(), "scale 1 keeps the page");
        low_resolution(&mut image, 0.3);
        assert_eq!(image.dimensions(), (200, 300));
        assert!(image.get_pixel(100, 99).0[0] < 255, "edges blur");
    }
}

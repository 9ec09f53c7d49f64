//! Line-image augmentation for recognizer training (PaddleOCR's `RecAug` in spirit): a
//! slight perspective distortion, blur, noise and contrast changes, so clean synthetic
//! renders look more like scanned and photographed receipts.

use image::RgbImage;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::rec::RecItem;
use crate::image_ops::{perspective_transform, warp_perspective_cubic};

/// One augmented copy of a line image, deterministic in `seed`.
pub fn augment_line(img: &RgbImage, seed: u64) -> RgbImage {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let (w, h) = (f64::from(img.width()), f64::from(img.height()));
    // Corners moved by up to 6% of the height: a slight tilt, shear or perspective.
    let j = 0.06 * h;
    let mut jitter = |p: [f64; 2]| {
        [
            p[0] + rng.random_range(-j..=j),
            p[1] + rng.random_range(-j..=j),
        ]
    };
    let src = [[0.0, 0.0], [w, 0.0], [w, h], [0.0, h]];
    let dst = src.map(&mut jitter);
    let mut out = perspective_transform(src, dst)
        .and_then(|m| warp_perspective_cubic(img, m, img.width(), img.height()))
        .unwrap_or_else(|| img.clone());
    if rng.random_bool(0.3) {
        out = image::imageops::blur(&out, rng.random_range(0.3..1.0));
    }
    let gain = rng.random_range(0.7f32..=1.2);
    let bias = rng.random_range(-30.0f32..=30.0);
    let sigma = rng.random_range(0.0f32..=8.0);
    for p in out.pixels_mut() {
        for v in &mut p.0 {
            // A uniform draw scaled to the wanted spread (cheap, bounded noise).
            let noise = (rng.random::<f32>() - 0.5) * 2.0 * sigma * 1.7;
            *v = (f32::from(*v) * gain + bias + noise).clamp(0.0, 255.0) as u8;
        }
    }
    out
}

/// Replaces each line by an augmented copy with probability `p` (deterministic in
/// `seed` and the line's position).
pub fn augment_lines(items: &mut [RecItem], p: f64, seed: u64) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    for (i, item) in items.iter_mut().enumerate() {
        if rng.random_bool(p.clamp(0.0, 1.0)) {
            item.image = augment_line(
                &item.image,
                seed ^ (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn augmentation_changes_pixels_keeps_the_size_and_repeats_with_the_seed() {
        let mut img = RgbImage::from_pixel(120, 32, image::Rgb([250, 250, 250]));
        for x in 20..100 {
            for y in 10..22 {
                img.put_pixel(x, y, image::Rgb([10, 10, 10]));
            }
        }
        let a = augment_line(&img, 5);
        assert_eq!(a.dimensions(), img.dimensions());
        assert_ne!(a, img);
        assert_eq!(a, augment_line(&img, 5));
        assert_ne!(a, augment_line(&img, 6));
        // Still dark text on a light ground in the middle.
        assert!(a.get_pixel(60, 16).0[0] < 120 && a.get_pixel(60, 2).0[0] > 150);
    }
}

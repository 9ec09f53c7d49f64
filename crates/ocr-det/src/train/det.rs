//! Fine-tuning the detector: labelled pages, random crops with colour jitter, DB targets,
//! the DB loss (`5 * shrink-map loss + 10 * masked L1 on the threshold map + dice on the
//! approximate binary map`; the shrink-map loss dice, as PaddleOCR's PP-OCRv4 detector
//! config has it, or the DB paper's balanced BCE with 3:1 hard negatives that
//! `REFERENCES.md` states: [`ShrinkLoss`]), and the training step.
//!
//! PP-OCRv4's inference model has only the probability branch of the DB head; training
//! needs the threshold branch too. [`DbTrainNet`] adds it with the probability branch's
//! architecture and starts it from that branch's weights.

use std::path::Path;
use std::sync::Arc;

use burn::module::Module;
use burn::tensor::activation::sigmoid;
use burn::tensor::{Device, Tensor, TensorData};
use image::RgbImage;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use whet_core::data::paddle::{DetBox, read_det_labels};
use whet_core::geom::TextRegion;
use whet_core::train::StepOutput;

use super::db_labels::{DbLabelConfig, db_targets};
use crate::det::{DbHead, DbNet};
use crate::error::Result;
use crate::image_ops::resize_bilinear;

/// One page and its text regions (ignored ones are PaddleOCR's `###`).
#[derive(Debug, Clone, PartialEq)]
pub struct DetItem {
    /// The page.
    pub image: RgbImage,
    /// Its text regions.
    pub regions: Vec<TextRegion>,
}

impl DetItem {
    /// The pages `regions` names (image paths relative to `dir`) with their regions.
    ///
    /// # Errors
    /// [`crate::Error::Image`] when an image cannot be read.
    pub fn open_all<'a>(
        dir: &Path,
        regions: impl IntoIterator<Item = (&'a String, &'a Vec<TextRegion>)>,
    ) -> Result<Vec<Self>> {
        regions
            .into_iter()
            .map(|(name, r)| Self::open(dir.join(name), r.clone()))
            .collect()
    }

    /// The page at `path` with its regions.
    ///
    /// # Errors
    /// [`crate::Error::Image`] when the image cannot be read.
    pub fn open(path: impl AsRef<Path>, regions: Vec<TextRegion>) -> Result<Self> {
        Ok(DetItem {
            image: super::open_image(path.as_ref())?,
            regions,
        })
    }
}

/// Reads a PaddleOCR detection label file (`Label.txt` / `det_gt.txt`) and the images it
/// names, relative to the file's folder.
///
/// # Errors
/// [`crate::Error::Core`] for a malformed line (file and line named),
/// [`crate::Error::Image`] for an image that cannot be read.
pub fn load_det_labels(label_file: impl AsRef<Path>) -> Result<Vec<DetItem>> {
    let label_file = label_file.as_ref();
    let root = label_file.parent().unwrap_or(Path::new("."));
    read_det_labels(label_file)?
        .into_iter()
        .map(|s| {
            let path = root.join(&s.image);
            let image = super::open_image(&path)?;
            let regions = s.boxes.iter().map(DetBox::region).collect();
            Ok(DetItem { image, regions })
        })
        .collect()
}

/// How training crops are made.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DetAugment {
    /// Crop side (PaddleOCR: 640).
    pub size: u32,
    /// The page is first scaled so its longer side is this many times `size`, drawn
    /// uniformly from the range; with `reading_scale`, this many times the scale the
    /// pipeline reads it at.
    pub scale: (f32, f32),
    /// Scale pages relative to how the pipeline reads them: rapidocr's sizing (longer side
    /// at most `.1`, then shorter side at least `.0`; 736 and 2,000 by default), so the
    /// detector trains on text of the sizes it will see. `None`: relative to `size`.
    #[serde(default)]
    pub reading_scale: Option<(u32, u32)>,
    /// Brightness and contrast jitter (fraction, 0 for none).
    pub colour: f32,
    /// Largest rotation in degrees, drawn uniformly from `-rotate..=rotate` (PaddleOCR's
    /// `IaaAugment` rotates by up to 10); 0 for none.
    pub rotate: f32,
}

impl Default for DetAugment {
    fn default() -> Self {
        DetAugment {
            size: 640,
            scale: (1.0, 2.0),
            reading_scale: None,
            colour: 0.2,
            rotate: 10.0,
        }
    }
}

impl DetAugment {
    /// Crops at 0.7 to 1.3 times the scale `Ocr::read` reads the page at (rapidocr's
    /// defaults: longer side at most 2,000, shorter side at least 736), rotated up to 10
    /// degrees, colour-jittered. Scaling to a fixed crop size instead (the default) trains
    /// a detector on receipts of 1,000 x 2,000 pixels at half the size it reads them.
    pub fn at_reading_scale() -> Self {
        DetAugment {
            scale: (0.7, 1.3),
            reading_scale: Some((736, 2000)),
            ..DetAugment::default()
        }
    }
}

/// Where `p` goes when the image is turned `degrees` (clockwise on screen) about `centre`.
fn rotate_point(p: [f64; 2], degrees: f32, centre: [f64; 2]) -> [f64; 2] {
    let r = f64::from(degrees).to_radians();
    let (c, s) = (r.cos(), r.sin());
    let (x, y) = (p[0] - centre[0], p[1] - centre[1]);
    [c * x - s * y + centre[0], s * x + c * y + centre[1]]
}

/// `img` turned `degrees` (clockwise on screen) about its centre, on a white canvas of the
/// same size (bilinear); [`rotate_point`] moves points alike.
fn rotate_about_centre(img: &RgbImage, degrees: f32) -> RgbImage {
    let (w, h) = (img.width(), img.height());
    let (c, s) = {
        let r = f64::from(degrees).to_radians();
        (r.cos(), r.sin())
    };
    let (cx, cy) = (f64::from(w) / 2.0, f64::from(h) / 2.0);
    let mut out = RgbImage::from_pixel(w, h, image::Rgb([255, 255, 255]));
    for y in 0..h {
        for x in 0..w {
            // The source of this pixel's centre: the inverse rotation.
            let (dx, dy) = (f64::from(x) + 0.5 - cx, f64::from(y) + 0.5 - cy);
            let (sx, sy) = (c * dx + s * dy + cx - 0.5, -s * dx + c * dy + cy - 0.5);
            let (x0, y0) = (sx.floor(), sy.floor());
            let (fx, fy) = ((sx - x0) as f32, (sy - y0) as f32);
            let mut acc = [0f32; 3];
            for (ox, oy, wgt) in [
                (0, 0, (1.0 - fx) * (1.0 - fy)),
                (1, 0, fx * (1.0 - fy)),
                (0, 1, (1.0 - fx) * fy),
                (1, 1, fx * fy),
            ] {
                let (px, py) = (x0 as i64 + ox, y0 as i64 + oy);
                let v = if (0..i64::from(w)).contains(&px) && (0..i64::from(h)).contains(&py) {
                    img.get_pixel(px as u32, py as u32).0
                } else {
                    [255; 3]
                };
                for k in 0..3 {
                    acc[k] += wgt * f32::from(v[k]);
                }
            }
            out.put_pixel(
                x,
                y,
                image::Rgb(acc.map(|v| v.round().clamp(0.0, 255.0) as u8)),
            );
        }
    }
    out
}

/// A page drawn for training: scaled, rotated (white corners), cropped to `size x size`
/// (padded with white when smaller), colour-jittered, with its polygons moved alike.
/// Deterministic in `seed`.
pub fn det_crop(item: &DetItem, aug: &DetAugment, seed: u64) -> DetItem {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let (w, h) = (item.image.width(), item.image.height());
    let draw = rng.random_range(aug.scale.0..=aug.scale.1.max(aug.scale.0));
    let s = match aug.reading_scale {
        Some((min_side, max_side)) => {
            let shrink = (max_side as f32 / w.max(h) as f32).min(1.0);
            let read = (min_side as f32 / (w.min(h) as f32 * shrink)).max(1.0) * shrink;
            read * draw
        }
        None => aug.size as f32 * draw / w.max(h) as f32,
    };
    let (sw, sh) = (
        ((w as f32 * s).round() as u32).max(1),
        ((h as f32 * s).round() as u32).max(1),
    );
    let scaled = resize_bilinear(&item.image, sw, sh);
    let angle = if aug.rotate > 0.0 {
        rng.random_range(-aug.rotate..=aug.rotate)
    } else {
        0.0
    };
    let scaled = if angle == 0.0 {
        scaled
    } else {
        rotate_about_centre(&scaled, angle)
    };
    let centre = [f64::from(sw) / 2.0, f64::from(sh) / 2.0];
    let ox = rng.random_range(0..=sw.saturating_sub(aug.size));
    let oy = rng.random_range(0..=sh.saturating_sub(aug.size));
    let mut out = RgbImage::from_pixel(aug.size, aug.size, image::Rgb([255, 255, 255]));
    let (gain, bias) = (
        1.0 + rng.random_range(-aug.colour..=aug.colour),
        255.0 * rng.random_range(-aug.colour..=aug.colour) * 0.5,
    );
    for y in 0..aug.size.min(sh - oy) {
        for x in 0..aug.size.min(sw - ox) {
            let p = scaled.get_pixel(x + ox, y + oy);
            out.put_pixel(
                x,
                y,
                image::Rgb(p.0.map(|v| (f32::from(v) * gain + bias).clamp(0.0, 255.0) as u8)),
            );
        }
    }
    let regions = item
        .regions
        .iter()
        .map(|region| {
            let moved: Vec<[f64; 2]> = region
                .polygon
                .points
                .iter()
                .map(|q| {
                    let r = rotate_point([q[0] * f64::from(s), q[1] * f64::from(s)], angle, centre);
                    [r[0] - f64::from(ox), r[1] - f64::from(oy)]
                })
                .collect();
            TextRegion {
                polygon: whet_core::geom::Polygon::new(moved),
                ..region.clone()
            }
        })
        // Keep what the crop shows (db_targets clips polygons to the image).
        .filter(|r| {
            let inside = |v: f64| (0.0..f64::from(aug.size)).contains(&v);
            let p = &r.polygon.points;
            p.iter().any(|q| inside(q[0])) && p.iter().any(|q| inside(q[1]))
        })
        .collect();
    DetItem {
        image: out,
        regions,
    }
}

/// A detector training batch: images and the DB targets, `[N, H, W]` each.
#[derive(Debug, Clone)]
pub struct DetBatch {
    /// Normalised BGR images `[N, 3, H, W]`.
    pub images: Tensor<4>,
    /// Shrink map.
    pub shrink: Tensor<3>,
    /// Shrink mask.
    pub shrink_mask: Tensor<3>,
    /// Threshold map.
    pub thresh: Tensor<3>,
    /// Threshold mask.
    pub thresh_mask: Tensor<3>,
    /// Text pixels counted by the mask (positives of the balanced BCE).
    pub positives: usize,
    /// Hard negatives kept: `min(negatives, 3 * positives)`.
    pub negatives: usize,
}

/// Builds a batch from pages of equal size (`det_crop`'s output).
pub fn det_batch(items: &[DetItem], labels: &DbLabelConfig, device: &Device) -> DetBatch {
    let (w, h) = items.first().map_or((32, 32), |i| {
        (i.image.width() as usize, i.image.height() as usize)
    });
    let n = items.len();
    let mut x = Vec::with_capacity(n * 3 * w * h);
    let (mut s, mut sm, mut t, mut tm) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut pos, mut neg) = (0f64, 0f64);
    for item in items {
        x.extend(crate::ocr::to_input(&item.image, w));
        let target = db_targets(w, h, &item.regions, labels);
        for (g, m) in target.shrink.iter().zip(&target.shrink_mask) {
            pos += f64::from(g * m);
            neg += f64::from((1.0 - g) * m);
        }
        s.extend(target.shrink);
        sm.extend(target.shrink_mask);
        t.extend(target.thresh);
        tm.extend(target.thresh_mask);
    }
    let map = |v: Vec<f32>| Tensor::<3>::from_data(TensorData::new(v, [n, h, w]), device);
    let positives = pos as usize;
    DetBatch {
        images: Tensor::from_data(TensorData::new(x, [n, 3, h, w]), device),
        shrink: map(s),
        shrink_mask: map(sm),
        thresh: map(t),
        thresh_mask: map(tm),
        positives,
        negatives: (neg as usize).min(positives * 3),
    }
}

/// The loss on the probability (shrink) map.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum ShrinkLoss {
    /// Dice, as PaddleOCR's PP-OCRv4 detector config trains it (`DBLoss` with
    /// `main_loss_type: DiceLoss`; its `BalanceLoss` then reduces to the dice itself):
    /// indifferent to the soft fringe the pretrained map has around each kernel.
    #[default]
    Dice,
    /// Balanced BCE with 3:1 hard negatives (the DB paper's): the hardest negatives are that
    /// fringe, so it thins a pretrained map until unclipped boxes fall short of the lines.
    BalancedBce,
}

/// The detector with the DB head's threshold branch, for training.
#[derive(Module, Debug)]
pub struct DbTrainNet {
    /// The detector (its head is the probability branch).
    pub net: DbNet,
    /// The threshold branch.
    pub thresh: DbHead,
    /// The loss on the probability map.
    #[module(skip)]
    pub shrink_loss: ShrinkLoss,
}

impl DbTrainNet {
    /// Adds a threshold branch to `net`, started from its probability branch's weights.
    pub fn new(net: DbNet) -> Self {
        let thresh = net.head.clone();
        DbTrainNet {
            net,
            thresh,
            shrink_loss: ShrinkLoss::default(),
        }
    }

    /// `[N, 3, H, W]` -> probability and threshold maps, `[N, 1, H, W]` each.
    ///
    /// The threshold branch reads the neck's features detached: it is new, and its early
    /// errors (weighted 10 in the loss) would otherwise reshape the pretrained features the
    /// probability branch depends on.
    pub fn forward(&self, x: Tensor<4>) -> (Tensor<4>, Tensor<4>) {
        let f = self.net.neck.forward(self.net.backbone.forward(x));
        (
            self.net.head.forward(f.clone()),
            self.thresh.forward(f.detach()),
        )
    }
}

/// The DB loss of probability and threshold maps `[N, 1, H, W]` against a batch's
/// targets, and its three parts `(shrink, l1, dice)` as numbers: `5 * shrink + 10 * l1 +
/// dice`, the shrink-map term as `shrink_loss` says. `k` is the binarisation steepness (50).
pub fn db_loss(
    prob: Tensor<4>,
    thresh: Tensor<4>,
    batch: &DetBatch,
    k: f64,
    shrink_loss: ShrinkLoss,
) -> (Tensor<1>, [f64; 3]) {
    let eps = 1e-6;
    let p: Tensor<3> = prob.squeeze_dim(1);
    let t: Tensor<3> = thresh.squeeze_dim(1);
    let (gt, mask) = (batch.shrink.clone(), batch.shrink_mask.clone());
    let shrink = match shrink_loss {
        ShrinkLoss::Dice => {
            let inter = (p.clone() * gt.clone() * mask.clone()).sum();
            let union = (p.clone() * mask.clone()).sum() + (gt.clone() * mask.clone()).sum() + eps;
            (inter * 2.0 / union).neg() + 1.0
        }
        ShrinkLoss::BalancedBce => balanced_bce(p.clone(), batch),
    };
    // Masked L1 on the threshold map.
    let l1 = (t.clone() - batch.thresh.clone()).abs() * batch.thresh_mask.clone();
    let l1_loss = l1.sum() / (batch.thresh_mask.clone().sum() + eps);
    // Dice on the approximate binary map 1 / (1 + exp(-k (P - T))). It trains the
    // threshold branch only: the threshold branch starts as a copy of the probability
    // branch (T = P, the binary map 0.5 everywhere), so its early gradients through P,
    // steepened k times, are noise that reshapes the pretrained probability map the
    // pipeline reads; P learns from the BCE term alone.
    let binary = sigmoid((p.detach() - t) * k);
    let inter = (binary.clone() * gt.clone() * mask.clone()).sum();
    let union = (binary * mask.clone()).sum() + (gt * mask).sum() + eps;
    let dice = (inter * 2.0 / union).neg() + 1.0;
    let parts = [&shrink, &l1_loss, &dice].map(|x| f64::from(x.clone().into_scalar::<f32>()));
    (shrink * 5.0 + l1_loss * 10.0 + dice, parts)
}

/// Balanced BCE with online hard-negative mining (3:1) on the probability map `[N, H, W]`.
fn balanced_bce(p: Tensor<3>, batch: &DetBatch) -> Tensor<1> {
    let eps = 1e-6;
    let (gt, mask) = (batch.shrink.clone(), batch.shrink_mask.clone());
    let pc = p.clone().clamp(1e-6, 1.0 - 1e-6);
    let bce =
        (gt.clone() * pc.clone().log() + (gt.clone().neg() + 1.0) * (pc.neg() + 1.0).log()).neg();
    let positive = gt.clone() * mask.clone();
    let negative = (gt.clone().neg() + 1.0) * mask.clone();
    let negative_loss = bce.clone() * negative;
    // The hardest `negatives` negatives: a cut found on the host, applied as a mask.
    let cut = {
        let mut v: Vec<f32> = negative_loss
            .clone()
            .into_data()
            .try_to_vec::<f32>()
            // A training step cannot return an error: a lost device ends the process,
            // which resumes from its last checkpoint.
            .expect("reading the DB loss's negatives back from the device");
        let kth = batch.negatives.min(v.len());
        if kth == 0 {
            f32::INFINITY
        } else {
            let (_, nth, _) = v.select_nth_unstable_by(kth - 1, |a, b| b.total_cmp(a));
            *nth
        }
    };
    let hard = negative_loss.clone().greater_equal_elem(cut).float()
        * negative_loss.clone().greater_elem(0.0).float();
    ((bce * positive).sum() + (negative_loss * hard).sum())
        / (batch.positives as f64 + batch.negatives as f64 + eps)
}

/// The training step: the DB loss of a batch, its parts logged as metrics.
pub fn det_step(model: &DbTrainNet, batch: DetBatch) -> StepOutput {
    let (p, t) = model.forward(batch.images.clone());
    let (loss, [shrink, l1, dice]) = db_loss(p, t, &batch, 50.0, model.shrink_loss);
    StepOutput::new(loss)
        .with_metric("shrink", shrink)
        .with_metric("l1", l1)
        .with_metric("dice", dice)
}

/// Training samples: every page `repeats` times, each with its own augmentation seed.
pub fn det_samples(items: Vec<DetItem>, repeats: usize, seed: u64) -> Vec<(Arc<DetItem>, u64)> {
    let items: Vec<Arc<DetItem>> = items.into_iter().map(Arc::new).collect();
    (0..repeats.max(1))
        .flat_map(|r| {
            items.iter().enumerate().map(move |(i, it)| {
                (
                    Arc::clone(it),
                    seed ^ ((r as u64) << 32 | i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15),
                )
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page() -> DetItem {
        let mut image = RgbImage::from_pixel(64, 64, image::Rgb([255, 255, 255]));
        for y in 20..34 {
            for x in 8..56 {
                image.put_pixel(x, y, image::Rgb([0, 0, 0]));
            }
        }
        let regions = vec![TextRegion::new(
            whet_core::geom::Polygon::rect(8.0, 20.0, 56.0, 34.0),
            "",
        )];
        DetItem { image, regions }
    }

    #[test]
    fn the_db_loss_is_small_at_the_targets_and_large_at_their_opposite() {
        let device = Device::flex();
        let batch = det_batch(&[page()], &DbLabelConfig::default(), &device);
        assert!(batch.positives > 100 && batch.negatives == 3 * batch.positives);
        let as_map = |t: Tensor<3>| t.unsqueeze_dim::<4>(1);
        for shrink_loss in [ShrinkLoss::Dice, ShrinkLoss::BalancedBce] {
            // The targets themselves (probabilities of exactly 0 and 1 are clamped).
            let (good, parts) = db_loss(
                as_map(batch.shrink.clone()),
                as_map(batch.thresh.clone()),
                &batch,
                50.0,
                shrink_loss,
            );
            let good = good.into_scalar::<f32>();
            assert!(parts[1] < 1e-6, "threshold L1 {}", parts[1]);
            let wrong = as_map(batch.shrink.clone().neg() + 1.0);
            let (bad, bad_parts) = db_loss(
                wrong,
                as_map(batch.thresh.clone()),
                &batch,
                50.0,
                shrink_loss,
            );
            let bad = bad.into_scalar::<f32>();
            assert!(
                good < 0.05 && bad > 5.0 && bad_parts[0] > 0.9,
                "{shrink_loss:?}: good {good}, bad {bad} ({bad_parts:?})"
            );
        }
    }

    #[test]
    fn crops_keep_their_polygons_with_the_pixels() {
        let item = page();
        let aug = DetAugment {
            size: 48,
            scale: (1.0, 1.0),
            reading_scale: None,
            colour: 0.0,
            rotate: 0.0,
        };
        let crop = det_crop(&item, &aug, 3);
        assert_eq!(crop.image.dimensions(), (48, 48));
        // Scaled by 48/64: the box's top-left corner moves to (6, 15) minus the offset (0).
        let p = &crop.regions[0].polygon.points;
        assert!(
            (p[0][0] - 6.0).abs() < 1e-9 && (p[0][1] - 15.0).abs() < 1e-9,
            "{p:?}"
        );
        assert_eq!(crop.image.get_pixel(20, 20).0, [0, 0, 0]);
        assert_eq!(crop.image.get_pixel(20, 5).0, [255, 255, 255]);
        assert_eq!(det_crop(&item, &aug, 3), crop);
    }

    #[test]
    fn reading_scale_crops_show_text_at_the_size_the_pipeline_reads_it() {
        let item = page();
        let width = |aug: &DetAugment| {
            let p = &det_crop(&item, aug, 5).regions[0].polygon.points;
            p[1][0] - p[0][0]
        };
        // Shorter side raised to 96: the 48-pixel box is read 72 wide.
        let aug = DetAugment {
            size: 48,
            scale: (1.0, 1.0),
            reading_scale: Some((96, 2000)),
            colour: 0.0,
            rotate: 0.0,
        };
        assert!((width(&aug) - 72.0).abs() < 1e-9, "{}", width(&aug));
        // Longer side capped at 32 (and the shorter one already at least 16): half size.
        let aug = DetAugment {
            reading_scale: Some((16, 32)),
            ..aug
        };
        assert!((width(&aug) - 24.0).abs() < 1e-9, "{}", width(&aug));
    }

    #[test]
    fn rotated_crops_move_their_polygons_with_the_pixels() {
        let item = page();
        let aug = DetAugment {
            size: 64,
            scale: (1.0, 1.0),
            reading_scale: None,
            colour: 0.0,
            rotate: 30.0,
        };
        for seed in 0..8 {
            let crop = det_crop(&item, &aug, seed);
            let p = &crop.regions[0].polygon.points;
            // The box's centre is still black, the page's corners white (turned in).
            let (cx, cy) = (
                p.iter().map(|q| q[0]).sum::<f64>() / 4.0,
                p.iter().map(|q| q[1]).sum::<f64>() / 4.0,
            );
            assert_eq!(
                crop.image.get_pixel(cx as u32, cy as u32).0,
                [0, 0, 0],
                "seed {seed}"
            );
            // Its corners are still a rectangle of the original size (a rotation).
            let d =
                |a: [f64; 2], b: [f64; 2]| ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)).sqrt();
            let (w0, h0) = (
                d(
                    item.regions[0].polygon.points[0],
                    item.regions[0].polygon.points[1],
                ),
                d(
                    item.regions[0].polygon.points[1],
                    item.regions[0].polygon.points[2],
                ),
            );
            assert!((d(p[0], p[1]) - w0).abs() < 1e-9 && (d(p[1], p[2]) - h0).abs() < 1e-9);
        }
        let turned = (0..8).filter(|&seed| {
            let p = &det_crop(&item, &aug, seed).regions[0].polygon.points;
            (p[0][1] - p[1][1]).abs() > 1.0
        });
        assert!(turned.count() >= 6, "rotation hardly ever applied");
    }
}

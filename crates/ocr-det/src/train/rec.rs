//! Fine-tuning the recognizer: labelled line images, batches grouped by width, the CTC
//! loss as PaddleOCR computes it (`CTCLoss`: per-line loss from log-softmax, mean over the
//! batch), and the training step for whet-core's Trainer.

use std::path::Path;

use burn::tensor::activation::log_softmax;
use burn::tensor::{Device, Int, Tensor, TensorData};
use image::RgbImage;
use whet_core::train::StepOutput;

use crate::dict::CharDict;
use crate::error::Result;
use crate::image_ops::resize_bilinear;
use crate::ocr::to_input;
use crate::rec::SvtrRecognizer;

/// One text-line image and its text.
#[derive(Debug, Clone, PartialEq)]
pub struct RecItem {
    /// The line, cropped.
    pub image: RgbImage,
    /// What it says.
    pub text: String,
}

impl RecItem {
    /// The lines of a labelled page, each cut out upright as the pipeline cuts detected
    /// lines ([`Ocr::crop`](crate::Ocr::crop)); ignored regions, those that are not
    /// quadrilaterals and degenerate ones are left out.
    pub fn crops(page: &RgbImage, regions: &[whet_core::geom::TextRegion]) -> Vec<RecItem> {
        regions
            .iter()
            .filter(|r| !r.ignore)
            .filter_map(|r| {
                let quad = r.polygon.quad_f32()?;
                Some(RecItem {
                    image: crate::Ocr::crop(page, &quad)?,
                    text: r.text.clone(),
                })
            })
            .collect()
    }
}

impl RecItem {
    /// The lines of a labelled page as the pipeline will see them: `ocr`'s detector runs
    /// on the page, each detected box matched one-to-one to an annotated line (IoU at
    /// least `min_iou`, best first, as the end-to-end evaluation pairs them) is cut as
    /// [`Ocr::read`](crate::Ocr::read) cuts it and labelled with the annotation's text;
    /// annotated lines no box matches are cut from their own polygon ([`RecItem::crops`]).
    ///
    /// Annotated boxes are usually tighter than the detector's (DB grows its regions by
    /// 1.6x their area over perimeter), so crops cut from them alone teach the recognizer
    /// margins it never sees when reading.
    ///
    /// # Errors
    /// As [`Ocr::detect_lines`](crate::Ocr::detect_lines).
    pub fn detected(
        ocr: &crate::Ocr,
        page: &RgbImage,
        regions: &[whet_core::geom::TextRegion],
        min_iou: f64,
    ) -> Result<Vec<RecItem>> {
        let (boxes, mut crops): (Vec<_>, Vec<_>) = ocr
            .detect_lines(page)?
            .into_iter()
            .map(|(p, crop)| (whet_core::geom::TextRegion::new(p, ""), crop))
            .unzip();
        let mut matched = vec![false; regions.len()];
        let mut items = Vec::with_capacity(regions.len());
        for m in whet_eval_metrics::ocr::match_lines(regions, &boxes, min_iou) {
            // Matches are one-to-one: each crop is taken once.
            if let Some(image) = crops[m.pred].take() {
                matched[m.truth] = true;
                items.push(RecItem {
                    image,
                    text: regions[m.truth].text.clone(),
                });
            }
        }
        let rest: Vec<whet_core::geom::TextRegion> = regions
            .iter()
            .zip(&matched)
            .filter(|(_, m)| !**m)
            .map(|(r, _)| r.clone())
            .collect();
        items.extend(RecItem::crops(page, &rest));
        Ok(items)
    }
}

/// Reads a PaddleOCR recognition label file (`rec_gt.txt`: `crop<TAB>text` per line) and
/// the images it names, relative to the file's folder.
///
/// # Errors
/// [`crate::Error::Core`] for a malformed line (file and line named),
/// [`crate::Error::Image`] for an image that cannot be read.
pub fn load_rec_labels(label_file: impl AsRef<Path>) -> Result<Vec<RecItem>> {
    let label_file = label_file.as_ref();
    let root = label_file.parent().unwrap_or(Path::new("."));
    whet_core::data::paddle::read_rec_labels(label_file)?
        .into_iter()
        .map(|s| {
            let path = root.join(&s.image);
            let image = super::open_image(&path)?;
            Ok(RecItem {
                image,
                text: s.text,
            })
        })
        .collect()
}

/// How line images become recognizer input.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RecShape {
    /// Input height (48 for PP-OCRv4).
    pub height: u32,
    /// Narrowest input width (PaddleOCR trains at 320).
    pub min_width: u32,
    /// Widest input width: wider lines are squeezed to it.
    pub max_width: u32,
}

impl Default for RecShape {
    fn default() -> Self {
        RecShape {
            height: 48,
            min_width: 320,
            max_width: 960,
        }
    }
}

impl RecShape {
    /// The width `img` is resized to at this height (aspect kept, at most `max_width`).
    pub fn width_of(&self, img: &RgbImage) -> u32 {
        let w = (f64::from(self.height) * f64::from(img.width()) / f64::from(img.height().max(1)))
            .ceil() as u32;
        w.clamp(1, self.max_width)
    }

    /// CTC time steps for an input this wide: the recognizer emits one per 8 pixels.
    pub fn steps(width: u32) -> usize {
        (width / 8) as usize
    }
}

/// Why samples were left out of training.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Skipped {
    /// Lines whose text has no character the dictionary knows.
    pub empty: usize,
    /// Lines too long for their image's CTC steps (text plus repeats longer than `W / 8`).
    pub too_long: usize,
    /// Characters left out because the dictionary lacks them, with their counts.
    pub unknown: Vec<(char, usize)>,
}

/// Groups lines into batches of similar width (PaddleOCR's width-bucketed sampling): lines
/// sorted by aspect ratio and cut into runs of `batch_size`, so little of each batch is
/// padding. Lines whose text cannot be learned (nothing encodable, or longer than the
/// CTC steps allow) are left out and counted.
pub fn width_batches(
    items: &[RecItem],
    dict: &CharDict,
    shape: RecShape,
    batch_size: usize,
) -> (Vec<Vec<RecItem>>, Skipped) {
    let mut skipped = Skipped::default();
    let mut unknown = std::collections::BTreeMap::<char, usize>::new();
    let mut kept: Vec<(u32, &RecItem)> = Vec::new();
    for item in items {
        let (classes, missing) = dict.encode(&item.text);
        for c in missing {
            *unknown.entry(c).or_default() += 1;
        }
        if classes.is_empty() {
            skipped.empty += 1;
            continue;
        }
        let repeats = classes.windows(2).filter(|w| w[0] == w[1]).count();
        let width = shape.width_of(&item.image).max(shape.min_width);
        if classes.len() + repeats > RecShape::steps(width) {
            skipped.too_long += 1;
            continue;
        }
        kept.push((shape.width_of(&item.image), item));
    }
    skipped.unknown = unknown.into_iter().collect();
    kept.sort_by_key(|(w, _)| *w);
    let batches = kept
        .chunks(batch_size.max(1))
        .map(|c| c.iter().map(|(_, i)| (*i).clone()).collect())
        .collect();
    (batches, skipped)
}

/// A recognizer training batch.
#[derive(Debug, Clone)]
pub struct RecBatch {
    /// Normalised BGR images `[N, 3, height, W]`, padded with zeros to the widest.
    pub images: Tensor<4>,
    /// Target classes `[N, L]` (padded with 0).
    pub targets: Tensor<2, Int>,
    /// Target lengths `[N]`.
    pub target_lengths: Tensor<1, Int>,
}

/// Builds a batch from lines (all of one [`width_batches`] group, or any lines): each
/// resized to the shape's height keeping its aspect, normalised as at inference, padded
/// to the widest (a multiple of 8, at least `min_width`).
pub fn rec_batch(items: &[RecItem], dict: &CharDict, shape: RecShape, device: &Device) -> RecBatch {
    let widths: Vec<u32> = items.iter().map(|i| shape.width_of(&i.image)).collect();
    let width = widths
        .iter()
        .copied()
        .max()
        .unwrap_or(shape.min_width)
        .max(shape.min_width)
        .div_ceil(8)
        * 8;
    let h = shape.height;
    let mut x = Vec::with_capacity(items.len() * 3 * h as usize * width as usize);
    let encoded: Vec<Vec<usize>> = items.iter().map(|i| dict.encode(&i.text).0).collect();
    for (item, &w) in items.iter().zip(&widths) {
        x.extend(to_input(
            &resize_bilinear(&item.image, w, h),
            width as usize,
        ));
    }
    let max_len = encoded.iter().map(Vec::len).max().unwrap_or(0).max(1);
    let mut targets = vec![0i64; items.len() * max_len];
    for (k, e) in encoded.iter().enumerate() {
        for (j, &c) in e.iter().enumerate() {
            targets[k * max_len + j] = c as i64;
        }
    }
    let lengths: Vec<i64> = encoded.iter().map(|e| e.len() as i64).collect();
    let n = items.len();
    RecBatch {
        images: Tensor::from_data(
            TensorData::new(x, [n, 3, h as usize, width as usize]),
            device,
        ),
        targets: Tensor::from_data(TensorData::new(targets, [n, max_len]), device),
        target_lengths: Tensor::from_data(TensorData::new(lengths, [n]), device),
    }
}

/// PaddleOCR's `CTCLoss`: the CTC loss of each line from the log-softmax of the logits
/// `[N, T, C]` (blank 0, every line using all `T` steps), averaged over the batch
/// (not divided by target length). `[1]`.
pub fn ctc_loss(
    logits: Tensor<3>,
    targets: Tensor<2, Int>,
    target_lengths: Tensor<1, Int>,
) -> Tensor<1> {
    let [n, t, _] = logits.dims();
    let device = logits.device();
    let log_probs = log_softmax(logits, 2).swap_dims(0, 1);
    let input_lengths =
        Tensor::<1, Int>::from_data(TensorData::new(vec![t as i64; n], [n]), &device);
    burn::tensor::module::ctc_loss(log_probs, targets, input_lengths, target_lengths, 0).mean()
}

/// The training step: CTC loss of a batch.
pub fn rec_step(model: &SvtrRecognizer, batch: RecBatch) -> StepOutput {
    let logits = model.logits(batch.images);
    StepOutput::new(ctc_loss(logits, batch.targets, batch.target_lengths))
}

/// Knowledge distillation from a teacher's logits (Hinton et al., 2015; used against
/// forgetting as in "Learning without Forgetting", Li and Hoiem, 2016): the mean over
/// lines and time steps of `KL(teacher || student)` between the temperature-softened
/// class distributions, times `temperature^2` so its gradients keep their scale.
///
/// `student`: `[N, T, C_s]`, `teacher`: `[N, T, C_t]` with `C_t <= C_s`: a student whose
/// dictionary grew ([`CharDict::with_chars`] inserts the new characters before the
/// trailing space, PaddleOCR's layout: blank, dictionary, space) is compared on the
/// teacher's classes — its first `C_t - 1` and its last — its distribution renormalised
/// over them. `[1]`.
pub fn distill_loss(student: Tensor<3>, teacher: Tensor<3>, temperature: f64) -> Tensor<1> {
    let [n, t, c] = teacher.dims();
    let c_s = student.dims()[2];
    let student = if c_s == c {
        student
    } else {
        // The added classes sit between the teacher's last dictionary entry and the space.
        Tensor::cat(
            vec![
                student.clone().narrow(2, 0, c - 1),
                student.narrow(2, c_s - 1, 1),
            ],
            2,
        )
    };
    let log_t = log_softmax(teacher.detach() / temperature, 2);
    let log_s = log_softmax(student / temperature, 2);
    let kl = (log_t.clone().exp() * (log_t - log_s)).sum();
    kl * (temperature * temperature / (n * t) as f64)
}

/// A recognizer training step that also keeps the model close to a teacher (usually the
/// pretrained recognizer, frozen): `ctc + weight * distill_loss(student, teacher)`.
///
/// CTC on new data alone pushes down every class that data lacks: fine-tuned on synthetic
/// Philippine receipts, PP-OCRv4 began reading the `M` of real Malaysian receipts as `N`,
/// `@` as `0`, `O` as `0`. The teacher's soft outputs on the same lines carry what it knew
/// about those classes. Logged metrics: `ctc` and `distill`.
pub fn rec_distill_step(
    model: &SvtrRecognizer,
    teacher: &SvtrRecognizer,
    batch: RecBatch,
    weight: f64,
    temperature: f64,
) -> StepOutput {
    let student = model.logits(batch.images.clone());
    let target = teacher.logits(batch.images).detach();
    let ctc = ctc_loss(student.clone(), batch.targets, batch.target_lengths);
    let distill = distill_loss(student, target, temperature);
    let parts = [&ctc, &distill].map(|x| f64::from(x.clone().into_scalar::<f32>()));
    StepOutput::new(ctc + distill * weight)
        .with_metric("ctc", parts[0])
        .with_metric("distill", parts[1])
}

#[cfg(test)]
mod tests {
    use burn::tensor::Device;

    use super::*;

    /// The CTC loss by brute force: minus the log of the summed probability of every
    /// path over `classes` that collapses (repeats merged, blanks dropped) to `target`.
    fn brute_force(log_probs: &[Vec<f64>], target: &[usize]) -> f64 {
        let (t, c) = (log_probs.len(), log_probs[0].len());
        let mut total = 0f64;
        for code in 0..c.pow(t as u32) {
            let path: Vec<usize> = (0..t).map(|i| code / c.pow(i as u32) % c).collect();
            let mut collapsed = Vec::new();
            let mut prev = usize::MAX;
            for &k in &path {
                if k != 0 && k != prev {
                    collapsed.push(k);
                }
                prev = k;
            }
            if collapsed == target {
                total += path
                    .iter()
                    .enumerate()
                    .map(|(i, &k)| log_probs[i][k])
                    .sum::<f64>()
                    .exp();
            }
        }
        -total.ln()
    }

    fn logits(n: usize, t: usize, c: usize, seed: u64) -> Vec<f32> {
        // A small deterministic generator: values in [-2, 2).
        let mut s = seed;
        (0..n * t * c)
            .map(|_| {
                s = s
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                ((s >> 33) as f32 / (1u64 << 31) as f32) * 4.0 - 2.0
            })
            .collect()
    }

    #[test]
    fn ctc_loss_equals_the_sum_over_all_alignments() {
        let device = Device::flex();
        let (n, t, c) = (3, 5, 4);
        let x = logits(n, t, c, 1);
        let targets = [vec![1, 2], vec![3, 3], vec![2, 1, 2]];
        let max_len = 3;
        let mut tg = vec![0i64; n * max_len];
        for (k, tk) in targets.iter().enumerate() {
            for (j, &v) in tk.iter().enumerate() {
                tg[k * max_len + j] = v as i64;
            }
        }
        let lengths: Vec<i64> = targets.iter().map(|t| t.len() as i64).collect();
        let logits_t = Tensor::<3>::from_data(TensorData::new(x.clone(), [n, t, c]), &device);
        let per_line = {
            let log_probs = log_softmax(logits_t.clone(), 2).swap_dims(0, 1);
            let il = Tensor::<1, Int>::from_data(TensorData::new(vec![t as i64; n], [n]), &device);
            burn::tensor::module::ctc_loss(
                log_probs,
                Tensor::from_data(TensorData::new(tg.clone(), [n, max_len]), &device),
                il,
                Tensor::from_data(TensorData::new(lengths.clone(), [n]), &device),
                0,
            )
        };
        let got: Vec<f32> = per_line.into_data().try_to_vec::<f32>().unwrap();
        let mut mean = 0f64;
        for k in 0..n {
            let lp: Vec<Vec<f64>> = (0..t)
                .map(|i| {
                    let row: Vec<f64> = (0..c).map(|j| f64::from(x[(k * t + i) * c + j])).collect();
                    let m = row.iter().cloned().fold(f64::MIN, f64::max);
                    let z = row.iter().map(|v| (v - m).exp()).sum::<f64>().ln() + m;
                    row.iter().map(|v| v - z).collect()
                })
                .collect();
            let want = brute_force(&lp, &targets[k]);
            assert!(
                (f64::from(got[k]) - want).abs() < 1e-4,
                "line {k}: {} vs {want}",
                got[k]
            );
            mean += want / n as f64;
        }
        let loss = ctc_loss(
            logits_t,
            Tensor::from_data(TensorData::new(tg, [n, max_len]), &device),
            Tensor::from_data(TensorData::new(lengths, [n]), &device),
        );
        assert!((f64::from(loss.into_scalar::<f32>()) - mean).abs() < 1e-4);
    }

    #[test]
    fn ctc_gradients_match_finite_differences() {
        let device = Device::flex().autodiff();
        let (n, t, c) = (2, 6, 5);
        let x = logits(n, t, c, 7);
        let tg = vec![1i64, 2, 2, 4, 3, 0];
        let lengths = vec![3i64, 2];
        let loss_of = |values: &[f32], device: &Device| -> Tensor<1> {
            ctc_loss(
                Tensor::from_data(TensorData::new(values.to_vec(), [n, t, c]), device),
                Tensor::from_data(TensorData::new(tg.clone(), [n, 3]), device),
                Tensor::from_data(TensorData::new(lengths.clone(), [n]), device),
            )
        };
        let input =
            Tensor::<3>::from_data(TensorData::new(x.clone(), [n, t, c]), &device).require_grad();
        let loss = ctc_loss(
            input.clone(),
            Tensor::from_data(TensorData::new(tg.clone(), [n, 3]), &device),
            Tensor::from_data(TensorData::new(lengths.clone(), [n]), &device),
        );
        let grads = loss.backward();
        let analytic: Vec<f32> = input
            .grad(&grads)
            .unwrap()
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        let plain = Device::flex();
        let eps = 1e-2f32;
        let mut worst = 0f32;
        for i in 0..x.len() {
            let (mut up, mut down) = (x.clone(), x.clone());
            up[i] += eps;
            down[i] -= eps;
            let numeric = (loss_of(&up, &plain).into_scalar::<f32>()
                - loss_of(&down, &plain).into_scalar::<f32>())
                / (2.0 * eps);
            worst = worst.max((numeric - analytic[i]).abs());
        }
        assert!(worst < 2e-3, "largest gradient difference {worst}");
        assert!(
            analytic.iter().any(|g| g.abs() > 1e-2),
            "gradients all near zero"
        );
    }

    #[test]
    fn distill_loss_is_the_softened_kl_on_the_teachers_classes() {
        let device = Device::flex();
        let (n, t, c, extra) = (2, 3, 4, 2);
        let (s, te) = (logits(n, t, c + extra, 3), logits(n, t, c, 5));
        let temperature = 2.0f64;
        // By hand, in f64: the student renormalised over the teacher's classes, which are
        // its first `c - 1` and its last (the space; the added ones sit before it).
        let cs = c + extra;
        let on_teacher = |row: &[f32]| -> Vec<f32> {
            let mut v = row[..c - 1].to_vec();
            v.push(row[cs - 1]);
            v
        };
        let log_softmax = |row: &[f32]| -> Vec<f64> {
            let v: Vec<f64> = row.iter().map(|&x| f64::from(x) / temperature).collect();
            let m = v.iter().cloned().fold(f64::MIN, f64::max);
            let z = v.iter().map(|x| (x - m).exp()).sum::<f64>().ln() + m;
            v.iter().map(|x| x - z).collect()
        };
        let mut kl = 0.0;
        for k in 0..n * t {
            let lt = log_softmax(&te[k * c..(k + 1) * c]);
            let ls = log_softmax(&on_teacher(&s[k * cs..(k + 1) * cs]));
            kl += lt
                .iter()
                .zip(&ls)
                .map(|(a, b)| a.exp() * (a - b))
                .sum::<f64>();
        }
        let expected = kl * temperature * temperature / (n * t) as f64;
        let tensor = |v: &[f32], classes| {
            Tensor::<3>::from_data(TensorData::new(v.to_vec(), [n, t, classes]), &device)
        };
        let got = distill_loss(tensor(&s, cs), tensor(&te, c), temperature);
        let got = f64::from(got.into_scalar::<f32>());
        assert!(expected > 0.1, "the case must not be trivial ({expected})");
        assert!((got - expected).abs() < 1e-5, "{got} vs {expected}");
        // A student that agrees with its teacher on the teacher's classes loses nothing,
        // whatever it says about the added ones.
        let mut same = s.clone();
        for k in 0..n * t {
            let (row, teacher) = (&mut same[k * cs..(k + 1) * cs], &te[k * c..(k + 1) * c]);
            row[..c - 1].copy_from_slice(&teacher[..c - 1]);
            row[cs - 1] = teacher[c - 1];
        }
        let zero = distill_loss(tensor(&same, cs), tensor(&te, c), temperature);
        assert!(f64::from(zero.into_scalar::<f32>()).abs() < 1e-6);
    }
}

//! Reads the text of images with PP-OCRv4 in burn: prints each line with its confidence,
//! logs the time per image, and writes an overlay PNG with the boxes drawn.
//!
//! ```sh
//! scripts/assets.sh
//! cargo run --release -p whet-examples --example ocr_read -- receipt.jpg --overlay out.png
//! # several images, on a GPU through wgpu (build with --features wgpu)
//! cargo run --release -p whet-examples --features wgpu --example ocr_read -- --device wgpu a.jpg b.jpg
//! ```

#![allow(clippy::print_stdout)] // a program: it prints its results

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use clap::Parser;
use image::{Rgb, RgbImage};
use whet_core::device::DeviceSpec;
use whet_ocr_det::Ocr;

#[derive(Parser)]
#[command(about = "Read the text lines of an image with PP-OCRv4")]
struct Args {
    /// The images (PNG or JPEG).
    #[arg(required = true)]
    images: Vec<PathBuf>,
    /// The PP-OCRv4 weights folder (`scripts/assets.sh` fills it).
    #[arg(long, default_value = "assets/rapidocr-1.4.4")]
    weights: PathBuf,
    /// Where to write the (first) image with the detected boxes drawn.
    #[arg(long)]
    overlay: Option<PathBuf>,
    /// A saved pipeline (`Ocr::save`: a registry version of `finetune_receipts_ocr`) to
    /// read with instead of the pretrained one.
    #[arg(long)]
    finetuned: Option<PathBuf>,
    /// Device: `cpu`, `wgpu`, ... (default: `WHET_DEVICE` or `cpu`).
    #[arg(long)]
    device: Option<String>,
}

/// A line from `a` to `b`, 2 pixels wide.
fn draw_line(img: &mut RgbImage, a: [f64; 2], b: [f64; 2], colour: Rgb<u8>) {
    let steps = (b[0] - a[0]).abs().max((b[1] - a[1]).abs()).ceil().max(1.0) as usize;
    for s in 0..=steps {
        let t = s as f64 / steps as f64;
        let (x, y) = (a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t);
        for (dx, dy) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
            let (px, py) = (x as i64 + dx, y as i64 + dy);
            if px >= 0 && py >= 0 && (px as u32) < img.width() && (py as u32) < img.height() {
                img.put_pixel(px as u32, py as u32, colour);
            }
        }
    }
}

fn main() -> anyhow::Result<()> {
    whet_examples::init_tracing();
    let args = Args::parse();
    let device = DeviceSpec::from_arg_or_env(args.device.as_deref())?.device()?;
    // A fine-tuned pipeline (`Ocr::save`, a registry version) needs nothing else.
    let ocr = match &args.finetuned {
        Some(dir) => Ocr::load(dir, &device)?,
        None => Ocr::from_pretrained(&args.weights, &device)?,
    };
    for (i, path) in args.images.iter().enumerate() {
        let mut img = image::open(path)
            .with_context(|| format!("reading {}", path.display()))?
            .to_rgb8();
        let start = Instant::now();
        let lines = ocr.read(&img)?;
        tracing::info!(
            image = %path.display(),
            lines = lines.len(),
            seconds = start.elapsed().as_secs_f64(),
            "read"
        );
        if args.images.len() > 1 {
            println!("== {}", path.display());
        }
        for l in &lines {
            println!("{:.3}  {}", l.confidence, l.text);
        }
        if let (0, Some(out)) = (i, &args.overlay) {
            for l in &lines {
                let p = &l.polygon.points;
                for i in 0..p.len() {
                    draw_line(&mut img, p[i], p[(i + 1) % p.len()], Rgb([230, 30, 30]));
                }
            }
            img.save(out)
                .with_context(|| format!("writing {}", out.display()))?;
            println!(
                "{} lines; overlay written to {}",
                lines.len(),
                out.display()
            );
        }
    }
    Ok(())
}

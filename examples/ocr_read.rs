//! Reads the text of an image with PP-OCRv4 in burn: prints each line with its
//! confidence and writes an overlay PNG with the boxes drawn.
//!
//! ```sh
//! scripts/assets.sh
//! cargo run --release -p whet-examples --example ocr_read -- receipt.jpg --overlay out.png
//! ```

use std::path::PathBuf;

use anyhow::Context;
use clap::Parser;
use image::{Rgb, RgbImage};
use whet_core::device::DeviceSpec;
use whet_ocr_det::Ocr;

#[derive(Parser)]
#[command(about = "Read the text lines of an image with PP-OCRv4")]
struct Args {
    /// The image (PNG or JPEG).
    image: PathBuf,
    /// The PP-OCRv4 weights folder (`scripts/assets.sh` fills it).
    #[arg(long, default_value = "assets/rapidocr-1.4.4")]
    weights: PathBuf,
    /// Where to write the image with the detected boxes drawn.
    #[arg(long)]
    overlay: Option<PathBuf>,
    /// Device: `cpu`, `wgpu`, ... (default: `WHET_DEVICE` or `cpu`).
    #[arg(long)]
    device: Option<String>,
}

/// A line from `a` to `b`, 2 pixels wide.
fn draw_line(img: &mut RgbImage, a: [f32; 2], b: [f32; 2], colour: Rgb<u8>) {
    let steps = (b[0] - a[0]).abs().max((b[1] - a[1]).abs()).ceil().max(1.0) as usize;
    for s in 0..=steps {
        let t = s as f32 / steps as f32;
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
    tracing_subscriber::fmt()
        .with_env_filter("info")
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    let spec = match &args.device {
        Some(d) => d.parse::<DeviceSpec>()?,
        None => DeviceSpec::from_env()?,
    };
    let ocr = Ocr::from_pretrained(&args.weights, &spec.device()?)?;
    let mut img = image::open(&args.image)
        .with_context(|| format!("reading {}", args.image.display()))?
        .to_rgb8();
    let lines = ocr.read(&img);
    for l in &lines {
        println!("{:.3}  {}", l.confidence, l.text);
    }
    if let Some(path) = &args.overlay {
        for l in &lines {
            let p = &l.polygon.points;
            for i in 0..p.len() {
                draw_line(&mut img, p[i], p[(i + 1) % p.len()], Rgb([230, 30, 30]));
            }
        }
        img.save(path)
            .with_context(|| format!("writing {}", path.display()))?;
        println!(
            "{} lines; overlay written to {}",
            lines.len(),
            path.display()
        );
    }
    Ok(())
}

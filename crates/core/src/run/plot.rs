//! Loss and metric curves of a run, drawn to PNG with plotters.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use plotters::prelude::*;
use plotters::style::{FontStyle, register_font};

use super::RunDir;
use crate::data::{MalformedPolicy, atomic_write, read_jsonl};
use crate::error::{Error, Result};

/// Fonts tried for labels, in order, after `$WHET_PLOT_FONT`.
const FONT_CANDIDATES: &[&str] = &[
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
    "/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf",
    "/System/Library/Fonts/Supplemental/Arial.ttf",
    "C:\\Windows\\Fonts\\arial.ttf",
];

fn ensure_font() -> std::result::Result<(), String> {
    static FONT: OnceLock<std::result::Result<(), String>> = OnceLock::new();
    FONT.get_or_init(|| {
        let mut candidates: Vec<PathBuf> = Vec::new();
        if let Some(p) = std::env::var_os("WHET_PLOT_FONT") {
            candidates.push(p.into());
        }
        candidates.extend(FONT_CANDIDATES.iter().map(PathBuf::from));
        for path in candidates {
            if let Ok(bytes) = std::fs::read(&path) {
                // plotters keeps registered fonts for the life of the process.
                let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
                if register_font("sans-serif", FontStyle::Normal, bytes).is_ok() {
                    return Ok(());
                }
            }
        }
        Err("no TrueType font found for labels: install fonts-dejavu-core or set WHET_PLOT_FONT to a .ttf file".into())
    })
    .clone()
}

/// Draws every metric of `run` (from `artifacts/metrics.jsonl`) against the step, one
/// panel per metric, into the PNG `out` (written atomically).
///
/// # Errors
/// [`Error::Plot`] when there is nothing to plot or no font for the labels;
/// [`Error::JsonlRecord`] / [`Error::File`] when the log cannot be read.
pub fn plot_run(run: &RunDir, out: &Path) -> Result<()> {
    let log = run.artifacts().join("metrics.jsonl");
    let fail = |reason: String| Error::Plot {
        path: out.to_owned(),
        reason,
    };
    let records =
        read_jsonl::<serde_json::Map<String, serde_json::Value>>(&log, MalformedPolicy::Skip)?;
    let mut series: BTreeMap<String, Vec<(f64, f64)>> = BTreeMap::new();
    for (_, record) in records.records {
        let Some(step) = record.get("step").and_then(|v| v.as_f64()) else {
            continue;
        };
        for (k, v) in &record {
            if matches!(k.as_str(), "step" | "epoch" | "timestamp") {
                continue;
            }
            if let Some(v) = v.as_f64().filter(|v| v.is_finite()) {
                series.entry(k.clone()).or_default().push((step, v));
            }
        }
    }
    if series.is_empty() {
        return Err(fail(format!("{} holds no metrics", log.display())));
    }
    let cols = if series.len() == 1 { 1 } else { 2 };
    let rows = series.len().div_ceil(cols);
    render_png(out, (560 * cols as u32, 320 * rows as u32), |root| {
        let panels = root.split_evenly((rows, cols));
        for ((name, points), panel) in series.iter().zip(panels.iter()) {
            draw_panel(panel, name, points).map_err(|e| e.to_string())?;
        }
        Ok(())
    })
}

/// The drawing area [`render_png`] hands its closure.
pub type PngArea<'a> = DrawingArea<BitMapBackend<'a>, plotters::coord::Shift>;

/// Draws a `size` (width, height) picture with plotters and writes it to `out` as PNG,
/// atomically: the shared plumbing of every Whetstone plot (a font for labels, a white
/// RGB canvas, PNG encoding). `draw` gets the whole canvas; its error text is reported
/// as [`Error::Plot`].
///
/// # Errors
/// [`Error::Plot`] when no font is found or drawing or encoding fails; [`Error::File`]
/// when `out` cannot be written.
pub fn render_png(
    out: &Path,
    size: (u32, u32),
    draw: impl FnOnce(&PngArea<'_>) -> std::result::Result<(), String>,
) -> Result<()> {
    let fail = |reason: String| Error::Plot {
        path: out.to_owned(),
        reason,
    };
    ensure_font().map_err(fail)?;
    let (w, h) = size;
    let mut pixels = vec![255u8; (w as usize) * (h as usize) * 3];
    {
        let root = BitMapBackend::with_buffer(&mut pixels, (w, h)).into_drawing_area();
        draw(&root).map_err(fail)?;
        root.present().map_err(|e| fail(e.to_string()))?;
    }
    let mut png = Vec::new();
    image::codecs::png::PngEncoder::new(&mut png)
        .write_image(&pixels, w, h, image::ExtendedColorType::Rgb8)
        .map_err(|e| fail(e.to_string()))?;
    atomic_write(out, &png)
}

use image::ImageEncoder;

fn draw_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    name: &str,
    points: &[(f64, f64)],
) -> std::result::Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let (x0, x1) = points
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), p| {
            (a.min(p.0), b.max(p.0))
        });
    let (y0, y1) = points
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), p| {
            (a.min(p.1), b.max(p.1))
        });
    let pad = ((y1 - y0) * 0.05).max(1e-12);
    let x1 = if x1 > x0 { x1 } else { x0 + 1.0 };
    let mut chart = ChartBuilder::on(area)
        .caption(name, ("sans-serif", 18))
        .margin(10)
        .x_label_area_size(30)
        .y_label_area_size(60)
        .build_cartesian_2d(x0..x1, (y0 - pad)..(y1 + pad))?;
    chart
        .configure_mesh()
        .x_desc("step")
        .label_style(("sans-serif", 12))
        .draw()?;
    chart.draw_series(LineSeries::new(points.iter().copied(), &BLUE))?;
    if points.len() < 50 {
        chart.draw_series(points.iter().map(|&p| Circle::new(p, 2, BLUE.filled())))?;
    }
    Ok(())
}

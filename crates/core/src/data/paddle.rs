//! PaddleOCR's label files, read and written: detection labels (`Label.txt` as PPOCRLabel
//! writes it, `det_gt.txt`) and recognition labels (`rec_gt.txt`).
//!
//! ```text
//! det:  images/000.jpg<TAB>[{"transcription": "TOTAL", "points": [[10, 20], [90, 20], [90, 40], [10, 40]], "difficult": false}]
//! rec:  crops/000_0.jpg<TAB>TOTAL
//! ```
//!
//! Paths stay as written (relative to the label file's folder, as PaddleOCR's
//! `data_dir` resolves them). A box whose transcription is `###` or `*` is one PaddleOCR
//! ignores in training and evaluation ([`DetBox::ignored`]). Blank lines are skipped; a
//! line without a tab, with malformed JSON or with a polygon of fewer than three finite
//! points is an [`Error::Format`] naming the file and line.
//!
//! These are import and export formats (the design's datasets are `manifest.jsonl`
//! folders): synth-docs writes them, ocr-det trains from them, hard-mining exports
//! reviewed corrections to them.
//!
//! ```
//! use whet_core::data::paddle::{parse_det_line, parse_rec_line};
//!
//! let line = "a.jpg\t[{\"transcription\": \"###\", \"points\": [[0,0],[9,0],[9,5],[0,5]]}]";
//! let det = parse_det_line(line)?;
//! assert!(det.boxes[0].ignored());
//! let rec = parse_rec_line("crop.png\tTOTAL 1,234.00")?;
//! assert_eq!(rec.text, "TOTAL 1,234.00");
//! # Ok::<(), String>(())
//! ```

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::geom::{Polygon, TextRegion};

/// Transcriptions PaddleOCR treats as "do not care" (`DetLabelEncode`).
pub const IGNORE_TRANSCRIPTIONS: [&str; 2] = ["###", "*"];

/// One labelled text region of a detection sample.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DetBox {
    /// The text (`###` for regions to ignore).
    pub transcription: String,
    /// The polygon, clockwise from the top-left, in pixels (4 points for PPOCRLabel
    /// boxes), the file's `points`. Whole numbers are written as integers, as PPOCRLabel
    /// writes them.
    #[serde(
        rename = "points",
        serialize_with = "whole_as_integers",
        deserialize_with = "points_list"
    )]
    pub polygon: Polygon,
    /// PPOCRLabel's "difficult" flag (kept, not interpreted).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub difficult: bool,
}

fn points_list<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Polygon, D::Error> {
    Vec::<[f64; 2]>::deserialize(d).map(Polygon::new)
}

fn whole_as_integers<S: serde::Serializer>(
    polygon: &Polygon,
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    use serde::ser::SerializeSeq;
    let points = &polygon.points;
    let mut seq = s.serialize_seq(Some(points.len()))?;
    for p in points {
        let whole = p.iter().all(|v| v.fract() == 0.0 && v.abs() < 9.0e15);
        if whole {
            seq.serialize_element(&[p[0] as i64, p[1] as i64])?;
        } else {
            seq.serialize_element(p)?;
        }
    }
    seq.end()
}

impl DetBox {
    /// Whether PaddleOCR ignores this region (its transcription is `###` or `*`).
    pub fn ignored(&self) -> bool {
        IGNORE_TRANSCRIPTIONS.contains(&self.transcription.as_str())
    }

    /// The box as a [`TextRegion`] (ignored when PaddleOCR ignores it).
    pub fn region(&self) -> TextRegion {
        TextRegion {
            polygon: self.polygon.clone(),
            text: self.transcription.clone(),
            ignore: self.ignored(),
        }
    }

    /// The box of `region` (an ignored region's transcription is `###`).
    pub fn from_region(region: &TextRegion) -> Self {
        DetBox {
            transcription: if region.ignore {
                IGNORE_TRANSCRIPTIONS[0].to_owned()
            } else {
                region.text.clone()
            },
            polygon: region.polygon.clone(),
            difficult: false,
        }
    }
}

/// One line of a detection label file: an image and its text regions.
#[derive(Debug, Clone, PartialEq)]
pub struct DetSample {
    /// The image path as written in the file.
    pub image: PathBuf,
    /// Its regions.
    pub boxes: Vec<DetBox>,
}

/// One line of a recognition label file: a cropped line image and its text.
#[derive(Debug, Clone, PartialEq)]
pub struct RecSample {
    /// The crop's path as written in the file.
    pub image: PathBuf,
    /// The text (everything after the first tab).
    pub text: String,
}

fn split_tab(line: &str) -> std::result::Result<(&str, &str), String> {
    let line = line.trim_end_matches(['\r', '\n']);
    let (path, rest) = line
        .split_once('\t')
        .ok_or_else(|| "no tab between the image path and the label".to_owned())?;
    if path.trim().is_empty() {
        return Err("empty image path".to_owned());
    }
    Ok((path, rest))
}

/// Parses one detection label line.
///
/// # Errors
/// A message saying what is wrong with the line.
pub fn parse_det_line(line: &str) -> std::result::Result<DetSample, String> {
    let (path, json) = split_tab(line)?;
    let boxes: Vec<DetBox> =
        serde_json::from_str(json).map_err(|e| format!("the label is not a list of boxes: {e}"))?;
    for (i, b) in boxes.iter().enumerate() {
        if b.polygon.points.len() < 3 {
            return Err(format!(
                "box {i} ({:?}) has {} points; a polygon needs at least 3",
                b.transcription,
                b.polygon.points.len()
            ));
        }
        if b.polygon.points.iter().flatten().any(|v| !v.is_finite()) {
            return Err(format!(
                "box {i} ({:?}) has a non-finite coordinate",
                b.transcription
            ));
        }
    }
    Ok(DetSample {
        image: PathBuf::from(path),
        boxes,
    })
}

/// Parses one recognition label line.
///
/// # Errors
/// A message saying what is wrong with the line.
pub fn parse_rec_line(line: &str) -> std::result::Result<RecSample, String> {
    let (path, text) = split_tab(line)?;
    Ok(RecSample {
        image: PathBuf::from(path),
        text: text.to_owned(),
    })
}

fn read_lines<T>(
    path: &Path,
    parse: impl Fn(&str) -> std::result::Result<T, String>,
) -> Result<Vec<T>> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::file(path, e))?;
    parse_lines(path, &text, parse)
}

/// Parses every non-blank line of `text` (a leading byte-order mark skipped), a bad one
/// an [`Error::Format`] naming `path` and its 1-based line.
pub(crate) fn parse_lines<T>(
    path: &Path,
    text: &str,
    parse: impl Fn(&str) -> std::result::Result<T, String>,
) -> Result<Vec<T>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            parse(l).map_err(|reason| Error::Format {
                path: path.to_owned(),
                line: i + 1,
                reason,
            })
        })
        .collect()
}

/// Reads a detection label file (`Label.txt`, `det_gt.txt`).
///
/// # Errors
/// [`Error::File`] when the file cannot be read, [`Error::Format`] for the first bad line.
pub fn read_det_labels(path: impl AsRef<Path>) -> Result<Vec<DetSample>> {
    read_lines(path.as_ref(), parse_det_line)
}

/// Reads a recognition label file (`rec_gt.txt`).
///
/// # Errors
/// [`Error::File`] when the file cannot be read, [`Error::Format`] for the first bad line.
pub fn read_rec_labels(path: impl AsRef<Path>) -> Result<Vec<RecSample>> {
    read_lines(path.as_ref(), parse_rec_line)
}

/// The detection label line for `sample` (what [`parse_det_line`] reads back).
pub fn det_line(sample: &DetSample) -> String {
    format!(
        "{}\t{}",
        sample.image.display(),
        serde_json::to_string(&sample.boxes).unwrap_or_default()
    )
}

/// The recognition label line for `sample`.
pub fn rec_line(sample: &RecSample) -> String {
    format!("{}\t{}", sample.image.display(), sample.text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ppocrlabel_lines_are_read_and_written_back() {
        let line = r####"img/1.jpg	[{"transcription": "TOTAL", "points": [[1, 2], [30, 2], [30, 9], [1, 9]], "difficult": false}, {"transcription": "###", "points": [[0,0],[4,0],[4,4]]}]"####;
        let s = parse_det_line(line).unwrap();
        assert_eq!(s.image, PathBuf::from("img/1.jpg"));
        assert_eq!(s.boxes.len(), 2);
        assert_eq!(s.boxes[0].polygon.points[2], [30.0, 9.0]);
        assert!(!s.boxes[0].ignored() && s.boxes[1].ignored());
        assert_eq!(parse_det_line(&det_line(&s)).unwrap(), s);
        let r = parse_rec_line("c.png\tA\tB\r").unwrap();
        assert_eq!(r.text, "A\tB");
        assert_eq!(parse_rec_line(&rec_line(&r)).unwrap(), r);
    }

    #[test]
    fn bad_lines_name_the_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("Label.txt");
        let good = r#"a.jpg	[{"transcription": "A", "points": [[0,0],[4,0],[4,4],[0,4]]}]"#;
        for (bad, why) in [
            ("a.jpg [] no tab", "no tab"),
            ("a.jpg\t[{\"transcription\": \"A\"}]", "not a list of boxes"),
            (
                "a.jpg\t[{\"transcription\": \"A\", \"points\": [[0,0],[1,1]]}]",
                "2 points",
            ),
            ("\t[]", "empty image path"),
        ] {
            std::fs::write(&path, format!("{good}\n\n{bad}\n")).unwrap();
            let err = read_det_labels(&path).unwrap_err().to_string();
            assert!(err.contains("Label.txt:3:"), "{err}");
            assert!(err.contains(why), "{err}");
        }
        std::fs::write(&path, format!("\u{feff}{good}\n")).unwrap();
        assert_eq!(read_det_labels(&path).unwrap().len(), 1);
        let err = read_rec_labels(dir.path().join("missing.txt")).unwrap_err();
        assert!(err.to_string().contains("missing.txt"), "{err}");
    }

    proptest::proptest! {
        #[test]
        fn written_lines_read_back(
            text in "\\PC*",
            path in "[a-z0-9_/.]{1,20}",
            pts in proptest::collection::vec((-1e6f64..1e6, -1e6f64..1e6), 3..8),
            whole in proptest::bool::ANY,
        ) {
            // Fractions in 1/64 pixel: serde_json (without its `float_roundtrip` feature)
            // reads long fractions back to within one ulp only.
            let q = |v: f64| if whole { v.round() } else { (v * 64.0).round() / 64.0 };
            let points = pts.iter().map(|&(x, y)| [q(x), q(y)]).collect();
            let s = DetSample {
                image: PathBuf::from(&path),
                boxes: vec![DetBox { transcription: text.clone(), polygon: Polygon::new(points), difficult: whole }],
            };
            proptest::prop_assert_eq!(parse_det_line(&det_line(&s)).unwrap(), s);
            let r = RecSample { image: PathBuf::from(&path), text: text.trim_end_matches(['\r', '\n']).to_owned() };
            if !r.text.contains('\n') {
                proptest::prop_assert_eq!(parse_rec_line(&rec_line(&r)).unwrap(), r);
            }
        }
    }
}

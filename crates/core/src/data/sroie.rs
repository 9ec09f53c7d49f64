//! SROIE's text-line annotations (ICDAR 2019 task 1): one `box/<name>.csv` per receipt
//! image `img/<name>.jpg`, a line per text line, `x1,y1,x2,y2,x3,y3,x4,y4,text` (the text
//! may itself hold commas).
//!
//! ```
//! use whet_core::data::sroie::parse_box_line;
//! let r = parse_box_line("72,25,326,25,326,64,72,64,TAN WOON YANN, BOOK TA .K")?;
//! assert_eq!(r.text, "TAN WOON YANN, BOOK TA .K");
//! assert_eq!(r.polygon.bounds(), [72.0, 25.0, 326.0, 64.0]);
//! # Ok::<(), String>(())
//! ```

use std::collections::BTreeMap;
use std::path::Path;

use crate::error::{Error, Result};
use crate::geom::{Polygon, TextRegion};

/// Parses one annotation line.
///
/// # Errors
/// A message saying what is wrong with the line.
pub fn parse_box_line(line: &str) -> std::result::Result<TextRegion, String> {
    let line = line.trim_end_matches(['\r', '\n']);
    let parts: Vec<&str> = line.splitn(9, ',').collect();
    if parts.len() != 9 {
        return Err(format!(
            "expected 8 coordinates and a text, found {} fields",
            parts.len()
        ));
    }
    let mut v = [0f64; 8];
    for (k, s) in parts[..8].iter().enumerate() {
        v[k] = s
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|x| x.is_finite())
            .ok_or_else(|| format!("coordinate {} is {s:?}, not a number", k + 1))?;
    }
    Ok(TextRegion::new(
        Polygon::new((0..4).map(|i| [v[2 * i], v[2 * i + 1]]).collect()),
        parts[8],
    ))
}

/// Reads one `box/<name>.csv` file (blank lines skipped).
///
/// # Errors
/// [`Error::File`] when it cannot be read, [`Error::Format`] naming the first bad line.
pub fn read_boxes(path: impl AsRef<Path>) -> Result<Vec<TextRegion>> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|e| Error::file(path, e))?;
    // SROIE's files are UTF-8 with a few stray Latin-1 bytes: those are read as U+FFFD
    // rather than refusing the receipt.
    let text = String::from_utf8_lossy(&bytes);
    super::paddle::parse_lines(path, &text, parse_box_line)
}

/// Every receipt of a SROIE folder (`img/*.jpg`, `box/*.csv`), keyed by its image path
/// relative to the folder (`img/X51005200931.jpg`), in name order.
///
/// # Errors
/// [`Error::File`] when the folder or a box file cannot be read, [`Error::Format`] for a
/// bad line.
pub fn read_folder(dir: impl AsRef<Path>) -> Result<BTreeMap<String, Vec<TextRegion>>> {
    let dir = dir.as_ref();
    let img = dir.join("img");
    let mut out = BTreeMap::new();
    for entry in std::fs::read_dir(&img).map_err(|e| Error::file(&img, e))? {
        let name = entry
            .map_err(|e| Error::file(&img, e))?
            .file_name()
            .to_string_lossy()
            .into_owned();
        let Some(stem) = name.strip_suffix(".jpg") else {
            continue;
        };
        let regions = read_boxes(dir.join("box").join(format!("{stem}.csv")))?;
        out.insert(format!("img/{name}"), regions);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_lines_name_the_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("img")).unwrap();
        std::fs::create_dir_all(dir.path().join("box")).unwrap();
        std::fs::write(dir.path().join("img/a.jpg"), b"").unwrap();
        let csv = dir.path().join("box/a.csv");
        std::fs::write(&csv, "1,2,3,2,3,4,1,4,TOTAL, RM 5\n\n1,2,x,2,3,4,1,4,BAD\n").unwrap();
        let err = read_folder(dir.path()).unwrap_err().to_string();
        assert!(
            err.contains("a.csv:3:") && err.contains("coordinate 3"),
            "{err}"
        );
        std::fs::write(&csv, "1,2,3,2,3,4,1,4,TOTAL, RM 5\r\n5,6\n").unwrap();
        let err = read_boxes(&csv).unwrap_err().to_string();
        assert!(
            err.contains("a.csv:2:") && err.contains("2 fields"),
            "{err}"
        );
        std::fs::write(&csv, "1,2,3,2,3,4,1,4,TOTAL, RM 5\r\n").unwrap();
        let pages = read_folder(dir.path()).unwrap();
        assert_eq!(pages["img/a.jpg"][0].text, "TOTAL, RM 5");
        assert!(read_folder(dir.path().join("missing")).is_err());
    }
}

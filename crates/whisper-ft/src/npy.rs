//! NumPy's `.npy` arrays and `.npz` archives of them (`np.savez`, `np.savez_compressed`),
//! as far as filter banks and audio fixtures need: little-endian `f2`, `f4`, `f8` or `i2`
//! (read as `f32`), C order, any shape.

use std::io::Read;
use std::path::Path;

use crate::error::{Error, Result};

/// An array read from `.npy` bytes, as `f32` in C order.
#[derive(Debug, Clone, PartialEq)]
pub struct NpyArray {
    /// The shape.
    pub shape: Vec<usize>,
    /// The values, row-major.
    pub data: Vec<f32>,
}

/// Parses `.npy` bytes (format versions 1 to 3).
///
/// # Errors
/// A message saying what is wrong.
pub fn parse_npy(bytes: &[u8]) -> std::result::Result<NpyArray, String> {
    let rest = bytes
        .strip_prefix(b"\x93NUMPY")
        .ok_or("not a .npy array (no \\x93NUMPY magic)")?;
    let (&major, rest) = rest.split_first().ok_or("truncated header")?;
    let (_minor, rest) = rest.split_first().ok_or("truncated header")?;
    let (len, rest) = match major {
        1 => {
            let (n, r) = rest.split_at_checked(2).ok_or("truncated header")?;
            (usize::from(u16::from_le_bytes([n[0], n[1]])), r)
        }
        2 | 3 => {
            let (n, r) = rest.split_at_checked(4).ok_or("truncated header")?;
            (u32::from_le_bytes([n[0], n[1], n[2], n[3]]) as usize, r)
        }
        v => return Err(format!("format version {v} is not read")),
    };
    let (header, data) = rest.split_at_checked(len).ok_or("truncated header")?;
    let header = std::str::from_utf8(header).map_err(|_| "header is not text")?;
    let field = |key: &str| -> std::result::Result<&str, String> {
        let at = header
            .find(&format!("'{key}':"))
            .ok_or(format!("header has no '{key}'"))?;
        Ok(header[at + key.len() + 3..].trim_start())
    };
    let descr = field("descr")?;
    let kinds = [("'<f4'", 4), ("'<f8'", 8), ("'<f2'", 2), ("'<i2'", 2)];
    let Some(&(kind, width)) = kinds.iter().find(|(k, _)| descr.starts_with(k)) else {
        return Err(format!(
            "dtype {} is not read (little-endian f2, f4, f8 or i2 only)",
            descr.split(',').next().unwrap_or(descr)
        ));
    };
    if !field("fortran_order")?.starts_with("False") {
        return Err("Fortran-order arrays are not read".into());
    }
    let shape = field("shape")?;
    let shape = shape
        .strip_prefix('(')
        .and_then(|s| s.split(')').next())
        .ok_or("malformed shape")?;
    let shape: Vec<usize> = shape
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse()
                .map_err(|_| format!("malformed shape dimension {s:?}"))
        })
        .collect::<std::result::Result<_, _>>()?;
    let count = shape
        .iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d))
        .ok_or("shape overflows")?;
    if count.checked_mul(width) != Some(data.len()) {
        return Err(format!(
            "shape {shape:?} needs {count} values of {width} bytes; the data has {} bytes",
            data.len()
        ));
    }
    let data = match kind {
        "'<f4'" => data
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect(),
        "'<f8'" => data
            .chunks_exact(8)
            .map(|b| f64::from_le_bytes(b.try_into().expect("8 bytes")) as f32)
            .collect(),
        "'<f2'" => data
            .chunks_exact(2)
            .map(|b| half::f16::from_le_bytes([b[0], b[1]]).to_f32())
            .collect(),
        _ => data
            .chunks_exact(2)
            .map(|b| f32::from(i16::from_le_bytes([b[0], b[1]])))
            .collect(),
    };
    Ok(NpyArray { shape, data })
}

/// The array `name` (without `.npy`) of the `.npz` archive at `path`.
///
/// # Errors
/// [`Error::Filters`] naming the file when it cannot be read, is not a zip archive, has
/// no such array or the array is malformed.
pub fn read_npz_array(path: impl AsRef<Path>, name: &str) -> Result<NpyArray> {
    let path = path.as_ref();
    let bad = |reason: String| Error::Filters {
        path: path.to_owned(),
        reason,
    };
    let file = std::fs::File::open(path).map_err(|e| bad(e.to_string()))?;
    let mut zip =
        zip::ZipArchive::new(file).map_err(|e| bad(format!("not an .npz archive: {e}")))?;
    let mut entry = zip
        .by_name(&format!("{name}.npy"))
        .map_err(|_| bad(format!("no array {name:?}")))?;
    let mut bytes = Vec::new();
    entry
        .read_to_end(&mut bytes)
        .map_err(|e| bad(format!("{name}: {e}")))?;
    parse_npy(&bytes).map_err(|e| bad(format!("{name}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn npy(header: &str, data: &[u8]) -> Vec<u8> {
        let mut h = header.to_owned();
        while !(10 + h.len() + 1).is_multiple_of(64) {
            h.push(' ');
        }
        h.push('\n');
        let mut out = b"\x93NUMPY\x01\x00".to_vec();
        out.extend((h.len() as u16).to_le_bytes());
        out.extend(h.as_bytes());
        out.extend(data);
        out
    }

    #[test]
    fn reads_floats_and_int16_and_refuses_the_rest() {
        let data: Vec<u8> = [1.5f32, -2.0, 0.25, 8.0, 0.0, 1.0]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        let a = parse_npy(&npy(
            "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }",
            &data,
        ))
        .unwrap();
        assert_eq!(a.shape, vec![2, 3]);
        assert_eq!(a.data, vec![1.5, -2.0, 0.25, 8.0, 0.0, 1.0]);
        let d: Vec<u8> = [3.0f64].iter().flat_map(|v| v.to_le_bytes()).collect();
        let b = parse_npy(&npy(
            "{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }",
            &d,
        ));
        assert_eq!(b.unwrap().data, vec![3.0]);
        let e = parse_npy(&npy(
            "{'descr': '<i4', 'fortran_order': False, 'shape': (1,), }",
            &[0; 4],
        ));
        assert!(e.unwrap_err().contains("'<i4'"));
        let short = parse_npy(&npy(
            "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }",
            &data[..20],
        ));
        assert!(short.unwrap_err().contains("needs 6 values"));
        assert!(parse_npy(b"PK\x03\x04").is_err());
    }
}

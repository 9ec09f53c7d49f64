//! CTranslate2's model file (`model.bin`), as its `model_spec.py` writes it (binary
//! versions 4 to 6): a version, the spec's name and revision, named variables (shape,
//! type, bytes), and aliases (a tied projection naming the embedding it shares).
//!
//! Strings are a `u16` length counting a closing NUL, then the bytes and the NUL; numbers
//! are little-endian.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// The binary versions read: 4 (types by id) to 6 (CTranslate2 4.x's).
pub const CT2_VERSIONS: std::ops::RangeInclusive<u32> = 4..=6;

/// A variable's element type (CTranslate2's `DataType` ids 0 to 5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ct2Dtype {
    /// 32-bit float.
    F32,
    /// 8-bit integer (int8 quantised weights; their scales are separate variables).
    I8,
    /// 16-bit integer.
    I16,
    /// 32-bit integer.
    I32,
    /// IEEE half precision.
    F16,
    /// bfloat16.
    Bf16,
}

impl Ct2Dtype {
    fn from_id(id: u8) -> Option<Self> {
        Some(match id {
            0 => Ct2Dtype::F32,
            1 => Ct2Dtype::I8,
            2 => Ct2Dtype::I16,
            3 => Ct2Dtype::I32,
            4 => Ct2Dtype::F16,
            5 => Ct2Dtype::Bf16,
            _ => return None,
        })
    }

    /// Bytes per element.
    pub fn size(self) -> usize {
        match self {
            Ct2Dtype::I8 => 1,
            Ct2Dtype::I16 | Ct2Dtype::F16 | Ct2Dtype::Bf16 => 2,
            Ct2Dtype::F32 | Ct2Dtype::I32 => 4,
        }
    }
}

/// One variable: its shape (empty for a scalar), type and little-endian bytes.
#[derive(Debug, Clone, PartialEq)]
pub struct Ct2Variable {
    /// The shape.
    pub shape: Vec<usize>,
    /// The element type.
    pub dtype: Ct2Dtype,
    /// The elements' bytes, row-major.
    pub bytes: Vec<u8>,
}

impl Ct2Variable {
    /// Elements.
    pub fn len(&self) -> usize {
        self.bytes.len() / self.dtype.size()
    }

    /// Whether it has no element.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// The values as `f32` (half precision widened exactly; integers converted).
    pub fn to_f32(&self) -> Vec<f32> {
        let b = &self.bytes;
        match self.dtype {
            Ct2Dtype::F32 => b
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect(),
            Ct2Dtype::F16 => b
                .chunks_exact(2)
                .map(|c| half::f16::from_le_bytes([c[0], c[1]]).to_f32())
                .collect(),
            Ct2Dtype::Bf16 => b
                .chunks_exact(2)
                .map(|c| half::bf16::from_le_bytes([c[0], c[1]]).to_f32())
                .collect(),
            Ct2Dtype::I8 => b.iter().map(|&v| f32::from(v as i8)).collect(),
            Ct2Dtype::I16 => b
                .chunks_exact(2)
                .map(|c| f32::from(i16::from_le_bytes([c[0], c[1]])))
                .collect(),
            Ct2Dtype::I32 => b
                .chunks_exact(4)
                .map(|c| i32::from_le_bytes([c[0], c[1], c[2], c[3]]) as f32)
                .collect(),
        }
    }
}

/// A CTranslate2 model file read whole.
#[derive(Debug, Clone, PartialEq)]
pub struct Ct2Model {
    /// The binary version (4 to 6).
    pub binary_version: u32,
    /// The spec's name (`WhisperSpec`).
    pub spec: String,
    /// The spec's revision.
    pub revision: u32,
    /// The variables by name (`decoder/layer_0/self_attention/linear_0/weight`).
    pub variables: BTreeMap<String, Ct2Variable>,
    /// Alias -> the variable it names (`decoder/projection/weight` ->
    /// `decoder/embeddings/weight`).
    pub aliases: BTreeMap<String, String>,
}

impl Ct2Model {
    /// Reads `path` (a `model.bin`).
    ///
    /// # Errors
    /// [`Error::Model`] naming the file (and the variable, where one is at fault) when it
    /// cannot be read, is truncated, has a version or type this reader does not know, a
    /// payload that does not fit its shape, or an alias to no variable.
    pub fn read(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|e| Error::Model {
            path: path.to_owned(),
            reason: e.to_string(),
        })?;
        Self::parse(&bytes, path)
    }

    /// Parses a model file's bytes; `name` is what errors call the file.
    ///
    /// # Errors
    /// As [`Ct2Model::read`].
    pub fn parse(bytes: &[u8], name: impl AsRef<Path>) -> Result<Self> {
        let path: PathBuf = name.as_ref().to_owned();
        let bad = |reason: String| Error::Model {
            path: path.clone(),
            reason,
        };
        let mut r = Reader { bytes, at: 0 };
        let binary_version = r.u32().map_err(&bad)?;
        if !CT2_VERSIONS.contains(&binary_version) {
            return Err(bad(format!(
                "binary version {binary_version}; this reader reads {CT2_VERSIONS:?}"
            )));
        }
        let spec = r.string().map_err(|e| bad(format!("spec name: {e}")))?;
        let revision = r.u32().map_err(&bad)?;
        let count = r.u32().map_err(&bad)?;
        let mut variables = BTreeMap::new();
        for i in 0..count {
            let var = r
                .string()
                .map_err(|e| bad(format!("variable {i}'s name: {e}")))?;
            let at = |e: String| bad(format!("variable {var:?}: {e}"));
            let rank = r.u8().map_err(at)?;
            let mut shape = Vec::with_capacity(usize::from(rank));
            for _ in 0..rank {
                shape.push(r.u32().map_err(at)? as usize);
            }
            let id = r.u8().map_err(at)?;
            let dtype =
                Ct2Dtype::from_id(id).ok_or_else(|| at(format!("type id {id} is not known")))?;
            let n = r.u32().map_err(at)? as usize;
            let elements = shape
                .iter()
                .try_fold(1usize, |a, &d| a.checked_mul(d))
                .and_then(|e| e.checked_mul(dtype.size()));
            if elements != Some(n) {
                return Err(at(format!(
                    "{n} bytes of payload for shape {shape:?} of {dtype:?}"
                )));
            }
            let data = r.take(n).map_err(at)?.to_vec();
            variables.insert(
                var,
                Ct2Variable {
                    shape,
                    dtype,
                    bytes: data,
                },
            );
        }
        let count = r.u32().map_err(|e| bad(format!("aliases: {e}")))?;
        let mut aliases = BTreeMap::new();
        for i in 0..count {
            let alias = r.string().map_err(|e| bad(format!("alias {i}: {e}")))?;
            let target = r
                .string()
                .map_err(|e| bad(format!("alias {alias:?}: {e}")))?;
            if !variables.contains_key(&target) {
                return Err(bad(format!(
                    "alias {alias:?} names no variable ({target:?})"
                )));
            }
            aliases.insert(alias, target);
        }
        if r.at != bytes.len() {
            return Err(bad(format!(
                "{} bytes after the last alias",
                bytes.len() - r.at
            )));
        }
        Ok(Ct2Model {
            binary_version,
            spec,
            revision,
            variables,
            aliases,
        })
    }

    /// The variable `name`, or the one it is an alias of.
    pub fn get(&self, name: &str) -> Option<&Ct2Variable> {
        self.variables
            .get(name)
            .or_else(|| self.variables.get(self.aliases.get(name)?))
    }
}

/// A cursor over the file's bytes; errors say what ran out.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> std::result::Result<&'a [u8], String> {
        let end = self.at.checked_add(n).filter(|&e| e <= self.bytes.len());
        let Some(end) = end else {
            return Err(format!(
                "the file ends {} bytes into a {n}-byte field at offset {}",
                self.bytes.len() - self.at,
                self.at
            ));
        };
        let out = &self.bytes[self.at..end];
        self.at = end;
        Ok(out)
    }

    fn u8(&mut self) -> std::result::Result<u8, String> {
        Ok(self.take(1)?[0])
    }

    fn u32(&mut self) -> std::result::Result<u32, String> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn string(&mut self) -> std::result::Result<String, String> {
        let b = self.take(2)?;
        let n = usize::from(u16::from_le_bytes([b[0], b[1]]));
        if n == 0 {
            return Err("a string of length 0 (its NUL is counted)".into());
        }
        let b = self.take(n)?;
        if b[n - 1] != 0 {
            return Err("a string without its closing NUL".into());
        }
        String::from_utf8(b[..n - 1].to_vec()).map_err(|_| "a string that is not UTF-8".into())
    }
}

//! GGUF v3 files (ggml's `docs/gguf.md`): metadata and tensors, read and written.
//!
//! Models (llama.cpp's `SmolLM2-135M-Instruct.Q4_1.gguf`) and LoRA adapters
//! (`general.type = "adapter"`) come in this format. The reader checks every count,
//! length and offset against the file before it trusts it, so a truncated or corrupt file
//! is an [`Error::Gguf`] naming the header field, metadata key or tensor, never a panic
//! (a key or tensor name that appears twice is refused, as llama.cpp refuses it)
//! (fuzzed: `fuzz/fuzz_targets/gguf.rs`). Tensor dimensions are ggml's order: `dims[0]`
//! is the fastest-varying (a weight `[out, in]` is stored with `dims = [in, out]`).
//!
//! ```
//! use whet_core::gguf::{Gguf, GgufWriter, Value};
//! use whet_core::quant::GgmlType;
//! let mut w = GgufWriter::new();
//! w.set("general.architecture", Value::String("llama".into()));
//! w.add_tensor("tok", &[32, 2], GgmlType::F32, (0..64).flat_map(|i| (i as f32).to_le_bytes()).collect())?;
//! let bytes = w.to_bytes();
//! let file = Gguf::from_bytes(bytes.into(), "mem.gguf")?;
//! assert_eq!(file.str("general.architecture")?, "llama");
//! assert_eq!(file.tensor_f32("tok")?[33], 33.0);
//! # Ok::<(), whet_core::Error>(())
//! ```

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::quant::{GgmlType, PackedMatrix, dequantize};

mod writer;
pub use writer::GgufWriter;

pub(crate) const MAGIC: &[u8; 4] = b"GGUF";
pub(crate) const DEFAULT_ALIGNMENT: u64 = 32;
pub(crate) const MAX_ALIGNMENT: u64 = 1 << 20;
/// ggml's `GGML_MAX_DIMS`.
const MAX_DIMS: u32 = 4;
const MAX_ARRAY_DEPTH: usize = 4;

/// A metadata value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `UINT8`
    U8(u8),
    /// `INT8`
    I8(i8),
    /// `UINT16`
    U16(u16),
    /// `INT16`
    I16(i16),
    /// `UINT32`
    U32(u32),
    /// `INT32`
    I32(i32),
    /// `FLOAT32`
    F32(f32),
    /// `BOOL`
    Bool(bool),
    /// `STRING`
    String(String),
    /// `ARRAY` of one element type (`element` is its GGUF type id, kept so an empty array
    /// writes back as it was read).
    Array {
        /// GGUF type id of the elements.
        element: u32,
        /// The elements.
        values: Vec<Value>,
    },
    /// `UINT64`
    U64(u64),
    /// `INT64`
    I64(i64),
    /// `FLOAT64`
    F64(f64),
}

impl Value {
    pub(crate) fn type_id(&self) -> u32 {
        match self {
            Value::U8(_) => 0,
            Value::I8(_) => 1,
            Value::U16(_) => 2,
            Value::I16(_) => 3,
            Value::U32(_) => 4,
            Value::I32(_) => 5,
            Value::F32(_) => 6,
            Value::Bool(_) => 7,
            Value::String(_) => 8,
            Value::Array { .. } => 9,
            Value::U64(_) => 10,
            Value::I64(_) => 11,
            Value::F64(_) => 12,
        }
    }

    /// An array of strings.
    pub fn strings<S: Into<String>>(items: impl IntoIterator<Item = S>) -> Value {
        Value::Array {
            element: 8,
            values: items.into_iter().map(|s| Value::String(s.into())).collect(),
        }
    }

    /// The value as an unsigned integer, whichever integer type holds it.
    pub fn as_u64(&self) -> Option<u64> {
        match *self {
            Value::U8(v) => Some(v.into()),
            Value::U16(v) => Some(v.into()),
            Value::U32(v) => Some(v.into()),
            Value::U64(v) => Some(v),
            Value::I8(v) => u64::try_from(v).ok(),
            Value::I16(v) => u64::try_from(v).ok(),
            Value::I32(v) => u64::try_from(v).ok(),
            Value::I64(v) => u64::try_from(v).ok(),
            _ => None,
        }
    }

    /// The value as a float, whichever number type holds it.
    pub fn as_f64(&self) -> Option<f64> {
        match *self {
            Value::F32(v) => Some(v.into()),
            Value::F64(v) => Some(v),
            Value::I8(v) => Some(v.into()),
            Value::I16(v) => Some(v.into()),
            Value::I32(v) => Some(v.into()),
            Value::I64(v) => Some(v as f64),
            _ => self.as_u64().map(|v| v as f64),
        }
    }
}

/// Where a tensor is and what it holds.
#[derive(Debug, Clone, PartialEq)]
pub struct TensorInfo {
    /// Its name (`blk.0.attn_q.weight`).
    pub name: String,
    /// Dimensions, fastest-varying first (ggml's `ne`).
    pub dims: Vec<u64>,
    /// Its ggml type id (see [`TensorInfo::ty`]).
    pub type_id: u32,
    /// Offset of its bytes from the start of the data section.
    pub offset: u64,
}

impl TensorInfo {
    /// Number of values (saturating: a file may claim more than fits in a `u64`).
    pub fn len(&self) -> u64 {
        self.dims.iter().fold(1u64, |a, &d| a.saturating_mul(d))
    }

    /// Whether it holds no values.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Its type; `None` for one this crate does not read.
    pub fn ty(&self) -> Option<GgmlType> {
        GgmlType::from_id(self.type_id)
    }
}

/// A GGUF file held in memory.
#[derive(Debug, Clone)]
pub struct Gguf {
    path: PathBuf,
    /// Format version (2 or 3).
    pub version: u32,
    /// Metadata, in file order.
    pub metadata: Vec<(String, Value)>,
    /// Tensors, in file order.
    pub tensors: Vec<TensorInfo>,
    data_start: usize,
    bytes: Arc<[u8]>,
}

struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
    path: &'a Path,
}

impl<'a> Cursor<'a> {
    fn fail(&self, at: impl Into<String>, reason: impl Into<String>) -> Error {
        Error::Gguf {
            path: self.path.to_owned(),
            at: at.into(),
            reason: reason.into(),
        }
    }

    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8]> {
        let end = self.at.checked_add(n).filter(|&e| e <= self.bytes.len());
        let Some(end) = end else {
            return Err(self.fail(
                what,
                format!(
                    "cut short: needs {n} bytes at offset {}, the file has {}",
                    self.at,
                    self.bytes.len()
                ),
            ));
        };
        let out = &self.bytes[self.at..end];
        self.at = end;
        Ok(out)
    }

    fn array<const N: usize>(&mut self, what: &str) -> Result<[u8; N]> {
        Ok(self.take(N, what)?.try_into().expect("N bytes"))
    }

    fn u32(&mut self, what: &str) -> Result<u32> {
        Ok(u32::from_le_bytes(self.array(what)?))
    }

    fn u64(&mut self, what: &str) -> Result<u64> {
        Ok(u64::from_le_bytes(self.array(what)?))
    }

    /// A count of items of at least `min_item` bytes each, checked against what is left.
    fn count(&mut self, what: &str, min_item: usize) -> Result<usize> {
        let n = self.u64(what)?;
        let left = (self.bytes.len() - self.at) as u64;
        if n.saturating_mul(min_item as u64) > left {
            return Err(self.fail(
                what,
                format!("{n} items cannot fit in the {left} bytes left"),
            ));
        }
        Ok(n as usize)
    }

    fn string(&mut self, what: &str) -> Result<String> {
        let n = self.count(what, 1)?;
        let raw = self.take(n, what)?;
        String::from_utf8(raw.to_vec()).map_err(|e| self.fail(what, format!("not UTF-8: {e}")))
    }

    fn value(&mut self, type_id: u32, what: &str, depth: usize) -> Result<Value> {
        Ok(match type_id {
            0 => Value::U8(self.array::<1>(what)?[0]),
            1 => Value::I8(self.array::<1>(what)?[0] as i8),
            2 => Value::U16(u16::from_le_bytes(self.array(what)?)),
            3 => Value::I16(i16::from_le_bytes(self.array(what)?)),
            4 => Value::U32(self.u32(what)?),
            5 => Value::I32(i32::from_le_bytes(self.array(what)?)),
            6 => Value::F32(f32::from_le_bytes(self.array(what)?)),
            7 => match self.array::<1>(what)?[0] {
                0 => Value::Bool(false),
                1 => Value::Bool(true),
                b => return Err(self.fail(what, format!("bool byte {b}"))),
            },
            8 => Value::String(self.string(what)?),
            9 => {
                if depth >= MAX_ARRAY_DEPTH {
                    return Err(self.fail(what, "arrays nested too deep"));
                }
                let element = self.u32(what)?;
                let min = match element {
                    0 | 1 | 7 => 1,
                    2 | 3 => 2,
                    4..=6 => 4,
                    8..=12 => 8,
                    t => return Err(self.fail(what, format!("unknown array element type {t}"))),
                };
                let n = self.count(what, min)?;
                let mut values = Vec::with_capacity(n);
                for _ in 0..n {
                    values.push(self.value(element, what, depth + 1)?);
                }
                Value::Array { element, values }
            }
            10 => Value::U64(self.u64(what)?),
            11 => Value::I64(i64::from_le_bytes(self.array(what)?)),
            12 => Value::F64(f64::from_le_bytes(self.array(what)?)),
            t => return Err(self.fail(what, format!("unknown value type {t}"))),
        })
    }
}

impl Gguf {
    /// Reads the file at `path`.
    ///
    /// # Errors
    /// [`Error::File`] when it cannot be read; [`Error::Gguf`] when it is not GGUF v2/v3,
    /// or any count, string, value or tensor runs past its end.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|e| Error::file(path, e))?;
        Self::from_bytes(bytes.into(), path)
    }

    /// Parses a file held in memory; `path` names it in errors.
    ///
    /// # Errors
    /// As [`Gguf::open`].
    pub fn from_bytes(bytes: Arc<[u8]>, path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let mut c = Cursor {
            bytes: &bytes,
            at: 0,
            path,
        };
        if c.take(4, "magic")? != MAGIC {
            return Err(c.fail("magic", "not a GGUF file"));
        }
        let version = c.u32("version")?;
        if !(2..=3).contains(&version) {
            return Err(c.fail(
                "version",
                format!("version {version}; this reader reads 2 and 3"),
            ));
        }
        let n_tensors = c.count("tensor count", 8 + 4 + 4 + 8)?;
        let n_kv = c.count("metadata count", 8 + 4 + 1)?;
        let mut metadata = Vec::with_capacity(n_kv);
        let mut keys = std::collections::HashSet::new();
        for i in 0..n_kv {
            let key = c.string(&format!("metadata key {i}"))?;
            let at = format!("metadata {key}");
            if !keys.insert(key.clone()) {
                return Err(c.fail(at, "the key appears twice"));
            }
            let type_id = c.u32(&at)?;
            let value = c.value(type_id, &at, 0)?;
            metadata.push((key, value));
        }
        let mut tensors = Vec::with_capacity(n_tensors);
        let mut names = std::collections::HashSet::new();
        for i in 0..n_tensors {
            let name = c.string(&format!("tensor {i} name"))?;
            let at = format!("tensor {name}");
            if !names.insert(name.clone()) {
                return Err(c.fail(at, "the name appears twice"));
            }
            let n_dims = c.u32(&at)?;
            if n_dims > MAX_DIMS {
                return Err(c.fail(
                    at,
                    format!("{n_dims} dimensions; ggml has at most {MAX_DIMS}"),
                ));
            }
            let mut dims = Vec::with_capacity(n_dims as usize);
            for _ in 0..n_dims {
                dims.push(c.u64(&at)?);
            }
            let type_id = c.u32(&at)?;
            let offset = c.u64(&at)?;
            tensors.push(TensorInfo {
                name,
                dims,
                type_id,
                offset,
            });
        }
        let mut file = Gguf {
            path: path.to_owned(),
            version,
            metadata,
            tensors,
            data_start: 0,
            bytes: bytes.clone(),
        };
        let align = file.alignment()?;
        let data_start = (c.at as u64).div_ceil(align) * align;
        file.data_start = usize::try_from(data_start).unwrap_or(usize::MAX);
        for t in &file.tensors {
            file.tensor_range(t)?;
        }
        Ok(file)
    }

    fn fail(&self, at: impl Into<String>, reason: impl Into<String>) -> Error {
        Error::Gguf {
            path: self.path.clone(),
            at: at.into(),
            reason: reason.into(),
        }
    }

    /// `general.alignment` (32 when absent).
    ///
    /// # Errors
    /// [`Error::Gguf`] when it is not a power of two of at most 1 MiB (llama.cpp writes
    /// 32; a larger one would only pad the file).
    pub fn alignment(&self) -> Result<u64> {
        match self.get("general.alignment") {
            None => Ok(DEFAULT_ALIGNMENT),
            Some(v) => match v.as_u64() {
                Some(a) if a.is_power_of_two() && a <= MAX_ALIGNMENT => Ok(a),
                _ => Err(self.fail(
                    "metadata general.alignment",
                    format!("{v:?} is not a power of two of at most {MAX_ALIGNMENT}"),
                )),
            },
        }
    }

    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.metadata.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    fn require(&self, key: &str) -> Result<&Value> {
        self.get(key)
            .ok_or_else(|| self.fail(format!("metadata {key}"), "missing"))
    }

    /// The string at `key`.
    ///
    /// # Errors
    /// [`Error::Gguf`] when it is missing or not a string.
    pub fn str(&self, key: &str) -> Result<&str> {
        match self.require(key)? {
            Value::String(s) => Ok(s),
            v => Err(self.fail(format!("metadata {key}"), format!("{v:?} is not a string"))),
        }
    }

    /// The unsigned integer at `key`.
    ///
    /// # Errors
    /// [`Error::Gguf`] when it is missing or not a non-negative integer.
    pub fn u64(&self, key: &str) -> Result<u64> {
        let v = self.require(key)?;
        v.as_u64().ok_or_else(|| {
            self.fail(
                format!("metadata {key}"),
                format!("{v:?} is not an unsigned integer"),
            )
        })
    }

    /// The number at `key`.
    ///
    /// # Errors
    /// [`Error::Gguf`] when it is missing or not a number.
    pub fn f64(&self, key: &str) -> Result<f64> {
        let v = self.require(key)?;
        v.as_f64()
            .ok_or_else(|| self.fail(format!("metadata {key}"), format!("{v:?} is not a number")))
    }

    /// The array of strings at `key`.
    ///
    /// # Errors
    /// [`Error::Gguf`] when it is missing or not an array of strings.
    pub fn strings(&self, key: &str) -> Result<Vec<&str>> {
        let at = format!("metadata {key}");
        match self.require(key)? {
            Value::Array { values, .. } => values
                .iter()
                .map(|v| match v {
                    Value::String(s) => Ok(s.as_str()),
                    v => Err(self.fail(at.clone(), format!("element {v:?} is not a string"))),
                })
                .collect(),
            v => Err(self.fail(at, format!("{v:?} is not an array"))),
        }
    }

    /// The tensor called `name`.
    ///
    /// # Errors
    /// [`Error::Gguf`] when there is none.
    pub fn tensor(&self, name: &str) -> Result<&TensorInfo> {
        self.tensors
            .iter()
            .find(|t| t.name == name)
            .ok_or_else(|| self.fail(format!("tensor {name}"), "not in the file"))
    }

    fn tensor_range(&self, t: &TensorInfo) -> Result<std::ops::Range<usize>> {
        let at = format!("tensor {}", t.name);
        let Some(ty) = t.ty() else {
            return Ok(0..0); // checked when it is read
        };
        let n = t
            .dims
            .iter()
            .try_fold(1u64, |a, &d| a.checked_mul(d))
            .and_then(|n| usize::try_from(n).ok())
            .ok_or_else(|| self.fail(&at, format!("dimensions {:?} overflow", t.dims)))?;
        let len = ty.bytes_of(n).map_err(|e| self.fail(&at, e.to_string()))?;
        if t.dims
            .first()
            .is_some_and(|&d| d % ty.block_len() as u64 != 0)
        {
            return Err(self.fail(
                &at,
                format!("rows of {} values are not whole {ty} blocks", t.dims[0]),
            ));
        }
        let start = usize::try_from(t.offset)
            .ok()
            .and_then(|o| o.checked_add(self.data_start));
        let range = start.and_then(|s| Some(s..s.checked_add(len)?));
        match range {
            Some(r) if r.end <= self.bytes.len() => Ok(r),
            _ => Err(self.fail(
                at,
                format!(
                    "{len} bytes at data offset {} run past the end of the file ({} bytes)",
                    t.offset,
                    self.bytes.len()
                ),
            )),
        }
    }

    /// The raw bytes of a tensor and its type.
    ///
    /// # Errors
    /// [`Error::Gguf`] for a missing tensor or a type this crate does not read.
    pub fn tensor_bytes(&self, name: &str) -> Result<(&[u8], GgmlType)> {
        let t = self.tensor(name)?;
        let ty = t.ty().ok_or_else(|| {
            self.fail(
                format!("tensor {name}"),
                format!("ggml type {} is not read here", t.type_id),
            )
        })?;
        Ok((&self.bytes[self.tensor_range(t)?], ty))
    }

    /// A tensor's values as f32, decoded from whatever type it is stored in.
    ///
    /// # Errors
    /// As [`Gguf::tensor_bytes`].
    pub fn tensor_f32(&self, name: &str) -> Result<Vec<f32>> {
        let (bytes, ty) = self.tensor_bytes(name)?;
        let n = bytes.len() / ty.block_bytes() * ty.block_len();
        let mut out = vec![0.0; n];
        dequantize(ty, bytes, &mut out)
            .map_err(|e| self.fail(format!("tensor {name}"), e.to_string()))?;
        Ok(out)
    }

    /// A 2-D tensor kept in its stored format, as `[rows, cols]` = `[dims[1], dims[0]]`.
    ///
    /// # Errors
    /// As [`Gguf::tensor_bytes`]; [`Error::Gguf`] when it is not 2-D.
    pub fn packed(&self, name: &str) -> Result<PackedMatrix> {
        let (bytes, ty) = self.tensor_bytes(name)?;
        let dims = &self.tensor(name)?.dims;
        let [cols, rows] = dims[..] else {
            return Err(self.fail(format!("tensor {name}"), format!("{dims:?} is not 2-D")));
        };
        PackedMatrix::new(ty, rows as usize, cols as usize, bytes.to_vec())
            .map_err(|e| self.fail(format!("tensor {name}"), e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<u8> {
        let mut w = GgufWriter::new();
        w.set("general.type", Value::String("adapter".into()))
            .set("adapter.lora.alpha", Value::F32(16.0))
            .set("tokenizer.ggml.tokens", Value::strings(["a", "b", "₱"]))
            .set("n", Value::U32(7));
        let q = crate::quant::quantize(GgmlType::Q4_1, &[0.5; 64]).unwrap();
        w.add_tensor("w.q", &[32, 2], GgmlType::Q4_1, q).unwrap();
        w.add_tensor(
            "w.f",
            &[3],
            GgmlType::F32,
            [1f32, 2., 3.]
                .iter()
                .flat_map(|v| v.to_le_bytes())
                .collect(),
        )
        .unwrap();
        w.to_bytes()
    }

    #[test]
    fn writes_and_reads_back() {
        let bytes = sample();
        let f = Gguf::from_bytes(bytes.clone().into(), "t.gguf").unwrap();
        assert_eq!(f.version, 3);
        assert_eq!(f.str("general.type").unwrap(), "adapter");
        assert_eq!(f.f64("adapter.lora.alpha").unwrap(), 16.0);
        assert_eq!(f.u64("n").unwrap(), 7);
        assert_eq!(f.strings("tokenizer.ggml.tokens").unwrap(), ["a", "b", "₱"]);
        assert_eq!(f.tensor_f32("w.f").unwrap(), [1.0, 2.0, 3.0]);
        assert_eq!(f.packed("w.q").unwrap().dims(), [2, 32]);
        assert!(f.tensor_f32("w.q").unwrap().iter().all(|&v| v == 0.5));
        // Rewriting what was read gives the same bytes.
        let mut w = GgufWriter::new();
        for (k, v) in &f.metadata {
            w.set(k.clone(), v.clone());
        }
        for t in &f.tensors {
            let (b, ty) = f.tensor_bytes(&t.name).unwrap();
            w.add_tensor(t.name.clone(), &t.dims, ty, b.to_vec())
                .unwrap();
        }
        assert_eq!(w.to_bytes(), bytes);
    }

    #[test]
    fn every_truncation_is_a_typed_error() {
        let bytes = sample();
        for cut in 0..bytes.len() - 1 {
            // Cuts inside the final padding still hold every tensor.
            let Err(e) = Gguf::from_bytes(bytes[..cut].to_vec().into(), "cut.gguf") else {
                assert!(cut >= bytes.len() - 32, "cut at {cut} read as a whole file");
                continue;
            };
            assert!(matches!(e, Error::Gguf { .. }), "{e}");
        }
        let mut wrong = bytes.clone();
        wrong[0] = b'X';
        assert!(
            Gguf::from_bytes(wrong.into(), "x")
                .unwrap_err()
                .to_string()
                .contains("not a GGUF")
        );
    }

    #[test]
    fn sizes_that_overflow_are_refused() {
        // 2^62 + 32 f32 values: their byte count wraps to 128 in 64-bit arithmetic.
        let mut bytes = sample();
        let f = Gguf::from_bytes(bytes.clone().into(), "t.gguf").unwrap();
        assert_eq!(f.tensors[1].dims, [3]);
        // The tensor's name, its dimension count (u32), then its one dimension (u64).
        let at = bytes.windows(3).position(|w| w == b"w.f").unwrap() + 3 + 4;
        assert_eq!(bytes[at..at + 8], 3u64.to_le_bytes());
        bytes[at..at + 8].copy_from_slice(&((1u64 << 62) + 32).to_le_bytes());
        let e = Gguf::from_bytes(bytes.into(), "t.gguf")
            .unwrap_err()
            .to_string();
        assert!(e.contains("tensor w.f"), "{e}");
    }

    #[test]
    fn an_alignment_of_gigabytes_is_refused() {
        // Found by the `gguf` fuzz target (out of memory) before alignments were
        // bounded: `general.alignment` = 2^33, an i64.
        let bytes: Vec<u8> = vec![
            71, 71, 85, 70, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 20, 0, 0,
            0, 0, 0, 0, 0, 103, 101, 0, 4, 114, 97, 108, 46, 97, 114, 99, 104, 105, 116, 101, 99,
            116, 117, 114, 101, 8, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0, 108, 108, 97, 109, 97, 12, 0,
            0, 0, 0, 0, 0, 0, 103, 101, 110, 101, 114, 97, 108, 46, 110, 97, 109, 101, 8, 0, 0, 0,
            4, 0, 0, 0, 0, 0, 0, 0, 115, 101, 101, 100, 17, 0, 0, 0, 0, 0, 0, 0, 103, 101, 110,
            101, 114, 97, 108, 46, 97, 108, 105, 103, 110, 109, 101, 110, 116, 11, 0, 0, 0, 0, 0,
            0, 0, 2, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 20, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0,
            0, 108, 108, 97, 109, 0, 0, 0, 0, 0, 0, 0, 0, 34, 7, 0, 0, 0, 0, 108, 0, 16, 2, 0, 199,
        ];
        let e = Gguf::from_bytes(bytes.into(), "fuzz.gguf")
            .unwrap_err()
            .to_string();
        assert!(e.contains("general.alignment"), "{e}");
    }

    #[test]
    fn repeated_keys_and_names_are_refused() {
        let mut w = GgufWriter::new();
        w.add_tensor("t", &[1], GgmlType::F32, vec![0; 4]).unwrap();
        w.add_tensor("t", &[1], GgmlType::F32, vec![0; 4]).unwrap();
        let e = Gguf::from_bytes(w.to_bytes().into(), "dup.gguf")
            .unwrap_err()
            .to_string();
        assert!(e.contains("tensor t") && e.contains("twice"), "{e}");
    }

    #[test]
    fn missing_keys_and_tensors_are_named() {
        let f = Gguf::from_bytes(sample().into(), "t.gguf").unwrap();
        let e = f.str("general.name").unwrap_err().to_string();
        assert!(e.contains("general.name") && e.contains("t.gguf"), "{e}");
        let e = f.tensor_f32("blk.0.attn_q.weight").unwrap_err().to_string();
        assert!(e.contains("blk.0.attn_q.weight"), "{e}");
        assert!(f.str("n").is_err());
    }
}

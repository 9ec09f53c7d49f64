//! A small reader for the ONNX files PP-OCR ships (paddle2onnx output): the graph's nodes
//! with their attributes, every tensor stored in the file (as initializers or, as
//! paddle2onnx writes them, `Constant` nodes), and the model's metadata (where the
//! recognizer keeps its character dictionary).
//!
//! ONNX is protocol buffers; only the fields Whetstone reads are decoded (field numbers
//! from `onnx.proto3`), unknown fields are skipped, and anything malformed is an
//! [`Error::Weights`] naming the file and what was wrong, never a panic.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// A tensor stored in an ONNX file.
#[derive(Debug, Clone, PartialEq)]
pub struct OnnxTensor {
    /// Its name (for `Constant` nodes, the node's output).
    pub name: String,
    /// Its shape.
    pub dims: Vec<usize>,
    /// Its values.
    pub data: TensorData,
}

/// The values of an [`OnnxTensor`], in row-major order.
#[derive(Debug, Clone, PartialEq)]
pub enum TensorData {
    /// `FLOAT`.
    F32(Vec<f32>),
    /// `INT64`.
    I64(Vec<i64>),
    /// `INT32`.
    I32(Vec<i32>),
    /// Any other element type (its ONNX `DataType` number), kept as raw bytes.
    Other(i32, Vec<u8>),
}

/// An attribute value of a node.
#[derive(Debug, Clone, PartialEq)]
pub enum Attribute {
    /// `FLOAT`.
    Float(f32),
    /// `INT`.
    Int(i64),
    /// `STRING`.
    Bytes(Vec<u8>),
    /// `TENSOR`.
    Tensor(OnnxTensor),
    /// `FLOATS`.
    Floats(Vec<f32>),
    /// `INTS`.
    Ints(Vec<i64>),
}

/// One node of the graph.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct OnnxNode {
    /// The node's name.
    pub name: String,
    /// The operator (`Conv`, `Add`, ...).
    pub op_type: String,
    /// Input value names.
    pub inputs: Vec<String>,
    /// Output value names.
    pub outputs: Vec<String>,
    /// Attributes by name.
    pub attributes: HashMap<String, Attribute>,
}

impl OnnxNode {
    /// An `INTS` attribute, or `default` when absent.
    pub fn ints(&self, name: &str, default: &[i64]) -> Vec<i64> {
        match self.attributes.get(name) {
            Some(Attribute::Ints(v)) => v.clone(),
            _ => default.to_vec(),
        }
    }

    /// An `INT` attribute, or `default` when absent.
    pub fn int(&self, name: &str, default: i64) -> i64 {
        match self.attributes.get(name) {
            Some(Attribute::Int(v)) => *v,
            _ => default,
        }
    }

    /// A `FLOAT` attribute, or `default` when absent.
    pub fn float(&self, name: &str, default: f32) -> f32 {
        match self.attributes.get(name) {
            Some(Attribute::Float(v)) => *v,
            _ => default,
        }
    }
}

/// A whole ONNX file: its graph, stored tensors and metadata.
#[derive(Debug, Clone, Default)]
pub struct OnnxModel {
    /// Where it was read from.
    pub path: PathBuf,
    /// The graph's nodes in file (topological) order, `Constant` nodes included.
    pub nodes: Vec<OnnxNode>,
    /// Every stored tensor by name: initializers and `Constant` node values.
    pub tensors: HashMap<String, OnnxTensor>,
    /// `metadata_props` as key/value pairs.
    pub metadata: HashMap<String, String>,
    /// The graph's input names.
    pub inputs: Vec<String>,
    /// The graph's output names.
    pub outputs: Vec<String>,
}

impl OnnxModel {
    /// Reads an ONNX file.
    ///
    /// # Errors
    /// [`Error::Core`] when it cannot be read; [`Error::Weights`] when it is not a
    /// well-formed ONNX model.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|e| whet_core::Error::file(path, e))?;
        Self::from_bytes(&bytes, path)
    }

    /// Decodes ONNX bytes; `path` names them in errors.
    ///
    /// # Errors
    /// [`Error::Weights`] when they are not a well-formed ONNX model.
    pub fn from_bytes(bytes: &[u8], path: &Path) -> Result<Self> {
        let bad = |reason: String| Error::weights(path, reason);
        let mut model = OnnxModel {
            path: path.to_owned(),
            ..OnnxModel::default()
        };
        let mut graph = None;
        for field in Fields::new(bytes) {
            let (number, value) = field.map_err(|e| bad(format!("not an ONNX model: {e}")))?;
            match (number, value) {
                (7, Value::Bytes(g)) => graph = Some(g),
                (14, Value::Bytes(kv)) => {
                    let (mut key, mut val) = (String::new(), String::new());
                    for f in Fields::new(kv) {
                        match f.map_err(|e| bad(format!("metadata: {e}")))? {
                            (1, Value::Bytes(b)) => key = utf8(b).map_err(&bad)?,
                            (2, Value::Bytes(b)) => val = utf8(b).map_err(&bad)?,
                            _ => {}
                        }
                    }
                    model.metadata.insert(key, val);
                }
                _ => {}
            }
        }
        let graph = graph.ok_or_else(|| bad("no graph: not an ONNX model".into()))?;
        for field in Fields::new(graph) {
            match field.map_err(|e| bad(format!("graph: {e}")))? {
                (1, Value::Bytes(n)) => {
                    let node =
                        node(n).map_err(|e| bad(format!("node {}: {e}", model.nodes.len())))?;
                    if node.op_type == "Constant"
                        && let Some(Attribute::Tensor(t)) = node.attributes.get("value")
                    {
                        let mut t = t.clone();
                        t.name.clone_from(&node.outputs[0]);
                        model.tensors.insert(t.name.clone(), t);
                    }
                    model.nodes.push(node);
                }
                (5, Value::Bytes(t)) => {
                    let t = tensor(t).map_err(|e| bad(format!("initializer: {e}")))?;
                    model.tensors.insert(t.name.clone(), t);
                }
                (11, Value::Bytes(v)) => model.inputs.push(value_name(v).map_err(&bad)?),
                (12, Value::Bytes(v)) => model.outputs.push(value_name(v).map_err(&bad)?),
                _ => {}
            }
        }
        if model.nodes.is_empty() {
            return Err(bad("the graph has no nodes".into()));
        }
        Ok(model)
    }

    /// A stored `FLOAT` tensor by name.
    ///
    /// # Errors
    /// [`Error::Weights`] when there is none of that name, or it is not `FLOAT`.
    pub fn f32(&self, name: &str) -> Result<(&[usize], &[f32])> {
        match self.tensors.get(name) {
            Some(OnnxTensor {
                dims,
                data: TensorData::F32(v),
                ..
            }) => Ok((dims, v)),
            Some(_) => Err(Error::weights(
                &self.path,
                format!("tensor {name} is not FLOAT"),
            )),
            None => Err(Error::weights(&self.path, format!("no tensor {name}"))),
        }
    }
}

fn utf8(b: &[u8]) -> std::result::Result<String, String> {
    String::from_utf8(b.to_vec()).map_err(|_| "a string that is not UTF-8".to_owned())
}

fn value_name(v: &[u8]) -> std::result::Result<String, String> {
    for f in Fields::new(v) {
        if let (1, Value::Bytes(b)) = f? {
            return utf8(b);
        }
    }
    Ok(String::new())
}

fn node(bytes: &[u8]) -> std::result::Result<OnnxNode, String> {
    let mut n = OnnxNode::default();
    for f in Fields::new(bytes) {
        match f? {
            (1, Value::Bytes(b)) => n.inputs.push(utf8(b)?),
            (2, Value::Bytes(b)) => n.outputs.push(utf8(b)?),
            (3, Value::Bytes(b)) => n.name = utf8(b)?,
            (4, Value::Bytes(b)) => n.op_type = utf8(b)?,
            (5, Value::Bytes(b)) => {
                let (name, value) = attribute(b)?;
                if let Some(v) = value {
                    n.attributes.insert(name, v);
                }
            }
            _ => {}
        }
    }
    if n.op_type.is_empty() {
        return Err("a node without an operator".into());
    }
    if n.op_type == "Constant" && n.outputs.is_empty() {
        return Err("a Constant node without an output".into());
    }
    Ok(n)
}

fn attribute(bytes: &[u8]) -> std::result::Result<(String, Option<Attribute>), String> {
    let mut name = String::new();
    let (mut f, mut i, mut s, mut t) = (None, None, None, None);
    let (mut floats, mut ints) = (Vec::new(), Vec::new());
    let mut kind = 0;
    for field in Fields::new(bytes) {
        match field? {
            (1, Value::Bytes(b)) => name = utf8(b)?,
            (2, Value::Fixed32(v)) => f = Some(f32::from_bits(v)),
            (3, Value::Varint(v)) => i = Some(v as i64),
            (4, Value::Bytes(b)) => s = Some(b.to_vec()),
            (5, Value::Bytes(b)) => t = Some(tensor(b)?),
            (7, Value::Fixed32(v)) => floats.push(f32::from_bits(v)),
            (7, Value::Bytes(b)) => {
                for c in b.chunks(4) {
                    let c: [u8; 4] = c.try_into().map_err(|_| "packed floats cut short")?;
                    floats.push(f32::from_le_bytes(c));
                }
            }
            (8, Value::Varint(v)) => ints.push(v as i64),
            (8, Value::Bytes(b)) => {
                for v in Fields::packed_varints(b) {
                    ints.push(v? as i64);
                }
            }
            (20, Value::Varint(v)) => kind = v,
            _ => {}
        }
    }
    // AttributeProto.AttributeType: FLOAT 1, INT 2, STRING 3, TENSOR 4, FLOATS 6, INTS 7.
    let value = match kind {
        1 => f.map(Attribute::Float),
        2 => i.map(Attribute::Int),
        3 => s.map(Attribute::Bytes),
        4 => t.map(Attribute::Tensor),
        6 => Some(Attribute::Floats(floats)),
        7 => Some(Attribute::Ints(ints)),
        _ => None,
    };
    Ok((name, value))
}

fn tensor(bytes: &[u8]) -> std::result::Result<OnnxTensor, String> {
    let mut dims = Vec::new();
    let mut data_type = 0i32;
    let mut name = String::new();
    let mut raw: Option<&[u8]> = None;
    let (mut floats, mut i64s, mut i32s) = (Vec::new(), Vec::new(), Vec::new());
    for f in Fields::new(bytes) {
        match f? {
            (1, Value::Varint(v)) => dims.push(v as i64),
            (1, Value::Bytes(b)) => {
                for v in Fields::packed_varints(b) {
                    dims.push(v? as i64);
                }
            }
            (2, Value::Varint(v)) => data_type = v as i32,
            (4, Value::Fixed32(v)) => floats.push(f32::from_bits(v)),
            (4, Value::Bytes(b)) => {
                for c in b.chunks(4) {
                    let c: [u8; 4] = c.try_into().map_err(|_| "packed floats cut short")?;
                    floats.push(f32::from_le_bytes(c));
                }
            }
            (5, Value::Varint(v)) => i32s.push(v as i32),
            (5, Value::Bytes(b)) => {
                for v in Fields::packed_varints(b) {
                    i32s.push(v? as i32);
                }
            }
            (7, Value::Varint(v)) => i64s.push(v as i64),
            (7, Value::Bytes(b)) => {
                for v in Fields::packed_varints(b) {
                    i64s.push(v? as i64);
                }
            }
            (8, Value::Bytes(b)) => name = utf8(b)?,
            (9, Value::Bytes(b)) => raw = Some(b),
            _ => {}
        }
    }
    if dims.iter().any(|&d| d < 0) {
        return Err(format!("tensor {name}: negative dimension in {dims:?}"));
    }
    let dims: Vec<usize> = dims.into_iter().map(|d| d as usize).collect();
    let count = dims
        .iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d))
        .ok_or_else(|| format!("tensor {name}: shape {dims:?} overflows"))?;
    let from_raw = |width: usize| -> std::result::Result<Option<&[u8]>, String> {
        match raw {
            Some(r) if r.len() != count * width => Err(format!(
                "tensor {name}: {} bytes for shape {dims:?} of {width}-byte values",
                r.len()
            )),
            r => Ok(r),
        }
    };
    // TensorProto.DataType: FLOAT 1, INT32 6, INT64 7.
    let data = match data_type {
        1 => TensorData::F32(match from_raw(4)? {
            Some(r) => r
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect(),
            None => floats,
        }),
        6 => TensorData::I32(match from_raw(4)? {
            Some(r) => r
                .chunks_exact(4)
                .map(|c| i32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect(),
            None => i32s,
        }),
        7 => TensorData::I64(match from_raw(8)? {
            Some(r) => r
                .chunks_exact(8)
                .map(|c| i64::from_le_bytes(c.try_into().unwrap_or([0; 8])))
                .collect(),
            None => i64s,
        }),
        other => TensorData::Other(other, raw.unwrap_or_default().to_vec()),
    };
    let len = match &data {
        TensorData::F32(v) => v.len(),
        TensorData::I64(v) => v.len(),
        TensorData::I32(v) => v.len(),
        TensorData::Other(..) => count,
    };
    if len != count {
        return Err(format!(
            "tensor {name}: {len} values for shape {dims:?} ({count})"
        ));
    }
    Ok(OnnxTensor { name, dims, data })
}

/// A protocol-buffer field value.
enum Value<'a> {
    Varint(u64),
    /// An 8-byte value (no field Whetstone reads has one).
    Fixed64,
    Bytes(&'a [u8]),
    Fixed32(u32),
}

/// The fields of one protocol-buffer message, in order.
struct Fields<'a> {
    rest: &'a [u8],
    failed: bool,
}

impl<'a> Fields<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Fields {
            rest: bytes,
            failed: false,
        }
    }

    fn varint(&mut self) -> std::result::Result<u64, String> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let (&b, rest) = self.rest.split_first().ok_or("cut short inside a number")?;
            self.rest = rest;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err("a number longer than 10 bytes".into())
    }

    fn take(&mut self, n: usize) -> std::result::Result<&'a [u8], String> {
        if n > self.rest.len() {
            return Err(format!(
                "cut short: a field of {n} bytes with {} left",
                self.rest.len()
            ));
        }
        let (a, b) = self.rest.split_at(n);
        self.rest = b;
        Ok(a)
    }

    fn packed_varints(
        bytes: &'a [u8],
    ) -> impl Iterator<Item = std::result::Result<u64, String>> + 'a {
        let mut f = Fields::new(bytes);
        std::iter::from_fn(move || (!f.rest.is_empty()).then(|| f.varint()))
    }

    fn field(&mut self) -> std::result::Result<(u32, Value<'a>), String> {
        let key = self.varint()?;
        let number = u32::try_from(key >> 3).map_err(|_| "field number out of range")?;
        let value = match key & 7 {
            0 => Value::Varint(self.varint()?),
            1 => {
                self.take(8)?;
                Value::Fixed64
            }
            2 => {
                let n = usize::try_from(self.varint()?).map_err(|_| "length out of range")?;
                Value::Bytes(self.take(n)?)
            }
            5 => Value::Fixed32(u32::from_le_bytes(
                self.take(4)?.try_into().map_err(|_| "cut short")?,
            )),
            w => return Err(format!("unknown wire type {w} (field {number})")),
        };
        Ok((number, value))
    }
}

impl<'a> Iterator for Fields<'a> {
    type Item = std::result::Result<(u32, Value<'a>), String>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.rest.is_empty() {
            return None;
        }
        let f = self.field();
        self.failed = f.is_err();
        Some(f)
    }
}

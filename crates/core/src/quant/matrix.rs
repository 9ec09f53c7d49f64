//! A matrix kept in a ggml block format.

use std::sync::Arc;

use super::{GgmlType, dequantize, quantize};
use crate::error::{Error, Result};

/// A `[rows, cols]` matrix stored row by row in a ggml format (each row a whole number
/// of blocks: ggml's `ne[0]` is `cols`), shared cheaply between clones. A quantised base
/// weight stays in this form; it is decoded to floats only where it is used.
#[derive(Clone, PartialEq)]
pub struct PackedMatrix {
    ty: GgmlType,
    rows: usize,
    cols: usize,
    bytes: Arc<[u8]>,
}

impl std::fmt::Debug for PackedMatrix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "PackedMatrix({} [{}, {}])",
            self.ty, self.rows, self.cols
        )
    }
}

impl PackedMatrix {
    /// Wraps `bytes` holding `rows` rows of `cols` values of type `ty`.
    ///
    /// # Errors
    /// [`Error::Quant`] when `cols` is not a whole number of blocks or `bytes` has another
    /// length.
    pub fn new(
        ty: GgmlType,
        rows: usize,
        cols: usize,
        bytes: impl Into<Arc<[u8]>>,
    ) -> Result<Self> {
        let bytes = bytes.into();
        let expected = ty.bytes_of(cols)?.checked_mul(rows);
        if expected != Some(bytes.len()) {
            return Err(Error::Quant {
                format: ty.name(),
                reason: format!(
                    "{} bytes for [{rows}, {cols}], expected {expected:?}",
                    bytes.len()
                ),
            });
        }
        Ok(PackedMatrix {
            ty,
            rows,
            cols,
            bytes,
        })
    }

    /// Quantises row-major `values` of a `[rows, cols]` matrix to `ty`.
    ///
    /// # Errors
    /// As [`quantize`]; [`Error::Quant`] when `values` is not `rows * cols` long.
    pub fn quantize(ty: GgmlType, rows: usize, cols: usize, values: &[f32]) -> Result<Self> {
        if values.len() != rows * cols {
            return Err(Error::Quant {
                format: ty.name(),
                reason: format!("{} values for [{rows}, {cols}]", values.len()),
            });
        }
        let mut bytes = Vec::with_capacity(ty.bytes_of(cols)? * rows);
        for row in values.chunks_exact(cols.max(1)).take(rows) {
            bytes.extend(quantize(ty, row)?);
        }
        Self::new(ty, rows, cols, bytes)
    }

    /// The format.
    pub fn ty(&self) -> GgmlType {
        self.ty
    }

    /// `[rows, cols]`.
    pub fn dims(&self) -> [usize; 2] {
        [self.rows, self.cols]
    }

    /// The stored bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The bytes of row `i`.
    ///
    /// # Panics
    /// When `i` is not a row.
    pub fn row_bytes(&self, i: usize) -> &[u8] {
        let n = self.bytes.len() / self.rows.max(1);
        &self.bytes[i * n..(i + 1) * n]
    }

    /// The values of the given rows, one after the other (an embedding lookup).
    ///
    /// # Errors
    /// [`Error::Quant`] naming a row index past the last.
    pub fn rows_f32(&self, rows: &[usize]) -> Result<Vec<f32>> {
        let mut out = vec![0.0; rows.len() * self.cols];
        for (&r, y) in rows.iter().zip(out.chunks_exact_mut(self.cols.max(1))) {
            if r >= self.rows {
                return Err(Error::Quant {
                    format: self.ty.name(),
                    reason: format!("row {r} of a matrix of {} rows", self.rows),
                });
            }
            dequantize(self.ty, self.row_bytes(r), y)?;
        }
        Ok(out)
    }

    /// The matrix with its rows reordered: row `i` of the result is row `order[i]` of
    /// this one (whole rows of blocks move, nothing is re-quantised).
    ///
    /// # Errors
    /// [`Error::Quant`] when `order` is not a permutation of the rows.
    pub fn permute_rows(&self, order: &[usize]) -> Result<Self> {
        let mut seen = vec![false; self.rows];
        for &r in order {
            if r >= self.rows || std::mem::replace(&mut seen[r], true) {
                return Err(Error::Quant {
                    format: self.ty.name(),
                    reason: format!("{order:?} is not a permutation of {} rows", self.rows),
                });
            }
        }
        if order.len() != self.rows {
            return Err(Error::Quant {
                format: self.ty.name(),
                reason: format!("{} rows ordered of {}", order.len(), self.rows),
            });
        }
        let bytes: Vec<u8> = order
            .iter()
            .flat_map(|&r| self.row_bytes(r).iter().copied())
            .collect();
        Self::new(self.ty, self.rows, self.cols, bytes)
    }

    /// Every value, row-major.
    pub fn to_f32(&self) -> Vec<f32> {
        let mut out = vec![0.0; self.rows * self.cols];
        dequantize(self.ty, &self.bytes, &mut out).expect("validated in new");
        out
    }
}

#[cfg(feature = "burn")]
impl PackedMatrix {
    /// The matrix as a float tensor `[rows, cols]` on `device`.
    pub fn to_tensor(&self, device: &burn::tensor::Device) -> burn::tensor::Tensor<2> {
        let data = burn::tensor::TensorData::new(self.to_f32(), [self.rows, self.cols]);
        burn::tensor::Tensor::from_data(data, device)
    }

    /// The matrix transposed, `[cols, rows]`, as a contiguous float tensor on `device`
    /// (the layout `x W` multiplies with; a transposed view would be copied by every
    /// product).
    pub fn to_tensor_transposed(&self, device: &burn::tensor::Device) -> burn::tensor::Tensor<2> {
        let v = self.to_f32();
        let (r, c) = (self.rows, self.cols);
        let mut t = vec![0.0f32; v.len()];
        for i in 0..r {
            for j in 0..c {
                t[j * r + i] = v[i * c + j];
            }
        }
        burn::tensor::Tensor::from_data(burn::tensor::TensorData::new(t, [c, r]), device)
    }
}

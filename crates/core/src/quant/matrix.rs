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

    /// `x W^T`: `x` is `[m, cols]` row-major, the result `[m, rows]` (a linear layer's
    /// product with this matrix as its `[out, in]` weight), computed without decoding
    /// the matrix. Q4_1 and Q8_0 compute as llama.cpp's CPU backend does (activations
    /// quantised to 8-bit blocks, integer block products: the same results as its
    /// `ggml_vec_dot_q4_1_q8_1` and `ggml_vec_dot_q8_0_q8_0`), spread over rayon's
    /// threads by rows; other formats decode one row at a time.
    ///
    /// ```
    /// use whet_core::quant::{GgmlType, PackedMatrix};
    /// let w: Vec<f32> = (0..2 * 64).map(|i| (i % 7) as f32 - 3.0).collect();
    /// let packed = PackedMatrix::quantize(GgmlType::Q8_0, 2, 64, &w)?;
    /// let x = vec![0.5f32; 64];
    /// let y = packed.matmul(&x, 1)?; // [1, 2]
    /// let exact: f32 = w[..64].iter().map(|v| v * 0.5).sum();
    /// assert!((y[0] - exact).abs() < 1e-3);
    /// # Ok::<(), whet_core::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::Quant`] when `x` is not `m * cols` long.
    pub fn matmul(&self, x: &[f32], m: usize) -> Result<Vec<f32>> {
        use rayon::prelude::*;
        if x.len() != m * self.cols {
            return Err(Error::Quant {
                format: self.ty.name(),
                reason: format!("{} activations for [{m}, {}]", x.len(), self.cols),
            });
        }
        let n = self.rows;
        let mut by_row = vec![0.0f32; n * m];
        // One task per thread (handing work between threads costs more than it saves
        // in smaller pieces), none under 16 KiB of weights.
        let tasks = rayon::current_num_threads()
            .min(self.bytes.len() / 16_384)
            .max(1);
        let per_task = n.div_ceil(tasks).max(1);
        if super::dot::supported(self.ty) {
            let acts: Vec<_> = x
                .chunks_exact(self.cols)
                .map(super::dot::quantize_q8)
                .collect();
            by_row
                .par_chunks_mut(per_task * m)
                .enumerate()
                .for_each(|(t, out)| {
                    let first = t * per_task;
                    let rows: Vec<&[u8]> = (first..first + out.len() / m)
                        .map(|r| self.row_bytes(r))
                        .collect();
                    super::dot::rows_dot(self.ty, &rows, &acts, out);
                });
        } else {
            by_row
                .par_chunks_mut(per_task * m)
                .enumerate()
                .for_each(|(t, out)| {
                    let mut w = vec![0.0f32; self.cols];
                    for (k, o) in out.chunks_exact_mut(m).enumerate() {
                        dequantize(self.ty, self.row_bytes(t * per_task + k), &mut w)
                            .expect("validated in new");
                        for (o, xi) in o.iter_mut().zip(x.chunks_exact(self.cols)) {
                            *o = w.iter().zip(xi).map(|(a, b)| a * b).sum();
                        }
                    }
                });
        }
        if m == 1 {
            return Ok(by_row);
        }
        let mut out = vec![0.0f32; m * n];
        for (r, vals) in by_row.chunks_exact(m).enumerate() {
            for (i, v) in vals.iter().enumerate() {
                out[i * n + r] = *v;
            }
        }
        Ok(out)
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

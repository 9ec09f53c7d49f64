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
}

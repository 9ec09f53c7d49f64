//! ggml's block quantisation formats, bit for bit: what GGUF files store and what a
//! quantised base weight stays in while LoRA adapters train over it.
//!
//! A row of `n` values of a block format is `n / block_len` blocks of `block_bytes` each,
//! every block holding its own scale (and minimum, for the `_1` and K formats). The
//! decoders follow ggml's `dequantize_row_*` (`ggml/src/ggml-quants.c`) and the encoders
//! its reference `quantize_row_*_ref`, so a row quantised here reads back as llama.cpp
//! reads it and a GGUF written here holds the bytes llama.cpp would have written.
//!
//! ```
//! use whet_core::quant::{GgmlType, dequantize, quantize};
//! let x: Vec<f32> = (0..64).map(|i| (i as f32 - 32.0) / 8.0).collect();
//! let packed = quantize(GgmlType::Q8_0, &x)?;
//! assert_eq!(packed.len(), 2 * 34); // two blocks: an f16 scale and 32 int8 each
//! let mut back = vec![0.0; 64];
//! dequantize(GgmlType::Q8_0, &packed, &mut back)?;
//! assert!(x.iter().zip(&back).all(|(a, b)| (a - b).abs() <= 4.0 / 127.0));
//! # Ok::<(), whet_core::Error>(())
//! ```

mod blocks;
mod dot;
mod matrix;

pub use blocks::{dequantize, quantize};
pub use matrix::PackedMatrix;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// A ggml tensor type: its GGUF id, and how many values a block of how many bytes holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[allow(non_camel_case_types)] // ggml's own names, as users read them in GGUF tools
pub enum GgmlType {
    /// 32-bit float.
    F32,
    /// IEEE half.
    F16,
    /// bfloat16.
    BF16,
    /// Blocks of 32: f16 scale `d`, 16 bytes of nibbles; `(q - 8) * d`.
    Q4_0,
    /// Blocks of 32: f16 scale `d`, f16 minimum `m`, 16 bytes of nibbles; `q * d + m`.
    Q4_1,
    /// Blocks of 32: f16 scale `d`, 32 int8; `q * d`.
    Q8_0,
    /// Super-blocks of 256: f16 `d` and `dmin`, 6-bit scales and minimums of eight
    /// sub-blocks, 4-bit values.
    Q4_K,
    /// Super-blocks of 256: 4 low and 2 high bits per value, int8 scales of sixteen
    /// sub-blocks, f16 `d`.
    Q6_K,
}

impl GgmlType {
    /// Every type this crate reads.
    pub const ALL: [GgmlType; 8] = [
        GgmlType::F32,
        GgmlType::F16,
        GgmlType::BF16,
        GgmlType::Q4_0,
        GgmlType::Q4_1,
        GgmlType::Q8_0,
        GgmlType::Q4_K,
        GgmlType::Q6_K,
    ];

    /// The id GGUF stores (ggml's `enum ggml_type`).
    pub fn id(self) -> u32 {
        match self {
            GgmlType::F32 => 0,
            GgmlType::F16 => 1,
            GgmlType::Q4_0 => 2,
            GgmlType::Q4_1 => 3,
            GgmlType::Q8_0 => 8,
            GgmlType::Q4_K => 12,
            GgmlType::Q6_K => 14,
            GgmlType::BF16 => 30,
        }
    }

    /// The type of a GGUF id; `None` for one this crate does not read.
    pub fn from_id(id: u32) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.id() == id)
    }

    /// ggml's name (`"Q4_1"`).
    pub fn name(self) -> &'static str {
        match self {
            GgmlType::F32 => "F32",
            GgmlType::F16 => "F16",
            GgmlType::BF16 => "BF16",
            GgmlType::Q4_0 => "Q4_0",
            GgmlType::Q4_1 => "Q4_1",
            GgmlType::Q8_0 => "Q8_0",
            GgmlType::Q4_K => "Q4_K",
            GgmlType::Q6_K => "Q6_K",
        }
    }

    /// Values per block (1 for the float types).
    pub fn block_len(self) -> usize {
        match self {
            GgmlType::F32 | GgmlType::F16 | GgmlType::BF16 => 1,
            GgmlType::Q4_0 | GgmlType::Q4_1 | GgmlType::Q8_0 => 32,
            GgmlType::Q4_K | GgmlType::Q6_K => 256,
        }
    }

    /// Bytes per block.
    pub fn block_bytes(self) -> usize {
        match self {
            GgmlType::F32 => 4,
            GgmlType::F16 | GgmlType::BF16 => 2,
            GgmlType::Q4_0 => 18,
            GgmlType::Q4_1 => 20,
            GgmlType::Q8_0 => 34,
            GgmlType::Q4_K => 144,
            GgmlType::Q6_K => 210,
        }
    }

    /// Whether it is a block-quantised type (not a float type).
    pub fn is_quantized(self) -> bool {
        self.block_len() > 1
    }

    /// Bytes of `n` values.
    ///
    /// # Errors
    /// [`Error::Quant`] when `n` is not a whole number of blocks.
    pub fn bytes_of(self, n: usize) -> Result<usize> {
        if !n.is_multiple_of(self.block_len()) {
            return Err(Error::Quant {
                format: self.name(),
                reason: format!(
                    "{n} values are not a whole number of blocks of {}",
                    self.block_len()
                ),
            });
        }
        (n / self.block_len())
            .checked_mul(self.block_bytes())
            .ok_or_else(|| Error::Quant {
                format: self.name(),
                reason: format!("{n} values do not fit in memory"),
            })
    }
}

impl std::fmt::Display for GgmlType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

//! The KV cache: keys and values of the positions seen so far, per layer.

use burn::tensor::{Int, Tensor, TensorData};
use whet_core::burn;

use crate::error::{Error, Result};

/// Keys and values of the positions seen so far, per layer: generation feeds one new
/// token at a time. A batch of prompts of different lengths is left-padded on its first
/// call; the cache remembers each row's padding so later calls mask it.
#[derive(Debug, Clone, Default)]
pub struct KvCache {
    pub(crate) layers: Vec<Option<LayerCache>>,
    pub(crate) len: usize,
    pub(crate) pads: Vec<usize>,
}

/// One layer's cached keys and values.
#[derive(Debug, Clone)]
#[allow(clippy::large_enum_variant)] // one per layer; boxing would cost an allocation a step
pub(crate) enum LayerCache {
    /// `[batch, kv_heads, t, head_dim]` each.
    Tensors(Tensor<4>, Tensor<4>),
    /// llama.cpp's arithmetic: per row and key/value head (`row * kv_heads + head`),
    /// `[t, head_dim]` keys and values, rounded to f16.
    Host(Vec<Vec<f32>>, Vec<Vec<f32>>),
}

impl KvCache {
    /// An empty cache.
    pub fn new() -> Self {
        Self::default()
    }

    /// Positions cached (padding included).
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Rows cached.
    pub fn batch(&self) -> usize {
        self.pads.len()
    }

    /// Keeps only these rows (in this order), so finished sequences stop costing time.
    ///
    /// # Errors
    /// [`Error::Input`] for a row outside the cache.
    pub fn keep_rows(&mut self, rows: &[usize]) -> Result<()> {
        if let Some(&bad) = rows.iter().find(|&&r| r >= self.pads.len()) {
            return Err(Error::Input {
                reason: format!("row {bad} of a cache of {} rows", self.pads.len()),
            });
        }
        let old = self.pads.len();
        self.pads = rows.iter().map(|&r| self.pads[r]).collect();
        for layer in self.layers.iter_mut().flatten() {
            match layer {
                LayerCache::Tensors(k, v) => {
                    let device = k.device();
                    let idx = Tensor::<1, Int>::from_data(
                        TensorData::new(rows.iter().map(|&r| r as i64).collect(), [rows.len()]),
                        &device,
                    );
                    *k = k.clone().select(0, idx.clone());
                    *v = v.clone().select(0, idx);
                }
                LayerCache::Host(k, v) => {
                    let heads = k.len() / old.max(1);
                    let pick = |x: &[Vec<f32>]| -> Vec<Vec<f32>> {
                        rows.iter()
                            .flat_map(|&r| x[r * heads..(r + 1) * heads].iter().cloned())
                            .collect()
                    };
                    (*k, *v) = (pick(k), pick(v));
                }
            }
        }
        Ok(())
    }
}

//! # whet-core
//!
//! The machinery every Whetstone model crate shares, and nothing specific to documents,
//! audio or text:
//!
//! - [`device`]: choose where tensors live ([`DeviceSpec`]: `cpu`, `wgpu[:N]`, `cuda:N`,
//!   or the `WHET_DEVICE` environment variable). Backend choice happens here and nowhere
//!   else; other crates forward the `wgpu` / `cuda` cargo features unchanged.
//! - [`seed`]: one `u64` that makes burn and `rand` deterministic.
//! - [`data`]: JSONL with located errors and an explicit malformed-record policy, atomic
//!   writes, deterministic stratified splits, dataset fingerprints, PaddleOCR label files
//!   and SROIE line boxes.
//! - [`geom`]: the one [`Polygon`](geom::Polygon) and [`TextRegion`](geom::TextRegion) of
//!   every Whetstone crate.
//! - `train` (with the `burn` feature): the one training loop, with exact resume,
//!   parameter groups, token-weighted accumulation and trainable-only checkpoints.
//! - [`run`]: runs in MLflow's file-store layout; [`registry`]: model versions, aliases,
//!   promote-if-improved and rollback.
//!
//! LoRA adapters join this crate next (see the workspace `docs/architecture.md`).
//!
//! ```
//! # #[cfg(feature = "burn")] {
//! use whet_core::burn::tensor::Tensor;
//! use whet_core::{device::DeviceSpec, seed::Seed};
//!
//! let spec: DeviceSpec = "cpu".parse()?;
//! let device = spec.autodiff_device()?;
//! let _rng = Seed::new(42).apply(&device);
//!
//! let w = Tensor::<1>::from_floats([3.0], &device).require_grad();
//! let loss = (w.clone() * w.clone()).sum(); // d(w^2)/dw = 2w = 6
//! let grads = loss.backward();
//! let g = w.grad(&grads).unwrap().into_scalar::<f32>();
//! assert_eq!(g, 6.0);
//! # }
//! # Ok::<(), whet_core::Error>(())
//! ```
//!
//! ## Cargo features
//!
//! | feature | what it adds |
//! |---|---|
//! | `burn` (default) | tensors: [`DeviceSpec::device`], [`Seed::apply`]; without it, the data utilities and seeds alone, with no burn to compile |
//! | (always) | CPU through burn's pure-Rust `flex` backend, with autodiff, optimisers and safetensors |
//! | `wgpu` | GPUs through wgpu (Vulkan, Metal, DirectX, WebGPU); also Mesa's software Vulkan via `wgpu:cpu` |
//! | `cuda` | NVIDIA GPUs; its build downloads an LLVM bundle, so it needs network access at build time |

mod alloc;
pub mod data;
pub mod device;
mod error;
pub mod geom;
pub mod gguf;
mod goal;
#[cfg(feature = "burn")]
pub mod lora;
#[cfg(feature = "burn")]
pub mod ops;
pub mod quant;
pub mod registry;
pub mod run;
pub mod seed;
#[cfg(feature = "burn")]
pub mod train;

/// The README's examples compile and run as doctests, so it cannot drift from the code.
#[cfg(all(doctest, feature = "burn"))]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

pub use alloc::{TUNING_ENV, tune_cpu_allocator};
pub use device::DeviceSpec;
pub use error::{Error, Result};
pub use goal::Goal;
pub use seed::Seed;

/// Re-export of the pinned `burn`, so downstream crates and examples use the same one.
#[cfg(feature = "burn")]
pub use burn;

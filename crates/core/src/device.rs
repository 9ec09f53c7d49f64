//! Choosing where tensors live: one [`DeviceSpec`] for every Whetstone crate.
//!
//! Burn 0.22 picks its backend at run time from the [`Device`]. Burn's own
//! `Device::default()` follows the *compiled* features rather than the hardware (a build
//! with `cuda` returns a CUDA device on a machine without a GPU), so Whetstone never
//! uses it: the device is always chosen explicitly, from a string such as `cpu` or
//! `wgpu:0`, or from the `WHET_DEVICE` environment variable.
//!
//! | spec | backend | cargo feature |
//! |---|---|---|
//! | `cpu` | burn's pure-Rust `flex` backend | always on |
//! | `wgpu` | best adapter wgpu finds | `wgpu` |
//! | `wgpu:N` | N-th discrete GPU | `wgpu` |
//! | `wgpu:integrated:N` | N-th integrated GPU | `wgpu` |
//! | `wgpu:cpu` | a software adapter such as Mesa's lavapipe (never picked automatically) | `wgpu` |
//! | `cuda:N` (`cuda` = `cuda:0`) | N-th CUDA device | `cuda` |
//!
//! ```
//! use whet_core::device::DeviceSpec;
//!
//! let spec: DeviceSpec = "cpu".parse()?;
//! assert_eq!(spec.to_string(), "cpu");
//! # #[cfg(feature = "burn")] {
//! let device = spec.autodiff_device()?; // a gradient-tracking CPU device
//! assert!(device.is_autodiff());
//! # }
//! # Ok::<(), whet_core::Error>(())
//! ```

use std::fmt;
use std::str::FromStr;

#[cfg(feature = "burn")]
use burn::tensor::Device;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Name of the environment variable read by [`DeviceSpec::from_env`].
pub const DEVICE_ENV: &str = "WHET_DEVICE";

/// Which wgpu adapter to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum WgpuAdapter {
    /// The adapter wgpu ranks best (high-power GPUs first).
    #[default]
    Best,
    /// The N-th discrete GPU.
    Discrete(usize),
    /// The N-th integrated GPU.
    Integrated(usize),
    /// A CPU (software) adapter, e.g. Mesa's lavapipe. wgpu never selects these by itself.
    Cpu,
}

/// A device as a user names it: `cpu`, `wgpu`, `wgpu:N`, `wgpu:integrated:N`, `wgpu:cpu`
/// or `cuda:N`.
///
/// Parsing is case-insensitive and ignores surrounding whitespace; [`Display`](fmt::Display)
/// writes the canonical form, which parses back to the same value. Serialises as that
/// string, so configs hold `"device": "cuda:0"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum DeviceSpec {
    /// The CPU, through burn's pure-Rust `flex` backend.
    #[default]
    Cpu,
    /// A wgpu adapter (Vulkan, Metal, DirectX or WebGPU), needs the `wgpu` feature.
    Wgpu(WgpuAdapter),
    /// A CUDA device by index, needs the `cuda` feature.
    Cuda(usize),
}

impl DeviceSpec {
    /// Reads [`DEVICE_ENV`] (`WHET_DEVICE`); unset or empty means [`DeviceSpec::Cpu`].
    ///
    /// # Errors
    /// [`Error::DeviceParse`] when the variable is set to something that is not a device.
    pub fn from_env() -> Result<Self> {
        match std::env::var(DEVICE_ENV) {
            Ok(value) if !value.trim().is_empty() => value.parse().map_err(|e| match e {
                Error::DeviceParse { input, reason } => Error::DeviceParse {
                    input,
                    reason: format!("{reason} (from ${DEVICE_ENV})"),
                },
                other => other,
            }),
            Ok(_) | Err(std::env::VarError::NotPresent) => Ok(Self::Cpu),
            Err(std::env::VarError::NotUnicode(raw)) => Err(Error::DeviceParse {
                input: raw.to_string_lossy().into_owned(),
                reason: format!("${DEVICE_ENV} is not valid Unicode"),
            }),
        }
    }

    /// The device a program was asked for: `arg` (a `--device` option, say) when given,
    /// else [`DEVICE_ENV`], else the CPU: the one call every `main` makes.
    ///
    /// ```
    /// use whet_core::DeviceSpec;
    /// assert_eq!(DeviceSpec::from_arg_or_env(Some("cpu"))?, DeviceSpec::Cpu);
    /// assert!(DeviceSpec::from_arg_or_env(Some("tpu:0")).is_err());
    /// # Ok::<(), whet_core::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::DeviceParse`] when `arg`, or the variable, is not a device.
    pub fn from_arg_or_env(arg: Option<&str>) -> Result<Self> {
        match arg {
            Some(a) => a.parse(),
            None => Self::from_env(),
        }
    }

    /// The cargo feature of `whet-core` this device needs, `None` for the CPU.
    pub fn required_feature(&self) -> Option<&'static str> {
        match self {
            DeviceSpec::Cpu => None,
            DeviceSpec::Wgpu(_) => Some("wgpu"),
            DeviceSpec::Cuda(_) => Some("cuda"),
        }
    }

    /// Whether this build can create the device (its backend was compiled in).
    ///
    /// This says nothing about the hardware: a `cuda` build reports `true` for `cuda:0`
    /// on a machine without a GPU.
    pub fn is_compiled(&self) -> bool {
        match self {
            DeviceSpec::Cpu => true,
            DeviceSpec::Wgpu(_) => cfg!(feature = "wgpu"),
            DeviceSpec::Cuda(_) => cfg!(feature = "cuda"),
        }
    }

    /// The burn device for inference (no gradient tracking).
    #[cfg(feature = "burn")]
    ///
    /// # Errors
    /// [`Error::BackendNotCompiled`], naming the missing cargo feature, when the backend
    /// is not part of this build.
    pub fn device(&self) -> Result<Device> {
        let device = self.build()?;
        tracing::info!(device = %self, autodiff = false, "selected device");
        Ok(device)
    }

    /// The burn device with autodiff, for training.
    #[cfg(feature = "burn")]
    ///
    /// # Errors
    /// As [`DeviceSpec::device`].
    pub fn autodiff_device(&self) -> Result<Device> {
        let device = self.build()?.autodiff();
        tracing::info!(device = %self, autodiff = true, "selected device");
        Ok(device)
    }

    #[cfg(feature = "burn")]
    fn build(&self) -> Result<Device> {
        if !self.is_compiled() {
            return Err(Error::BackendNotCompiled {
                spec: self.to_string(),
                feature: self.required_feature().unwrap_or("flex"),
            });
        }
        match *self {
            DeviceSpec::Cpu => {
                crate::tune_cpu_allocator();
                Ok(Device::flex())
            }
            #[cfg(feature = "wgpu")]
            DeviceSpec::Wgpu(adapter) => {
                use burn::tensor::DeviceKind;
                Ok(Device::wgpu(match adapter {
                    WgpuAdapter::Best => DeviceKind::DefaultDevice,
                    WgpuAdapter::Discrete(i) => DeviceKind::DiscreteGpu(i),
                    WgpuAdapter::Integrated(i) => DeviceKind::IntegratedGpu(i),
                    WgpuAdapter::Cpu => DeviceKind::Cpu,
                }))
            }
            #[cfg(feature = "cuda")]
            DeviceSpec::Cuda(index) => Ok(Device::cuda(index)),
            #[allow(unreachable_patterns)]
            _ => unreachable!("is_compiled() returned true for a backend without its feature"),
        }
    }
}

impl fmt::Display for DeviceSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeviceSpec::Cpu => f.write_str("cpu"),
            DeviceSpec::Wgpu(WgpuAdapter::Best) => f.write_str("wgpu"),
            DeviceSpec::Wgpu(WgpuAdapter::Discrete(i)) => write!(f, "wgpu:{i}"),
            DeviceSpec::Wgpu(WgpuAdapter::Integrated(i)) => write!(f, "wgpu:integrated:{i}"),
            DeviceSpec::Wgpu(WgpuAdapter::Cpu) => f.write_str("wgpu:cpu"),
            DeviceSpec::Cuda(i) => write!(f, "cuda:{i}"),
        }
    }
}

impl FromStr for DeviceSpec {
    type Err = Error;

    fn from_str(input: &str) -> Result<Self> {
        let fail = |reason: &str| Error::DeviceParse {
            input: input.to_owned(),
            reason: reason.to_owned(),
        };
        let index = |s: &str| -> Result<usize> {
            if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
                return Err(fail("device index must be a non-negative integer"));
            }
            s.parse().map_err(|_| fail("device index is too large"))
        };
        let lower = input.trim().to_ascii_lowercase();
        let parts: Vec<&str> = lower.split(':').collect();
        match parts.as_slice() {
            [""] => Err(fail("empty device")),
            ["cpu"] => Ok(DeviceSpec::Cpu),
            ["wgpu"] => Ok(DeviceSpec::Wgpu(WgpuAdapter::Best)),
            ["wgpu", "cpu"] => Ok(DeviceSpec::Wgpu(WgpuAdapter::Cpu)),
            ["wgpu", "integrated", n] => Ok(DeviceSpec::Wgpu(WgpuAdapter::Integrated(index(n)?))),
            ["wgpu", n] => Ok(DeviceSpec::Wgpu(WgpuAdapter::Discrete(index(n)?))),
            ["cuda"] => Ok(DeviceSpec::Cuda(0)),
            ["cuda", n] => Ok(DeviceSpec::Cuda(index(n)?)),
            ["cpu" | "wgpu" | "cuda", ..] => Err(fail("malformed device index")),
            _ => Err(fail("unknown backend")),
        }
    }
}

impl Serialize for DeviceSpec {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for DeviceSpec {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn any_spec() -> impl Strategy<Value = DeviceSpec> {
        prop_oneof![
            Just(DeviceSpec::Cpu),
            Just(DeviceSpec::Wgpu(WgpuAdapter::Best)),
            Just(DeviceSpec::Wgpu(WgpuAdapter::Cpu)),
            any::<usize>().prop_map(|i| DeviceSpec::Wgpu(WgpuAdapter::Discrete(i))),
            any::<usize>().prop_map(|i| DeviceSpec::Wgpu(WgpuAdapter::Integrated(i))),
            any::<usize>().prop_map(DeviceSpec::Cuda),
        ]
    }

    proptest! {
        #[test]
        fn display_parse_round_trip(spec in any_spec()) {
            let text = spec.to_string();
            prop_assert_eq!(text.parse::<DeviceSpec>()?, spec);
            // Case and surrounding whitespace do not matter.
            prop_assert_eq!(format!("  {}\t", text.to_uppercase()).parse::<DeviceSpec>()?, spec);
        }

        #[test]
        fn serde_round_trip(spec in any_spec()) {
            let json = serde_json::to_string(&spec).unwrap();
            prop_assert_eq!(json.clone(), format!("\"{spec}\""));
            prop_assert_eq!(serde_json::from_str::<DeviceSpec>(&json).unwrap(), spec);
        }

        #[test]
        fn parse_never_panics(input in ".{0,24}") {
            let _ = input.parse::<DeviceSpec>();
        }
    }

    #[test]
    fn shorthand_and_rejections() {
        assert_eq!("cuda".parse::<DeviceSpec>().unwrap(), DeviceSpec::Cuda(0));
        for bad in [
            "",
            "gpu",
            "cuda:",
            "cuda:-1",
            "cuda:x",
            "wgpu:1:2",
            "cpu:0",
            "cuda:99999999999999999999999",
        ] {
            let err = bad.parse::<DeviceSpec>().unwrap_err();
            assert!(
                matches!(err, Error::DeviceParse { .. }),
                "{bad:?} gave {err}"
            );
        }
    }

    #[cfg(feature = "burn")]
    #[test]
    fn cpu_device_runs_tensors() {
        let device = DeviceSpec::Cpu.device().unwrap();
        assert!(!device.is_autodiff());
        let t = burn::tensor::Tensor::<1>::from_floats([1.0, 2.0, 3.0], &device);
        assert_eq!(t.sum().into_scalar::<f32>(), 6.0);
        assert!(DeviceSpec::Cpu.autodiff_device().unwrap().is_autodiff());
    }

    #[cfg(all(feature = "burn", not(feature = "cuda")))]
    #[test]
    fn missing_cuda_backend_names_the_feature() {
        let err = DeviceSpec::Cuda(0).device().unwrap_err();
        assert!(matches!(
            err,
            Error::BackendNotCompiled {
                feature: "cuda",
                ..
            }
        ));
        assert_eq!(
            err.to_string(),
            "device cuda:0 needs the `cuda` cargo feature, which this build of whet-core lacks \
             (rebuild with `--features cuda`)"
        );
    }

    #[cfg(all(feature = "burn", not(feature = "wgpu")))]
    #[test]
    fn missing_wgpu_backend_names_the_feature() {
        let err = DeviceSpec::Wgpu(WgpuAdapter::Cpu)
            .autodiff_device()
            .unwrap_err();
        assert!(matches!(
            err,
            Error::BackendNotCompiled {
                feature: "wgpu",
                ..
            }
        ));
    }
}

//! The wgpu backend on a software Vulkan adapter (Mesa's lavapipe), so the GPU code path
//! runs on machines without a GPU. Built only with `--features wgpu`; run it with
//! `scripts/test-wgpu.sh`, which installs `mesa-vulkan-drivers`.
#![cfg(feature = "wgpu")]

use burn::tensor::{Tensor, TensorData};
use whet_core::DeviceSpec;
use whet_core::device::WgpuAdapter;

fn data(n: usize, scale: f32) -> Vec<f32> {
    (0..n)
        .map(|i| ((i * 7919) % 97) as f32 / 97.0 * scale - scale / 2.0)
        .collect()
}

#[test]
fn software_adapter_matches_cpu_forward_and_backward() {
    let run = |spec: DeviceSpec| -> (Vec<f32>, Vec<f32>) {
        let device = spec.autodiff_device().expect("device");
        let a = Tensor::<2>::from_data(TensorData::new(data(64 * 48, 2.0), [64, 48]), &device)
            .require_grad();
        let b = Tensor::<2>::from_data(TensorData::new(data(48 * 32, 1.0), [48, 32]), &device);
        let y = a.clone().matmul(b).tanh();
        let loss = y.clone().powi_scalar(2).mean();
        let grads = loss.backward();
        let grad = a.grad(&grads).expect("gradient");
        (
            y.inner().into_data().try_into_vec::<f32>().unwrap(),
            grad.into_data().try_into_vec::<f32>().unwrap(),
        )
    };
    let (cpu_y, cpu_g) = run(DeviceSpec::Cpu);
    let (gpu_y, gpu_g) = run(DeviceSpec::Wgpu(WgpuAdapter::Cpu));
    let max_diff = |a: &[f32], b: &[f32]| {
        a.iter()
            .zip(b)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0f32, f32::max)
    };
    assert_eq!(cpu_y.len(), gpu_y.len());
    assert!(
        max_diff(&cpu_y, &gpu_y) < 1e-4,
        "forward differs by {}",
        max_diff(&cpu_y, &gpu_y)
    );
    assert!(
        max_diff(&cpu_g, &gpu_g) < 1e-6,
        "gradient differs by {}",
        max_diff(&cpu_g, &gpu_g)
    );
}

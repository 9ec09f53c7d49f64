//! `WHET_DEVICE` asking for a backend this build lacks must end the program with the typed
//! error and a non-zero exit status, never a panic.
//!
//! The check runs in a child process (this same test binary, re-executed with the
//! variable set), because the environment is process-wide.

#![cfg(feature = "burn")]
#![allow(clippy::print_stderr)] // the child process plays a program reporting its error

use std::process::Command;

use whet_core::DeviceSpec;

const CHILD: &str = "WHET_TEST_DEVICE_CHILD";

/// What every Whetstone program does with the device: resolve it or report and exit.
fn program_main() -> i32 {
    match DeviceSpec::from_env().and_then(|spec| spec.autodiff_device()) {
        Ok(_) => 0,
        Err(e) => {
            eprintln!("error: {e}");
            2
        }
    }
}

/// The child process; only the tests below run it.
#[test]
#[ignore = "run by the tests below as a child process"]
fn device_from_env_child() {
    assert!(
        std::env::var_os(CHILD).is_some(),
        "run as a child process by the tests below"
    );
    std::process::exit(program_main());
}

fn run_child(device: &str) -> std::process::Output {
    Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "device_from_env_child",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, "1")
        .env("WHET_DEVICE", device)
        .output()
        .unwrap()
}

#[cfg(not(feature = "cuda"))]
#[test]
fn cuda_without_feature_is_a_typed_error_and_nonzero_exit() {
    let out = run_child("cuda:0");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr: {stderr}");
    assert!(
        stderr.contains("error: device cuda:0 needs the `cuda` cargo feature"),
        "stderr: {stderr}"
    );
    assert!(!stderr.contains("panicked"), "stderr: {stderr}");
}

#[test]
fn garbage_device_is_a_typed_error_naming_the_variable() {
    let out = run_child("tpu:0");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr: {stderr}");
    assert!(
        stderr.contains("invalid device \"tpu:0\""),
        "stderr: {stderr}"
    );
    assert!(stderr.contains("$WHET_DEVICE"), "stderr: {stderr}");
}

#[test]
fn cpu_and_empty_resolve() {
    for device in ["cpu", "", " CPU "] {
        let out = run_child(device);
        assert!(
            out.status.success(),
            "{device:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

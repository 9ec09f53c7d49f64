//! The C allocator's settings for tensor work on the CPU.
//!
//! glibc's `malloc` serves large blocks (above a threshold that starts at 128 KiB) with
//! fresh `mmap`s and gives them back to the system on `free`, and trims the heap's top when
//! more than 128 KiB of it is free. A training step allocates and frees its activations and
//! gradients (megabytes each) every step, so every step faults those pages in again and the
//! kernel zeroes them: `clear_page_erms` was 16-21% of a PP-OCRv4 training step on burn-flex
//! (`docs/benchmarks.md`, "CPU speed"). Keeping freed memory in the heap instead (as
//! PyTorch's and most tensor libraries' caching allocators do) took the detector's step from
//! 4.2 s to 3.3 s and the recognizer's from 4.0 s to 3.1 s. The cost: the process keeps
//! its peak heap size instead of returning memory between steps.
//!
//! Blocks above glibc's largest mmap threshold (32 MiB) would still be mapped and unmapped
//! every time: a language model's attention scores at 1,300 tokens (61 MB a layer) and its
//! logits are. So `mmap` is turned off for `malloc` altogether (`M_MMAP_MAX` 0) and every
//! block comes from the heap, which keeps it: a SmolLM2-135M forward and backward pass over
//! 1,300 tokens went from 30 s to 15 s (`clear_page_erms` had been 44% of it; measured with a
//! throw-away program, `docs/benchmarks.md`).

use std::sync::OnceLock;

/// Environment variable that turns the tuning off (`0`).
pub const TUNING_ENV: &str = "WHET_MALLOC_TUNING";

/// Sets glibc's `malloc` to keep freed blocks (every block from the heap, none from
/// `mmap`; no trimming of the heap's top; 512 MiB of padding when it grows), once per
/// process. Returns whether the settings were applied: not on other C libraries, not
/// when [`TUNING_ENV`] is `0`, and not when glibc's own `MALLOC_MMAP_THRESHOLD_` or
/// `MALLOC_TRIM_THRESHOLD_` is set (the user's choice stays). [`crate::DeviceSpec`] calls
/// it when it builds a CPU device.
///
/// ```
/// let first = whet_core::tune_cpu_allocator();
/// assert_eq!(whet_core::tune_cpu_allocator(), first); // applied once, same answer
/// ```
pub fn tune_cpu_allocator() -> bool {
    static APPLIED: OnceLock<bool> = OnceLock::new();
    *APPLIED.get_or_init(|| {
        let applied = wanted() && apply();
        if applied {
            tracing::debug!("glibc malloc tuned for tensor work ({TUNING_ENV}=0 turns it off)");
        }
        applied
    })
}

fn wanted() -> bool {
    let off = std::env::var(TUNING_ENV).is_ok_and(|v| v.trim() == "0");
    let user = ["MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_"]
        .iter()
        .any(|k| std::env::var_os(k).is_some());
    !off && !user
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn apply() -> bool {
    // glibc's `mallopt` parameters (malloc.h).
    const M_TRIM_THRESHOLD: i32 = -1;
    const M_TOP_PAD: i32 = -2;
    const M_MMAP_THRESHOLD: i32 = -3;
    const M_MMAP_MAX: i32 = -4;
    #[allow(unsafe_code)]
    unsafe extern "C" {
        fn mallopt(param: i32, value: i32) -> i32;
    }
    let settings = [
        (M_MMAP_THRESHOLD, 32 << 20),
        (M_MMAP_MAX, 0),
        (M_TRIM_THRESHOLD, i32::MAX),
        (M_TOP_PAD, 512 << 20),
    ];
    // SAFETY: `mallopt` only changes the allocator's parameters; it returns 0 on error.
    #[allow(unsafe_code)]
    settings
        .iter()
        .all(|&(param, value)| unsafe { mallopt(param, value) } == 1)
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn apply() -> bool {
    false
}

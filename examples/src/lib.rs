//! Helpers shared by the Whetstone example programs (`examples/*.rs`).
//!
//! Examples are programs: they install a `tracing` subscriber and print their results,
//! which libraries never do.

use tracing_subscriber::EnvFilter;

pub mod speech;

/// Sends `tracing` events to stderr, at `info` unless `RUST_LOG` says otherwise.
pub fn init_tracing() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr)
        .try_init();
}

/// A Trainer step callback that aborts the process after `step` (a simulated crash, to
/// show that the same command resumes from the last checkpoint); `None` or 0: never.
pub fn crash_at(
    step: Option<usize>,
) -> impl FnMut(&whet_core::train::StepReport<'_>) -> whet_core::train::Control {
    move |r| {
        if step.is_some_and(|s| s > 0 && r.step == s) {
            tracing::warn!(step = r.step, "simulated crash: aborting the process");
            std::process::abort();
        }
        whet_core::train::Control::Continue
    }
}

/// The receipts of a SROIE folder (`img/`, `box/`) split in name order: the first
/// `train` for training, the rest held out (image paths relative to `dir`).
///
/// # Errors
/// As [`whet_core::data::sroie::read_folder`].
pub fn sroie_split(
    dir: &std::path::Path,
    train: usize,
) -> whet_core::Result<(whet_eval_metrics::ocr::Pages, whet_eval_metrics::ocr::Pages)> {
    let mut trained = whet_core::data::sroie::read_folder(dir)?;
    let held_out = match trained.keys().nth(train).cloned() {
        Some(first_held_out) => trained.split_off(&first_held_out),
        None => Default::default(),
    };
    Ok((trained, held_out))
}

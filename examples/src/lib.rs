//! Helpers shared by the Whetstone example programs (`examples/*.rs`).
//!
//! Examples are programs: they install a `tracing` subscriber and print their results,
//! which libraries never do.

use tracing_subscriber::EnvFilter;

/// Sends `tracing` events to stderr, at `info` unless `RUST_LOG` says otherwise.
pub fn init_tracing() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr)
        .try_init();
}

pub mod ocr_score;

/// The run named `run_name` under an MLflow-layout `mlruns` folder (any experiment), the
/// last one in folder order when several share the name; `None` when there is none.
///
/// # Errors
/// When `mlruns` exists but cannot be listed.
pub fn find_run(
    mlruns: &std::path::Path,
    run_name: &str,
) -> std::io::Result<Option<std::path::PathBuf>> {
    if !mlruns.exists() {
        return Ok(None);
    }
    let mut found = None;
    let mut experiments: Vec<_> = std::fs::read_dir(mlruns)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    experiments.sort();
    for exp in experiments.into_iter().filter(|p| p.is_dir()) {
        let mut runs: Vec<_> = std::fs::read_dir(&exp)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        runs.sort();
        for run in runs {
            if run.join("meta.yaml").exists()
                && whet_core::run::RunDir::open(&run).is_ok_and(|r| r.run_name() == run_name)
            {
                found = Some(run);
            }
        }
    }
    Ok(found)
}

//! Run tracking in MLflow's file-store layout, so `mlflow ui` (and `mlflow.search_runs`)
//! can browse Whetstone runs without any MLflow code in the training process.
//!
//! ```text
//! mlruns/
//!   0/meta.yaml                                 the Default experiment, as MLflow makes it
//!   <experiment_id>/meta.yaml                   name, artifact location, timestamps
//!   <experiment_id>/<run_id>/meta.yaml          run name, status, start and end times
//!   <experiment_id>/<run_id>/params/<key>       one value per file
//!   <experiment_id>/<run_id>/tags/<key>
//!   <experiment_id>/<run_id>/metrics/<key>      lines `timestamp_ms value step`
//!   <experiment_id>/<run_id>/artifacts/         checkpoints/, metrics.jsonl, curves.png, ...
//! ```
//!
//! Newer MLflow releases read this layout only with `MLFLOW_ALLOW_FILE_STORE=true`.

mod mlflow;
#[cfg(feature = "plot")]
mod plot;

pub(crate) use mlflow::now_ms;
pub use mlflow::{RunDir, RunStatus};
#[cfg(feature = "plot")]
pub use plot::{PngArea, plot_run, render_png};

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

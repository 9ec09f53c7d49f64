//! Criterion benchmarks of Whetstone, each measured against a named peer in the same run.
//!
//! Benchmarks live in `benches/benches/*.rs` (criterion, `harness = false`) and are run
//! with `cargo bench -p whet-benches`; how figures are measured and reported is in
//! `docs/benchmarks.md`. The first ones arrive with the training engine.

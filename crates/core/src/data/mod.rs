//! Data utilities every Whetstone crate shares: JSONL records with located errors,
//! atomic writes, deterministic stratified splits, dataset fingerprints, and PaddleOCR's
//! label files ([`paddle`]) and SROIE's line annotations ([`sroie`]).

mod atomic;
mod fingerprint;
mod jsonl;
pub mod paddle;
mod split;
pub mod sroie;

pub use atomic::{atomic_write, atomic_write_with};
pub use fingerprint::Fingerprint;
pub use jsonl::{
    BadRecord, JsonlAppender, JsonlRead, JsonlReader, MalformedPolicy, read_jsonl, write_jsonl,
};
pub use split::{Split, SplitRatios, stratified_split};

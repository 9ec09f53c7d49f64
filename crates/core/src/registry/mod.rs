//! A model registry on disk: named models, monotonically numbered versions, aliases,
//! promote-if-improved, rollback. Nothing is ever deleted by promotion or rollback.
//!
//! ```text
//! <root>/<model>/
//!   index.json        versions, aliases and the history of every decision (atomic writes)
//!   .lock             held (flock) by whoever changes the index
//!   versions/<n>/     the files of version n, copied in at registration, never modified
//! ```
//!
//! Several processes may register and promote at once: each change takes the model's
//! lock, re-reads the index, and replaces it atomically.
//!
//! ```
//! use whet_core::registry::{Alias, Goal, NewVersion, PromotionRule, Registry};
//! # let tmp = tempfile::tempdir()?;
//! # let weights = tmp.path().join("model.safetensors");
//! # std::fs::write(&weights, b"weights")?;
//! let registry = Registry::open(tmp.path().join("registry"))?;
//! let rule = PromotionRule::new("macro_f1", Goal::Maximize, 0.05);
//!
//! let v1 = registry.register("intent", &weights, NewVersion::new().metric("macro_f1", 0.90))?;
//! assert!(registry.promote_if_improved("intent", v1.version, &rule)?.promoted); // the first always is
//!
//! let v2 = registry.register("intent", &weights, NewVersion::new().metric("macro_f1", 0.80))?;
//! let decision = registry.promote_if_improved("intent", v2.version, &rule)?;
//! assert!(!decision.promoted); // 0.80 < 0.90 - 0.05
//! assert_eq!(registry.alias("intent", &Alias::Production)?.unwrap().version, 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod index;
mod store;

pub use index::{
    Alias, Event, EventKind, ModelIndex, ModelVersion, NewVersion, PromotionDecision, PromotionRule,
};
pub use store::Registry;

pub use crate::goal::Goal;

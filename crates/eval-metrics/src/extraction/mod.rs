//! Extraction metrics: field accuracy with normalisers, Donut's field F1 and tree-edit
//! accuracy (and the exact tree edit distance behind them and behind TEDS), ANLS and ANLS*, and the
//! numeric consistency of financial documents.

mod anls;
mod anls_star;
mod consistency;
mod donut;
mod fields;
mod munkres;
mod normalize;
mod tree_edit;

pub use anls::{anls, anls_score};
pub use anls_star::{AnlsValue, anls_star};
pub use consistency::{
    ConsistencyRules, LineAmounts, Rule, Totals, Violation, check_consistency, format_minor,
};
pub use donut::{DonutF1, donut_f1, donut_flatten, donut_ted_accuracy, donut_tree};
pub use fields::{FieldCounts, FieldMatch, FieldReport, field_accuracy};
pub use normalize::{normalize_text, parse_amount, parse_date};
pub use tree_edit::{EditCosts, TreeNode, tree_edit_distance};

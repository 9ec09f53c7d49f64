//! Extraction metrics: Donut's field F1 and tree-edit accuracy, and the exact tree edit
//! distance behind them (and behind TEDS).

mod donut;
mod tree_edit;

pub use donut::{DonutF1, donut_f1, donut_flatten, donut_ted_accuracy, donut_tree};
pub use tree_edit::{EditCosts, TreeNode, tree_edit_distance};

//! Table metrics: TEDS and structure-only TEDS with PubTabNet semantics, and the HTML
//! parser behind them.

mod char_refs;
mod entities;
mod html;
mod html_rules;
mod teds;

pub use html::{Element, parse_html};
pub use teds::{TableNode, teds, teds_tables};

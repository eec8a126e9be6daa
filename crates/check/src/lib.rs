//! `murphy check`: verifies what clients saw (a history) and what the server logged
//! against murphy's guarantees (DESIGN section 5), with counts and the first
//! counter-examples of every violation.

pub mod history;

pub use history::Record;

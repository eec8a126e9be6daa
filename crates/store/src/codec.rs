//! How both backends store what has no column type of its own the same way: a rules
//! version as a number (none stored: version 1, written before versions were kept).

use murphy_core::RulesVersion;

use crate::{Result, StoreError};

/// A stored rules version; `None` (a log row or tables from before versions were
/// recorded) is version 1.
pub(crate) fn rules_version(stored: Option<u64>) -> Result<RulesVersion> {
    match stored {
        None => Ok(RulesVersion::V1),
        Some(n) => u32::try_from(n)
            .map(RulesVersion::new)
            .map_err(|_| StoreError::Corrupt(format!("rules version {n} is out of range"))),
    }
}

//! How both backends store what has no column type of its own, the same way: instants
//! as nanoseconds since 1970-01-01 UTC, a rules version as a number (none stored: 1),
//! and a log entry's command, outcome and effects as the JSON murphy writes. A backend
//! reads and writes its rows; what goes in a column is decided here, once.

use murphy_core::{LogEntry, RulesVersion};
use time::OffsetDateTime;

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

/// An instant as stored: nanoseconds since 1970-01-01 UTC (fits in i64 until 2262).
pub(crate) fn nanos(at: OffsetDateTime) -> i64 {
    i64::try_from(at.unix_timestamp_nanos()).expect("murphy's instants lie between 1677 and 2262")
}

pub(crate) fn instant(nanos: i64) -> Result<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(nanos))
        .map_err(|e| StoreError::Corrupt(format!("instant {nanos}: {e}")))
}

/// A log entry's JSON columns: its command, its outcome, and its effects (`None` when
/// it had none, as most have).
pub(crate) struct EntryJson {
    pub command: String,
    pub outcome: String,
    pub effects: Option<String>,
}

impl EntryJson {
    pub(crate) fn of(entry: &LogEntry) -> Result<EntryJson> {
        let effects = (!entry.effects.is_empty()).then(|| serde_json::to_string(&entry.effects));
        Ok(EntryJson {
            command: serde_json::to_string(&entry.command)?,
            outcome: serde_json::to_string(&entry.outcome)?,
            effects: effects.transpose()?,
        })
    }
}

/// A log row as both backends read it back, columns decoded.
pub(crate) struct EntryRow<'a> {
    pub lsn: u64,
    pub at: i64,
    pub rules: Option<u64>,
    pub client: Option<String>,
    pub seq: Option<u64>,
    pub owner: Option<String>,
    pub command: &'a str,
    pub outcome: &'a str,
    pub effects: Option<&'a str>,
}

impl EntryRow<'_> {
    pub(crate) fn entry(self) -> Result<LogEntry> {
        Ok(LogEntry {
            lsn: self.lsn,
            at: instant(self.at)?,
            rules: rules_version(self.rules)?,
            client: self.client,
            seq: self.seq,
            owner: self.owner,
            command: serde_json::from_str(self.command)?,
            outcome: serde_json::from_str(self.outcome)?,
            effects: self.effects.map(serde_json::from_str).transpose()?.unwrap_or_default(),
        })
    }
}

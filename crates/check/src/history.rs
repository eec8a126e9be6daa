//! The client-side history a load run records: every request with its send and answer
//! times (one monotonic clock for the whole run) and what the server said. Stored as
//! JSON lines, one `Record` each, in the order the requests were sent.

use std::io::{BufRead, Write};

use murphy_core::Command;
use murphy_core::wire::CommandResult;
use serde::{Deserialize, Serialize};

/// One attempt of one request, as the client saw it. A retry is another record with
/// the same `client` and `seq`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// The session's client id (or, outside sessions, a label of the sender).
    pub client: String,
    /// The session seq, when the request was part of an exactly-once session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seq: Option<u64>,
    /// Nanoseconds since the run began, when the request was sent.
    pub sent_ns: u64,
    /// When the answer arrived; `None` if none did (timeout, lost connection).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answered_ns: Option<u64>,
    pub commands: Vec<Command>,
    /// The results of a `200` answer, one per command.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub results: Option<Vec<CommandResult>>,
    /// The HTTP status of any other answer (a problem: 4xx, 503, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
}

impl Record {
    /// Whether the server answered with results (the commands were applied, or are a
    /// session's stored answer).
    pub fn applied(&self) -> bool {
        self.results.is_some()
    }
}

/// Writes records as JSON lines.
pub fn write(out: &mut impl Write, records: &[Record]) -> std::io::Result<()> {
    for record in records {
        serde_json::to_writer(&mut *out, record)?;
        out.write_all(b"\n")?;
    }
    Ok(())
}

/// Reads JSON lines of records; an error names the line.
pub fn read(input: impl BufRead) -> Result<Vec<Record>, String> {
    let mut records = Vec::new();
    for (i, line) in input.lines().enumerate() {
        let line = line.map_err(|e| format!("line {}: {e}", i + 1))?;
        if line.trim().is_empty() {
            continue;
        }
        records.push(serde_json::from_str(&line).map_err(|e| format!("line {}: {e}", i + 1))?);
    }
    Ok(records)
}

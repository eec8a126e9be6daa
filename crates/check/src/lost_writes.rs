//! Check 2, no lost writes: every command a client was answered for is in the log at
//! the LSN it was told, as the same command with the same outcome, and, for a session
//! request, under the same client and seq. One violation per answered command.

use std::collections::HashMap;

use murphy_core::LogEntry;

use crate::history::Record;
use crate::report::Finding;
use crate::text;

pub(crate) fn check(history: &[Record], log: &[LogEntry]) -> Finding {
    let mut finding = Finding::new("answered commands (history)");
    let mut by_lsn: HashMap<u64, &LogEntry> = HashMap::with_capacity(log.len());
    for entry in log {
        // A repeated LSN is the invariants check's to report; the first one stands.
        by_lsn.entry(entry.lsn).or_insert(entry);
    }
    for record in history {
        let Some(results) = &record.results else { continue };
        let who = || {
            format!(
                "{} (sent at {})",
                text::request(&record.client, record.seq),
                text::time(record.sent_ns)
            )
        };
        if results.len() != record.commands.len() {
            finding.fail(|| {
                format!(
                    "{} sent {} commands but was answered {} results",
                    who(),
                    record.commands.len(),
                    results.len()
                )
            });
        }
        for (command, result) in record.commands.iter().zip(results) {
            finding.checked += 1;
            let told = || {
                format!(
                    "{} was told LSN {} {} for {}",
                    who(),
                    result.lsn,
                    text::outcome(&result.outcome),
                    text::command(command)
                )
            };
            let Some(entry) = by_lsn.get(&result.lsn) else {
                finding.fail(|| format!("{}, but the log has no LSN {}", told(), result.lsn));
                continue;
            };
            if entry.command != *command {
                finding.fail(|| format!("{}, but the log holds {} there", told(), text::command(&entry.command)));
            } else if entry.outcome != result.outcome {
                finding.fail(|| format!("{}, but the log says {}", told(), text::outcome(&entry.outcome)));
            } else if record.seq.is_some()
                && (entry.client.as_deref() != Some(record.client.as_str()) || entry.seq != record.seq)
            {
                finding.fail(|| {
                    let logged = match &entry.client {
                        Some(client) => text::request(client, entry.seq),
                        None => "no session".to_owned(),
                    };
                    format!("{}, but the log files that entry under {logged}", told())
                });
            }
        }
    }
    finding
}

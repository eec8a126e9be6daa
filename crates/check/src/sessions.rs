//! Check 4, sessions: per client, the log applies seqs 1, 2, 3... in that order, each
//! once, a request's commands at consecutive LSNs (the server applies them back to
//! back), and as many entries as the request had commands; and every answered attempt
//! of the same (client, seq) was answered alike. Linear: one pass over the log, one
//! over the history. The log holds every client's sessions, the history only its
//! run's: the finding says how many it checked against the log alone.

use std::collections::{HashMap, HashSet};

use murphy_core::LogEntry;
use murphy_core::wire::CommandResult;

use crate::history::Record;
use crate::report::Finding;
use crate::text;

/// One application of a session request in the log: a run of consecutive entries.
#[derive(Debug)]
struct Run {
    first_lsn: u64,
    entries: u64,
    /// Already reported (applied twice, out of order, after a gap).
    reported: bool,
}

#[derive(Debug, Default)]
struct Client {
    /// The highest seq applied so far.
    high: u64,
    /// The seq and LSN of this client's latest entry, to tell a request's next
    /// command from another application.
    last: Option<(u64, u64)>,
    /// The first application of each seq.
    runs: HashMap<u64, Run>,
}

pub(crate) fn check(history: &[Record], log: &[LogEntry]) -> Finding {
    let mut finding = Finding::new("session requests in the log");
    let mut clients: HashMap<&str, Client> = HashMap::new();
    for entry in log {
        let (Some(client_id), Some(seq)) = (entry.client.as_deref(), entry.seq) else {
            continue;
        };
        let client = clients.entry(client_id).or_default();
        let lsn = entry.lsn;
        if client.last.is_some_and(|(s, l)| s == seq && l.saturating_add(1) == lsn) {
            client.last = Some((seq, lsn));
            if let Some(run) = client.runs.get_mut(&seq).filter(|r| r.first_lsn + r.entries == lsn) {
                run.entries += 1;
            }
            continue;
        }
        let who = text::request(client_id, Some(seq));
        let reported = if let Some(first) = client.runs.get(&seq) {
            finding.fail(|| format!("{who} was applied again at LSN {lsn}, after LSN {}", first.first_lsn));
            true
        } else if seq > client.high.saturating_add(1) {
            let high = client.high;
            finding.fail(|| {
                let missing = if high + 2 == seq {
                    format!("seq {} never was", high + 1)
                } else {
                    format!("seqs {} to {} never were", high + 1, seq - 1)
                };
                let after = if high == 0 {
                    "as the client's first request".to_owned()
                } else {
                    format!("after seq {high}")
                };
                format!("{who} was applied at LSN {lsn} {after}, but {missing}")
            });
            true
        } else if seq < client.high {
            let high = client.high;
            finding.fail(|| format!("{who} was applied at LSN {lsn}, after the client's seq {high}: out of order"));
            true
        } else {
            false
        };
        client.runs.entry(seq).or_insert(Run {
            first_lsn: lsn,
            entries: 1,
            reported,
        });
        client.high = client.high.max(seq);
        client.last = Some((seq, lsn));
    }
    finding.checked = clients.values().map(|c| c.runs.len() as u64).sum();
    let outside = outside_history(history, &clients);
    if outside > 0 {
        finding.note = Some(format!(
            "{outside} of the {} session requests in the log are not in the history (other \
             runs, other clients): their order was checked against the log alone",
            finding.checked
        ));
    }
    check_history(history, &clients, &mut finding);
    finding
}

/// How many session requests the log applied that the history never sent.
fn outside_history(history: &[Record], clients: &HashMap<&str, Client>) -> u64 {
    let sent: HashSet<(&str, u64)> = history
        .iter()
        .filter_map(|r| r.seq.map(|seq| (r.client.as_str(), seq)))
        .collect();
    clients
        .iter()
        .map(|(id, client)| client.runs.keys().filter(|seq| !sent.contains(&(*id, **seq))).count() as u64)
        .sum()
}

/// Compares each answered session request of the history with its run in the log (as
/// many entries as commands) and with its other answered attempts (the same results).
fn check_history(history: &[Record], clients: &HashMap<&str, Client>, finding: &mut Finding) {
    let mut answered: HashMap<(&str, u64), &Record> = HashMap::new();
    for record in history {
        let (Some(seq), Some(results)) = (record.seq, &record.results) else {
            continue;
        };
        let Some(first) = answered.get(&(record.client.as_str(), seq)) else {
            answered.insert((&record.client, seq), record);
            let run = clients.get(record.client.as_str()).and_then(|c| c.runs.get(&seq));
            match run {
                Some(run) if !run.reported && run.entries != record.commands.len() as u64 => {
                    finding.fail(|| {
                        format!(
                            "{} had {}, but the log applied {} for it from LSN {}{}",
                            text::request(&record.client, Some(seq)),
                            text::count(record.commands.len() as u64, "command", "commands"),
                            text::count(run.entries, "entry", "entries"),
                            run.first_lsn,
                            if run.entries > record.commands.len() as u64 {
                                ": applied more than once"
                            } else {
                                ""
                            }
                        )
                    });
                }
                Some(_) => {}
                // An answered request missing from the log is the lost-writes check's.
                None => finding.checked += 1,
            }
            continue;
        };
        let first_results: &[CommandResult] = first.results.as_deref().unwrap_or_default();
        if first_results != results.as_slice() {
            finding.fail(|| {
                format!(
                    "{}: the attempt sent at {} was answered {}, but the one sent at {} was answered {}",
                    text::request(&record.client, Some(seq)),
                    text::time(first.sent_ns),
                    text::results(first_results),
                    text::time(record.sent_ns),
                    text::results(results),
                )
            });
        }
    }
}

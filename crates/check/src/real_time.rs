//! Check 3, strict serializability in real time: if one request's answer arrived
//! before another request was sent, every LSN of the first is below every LSN of the
//! second. In O(n log n): sort by send time, sweep while keeping the largest LSN of
//! the requests answered so far.
//!
//! A session request and its retries are one operation (they share their LSNs): it
//! may have been applied as soon as its first attempt was sent, and was applied before
//! its first answer. So it counts as sent at its earliest attempt and answered at its
//! earliest answer; otherwise a retry sent late and answered with the LSNs of an early
//! attempt would look like a violation. Requests outside sessions stand alone.

use std::collections::HashMap;

use crate::history::Record;
use crate::report::Finding;
use crate::text;

/// One request, with all its attempts folded in.
struct Operation<'a> {
    client: &'a str,
    seq: Option<u64>,
    sent_ns: u64,
    answered_ns: Option<u64>,
    /// Smallest and largest LSN any attempt was answered with.
    lsns: Option<(u64, u64)>,
}

pub(crate) fn check(history: &[Record]) -> Finding {
    let mut finding = Finding::new("answered requests (history)");
    let operations = fold(history, &mut finding);
    // Every operation with LSNs must follow everything answered before it was sent.
    let mut by_sent: Vec<&Operation> = operations.iter().filter(|o| o.lsns.is_some()).collect();
    by_sent.sort_by_key(|o| o.sent_ns);
    let mut by_answered: Vec<&Operation> = operations
        .iter()
        .filter(|o| o.lsns.is_some() && o.answered_ns.is_some())
        .collect();
    by_answered.sort_by_key(|o| o.answered_ns);
    let mut next = 0;
    let mut latest: Option<&Operation> = None;
    for b in by_sent {
        while let Some(a) = by_answered.get(next)
            && a.answered_ns.is_some_and(|t| t < b.sent_ns)
        {
            if latest.is_none_or(|l| max_lsn(l) < max_lsn(a)) {
                latest = Some(a);
            }
            next += 1;
        }
        finding.checked += 1;
        let Some(a) = latest else { continue };
        let b_min = b.lsns.map_or(0, |(min, _)| min);
        if b_min <= max_lsn(a) {
            finding.fail(|| {
                format!(
                    "{} was answered at {} with LSN {}, before {} was sent at {}, yet the latter got LSN {b_min}",
                    text::request(a.client, a.seq),
                    text::time(a.answered_ns.unwrap_or_default()),
                    max_lsn(a),
                    text::request(b.client, b.seq),
                    text::time(b.sent_ns),
                )
            });
        }
    }
    finding
}

fn max_lsn(operation: &Operation) -> u64 {
    operation.lsns.map_or(0, |(_, max)| max)
}

/// Folds the attempts of each session request into one operation. A record answered
/// before it was sent is a broken clock or history: it is reported and left out.
fn fold<'a>(history: &'a [Record], finding: &mut Finding) -> Vec<Operation<'a>> {
    let mut operations: Vec<Operation<'a>> = Vec::new();
    let mut sessions: HashMap<(&'a str, u64), usize> = HashMap::new();
    for record in history {
        if let Some(answered) = record.answered_ns
            && answered < record.sent_ns
        {
            finding.fail(|| {
                format!(
                    "{} was answered at {}, before it was sent at {}: the history's clock is broken",
                    text::request(&record.client, record.seq),
                    text::time(answered),
                    text::time(record.sent_ns)
                )
            });
            continue;
        }
        let lsns = record.results.as_ref().and_then(|results| {
            let min = results.iter().map(|r| r.lsn).min()?;
            let max = results.iter().map(|r| r.lsn).max()?;
            Some((min, max))
        });
        // Only an answer with results proves the commands were applied before it.
        let answered_ns = if lsns.is_some() { record.answered_ns } else { None };
        let index = match record.seq {
            Some(seq) => *sessions.entry((&record.client, seq)).or_insert_with(|| {
                operations.push(Operation {
                    client: &record.client,
                    seq: Some(seq),
                    sent_ns: record.sent_ns,
                    answered_ns: None,
                    lsns: None,
                });
                operations.len() - 1
            }),
            None => {
                operations.push(Operation {
                    client: &record.client,
                    seq: None,
                    sent_ns: record.sent_ns,
                    answered_ns: None,
                    lsns: None,
                });
                operations.len() - 1
            }
        };
        let operation = &mut operations[index];
        operation.sent_ns = operation.sent_ns.min(record.sent_ns);
        operation.answered_ns = match (operation.answered_ns, answered_ns) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        operation.lsns = match (operation.lsns, lsns) {
            (Some((a_min, a_max)), Some((b_min, b_max))) => Some((a_min.min(b_min), a_max.max(b_max))),
            (a, b) => a.or(b),
        };
    }
    operations
}

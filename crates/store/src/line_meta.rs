//! The waiting room's window (`murphy_core::line::Window`) as rows of the tables' `meta`
//! (key, integer value), the same in every backend: a handful of counters, written by
//! the materializer step that changed them, read back at start-up.

use murphy_core::line::{Start, Window};
use time::OffsetDateTime;

use crate::{Result, StoreError};

/// The window's keys: `line_id` 0 means no window is open (the others are then 0).
const ID: &str = "line_id";
const OPENS_AT_NS: &str = "line_opens_at_ns";
const ACTIVE_MAX: &str = "line_active_max";
const AUTOMATIC: &str = "line_automatic";
const TICKETS: &str = "line_tickets";
/// 1 once the opening's draw is made; `line_seed` and `line_prequeue` are its fields.
const STARTED: &str = "line_started";
const SEED: &str = "line_seed";
const PREQUEUE: &str = "line_prequeue";
const ADMITTED: &str = "line_admitted";

/// The rows for `window` (every key, so a closed window leaves no stale value).
pub(crate) fn rows(window: Option<&Window>) -> Result<[(&'static str, u64); 9]> {
    let Some(w) = window else {
        return Ok([
            ID,
            OPENS_AT_NS,
            ACTIVE_MAX,
            AUTOMATIC,
            TICKETS,
            STARTED,
            SEED,
            PREQUEUE,
            ADMITTED,
        ]
        .map(|k| (k, 0)));
    };
    let opens_at_ns = u64::try_from(w.opens_at.unix_timestamp_nanos())
        .map_err(|_| StoreError::Corrupt(format!("line {}: an opening before 1970 cannot be stored", w.id)))?;
    let start = w.start.unwrap_or(Start { seed: 0, tickets: 0 });
    Ok([
        (ID, w.id),
        (OPENS_AT_NS, opens_at_ns),
        (ACTIVE_MAX, u64::from(w.active_max)),
        (AUTOMATIC, u64::from(w.automatic)),
        (TICKETS, w.tickets),
        (STARTED, u64::from(w.start.is_some())),
        (SEED, start.seed),
        (PREQUEUE, start.tickets),
        (ADMITTED, w.admitted),
    ])
}

/// The window the rows `get` reads describe (`None` for no window, or none stored).
pub(crate) fn window(mut get: impl FnMut(&str) -> Result<Option<u64>>) -> Result<Option<Window>> {
    let id = get(ID)?.unwrap_or(0);
    if id == 0 {
        return Ok(None);
    }
    let mut value = |key| get(key).map(Option::unwrap_or_default);
    let corrupt = |what: &str| StoreError::Corrupt(format!("line {id}: {what}"));
    let opens_at = OffsetDateTime::from_unix_timestamp_nanos(i128::from(value(OPENS_AT_NS)?))
        .map_err(|_| corrupt("the opening is out of range"))?;
    let active_max = u32::try_from(value(ACTIVE_MAX)?).map_err(|_| corrupt("active_max is out of range"))?;
    let automatic = value(AUTOMATIC)? == 1;
    let tickets = value(TICKETS)?;
    let start = (value(STARTED)? == 1).then_some(());
    let start = match start {
        Some(()) => Some(Start {
            seed: value(SEED)?,
            tickets: value(PREQUEUE)?,
        }),
        None => None,
    };
    let window = Window {
        id,
        opens_at,
        active_max,
        automatic,
        tickets,
        start,
        admitted: value(ADMITTED)?,
    };
    window.check().map_err(StoreError::Corrupt)?;
    Ok(Some(window))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn a_window_reads_back_as_written() {
        let window = Window {
            id: 42,
            opens_at: OffsetDateTime::from_unix_timestamp_nanos(1_764_489_600_123_456_789).unwrap(),
            active_max: 2000,
            automatic: true,
            tickets: 3072,
            start: Some(Start {
                seed: u64::MAX >> 1,
                tickets: 1024,
            }),
            admitted: 900,
        };
        for stored in [Some(&window), None] {
            let table: HashMap<&str, u64> = rows(stored).unwrap().into_iter().collect();
            let read = super::window(|k| Ok(table.get(k).copied())).unwrap();
            assert_eq!(read.as_ref(), stored);
        }
    }
}

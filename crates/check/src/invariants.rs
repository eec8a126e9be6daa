//! Check 1, invariants: replays the whole log through `murphy_core::State::replay` from
//! an empty state, each entry under the rules version it records. Every entry must
//! carry the next LSN and a version the log is at, hold a valid command, and get the
//! logged outcome and effects again; the rules must hold after it (see `touched`
//! for how that stays linear); and the seats the log's own outcomes claim must never
//! exceed a section's capacity (see `claims`: the replay itself cannot overbook, so an
//! overbooked log shows as a divergence, and this says it in the log's own terms).
//! Each entry with problems counts once, its sentence listing them all.

use std::panic::{AssertUnwindSafe, catch_unwind};

use murphy_core::{Effects, LogEntry, Outcome, ReplayError, RulesVersion, State};

use crate::claims::Claims;
use crate::report::Finding;
use crate::text;
use crate::touched::{FullChecks, Touched};

/// One problem with one entry.
enum Issue<'a> {
    /// The entry's LSN is not the one after the previous entry's (or 1 for the first).
    LsnJump {
        previous: u64,
    },
    /// `Command::validate` refuses it: the server must not have logged it. Not replayed.
    Invalid(String),
    /// The state machine panicked: the replay stops here.
    Panicked(String),
    /// The entry's rules version cannot be replayed here (newer than this binary
    /// knows, or not the log's current one): the replay stops here.
    Rules(ReplayError),
    Outcome(Outcome),
    Effects(Effects),
    /// A rule broken around what the entry touched, after it.
    Broken(String),
    /// The log's outcomes seat more students than the section has seats.
    Overbooked {
        section: &'a str,
        enrolled: usize,
        capacity: u32,
    },
}

pub(crate) fn check(log: &[LogEntry]) -> Finding {
    let mut finding = Finding::new("log entries replayed");
    let mut state = State::default();
    let mut claims = Claims::default();
    let mut sweeps = FullChecks::default();
    let mut last_sweep_error: Option<String> = None;
    let mut previous_lsn: u64 = 0;
    let mut stopped = false;
    for entry in log {
        finding.checked += 1;
        let mut issues = Vec::new();
        if entry.lsn != previous_lsn.saturating_add(1) {
            issues.push(Issue::LsnJump { previous: previous_lsn });
        }
        previous_lsn = entry.lsn;
        match entry.command.validate() {
            Err(e) => issues.push(Issue::Invalid(e)),
            Ok(()) => match catch_unwind(AssertUnwindSafe(|| state.replay(entry, RulesVersion::LATEST))) {
                Err(panic) => {
                    issues.push(Issue::Panicked(panic_message(&panic)));
                    stopped = true;
                }
                Ok(Err(e @ (ReplayError::Newer { .. } | ReplayError::Version { .. }))) => {
                    issues.push(Issue::Rules(e));
                    stopped = true;
                }
                Ok(replayed) => {
                    if let Err(ReplayError::Diverged { applied, .. }) = replayed {
                        let applied = *applied;
                        if applied.outcome != entry.outcome {
                            issues.push(Issue::Outcome(applied.outcome));
                        }
                        if applied.effects != entry.effects {
                            issues.push(Issue::Effects(applied.effects));
                        }
                    }
                    if let Err(e) = Touched::by(entry).check(&state) {
                        issues.push(Issue::Broken(e));
                    }
                }
            },
        }
        for (section, enrolled, capacity) in claims.apply(entry).overbooked {
            issues.push(Issue::Overbooked {
                section,
                enrolled,
                capacity,
            });
        }
        if !issues.is_empty() {
            finding.fail(|| describe(entry, &issues));
        }
        if stopped {
            break;
        }
        if sweeps.tick() {
            sweep(&mut sweeps, &state, entry.lsn, &mut last_sweep_error, &mut finding);
        }
    }
    if !stopped {
        sweep(&mut sweeps, &state, previous_lsn, &mut last_sweep_error, &mut finding);
    }
    finding
}

/// A full `check_invariants`; a broken state stays broken, so the same error is
/// counted once, not at every later sweep.
fn sweep(sweeps: &mut FullChecks, state: &State, lsn: u64, last_error: &mut Option<String>, finding: &mut Finding) {
    match sweeps.run(state) {
        Ok(()) => *last_error = None,
        Err(e) => {
            if last_error.as_ref() != Some(&e) {
                finding.fail(|| format!("after LSN {lsn}, the replayed state breaks an invariant: {e}"));
            }
            *last_error = Some(e);
        }
    }
}

fn describe(entry: &LogEntry, issues: &[Issue<'_>]) -> String {
    let parts: Vec<String> = issues
        .iter()
        .map(|issue| match issue {
            Issue::LsnJump { previous } if *previous == 0 => {
                "the log starts at this LSN instead of 1, so replay numbers it differently".to_owned()
            }
            Issue::LsnJump { previous } => {
                format!("it follows LSN {previous}: the log skips or repeats LSNs, so replay numbers it differently")
            }
            Issue::Invalid(e) => {
                format!("the command is invalid ({e}), so it should never have been logged; not replayed")
            }
            Issue::Panicked(message) => {
                format!("the state machine panicked on it ({message}); the rest of the log is not replayed")
            }
            Issue::Rules(e) => format!("{e}; the rest of the log is not replayed"),
            Issue::Outcome(replayed) => format!(
                "logged {}, but replay answers {}",
                text::outcome(&entry.outcome),
                text::outcome(replayed)
            ),
            Issue::Effects(replayed) => format!(
                "logged effects {}, but replay gives {}",
                text::effects(&entry.effects),
                text::effects(replayed)
            ),
            Issue::Broken(e) => format!("after it, {e}"),
            Issue::Overbooked {
                section,
                enrolled,
                capacity,
            } => format!(
                "by the log's own outcomes {section} now seats {} in {}",
                text::count(*enrolled as u64, "student", "students"),
                text::count(u64::from(*capacity), "seat", "seats")
            ),
        })
        .collect();
    format!(
        "LSN {} ({}): {}",
        entry.lsn,
        text::command(&entry.command),
        parts.join("; ")
    )
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "no message".to_owned()
    }
}

//! The state machine: `State::apply(at, command) -> Applied`. Deterministic, no I/O, no
//! clock of its own. The same code serves requests, replays the log at start-up, and
//! runs in the tests; it is the one place the rules of docs/DESIGN.md §3 live.
//!
//! The rules are split by job: `moves.rs` (enroll, drop, swap, and the linked-section
//! plan of each), `admit.rs` (may this student take these seats: prerequisites, time,
//! units, seats and reservations), `seats.rs` (taking and giving back seats, waitlist
//! promotion, the release of reserved seats), `admin.rs` (the registrar's commands),
//! `money.rs`, `restore.rs` (rebuilding from stored entities) and `invariants.rs`.

mod admin;
mod admit;
mod invariants;
mod money;
mod moves;
mod restore;
mod seats;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use imbl::{OrdMap, OrdSet};
use time::OffsetDateTime;

use crate::command::{Command, CourseId, SectionId, StudentId};
use crate::line::{self, Window};
use crate::meeting::Meeting;
use crate::outcome::{Applied, Effects, LogEntry, Outcome};
use crate::permission::Permission;
use crate::reservation::ReservedSeats;
use crate::rules::{ReplayError, RulesVersion};

pub use money::{BALANCE_CENTS_MAX, OVERDRAFT_CENTS_MAX, OVERDRAFT_FEE_CENTS};
pub use restore::Unknown;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Section {
    pub id: SectionId,
    pub title: String,
    pub course: Arc<str>,
    pub units: u32,
    pub capacity: u32,
    pub waitlist_capacity: u32,
    pub meetings: Vec<Meeting>,
    /// Courses a student must have completed (fixed at creation, so shared).
    pub prerequisites: Arc<[CourseId]>,
    /// The sections of which one is taken with this one (its discussions or labs).
    pub linked: Arc<[SectionId]>,
    /// Derived (not stored): the section that lists this one in its `linked`, its
    /// lecture. Such a section is entered only together with its lecture.
    pub linked_to: Option<Arc<str>>,
    /// Reservations in force, in the order the registrar gave them. Released ones are
    /// gone: their seats are everyone's.
    pub reserved: Vec<ReservedSeats>,
    /// In enrollment order. Ids are shared (`Arc<str>`), so the copy a batch makes of
    /// a section it changes costs a reference count per student, not an allocation.
    pub enrolled: Vec<Arc<str>>,
    /// First come, first served: index 0 is next in line. A lecture's waiters wait for
    /// a pair: the linked section each wants is in their `Student::waiting_with`.
    pub waitlist: Vec<Arc<str>>,
    /// The LSN of the last command that changed this section.
    pub version: u64,
}

impl Section {
    /// Seats still held by reservations in force.
    pub fn held(&self) -> u32 {
        self.reserved.iter().map(ReservedSeats::held).sum()
    }

    /// Seats nobody sits in, reserved or not.
    pub fn free(&self) -> u32 {
        self.capacity.saturating_sub(self.enrolled.len() as u32)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Student {
    pub id: StudentId,
    pub name: String,
    pub max_units: u32,
    pub appointment: Option<OffsetDateTime>,
    pub balance_cents: i64,
    pub major: Option<Arc<str>>,
    /// Class standing, e.g. `senior`.
    pub standing: Option<Arc<str>>,
    /// Courses completed: a persistent set, so the copy a batch makes is O(1).
    pub completed: OrdSet<Arc<str>>,
    /// Sorted, so that a state rebuilt from tables equals the state the log built.
    pub enrolled: BTreeSet<SectionId>,
    pub waitlisted: BTreeSet<SectionId>,
    /// For each lecture in `waitlisted`, the linked section wanted with it.
    pub waiting_with: BTreeMap<SectionId, SectionId>,
    /// Permission numbers issued for this student, in the order issued.
    pub permissions: Vec<Permission>,
    /// Sum of the units of `enrolled`.
    pub units: u32,
    /// The LSN of the last command that changed this student.
    pub version: u64,
}

impl Student {
    /// The major and standing, as reservations compare them.
    fn population(&self) -> (Option<&str>, Option<&str>) {
        (self.major.as_deref(), self.standing.as_deref())
    }
}

/// The ids changed since the last `take_changes`: what a batch must write. A
/// permission number lives in its student's record, so issuing or using one changes
/// that student.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Changes {
    pub sections: BTreeSet<SectionId>,
    pub students: BTreeSet<StudentId>,
}

/// The whole registrar. Cloning is O(1) (persistent maps), which is how snapshots are
/// published without copying 10k sections per batch. Keys and entities sit behind
/// `Arc`s: the first change a batch makes below a shared map node copies that node,
/// and copying shared pointers costs reference counts where copying strings and
/// entities would cost allocations.
#[derive(Clone, Debug, Default)]
pub struct State {
    sections: OrdMap<Arc<str>, Arc<Section>>,
    students: OrdMap<Arc<str>, Arc<Student>>,
    /// Derived from the sections (rebuilt by `restore`): every reservation in force by
    /// its instant, soonest first, so each command finds the due ones in O(log n).
    releases: OrdSet<(OffsetDateTime, Arc<str>)>,
    /// The registration window and its line's counters, while one is open.
    line: Option<Window>,
    lsn: u64,
    catalog_version: u64,
    /// The rules the next command is decided under: the cluster's version.
    rules: RulesVersion,
    changes: Changes,
}

impl PartialEq for State {
    /// Equality of what the state means; pending `changes` are bookkeeping.
    fn eq(&self, other: &Self) -> bool {
        self.lsn == other.lsn
            && self.catalog_version == other.catalog_version
            && self.rules == other.rules
            && self.sections == other.sections
            && self.students == other.students
            && self.releases == other.releases
            && self.line == other.line
    }
}

impl Eq for State {}

impl State {
    /// An empty state whose first command is decided under `rules`: where a new log
    /// starts (at the newest rules its first writer knows).
    pub fn starting_at(rules: RulesVersion) -> State {
        State {
            rules,
            ..State::default()
        }
    }

    /// The rules the next command is decided under: the log's current version.
    pub fn rules(&self) -> RulesVersion {
        self.rules
    }

    /// The LSN of the last applied command (0 for an empty log).
    pub fn lsn(&self) -> u64 {
        self.lsn
    }

    /// The LSN of the last command that changed any section: the catalog's version.
    pub fn catalog_version(&self) -> u64 {
        self.catalog_version
    }

    pub fn section(&self, id: &str) -> Option<&Section> {
        self.sections.get(id).map(|s| &**s)
    }

    pub fn student(&self, id: &str) -> Option<&Student> {
        self.students.get(id).map(|s| &**s)
    }

    /// In id order.
    pub fn sections(&self) -> impl Iterator<Item = &Section> {
        self.sections.values().map(|s| &**s)
    }

    /// In id order.
    pub fn students(&self) -> impl Iterator<Item = &Student> {
        self.students.values().map(|s| &**s)
    }

    /// `stu`'s 1-based place in each line it waits in, as `StudentView` shows it.
    pub fn waitlist_positions(&self, stu: &Student) -> BTreeMap<SectionId, u32> {
        stu.waitlisted
            .iter()
            .filter_map(|sec| {
                let place = moves::waitlist_position(self.section(sec)?, &stu.id);
                (place > 0).then(|| (sec.clone(), place))
            })
            .collect()
    }

    pub fn section_count(&self) -> usize {
        self.sections.len()
    }

    pub fn student_count(&self) -> usize {
        self.students.len()
    }

    /// The open registration window and its line, if any.
    pub fn line(&self) -> Option<&Window> {
        self.line.as_ref()
    }

    /// The state with `line` as its window: for a store restoring the line it kept
    /// (`restore` rebuilds the rest).
    pub fn with_line(mut self, line: Option<Window>) -> Result<State, String> {
        if let Some(window) = &line {
            window.check()?;
        }
        self.line = line;
        Ok(self)
    }

    /// The soonest instant at which reserved seats open, if any are held.
    pub fn next_release(&self) -> Option<OffsetDateTime> {
        self.releases.get_min().map(|(until, _)| *until)
    }

    /// Returns and clears the set of entities changed since the last call.
    pub fn take_changes(&mut self) -> Changes {
        std::mem::take(&mut self.changes)
    }

    /// Applies one command at arrival time `at`, giving it the next LSN.
    ///
    /// First, reserved seats whose instant is at or before `at` are released, and the
    /// waitlists promoted into them, as effects of this command: the release belongs to
    /// the first command applied at or after its instant. Why there: core has no clock,
    /// and arrival times are its only time; every command applied after the instant
    /// must find the seats open, and a replay of the log, applying the same commands at
    /// the same times, releases at the same place and promotes the same students. The
    /// log shows it (`effects.released`), so it explains the promotions it caused.
    ///
    /// The command is decided under the log's current rules (`rules`), which the
    /// `Applied` records; only `upgrade_rules` moves them, for the commands after it.
    pub fn apply(&mut self, at: OffsetDateTime, command: &Command) -> Applied {
        let rules = self.rules;
        self.lsn += 1;
        let mut fx = Effects::default();
        self.release_due(at, &mut fx);
        let outcome = self.dispatch(at, command, &mut fx);
        debug_assert!(self.check_invariants().is_ok(), "{:?}", self.check_invariants());
        Applied {
            lsn: self.lsn,
            rules,
            outcome,
            effects: fx,
        }
    }

    /// Applies a logged entry under the rules it records, which must be the log's
    /// current ones (the first entry of a log sets them) and known to this binary
    /// (`known`, at most `RulesVersion::LATEST`); it must land at its LSN with its
    /// logged outcome and effects. Replay at start-up, `murphy verify`, `murphy check`
    /// and every secondary go through here. Refused before applying anything on a
    /// version error; on `Diverged` the entry is applied.
    pub fn replay(&mut self, entry: &LogEntry, known: RulesVersion) -> Result<Applied, ReplayError> {
        let known = known.min(RulesVersion::LATEST);
        if entry.rules > known {
            return Err(ReplayError::Newer {
                log: entry.rules,
                known,
            });
        }
        if (self.lsn > 0 && entry.rules != self.rules) || !entry.rules.is_known() {
            return Err(ReplayError::Version {
                lsn: entry.lsn,
                entry: entry.rules,
                current: self.rules,
            });
        }
        self.rules = entry.rules;
        let applied = self.apply(entry.at, &entry.command);
        if applied.lsn != entry.lsn || applied.outcome != entry.outcome || applied.effects != entry.effects {
            return Err(ReplayError::Diverged {
                lsn: entry.lsn,
                applied: Box::new(applied),
            });
        }
        Ok(applied)
    }

    fn dispatch(&mut self, at: OffsetDateTime, command: &Command, fx: &mut Effects) -> Outcome {
        match command {
            Command::CreateSection { .. } => self.create_section(command, at),
            Command::SetCapacity { section, capacity } => self.set_capacity(section, *capacity, fx),
            Command::CreateStudent { .. } => self.create_student(command),
            Command::SetAppointment { student, at } => self.set_appointment(student, *at),
            Command::RecordCompletion { student, course } => self.record_completion(student, course),
            Command::IssuePermission { student, section } => self.issue_permission(student, section),
            Command::Enroll {
                student,
                section,
                waitlist,
                with,
                permission,
            } => self.enroll(
                moves::Ask {
                    student,
                    section,
                    with: with.as_deref(),
                    waitlist: *waitlist,
                    permission: permission.as_deref(),
                },
                at,
            ),
            Command::Drop { student, section } => self.drop_section(student, section, fx),
            Command::Swap {
                student,
                from,
                to,
                with,
            } => self.swap(student, from, to, with.as_deref(), at, fx),
            Command::Deposit { student, amount_cents } => self.deposit(student, *amount_cents, fx),
            Command::Withdraw { student, amount_cents } => self.withdraw(student, *amount_cents),
            Command::Transfer { from, to, amount_cents } => self.transfer(from, to, *amount_cents, fx),
            Command::UpgradeRules { rules } => self.upgrade_rules(*rules),
            Command::Import { rows } => self.import(at, rows, fx),
            Command::OpenLine {
                opens_at,
                active_max,
                automatic,
            } => line::open(&mut self.line, self.lsn, *opens_at, *active_max, *automatic),
            Command::CloseLine {} => line::close(&mut self.line),
            Command::AdvanceLine {
                window,
                tickets,
                seed,
                admitted,
            } => line::advance(&mut self.line, *window, *tickets, *seed, *admitted),
        }
    }

    /// Moves the log's rules forward to `to`. No line is promoted: every version so far
    /// only adds refusals, so nobody becomes promotable by it (a version that relaxes
    /// a rule must promote the lines here).
    fn upgrade_rules(&mut self, to: RulesVersion) -> Outcome {
        assert!(to.is_known(), "validate refuses unknown versions");
        if to <= self.rules {
            return Outcome::AlreadyUpgraded { rules: self.rules };
        }
        let from = std::mem::replace(&mut self.rules, to);
        Outcome::RulesUpgraded { from, to }
    }

    /// A section about to change: stamps its version and marks it for the store.
    fn section_mut(&mut self, id: &str) -> &mut Section {
        if !self.changes.sections.contains(id) {
            self.changes.sections.insert(id.to_owned());
        }
        self.catalog_version = self.lsn;
        let section = Arc::make_mut(self.sections.get_mut(id).expect("section exists"));
        section.version = self.lsn;
        section
    }

    /// The shared id of an existing student, for the lines of sections.
    fn student_id(&self, id: &str) -> Arc<str> {
        let (key, _) = self.students.get_key_value(id).expect("student exists");
        key.clone()
    }

    fn student_mut(&mut self, id: &str) -> &mut Student {
        if !self.changes.students.contains(id) {
            self.changes.students.insert(id.to_owned());
        }
        let student = Arc::make_mut(self.students.get_mut(id).expect("student exists"));
        student.version = self.lsn;
        student
    }
}

fn no_section(id: &str) -> Outcome {
    Outcome::NoSuchSection { section: id.to_owned() }
}

fn no_student(id: &str) -> Outcome {
    Outcome::NoSuchStudent { student: id.to_owned() }
}

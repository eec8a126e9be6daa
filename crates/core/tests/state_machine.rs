//! Property tests of the pure state machine `State::apply(at, &Command) -> Applied`.
//!
//! A generator makes random but valid command sequences over a small registrar (five
//! sections of a few seats with overlapping meetings, eight students with tight unit
//! limits, overdrafts, appointments around the arrival time), so the rules collide
//! often. After every step the rules of DESIGN section 3 are recomputed here from the
//! public accessors, not only taken from `check_invariants`: capacity, waitlist bounds,
//! units, time conflicts, holds, appointments, nobody jumping the line, FIFO promotion
//! with every passed-over student logged as skipped, money conservation and the
//! overdraft fee, refusals that change nothing, versions and the changes the store is
//! told to write, one LSN per command, and the meaning of each outcome. Whole runs
//! must replay identically, and a state rebuilt by `restore` (at the end or midway)
//! must equal the original and go on like it. Plain example tests pin the specific
//! rules (fee, limit, transfer, hold, skip, swap, appointment).

use std::collections::{BTreeMap, BTreeSet};

use murphy_core::state::{OVERDRAFT_CENTS_MAX, OVERDRAFT_FEE_CENTS};
use murphy_core::{Applied, Changes, Command, Meeting, Outcome, Promotion, Section, Skip, State, Student};
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::strategy::ValueTree;
use proptest::test_runner::{TestCaseResult, TestRunner};
use time::OffsetDateTime;

const SECTIONS: usize = 5;
const STUDENTS: usize = 8;
/// 2026-01-01T00:00:00Z: every arrival time is this plus some seconds.
const EPOCH_SECS: i64 = 1_767_225_600;

fn at(secs: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(EPOCH_SECS + secs).expect("a representable instant")
}

fn section_id(i: usize) -> String {
    format!("SEC-{i}")
}

fn student_id(i: usize) -> String {
    format!("s{i}")
}

fn meeting(days: &str, start: &str, end: &str) -> Meeting {
    Meeting::parse(days, start, end).unwrap()
}

/// Meeting slots: 0-1, 2-5 and 3-4 overlap; 0-3 and 1-4 are back to back (no conflict).
fn slots() -> Vec<Meeting> {
    vec![
        meeting("MW", "09:00", "10:00"),
        meeting("W", "09:30", "10:30"),
        meeting("TR", "09:00", "10:00"),
        meeting("M", "10:00", "11:00"),
        meeting("MWF", "10:30", "11:30"),
        meeting("R", "09:45", "11:00"),
    ]
}

fn fail<T>(message: String) -> Result<T, TestCaseError> {
    Err(TestCaseError::fail(message))
}

// ---------------------------------------------------------------------------------------
// Generators

/// A command as generated. Most are ready as they are. An appointment is relative to
/// the command's own arrival (some in the past, some in the future). The targeted ones
/// name their student by what they are doing at that moment (seated in a section,
/// waiting in a line, on hold): `concretize` picks one from the state reached so far,
/// so that drops, swaps, holds in line and paid-off holds happen often.
#[derive(Clone, Debug)]
enum Draft {
    Ready(Command),
    Appointment {
        student: usize,
        offset_secs: Option<i64>,
    },
    DropSeated {
        section: String,
        pick: Index,
    },
    SwapSeated {
        from: String,
        to: String,
        pick: Index,
    },
    ChargeWaiting {
        pick: Index,
        amount_cents: i64,
    },
    PayHeld {
        pick: Index,
        /// Paid by a friend who can afford it, rather than by themselves.
        friend: Option<Index>,
        amount_cents: i64,
    },
}

/// A command and the seconds since the one before it.
type Timed = (i64, Draft);

type Script = Vec<(OffsetDateTime, Command)>;

/// Commands after the opening, at most this many.
const BODY_COMMANDS_MAX: usize = 200;

/// Units, capacity, waitlist capacity and meetings of a new section.
type SectionFields = (u32, u32, u32, Vec<Meeting>);

fn section_fields() -> impl Strategy<Value = SectionFields> {
    (1u32..8, 0u32..4, 0u32..3, prop::sample::subsequence(slots(), 0..=2))
}

fn new_section_command(i: usize, (units, capacity, waitlist_capacity, meetings): SectionFields) -> Command {
    let (section, title) = (section_id(i), format!("Section {i}"));
    Command::CreateSection {
        section,
        title,
        units,
        capacity,
        waitlist_capacity,
        meetings,
    }
}

fn new_student_command(i: usize, max_units: u32) -> Command {
    Command::CreateStudent {
        student: student_id(i),
        name: format!("Student {i}"),
        max_units,
    }
}

fn create_section() -> impl Strategy<Value = Command> {
    (0..SECTIONS, section_fields()).prop_map(|(i, fields)| new_section_command(i, fields))
}

fn create_student() -> impl Strategy<Value = Command> {
    (0..STUDENTS, 4u32..=16).prop_map(|(i, max_units)| new_student_command(i, max_units))
}

/// Any section, but the first two are popular: they fill up, grow lines and get drops.
fn sec() -> impl Strategy<Value = String> {
    prop_oneof![2 => 0..2usize, 1 => 0..SECTIONS].prop_map(section_id)
}

fn stu() -> impl Strategy<Value = String> {
    (0..STUDENTS).prop_map(student_id)
}

/// Two different ids out of `n`: `i` and `i + d` (mod n) with `d` in 1..n.
fn pair(n: usize, id: fn(usize) -> String) -> impl Strategy<Value = (String, String)> {
    (0..n, 1..n).prop_map(move |(i, d)| (id(i), id((i + d) % n)))
}

fn registration() -> impl Strategy<Value = Command> {
    prop_oneof![
        6 => (stu(), sec(), prop::bool::weighted(0.8))
            .prop_map(|(student, section, waitlist)| Command::Enroll { student, section, waitlist }),
        2 => (stu(), sec()).prop_map(|(student, section)| Command::Drop { student, section }),
        1 => (stu(), pair(SECTIONS, section_id)).prop_map(|(student, (from, to))| Command::Swap { student, from, to }),
        2 => (sec(), 0u32..=5).prop_map(|(section, capacity)| Command::SetCapacity { section, capacity }),
    ]
}

fn money() -> impl Strategy<Value = Command> {
    prop_oneof![
        2 => (stu(), 1i64..=30_000).prop_map(|(student, amount_cents)| Command::Deposit { student, amount_cents }),
        1 => (stu(), 1i64..=15_000).prop_map(|(student, amount_cents)| Command::Withdraw { student, amount_cents }),
        1 => (pair(STUDENTS, student_id), 1i64..=10_000)
            .prop_map(|((from, to), amount_cents)| Command::Transfer { from, to, amount_cents }),
    ]
}

fn targeted() -> impl Strategy<Value = Draft> {
    let pick = any::<Index>;
    prop_oneof![
        3 => (sec(), pick()).prop_map(|(section, pick)| Draft::DropSeated { section, pick }),
        1 => (pair(SECTIONS, section_id), pick()).prop_map(|((from, to), pick)| Draft::SwapSeated { from, to, pick }),
        1 => (pick(), 1i64..=40_000).prop_map(|(pick, amount_cents)| Draft::ChargeWaiting { pick, amount_cents }),
        1 => (pick(), prop::option::of(pick()), 1i64..=40_000)
            .prop_map(|(pick, friend, amount_cents)| Draft::PayHeld { pick, friend, amount_cents }),
    ]
}

fn draft() -> impl Strategy<Value = Draft> {
    let appointment = (0..STUDENTS, prop::option::of(-600i64..600))
        .prop_map(|(student, offset_secs)| Draft::Appointment { student, offset_secs });
    prop_oneof![
        10 => registration().prop_map(Draft::Ready),
        4 => money().prop_map(Draft::Ready),
        5 => targeted(),
        1 => prop_oneof![create_section(), create_student()].prop_map(Draft::Ready),
        1 => appointment,
    ]
}

/// Seconds between two arrivals: often none (a burst), never negative.
fn delay() -> impl Strategy<Value = i64> {
    prop_oneof![Just(0i64), 1i64..=90]
}

/// A burst of students asking for one section at the same instant, most willing to wait.
fn rush() -> impl Strategy<Value = Vec<Timed>> {
    let crowd = prop::sample::subsequence((0..STUDENTS).map(student_id).collect::<Vec<_>>(), 2..=4);
    (delay(), sec(), crowd, prop::bool::weighted(0.8)).prop_map(|(delay, section, crowd, waitlist)| {
        let enroll = |student| Command::Enroll {
            student,
            section: section.clone(),
            waitlist,
        };
        let delays = std::iter::once(delay).chain(std::iter::repeat(0));
        delays.zip(crowd).map(|(d, s)| (d, Draft::Ready(enroll(s)))).collect()
    })
}

/// Mostly single commands, sometimes a rush on one section.
fn episode() -> impl Strategy<Value = Vec<Timed>> {
    prop_oneof![
        12 => (delay(), draft()).prop_map(|timed| vec![timed]),
        1 => rush(),
    ]
}

/// Most sections and students (each with some money), so that the commands after it
/// mostly meet real ones; the others may still be created later.
fn opening() -> impl Strategy<Value = Vec<Command>> {
    let sections = prop::collection::vec(prop::option::weighted(0.97, section_fields()), SECTIONS);
    let students = prop::collection::vec(prop::option::weighted(0.97, (4u32..=16, 0i64..20_000)), STUDENTS);
    (sections, students).prop_map(|(sections, students)| {
        let sections = sections
            .into_iter()
            .enumerate()
            .filter_map(|(i, f)| Some(new_section_command(i, f?)));
        let mut commands: Vec<Command> = sections.collect();
        for (i, (max_units, cents)) in students.into_iter().enumerate().filter_map(|(i, s)| Some((i, s?))) {
            commands.push(new_student_command(i, max_units));
            if cents > 0 {
                commands.push(Command::Deposit {
                    student: student_id(i),
                    amount_cents: cents,
                });
            }
        }
        commands
    })
}

/// An opening, then up to 200 commands of every kind at non-decreasing arrival times.
fn script() -> impl Strategy<Value = Script> {
    let body = prop::collection::vec(episode(), 0..=BODY_COMMANDS_MAX);
    (opening(), body).prop_map(|(opening, body)| concretize(opening, body.concat()))
}

/// Turns drafts into commands, in order, picking the targeted students from the state
/// the commands before them reached (a plain `apply`, nothing checked here).
fn concretize(opening: Vec<Command>, mut body: Vec<Timed>) -> Script {
    body.truncate(BODY_COMMANDS_MAX);
    let opening = opening.into_iter().map(|c| (0, Draft::Ready(c)));
    let (mut state, mut now, mut script) = (State::default(), 0, Script::new());
    for (delay, draft) in opening.chain(body) {
        now += delay;
        let command = resolve(&state, now, draft);
        state.apply(at(now), &command);
        script.push((at(now), command));
    }
    script
}

fn resolve(state: &State, now: i64, draft: Draft) -> Command {
    match draft {
        Draft::Ready(command) => command,
        Draft::Appointment { student, offset_secs } => Command::SetAppointment {
            student: student_id(student),
            at: offset_secs.map(|o| at(now + o)),
        },
        Draft::DropSeated { section, pick } => Command::Drop {
            student: seated(state, &section, pick),
            section,
        },
        Draft::SwapSeated { from, to, pick } => Command::Swap {
            student: seated(state, &from, pick),
            from,
            to,
        },
        Draft::ChargeWaiting { pick, amount_cents } => Command::Withdraw {
            student: chosen(state, pick, |s| !s.waitlisted.is_empty()),
            amount_cents,
        },
        Draft::PayHeld {
            pick,
            friend,
            amount_cents,
        } => {
            let student = chosen(state, pick, |s| s.balance_cents < 0);
            let rich = |s: &Student| s.id != student && s.balance_cents >= amount_cents;
            let friend = friend.map(|f| chosen(state, f, rich));
            payment(student, friend, amount_cents)
        }
    }
}

/// A student seated in `section`, or any student when nobody is.
fn seated(state: &State, section: &str, pick: Index) -> String {
    match state.section(section) {
        Some(s) if !s.enrolled.is_empty() => pick.get(&s.enrolled).to_string(),
        _ => student_id(pick.index(STUDENTS)),
    }
}

/// A student `wanted` picks out, or any student when none is.
fn chosen(state: &State, pick: Index, wanted: impl Fn(&Student) -> bool) -> String {
    let candidates: Vec<&Student> = state.students().filter(|s| wanted(s)).collect();
    if candidates.is_empty() {
        student_id(pick.index(STUDENTS))
    } else {
        pick.get(&candidates).id.clone()
    }
}

/// A debt paid by the student, or by a friend's transfer when they have one.
fn payment(student: String, friend: Option<String>, amount_cents: i64) -> Command {
    match friend.filter(|f| *f != student) {
        Some(from) => Command::Transfer {
            from,
            to: student,
            amount_cents,
        },
        None => Command::Deposit { student, amount_cents },
    }
}

// ---------------------------------------------------------------------------------------
// Runs

/// Applies `script` to a fresh state with no checks: the reference for replay.
fn replay(script: &[(OffsetDateTime, Command)]) -> (State, Vec<Applied>) {
    let mut state = State::default();
    let answers = script.iter().map(|(at, command)| state.apply(*at, command)).collect();
    (state, answers)
}

/// Applies `script` to a fresh state, checking every step and the running money total.
fn run_checked(script: &Script) -> Result<(State, Vec<Applied>), TestCaseError> {
    let mut state = State::default();
    let mut total_cents = 0;
    let mut answers = Vec::with_capacity(script.len());
    let mut last_at = at(0);
    for (i, (at, command)) in script.iter().enumerate() {
        prop_assert!(command.validate().is_ok(), "generator made an invalid {command:?}");
        prop_assert!(*at >= last_at, "arrival times go back at step {i}");
        last_at = *at;
        let before = state.clone();
        let applied = state.apply(*at, command);
        let changes = state.take_changes();
        let step = Step {
            before: &before,
            after: &state,
            at: *at,
            command,
            applied: &applied,
            changes: &changes,
        };
        let checked = step.check().and_then(|()| step.check_money(total_cents));
        total_cents =
            checked.map_err(|e| TestCaseError::fail(format!("step {i} at {at}: {command:?} -> {applied:?}\n  {e}")))?;
        answers.push(applied);
    }
    Ok((state, answers))
}

// ---------------------------------------------------------------------------------------
// Rules recomputed from the public accessors

fn overlap(a: &Section, b: &Section) -> bool {
    a.meetings.iter().any(|x| b.meetings.iter().any(|y| x.overlaps(y)))
}

/// The sections that list `student` as enrolled, `leaving` excepted.
fn enrolled_in<'s>(state: &'s State, student: &str, leaving: Option<&str>) -> Vec<&'s Section> {
    state
        .sections()
        .filter(|s| Some(s.id.as_str()) != leaving && s.enrolled.iter().any(|e| &**e == student))
        .collect()
}

/// Why `student` cannot take a seat in `section` now (with `leaving` dropped first), by
/// the rules; the appointment aside, which is checked on joining, not on promotion.
fn blocker(state: &State, student: &Student, section: &Section, leaving: Option<&str>) -> Option<&'static str> {
    let mine = enrolled_in(state, &student.id, leaving);
    let units: u32 = mine.iter().map(|s| s.units).sum();
    if student.balance_cents < 0 {
        Some("hold")
    } else if mine.iter().any(|m| overlap(m, section)) {
        Some("time conflict")
    } else if units + section.units > student.max_units {
        Some("unit limit")
    } else {
        None
    }
}

fn check_sections(state: &State) -> TestCaseResult {
    for s in state.sections() {
        prop_assert!(s.enrolled.len() <= s.capacity as usize, "{} overbooked: {:?}", s.id, s);
        prop_assert!(
            s.waitlist.len() <= s.waitlist_capacity as usize,
            "{} line too long: {:?}",
            s.id,
            s
        );
        let mut seen = BTreeSet::new();
        for id in s.enrolled.iter().chain(&s.waitlist) {
            prop_assert!(seen.insert(id), "{id} twice among enrolled and waitlisted of {:?}", s);
            prop_assert!(state.student(id).is_some(), "{} lists unknown student {id}", s.id);
        }
    }
    Ok(())
}

fn check_students(state: &State) -> TestCaseResult {
    for student in state.students() {
        let mine = enrolled_in(state, &student.id, None);
        let enrolled: BTreeSet<&str> = mine.iter().map(|s| s.id.as_str()).collect();
        let waiting: BTreeSet<&str> = state
            .sections()
            .filter(|s| has(&s.waitlist, &student.id))
            .map(|s| s.id.as_str())
            .collect();
        prop_assert_eq!(&enrolled, &student.enrolled.iter().map(String::as_str).collect());
        prop_assert_eq!(&waiting, &student.waitlisted.iter().map(String::as_str).collect());
        let units: u32 = mine.iter().map(|s| s.units).sum();
        prop_assert_eq!(student.units, units, "units of {}", student.id);
        prop_assert!(
            units <= student.max_units,
            "{} over the unit limit: {:?}",
            student.id,
            student
        );
        for (i, a) in mine.iter().enumerate() {
            if let Some(b) = mine[i + 1..].iter().find(|b| overlap(a, b)) {
                return fail(format!(
                    "{} is in {} and {} which meet at the same time",
                    student.id, a.id, b.id
                ));
            }
        }
        prop_assert!(
            student.balance_cents >= -OVERDRAFT_CENTS_MAX,
            "{} overdrawn: {:?}",
            student.id,
            student
        );
    }
    Ok(())
}

/// Nobody jumps the line: a free seat is never left while someone eligible waits.
fn check_no_line_jumping(state: &State) -> TestCaseResult {
    for section in state.sections().filter(|s| s.enrolled.len() < s.capacity as usize) {
        for id in &section.waitlist {
            let student = state.student(id).expect("checked by check_sections");
            let why = blocker(state, student, section, None);
            prop_assert!(
                why.is_some(),
                "{id} waits eligible while {} has a free seat: {:?}",
                section.id,
                section
            );
        }
    }
    Ok(())
}

fn sections(state: &State) -> Vec<Section> {
    state.sections().cloned().collect()
}

fn students(state: &State) -> Vec<Student> {
    state.students().cloned().collect()
}

// ---------------------------------------------------------------------------------------
// One step

struct Step<'a> {
    before: &'a State,
    after: &'a State,
    at: OffsetDateTime,
    command: &'a Command,
    applied: &'a Applied,
    /// What `take_changes` reported right after the step: what the store would write.
    changes: &'a Changes,
}

impl Step<'_> {
    fn check(&self) -> TestCaseResult {
        prop_assert_eq!(self.after.lsn(), self.before.lsn() + 1, "one LSN per apply");
        prop_assert_eq!(self.applied.lsn, self.after.lsn());
        let invariants = self.after.check_invariants();
        prop_assert!(invariants.is_ok(), "check_invariants: {:?}", invariants);
        check_sections(self.after)?;
        check_students(self.after)?;
        check_no_line_jumping(self.after)?;
        self.check_refusal()?;
        self.check_versions()?;
        self.check_changes()?;
        self.check_outcome()?;
        self.check_effects()?;
        for section in self.after.sections() {
            let old = self.before.section(&section.id).map_or(&[][..], |s| &s.waitlist[..]);
            self.check_line(section, &names(old))?;
        }
        Ok(())
    }

    fn outcome(&self) -> &Outcome {
        &self.applied.outcome
    }

    fn after_section(&self, id: &str) -> Result<&Section, TestCaseError> {
        self.after
            .section(id)
            .ok_or_else(|| TestCaseError::fail(format!("section {id} vanished")))
    }

    fn balance_before(&self, id: &str) -> i64 {
        self.before.student(id).map_or(0, |s| s.balance_cents)
    }

    fn balance_after(&self, id: &str) -> i64 {
        self.after.student(id).map_or(0, |s| s.balance_cents)
    }

    /// A refused command leaves everything but the LSN as it was.
    fn check_refusal(&self) -> TestCaseResult {
        if self.outcome().is_refusal() {
            prop_assert_eq!(
                sections(self.before),
                sections(self.after),
                "a refusal changed sections"
            );
            prop_assert_eq!(
                students(self.before),
                students(self.after),
                "a refusal changed students"
            );
            prop_assert_eq!(self.before.catalog_version(), self.after.catalog_version());
            prop_assert!(self.applied.effects.is_empty(), "a refusal had effects");
        }
        Ok(())
    }

    /// Whatever changed carries the new LSN as its version; nothing else does.
    fn check_versions(&self) -> TestCaseResult {
        let lsn = self.after.lsn();
        for s in self.after.sections() {
            if self.before.section(&s.id) != Some(s) {
                prop_assert_eq!(s.version, lsn, "{} changed, version not stamped", s.id);
            }
        }
        for s in self.after.students() {
            if self.before.student(&s.id) != Some(s) {
                prop_assert_eq!(s.version, lsn, "{} changed, version not stamped", s.id);
            }
        }
        let catalog_changed = self.after.sections().any(|s| s.version == lsn);
        let expected = if catalog_changed {
            lsn
        } else {
            self.before.catalog_version()
        };
        prop_assert_eq!(self.after.catalog_version(), expected);
        let changed = catalog_changed || self.after.students().any(|s| s.version == lsn);
        prop_assert_eq!(changed, !self.outcome().is_refusal(), "a success changes something");
        let created = usize::from(*self.outcome() == Outcome::Created);
        let (new_sections, new_students) = match self.command {
            Command::CreateSection { .. } => (created, 0),
            Command::CreateStudent { .. } => (0, created),
            _ => (0, 0),
        };
        prop_assert_eq!(
            self.after.sections().count(),
            self.before.sections().count() + new_sections
        );
        prop_assert_eq!(
            self.after.students().count(),
            self.before.students().count() + new_students
        );
        Ok(())
    }

    /// What `take_changes` reports is exactly what the step stamped: what the store writes.
    fn check_changes(&self) -> TestCaseResult {
        let lsn = self.after.lsn();
        let sections: BTreeSet<String> = self
            .after
            .sections()
            .filter(|s| s.version == lsn)
            .map(|s| s.id.clone())
            .collect();
        let students: BTreeSet<String> = self
            .after
            .students()
            .filter(|s| s.version == lsn)
            .map(|s| s.id.clone())
            .collect();
        prop_assert_eq!(
            &self.changes.sections,
            &sections,
            "changes to write != sections changed"
        );
        prop_assert_eq!(
            &self.changes.students,
            &students,
            "changes to write != students changed"
        );
        Ok(())
    }

    /// The answer for a command that names something absent: sections first, as
    /// DESIGN orders the rules, then students.
    fn expect_missing(&self, section_ids: &[&str], student_ids: &[&str]) -> TestCaseResult {
        let expected = match section_ids.iter().find(|id| self.before.section(id).is_none()) {
            Some(id) => Outcome::NoSuchSection {
                section: id.to_string(),
            },
            None => match student_ids.iter().find(|id| self.before.student(id).is_none()) {
                Some(id) => Outcome::NoSuchStudent {
                    student: id.to_string(),
                },
                None => return fail("expect_missing with nothing missing".into()),
            },
        };
        prop_assert_eq!(self.outcome(), &expected);
        Ok(())
    }

    fn check_outcome(&self) -> TestCaseResult {
        match self.command {
            Command::Enroll {
                student,
                section,
                waitlist,
            } => self.check_enroll(student, section, *waitlist),
            Command::Drop { student, section } => self.check_drop(student, section),
            Command::Swap { student, from, to } => self.check_swap(student, from, to),
            Command::SetCapacity { section, capacity } => self.check_set_capacity(section, *capacity),
            Command::CreateSection {
                section,
                units,
                capacity,
                waitlist_capacity,
                meetings,
                ..
            } => {
                let made = self.after_section(section)?;
                let fields = (made.units, made.capacity, made.waitlist_capacity, &made.meetings);
                self.check_create(self.before.section(section).is_some())?;
                if *self.outcome() == Outcome::Created {
                    prop_assert_eq!(fields, (*units, *capacity, *waitlist_capacity, meetings));
                    prop_assert!(made.enrolled.is_empty() && made.waitlist.is_empty());
                }
                Ok(())
            }
            Command::CreateStudent { student, max_units, .. } => {
                self.check_create(self.before.student(student).is_some())?;
                if *self.outcome() == Outcome::Created {
                    let made = self
                        .after
                        .student(student)
                        .map(|s| (s.max_units, s.balance_cents, s.appointment));
                    prop_assert_eq!(made, Some((*max_units, 0, None)));
                }
                Ok(())
            }
            Command::SetAppointment { student, at } => self.check_set_appointment(student, *at),
            Command::Deposit { .. } | Command::Withdraw { .. } | Command::Transfer { .. } => Ok(()),
        }
    }

    fn check_create(&self, existed: bool) -> TestCaseResult {
        let expected = if existed {
            Outcome::AlreadyExists
        } else {
            Outcome::Created
        };
        prop_assert_eq!(self.outcome(), &expected);
        Ok(())
    }

    fn check_set_appointment(&self, stu: &str, opens: Option<OffsetDateTime>) -> TestCaseResult {
        if self.before.student(stu).is_none() {
            return self.expect_missing(&[], &[stu]);
        }
        prop_assert_eq!(self.outcome(), &Outcome::AppointmentSet);
        prop_assert_eq!(self.after.student(stu).map(|s| s.appointment), Some(opens));
        Ok(())
    }

    fn check_set_capacity(&self, sec: &str, capacity: u32) -> TestCaseResult {
        let Some(old) = self.before.section(sec) else {
            return self.expect_missing(&[sec], &[]);
        };
        let enrolled = old.enrolled.len() as u32;
        match self.outcome() {
            Outcome::CapacitySet { .. } => {
                prop_assert!(capacity >= enrolled);
                prop_assert_eq!(self.after_section(sec)?.capacity, capacity);
            }
            Outcome::BelowEnrolled { enrolled: n } => prop_assert!(*n == enrolled && capacity < enrolled),
            other => return fail(format!("set_capacity answered {other:?}")),
        }
        Ok(())
    }

    /// What must hold for `student` to take (or queue for) a seat in `section`.
    fn check_may_enroll(&self, student: &Student, section: &Section, leaving: Option<&str>) -> TestCaseResult {
        let opened = student.appointment.is_none_or(|opens| opens <= self.at);
        prop_assert!(
            opened,
            "{} registered before the appointment: {:?}",
            student.id,
            student
        );
        prop_assert_eq!(
            blocker(self.before, student, section, leaving),
            None,
            "{} may not enter {}",
            student.id,
            section.id
        );
        let listed = has(&section.enrolled, &student.id) || has(&section.waitlist, &student.id);
        prop_assert!(!listed, "{} was already in {}", student.id, section.id);
        Ok(())
    }

    fn check_enroll(&self, stu: &str, sec: &str, waitlist: bool) -> TestCaseResult {
        let (Some(student), Some(old)) = (self.before.student(stu), self.before.section(sec)) else {
            return self.expect_missing(&[sec], &[stu]);
        };
        let full = old.enrolled.len() >= old.capacity as usize;
        let line_full = old.waitlist.len() >= old.waitlist_capacity as usize;
        match self.outcome() {
            Outcome::Enrolled => {
                self.check_may_enroll(student, old, None)?;
                prop_assert!(!full, "enrolled in a full section");
                prop_assert_eq!(self.after_section(sec)?.enrolled.last().map(|s| &**s), Some(stu));
            }
            Outcome::Waitlisted { position } => {
                self.check_may_enroll(student, old, None)?;
                prop_assert!(
                    full && waitlist && !line_full,
                    "waitlisted with a free seat or no room in line"
                );
                let line = &self.after_section(sec)?.waitlist;
                prop_assert_eq!(line.len(), *position as usize, "position is the end of the line");
                prop_assert_eq!(line.last().map(|s| &**s), Some(stu));
            }
            Outcome::Full => prop_assert!(full && (!waitlist || line_full), "full, but a seat or place was free"),
            other => self.check_rule_refusal(student, old, None, other)?,
        }
        Ok(())
    }

    fn check_drop(&self, stu: &str, sec: &str) -> TestCaseResult {
        let (Some(_), Some(old)) = (self.before.student(stu), self.before.section(sec)) else {
            return self.expect_missing(&[sec], &[stu]);
        };
        let was_enrolled = old.enrolled.iter().any(|s| &**s == stu);
        let was_waiting = old.waitlist.iter().any(|s| &**s == stu);
        match self.outcome() {
            Outcome::Dropped { promoted } => {
                let new = self.after_section(sec)?;
                prop_assert!(was_enrolled || was_waiting, "dropped without being there");
                prop_assert!(
                    !new.enrolled.iter().chain(&new.waitlist).any(|s| &**s == stu),
                    "still in {}",
                    sec
                );
                prop_assert!(was_enrolled || promoted.is_empty(), "leaving a line freed a seat");
            }
            Outcome::NotEnrolled => prop_assert!(!was_enrolled && !was_waiting),
            other => return fail(format!("drop answered {other:?}")),
        }
        Ok(())
    }

    fn check_swap(&self, stu: &str, from: &str, to: &str) -> TestCaseResult {
        let b = self.before;
        let (Some(student), Some(old_from), Some(old_to)) = (b.student(stu), b.section(from), b.section(to)) else {
            return self.expect_missing(&[from, to], &[stu]);
        };
        let in_from = old_from.enrolled.iter().any(|s| &**s == stu);
        match self.outcome() {
            Outcome::Swapped { .. } => {
                prop_assert!(in_from, "swapped out of a section they were not in");
                self.check_may_enroll(student, old_to, Some(from))?;
                prop_assert!(
                    old_to.enrolled.len() < old_to.capacity as usize,
                    "swapped into a full section"
                );
                let (new_from, new_to) = (self.after_section(from)?, self.after_section(to)?);
                prop_assert!(!new_from.enrolled.iter().any(|s| &**s == stu), "still in {from}");
                prop_assert!(new_to.enrolled.iter().any(|s| &**s == stu), "not in {to}");
            }
            Outcome::Full => prop_assert!(in_from && old_to.enrolled.len() >= old_to.capacity as usize),
            Outcome::NotEnrolled => prop_assert!(!in_from),
            other => self.check_rule_refusal(student, old_to, Some(old_from), other)?,
        }
        Ok(())
    }

    /// A refusal by one of the enrollment rules must be true of the state before.
    fn check_rule_refusal(
        &self,
        student: &Student,
        section: &Section,
        leaving: Option<&Section>,
        outcome: &Outcome,
    ) -> TestCaseResult {
        let id = &student.id;
        match outcome {
            Outcome::NotOpen { opens_at } => {
                prop_assert!(student.appointment == Some(*opens_at) && self.at < *opens_at)
            }
            Outcome::Hold { balance_cents } => {
                prop_assert!(student.balance_cents == *balance_cents && *balance_cents < 0)
            }
            Outcome::AlreadyEnrolled => prop_assert!(has(&section.enrolled, id)),
            Outcome::AlreadyWaitlisted { position } => {
                let place = section.waitlist.iter().position(|s| &**s == id).map(|p| p as u32 + 1);
                prop_assert_eq!(place, Some(*position));
            }
            Outcome::TimeConflict { with } => {
                let other = self.before.section(with);
                let real = other.is_some_and(|o| has(&o.enrolled, id) && overlap(o, section));
                prop_assert!(real && leaving.map(|l| &l.id) != Some(with), "no conflict with {with}");
            }
            Outcome::UnitLimit { units, max_units } => {
                let expected = student.units + section.units - leaving.map_or(0, |l| l.units);
                prop_assert!(*units == expected && *units > *max_units && *max_units == student.max_units);
            }
            other => return fail(format!("{:?} answered {other:?}", self.command)),
        }
        Ok(())
    }

    /// Promotions listed in the outcome are those of the command's own section; commands
    /// that free no seat and make nobody eligible have no effects at all.
    fn check_effects(&self) -> TestCaseResult {
        let fx = &self.applied.effects;
        let (section, listed) = match (self.command, self.outcome()) {
            (Command::Drop { section, .. }, Outcome::Dropped { promoted })
            | (Command::Swap { from: section, .. }, Outcome::Swapped { promoted })
            | (Command::SetCapacity { section, .. }, Outcome::CapacitySet { promoted }) => (section, promoted),
            (Command::Deposit { .. } | Command::Transfer { .. }, _) => return Ok(()),
            _ => {
                prop_assert!(fx.is_empty(), "{:?} cannot promote or skip anyone", self.command);
                return Ok(());
            }
        };
        let in_fx: Vec<&String> = fx
            .promoted
            .iter()
            .filter(|p| &p.section == section)
            .map(|p| &p.student)
            .collect();
        prop_assert_eq!(listed.iter().collect::<Vec<_>>(), in_fx);
        Ok(())
    }

    /// FIFO among the eligible: promotions in line order, everyone passed over who is
    /// still waiting was skipped (and was ineligible), the line keeps its order.
    fn check_line(&self, section: &Section, old: &[String]) -> TestCaseResult {
        let fx = &self.applied.effects;
        let promoted: Vec<&String> = fx
            .promoted
            .iter()
            .filter(|p| p.section == section.id)
            .map(|p| &p.student)
            .collect();
        let skipped: Vec<&String> = fx
            .skipped
            .iter()
            .filter(|s| s.section == section.id)
            .map(|s| &s.student)
            .collect();
        let Some(places) = promoted
            .iter()
            .map(|p| old.iter().position(|s| s == *p))
            .collect::<Option<Vec<_>>>()
        else {
            return fail(format!(
                "{}: promoted {promoted:?}, not all in line {old:?}",
                section.id
            ));
        };
        prop_assert!(
            places.windows(2).all(|w| w[0] < w[1]),
            "{}: {promoted:?} out of line order {old:?}",
            section.id
        );
        let passed_over = &old[..places.last().copied().unwrap_or(0)];
        for id in passed_over.iter().filter(|id| has(&section.waitlist, id)) {
            prop_assert!(
                skipped.contains(&id),
                "{}: {id} passed over but not logged as skipped",
                section.id
            );
        }
        for id in &promoted {
            prop_assert!(
                has(&section.enrolled, id) && !has(&section.waitlist, id),
                "{id} not seated"
            );
            prop_assert!(self.balance_after(id) >= 0, "{id} promoted despite a hold");
        }
        for id in &skipped {
            let student = self.after.student(id).expect("skipped students exist");
            prop_assert!(
                has(&section.waitlist, id),
                "{id} skipped in {} lost their place",
                section.id
            );
            prop_assert!(
                blocker(self.after, student, section, None).is_some(),
                "{id} skipped but eligible"
            );
        }
        self.check_line_order(section, old, &promoted)
    }

    /// Only the promoted and a dropper leave a line; only an enroll joins it, at the end.
    fn check_line_order(&self, section: &Section, old: &[String], promoted: &[&String]) -> TestCaseResult {
        let dropper = match self.command {
            Command::Drop { student, section: s } if *s == section.id => Some(student),
            _ => None,
        };
        for id in old.iter().filter(|id| !has(&section.waitlist, id)) {
            prop_assert!(
                promoted.contains(&id) || dropper == Some(id),
                "{id} left {} unexplained",
                section.id
            );
        }
        let kept: Vec<String> = old.iter().filter(|id| has(&section.waitlist, id)).cloned().collect();
        let head: Vec<String> = names(&section.waitlist[..kept.len().min(section.waitlist.len())]);
        prop_assert_eq!(&head, &kept, "{}: the line changed order", section.id);
        let joined = matches!((self.command, self.outcome()), (Command::Enroll { section: s, .. }, Outcome::Waitlisted { .. }) if *s == section.id);
        prop_assert_eq!(
            section.waitlist.len(),
            kept.len() + usize::from(joined),
            "{}: unexplained newcomer",
            section.id
        );
        Ok(())
    }

    /// Deposits add the amount, withdrawals take the amount and the reported fee,
    /// transfers move money without creating any. Returns the new expected total.
    fn check_money(&self, total: i64) -> Result<i64, TestCaseError> {
        let total = match self.command {
            Command::Deposit { student, amount_cents } => self.check_deposit(student, *amount_cents, total)?,
            Command::Withdraw { student, amount_cents } => self.check_withdraw(student, *amount_cents, total)?,
            Command::Transfer { from, to, amount_cents } => self.check_transfer(from, to, *amount_cents, total)?,
            _ => total,
        };
        let sum: i64 = self.after.students().map(|s| s.balance_cents).sum();
        prop_assert_eq!(sum, total, "the balances do not add up to what came in and went out");
        Ok(total)
    }

    fn check_deposit(&self, stu: &str, amount: i64, total: i64) -> Result<i64, TestCaseError> {
        if self.before.student(stu).is_none() {
            return self.expect_missing(&[], &[stu]).map(|()| total);
        }
        let expected = self.balance_before(stu) + amount;
        prop_assert_eq!(
            self.outcome(),
            &Outcome::Balance {
                cents: expected,
                fee_cents: 0
            }
        );
        prop_assert_eq!(self.balance_after(stu), expected);
        Ok(total + amount)
    }

    fn check_withdraw(&self, stu: &str, amount: i64, total: i64) -> Result<i64, TestCaseError> {
        if self.before.student(stu).is_none() {
            return self.expect_missing(&[], &[stu]).map(|()| total);
        }
        let left = self.balance_before(stu) - amount;
        let fee = if left < 0 { OVERDRAFT_FEE_CENTS } else { 0 };
        if left - fee < -OVERDRAFT_CENTS_MAX {
            let refused = Outcome::InsufficientFunds {
                balance_cents: self.balance_before(stu),
            };
            prop_assert_eq!(self.outcome(), &refused);
            return Ok(total);
        }
        let Outcome::Balance { cents, fee_cents } = *self.outcome() else {
            return fail(format!("withdraw within the limit answered {:?}", self.outcome()));
        };
        prop_assert_eq!((cents, fee_cents), (left - fee, fee));
        prop_assert_eq!(self.balance_after(stu), cents);
        Ok(total - amount - fee_cents)
    }

    fn check_transfer(&self, from: &str, to: &str, amount: i64, total: i64) -> Result<i64, TestCaseError> {
        if self.before.student(from).is_none() || self.before.student(to).is_none() {
            return self.expect_missing(&[], &[from, to]).map(|()| total);
        }
        let payer = self.balance_before(from);
        if payer < amount {
            prop_assert_eq!(self.outcome(), &Outcome::InsufficientFunds { balance_cents: payer });
            return Ok(total);
        }
        prop_assert_eq!(
            self.outcome(),
            &Outcome::Balance {
                cents: payer - amount,
                fee_cents: 0
            }
        );
        prop_assert_eq!(self.balance_after(from), payer - amount);
        prop_assert_eq!(self.balance_after(to), self.balance_before(to) + amount);
        Ok(total)
    }
}

// ---------------------------------------------------------------------------------------
// Properties

proptest! {
    // A failing case is printed, shrunk, not written to a regression file.
    #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn every_step_keeps_the_rules(script in script()) {
        run_checked(&script)?;
    }

    #[test]
    fn replay_and_restore_rebuild_the_same_state(script in script(), split in any::<Index>()) {
        let (state, answers) = replay(&script);
        let (again, answers_again) = replay(&script);
        prop_assert_eq!(&answers, &answers_again, "the same log gave different answers");
        prop_assert!(again == state, "the same log built a different state");
        prop_assert_eq!(restore(&state, false), Ok(state.clone()));
        prop_assert_eq!(restore(&state, true), Ok(state.clone()), "derived fields not rebuilt");
        // A state restored midway goes on exactly as the original did.
        let cut = split.index(script.len() + 1);
        let mut resumed = restore(&replay(&script[..cut]).0, true).map_err(TestCaseError::fail)?;
        let rest: Vec<Applied> = script[cut..].iter().map(|(at, c)| resumed.apply(*at, c)).collect();
        prop_assert_eq!(&rest[..], &answers[cut..], "a restored state answered differently");
        prop_assert!(resumed == state, "a restored state ended elsewhere");
    }
}

/// Rebuilds `state` as a store does, from its sections and students; with `wipe`, the
/// students' fields that `restore` derives from the sections are emptied first.
fn restore(state: &State, wipe: bool) -> Result<State, String> {
    let wiped = |mut s: Student| {
        if wipe {
            s.enrolled.clear();
            s.waitlisted.clear();
            s.units = 0;
        }
        s
    };
    let students = students(state).into_iter().map(wiped).collect();
    State::restore(state.lsn(), state.catalog_version(), sections(state), students)
}

/// The name of a command that may promote someone (its JSON `type`).
fn promoter(command: &Command) -> &'static str {
    match command {
        Command::Drop { .. } => "drop",
        Command::Swap { .. } => "swap",
        Command::SetCapacity { .. } => "set_capacity",
        Command::Deposit { .. } => "deposit",
        Command::Transfer { .. } => "transfer",
        _ => "other",
    }
}

/// What happened in one applied command, as names to count: the outcome, each skip's
/// reason, each promotion and what caused it, an overdraft fee.
fn events(command: &Command, applied: &Applied) -> Vec<String> {
    let mut names = vec![applied.outcome.kind().to_string()];
    names.extend(
        applied
            .effects
            .skipped
            .iter()
            .map(|s| format!("skip:{}", s.reason.kind())),
    );
    names.extend(
        applied
            .effects
            .promoted
            .iter()
            .map(|_| format!("promoted by {}", promoter(command))),
    );
    if matches!(
        applied.outcome,
        Outcome::Balance {
            fee_cents: OVERDRAFT_FEE_CENTS,
            ..
        }
    ) {
        names.push("overdraft fee".into());
    }
    names
}

/// The properties are only as good as the scripts: across a fixed sample, every
/// answer and every kind of skip must occur, or the generator has gone blind.
#[test]
fn generated_scripts_reach_every_rule() {
    let mut runner = TestRunner::deterministic();
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for _ in 0..64 {
        let script = script().new_tree(&mut runner).expect("a script").current();
        for (applied, (_, command)) in replay(&script).1.iter().zip(&script) {
            for name in events(command, applied) {
                *counts.entry(name).or_default() += 1;
            }
        }
    }
    let wanted = [
        "created",
        "already_exists",
        "no_such_section",
        "no_such_student",
        "capacity_set",
        "below_enrolled",
        "appointment_set",
        "not_open",
        "enrolled",
        "waitlisted",
        "full",
        "already_enrolled",
        "already_waitlisted",
        "time_conflict",
        "unit_limit",
        "hold",
        "dropped",
        "not_enrolled",
        "swapped",
        "balance",
        "insufficient_funds",
        "overdraft fee",
        "promoted by drop",
        "promoted by swap",
        "promoted by set_capacity",
        "promoted by deposit",
        "promoted by transfer",
        "skip:hold",
        "skip:time_conflict",
        "skip:unit_limit",
    ];
    let missing: Vec<&str> = wanted.into_iter().filter(|w| !counts.contains_key(*w)).collect();
    assert!(missing.is_empty(), "never generated: {missing:?} in {counts:?}");
}

// ---------------------------------------------------------------------------------------
// Examples of the specific rules

fn new_section(id: &str, capacity: u32, waitlist_capacity: u32, meetings: Vec<Meeting>) -> Command {
    let title = format!("Section {id}");
    Command::CreateSection {
        section: id.into(),
        title,
        units: 4,
        capacity,
        waitlist_capacity,
        meetings,
    }
}

fn new_student(id: &str) -> Command {
    Command::CreateStudent {
        student: id.into(),
        name: format!("Student {id}"),
        max_units: 20,
    }
}

fn enroll(student: &str, section: &str, waitlist: bool) -> Command {
    Command::Enroll {
        student: student.into(),
        section: section.into(),
        waitlist,
    }
}

fn drop_(student: &str, section: &str) -> Command {
    Command::Drop {
        student: student.into(),
        section: section.into(),
    }
}

fn swap(student: &str, from: &str, to: &str) -> Command {
    Command::Swap {
        student: student.into(),
        from: from.into(),
        to: to.into(),
    }
}

fn deposit(student: &str, amount_cents: i64) -> Command {
    Command::Deposit {
        student: student.into(),
        amount_cents,
    }
}

fn withdraw(student: &str, amount_cents: i64) -> Command {
    Command::Withdraw {
        student: student.into(),
        amount_cents,
    }
}

fn transfer(from: &str, to: &str, amount_cents: i64) -> Command {
    Command::Transfer {
        from: from.into(),
        to: to.into(),
        amount_cents,
    }
}

fn balance(cents: i64, fee_cents: i64) -> Outcome {
    Outcome::Balance { cents, fee_cents }
}

/// Applies at time 0 and returns the outcome.
fn run(state: &mut State, command: Command) -> Outcome {
    state.apply(at(0), &command).outcome
}

/// A state built by `commands`, each of which must succeed.
fn setup(commands: Vec<Command>) -> State {
    let mut state = State::default();
    for command in commands {
        let outcome = run(&mut state, command.clone());
        assert!(!outcome.is_refusal(), "setup {command:?} refused: {outcome:?}");
    }
    state
}

fn balance_of(state: &State, id: &str) -> i64 {
    state.student(id).expect("student exists").balance_cents
}

fn enrolled(state: &State, id: &str) -> Vec<String> {
    state
        .section(id)
        .expect("section exists")
        .enrolled
        .iter()
        .map(|s| s.to_string())
        .collect()
}

fn waitlist(state: &State, id: &str) -> Vec<String> {
    state
        .section(id)
        .expect("section exists")
        .waitlist
        .iter()
        .map(|s| s.to_string())
        .collect()
}

#[test]
fn overdraft_costs_the_fee_only_below_zero() {
    let mut state = setup(vec![new_student("a"), deposit("a", 1_000)]);
    assert_eq!(
        run(&mut state, withdraw("a", 1_000)),
        balance(0, 0),
        "down to zero is free"
    );
    assert_eq!(
        run(&mut state, withdraw("a", 1)),
        balance(-1 - OVERDRAFT_FEE_CENTS, OVERDRAFT_FEE_CENTS)
    );
    assert_eq!(OVERDRAFT_FEE_CENTS, 3_000, "the lecture's 30 bucks");
    assert_eq!(balance_of(&state, "a"), -3_001);
}

#[test]
fn overdraft_stops_at_the_limit_fee_included() {
    let mut state = setup(vec![new_student("a")]);
    let most = OVERDRAFT_CENTS_MAX - OVERDRAFT_FEE_CENTS;
    assert_eq!(
        run(&mut state, withdraw("a", most + 1)),
        Outcome::InsufficientFunds { balance_cents: 0 }
    );
    assert_eq!(balance_of(&state, "a"), 0, "a refused withdrawal takes nothing");
    assert_eq!(
        run(&mut state, withdraw("a", most)),
        balance(-OVERDRAFT_CENTS_MAX, OVERDRAFT_FEE_CENTS)
    );
    let refused = Outcome::InsufficientFunds {
        balance_cents: -OVERDRAFT_CENTS_MAX,
    };
    assert_eq!(run(&mut state, withdraw("a", 1)), refused);
    assert_eq!(balance_of(&state, "a"), -OVERDRAFT_CENTS_MAX);
}

#[test]
fn transfer_never_overdraws_and_conserves_money() {
    let mut state = setup(vec![new_student("a"), new_student("b"), deposit("a", 500)]);
    assert_eq!(
        run(&mut state, transfer("a", "b", 501)),
        Outcome::InsufficientFunds { balance_cents: 500 }
    );
    assert_eq!((balance_of(&state, "a"), balance_of(&state, "b")), (500, 0));
    assert_eq!(run(&mut state, transfer("a", "b", 500)), balance(0, 0));
    assert_eq!((balance_of(&state, "a"), balance_of(&state, "b")), (0, 500));
    assert_eq!(
        run(&mut state, transfer("a", "b", 1)),
        Outcome::InsufficientFunds { balance_cents: 0 }
    );
}

#[test]
fn a_hold_blocks_enrolling_but_not_dropping() {
    let mut state = setup(vec![
        new_section("X", 2, 0, vec![]),
        new_section("Y", 2, 0, vec![]),
        new_student("a"),
        enroll("a", "X", false),
        withdraw("a", 1),
    ]);
    let hold = Outcome::Hold { balance_cents: -3_001 };
    assert_eq!(run(&mut state, enroll("a", "Y", false)), hold);
    assert_eq!(run(&mut state, swap("a", "X", "Y")), hold);
    assert_eq!(run(&mut state, drop_("a", "X")), Outcome::Dropped { promoted: vec![] });
    assert!(enrolled(&state, "X").is_empty());
    assert_eq!(run(&mut state, deposit("a", 3_001)), balance(0, 0));
    assert_eq!(
        run(&mut state, enroll("a", "Y", false)),
        Outcome::Enrolled,
        "paying lifts the hold"
    );
}

#[test]
fn a_drop_promotes_the_first_eligible_and_skips_a_held_one() {
    let mut state = setup(vec![
        new_section("X", 1, 3, vec![]),
        new_student("a"),
        new_student("b"),
        new_student("c"),
        enroll("a", "X", false),
        enroll("b", "X", true),
        enroll("c", "X", true),
        withdraw("b", 1),
    ]);
    let applied = state.apply(at(0), &drop_("a", "X"));
    assert_eq!(
        applied.outcome,
        Outcome::Dropped {
            promoted: vec!["c".into()]
        }
    );
    assert_eq!(
        applied.effects.promoted,
        vec![Promotion {
            section: "X".into(),
            student: "c".into()
        }]
    );
    let reason = Outcome::Hold { balance_cents: -3_001 };
    assert_eq!(
        applied.effects.skipped,
        vec![Skip {
            section: "X".into(),
            student: "b".into(),
            reason
        }]
    );
    assert_eq!(
        (enrolled(&state, "X"), waitlist(&state, "X")),
        (vec!["c".into()], vec!["b".into()])
    );
    // b keeps their place: paying with no free seat changes nothing, the next seat is b's.
    assert_eq!(state.apply(at(0), &deposit("b", 3_001)).effects, Default::default());
    assert_eq!(
        run(&mut state, drop_("c", "X")),
        Outcome::Dropped {
            promoted: vec!["b".into()]
        }
    );
}

#[test]
fn a_refused_swap_leaves_the_student_where_they_were() {
    let mut state = setup(vec![
        new_section("X", 1, 0, vec![meeting("MW", "09:00", "10:00")]),
        new_section("Y", 1, 0, vec![meeting("TR", "09:00", "10:00")]),
        new_section("Z", 1, 0, vec![meeting("R", "09:30", "11:00")]),
        new_student("a"),
        new_student("b"),
        enroll("a", "X", false),
        enroll("b", "Y", false),
    ]);
    let before = state.clone();
    assert_eq!(run(&mut state, swap("a", "X", "Y")), Outcome::Full);
    assert_eq!(
        (sections(&state), students(&state)),
        (sections(&before), students(&before))
    );
    assert_eq!(run(&mut state, drop_("b", "Y")), Outcome::Dropped { promoted: vec![] });
    assert_eq!(run(&mut state, enroll("a", "Z", false)), Outcome::Enrolled);
    assert_eq!(
        run(&mut state, swap("a", "X", "Y")),
        Outcome::TimeConflict { with: "Z".into() }
    );
    assert_eq!(
        enrolled(&state, "X"),
        vec!["a".to_string()],
        "a refused swap drops nothing"
    );
    assert_eq!(run(&mut state, drop_("a", "Z")), Outcome::Dropped { promoted: vec![] });
    assert_eq!(
        run(&mut state, swap("a", "X", "Y")),
        Outcome::Swapped { promoted: vec![] }
    );
    assert_eq!(
        (enrolled(&state, "X"), enrolled(&state, "Y")),
        (vec![], vec!["a".to_string()])
    );
}

#[test]
fn swapping_between_overlapping_sections_is_no_conflict() {
    let mut state = setup(vec![
        new_section("X", 1, 0, vec![meeting("MW", "09:00", "10:00")]),
        new_section("Y", 1, 0, vec![meeting("W", "09:30", "10:30")]),
        new_student("a"),
        enroll("a", "X", false),
    ]);
    assert_eq!(
        run(&mut state, enroll("a", "Y", false)),
        Outcome::TimeConflict { with: "X".into() }
    );
    assert_eq!(
        run(&mut state, swap("a", "X", "Y")),
        Outcome::Swapped { promoted: vec![] }
    );
}

#[test]
fn enrolling_before_the_appointment_is_not_open() {
    let opens_at = at(3_600);
    let appointment = Command::SetAppointment {
        student: "a".into(),
        at: Some(opens_at),
    };
    let mut state = setup(vec![new_section("X", 1, 0, vec![]), new_student("a"), appointment]);
    let early = state.apply(at(3_599), &enroll("a", "X", false));
    assert_eq!(early.outcome, Outcome::NotOpen { opens_at });
    assert!(enrolled(&state, "X").is_empty());
    assert_eq!(
        state.apply(opens_at, &enroll("a", "X", false)).outcome,
        Outcome::Enrolled,
        "open at the instant"
    );
}

/// Whether a section's line holds `id`.
fn has(line: &[std::sync::Arc<str>], id: &str) -> bool {
    line.iter().any(|s| &**s == id)
}

/// A section's line as plain ids.
fn names(line: &[std::sync::Arc<str>]) -> Vec<String> {
    line.iter().map(|s| s.to_string()).collect()
}

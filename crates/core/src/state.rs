//! The state machine: `State::apply(at, command) -> Applied`. Deterministic, no I/O, no
//! clock of its own. The same code serves requests, replays the log at start-up, and
//! runs in the tests; it is the one place the rules of DESIGN section 3 live.

use std::collections::BTreeSet;
use std::sync::Arc;

use imbl::OrdMap;
use time::OffsetDateTime;

use crate::command::{Command, Ref, SectionId, StudentId};
use crate::meeting::{Meeting, schedules_overlap};
use crate::outcome::{Applied, Effects, Outcome, Promotion, Skip};

/// A withdrawal that leaves the balance negative costs the lecture's 30 bucks.
pub const OVERDRAFT_FEE_CENTS: i64 = 3_000;
/// How far below zero a withdrawal (fee included) may take a balance.
pub const OVERDRAFT_CENTS_MAX: i64 = 50_000;
/// Balances stay far from i64 overflow.
pub const BALANCE_CENTS_MAX: i64 = 1_000_000_000_000;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Section {
    pub id: SectionId,
    pub title: String,
    pub units: u32,
    pub capacity: u32,
    pub waitlist_capacity: u32,
    pub meetings: Vec<Meeting>,
    /// In enrollment order. Ids are shared (`Arc<str>`), so the copy a batch makes of
    /// a section it changes costs a reference count per student, not an allocation.
    pub enrolled: Vec<Arc<str>>,
    /// First come, first served: index 0 is next in line.
    pub waitlist: Vec<Arc<str>>,
    /// The LSN of the last command that changed this section.
    pub version: u64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Student {
    pub id: StudentId,
    pub name: String,
    pub max_units: u32,
    pub appointment: Option<OffsetDateTime>,
    pub balance_cents: i64,
    /// Sorted, so that a state rebuilt from tables equals the state the log built.
    pub enrolled: BTreeSet<SectionId>,
    pub waitlisted: BTreeSet<SectionId>,
    /// Sum of the units of `enrolled`.
    pub units: u32,
    /// The LSN of the last command that changed this student.
    pub version: u64,
}

/// The ids changed since the last `take_changes`: what a batch must write.
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
    lsn: u64,
    catalog_version: u64,
    changes: Changes,
}

impl PartialEq for State {
    /// Equality of what the state means; pending `changes` are bookkeeping.
    fn eq(&self, other: &Self) -> bool {
        self.lsn == other.lsn
            && self.catalog_version == other.catalog_version
            && self.sections == other.sections
            && self.students == other.students
    }
}

impl Eq for State {}

/// A student id or section id that a request names but that does not exist.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Unknown {
    Section(SectionId),
    Student(StudentId),
}

impl State {
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

    pub fn section_count(&self) -> usize {
        self.sections.len()
    }

    pub fn student_count(&self) -> usize {
        self.students.len()
    }

    /// Returns and clears the set of entities changed since the last call.
    pub fn take_changes(&mut self) -> Changes {
        std::mem::take(&mut self.changes)
    }

    /// Rebuilds a state from stored sections and students (with empty `enrolled`,
    /// `waitlisted` and `units`, which are derived here from the sections), then
    /// checks every invariant: a store that hands back a broken state is refused.
    pub fn restore(
        lsn: u64,
        catalog_version: u64,
        sections: Vec<Section>,
        students: Vec<Student>,
    ) -> Result<State, String> {
        let mut state = State {
            lsn,
            catalog_version,
            ..State::default()
        };
        for mut student in students {
            student.enrolled.clear();
            student.waitlisted.clear();
            student.units = 0;
            state.students.insert(student.id.as_str().into(), Arc::new(student));
        }
        for section in sections {
            for id in &section.enrolled {
                let student = state
                    .students
                    .get_mut(&**id)
                    .map(Arc::make_mut)
                    .ok_or(format!("{}: unknown student {id}", section.id))?;
                student.enrolled.insert(section.id.clone());
                student.units += section.units;
            }
            for id in &section.waitlist {
                let student = state
                    .students
                    .get_mut(&**id)
                    .map(Arc::make_mut)
                    .ok_or(format!("{}: unknown student {id}", section.id))?;
                student.waitlisted.insert(section.id.clone());
            }
            state.sections.insert(section.id.as_str().into(), Arc::new(section));
        }
        state.check_invariants()?;
        Ok(state)
    }

    /// Finds the first id that `commands` refer to but that neither exists nor is
    /// created by an earlier command of the same list. The server refuses such a
    /// request as bad input before it reaches the log.
    pub fn find_unknown(&self, commands: &[Command]) -> Option<Unknown> {
        let mut created: Vec<Ref<'_>> = Vec::new();
        for command in commands {
            for r in command.references() {
                let exists = match r {
                    Ref::Section(id) => self.sections.contains_key(id),
                    Ref::Student(id) => self.students.contains_key(id),
                };
                if !exists && !created.contains(&r) {
                    return Some(match r {
                        Ref::Section(id) => Unknown::Section(id.to_owned()),
                        Ref::Student(id) => Unknown::Student(id.to_owned()),
                    });
                }
            }
            created.extend(command.creates());
        }
        None
    }

    /// Applies one command at arrival time `at`, giving it the next LSN.
    pub fn apply(&mut self, at: OffsetDateTime, command: &Command) -> Applied {
        self.lsn += 1;
        let mut fx = Effects::default();
        let outcome = match command {
            Command::CreateSection {
                section,
                title,
                units,
                capacity,
                waitlist_capacity,
                meetings,
            } => self.create_section(Section {
                id: section.clone(),
                title: title.clone(),
                units: *units,
                capacity: *capacity,
                waitlist_capacity: *waitlist_capacity,
                meetings: meetings.clone(),
                enrolled: Vec::new(),
                waitlist: Vec::new(),
                version: self.lsn,
            }),
            Command::SetCapacity { section, capacity } => self.set_capacity(section, *capacity, &mut fx),
            Command::CreateStudent {
                student,
                name,
                max_units,
            } => self.create_student(student, name, *max_units),
            Command::SetAppointment { student, at } => self.set_appointment(student, *at),
            Command::Enroll {
                student,
                section,
                waitlist,
            } => self.enroll(student, section, *waitlist, at),
            Command::Drop { student, section } => self.drop_section(student, section, &mut fx),
            Command::Swap { student, from, to } => self.swap(student, from, to, at, &mut fx),
            Command::Deposit { student, amount_cents } => self.deposit(student, *amount_cents, &mut fx),
            Command::Withdraw { student, amount_cents } => self.withdraw(student, *amount_cents),
            Command::Transfer { from, to, amount_cents } => self.transfer(from, to, *amount_cents, &mut fx),
        };
        debug_assert!(self.check_invariants().is_ok(), "{:?}", self.check_invariants());
        Applied {
            lsn: self.lsn,
            outcome,
            effects: fx,
        }
    }

    fn create_section(&mut self, section: Section) -> Outcome {
        if self.sections.contains_key(section.id.as_str()) {
            return Outcome::AlreadyExists;
        }
        self.changes.sections.insert(section.id.clone());
        self.catalog_version = self.lsn;
        self.sections.insert(section.id.as_str().into(), Arc::new(section));
        Outcome::Created
    }

    fn set_capacity(&mut self, id: &str, capacity: u32, fx: &mut Effects) -> Outcome {
        let Some(section) = self.sections.get(id) else {
            return no_section(id);
        };
        let enrolled = section.enrolled.len() as u32;
        if capacity < enrolled {
            return Outcome::BelowEnrolled { enrolled };
        }
        self.section_mut(id).capacity = capacity;
        Outcome::CapacitySet {
            promoted: self.promote(id, fx),
        }
    }

    fn create_student(&mut self, id: &str, name: &str, max_units: u32) -> Outcome {
        if self.students.contains_key(id) {
            return Outcome::AlreadyExists;
        }
        self.changes.students.insert(id.to_owned());
        let student = Student {
            id: id.to_owned(),
            name: name.to_owned(),
            max_units,
            appointment: None,
            balance_cents: 0,
            enrolled: BTreeSet::new(),
            waitlisted: BTreeSet::new(),
            units: 0,
            version: self.lsn,
        };
        self.students.insert(id.into(), Arc::new(student));
        Outcome::Created
    }

    fn set_appointment(&mut self, id: &str, at: Option<OffsetDateTime>) -> Outcome {
        if !self.students.contains_key(id) {
            return no_student(id);
        }
        self.student_mut(id).appointment = at;
        Outcome::AppointmentSet
    }

    /// The rules of DESIGN section 3, in order; the first one broken is the answer.
    fn enroll(&mut self, stu: &str, sec: &str, waitlist: bool, at: OffsetDateTime) -> Outcome {
        let Some(section) = self.sections.get(sec) else {
            return no_section(sec);
        };
        let Some(student) = self.students.get(stu) else {
            return no_student(stu);
        };
        if let Some(refusal) = refuse_before_open_or_hold(student, at) {
            return refusal;
        }
        if student.enrolled.contains(sec) {
            return Outcome::AlreadyEnrolled;
        }
        if student.waitlisted.contains(sec) {
            return Outcome::AlreadyWaitlisted {
                position: waitlist_position(section, stu),
            };
        }
        if let Err(refusal) = self.fits(student, section, None) {
            return refusal;
        }
        // Nobody jumps the line: every change that frees a seat or makes a waitlisted
        // student eligible promotes at once, so a free seat here means nobody in line
        // can take it (the invariant `check_section` asserts).
        if (section.enrolled.len() as u32) < section.capacity {
            self.seat(stu, sec);
            Outcome::Enrolled
        } else if waitlist && (section.waitlist.len() as u32) < section.waitlist_capacity {
            let stu_id = self.student_id(stu);
            self.section_mut(sec).waitlist.push(stu_id);
            self.student_mut(stu).waitlisted.insert(sec.to_owned());
            Outcome::Waitlisted {
                position: self.sections[sec].waitlist.len() as u32,
            }
        } else {
            Outcome::Full
        }
    }

    fn drop_section(&mut self, stu: &str, sec: &str, fx: &mut Effects) -> Outcome {
        if !self.sections.contains_key(sec) {
            return no_section(sec);
        }
        let Some(student) = self.students.get(stu) else {
            return no_student(stu);
        };
        if student.enrolled.contains(sec) {
            self.unseat(stu, sec);
            let promoted = self.promote(sec, fx);
            // Fewer units and free hours may make the dropper promotable elsewhere.
            self.promote_for(stu, fx);
            Outcome::Dropped { promoted }
        } else if student.waitlisted.contains(sec) {
            self.section_mut(sec).waitlist.retain(|s| &**s != stu);
            self.student_mut(stu).waitlisted.remove(sec);
            Outcome::Dropped { promoted: Vec::new() }
        } else {
            Outcome::NotEnrolled
        }
    }

    /// Atomic: the student leaves `from` only if a seat in `to` is theirs.
    fn swap(&mut self, stu: &str, from: &str, to: &str, at: OffsetDateTime, fx: &mut Effects) -> Outcome {
        let Some(from_section) = self.sections.get(from) else {
            return no_section(from);
        };
        let Some(to_section) = self.sections.get(to) else {
            return no_section(to);
        };
        let Some(student) = self.students.get(stu) else {
            return no_student(stu);
        };
        if let Some(refusal) = refuse_before_open_or_hold(student, at) {
            return refusal;
        }
        if student.enrolled.contains(to) {
            return Outcome::AlreadyEnrolled;
        }
        if student.waitlisted.contains(to) {
            return Outcome::AlreadyWaitlisted {
                position: waitlist_position(to_section, stu),
            };
        }
        if !student.enrolled.contains(from) {
            return Outcome::NotEnrolled;
        }
        if let Err(refusal) = self.fits(student, to_section, Some(from_section)) {
            return refusal;
        }
        if to_section.enrolled.len() as u32 >= to_section.capacity {
            return Outcome::Full;
        }
        self.unseat(stu, from);
        self.seat(stu, to);
        let promoted = self.promote(from, fx);
        self.promote_for(stu, fx);
        Outcome::Swapped { promoted }
    }

    fn deposit(&mut self, stu: &str, amount: i64, fx: &mut Effects) -> Outcome {
        let Some(student) = self.students.get(stu) else {
            return no_student(stu);
        };
        let balance = student.balance_cents + amount;
        if balance > BALANCE_CENTS_MAX {
            return Outcome::BalanceLimit;
        }
        self.set_balance(stu, balance, fx);
        Outcome::Balance {
            cents: balance,
            fee_cents: 0,
        }
    }

    fn withdraw(&mut self, stu: &str, amount: i64) -> Outcome {
        let Some(student) = self.students.get(stu) else {
            return no_student(stu);
        };
        let mut balance = student.balance_cents - amount;
        let fee_cents = if balance < 0 { OVERDRAFT_FEE_CENTS } else { 0 };
        balance -= fee_cents;
        if balance < -OVERDRAFT_CENTS_MAX {
            return Outcome::InsufficientFunds {
                balance_cents: student.balance_cents,
            };
        }
        self.student_mut(stu).balance_cents = balance;
        Outcome::Balance {
            cents: balance,
            fee_cents,
        }
    }

    /// Never overdraws, and moves exactly `amount` from one student to the other.
    fn transfer(&mut self, from: &str, to: &str, amount: i64, fx: &mut Effects) -> Outcome {
        let Some(payer) = self.students.get(from) else {
            return no_student(from);
        };
        let Some(payee) = self.students.get(to) else {
            return no_student(to);
        };
        if payer.balance_cents < amount {
            return Outcome::InsufficientFunds {
                balance_cents: payer.balance_cents,
            };
        }
        if payee.balance_cents + amount > BALANCE_CENTS_MAX {
            return Outcome::BalanceLimit;
        }
        let (payer_balance, payee_balance) = (payer.balance_cents - amount, payee.balance_cents + amount);
        self.student_mut(from).balance_cents = payer_balance;
        self.set_balance(to, payee_balance, fx);
        Outcome::Balance {
            cents: payer_balance,
            fee_cents: 0,
        }
    }

    /// Sets a balance that went up; paying off a hold may make the student promotable.
    fn set_balance(&mut self, stu: &str, balance: i64, fx: &mut Effects) {
        let was_hold = self.students[stu].balance_cents < 0;
        self.student_mut(stu).balance_cents = balance;
        if was_hold && balance >= 0 {
            self.promote_for(stu, fx);
        }
    }

    /// Would `student` fit `section` (with `leaving` dropped first)? Time conflicts are
    /// checked before units, as DESIGN orders them.
    fn fits(&self, student: &Student, section: &Section, leaving: Option<&Section>) -> Result<(), Outcome> {
        let leaving_id = leaving.map(|s| s.id.as_str());
        for id in &student.enrolled {
            if Some(id.as_str()) == leaving_id {
                continue;
            }
            if schedules_overlap(&self.sections[id.as_str()].meetings, &section.meetings) {
                return Err(Outcome::TimeConflict { with: id.clone() });
            }
        }
        let units = student.units - leaving.map_or(0, |s| s.units) + section.units;
        if units > student.max_units {
            return Err(Outcome::UnitLimit {
                units,
                max_units: student.max_units,
            });
        }
        Ok(())
    }

    /// Why a waitlisted student cannot take a free seat now, if they cannot. Their
    /// appointment is not rechecked: it had opened when they joined the line.
    fn unpromotable(&self, stu: &str, sec: &str) -> Option<Outcome> {
        let student = &self.students[stu];
        if student.balance_cents < 0 {
            return Some(Outcome::Hold {
                balance_cents: student.balance_cents,
            });
        }
        self.fits(student, &self.sections[sec], None).err()
    }

    /// Gives the free seats of `sec` to its waitlist, first come first served among the
    /// eligible; the ineligible are skipped (and logged) and keep their place.
    fn promote(&mut self, sec: &str, fx: &mut Effects) -> Vec<StudentId> {
        let section = &self.sections[sec];
        let mut free_seats = section.capacity.saturating_sub(section.enrolled.len() as u32);
        let mut promoted = Vec::new();
        if free_seats == 0 || section.waitlist.is_empty() {
            return promoted;
        }
        for stu in section.waitlist.clone() {
            if free_seats == 0 {
                break;
            }
            if let Some(reason) = self.unpromotable(&stu, sec) {
                fx.skipped.push(Skip {
                    section: sec.to_owned(),
                    student: stu.to_string(),
                    reason,
                });
                continue;
            }
            self.section_mut(sec).waitlist.retain(|s| *s != stu);
            self.student_mut(&stu).waitlisted.remove(sec);
            self.seat(&stu, sec);
            free_seats -= 1;
            fx.promoted.push(Promotion {
                section: sec.to_owned(),
                student: stu.to_string(),
            });
            promoted.push(stu.to_string());
        }
        promoted
    }

    /// After `stu` became more eligible, retries the lines they are waiting in.
    fn promote_for(&mut self, stu: &str, fx: &mut Effects) {
        for sec in self.students[stu].waitlisted.clone() {
            self.promote(&sec, fx);
        }
    }

    fn seat(&mut self, stu: &str, sec: &str) {
        let stu_id = self.student_id(stu);
        let section = self.section_mut(sec);
        let units = section.units;
        section.enrolled.push(stu_id);
        assert!(section.enrolled.len() as u32 <= section.capacity, "overbooked {sec}");
        let student = self.student_mut(stu);
        student.enrolled.insert(sec.to_owned());
        student.units += units;
        assert!(student.units <= student.max_units, "{stu} over the unit limit");
    }

    fn unseat(&mut self, stu: &str, sec: &str) {
        let units = self.sections[sec].units;
        self.section_mut(sec).enrolled.retain(|s| &**s != stu);
        let student = self.student_mut(stu);
        student.enrolled.remove(sec);
        student.units -= units;
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

    /// Every invariant of DESIGN section 5.1, checked over the whole state. Run after
    /// each command in debug builds, after a restore, and by the property tests.
    pub fn check_invariants(&self) -> Result<(), String> {
        for section in self.sections.values() {
            self.check_section(section)?;
        }
        for student in self.students.values() {
            self.check_student(student)?;
        }
        Ok(())
    }

    fn check_section(&self, section: &Section) -> Result<(), String> {
        let id = &section.id;
        if section.enrolled.len() as u32 > section.capacity {
            return Err(format!(
                "{id}: {} enrolled > capacity {}",
                section.enrolled.len(),
                section.capacity
            ));
        }
        if section.waitlist.len() as u32 > section.waitlist_capacity {
            return Err(format!("{id}: waitlist longer than {}", section.waitlist_capacity));
        }
        if section.version > self.lsn {
            return Err(format!(
                "{id}: version {} is ahead of lsn {}",
                section.version, self.lsn
            ));
        }
        let mut seen = BTreeSet::new();
        for stu in section.enrolled.iter().chain(&section.waitlist) {
            if !seen.insert(stu) {
                return Err(format!("{id}: {stu} appears twice among enrolled and waitlisted"));
            }
            let Some(student) = self.students.get(&**stu) else {
                return Err(format!("{id}: unknown student {stu}"));
            };
            let listed = student.enrolled.contains(id) || student.waitlisted.contains(id);
            if !listed {
                return Err(format!("{id}: {stu} is not linked back to the section"));
            }
        }
        let free_seats = section.enrolled.len() < section.capacity as usize;
        if free_seats && let Some(stu) = section.waitlist.iter().find(|s| self.unpromotable(s, id).is_none()) {
            return Err(format!("{id}: a seat is free while {stu} waits eligible in line"));
        }
        Ok(())
    }

    fn check_student(&self, student: &Student) -> Result<(), String> {
        let id = &student.id;
        let mut units = 0;
        let enrolled: Vec<&Section> = student.enrolled.iter().filter_map(|s| self.section(s)).collect();
        if enrolled.len() != student.enrolled.len() {
            return Err(format!("{id}: enrolled in an unknown section"));
        }
        for (i, section) in enrolled.iter().enumerate() {
            if !section.enrolled.iter().any(|s| **s == **id) || student.waitlisted.contains(&section.id) {
                return Err(format!(
                    "{id}: enrollment in {} not mirrored or also waitlisted",
                    section.id
                ));
            }
            units += section.units;
            if let Some(other) = enrolled[i + 1..]
                .iter()
                .find(|o| schedules_overlap(&o.meetings, &section.meetings))
            {
                return Err(format!("{id}: {} and {} meet at the same time", section.id, other.id));
            }
        }
        for sec in &student.waitlisted {
            if !self
                .sections
                .get(sec.as_str())
                .is_some_and(|s| s.waitlist.iter().any(|w| **w == **id))
            {
                return Err(format!("{id}: waitlisted in {sec} but not in its line"));
            }
        }
        if units != student.units || units > student.max_units {
            return Err(format!(
                "{id}: units {} (sum {units}) vs max {}",
                student.units, student.max_units
            ));
        }
        if student.balance_cents < -OVERDRAFT_CENTS_MAX || student.balance_cents > BALANCE_CENTS_MAX {
            return Err(format!("{id}: balance {} out of range", student.balance_cents));
        }
        if student.version > self.lsn {
            return Err(format!("{id}: version ahead of lsn"));
        }
        Ok(())
    }
}

fn refuse_before_open_or_hold(student: &Student, at: OffsetDateTime) -> Option<Outcome> {
    if let Some(opens_at) = student.appointment
        && at < opens_at
    {
        return Some(Outcome::NotOpen { opens_at });
    }
    if student.balance_cents < 0 {
        return Some(Outcome::Hold {
            balance_cents: student.balance_cents,
        });
    }
    None
}

fn waitlist_position(section: &Section, stu: &str) -> u32 {
    section
        .waitlist
        .iter()
        .position(|s| &**s == stu)
        .map_or(0, |i| i as u32 + 1)
}

fn no_section(id: &str) -> Outcome {
    Outcome::NoSuchSection { section: id.to_owned() }
}

fn no_student(id: &str) -> Outcome {
    Outcome::NoSuchStudent { student: id.to_owned() }
}

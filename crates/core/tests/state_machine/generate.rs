//! Generators: random but valid command sequences over a small registrar, so the rules
//! collide often. Five plain sections of a few seats with overlapping meetings, some
//! requiring courses and some holding seats for a population until an instant a few
//! minutes on; a lecture `LEC` taken with `LEC-A` or `LEC-B`; eight students with tight
//! unit limits, majors, standings and completed courses. Commands of every kind (the
//! upgrade to rules version 2 among them, at a random point), and targeted ones
//! (`Draft`) that pick their student from the state reached so far.

use murphy_core::{Command, Meeting, Population, Reservation, RulesVersion, State, Student};
use proptest::prelude::*;
use proptest::sample::Index;
use time::OffsetDateTime;

use super::{at, section_id, student_id};

pub const SECTIONS: usize = 5;
pub const STUDENTS: usize = 8;
pub const LECTURE: &str = "LEC";
pub const PARTS: [&str; 2] = ["LEC-A", "LEC-B"];
pub const COURSES: [&str; 2] = ["C1", "C2"];
const MAJORS: [&str; 2] = ["M", "N"];
const STANDINGS: [&str; 2] = ["S", "T"];
/// Commands after the opening, at most this many.
pub const BODY_COMMANDS_MAX: usize = 200;

pub type Script = Vec<(OffsetDateTime, Command)>;

fn meeting(days: &str, start: &str, end: &str) -> Meeting {
    Meeting::parse(days, start, end).unwrap()
}

/// Meeting slots: 0-1, 2-5 and 3-4 overlap; 0-3 and 1-4 are back to back (no conflict).
pub fn slots() -> Vec<Meeting> {
    vec![
        meeting("MW", "09:00", "10:00"),
        meeting("W", "09:30", "10:30"),
        meeting("TR", "09:00", "10:00"),
        meeting("M", "10:00", "11:00"),
        meeting("MWF", "10:30", "11:30"),
        meeting("R", "09:45", "11:00"),
    ]
}

/// A command as generated. Most are ready as they are. Times are relative to the
/// command's own arrival (appointments, reservations: some past, some to come). The
/// targeted ones name their student by what they are doing at that moment (seated in
/// a section, waiting in a line, on hold, holding a permission number): `resolve`
/// picks one from the state reached so far, so that drops, swaps, holds in line,
/// paid-off holds and permission numbers happen often.
#[derive(Clone, Debug)]
pub enum Draft {
    Ready(Command),
    Section {
        i: usize,
        fields: SectionFields,
        extras: Extras,
    },
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
    /// A student holding one linked section swaps it for the other.
    SwapPart {
        pick: Index,
    },
    ChargeWaiting {
        pick: Index,
        amount_cents: i64,
    },
    PayHeld {
        pick: Index,
        friend: Option<Index>,
        amount_cents: i64,
    },
    /// A student enrolls with a permission number: their own unused one (or, with
    /// `wrong`, another's, or a used one), in its section.
    Permitted {
        pick: Index,
        with: Index,
        wrong: bool,
    },
}

/// A command and the seconds since the one before it.
pub type Timed = (i64, Draft);

/// Units, capacity, waitlist capacity and meetings of a new section.
pub type SectionFields = (u32, u32, u32, Vec<Meeting>);
/// Prerequisites, and a reservation: (population, seats, seconds from creation).
pub type Extras = (Vec<&'static str>, Option<(usize, u32, i64)>);

fn section_fields() -> impl Strategy<Value = SectionFields> {
    (1u32..8, 0u32..4, 0u32..3, prop::sample::subsequence(slots(), 0..=2))
}

fn extras() -> impl Strategy<Value = Extras> {
    let courses = prop::sample::subsequence(COURSES.to_vec(), 0..=2);
    let reservation = prop::option::weighted(0.4, (0..4usize, 1u32..3, -60i64..900));
    (prop_oneof![2 => Just(vec![]), 1 => courses], reservation)
}

fn population(i: usize) -> Population {
    match i {
        0 | 1 => Population::Major(MAJORS[i].into()),
        _ => Population::Standing(STANDINGS[i - 2].into()),
    }
}

/// The course of plain section `i`: sections 0 and 3 are of one course, 1 and 4 of
/// another, so that one section per course (rules version 2) refuses often.
pub fn course_of(i: usize) -> String {
    format!("K{}", i % 3)
}

pub fn new_section_command(i: usize, fields: SectionFields, (prerequisites, reservation): Extras, now: i64) -> Command {
    let (units, capacity, waitlist_capacity, meetings) = fields;
    let reserved = reservation
        .filter(|_| capacity > 0)
        .map(|(who, seats, offset)| Reservation {
            population: population(who),
            seats: seats.min(capacity),
            until: at(now + offset),
        });
    Command::CreateSection {
        section: section_id(i),
        title: format!("Section {i}"),
        units,
        capacity,
        waitlist_capacity,
        meetings,
        course: Some(course_of(i)),
        prerequisites: prerequisites.into_iter().map(String::from).collect(),
        linked: vec![],
        reserved: reserved.into_iter().collect(),
    }
}

/// The linked sections, then their lecture (which may refuse one: same hours).
fn linked_sections() -> impl Strategy<Value = Vec<Command>> {
    let part = (0u32..2, 0u32..3, prop::sample::subsequence(slots(), 0..=1));
    let lecture = (
        1u32..4,
        0u32..4,
        0u32..3,
        prop::sample::subsequence(slots(), 0..=1),
        extras(),
    );
    (part.clone(), part, lecture).prop_map(|(a, b, (units, capacity, waitlist, meetings, extras))| {
        let part = |id: &str, (units, capacity, meetings): (u32, u32, Vec<Meeting>)| {
            Command::create_section(id, "Discussion", units, capacity, 0, meetings)
        };
        let mut lecture = Command::create_section(LECTURE, "Lecture", units, capacity, waitlist, meetings);
        if let Command::CreateSection {
            linked, prerequisites, ..
        } = &mut lecture
        {
            *linked = PARTS.iter().map(|p| p.to_string()).collect();
            *prerequisites = extras.0.into_iter().map(String::from).collect();
        }
        vec![part(PARTS[0], a), part(PARTS[1], b), lecture]
    })
}

/// Another lecture linking a section that may be linked, a lecture, in use or free.
fn relink() -> impl Strategy<Value = Command> {
    let target = prop_oneof![
        Just(PARTS[0].to_owned()),
        Just(LECTURE.to_owned()),
        (0..SECTIONS).prop_map(section_id)
    ];
    (0..2usize, target).prop_map(|(n, part)| {
        let mut command = Command::create_section(&format!("LEC{}", n + 2), "Lecture", 1, 2, 1, vec![]);
        if let Command::CreateSection { linked, .. } = &mut command {
            linked.push(part);
        }
        command
    })
}

fn new_student() -> impl Strategy<Value = (u32, Option<usize>, Option<usize>, Vec<&'static str>)> {
    let courses = prop::sample::subsequence(COURSES.to_vec(), 0..=2);
    (
        4u32..=16,
        prop::option::of(0..2usize),
        prop::option::of(0..2usize),
        courses,
    )
}

fn new_student_command(
    i: usize,
    (max_units, major, standing, completed): (u32, Option<usize>, Option<usize>, Vec<&'static str>),
) -> Command {
    Command::CreateStudent {
        student: student_id(i),
        name: format!("Student {i}"),
        max_units,
        major: major.map(|m| MAJORS[m].into()),
        standing: standing.map(|s| STANDINGS[s].into()),
        completed: completed.into_iter().map(String::from).collect(),
    }
}

/// Any plain section, but the first two are popular: they fill up, grow lines and get
/// drops.
fn sec() -> impl Strategy<Value = String> {
    prop_oneof![2 => 0..2usize, 1 => 0..SECTIONS].prop_map(section_id)
}

/// Any section at all, the lecture and its linked sections included.
fn any_sec() -> impl Strategy<Value = String> {
    prop_oneof![4 => sec(), 1 => Just(LECTURE.to_owned()), 1 => prop::sample::select(PARTS.to_vec()).prop_map(String::from)]
}

fn stu() -> impl Strategy<Value = String> {
    (0..STUDENTS).prop_map(student_id)
}

/// Two different ids out of `n`: `i` and `i + d` (mod n) with `d` in 1..n.
fn pair(n: usize, id: fn(usize) -> String) -> impl Strategy<Value = (String, String)> {
    (0..n, 1..n).prop_map(move |(i, d)| (id(i), id((i + d) % n)))
}

/// An enroll in the lecture: mostly with one of its linked sections, sometimes with
/// none or with a section that is not linked.
fn enroll_lecture() -> impl Strategy<Value = Command> {
    let with = prop_oneof![
        8 => prop::sample::select(PARTS.to_vec()).prop_map(|p| Some(p.to_owned())),
        1 => Just(None),
        1 => sec().prop_map(Some),
    ];
    (stu(), with, prop::bool::weighted(0.7)).prop_map(|(student, with, waitlist)| Command::Enroll {
        student,
        section: LECTURE.into(),
        waitlist,
        with,
        permission: None,
    })
}

fn registration() -> impl Strategy<Value = Command> {
    prop_oneof![
        6 => (stu(), sec(), prop::bool::weighted(0.8))
            .prop_map(|(student, section, waitlist)| Command::enroll(&student, &section, waitlist)),
        4 => enroll_lecture(),
        1 => (stu(), any_sec()).prop_map(|(student, section)| Command::enroll(&student, &section, false)),
        2 => (stu(), any_sec()).prop_map(|(student, section)| Command::Drop { student, section }),
        1 => (stu(), pair(SECTIONS, section_id)).prop_map(|(student, (from, to))| Command::swap(&student, &from, &to)),
        1 => (stu(), sec(), prop::sample::select(PARTS.to_vec())).prop_map(|(student, from, with)| Command::Swap {
            student,
            from,
            to: LECTURE.into(),
            with: Some(with.into()),
        }),
        2 => (any_sec(), 0u32..=5).prop_map(|(section, capacity)| Command::SetCapacity { section, capacity }),
    ]
}

fn registrar() -> impl Strategy<Value = Command> {
    prop_oneof![
        1 => (stu(), prop::sample::select(COURSES.to_vec()))
            .prop_map(|(student, course)| Command::RecordCompletion { student, course: course.into() }),
        2 => (stu(), any_sec()).prop_map(|(student, section)| Command::IssuePermission { student, section }),
        // The registrar finalizes the upgrade to rules version 2 at a random point (or
        // again, to no effect): a script runs under version 1, then under version 2.
        1 => Just(Command::UpgradeRules { rules: RulesVersion::V2 }),
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
        3 => (prop_oneof![3 => sec(), 1 => Just(LECTURE.to_owned())], pick())
            .prop_map(|(section, pick)| Draft::DropSeated { section, pick }),
        1 => (pair(SECTIONS, section_id), pick()).prop_map(|((from, to), pick)| Draft::SwapSeated { from, to, pick }),
        1 => pick().prop_map(|pick| Draft::SwapPart { pick }),
        1 => (pick(), 1i64..=40_000).prop_map(|(pick, amount_cents)| Draft::ChargeWaiting { pick, amount_cents }),
        1 => (pick(), prop::option::of(pick()), 1i64..=40_000)
            .prop_map(|(pick, friend, amount_cents)| Draft::PayHeld { pick, friend, amount_cents }),
        2 => (pick(), pick(), prop::bool::weighted(0.2)).prop_map(|(pick, with, wrong)| Draft::Permitted { pick, with, wrong }),
    ]
}

fn draft() -> impl Strategy<Value = Draft> {
    let appointment = (0..STUDENTS, prop::option::of(-600i64..600))
        .prop_map(|(student, offset_secs)| Draft::Appointment { student, offset_secs });
    let section =
        (0..SECTIONS, section_fields(), extras()).prop_map(|(i, fields, extras)| Draft::Section { i, fields, extras });
    let create = prop_oneof![
        (0..STUDENTS, new_student()).prop_map(|(i, s)| new_student_command(i, s)),
        relink(),
    ];
    prop_oneof![
        10 => registration().prop_map(Draft::Ready),
        2 => registrar().prop_map(Draft::Ready),
        4 => money().prop_map(Draft::Ready),
        6 => targeted(),
        1 => prop_oneof![section, create.prop_map(Draft::Ready)],
        1 => appointment,
    ]
}

/// Seconds between two arrivals: often none (a burst), never negative.
fn delay() -> impl Strategy<Value = i64> {
    prop_oneof![Just(0i64), 1i64..=90]
}

/// A burst of students asking for one section (or the lecture) at the same instant,
/// most willing to wait.
fn rush() -> impl Strategy<Value = Vec<Timed>> {
    let crowd = prop::sample::subsequence((0..STUDENTS).map(student_id).collect::<Vec<_>>(), 2..=4);
    let target = prop_oneof![3 => sec().prop_map(|s| (s, None)), 1 => prop::sample::select(PARTS.to_vec()).prop_map(|p| (LECTURE.to_owned(), Some(p.to_owned())))];
    (delay(), target, crowd, prop::bool::weighted(0.8)).prop_map(|(delay, (section, with), crowd, waitlist)| {
        let enroll = |student| Command::Enroll {
            student,
            section: section.clone(),
            waitlist,
            with: with.clone(),
            permission: None,
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

/// Most sections, the lecture with its linked sections, and most students (each with
/// some money), so that the commands after it mostly meet real ones; the others may
/// still be created later.
fn opening() -> impl Strategy<Value = Vec<Draft>> {
    let sections = prop::collection::vec(prop::option::weighted(0.97, (section_fields(), extras())), SECTIONS);
    let students = prop::collection::vec(prop::option::weighted(0.97, (new_student(), 0i64..20_000)), STUDENTS);
    (sections, linked_sections(), students).prop_map(|(sections, linked, students)| {
        let sections = sections
            .into_iter()
            .enumerate()
            .filter_map(|(i, f)| f.map(|(fields, extras)| Draft::Section { i, fields, extras }));
        let mut drafts: Vec<Draft> = sections.chain(linked.into_iter().map(Draft::Ready)).collect();
        for (i, (student, cents)) in students.into_iter().enumerate().filter_map(|(i, s)| Some((i, s?))) {
            drafts.push(Draft::Ready(new_student_command(i, student)));
            if cents > 0 {
                drafts.push(Draft::Ready(Command::Deposit {
                    student: student_id(i),
                    amount_cents: cents,
                }));
            }
        }
        drafts
    })
}

/// An opening, then up to 200 commands of every kind at non-decreasing arrival times.
pub fn script() -> impl Strategy<Value = Script> {
    let body = prop::collection::vec(episode(), 0..=BODY_COMMANDS_MAX);
    (opening(), body).prop_map(|(opening, body)| concretize(opening, body.concat()))
}

/// Turns drafts into commands, in order, picking the targeted students from the state
/// the commands before them reached (a plain `apply`, nothing checked here).
fn concretize(opening: Vec<Draft>, mut body: Vec<Timed>) -> Script {
    body.truncate(BODY_COMMANDS_MAX);
    let opening = opening.into_iter().map(|d| (0, d));
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
        Draft::Section { i, fields, extras } => new_section_command(i, fields, extras, now),
        Draft::Appointment { student, offset_secs } => Command::SetAppointment {
            student: student_id(student),
            at: offset_secs.map(|o| at(now + o)),
        },
        Draft::DropSeated { section, pick } => Command::Drop {
            student: seated(state, &section, pick),
            section,
        },
        Draft::SwapSeated { from, to, pick } => Command::swap(&seated(state, &from, pick), &from, &to),
        Draft::SwapPart { pick } => {
            let (from, to) = if pick.index(2) == 0 {
                (PARTS[0], PARTS[1])
            } else {
                (PARTS[1], PARTS[0])
            };
            Command::swap(&seated(state, from, pick), from, to)
        }
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
        Draft::Permitted { pick, with, wrong } => permitted(state, pick, with, wrong),
    }
}

/// An enroll with a permission number: a student's unused code in its own section (a
/// lecture with one of its linked sections), or with `wrong` one that fails.
fn permitted(state: &State, pick: Index, with: Index, wrong: bool) -> Command {
    let holder = chosen(state, pick, |s| s.permissions.iter().any(|p| p.used.is_none() || wrong));
    let permissions = state.student(&holder).map_or(&[][..], |s| &s.permissions[..]);
    let (section, code) = match (permissions.last(), wrong) {
        (Some(p), false) => {
            let unused = permissions.iter().rev().find(|p| p.used.is_none()).unwrap_or(p);
            (unused.section.clone(), unused.code.clone())
        }
        (Some(p), true) => (section_id(pick.index(SECTIONS)), p.code.clone()),
        (None, _) => (section_id(pick.index(SECTIONS)), "NO-SUCH".into()),
    };
    let linked = state.section(&section).map_or(vec![], |s| s.linked.to_vec());
    Command::Enroll {
        student: holder,
        section,
        waitlist: false,
        with: (!linked.is_empty()).then(|| with.get(&linked).clone()),
        permission: Some(code),
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

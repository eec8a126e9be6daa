//! The scenarios: what the catalog looks like and what each simulated user asks for
//! next. A `Crowd` is the set of users one connection plays, one request at a time.

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use murphy_core::{Command, Outcome};

/// A small, fast, seeded generator: runs are repeatable with `--seed`.
#[derive(Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }

    pub fn chance(&mut self, p: f64) -> bool {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Scenario {
    /// Students with Zipf-skewed preferences race at one appointment instant.
    RegistrationDay,
    /// The registration-day students without their catalog reads and appointments:
    /// writes only (enroll, drop, swap), to measure the write path and its overload.
    Writes,
    /// Everyone races for the seats of one section.
    LastSeat,
    /// Catalog reads of single sections, revalidated with ETags if `--etag`.
    Reads,
    /// Plain `GET /`, to compare servers (murphy hello, node app.js).
    Hello,
    /// A registration window opens; students arrive within seconds of it, wait in
    /// line, some abandoning, and enroll once admitted (`room.rs`).
    WaitingRoom,
}

impl std::fmt::Display for Scenario {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let value = clap::ValueEnum::to_possible_value(self).expect("every scenario has a name");
        f.write_str(value.get_name())
    }
}

/// The scenario's numbers; flags change them.
#[derive(Clone, Debug)]
pub struct Shape {
    pub students: usize,
    pub sections: usize,
    /// The most popular sections, oversubscribed ten times.
    pub hot: usize,
    /// Seats of the one section of `last-seat`.
    pub seats: u32,
    /// Sections on each student's preference list.
    pub preferences: usize,
}

pub fn section_id(i: usize) -> String {
    format!("RD-{i:05}")
}

pub fn student_id(i: usize) -> String {
    format!("b{i:06}")
}

/// The one section of a `last-seat` run: new for every run, so runs can repeat.
pub fn last_seat_section(run: &str) -> String {
    format!("LAST-{run}")
}

/// Zipf(1) popularity over sections: section 0 is the most wanted.
pub struct Popularity {
    cumulative: Vec<f64>,
}

impl Popularity {
    pub fn new(sections: usize) -> Popularity {
        let mut total = 0.0;
        let cumulative = (1..=sections.max(1))
            .map(|k| {
                total += 1.0 / k as f64;
                total
            })
            .collect();
        Popularity { cumulative }
    }

    pub fn weight(&self, i: usize) -> f64 {
        let total = *self.cumulative.last().expect("at least one section");
        (self.cumulative[i] - if i == 0 { 0.0 } else { self.cumulative[i - 1] }) / total
    }

    pub fn sample(&self, rng: &mut Rng) -> usize {
        let total = *self.cumulative.last().expect("at least one section");
        let x = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64 * total;
        self.cumulative
            .partition_point(|&c| c < x)
            .min(self.cumulative.len() - 1)
    }
}

/// The catalog: sections (hot ones get a tenth of their expected demand in seats).
pub fn sections(scenario: Scenario, shape: &Shape, run: &str) -> Vec<Command> {
    let mut commands = Vec::new();
    if scenario == Scenario::LastSeat {
        commands.push(section(last_seat_section(run), shape.seats, 0));
    } else {
        let popularity = Popularity::new(shape.sections);
        for i in 0..shape.sections {
            let demand = (shape.students * shape.preferences) as f64 * popularity.weight(i);
            let seats = if i < shape.hot { demand / 10.0 } else { demand * 0.8 };
            let seats = (seats as u32).clamp(5, 400);
            commands.push(section(section_id(i), seats, seats / 4));
        }
    }
    commands
}

pub fn students(shape: &Shape) -> Vec<Command> {
    (0..shape.students)
        .map(|i| Command::CreateStudent {
            student: student_id(i),
            name: format!("Bench student {i}"),
            max_units: 20,
            major: None,
            standing: None,
            completed: vec![],
        })
        .collect()
}

/// Everyone's registration opens at the same instant.
pub fn appointments(shape: &Shape, opens_at: SystemTime) -> Vec<Command> {
    (0..shape.students)
        .map(|i| Command::SetAppointment {
            student: student_id(i),
            at: Some(opens_at.into()),
        })
        .collect()
}

fn section(id: String, capacity: u32, waitlist_capacity: u32) -> Command {
    Command::CreateSection {
        title: format!("Bench {id}"),
        section: id.clone(),
        units: 4,
        capacity,
        waitlist_capacity,
        meetings: vec![],
        // Each section a course of its own: the load is about seats, and one section
        // per course (rules version 2) would refuse a student's second choice.
        course: Some(id.clone()),
        prerequisites: vec![],
        linked: vec![],
        reserved: vec![],
    }
}

/// What a user asks for next.
#[derive(Clone, Debug)]
pub enum Ask {
    /// A write, sent in the user's session (the runner assigns `seq`).
    Commands { client: String, commands: Vec<Command> },
    /// `GET /api/v1/sections/{id}`, with `If-None-Match` when an ETag is cached.
    Read { section: String },
    /// `GET /`.
    Hello,
    /// Nothing to do until then (an appointment not open yet).
    Wait(Duration),
    /// This connection's users are done.
    Done,
}

struct Student {
    id: String,
    /// The session this student's writes go in: `{run}-{index}`, then `.2`, `.3`, ...
    /// after each write given up (see `Crowd::renew_session`).
    client: String,
    sessions: u32,
    preferences: Vec<usize>,
    next: usize,
    enrolled: Vec<usize>,
    revalidated: bool,
    /// Set when the server said `not_open`: wait until then.
    opens_at: Option<SystemTime>,
    tried: bool,
}

/// The users one connection plays: students `first, first + stride, ...`, so no two
/// connections ever share a student (or a session).
pub struct Crowd {
    scenario: Scenario,
    last_seat: String,
    students: Vec<Student>,
    current: usize,
    popularity: Popularity,
    sections: usize,
    preferences: usize,
    /// How many enrollments a student aims for before churning (drop or swap).
    enough: usize,
}

impl Crowd {
    pub fn new(scenario: Scenario, shape: &Shape, run: &str, first: usize, stride: usize, rng: &mut Rng) -> Crowd {
        let popularity = Popularity::new(shape.sections);
        let students = (first..shape.students)
            .step_by(stride.max(1))
            .map(|i| Student {
                id: student_id(i),
                client: format!("{run}-{i}"),
                sessions: 1,
                preferences: preferences(&popularity, shape.preferences, rng),
                next: 0,
                enrolled: Vec::new(),
                revalidated: false,
                opens_at: None,
                tried: false,
            })
            .collect();
        Crowd {
            scenario,
            last_seat: last_seat_section(run),
            students,
            current: 0,
            popularity,
            sections: shape.sections,
            preferences: shape.preferences,
            enough: 3,
        }
    }

    pub fn next(&mut self, rng: &mut Rng) -> Ask {
        match self.scenario {
            Scenario::Hello => Ask::Hello,
            Scenario::Reads => Ask::Read {
                section: section_id(self.popularity.sample(rng)),
            },
            Scenario::LastSeat => self.last_seat(),
            Scenario::RegistrationDay | Scenario::Writes | Scenario::WaitingRoom => self.registration_day(rng),
        }
    }

    fn last_seat(&mut self) -> Ask {
        let Some(student) = self.students.iter_mut().find(|s| !s.tried) else {
            return Ask::Done;
        };
        student.tried = true;
        let enroll = Command::Enroll {
            student: student.id.clone(),
            section: self.last_seat.clone(),
            waitlist: false,
            with: None,
            permission: None,
        };
        Ask::Commands {
            client: student.client.clone(),
            commands: vec![enroll],
        }
    }

    fn registration_day(&mut self, rng: &mut Rng) -> Ask {
        if self.students.is_empty() {
            return Ask::Done;
        }
        self.current = (self.current + 1) % self.students.len();
        let (enough, sections) = (self.enough, self.sections);
        let reads = self.scenario == Scenario::RegistrationDay;
        let student = &mut self.students[self.current];
        if let Some(opens_at) = student.opens_at {
            match opens_at.duration_since(SystemTime::now()) {
                Ok(wait) if !wait.is_zero() => return Ask::Wait(wait.min(Duration::from_millis(50))),
                _ => student.opens_at = None,
            }
        }
        let command = if student.enrolled.len() >= enough || student.next >= student.preferences.len() {
            // Satisfied, or out of options: churn, then start a new list.
            student.next = 0;
            student.preferences = preferences(&self.popularity, self.preferences, rng);
            match student.enrolled.first() {
                Some(&from) if rng.chance(0.3) && sections > 1 => {
                    let to = student.preferences[0];
                    if to == from {
                        return self.registration_day(rng);
                    }
                    Command::Swap {
                        student: student.id.clone(),
                        from: section_id(from),
                        to: section_id(to),
                        with: None,
                    }
                }
                Some(_) => {
                    let at = rng.below(student.enrolled.len());
                    Command::Drop {
                        student: student.id.clone(),
                        section: section_id(student.enrolled[at]),
                    }
                }
                None => return self.registration_day(rng),
            }
        } else if reads && !student.revalidated {
            student.revalidated = true;
            return Ask::Read {
                section: section_id(student.preferences[student.next]),
            };
        } else {
            student.revalidated = false;
            let section = section_id(student.preferences[student.next]);
            Command::Enroll {
                student: student.id.clone(),
                section,
                waitlist: rng.chance(0.3),
                with: None,
                permission: None,
            }
        };
        Ask::Commands {
            client: student.client.clone(),
            commands: vec![command],
        }
    }

    /// Ends the session `client` and gives its student a new one. For a write given
    /// up: its seq stays unanswered, and the server would hold every later seq of that
    /// session waiting for it.
    pub fn renew_session(&mut self, client: &str) {
        if let Some(student) = self.students.iter_mut().find(|s| s.client == client) {
            student.sessions += 1;
            let base = student.client.split('.').next().unwrap_or_default().to_owned();
            student.client = format!("{base}.{}", student.sessions);
        }
    }

    /// Updates the user who asked, from the server's outcomes.
    pub fn answered(&mut self, commands: &[Command], outcomes: &[Outcome]) {
        if !matches!(self.scenario, Scenario::RegistrationDay | Scenario::Writes) {
            return;
        }
        let student = &mut self.students[self.current];
        for (command, outcome) in commands.iter().zip(outcomes) {
            match (command, outcome) {
                (Command::Enroll { .. }, Outcome::NotOpen { opens_at }) => student.opens_at = Some((*opens_at).into()),
                (Command::Enroll { section, .. }, Outcome::Enrolled) => {
                    student.enrolled.push(index(section));
                    student.next += 1;
                }
                (Command::Enroll { .. }, _) => student.next += 1,
                (Command::Drop { section, .. }, _) => student.enrolled.retain(|&s| s != index(section)),
                (Command::Swap { from, to, .. }, Outcome::Swapped { .. }) => {
                    student.enrolled.retain(|&s| s != index(from));
                    student.enrolled.push(index(to));
                }
                _ => {}
            }
        }
    }
}

fn preferences(popularity: &Popularity, count: usize, rng: &mut Rng) -> Vec<usize> {
    let mut chosen = Vec::with_capacity(count);
    for _ in 0..count * 4 {
        if chosen.len() == count {
            break;
        }
        let s = popularity.sample(rng);
        if !chosen.contains(&s) {
            chosen.push(s);
        }
    }
    chosen
}

fn index(section: &str) -> usize {
    section.trim_start_matches("RD-").parse().unwrap_or(0)
}

/// ETags this connection has seen, by path.
#[derive(Default)]
pub struct EtagCache(HashMap<String, String>);

impl EtagCache {
    pub fn get(&self, path: &str) -> Option<&str> {
        self.0.get(path).map(String::as_str)
    }

    pub fn put(&mut self, path: String, etag: String) {
        self.0.insert(path, etag);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zipf_favours_the_first_sections() {
        let popularity = Popularity::new(100);
        let mut rng = Rng::new(7);
        let mut counts = [0usize; 100];
        for _ in 0..100_000 {
            counts[popularity.sample(&mut rng)] += 1;
        }
        assert!(counts[0] > counts[1] && counts[1] > counts[9] && counts[9] > counts[99]);
        let expected = popularity.weight(0) * 100_000.0;
        assert!(
            (counts[0] as f64 - expected).abs() < expected * 0.05,
            "{} vs {expected}",
            counts[0]
        );
    }

    #[test]
    fn hot_sections_are_oversubscribed_tenfold() {
        let shape = Shape {
            students: 10_000,
            sections: 200,
            hot: 5,
            seats: 1,
            preferences: 5,
        };
        let commands = sections(Scenario::RegistrationDay, &shape, "r");
        let Command::CreateSection { capacity, .. } = &commands[0] else {
            panic!("a section first")
        };
        let demand = 50_000.0 * Popularity::new(200).weight(0);
        assert!(
            (f64::from(*capacity) - (demand / 10.0).min(400.0)).abs() <= 1.0,
            "{capacity} seats for {demand}"
        );
    }

    #[test]
    fn connections_never_share_a_student() {
        let shape = Shape {
            students: 10,
            sections: 3,
            hot: 1,
            seats: 1,
            preferences: 2,
        };
        let mut rng = Rng::new(1);
        let a = Crowd::new(Scenario::LastSeat, &shape, "r", 0, 3, &mut rng);
        let b = Crowd::new(Scenario::LastSeat, &shape, "r", 1, 3, &mut rng);
        let ids = |c: &Crowd| c.students.iter().map(|s| s.id.clone()).collect::<Vec<_>>();
        assert!(ids(&a).iter().all(|id| !ids(&b).contains(id)));
        assert_eq!(ids(&a).len() + ids(&b).len(), 4 + 3);
    }

    #[test]
    fn a_renewed_session_is_a_new_client_of_the_same_student() {
        let shape = Shape {
            students: 4,
            sections: 1,
            hot: 1,
            seats: 1,
            preferences: 1,
        };
        let mut crowd = Crowd::new(Scenario::LastSeat, &shape, "r1", 0, 2, &mut Rng::new(1));
        crowd.renew_session("r1-2");
        crowd.renew_session("r1-2.2");
        let clients: Vec<&str> = crowd.students.iter().map(|s| s.client.as_str()).collect();
        assert_eq!(clients, ["r1-0", "r1-2.3"]);
        let Ask::Commands { client, .. } = crowd.next(&mut Rng::new(1)) else {
            panic!("a last-seat student enrolls")
        };
        assert_eq!(client, "r1-0");
    }
}

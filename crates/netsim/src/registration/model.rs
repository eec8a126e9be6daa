//! Registration day as an event handler: the students' side (each walks its preference
//! list: read, then enroll, until enrolled, refused everywhere, or out of reach) and the
//! messaging between cities. What the nodes do with a request is in `central.rs` and
//! `peers.rs`.

use super::peers::Peers;
use super::workload::Student;
use super::{Architecture, ArchitectureReport, RegistrationConfig, SectionCheck};
use crate::kill::{Kill, Target};
use crate::network::{Network, PathFinder};
use crate::sim::{Model, Nanos, Queue};
use crate::stats::Histogram;

#[derive(Clone, Copy, Debug)]
pub(super) enum Msg {
    Request {
        student: u32,
        op: u32,
        enroll: bool,
        section: u32,
    },
    /// Primary to secondary: a section's enrolled count after a write.
    Replicate {
        section: u32,
        enrolled: u32,
    },
    /// Peer to peer: one seat of `section` was given.
    Notice {
        section: u32,
    },
    QuotaAsk {
        from: u32,
        section: u32,
        generation: u32,
    },
    QuotaGive {
        section: u32,
        seats: u32,
        generation: u32,
    },
}

#[derive(Clone, Copy, Debug)]
pub(super) enum Answer {
    Enrolled,
    Full,
    /// A node gave up on reaching the seats for this request.
    NoReach,
    Seats {
        left: u32,
        stale: bool,
    },
}

pub(super) enum Event {
    Begin { student: u32 },
    Deliver { at: u32, msg: Msg },
    Answer { student: u32, op: u32, answer: Answer },
    Timeout { student: u32, op: u32 },
    AskTimeout { peer: u32, section: u32, generation: u32 },
    Kill(u32),
}

#[derive(Clone, Default)]
struct Progress {
    pref: usize,
    read_done: bool,
    op: u32,
    sent_at: Nanos,
    done: bool,
}

pub(super) struct Registrar<'a> {
    pub net: &'a Network,
    pub config: &'a RegistrationConfig,
    pub arch: Architecture,
    pub capacities: &'a [u32],
    students: &'a [Student],
    kills: &'a [Kill],
    pub alive: Vec<bool>,
    link_alive: Vec<bool>,
    /// Path delays from each city, found when first needed and forgotten at a kill.
    delays: Vec<Option<Vec<Nanos>>>,
    finder: PathFinder,
    progress: Vec<Progress>,
    /// The seats actually given, per section: the truth overbooking is judged by.
    pub granted: Vec<u32>,
    /// The primary's (or server's) count, and each secondary's copy.
    pub primary: Vec<u32>,
    pub replicas: Vec<Vec<u32>>,
    pub peers: Peers,
    pub report: ArchitectureReport,
    latency: Histogram,
}

impl<'a> Registrar<'a> {
    pub fn new(
        net: &'a Network,
        config: &'a RegistrationConfig,
        arch: Architecture,
        capacities: &'a [u32],
        students: &'a [Student],
        kills: &'a [Kill],
    ) -> Registrar<'a> {
        let n = net.cities.len();
        Registrar {
            net,
            config,
            arch,
            capacities,
            students,
            kills,
            alive: vec![true; n],
            link_alive: vec![true; net.links.len()],
            delays: vec![None; n],
            finder: PathFinder::new(n),
            progress: vec![Progress::default(); students.len()],
            granted: vec![0; capacities.len()],
            primary: vec![0; capacities.len()],
            replicas: vec![vec![0; capacities.len()]; config.secondaries.len()],
            peers: Peers::new(net, arch, capacities),
            report: ArchitectureReport {
                architecture: arch.name(),
                ..ArchitectureReport::default()
            },
            latency: Histogram::default(),
        }
    }

    /// Per student: its appointment or request, a timeout, an answer and a late
    /// answer to a request it gave up on; per seat given, a notice to every peer; per
    /// write, a copy to every secondary; per peer and section, an ask to every other peer
    /// (when answers come slower than the ask timeout), the answers and one timer.
    pub fn events_in_flight_max(&self) -> usize {
        let (n, students) = (self.net.cities.len(), self.students.len());
        let seats: usize = self.capacities.iter().map(|&c| c as usize).sum();
        students * 4
            + (seats + students) * (n + self.config.secondaries.len())
            + self.capacities.len() * n * (2 * n + 1)
            + self.kills.len()
    }

    pub fn start(&mut self, queue: &mut Queue<Event>) {
        for (i, s) in self.students.iter().enumerate() {
            queue.at(s.at, Event::Begin { student: i as u32 });
        }
        for (i, k) in self.kills.iter().enumerate() {
            queue.at(k.at, Event::Kill(i as u32));
        }
    }

    /// The one-way delay from city `from` to city `to` over live links, if any.
    pub fn delay(&mut self, from: usize, to: usize) -> Option<Nanos> {
        if !self.alive[from] || !self.alive[to] {
            return None;
        }
        if self.delays[from].is_none() {
            let (net, alive, link_alive, hop) = (self.net, &self.alive, &self.link_alive, self.config.hop);
            let found = self.finder.distances(&net.adj, from, |x, a| {
                (alive[x] && alive[a.to] && link_alive[a.link]).then_some(net.links[a.link].delay + hop)
            });
            self.delays[from] = Some(found.to_vec());
        }
        let d = self.delays[from].as_ref().expect("just found")[to];
        (d != u64::MAX).then_some(d)
    }

    /// Sends `msg` from city `from` to city `to`; false if it is lost at once.
    pub fn send(&mut self, from: usize, to: usize, msg: Msg, now: Nanos, queue: &mut Queue<Event>) -> bool {
        self.report.messages += 1;
        match self.delay(from, to) {
            Some(d) => {
                queue.at(now + d, Event::Deliver { at: to as u32, msg });
                true
            }
            None => false,
        }
    }

    /// A node in city `at` answers a student's request.
    pub fn answer(&mut self, at: usize, student: u32, op: u32, answer: Answer, now: Nanos, queue: &mut Queue<Event>) {
        self.report.messages += 1;
        let home = self.students[student as usize].city;
        if let Some(d) = self.delay(at, home) {
            queue.at(now + d + self.config.access, Event::Answer { student, op, answer });
        }
    }

    /// Where a student's request goes: the server (or primary) for everything, the
    /// nearest live replica for a primary/secondary read, its own city's peer.
    fn target(&mut self, home: usize, enroll: bool) -> usize {
        match self.arch {
            Architecture::ClientServer => self.config.server,
            Architecture::PrimarySecondary if enroll => self.config.server,
            Architecture::PrimarySecondary => {
                let replicas = std::iter::once(self.config.server).chain(self.config.secondaries.iter().copied());
                let candidates: Vec<usize> = replicas.collect();
                candidates
                    .into_iter()
                    .filter_map(|r| self.delay(home, r).map(|d| (d, r)))
                    .min()
                    .map_or(self.config.server, |(_, r)| r)
            }
            Architecture::PeerNaive | Architecture::PeerEscrow => home,
        }
    }

    /// The student's next request, or its end when its list is exhausted.
    fn next(&mut self, student: usize, now: Nanos, queue: &mut Queue<Event>) {
        let s = &self.students[student];
        let p = &mut self.progress[student];
        let Some(&section) = s.preferences.get(p.pref) else {
            p.done = true;
            return;
        };
        let enroll = p.read_done || !self.config.reads;
        p.op += 1;
        p.sent_at = now;
        let op = p.op;
        self.report.requests += 1;
        let home = s.city;
        queue.at(
            now + self.config.timeout,
            Event::Timeout {
                student: student as u32,
                op,
            },
        );
        let target = self.target(home, enroll);
        let msg = Msg::Request {
            student: student as u32,
            op,
            enroll,
            section: section as u32,
        };
        self.report.messages += 1;
        if let Some(d) = self.delay(home, target) {
            queue.at(now + self.config.access + d, Event::Deliver { at: target as u32, msg });
        }
    }

    fn answered(&mut self, student: usize, op: u32, answer: Answer, now: Nanos, queue: &mut Queue<Event>) {
        let p = &mut self.progress[student];
        if p.done || p.op != op {
            return; // Too late: the student already gave up on this request.
        }
        if let Answer::NoReach = answer {
            self.report.unreached += 1;
            p.done = true;
            return;
        }
        self.report.answered += 1;
        self.latency.record(now - p.sent_at);
        match answer {
            Answer::Enrolled => {
                self.report.enrolled += 1;
                p.done = true;
                return;
            }
            Answer::Full => {
                self.report.full += 1;
                p.pref += 1;
                p.read_done = false;
            }
            Answer::Seats { left, stale } => {
                self.report.stale_reads += u64::from(stale);
                if left > 0 {
                    p.read_done = true;
                } else {
                    p.pref += 1;
                }
            }
            Answer::NoReach => unreachable!("handled above"),
        }
        self.next(student, now, queue);
    }

    fn deliver(&mut self, at: usize, msg: Msg, now: Nanos, queue: &mut Queue<Event>) {
        if !self.alive[at] {
            return;
        }
        match self.arch {
            Architecture::ClientServer | Architecture::PrimarySecondary => self.central(at, msg, now, queue),
            Architecture::PeerNaive | Architecture::PeerEscrow => self.peer(at, msg, now, queue),
        }
    }

    fn kill(&mut self, index: usize) {
        match self.kills[index].target {
            Target::City(c) => self.alive[c] = false,
            Target::Link(l) => self.link_alive[l] = false,
        }
        self.delays.fill(None);
    }

    pub fn report(mut self) -> ArchitectureReport {
        self.report.latency = self.latency.percentiles();
        let views = self.views();
        self.report.sections = (0..self.capacities.len())
            .map(|s| SectionCheck {
                capacity: self.capacities[s],
                granted: self.granted[s],
                view_max: views[s],
            })
            .collect();
        for c in &self.report.sections {
            let over = c.granted.saturating_sub(c.capacity);
            self.report.overbooked_seats += u64::from(over);
            self.report.overbooked_sections += u64::from(over > 0);
            self.report.seats_left += u64::from(c.capacity.saturating_sub(c.granted));
        }
        self.report
    }

    /// Per section, the highest count any node holds.
    fn views(&self) -> Vec<u32> {
        (0..self.capacities.len())
            .map(|s| {
                let copies = self.replicas.iter().map(|r| r[s]);
                let peers = self.peers.view_max(s);
                copies.chain([self.primary[s], peers]).max().unwrap_or(0)
            })
            .collect()
    }
}

impl Model for Registrar<'_> {
    type Event = Event;

    fn handle(&mut self, now: Nanos, event: Event, queue: &mut Queue<Event>) {
        match event {
            Event::Begin { student } => self.next(student as usize, now, queue),
            Event::Deliver { at, msg } => self.deliver(at as usize, msg, now, queue),
            Event::Answer { student, op, answer } => self.answered(student as usize, op, answer, now, queue),
            Event::Timeout { student, op } => {
                let p = &mut self.progress[student as usize];
                if !p.done && p.op == op {
                    p.done = true;
                    self.report.unreached += 1;
                }
            }
            Event::AskTimeout {
                peer,
                section,
                generation,
            } => self.ask_timeout(peer as usize, section as usize, generation, now, queue),
            Event::Kill(i) => self.kill(i as usize),
        }
    }
}

//! Peer-to-peer registration: a peer in every city, each with its own copy of the
//! sections. Naive peers enroll whenever their copy shows a free seat and tell the
//! others afterwards. Escrow peers enroll only against their quota of seats, and a peer
//! out of quota asks the others (nearest first) to give it half of theirs: the
//! demarcation protocol. A seat is in exactly one place at every moment (a peer's quota,
//! a quota message on its way, lost with such a message, or given to a student), so
//! escrow cannot overbook, whatever the network does.

use std::collections::VecDeque;

use super::Architecture;
use super::model::{Answer, Event, Msg, Registrar};
use super::workload::split;
use crate::network::Network;
use crate::sim::{Nanos, Queue};

/// An escrow peer's search for quota for one section.
struct Ask {
    /// The other peers, nearest first, reachable when the search began.
    order: Vec<usize>,
    next: usize,
    /// Some peer could not be asked or did not answer: a refusal is then for lack of
    /// reach, not because the section is full.
    unreached: bool,
    generation: u32,
}

pub(super) struct Peers {
    sections: usize,
    /// Indexed `peer * sections + section`.
    view: Vec<u32>,
    quota: Vec<u32>,
    pending: Vec<VecDeque<(u32, u32)>>,
    asks: Vec<Option<Ask>>,
    /// Per section: seats inside quota messages on their way, and seats lost with one.
    in_transit: Vec<u32>,
    stranded: Vec<u32>,
    generation: u32,
}

impl Peers {
    /// Escrow peers start with each section's seats split by their cities' population.
    pub fn new(net: &Network, arch: Architecture, capacities: &[u32]) -> Peers {
        let (n, sections) = (net.cities.len(), capacities.len());
        let mut quota = vec![0; n * sections];
        if arch == Architecture::PeerEscrow {
            let weights: Vec<f64> = net.cities.iter().map(|c| c.population).collect();
            for (s, &cap) in capacities.iter().enumerate() {
                for (p, q) in split(cap, &weights).into_iter().enumerate() {
                    quota[p * sections + s] = q;
                }
            }
        }
        Peers {
            sections,
            view: vec![0; n * sections],
            quota,
            pending: (0..n * sections).map(|_| VecDeque::new()).collect(),
            asks: (0..n * sections).map(|_| None).collect(),
            in_transit: vec![0; sections],
            stranded: vec![0; sections],
            generation: 0,
        }
    }

    pub fn view_max(&self, section: usize) -> u32 {
        self.view
            .iter()
            .skip(section)
            .step_by(self.sections)
            .copied()
            .max()
            .unwrap_or(0)
    }
}

impl Registrar<'_> {
    pub(super) fn peer(&mut self, at: usize, msg: Msg, now: Nanos, queue: &mut Queue<Event>) {
        let sections = self.peers.sections;
        match msg {
            Msg::Request {
                student,
                op,
                enroll,
                section,
            } => {
                let (s, i) = (section as usize, at * sections + section as usize);
                let seen = self.peers.view[i];
                if !enroll {
                    let left = self.capacities[s].saturating_sub(seen);
                    let stale = seen != self.granted[s];
                    return self.answer(at, student, op, Answer::Seats { left, stale }, now, queue);
                }
                match self.arch {
                    Architecture::PeerNaive if seen < self.capacities[s] => self.grant(at, s, student, op, now, queue),
                    Architecture::PeerNaive => self.answer(at, student, op, Answer::Full, now, queue),
                    _ if self.peers.quota[i] > 0 => self.grant(at, s, student, op, now, queue),
                    _ if self.peers.pending[i].len() >= self.config.pending_requests_max => {
                        self.answer(at, student, op, Answer::Full, now, queue)
                    }
                    _ => {
                        self.peers.pending[i].push_back((student, op));
                        if self.peers.asks[i].is_none() {
                            self.begin_ask(at, s, now, queue);
                        }
                    }
                }
            }
            Msg::Notice { section } => self.peers.view[at * sections + section as usize] += 1,
            Msg::QuotaAsk {
                from,
                section,
                generation,
            } => self.give(at, from as usize, section as usize, generation, now, queue),
            Msg::QuotaGive {
                section,
                seats,
                generation,
            } => self.receive(at, section as usize, seats, generation, now, queue),
            Msg::Replicate { .. } => unreachable!("no secondaries among peers"),
        }
    }

    /// Peer `at` gives a seat of `s` to `student`, and tells every other peer.
    fn grant(&mut self, at: usize, s: usize, student: u32, op: u32, now: Nanos, queue: &mut Queue<Event>) {
        let i = at * self.peers.sections + s;
        if self.arch == Architecture::PeerEscrow {
            assert!(self.peers.quota[i] > 0, "an escrow peer gives only seats it holds");
            self.peers.quota[i] -= 1;
        }
        self.granted[s] += 1;
        self.peers.view[i] += 1;
        self.answer(at, student, op, Answer::Enrolled, now, queue);
        for other in 0..self.net.cities.len() {
            if other != at {
                self.send(at, other, Msg::Notice { section: s as u32 }, now, queue);
            }
        }
        self.check_escrow(s);
    }

    fn begin_ask(&mut self, at: usize, s: usize, now: Nanos, queue: &mut Queue<Event>) {
        let others: Vec<usize> = (0..self.net.cities.len()).filter(|&p| p != at).collect();
        let mut reachable: Vec<(Nanos, usize)> = others
            .iter()
            .filter_map(|&p| self.delay(at, p).map(|d| (d, p)))
            .collect();
        reachable.sort_unstable();
        let ask = Ask {
            unreached: reachable.len() < others.len(),
            order: reachable.into_iter().map(|(_, p)| p).collect(),
            next: 0,
            generation: 0,
        };
        self.peers.asks[at * self.peers.sections + s] = Some(ask);
        self.ask_next(at, s, now, queue);
    }

    /// Asks the next peer on the list for quota, or, with none left, refuses the
    /// requests waiting.
    fn ask_next(&mut self, at: usize, s: usize, now: Nanos, queue: &mut Queue<Event>) {
        let i = at * self.peers.sections + s;
        self.peers.generation += 1;
        let generation = self.peers.generation;
        let ask = self.peers.asks[i].as_mut().expect("an ask in progress");
        let Some(&peer) = ask.order.get(ask.next) else {
            let answer = if ask.unreached { Answer::NoReach } else { Answer::Full };
            self.peers.asks[i] = None;
            while let Some((student, op)) = self.peers.pending[i].pop_front() {
                self.answer(at, student, op, answer, now, queue);
            }
            return;
        };
        ask.next += 1;
        ask.generation = generation;
        let msg = Msg::QuotaAsk {
            from: at as u32,
            section: s as u32,
            generation,
        };
        self.send(at, peer, msg, now, queue);
        let timeout = Event::AskTimeout {
            peer: at as u32,
            section: s as u32,
            generation,
        };
        queue.at(now + self.config.ask_timeout, timeout);
    }

    pub(super) fn ask_timeout(&mut self, at: usize, s: usize, generation: u32, now: Nanos, queue: &mut Queue<Event>) {
        let i = at * self.peers.sections + s;
        match &mut self.peers.asks[i] {
            Some(ask) if ask.generation == generation && self.alive[at] => {
                ask.unreached = true;
                self.ask_next(at, s, now, queue);
            }
            _ => {}
        }
    }

    /// Peer `at` gives half its quota of `s` (rounded up) to `to`: it lowers its own
    /// limit before the message leaves, so the seats are never held twice.
    fn give(&mut self, at: usize, to: usize, s: usize, generation: u32, now: Nanos, queue: &mut Queue<Event>) {
        let i = at * self.peers.sections + s;
        let seats = self.peers.quota[i].div_ceil(2);
        self.peers.quota[i] -= seats;
        let msg = Msg::QuotaGive {
            section: s as u32,
            seats,
            generation,
        };
        if self.send(at, to, msg, now, queue) {
            self.peers.in_transit[s] += seats;
        } else {
            self.peers.stranded[s] += seats;
        }
        self.check_escrow(s);
    }

    fn receive(&mut self, at: usize, s: usize, seats: u32, generation: u32, now: Nanos, queue: &mut Queue<Event>) {
        let i = at * self.peers.sections + s;
        self.peers.in_transit[s] -= seats;
        self.peers.quota[i] += seats;
        while self.peers.quota[i] > 0 {
            let Some((student, op)) = self.peers.pending[i].pop_front() else {
                break;
            };
            self.grant(at, s, student, op, now, queue);
        }
        let current = self.peers.asks[i].as_ref().map(|a| a.generation);
        if self.peers.pending[i].is_empty() {
            self.peers.asks[i] = None;
        } else if current == Some(generation) {
            // The peer we were waiting on had too little; try the next one. A late
            // answer from one we gave up on only adds quota.
            self.ask_next(at, s, now, queue);
        }
        self.check_escrow(s);
    }

    /// Escrow's invariant: every seat of `s` is in exactly one place.
    fn check_escrow(&self, s: usize) {
        if self.arch != Architecture::PeerEscrow {
            return;
        }
        let p = &self.peers;
        let held: u32 = p.quota.iter().skip(s).step_by(p.sections).sum();
        assert_eq!(
            held + p.in_transit[s] + p.stranded[s] + self.granted[s],
            self.capacities[s],
            "a seat of section {s} is in two places, or none"
        );
    }
}

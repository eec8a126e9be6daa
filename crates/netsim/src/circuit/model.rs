//! The circuit-switched network as an event handler: arrivals set calls up, departures
//! tear them down, kills drop the calls whose paths they cut.

use super::{CircuitConfig, CircuitReport, KillReport, Sample, Traffic};
use crate::kill::{Kill, Target};
use crate::network::{Network, PathFinder, Route, draw_pair};
use crate::rng::Rng;
use crate::sim::{Nanos, Queue, nanos, seconds};

/// A call's path is stored inline (no allocation per call), so it has a hard limit.
pub const PATH_LINKS_LIMIT: usize = 16;

const STREAM_ARRIVALS: u64 = 1;
const STREAM_HOLDING: u64 = 2;
const STREAM_PAIRS: u64 = 3;

pub enum Event {
    Arrival,
    Departure { slot: u32, generation: u32 },
    Kill(u32),
    Sample,
}

#[derive(Clone, Copy)]
struct Call {
    links: [u32; PATH_LINKS_LIMIT],
    len: u8,
    active: bool,
    counted: bool,
    /// Bumped when the slot is reused, so a dropped call's departure finds nothing.
    generation: u32,
}

pub struct Circuits<'a> {
    net: &'a Network,
    config: &'a CircuitConfig,
    kills: Vec<Kill>,
    free_trunks: Vec<u32>,
    link_alive: Vec<bool>,
    city_alive: Vec<bool>,
    calls: Vec<Call>,
    free_slots: Vec<u32>,
    active: u64,
    /// First-choice route per (from, to), found over the whole network and cached until a
    /// kill changes it: the exchange tries it first, then searches for an alternate.
    first_choice: Vec<Option<Option<Route>>>,
    finder: PathFinder,
    rng_arrivals: Rng,
    rng_holding: Rng,
    rng_pairs: Rng,
    population: Vec<f64>,
    report: CircuitReport,
    interval_blocked: u64,
    interval_dropped: u64,
    busy_trunks: u64,
    busy_trunk_ns: f64,
    last_change: Nanos,
    path_links_total: u64,
    carried_calls: u64,
}

impl<'a> Circuits<'a> {
    pub fn new(net: &'a Network, config: &'a CircuitConfig, kills: Vec<Kill>) -> Circuits<'a> {
        let n = net.cities.len();
        Circuits {
            net,
            config,
            kills,
            free_trunks: net.links.iter().map(|l| l.trunks).collect(),
            link_alive: vec![true; net.links.len()],
            city_alive: vec![true; n],
            calls: Vec::new(),
            free_slots: Vec::new(),
            active: 0,
            first_choice: vec![None; n * n],
            finder: PathFinder::new(n),
            rng_arrivals: Rng::new(config.seed, STREAM_ARRIVALS),
            rng_holding: Rng::new(config.seed, STREAM_HOLDING),
            rng_pairs: Rng::new(config.seed, STREAM_PAIRS),
            population: net.population_weights(),
            report: CircuitReport::default(),
            interval_blocked: 0,
            interval_dropped: 0,
            busy_trunks: 0,
            busy_trunk_ns: 0.0,
            last_change: 0,
            path_links_total: 0,
            carried_calls: 0,
        }
    }

    /// Every call holds at least one trunk, so calls are at most the trunks; besides
    /// their departures there is one arrival, one sample and the kills.
    pub fn events_in_flight_max(&self) -> usize {
        let trunks: u64 = self.net.links.iter().map(|l| u64::from(l.trunks)).sum();
        trunks as usize + self.kills.len() + 2
    }

    pub fn start(&mut self, queue: &mut Queue<Event>) {
        queue.at(0, Event::Arrival);
        for (i, k) in self.kills.iter().enumerate() {
            queue.at(k.at, Event::Kill(i as u32));
        }
        self.report.kills = self.kills.iter().map(|k| KillReport::new(self.net, k)).collect();
        queue.at(self.config.sample, Event::Sample);
    }

    fn pair(&mut self) -> (usize, usize) {
        match self.config.traffic {
            Traffic::OneLink => (0, 1),
            Traffic::Gravity => draw_pair(&mut self.rng_pairs, &self.population).expect("two populated cities"),
        }
    }

    /// Accumulates busy trunk-time up to `now` (after the warm-up only).
    fn account(&mut self, now: Nanos) {
        let from = self.last_change.max(self.config.warmup);
        if now > from {
            self.busy_trunk_ns += self.busy_trunks as f64 * (now - from) as f64;
        }
        self.last_change = now;
    }

    fn usable(&self, link: usize) -> bool {
        self.link_alive[link] && self.free_trunks[link] > 0
    }

    /// The path for a new call, as links: the first-choice route if every link on it has
    /// a free trunk, else the shortest path over links that do; `None`: blocked.
    fn find_path(&mut self, a: usize, b: usize) -> Option<([u32; PATH_LINKS_LIMIT], u8)> {
        let n = self.net.cities.len();
        let net = self.net;
        let max = self.config.path_links_max.min(PATH_LINKS_LIMIT);
        if self.first_choice[a * n + b].is_none() {
            let alive = &self.link_alive;
            let route = self.finder.shortest(&net.adj, a, b, |_, adj| {
                alive[adj.link].then_some(net.links[adj.link].delay)
            });
            self.first_choice[a * n + b] = Some(route);
        }
        if let Some(Some(route)) = &self.first_choice[a * n + b]
            && route.links.iter().all(|&l| self.usable(l))
        {
            return inline(&route.links, max);
        }
        let (alive, free) = (&self.link_alive, &self.free_trunks);
        let route = self.finder.shortest(&net.adj, a, b, |_, adj| {
            (alive[adj.link] && free[adj.link] > 0).then_some(net.links[adj.link].delay)
        })?;
        inline(&route.links, max)
    }

    fn arrival(&mut self, now: Nanos, queue: &mut Queue<Event>) {
        let gap = self.rng_arrivals.exp(1.0 / self.config.calls_per_s);
        queue.at(now + nanos(gap), Event::Arrival);
        let counted = now >= self.config.warmup;
        let (a, b) = self.pair();
        if !self.city_alive[a] || !self.city_alive[b] {
            self.report.to_dead_city += u64::from(counted);
            return;
        }
        self.report.offered += u64::from(counted);
        let Some((links, len)) = self.find_path(a, b) else {
            self.report.blocked += u64::from(counted);
            self.interval_blocked += u64::from(counted);
            return;
        };
        self.account(now);
        let mut call = Call {
            links,
            len,
            active: true,
            counted,
            generation: 0,
        };
        for &l in &links[..usize::from(len)] {
            assert!(
                self.usable(l as usize),
                "a call reserves only a free trunk on a live link"
            );
            self.free_trunks[l as usize] -= 1;
        }
        self.busy_trunks += u64::from(len);
        self.active += 1;
        if counted {
            self.path_links_total += u64::from(len);
            self.carried_calls += 1;
        }
        let slot = match self.free_slots.pop() {
            Some(slot) => slot,
            None => {
                self.calls.push(call);
                (self.calls.len() - 1) as u32
            }
        };
        call.generation = self.calls[slot as usize].generation.wrapping_add(1);
        self.calls[slot as usize] = call;
        let holding = self.rng_holding.exp(self.config.holding_s);
        queue.at(
            now + nanos(holding),
            Event::Departure {
                slot,
                generation: call.generation,
            },
        );
    }

    /// Ends the call in `slot`, freeing its trunks.
    fn release(&mut self, now: Nanos, slot: usize) {
        self.account(now);
        let call = &mut self.calls[slot];
        assert!(call.active, "only a talking call is released");
        call.active = false;
        for &l in &call.links[..usize::from(call.len)] {
            self.free_trunks[l as usize] += 1;
            assert!(
                self.free_trunks[l as usize] <= self.net.links[l as usize].trunks,
                "trunks freed that were never taken"
            );
        }
        self.busy_trunks -= u64::from(call.len);
        self.active -= 1;
        self.free_slots.push(slot as u32);
    }

    fn kill(&mut self, now: Nanos, index: usize) {
        match self.kills[index].target {
            Target::City(c) => {
                self.city_alive[c] = false;
                for a in &self.net.adj[c] {
                    self.link_alive[a.link] = false;
                }
            }
            Target::Link(l) => self.link_alive[l] = false,
        }
        self.first_choice.fill(None);
        self.report.kills[index].active_calls = self.active;
        for slot in 0..self.calls.len() {
            let call = self.calls[slot];
            let cut = call.links[..usize::from(call.len)]
                .iter()
                .any(|&l| !self.link_alive[l as usize]);
            if call.active && cut {
                self.release(now, slot);
                self.report.kills[index].dropped_calls += 1;
                self.report.dropped += u64::from(call.counted);
                self.interval_dropped += u64::from(call.counted);
            }
        }
        let alive = &self.link_alive;
        assert!(
            self.calls
                .iter()
                .filter(|c| c.active)
                .all(|c| c.links[..usize::from(c.len)].iter().all(|&l| alive[l as usize])),
            "no talking call holds a trunk on a dead link"
        );
    }

    pub fn report(mut self, queue: &Queue<Event>) -> CircuitReport {
        self.account(self.config.duration);
        let r = &mut self.report;
        r.in_progress = self.calls.iter().filter(|c| c.active && c.counted).count() as u64;
        assert_eq!(
            r.offered,
            r.blocked + r.dropped + r.completed + r.in_progress,
            "every counted call ends one way"
        );
        r.blocking = r.blocked as f64 / r.offered.max(1) as f64;
        let measured = self.config.duration.saturating_sub(self.config.warmup).max(1);
        r.carried_erlangs = self.busy_trunk_ns / measured as f64;
        r.path_links_mean = self.path_links_total as f64 / self.carried_calls.max(1) as f64;
        r.events = queue.handled();
        r.events_in_flight_peak = queue.in_flight_peak();
        self.report
    }
}

/// A route's links in a call's inline array, if it is not longer than `max`.
fn inline(links: &[usize], max: usize) -> Option<([u32; PATH_LINKS_LIMIT], u8)> {
    if links.len() > max {
        return None;
    }
    let mut out = [0; PATH_LINKS_LIMIT];
    for (o, &l) in out.iter_mut().zip(links) {
        *o = l as u32;
    }
    Some((out, links.len() as u8))
}

impl crate::sim::Model for Circuits<'_> {
    type Event = Event;

    fn handle(&mut self, now: Nanos, event: Event, queue: &mut Queue<Event>) {
        match event {
            Event::Arrival => self.arrival(now, queue),
            Event::Departure { slot, generation } => {
                let call = self.calls[slot as usize];
                if call.active && call.generation == generation {
                    self.report.completed += u64::from(call.counted);
                    self.release(now, slot as usize);
                }
            }
            Event::Kill(i) => self.kill(now, i as usize),
            Event::Sample => {
                self.report.series.push(Sample {
                    t_s: seconds(now),
                    active_calls: self.active,
                    blocked: std::mem::take(&mut self.interval_blocked),
                    dropped: std::mem::take(&mut self.interval_dropped),
                });
                if now + self.config.sample <= self.config.duration {
                    queue.at(now + self.config.sample, Event::Sample);
                }
            }
        }
    }
}

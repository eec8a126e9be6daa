//! The packet-switched network as an event handler: the data plane (forwarding, the
//! link queues, the ends of each transfer). The control plane (heartbeats,
//! advertisements, kills) is in `control.rs`, the links and their queues in `links.rs`,
//! the report in `tally.rs`.

use super::links::{Dir, directions};
use super::routing::Routing;
use super::tally::Tally;
use super::transport::{Limits, Packet, Slot, TimerOutcome};
use super::{PacketConfig, Transfer};
use crate::kill::Kill;
use crate::network::{Network, draw_pair};
use crate::rng::Rng;
use crate::sim::{Model, Nanos, Queue};

const STREAM_PAIRS: u64 = 11;

pub(super) enum Event {
    /// A packet reaches the far end of a directed link.
    Arrive {
        dir: u32,
        packet: Packet,
    },
    /// A heartbeat reaches the far end of a directed link.
    Hello {
        dir: u32,
    },
    /// A router's heartbeat timer.
    Tick {
        node: u32,
    },
    /// A link-state advertisement reaches the far end of a directed link.
    Lsa {
        dir: u32,
        lsa: u32,
    },
    Timer {
        slot: u32,
        generation: u32,
    },
    Start {
        slot: u32,
    },
    Kill(u32),
}

pub(super) struct Packets<'a> {
    pub net: &'a Network,
    pub config: &'a PacketConfig,
    pub limits: Limits,
    pub kills: Vec<Kill>,
    pub dirs: Vec<Dir>,
    pub node_alive: Vec<bool>,
    pub link_alive: Vec<bool>,
    pub routing: Routing,
    /// Per router and adjacency: whether the neighbour is believed alive, and when it
    /// was last heard.
    pub adj_up: Vec<Vec<bool>>,
    pub last_heard: Vec<Vec<Nanos>>,
    pub slots: Vec<Slot>,
    next_transfer: u32,
    random_left: u64,
    rng_pairs: Rng,
    /// Running sums of the live cities' populations: where messages come from.
    pub population: Vec<f64>,
    out: Vec<Packet>,
    pub tally: Tally,
}

impl<'a> Packets<'a> {
    pub fn new(net: &'a Network, config: &'a PacketConfig, kills: Vec<Kill>) -> Packets<'a> {
        let dirs = directions(net, config);
        let cost = net
            .links
            .iter()
            .enumerate()
            .map(|(l, link)| link.delay + dirs[2 * l].tx_data)
            .collect();
        let w = config.window_packets_max;
        let mut slots: Vec<Slot> = (0..config.transfers.len() + config.concurrent)
            .map(|_| Slot::default())
            .collect();
        for (i, s) in slots.iter_mut().enumerate() {
            s.index = i as u32;
        }
        Packets {
            net,
            config,
            limits: Limits {
                window_packets_max: w,
                in_network_packets_max: 2 * w,
                packet_bytes: config.packet_bytes,
                ttl_hops_max: config.ttl_hops_max,
                rto_min: config.rto_min,
                rto_max: config.rto_max,
                abandon_after: (20 * config.rto_max).max(4 * config.dead_after),
            },
            tally: Tally::new(net, config, &kills),
            kills,
            dirs,
            node_alive: vec![true; net.cities.len()],
            link_alive: vec![true; net.links.len()],
            routing: Routing::new(net, cost),
            adj_up: net.adj.iter().map(|a| vec![true; a.len()]).collect(),
            last_heard: net.adj.iter().map(|a| vec![0; a.len()]).collect(),
            slots,
            next_transfer: 1,
            random_left: config.messages,
            rng_pairs: Rng::new(config.seed, STREAM_PAIRS),
            population: net.population_weights(),
            out: Vec::new(),
        }
    }

    /// Packets: each slot's in-network limit; one timer and one start per slot; one
    /// tick per router; heartbeats per direction (one per interval, more on links
    /// longer than an interval); advertisements: a router originates at most one per
    /// adjacency lost (nothing comes back), each crossing each direction at most once.
    pub fn events_in_flight_max(&self) -> usize {
        let slots = self.slots.len();
        let hellos_per_dir = self
            .dirs
            .iter()
            .map(|d| d.delay / self.config.heartbeat + 2)
            .max()
            .unwrap_or(0);
        slots * (self.limits.in_network_packets_max as usize + 2)
            + self.net.cities.len()
            + self.dirs.len() * hellos_per_dir as usize
            + self.dirs.len() * (self.dirs.len() + self.net.cities.len())
            + self.kills.len()
    }

    pub fn start(&mut self, queue: &mut Queue<Event>) {
        for (i, t) in self.config.transfers.iter().enumerate() {
            queue.at(t.start, Event::Start { slot: i as u32 });
        }
        for i in 0..self.config.concurrent {
            queue.at(
                0,
                Event::Start {
                    slot: (self.config.transfers.len() + i) as u32,
                },
            );
        }
        let n = self.net.cities.len() as u64;
        for node in 0..n {
            // Staggered, so the routers' timers do not all fire at one instant.
            queue.at(node * self.config.heartbeat / n, Event::Tick { node: node as u32 });
        }
        for (i, k) in self.kills.iter().enumerate() {
            queue.at(k.at, Event::Kill(i as u32));
        }
    }

    pub fn messages_total(&self) -> u64 {
        self.config.messages + self.config.transfers.len() as u64
    }

    pub fn messages_done(&self) -> u64 {
        self.tally.report.messages_completed + self.tally.report.messages_abandoned
    }

    fn begin(&mut self, slot: usize, now: Nanos, queue: &mut Queue<Event>) {
        let explicit = self.config.transfers.len();
        let (pair, bytes) = if slot < explicit {
            let Transfer { from, to, bytes, .. } = self.config.transfers[slot];
            ((from, to), bytes)
        } else if self.random_left > 0 {
            self.random_left -= 1;
            // Only live cities have users to send, and nobody starts a conversation with
            // a city known destroyed.
            let Some(pair) = draw_pair(&mut self.rng_pairs, &self.population) else {
                // Fewer than two cities left: no message can ever be sent again.
                self.tally.report.messages_abandoned += 1 + std::mem::take(&mut self.random_left);
                return;
            };
            (pair, self.config.message_bytes)
        } else {
            return;
        };
        let id = self.next_transfer;
        self.next_transfer += 1;
        self.slots[slot].start(id, pair, bytes, now, &self.limits);
        self.slots[slot].explicit = (slot < explicit).then_some(slot);
        self.slots[slot].send_new(now, &self.limits, &mut self.out);
        self.inject(pair.0, now, queue);
        self.arm(slot, queue);
    }

    /// Frees a slot whose transfer is over; a background slot takes the next message.
    fn retire(&mut self, slot: usize, now: Nanos, queue: &mut Queue<Event>) {
        self.slots[slot].transfer = 0;
        self.slots[slot].timer_generation += 1;
        if slot >= self.config.transfers.len() {
            self.begin(slot, now, queue);
        }
    }

    /// Sends the packets in `self.out` into the network at router `at`.
    fn inject(&mut self, at: usize, now: Nanos, queue: &mut Queue<Event>) {
        let mut out = std::mem::take(&mut self.out);
        for p in out.drain(..) {
            self.tally.sent(&p);
            if self.node_alive[at] {
                self.forward(at, p, now, queue);
            } else {
                self.tally.report.dropped.dead += 1;
                self.gone(&p);
            }
        }
        self.out = out;
    }

    /// A packet left the network (delivered or dropped).
    fn gone(&mut self, p: &Packet) {
        let slot = &mut self.slots[p.slot as usize];
        assert!(slot.in_network > 0, "a packet leaves only once");
        slot.in_network -= 1;
    }

    fn arm(&mut self, slot: usize, queue: &mut Queue<Event>) {
        let s = &mut self.slots[slot];
        if !s.timer_pending && s.outstanding() {
            s.timer_pending = true;
            queue.after(
                s.rto,
                Event::Timer {
                    slot: slot as u32,
                    generation: s.timer_generation,
                },
            );
        }
    }

    /// Router `at` passes `p` on: to its own host if it is the destination, else over
    /// the downhill link whose cost plus queue backlog is least. Per packet: a burst
    /// spills onto a second-best path, and its packets then arrive out of order.
    fn forward(&mut self, at: usize, mut p: Packet, now: Nanos, queue: &mut Queue<Event>) {
        if usize::from(p.dst) == at {
            self.at_end(p, now, queue);
            return;
        }
        if p.ttl == 0 {
            self.tally.report.dropped.ttl += 1;
            return self.gone(&p);
        }
        p.ttl -= 1;
        let cands = self.routing.candidates(at, usize::from(p.dst));
        let Some(first) = cands.first() else {
            self.tally.report.dropped.no_route += 1;
            return self.gone(&p);
        };
        let backlog = |dir: u32| self.dirs[dir as usize].busy_until.saturating_sub(now);
        let mut best = (first.cost + backlog(first.dir), first.dir);
        for c in &cands[1..] {
            best = best.min((c.cost + backlog(c.dir), c.dir));
        }
        if !p.ack && (p.slot as usize) < self.config.transfers.len() {
            self.tally.via(p.slot as usize, at, now);
        }
        let d = &mut self.dirs[best.1 as usize];
        let start = d.busy_until.max(now);
        if start - now > d.queue_ns_max {
            self.tally.report.dropped.queue += 1;
            return self.gone(&p);
        }
        d.busy_until = start + if p.ack { d.tx_ack } else { d.tx_data };
        queue.at(d.busy_until + d.delay, Event::Arrive { dir: best.1, packet: p });
    }

    fn arrive(&mut self, dir: usize, p: Packet, now: Nanos, queue: &mut Queue<Event>) {
        let d = &self.dirs[dir];
        if !self.link_alive[d.link] || !self.node_alive[d.to] || !self.node_alive[d.from] {
            self.tally.report.dropped.dead += 1;
            return self.gone(&p);
        }
        self.forward(d.to, p, now, queue);
    }

    /// A packet reached its destination city: the transfer's end there handles it.
    fn at_end(&mut self, p: Packet, now: Nanos, queue: &mut Queue<Event>) {
        self.gone(&p);
        let slot = p.slot as usize;
        if self.slots[slot].transfer != p.transfer {
            return; // A late copy from a transfer this slot has finished.
        }
        if p.ack {
            if self.slots[slot].on_ack(&p, now, &self.limits, &mut self.out) {
                self.tally.finished(&self.slots[slot], now);
                self.retire(slot, now, queue);
                return;
            }
            let src = self.slots[slot].src;
            self.inject(src, now, queue);
            self.arm(slot, queue);
        } else {
            let before = self.slots[slot].sink.bytes;
            let ack = self.slots[slot].on_data(&p, now, &self.limits);
            let delivered = self.slots[slot].sink.bytes - before;
            self.tally.delivered(slot, delivered, now);
            self.out.push(ack);
            let dst = self.slots[slot].dst;
            self.inject(dst, now, queue);
        }
    }

    fn timer(&mut self, slot: usize, generation: u32, now: Nanos, queue: &mut Queue<Event>) {
        let s = &mut self.slots[slot];
        if s.transfer == 0 || s.timer_generation != generation {
            return;
        }
        s.timer_pending = false;
        match s.on_timer(now, &self.limits, &mut self.out) {
            TimerOutcome::Rearm(at) => {
                s.timer_pending = true;
                queue.at(
                    at,
                    Event::Timer {
                        slot: slot as u32,
                        generation,
                    },
                );
                let src = s.src;
                self.inject(src, now, queue);
            }
            TimerOutcome::Idle => {}
            TimerOutcome::Abandon => {
                self.tally.abandoned(&self.slots[slot]);
                self.retire(slot, now, queue);
            }
        }
    }
}

impl Model for Packets<'_> {
    type Event = Event;

    #[inline]
    fn handle(&mut self, now: Nanos, event: Event, queue: &mut Queue<Event>) {
        match event {
            Event::Arrive { dir, packet } => self.arrive(dir as usize, packet, now, queue),
            Event::Hello { dir } => self.hello(dir as usize, now),
            Event::Tick { node } => self.tick(node as usize, now, queue),
            Event::Lsa { dir, lsa } => self.lsa(dir as usize, lsa, now, queue),
            Event::Timer { slot, generation } => self.timer(slot as usize, generation, now, queue),
            Event::Start { slot } => self.begin(slot as usize, now, queue),
            Event::Kill(i) => self.kill(i as usize),
        }
    }

    fn finished(&self) -> bool {
        self.messages_done() == self.messages_total()
    }
}

impl Packets<'_> {
    pub fn report(self, queue: &Queue<Event>) -> super::PacketReport {
        let mut report = self
            .tally
            .report(&self.slots, queue.now(), queue.handled(), queue.in_flight_peak());
        report.routing.table_computations = self.routing.table_computations;
        report
    }
}

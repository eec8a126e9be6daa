//! Packet switching, as Paul Baran proposed it: messages cut into packets of about a
//! kibibyte, each forwarded hop by hop by routers that decide per packet from tables
//! they build themselves, heartbeats on a control channel to notice a dead neighbour,
//! bounded queues that drop, packets that arrive out of order, and ends that reassemble
//! and retransmit.
//!
//! Links are FIFO with a known bandwidth, so a packet's departure is known the moment
//! it is queued (after the backlog ahead of it): the queue is the link's `busy_until`,
//! and a hop costs one event, the packet's arrival at the far end. A packet is lost if
//! its link or either end has died by the time it would arrive.

mod control;
mod links;
mod model;
mod routing;
mod tally;
mod transport;

use serde::Serialize;

use crate::kill::Destruction;
use crate::network::Network;
use crate::sim::{self, MILLISECOND, Nanos, SECOND};
use crate::stats::Percentiles;
use crate::{Error, check};

/// One message from one city to another, starting at a given time.
#[derive(Clone, Debug, PartialEq)]
pub struct Transfer {
    pub from: usize,
    pub to: usize,
    pub bytes: u64,
    pub start: Nanos,
}

#[derive(Clone, Debug)]
pub struct PacketConfig {
    /// Messages watched one by one (the lecture's Los Angeles to Boston call).
    pub transfers: Vec<Transfer>,
    /// Background messages between cities drawn by population, `concurrent` at a time,
    /// each starting when the one before it in its slot is done.
    pub messages: u64,
    pub message_bytes: u64,
    pub concurrent: usize,
    pub packet_bytes: u32,
    pub ack_bytes: u32,
    pub window_packets_max: u32,
    /// Per direction of each link: packets waiting beyond this are dropped.
    pub queue_packets_max: u32,
    pub ttl_hops_max: u8,
    pub heartbeat: Nanos,
    /// A neighbour unheard for this long is declared dead.
    pub dead_after: Nanos,
    pub rto_min: Nanos,
    pub rto_max: Nanos,
    /// The run stops here even if messages are left.
    pub duration_max: Nanos,
    pub destruction: Destruction,
    /// The interval of the delivered-traffic time series.
    pub sample: Nanos,
    pub seed: u64,
}

impl Default for PacketConfig {
    fn default() -> PacketConfig {
        PacketConfig {
            transfers: Vec::new(),
            messages: 0,
            message_bytes: 64 * 1024,
            concurrent: 8,
            packet_bytes: 1024,
            ack_bytes: 64,
            window_packets_max: 64,
            queue_packets_max: 128,
            ttl_hops_max: 32,
            heartbeat: 50 * MILLISECOND,
            dead_after: 150 * MILLISECOND,
            rto_min: 20 * MILLISECOND,
            rto_max: 250 * MILLISECOND,
            duration_max: 600 * SECOND,
            destruction: Destruction::default(),
            sample: 100 * MILLISECOND,
            seed: 1,
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct PacketReport {
    pub messages_completed: u64,
    pub messages_abandoned: u64,
    /// Data packets sent for the first time, and sent again.
    pub packets_sent: u64,
    pub packets_retransmitted: u64,
    pub acks_sent: u64,
    /// Data packets handed to applications (copies not counted), and their bytes.
    pub packets_delivered: u64,
    pub bytes_delivered: u64,
    pub dropped: Drops,
    /// Data packets that arrived ahead of a missing one, and copies thrown away.
    pub out_of_order: u64,
    pub duplicates: u64,
    pub message_latency: Percentiles,
    pub routing: RoutingReport,
    pub transfers: Vec<TransferReport>,
    /// What was destroyed, and when.
    pub kills: Vec<KillAt>,
    pub series: Vec<SeriesPoint>,
    pub simulated_s: f64,
    pub events: u64,
    pub events_in_flight_peak: usize,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Drops {
    /// A full queue.
    pub queue: u64,
    /// On a link, or at a city, that died.
    pub dead: u64,
    /// No route in the router's table.
    pub no_route: u64,
    /// Too many hops (a loop while the routers' maps disagreed).
    pub ttl: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct RoutingReport {
    pub heartbeats: u64,
    pub lsas_originated: u64,
    pub lsa_messages: u64,
    pub table_computations: u64,
    /// Each time a router declared a neighbour dead.
    pub detections: Vec<Detection>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Detection {
    pub router: String,
    pub neighbour: String,
    pub at_s: f64,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct TransferReport {
    pub from: String,
    pub to: String,
    pub bytes: u64,
    pub start_s: f64,
    /// Bytes the application was handed, and times it was handed a packet out of
    /// order or twice (must be 0).
    pub delivered_bytes: u64,
    pub delivery_violations: u64,
    pub completed_s: Option<f64>,
    /// The longest gap between two packets handed to the application, and when it ended.
    pub stall_max_ms: f64,
    pub stall_end_s: f64,
    pub retransmitted: u64,
    pub out_of_order: u64,
    pub duplicates: u64,
    /// Data packets forwarded by each city on the way, before and after the first kill.
    pub via: Vec<Via>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Via {
    pub city: String,
    pub before_kill: u64,
    pub after_kill: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct KillAt {
    pub target: String,
    pub at_s: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SeriesPoint {
    pub t_s: f64,
    /// Kibibytes handed to applications in this interval: all messages, and the
    /// watched transfers alone.
    pub delivered_kib: f64,
    pub transfers_kib: f64,
}

/// Packets all the windows together may span: each transfer keeps per-packet state for
/// its window, so this bounds a run's memory.
pub const WINDOWS_PACKETS_MAX: usize = 1 << 24;

/// The time series is capped (at this many intervals) so memory stays bounded.
pub const SERIES_POINTS_MAX: usize = 100_000;

/// Runs packet switching over `net`. `progress` hears the fraction of the messages done.
pub fn run(net: &Network, config: &PacketConfig, progress: &mut dyn FnMut(f64)) -> Result<PacketReport, Error> {
    validate(net, config)?;
    let kills = config.destruction.resolve(net, config.seed);
    let mut model = model::Packets::new(net, config, kills);
    let mut queue = sim::Queue::new(model.events_in_flight_max());
    model.start(&mut queue);
    let total = model.messages_total().max(1) as f64;
    sim::run(&mut model, &mut queue, config.duration_max, &mut |m, _| {
        progress(m.messages_done() as f64 / total)
    });
    Ok(model.report(&queue))
}

fn validate(net: &Network, c: &PacketConfig) -> Result<(), Error> {
    check(
        (64..=65_535).contains(&c.packet_bytes),
        "a packet is 64 to 65,535 bytes",
    )?;
    check(
        (1..=1 << 16).contains(&c.window_packets_max),
        "a window is 1 to 65,536 packets",
    )?;
    check(c.queue_packets_max >= 1, "a queue holds at least one packet")?;
    let slots = c.transfers.len().saturating_add(c.concurrent);
    check(
        slots.saturating_mul(c.window_packets_max as usize) <= WINDOWS_PACKETS_MAX,
        "transfers x window is at most 2^24 packets",
    )?;
    check(c.heartbeat > 0, "the heartbeat interval must be positive")?;
    check(
        c.dead_after > c.heartbeat,
        "the dead interval must be longer than a heartbeat",
    )?;
    check(
        c.sample > 0 && c.rto_min > 0,
        "the sample interval and the least timeout must be positive",
    )?;
    check(
        c.rto_max >= c.rto_min,
        "the longest timeout must not be shorter than the least",
    )?;
    check(c.messages == 0 || c.message_bytes > 0, "messages must have bytes")?;
    check(c.ttl_hops_max >= 1, "a packet may make at least one hop")?;
    for t in &c.transfers {
        let cities = net.cities.len();
        check(
            t.from < cities && t.to < cities && t.from != t.to,
            "a transfer joins two cities",
        )?;
        check(t.bytes > 0, "a transfer has bytes")?;
    }
    Ok(())
}

//! What a packet run counts, and the report built from it: totals, the watched
//! transfers, the delivered-traffic time series, message latencies.

use super::transport::{Packet, Slot};
use super::{Detection, KillAt, PacketConfig, PacketReport, SERIES_POINTS_MAX, SeriesPoint, TransferReport, Via};
use crate::kill::Kill;
use crate::network::Network;
use crate::sim::{Nanos, seconds};
use crate::stats::Histogram;

pub(super) struct Tally {
    pub report: PacketReport,
    names: Vec<String>,
    latency: Histogram,
    first_kill: Nanos,
    sample: Nanos,
    data_injected: u64,
    /// Per watched transfer, per city: data packets forwarded before and after the
    /// first kill.
    via: Vec<Vec<(u64, u64)>>,
    series: Vec<(u64, u64)>,
}

impl Tally {
    pub fn new(net: &Network, config: &PacketConfig, kills: &[Kill]) -> Tally {
        let names: Vec<String> = net.cities.iter().map(|c| c.name.clone()).collect();
        let transfers = config
            .transfers
            .iter()
            .map(|t| TransferReport {
                from: names[t.from].clone(),
                to: names[t.to].clone(),
                bytes: t.bytes,
                start_s: seconds(t.start),
                ..TransferReport::default()
            })
            .collect();
        let first_kill = kills.first().map_or(Nanos::MAX, |k| k.at);
        let kills = kills
            .iter()
            .map(|k| KillAt {
                target: k.name(net),
                at_s: seconds(k.at),
            })
            .collect();
        Tally {
            report: PacketReport {
                transfers,
                kills,
                ..PacketReport::default()
            },
            latency: Histogram::default(),
            first_kill,
            sample: config.sample,
            data_injected: 0,
            via: vec![vec![(0, 0); names.len()]; config.transfers.len()],
            series: Vec::new(),
            names,
        }
    }

    pub fn sent(&mut self, p: &Packet) {
        if p.ack {
            self.report.acks_sent += 1;
        } else {
            self.data_injected += 1;
        }
    }

    pub fn via(&mut self, transfer: usize, city: usize, now: Nanos) {
        let v = &mut self.via[transfer][city];
        if now < self.first_kill {
            v.0 += 1;
        } else {
            v.1 += 1;
        }
    }

    pub fn delivered(&mut self, slot: usize, bytes: u64, now: Nanos) {
        self.report.bytes_delivered += bytes;
        let bucket = (now / self.sample) as usize;
        if bytes == 0 || bucket >= SERIES_POINTS_MAX {
            return;
        }
        if self.series.len() <= bucket {
            self.series.resize(bucket + 1, (0, 0));
        }
        self.series[bucket].0 += bytes;
        if slot < self.via.len() {
            self.series[bucket].1 += bytes;
        }
    }

    pub fn detection(&mut self, router: usize, neighbour: usize, now: Nanos) {
        self.report.routing.detections.push(Detection {
            router: self.names[router].clone(),
            neighbour: self.names[neighbour].clone(),
            at_s: seconds(now),
        });
    }

    /// The sender of `slot` has every packet acknowledged.
    pub fn finished(&mut self, slot: &Slot, now: Nanos) {
        self.report.messages_completed += 1;
        let delivered = slot.delivered_at.expect("acknowledged means delivered");
        assert!(delivered <= now, "delivered before acknowledged");
        self.latency.record(delivered - slot.started);
        self.close(slot);
    }

    pub fn abandoned(&mut self, slot: &Slot) {
        self.report.messages_abandoned += 1;
        self.close(slot);
    }

    /// Adds a slot's counts to the totals (at its end, or the run's).
    fn close(&mut self, slot: &Slot) {
        let r = &mut self.report;
        r.packets_retransmitted += slot.retransmitted;
        r.packets_delivered += slot.sink.packets;
        r.out_of_order += slot.out_of_order;
        r.duplicates += slot.duplicates;
        let Some(i) = slot.explicit else { return };
        let t = &mut r.transfers[i];
        t.delivered_bytes = slot.sink.bytes;
        t.delivery_violations = slot.sink.violations;
        t.completed_s = slot.delivered_at.map(seconds);
        t.stall_max_ms = slot.sink.stall_max as f64 / 1e6;
        t.stall_end_s = seconds(slot.sink.stall_end);
        t.retransmitted = slot.retransmitted;
        t.out_of_order = slot.out_of_order;
        t.duplicates = slot.duplicates;
        t.via = self.via[i]
            .iter()
            .enumerate()
            .filter(|(_, v)| v.0 + v.1 > 0)
            .map(|(c, v)| Via {
                city: self.names[c].clone(),
                before_kill: v.0,
                after_kill: v.1,
            })
            .collect();
    }

    pub fn report(mut self, slots: &[Slot], now: Nanos, events: u64, peak: usize) -> PacketReport {
        for s in slots.iter().filter(|s| s.transfer != 0) {
            self.close(s);
        }
        let r = &mut self.report;
        r.packets_sent = self.data_injected - r.packets_retransmitted;
        r.message_latency = self.latency.percentiles();
        r.simulated_s = seconds(now);
        r.events = events;
        r.events_in_flight_peak = peak;
        let kib = |b: u64| b as f64 / 1024.0;
        r.series = self
            .series
            .iter()
            .enumerate()
            .map(|(i, &(all, watched))| SeriesPoint {
                t_s: seconds(i as u64 * self.sample),
                delivered_kib: kib(all),
                transfers_kib: kib(watched),
            })
            .collect();
        self.report
    }
}

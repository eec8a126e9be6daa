//! The ends of a transfer: a sender that cuts a message into packets, keeps a window of
//! them in flight and retransmits what is not acknowledged in time; a receiver that
//! acknowledges every packet, buffers the ones that arrive out of order, and hands the
//! bytes to the application once, in order (reassembly).
//!
//! Retransmission is selective repeat: each acknowledgement names the packet it answers
//! and the receiver's next expected one, so only the missing packets are sent again.
//! The timeout is Jacobson's (RFC 6298: smoothed round trip plus four deviations,
//! Karn's rule for retransmitted packets) without exponential back-off: loss here
//! comes from destruction more than from congestion, and after a reroute the sender
//! should try again within one timeout, not after doubling waits.

use crate::sim::Nanos;

#[derive(Clone, Copy, Debug)]
pub(super) struct Packet {
    /// The transfer slot at both ends, and which transfer in it (slots are reused).
    pub slot: u32,
    pub transfer: u32,
    pub seq: u32,
    /// On an acknowledgement: the receiver's next expected packet.
    pub cum: u32,
    pub dst: u16,
    /// Payload bytes; 0 on an acknowledgement.
    pub bytes: u16,
    pub ttl: u8,
    pub ack: bool,
}

/// The limits every slot shares.
pub(super) struct Limits {
    pub window_packets_max: u32,
    /// Packets of one slot (data and acknowledgements, copies included) in the network
    /// at once: bounds the events a run holds, whatever the retransmissions do.
    pub in_network_packets_max: u32,
    pub packet_bytes: u32,
    pub ttl_hops_max: u8,
    pub rto_min: Nanos,
    pub rto_max: Nanos,
    /// A transfer with no progress for this long is abandoned (an end is gone).
    pub abandon_after: Nanos,
}

/// The application at the receiving end: it checks that it is handed every packet once
/// and in order, apart from the reassembly code that does the handing.
#[derive(Clone, Debug, Default)]
pub(super) struct Sink {
    next: u32,
    pub packets: u64,
    pub bytes: u64,
    pub violations: u64,
    last: Nanos,
    pub stall_max: Nanos,
    /// When the longest stall ended.
    pub stall_end: Nanos,
}

impl Sink {
    fn take(&mut self, seq: u32, bytes: u64, now: Nanos) {
        if seq != self.next {
            self.violations += 1;
        }
        self.next = seq + 1;
        self.packets += 1;
        self.bytes += bytes;
        if now - self.last > self.stall_max {
            self.stall_max = now - self.last;
            self.stall_end = now;
        }
        self.last = now;
    }
}

pub(super) enum TimerOutcome {
    Rearm(Nanos),
    Idle,
    Abandon,
}

#[derive(Default)]
pub(super) struct Slot {
    /// Where this slot is in the model's list; packets carry it.
    pub index: u32,
    /// 0: idle. Transfer ids start at 1.
    pub transfer: u32,
    pub src: usize,
    pub dst: usize,
    pub packets: u32,
    pub bytes: u64,
    pub started: Nanos,
    pub explicit: Option<usize>,
    base: u32,
    next: u32,
    acked: Vec<bool>,
    sent_at: Vec<Nanos>,
    resent: Vec<bool>,
    srtt: Option<f64>,
    rttvar: f64,
    pub rto: Nanos,
    pub timer_pending: bool,
    pub timer_generation: u32,
    last_progress: Nanos,
    pub in_network: u32,
    next_expected: u32,
    /// Per packet in the window: the payload bytes it brought, 0 while it is missing.
    received: Vec<u16>,
    pub sink: Sink,
    pub delivered_at: Option<Nanos>,
    pub retransmitted: u64,
    pub out_of_order: u64,
    pub duplicates: u64,
}

impl Slot {
    pub fn start(&mut self, transfer: u32, (src, dst): (usize, usize), bytes: u64, now: Nanos, limits: &Limits) {
        assert!(transfer > 0 && bytes > 0, "a transfer has an id and bytes");
        let w = limits.window_packets_max as usize;
        let packets = bytes.div_ceil(u64::from(limits.packet_bytes));
        *self = Slot {
            index: self.index,
            transfer,
            src,
            dst,
            packets: u32::try_from(packets).expect("a message of at most 2^32 packets"),
            bytes,
            started: now,
            acked: vec![false; w],
            sent_at: vec![0; w],
            resent: vec![false; w],
            // Before the first round trip is measured, the cautious end of the range.
            rto: limits.rto_max,
            timer_generation: self.timer_generation.wrapping_add(1),
            last_progress: now,
            in_network: self.in_network,
            received: vec![0; w],
            sink: Sink {
                last: now,
                ..Sink::default()
            },
            ..Slot::default()
        };
    }

    fn packet_bytes(&self, seq: u32, limits: &Limits) -> u16 {
        let full = u64::from(limits.packet_bytes);
        let rest = self.bytes - u64::from(seq) * full;
        rest.min(full) as u16
    }

    fn data(&mut self, seq: u32, now: Nanos, limits: &Limits) -> Packet {
        let i = (seq % limits.window_packets_max) as usize;
        self.sent_at[i] = now;
        self.in_network += 1;
        Packet {
            slot: self.index,
            transfer: self.transfer,
            seq,
            cum: 0,
            dst: self.dst as u16,
            bytes: self.packet_bytes(seq, limits),
            ttl: limits.ttl_hops_max,
            ack: false,
        }
    }

    /// New packets the window and the in-network limit allow.
    pub fn send_new(&mut self, now: Nanos, limits: &Limits, out: &mut Vec<Packet>) {
        while self.next < self.packets
            && self.next < self.base + limits.window_packets_max
            && self.in_network < limits.in_network_packets_max
        {
            let i = (self.next % limits.window_packets_max) as usize;
            self.acked[i] = false;
            self.resent[i] = false;
            let p = self.data(self.next, now, limits);
            out.push(p);
            self.next += 1;
        }
    }

    /// An acknowledgement reached the sender; true when every packet is acknowledged.
    pub fn on_ack(&mut self, p: &Packet, now: Nanos, limits: &Limits, out: &mut Vec<Packet>) -> bool {
        let w = limits.window_packets_max;
        if p.seq >= self.base && p.seq < self.next {
            let i = (p.seq % w) as usize;
            if !self.acked[i] && !self.resent[i] {
                self.sample_rtt(now - self.sent_at[i], limits);
            }
            self.acked[i] = true;
        }
        // Everything below the receiver's next expected packet has arrived.
        while self.base < self.next && (self.base < p.cum || self.acked[(self.base % w) as usize]) {
            self.base += 1;
            self.last_progress = now;
        }
        self.send_new(now, limits, out);
        self.base == self.packets
    }

    fn sample_rtt(&mut self, rtt: Nanos, limits: &Limits) {
        let r = rtt as f64;
        match self.srtt {
            None => {
                self.srtt = Some(r);
                self.rttvar = r / 2.0;
            }
            Some(s) => {
                self.rttvar = 0.75 * self.rttvar + 0.25 * (s - r).abs();
                self.srtt = Some(0.875 * s + 0.125 * r);
            }
        }
        let rto = self.srtt.unwrap_or(r) + 4.0 * self.rttvar;
        self.rto = (rto as Nanos).clamp(limits.rto_min, limits.rto_max);
    }

    /// A data packet reached the receiver: the acknowledgement to send back.
    pub fn on_data(&mut self, p: &Packet, now: Nanos, limits: &Limits) -> Packet {
        let w = limits.window_packets_max;
        let i = (p.seq % w) as usize;
        assert!(p.bytes > 0, "a data packet carries bytes");
        if p.seq < self.next_expected || self.received[i] > 0 {
            self.duplicates += 1;
        } else {
            // The sender never runs more than a window past what the receiver has.
            assert!(p.seq < self.next_expected + w, "a packet beyond the window");
            if p.seq > self.next_expected {
                self.out_of_order += 1;
            }
            self.received[i] = p.bytes;
            loop {
                let next = (self.next_expected % w) as usize;
                let bytes = std::mem::take(&mut self.received[next]);
                if bytes == 0 {
                    break;
                }
                self.sink.take(self.next_expected, u64::from(bytes), now);
                self.next_expected += 1;
                if self.next_expected == self.packets {
                    self.delivered_at = Some(now);
                    break;
                }
            }
        }
        self.in_network += 1;
        Packet {
            slot: p.slot,
            transfer: p.transfer,
            seq: p.seq,
            cum: self.next_expected,
            dst: self.src as u16,
            bytes: 0,
            ttl: limits.ttl_hops_max,
            ack: true,
        }
    }

    /// The retransmission timer fired: resend every packet whose timeout passed.
    pub fn on_timer(&mut self, now: Nanos, limits: &Limits, out: &mut Vec<Packet>) -> TimerOutcome {
        if now - self.last_progress > limits.abandon_after {
            return TimerOutcome::Abandon;
        }
        let w = limits.window_packets_max;
        let mut earliest = None::<Nanos>;
        for seq in self.base..self.next {
            let i = (seq % w) as usize;
            if self.acked[i] {
                continue;
            }
            if self.sent_at[i] + self.rto <= now && self.in_network < limits.in_network_packets_max {
                self.resent[i] = true;
                self.retransmitted += 1;
                let p = self.data(seq, now, limits);
                out.push(p);
            }
            let due = self.sent_at[i] + self.rto;
            earliest = Some(earliest.map_or(due, |e| e.min(due)));
        }
        match earliest {
            // A packet held back by the in-network limit is due already: look again
            // after a timeout, not at once.
            Some(due) => TimerOutcome::Rearm(due.max(now + limits.rto_min)),
            None => TimerOutcome::Idle,
        }
    }

    /// Whether the sender has packets out that are not acknowledged.
    pub fn outstanding(&self) -> bool {
        self.base < self.next
    }
}

//! The summary tables `murphy net` prints: one per kind of run, plain text, columns
//! aligned, numbers right-aligned.

use std::fmt::Write;

use crate::baran::BaranReport;
use crate::circuit::{CircuitConfig, CircuitReport, OneLinkReport};
use crate::network::Network;
use crate::packet::{PacketReport, TransferReport};
use crate::registration::RegistrationReport;
use crate::sim::MILLISECOND;

/// A table: the first row is the header; columns after the first are right-aligned.
fn table(rows: &[Vec<String>]) -> String {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|s| s.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for row in rows {
        let cells: Vec<String> = row
            .iter()
            .enumerate()
            .map(|(c, cell)| {
                if c == 0 {
                    format!("{cell:<w$}", w = widths[c])
                } else {
                    format!("{cell:>w$}", w = widths[c])
                }
            })
            .collect();
        let _ = writeln!(out, "{}", cells.join("  ").trim_end());
    }
    out
}

fn row(cells: &[&dyn std::fmt::Display]) -> Vec<String> {
    cells.iter().map(|c| c.to_string()).collect()
}

pub fn one_link(points: &[OneLinkReport]) -> String {
    let mut rows = vec![row(&[
        &"trunks",
        &"erlangs",
        &"calls",
        &"blocked",
        &"blocking",
        &"Erlang B",
        &"difference",
    ])];
    for p in points {
        rows.push(row(&[
            &p.trunks,
            &format!("{:.2}", p.erlangs),
            &p.calls,
            &p.blocked,
            &format!("{:.4}", p.blocking),
            &format!("{:.4}", p.erlang_b),
            &format!("{:+.4}", p.blocking - p.erlang_b),
        ]));
    }
    table(&rows)
}

/// What a network run of circuit switching simulates: the network, the load, the time.
pub fn circuit_setup(network: &str, net: &Network, c: &CircuitConfig) -> String {
    let trunks: u64 = net.links.iter().map(|l| u64::from(l.trunks)).sum();
    let second = |t: crate::Nanos| t as f64 / crate::sim::SECOND as f64;
    format!(
        "circuit switching over {network} ({} cities, {} links, {trunks} trunks): {} calls/s of \
         {} s each offered, {:.0} erlangs, for {} s after a {} s warm-up\n",
        net.cities.len(),
        net.links.len(),
        c.calls_per_s,
        c.holding_s,
        c.calls_per_s * c.holding_s,
        second(c.duration.saturating_sub(c.warmup)),
        second(c.warmup)
    )
}

pub fn circuit(r: &CircuitReport) -> String {
    let mut out = table(&[
        row(&[
            &"offered",
            &"blocked",
            &"dropped",
            &"completed",
            &"talking at end",
            &"blocking",
            &"links per call",
        ]),
        row(&[
            &r.offered,
            &r.blocked,
            &r.dropped,
            &r.completed,
            &r.in_progress,
            &format!("{:.4}", r.blocking),
            &format!("{:.2}", r.path_links_mean),
        ]),
    ]);
    for k in &r.kills {
        let _ = writeln!(
            out,
            "{} died at {}s: {} of {} calls in progress dropped",
            k.target, k.at_s, k.dropped_calls, k.active_calls
        );
    }
    if r.to_dead_city > 0 {
        let _ = writeln!(
            out,
            "{} calls not offered: one end's city was destroyed",
            r.to_dead_city
        );
    }
    let _ = writeln!(
        out,
        "{:.1} trunks busy on average over all links (a call holds one on each of its links); {} events",
        r.carried_erlangs, r.events
    );
    let _ = writeln!(
        out,
        "Erlang B predicts one link: murphy net circuit --trunks 10 --erlangs 8 sets a link against it"
    );
    out
}

pub fn packet(r: &PacketReport) -> String {
    let d = &r.dropped;
    // What happened to the watched transfer leads; the traffic around it follows.
    let mut out: String = r.transfers.iter().map(transfer).collect();
    out += &table(&[
        row(&[
            &"messages",
            &"abandoned",
            &"packets",
            &"resent",
            &"delivered",
            &"out of order",
            &"duplicates",
        ]),
        row(&[
            &r.messages_completed,
            &r.messages_abandoned,
            &r.packets_sent,
            &r.packets_retransmitted,
            &r.packets_delivered,
            &r.out_of_order,
            &r.duplicates,
        ]),
    ]);
    let l = &r.message_latency;
    let _ = writeln!(
        out,
        "dropped: {} queue full, {} dead link or city, {} no route, {} hop limit",
        d.queue, d.dead, d.no_route, d.ttl
    );
    let _ = writeln!(
        out,
        "message latency ms: p50 {} p90 {} p99 {} max {}",
        l.p50_ms, l.p90_ms, l.p99_ms, l.max_ms
    );
    for det in &r.routing.detections {
        let _ = writeln!(
            out,
            "{} declared {} dead at {:.3}s",
            det.router, det.neighbour, det.at_s
        );
    }
    let _ = writeln!(
        out,
        "{:.3} s simulated, {} events, at most {} in flight",
        r.simulated_s, r.events, r.events_in_flight_peak
    );
    out
}

/// One watched transfer, in a sentence.
fn transfer(t: &TransferReport) -> String {
    let done = t
        .completed_s
        .map_or("did not complete".to_string(), |s| format!("complete at {s:.3}s"));
    format!(
        "{} to {}: {} of {} bytes, {done}; longest stall {:.1} ms (ended {:.3}s); \
         {} resent, {} out of order, {} delivery violations\n",
        t.from,
        t.to,
        t.delivered_bytes,
        t.bytes,
        t.stall_max_ms,
        t.stall_end_s,
        t.retransmitted,
        t.out_of_order,
        t.delivery_violations
    )
}

pub fn baran(r: &BaranReport) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{0} x {0} lattice, {1} trials per point", r.side, r.trials);
    let mut header = row(&[&"p"]);
    header.extend(
        r.lattices
            .iter()
            .map(|l| format!("R={} ({:.2} links/node)", l.redundancy, l.links_per_node)),
    );
    let network = r.points.iter().any(|p| p.graph == "network");
    if network {
        header.push("network".into());
    }
    let mut rows = vec![header];
    let mut ps: Vec<f64> = r.points.iter().map(|p| p.p).collect();
    ps.sort_by(f64::total_cmp);
    ps.dedup();
    for p in ps {
        let mut cells = vec![format!("{p}")];
        cells.extend(
            r.points
                .iter()
                .filter(|x| x.p == p)
                .map(|x| format!("{:.3}", x.connected_pairs_fraction)),
        );
        rows.push(cells);
    }
    out.push_str("fraction of surviving pairs still connected\n");
    out.push_str(&table(&rows));
    out
}

pub fn registration(r: &RegistrationReport) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} students, {} sections, {} seats; server {}; secondaries {}",
        r.students,
        r.sections,
        r.seats,
        r.server,
        r.secondaries.join(", ")
    );
    if !r.kills.is_empty() {
        let _ = writeln!(out, "destroyed: {}", r.kills.join(", "));
    }
    let mut rows = vec![row(&[
        &"architecture",
        &"requests",
        &"answered",
        &"unreached",
        &"enrolled",
        &"p50 ms",
        &"p99 ms",
        &"overbooked",
        &"seats left",
        &"stale reads",
        &"messages",
    ])];
    for a in &r.architectures {
        rows.push(row(&[
            &a.architecture,
            &a.requests,
            &a.answered,
            &a.unreached,
            &a.enrolled,
            &a.latency.p50_ms,
            &a.latency.p99_ms,
            &a.overbooked_seats,
            &a.seats_left,
            &a.stale_reads,
            &a.messages,
        ]));
    }
    out.push_str(&table(&rows));
    out
}

pub fn network(net: &Network) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{} cities, {} links", net.cities.len(), net.links.len());
    let mut rows = vec![row(&[&"link", &"km", &"delay ms", &"trunks", &"Mbit/s"])];
    for (l, link) in net.links.iter().enumerate() {
        rows.push(row(&[
            &net.link_name(l),
            &format!("{:.0}", link.km),
            &format!("{:.2}", link.delay as f64 / MILLISECOND as f64),
            &link.trunks,
            &format!("{:.1}", link.bandwidth_bps / 1e6),
        ]));
    }
    out.push_str(&table(&rows));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_align() {
        let t = table(&[row(&[&"a", &"bb"]), row(&[&"ccc", &1])]);
        assert_eq!(t, "a    bb\nccc   1\n");
    }
}

//! The links as the data plane sees them: one `Dir` per direction of each link, with
//! its propagation delay, its transmission times and its queue. A link is FIFO with a
//! fixed bandwidth, so the queue is a single time, `busy_until`: when the link will
//! have sent everything already given to it.

use super::PacketConfig;
use crate::network::Network;
use crate::sim::Nanos;

/// One direction of a link, with its queue.
pub(super) struct Dir {
    pub from: usize,
    pub to: usize,
    pub link: usize,
    /// The index of this link in `adj[to]`, where the far end keeps its heartbeat times.
    pub back: usize,
    pub delay: Nanos,
    pub tx_data: Nanos,
    pub tx_ack: Nanos,
    /// When the link finishes sending what is queued: the queue itself.
    pub busy_until: Nanos,
    pub queue_ns_max: Nanos,
}

/// Both directions of every link, in the order `routing::dir_of` numbers them.
pub(super) fn directions(net: &Network, config: &PacketConfig) -> Vec<Dir> {
    let mut dirs = Vec::with_capacity(2 * net.links.len());
    for (l, link) in net.links.iter().enumerate() {
        for (from, to) in [(link.a, link.b), (link.b, link.a)] {
            let tx = |bytes: u32| ((f64::from(bytes) * 8.0 / link.bandwidth_bps) * 1e9).ceil() as Nanos;
            let back = net.adj[to]
                .iter()
                .position(|a| a.link == l)
                .expect("both ends list the link");
            dirs.push(Dir {
                from,
                to,
                link: l,
                back,
                delay: link.delay,
                tx_data: tx(config.packet_bytes).max(1),
                tx_ack: tx(config.ack_bytes).max(1),
                busy_until: 0,
                queue_ns_max: u64::from(config.queue_packets_max) * tx(config.packet_bytes).max(1),
            });
        }
    }
    dirs
}

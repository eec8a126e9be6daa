//! The lecture's Chicago, destroyed mid-call. Circuit switching: the calls whose
//! circuits ran through Chicago drop, and only those. Packet switching: a transfer from
//! Los Angeles to Boston, routed through Chicago, completes anyway, stalling no longer
//! than the heartbeat detection time plus a reroute, and the application in Boston is
//! handed every byte once, in order.

use murphy_netsim::Network;
use murphy_netsim::circuit::{self, CircuitConfig, Traffic};
use murphy_netsim::kill::Destruction;
use murphy_netsim::packet::{self, PacketConfig, Transfer};
use murphy_netsim::{MILLISECOND, Nanos, SECOND};

fn kill(net: &Network, spec: &str) -> Destruction {
    Destruction::parse(net, &[spec.to_string()], None).unwrap()
}

fn circuits(net: &Network, destruction: Destruction) -> circuit::CircuitReport {
    let config = CircuitConfig {
        traffic: Traffic::Gravity,
        calls_per_s: 10.0,
        holding_s: 120.0,
        duration: 600 * SECOND,
        warmup: 120 * SECOND,
        path_links_max: 10,
        destruction,
        sample: 10 * SECOND,
        seed: 7,
    };
    circuit::run(net, &config, &mut |_| {}).unwrap()
}

#[test]
fn circuits_through_chicago_drop_and_no_others() {
    let net = Network::us();
    let intact = circuits(&net, Destruction::default());
    let broken = circuits(&net, kill(&net, "Chicago@300s"));
    assert_eq!(intact.dropped, 0);
    let k = &broken.kills[0];
    assert_eq!(k.target, "Chicago");
    assert!(k.dropped_calls > 20, "Chicago carries many circuits: {k:?}");
    assert!(k.dropped_calls < k.active_calls, "calls elsewhere keep talking: {k:?}");
    // Both runs draw the same arrivals and holding times (common random numbers), so up
    // to the kill the same calls talk; at the kill's instant (the kill runs before that
    // instant's sample) exactly the dropped ones are gone.
    let active = |r: &circuit::CircuitReport, t: f64| r.series.iter().find(|s| s.t_s == t).unwrap().active_calls;
    assert_eq!(active(&intact, 290.0), active(&broken, 290.0));
    assert_eq!(k.active_calls, active(&intact, 300.0));
    assert_eq!(active(&broken, 300.0), active(&intact, 300.0) - k.dropped_calls);
    // The totals count only calls that arrived after the warm-up.
    assert!(broken.dropped > 0 && broken.dropped <= k.dropped_calls);
    assert!(broken.to_dead_city > 0, "Chicago's own calls are no longer offered");
}

/// Shortest path delays between all cities over the links `alive` admits
/// (Floyd-Warshall: independent of the simulator's own Dijkstra).
fn delays(net: &Network, alive: impl Fn(usize) -> bool) -> Vec<Vec<Nanos>> {
    let n = net.cities.len();
    let mut d = vec![vec![Nanos::MAX / 4; n]; n];
    for (i, row) in d.iter_mut().enumerate() {
        row[i] = 0;
    }
    for l in net.links.iter().filter(|l| alive(l.a) && alive(l.b)) {
        d[l.a][l.b] = d[l.a][l.b].min(l.delay);
        d[l.b][l.a] = d[l.b][l.a].min(l.delay);
    }
    for k in 0..n {
        for i in 0..n {
            for j in 0..n {
                d[i][j] = d[i][j].min(d[i][k] + d[k][j]);
            }
        }
    }
    d
}

#[test]
fn a_transfer_from_los_angeles_to_boston_survives_chicago() {
    let net = Network::us();
    let (la, boston, chicago) = (
        net.city("Los Angeles").unwrap(),
        net.city("Boston").unwrap(),
        net.city("Chicago").unwrap(),
    );
    let bytes = 4 << 20;
    let config = PacketConfig {
        transfers: vec![Transfer {
            from: la,
            to: boston,
            bytes,
            start: 0,
        }],
        messages: 300,
        concurrent: 8,
        rto_max: 100 * MILLISECOND,
        destruction: kill(&net, "Chicago@1s"),
        seed: 3,
        ..PacketConfig::default()
    };
    let r = packet::run(&net, &config, &mut |_| {}).unwrap();
    let t = &r.transfers[0];
    assert!(t.completed_s.is_some(), "{t:?}");
    assert_eq!(t.delivered_bytes, bytes, "every byte delivered");
    assert_eq!(t.delivery_violations, 0, "once each, in order");
    assert!(t.retransmitted > 0, "packets in Chicago were lost and sent again");
    let via = |city: &str| {
        t.via
            .iter()
            .find(|v| v.city == city)
            .map_or((0, 0), |v| (v.before_kill, v.after_kill))
    };
    assert!(via("Chicago").0 > 1000, "the transfer ran through Chicago: {:?}", t.via);
    assert_eq!(via("Chicago").1, 0);
    assert!(via("St. Louis").1 > 1000, "then around it: {:?}", t.via);
    assert!(
        r.routing.detections.iter().any(|d| d.neighbour == "Chicago"),
        "a heartbeat noticed"
    );

    // Detection: a neighbour waits the dead interval, and checks once per heartbeat.
    let detection = config.dead_after + config.heartbeat;
    // Reroute: the news floods across what is left of the network; the sender's next
    // timeout resends what was lost; the resent packet crosses the country.
    let after = delays(&net, |c| c != chicago);
    let flood = after
        .iter()
        .flatten()
        .filter(|&&d| d < Nanos::MAX / 4)
        .max()
        .copied()
        .unwrap();
    let reroute = flood + config.rto_max + after[la][boston];
    let stall = (t.stall_max_ms * MILLISECOND as f64) as Nanos;
    assert!(
        stall <= detection + reroute,
        "stalled {stall} ns, more than detection {detection} + reroute {reroute}"
    );
    assert!(t.stall_end_s > 1.0, "the longest stall is Chicago's: {t:?}");
    assert!(r.messages_completed + r.messages_abandoned == 301);
}

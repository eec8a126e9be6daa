//! The same seed and configuration give byte-identical JSON reports, for every kind of
//! run; another seed gives another run.

use murphy_netsim::baran::{self, BaranConfig};
use murphy_netsim::circuit::{self, CircuitConfig, Traffic};
use murphy_netsim::kill::{Destruction, RandomKill};
use murphy_netsim::packet::{self, PacketConfig, Transfer};
use murphy_netsim::registration::{self, RegistrationConfig};
use murphy_netsim::{Network, SECOND};

/// The JSON of a run made twice with `seed`, and once with `seed + 1`.
fn twice<T: serde::Serialize>(seed: u64, run: impl Fn(u64) -> T) -> (String, String, String) {
    let json = |s| serde_json::to_string(&run(s)).unwrap();
    (json(seed), json(seed), json(seed + 1))
}

fn assert_deterministic((a, b, other): (String, String, String)) {
    assert_eq!(a, b, "the same seed gave different JSON");
    assert_ne!(a, other, "another seed gave the same run");
}

#[test]
fn circuit_runs_repeat() {
    let net = Network::us();
    let destruction = Destruction::parse(
        &net,
        &["Chicago@200s".into()],
        Some(RandomKill {
            p: 0.1,
            at: 300 * SECOND,
        }),
    )
    .unwrap();
    assert_deterministic(twice(1, |seed| {
        let config = CircuitConfig {
            traffic: Traffic::Gravity,
            calls_per_s: 8.0,
            holding_s: 60.0,
            duration: 400 * SECOND,
            warmup: 60 * SECOND,
            path_links_max: 10,
            destruction: destruction.clone(),
            sample: 10 * SECOND,
            seed,
        };
        circuit::run(&net, &config, &mut |_| {}).unwrap()
    }));
    assert_deterministic(twice(1, |seed| {
        circuit::one_link(10, 8.0, 20_000, seed, &mut |_| {}).unwrap()
    }));
}

#[test]
fn packet_runs_repeat() {
    let net = Network::us();
    let destruction = Destruction::parse(&net, &["Chicago@500ms".into()], None).unwrap();
    assert_deterministic(twice(1, |seed| {
        let config = PacketConfig {
            transfers: vec![Transfer {
                from: net.city("Los Angeles").unwrap(),
                to: net.city("Boston").unwrap(),
                bytes: 1 << 20,
                start: 0,
            }],
            messages: 300,
            concurrent: 32,
            queue_packets_max: 16,
            destruction: destruction.clone(),
            seed,
            ..PacketConfig::default()
        };
        let r = packet::run(&net, &config, &mut |_| {}).unwrap();
        assert!(r.dropped.queue > 0, "the run exercises full queues");
        r
    }));
}

#[test]
fn baran_and_registration_runs_repeat() {
    let net = Network::us();
    assert_deterministic(twice(1, |seed| {
        let config = BaranConfig {
            side: 10,
            redundancies: vec![1, 2, 3, 4],
            probabilities: vec![0.2, 0.4],
            trials: 10,
            seed,
            keep_trials: false,
        };
        baran::run(&config, Some(&net), &mut |_| {}).unwrap()
    }));
    let partition = Destruction::default().with_partitions(&["-98@500ms".into()]).unwrap();
    assert_deterministic(twice(1, |seed| {
        let mut config = RegistrationConfig::new(net.city("Los Angeles").unwrap(), 1000);
        config.secondaries = vec![net.city("New York").unwrap()];
        config.destruction = partition.clone();
        config.seed = seed;
        registration::run(&net, &config, &mut |_| {}).unwrap()
    }));
}

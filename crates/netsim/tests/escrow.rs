//! Peer-to-peer registration. Escrowed seat quotas never overbook, in total or in any
//! peer's view, over random partitions, random cities killed and random arrival orders;
//! partitioned, each side keeps enrolling while its quota lasts. The naive peers, which
//! enroll on their own copy and tell the others afterwards, overbook in a constructed
//! case: two students on opposite coasts race for one seat.

use murphy_netsim::Network;
use murphy_netsim::kill::{Destruction, Kill, Target};
use murphy_netsim::registration::{self, Architecture, RegistrationConfig, Student, Workload};
use murphy_netsim::{MILLISECOND, Nanos};
use proptest::prelude::*;

fn config(net: &Network, archs: &[Architecture], capacities: Vec<u32>, students: Vec<Student>) -> RegistrationConfig {
    let mut c = RegistrationConfig::new(net.city("Los Angeles").unwrap(), 0);
    c.architectures = archs.to_vec();
    c.workload = Workload::Given { capacities, students };
    c.reads = false;
    c
}

/// Kills every link between `side` and the rest at `at`: a partition.
fn partition(net: &Network, side: &[bool], at: Nanos) -> Vec<Kill> {
    net.links
        .iter()
        .enumerate()
        .filter(|(_, l)| side[l.a] != side[l.b])
        .map(|(i, _)| Kill {
            target: Target::Link(i),
            at,
        })
        .collect()
}

#[test]
fn naive_peers_overbook_the_last_seat_and_escrow_does_not() {
    let net = Network::us();
    let student = |city: &str| Student {
        city: net.city(city).unwrap(),
        at: 0,
        preferences: vec![0],
    };
    let students = vec![student("Los Angeles"), student("Boston")];
    let archs = [Architecture::PeerNaive, Architecture::PeerEscrow];
    let r = registration::run(&net, &config(&net, &archs, vec![1], students), &mut |_| {}).unwrap();
    let (naive, escrow) = (&r.architectures[0], &r.architectures[1]);
    // Each naive peer saw a free seat, gave it, and heard of the other only afterwards.
    assert_eq!(naive.enrolled, 2);
    assert_eq!(naive.overbooked_seats, 1);
    assert_eq!(naive.sections[0].view_max, 2);
    // One escrow peer held the seat; the other asked for it and was refused.
    assert_eq!(escrow.enrolled, 1);
    assert_eq!(escrow.full, 1);
    assert_eq!(escrow.overbooked_seats, 0);
}

#[test]
fn partitioned_escrow_peers_sell_every_seat_once_and_naive_ones_at_least_twice() {
    let net = Network::us();
    let west: Vec<bool> = net.cities.iter().map(|c| c.lon < -98.0).collect();
    // Plenty of students on both sides for one section of 100 seats, after the cut.
    let mut students = Vec::new();
    for (i, c) in net.cities.iter().enumerate() {
        for k in 0..20 {
            students.push(Student {
                city: i,
                at: 100 * MILLISECOND + k * MILLISECOND,
                preferences: vec![0],
            });
        }
        assert!(c.population > 0.0);
    }
    let archs = [Architecture::PeerNaive, Architecture::PeerEscrow];
    let mut c = config(&net, &archs, vec![100], students);
    c.destruction = Destruction {
        kills: partition(&net, &west, 0),
        ..Destruction::default()
    };
    let r = registration::run(&net, &c, &mut |_| {}).unwrap();
    let (naive, escrow) = (&r.architectures[0], &r.architectures[1]);
    // Each side sold every seat, and within a side peers raced too (the notices take
    // milliseconds to cross the country).
    assert!(naive.enrolled >= 200, "{naive:?}");
    assert!(naive.overbooked_seats >= 100, "{naive:?}");
    // Each side moved quota within itself until it ran out: every seat sold, once.
    assert_eq!(escrow.enrolled, 100);
    assert_eq!(escrow.overbooked_seats, 0);
    assert!(escrow.unreached > 0, "the rest were refused for lack of reach");
}

fn student() -> impl Strategy<Value = (usize, u64, Vec<usize>)> {
    (0usize..35, 0u64..2_000, prop::collection::vec(0usize..6, 1..4))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn escrow_never_overbooks(
        capacities in prop::collection::vec(1u32..6, 6),
        raw in prop::collection::vec(student(), 1..300),
        side in any::<u64>(),
        cut_ms in 0u64..2_000,
        dead in prop::collection::vec((0usize..35, 0u64..2_000), 0..3),
        seed in any::<u64>(),
    ) {
        let net = Network::us();
        let n = net.cities.len();
        let students: Vec<Student> = raw
            .into_iter()
            .map(|(city, at, preferences)| Student { city: city % n, at: at * MILLISECOND, preferences })
            .collect();
        let side: Vec<bool> = (0..n).map(|c| side >> (c % 64) & 1 == 1).collect();
        let mut kills = partition(&net, &side, cut_ms * MILLISECOND);
        kills.extend(dead.into_iter().map(|(c, at)| Kill { target: Target::City(c % n), at: at * MILLISECOND }));
        let mut c = config(&net, &[Architecture::PeerEscrow], capacities.clone(), students);
        c.reads = seed % 2 == 0;
        c.seed = seed;
        c.destruction = Destruction { kills, ..Destruction::default() };
        let r = registration::run(&net, &c, &mut |_| {}).unwrap();
        let escrow = &r.architectures[0];
        prop_assert_eq!(escrow.overbooked_seats, 0);
        for (s, check) in escrow.sections.iter().enumerate() {
            prop_assert_eq!(check.capacity, capacities[s]);
            prop_assert!(check.granted <= check.capacity, "section {}: {:?}", s, check);
            prop_assert!(check.view_max <= check.capacity, "section {}: {:?}", s, check);
        }
        // A student told "enrolled" holds a seat that was really given.
        let granted: u32 = escrow.sections.iter().map(|c| c.granted).sum();
        prop_assert!(escrow.enrolled <= u64::from(granted));
    }
}

//! Baran's survivability: on lattices of redundancy 1 to 4 with each node destroyed
//! with probability p, the fraction of surviving pairs still connected rises with
//! redundancy, and is exactly what a union-find over the same draws counts.

use murphy_netsim::baran::{self, BaranConfig};

/// Union-find with path halving: an algorithm the simulator does not use.
fn find(parent: &mut [usize], mut x: usize) -> usize {
    while parent[x] != x {
        parent[x] = parent[parent[x]];
        x = parent[x];
    }
    x
}

/// Connected pairs of survivors, counted pair by pair after uniting the live links.
fn connected_pairs(nodes: usize, links: &[(usize, usize)], destroyed: &[bool]) -> u64 {
    let mut parent: Vec<usize> = (0..nodes).collect();
    for &(a, b) in links.iter().filter(|(a, b)| !destroyed[*a] && !destroyed[*b]) {
        let (ra, rb) = (find(&mut parent, a), find(&mut parent, b));
        parent[ra] = rb;
    }
    let alive: Vec<usize> = (0..nodes).filter(|&v| !destroyed[v]).collect();
    let roots: Vec<usize> = alive.iter().map(|&v| find(&mut parent, v)).collect();
    let mut pairs = 0;
    for i in 0..roots.len() {
        for j in i + 1..roots.len() {
            pairs += u64::from(roots[i] == roots[j]);
        }
    }
    pairs
}

#[test]
fn survival_rises_with_redundancy_and_matches_union_find() {
    let side = 16;
    let probabilities = vec![0.0, 0.1, 0.2, 0.3, 0.4, 0.5];
    let config = BaranConfig {
        side,
        redundancies: vec![1, 2, 3, 4],
        probabilities: probabilities.clone(),
        trials: 40,
        seed: 1964,
        keep_trials: true,
    };
    let report = baran::run(&config, None, &mut |_| {}).unwrap();
    let nodes = side * side;
    let lattices: Vec<Vec<(usize, usize)>> = (1..=4).map(|r| baran::lattice(side, r)).collect();

    // Every trial, every level: the same count by an independent method.
    assert_eq!(report.trial_draws.len(), probabilities.len() * 40);
    let mut pooled = vec![(0u64, 0u64); probabilities.len() * 4];
    for draw in &report.trial_draws {
        let pi = probabilities.iter().position(|&p| p == draw.p).unwrap();
        let survivors = draw.destroyed.iter().filter(|d| !**d).count() as u64;
        for (r, links) in lattices.iter().enumerate() {
            let pairs = connected_pairs(nodes, links, &draw.destroyed);
            assert_eq!(draw.connected_pairs[r], pairs, "p={} level {}", draw.p, r + 1);
            pooled[pi * 4 + r].0 += pairs;
            pooled[pi * 4 + r].1 += survivors * survivors.saturating_sub(1) / 2;
        }
    }
    for (point, (connected, surviving)) in report.points.iter().zip(&pooled) {
        assert_eq!(point.connected_pairs_fraction, *connected as f64 / *surviving as f64);
    }

    // Rises with redundancy at every p > 0; nothing is lost at p = 0.
    for (pi, &p) in probabilities.iter().enumerate() {
        let f: Vec<f64> = report.points[pi * 4..pi * 4 + 4]
            .iter()
            .map(|x| x.connected_pairs_fraction)
            .collect();
        println!("p={p}: {f:.3?}");
        if p == 0.0 {
            assert!(f.iter().all(|&x| x == 1.0));
            continue;
        }
        for r in 0..3 {
            assert!(
                f[r + 1] > f[r],
                "p={p}: level {} {} <= level {} {}",
                r + 2,
                f[r + 1],
                r + 1,
                f[r]
            );
        }
    }
    // Baran's point: at p = 0.3 a spanning tree is shattered, while redundancy 3 or 4
    // keeps most survivors together.
    let at = |p: f64, r: usize| {
        report.points[probabilities.iter().position(|&x| x == p).unwrap() * 4 + r - 1].connected_pairs_fraction
    };
    assert!(at(0.3, 1) < 0.05 && at(0.3, 4) > 0.9, "{} {}", at(0.3, 1), at(0.3, 4));
}

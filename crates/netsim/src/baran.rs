//! Baran's question (On Distributed Communications, RAND, 1964): if each node of a
//! network is destroyed with probability p, what fraction of the survivors can still
//! reach each other? His answer: a distributed lattice with a few times the minimum
//! number of links survives almost as well as is possible at all.
//!
//! Lattices are `side` x `side` grids at redundancy levels 1 to 4, Baran's ratio of
//! links to the minimum needed to connect every node: level 1 is a spanning tree (each
//! row hung from the first column, a comb), level 2 the square grid, level 3 the grid
//! with one diagonal, level 4 with both. Each level holds the links of the one below,
//! and every level sees the same destroyed nodes in a trial, so survival can only rise
//! with redundancy. Connectivity is found by a breadth-first search from each survivor.

use std::collections::VecDeque;

use serde::Serialize;

use crate::network::Network;
use crate::rng::Rng;
use crate::{Error, check};

pub const REDUNDANCY_MAX: u8 = 4;

#[derive(Clone, Debug)]
pub struct BaranConfig {
    pub side: usize,
    pub redundancies: Vec<u8>,
    pub probabilities: Vec<f64>,
    pub trials: u32,
    pub seed: u64,
    /// Keep each trial's draws and counts in the report (for checking, not for JSON).
    pub keep_trials: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BaranReport {
    pub side: usize,
    pub nodes: usize,
    pub trials: u32,
    pub lattices: Vec<LatticeInfo>,
    /// One point per (graph, p): the lattices, then the network if one was given.
    pub points: Vec<BaranPoint>,
    #[serde(skip)]
    pub trial_draws: Vec<TrialDraw>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LatticeInfo {
    pub redundancy: u8,
    pub links: usize,
    pub links_per_node: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BaranPoint {
    /// `"lattice"` or `"network"`.
    pub graph: &'static str,
    pub redundancy: Option<u8>,
    pub p: f64,
    /// Surviving pairs that can still reach each other, over all surviving pairs
    /// (pooled over the trials).
    pub connected_pairs_fraction: f64,
    /// Survivors in the largest connected group, over all survivors (Baran's measure).
    pub largest_group_fraction: f64,
}

/// One trial of the lattices: which nodes died, and the pairs connected at each level.
#[derive(Clone, Debug, PartialEq)]
pub struct TrialDraw {
    pub p: f64,
    pub destroyed: Vec<bool>,
    pub connected_pairs: Vec<u64>,
}

/// The links of a `side` x `side` lattice at a redundancy level (1 to 4).
pub fn lattice(side: usize, redundancy: u8) -> Vec<(usize, usize)> {
    assert!((1..=REDUNDANCY_MAX).contains(&redundancy), "redundancy 1 to 4");
    let id = |r: usize, c: usize| r * side + c;
    let mut links = Vec::new();
    for r in 0..side {
        for c in 0..side {
            let (down, right) = (r + 1 < side, c + 1 < side);
            if right {
                links.push((id(r, c), id(r, c + 1)));
            }
            if down && (c == 0 || redundancy >= 2) {
                links.push((id(r, c), id(r + 1, c)));
            }
            if down && right && redundancy >= 3 {
                links.push((id(r, c), id(r + 1, c + 1)));
            }
            if down && c > 0 && redundancy >= 4 {
                links.push((id(r, c), id(r + 1, c - 1)));
            }
        }
    }
    links
}

fn adjacency(nodes: usize, links: &[(usize, usize)]) -> Vec<Vec<usize>> {
    let mut adj = vec![Vec::new(); nodes];
    for &(a, b) in links {
        adj[a].push(b);
        adj[b].push(a);
    }
    adj
}

/// Sizes of the connected groups of survivors.
fn groups(adj: &[Vec<usize>], destroyed: &[bool], seen: &mut Vec<bool>, queue: &mut VecDeque<usize>) -> Vec<u64> {
    seen.clear();
    seen.extend_from_slice(destroyed);
    let mut sizes = Vec::new();
    for start in 0..adj.len() {
        if seen[start] {
            continue;
        }
        seen[start] = true;
        queue.push_back(start);
        let mut size = 0;
        while let Some(v) = queue.pop_front() {
            size += 1;
            for &w in &adj[v] {
                if !seen[w] {
                    seen[w] = true;
                    queue.push_back(w);
                }
            }
        }
        sizes.push(size);
    }
    sizes
}

/// Sums over trials for one (graph, p) point.
#[derive(Default, Clone)]
struct Sums {
    connected: u64,
    surviving_pairs: u64,
    largest: u64,
    survivors: u64,
}

impl Sums {
    fn add(&mut self, sizes: &[u64]) -> u64 {
        let survivors: u64 = sizes.iter().sum();
        let connected: u64 = sizes.iter().map(|s| s * s.saturating_sub(1) / 2).sum();
        self.connected += connected;
        self.surviving_pairs += survivors * survivors.saturating_sub(1) / 2;
        self.largest += sizes.iter().max().copied().unwrap_or(0);
        self.survivors += survivors;
        connected
    }

    fn point(&self, graph: &'static str, redundancy: Option<u8>, p: f64) -> BaranPoint {
        let ratio = |a: u64, b: u64| if b == 0 { 0.0 } else { a as f64 / b as f64 };
        BaranPoint {
            graph,
            redundancy,
            p,
            connected_pairs_fraction: ratio(self.connected, self.surviving_pairs),
            largest_group_fraction: ratio(self.largest, self.survivors),
        }
    }
}

/// Each trial's draws come from their own stream, so a trial can be replayed alone.
fn draws(seed: u64, p_index: usize, trial: u32, nodes: usize, p: f64) -> Vec<bool> {
    let mut rng = Rng::new(seed, ((p_index as u64 + 1) << 32) | u64::from(trial));
    (0..nodes).map(|_| rng.chance(p)).collect()
}

/// Runs the trials on the lattices and, if given, on `network` (same p, own draws).
pub fn run(
    config: &BaranConfig,
    network: Option<&Network>,
    progress: &mut dyn FnMut(f64),
) -> Result<BaranReport, Error> {
    check((2..=1000).contains(&config.side), "a lattice is 2 x 2 to 1000 x 1000")?;
    check(config.trials >= 1, "at least one trial")?;
    check(
        config.redundancies.iter().all(|r| (1..=REDUNDANCY_MAX).contains(r)),
        "redundancy levels are 1 to 4",
    )?;
    check(
        config.probabilities.iter().all(|p| (0.0..=1.0).contains(p)),
        "probabilities are 0 to 1",
    )?;
    let nodes = config.side * config.side;
    let links: Vec<(u8, Vec<(usize, usize)>)> = config
        .redundancies
        .iter()
        .map(|&r| (r, lattice(config.side, r)))
        .collect();
    let mut graphs = Graphs {
        nodes,
        lattices: links.iter().map(|(_, l)| adjacency(nodes, l)).collect(),
        network: network.map(|n| n.adj.iter().map(|a| a.iter().map(|x| x.to).collect()).collect()),
        seen: Vec::new(),
        queue: VecDeque::new(),
    };
    let lattices = links.iter().map(|(r, l)| LatticeInfo {
        redundancy: *r,
        links: l.len(),
        links_per_node: l.len() as f64 / nodes as f64,
    });
    let mut report = BaranReport {
        side: config.side,
        nodes,
        trials: config.trials,
        lattices: lattices.collect(),
        points: Vec::new(),
        trial_draws: Vec::new(),
    };
    let mut net_points = Vec::new();
    for (pi, &p) in config.probabilities.iter().enumerate() {
        let (sums, net_sums) = graphs.trials(config, pi, p, &mut report.trial_draws);
        for ((r, _), s) in links.iter().zip(&sums) {
            report.points.push(s.point("lattice", Some(*r), p));
        }
        if graphs.network.is_some() {
            net_points.push(net_sums.point("network", None, p));
        }
        progress((pi + 1) as f64 / config.probabilities.len() as f64);
    }
    report.points.extend(net_points);
    Ok(report)
}

/// The graphs of a run, and the buffers their searches share.
struct Graphs {
    nodes: usize,
    lattices: Vec<Vec<Vec<usize>>>,
    network: Option<Vec<Vec<usize>>>,
    seen: Vec<bool>,
    queue: VecDeque<usize>,
}

impl Graphs {
    /// Every trial at probability `p` (the `pi`-th): sums per lattice and for the
    /// network; each trial's draws are kept in `kept` if the config asks.
    fn trials(&mut self, config: &BaranConfig, pi: usize, p: f64, kept: &mut Vec<TrialDraw>) -> (Vec<Sums>, Sums) {
        let mut sums = vec![Sums::default(); self.lattices.len()];
        let mut net_sums = Sums::default();
        for trial in 0..config.trials {
            let destroyed = draws(config.seed, pi, trial, self.nodes, p);
            let (seen, queue) = (&mut self.seen, &mut self.queue);
            let connected: Vec<u64> = (self.lattices.iter().zip(&mut sums))
                .map(|(adj, s)| s.add(&groups(adj, &destroyed, seen, queue)))
                .collect();
            if let Some(adj) = &self.network {
                // The network's own draws: a stream no lattice trial uses.
                let dead = draws(config.seed ^ 0x0005_5a11, pi, trial, adj.len(), p);
                net_sums.add(&groups(adj, &dead, seen, queue));
            }
            if config.keep_trials {
                let connected_pairs = connected;
                kept.push(TrialDraw {
                    p,
                    destroyed,
                    connected_pairs,
                });
            }
        }
        (sums, net_sums)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lattices_have_about_r_links_per_node_and_nest() {
        let side = 10;
        let n = side * side;
        assert_eq!(lattice(side, 1).len(), n - 1, "level 1 is a spanning tree");
        assert_eq!(lattice(side, 2).len(), 2 * side * (side - 1));
        assert_eq!(
            lattice(side, 4).len(),
            2 * side * (side - 1) + 2 * (side - 1) * (side - 1)
        );
        for r in 1..REDUNDANCY_MAX {
            let (low, high) = (lattice(side, r), lattice(side, r + 1));
            assert!(
                low.iter().all(|l| high.contains(l)),
                "level {r} is inside level {}",
                r + 1
            );
        }
    }
}

//! Shortest paths (Dijkstra) with buffers kept between searches, so the models' hot
//! paths (a call's set-up, a router's table) allocate nothing per search.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use super::Adj;

/// A path found: the cities from source to destination, the links between them, and
/// its total weight.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Route {
    pub nodes: Vec<usize>,
    pub links: Vec<usize>,
    pub weight: u64,
}

#[derive(Default)]
pub struct PathFinder {
    dist: Vec<u64>,
    /// The adjacency entry a city was reached through: (previous city, link).
    prev: Vec<(usize, usize)>,
    heap: BinaryHeap<Reverse<(u64, usize)>>,
}

const UNREACHED: u64 = u64::MAX;

impl PathFinder {
    pub fn new(cities: usize) -> PathFinder {
        PathFinder {
            dist: vec![UNREACHED; cities],
            prev: vec![(usize::MAX, usize::MAX); cities],
            heap: BinaryHeap::new(),
        }
    }

    /// Distances from `from` to every city over the links `weight` admits (`None`: the
    /// link cannot be used). `weight` gets the city a link is left from and the link.
    pub fn distances(
        &mut self,
        adj: &[Vec<Adj>],
        from: usize,
        mut weight: impl FnMut(usize, &Adj) -> Option<u64>,
    ) -> &[u64] {
        self.search(adj, from, None, &mut weight);
        &self.dist
    }

    /// The lightest path from `from` to `to`, ties broken by the adjacency order (so the
    /// same network always gives the same path).
    pub fn shortest(
        &mut self,
        adj: &[Vec<Adj>],
        from: usize,
        to: usize,
        mut weight: impl FnMut(usize, &Adj) -> Option<u64>,
    ) -> Option<Route> {
        self.search(adj, from, Some(to), &mut weight);
        if self.dist[to] == UNREACHED {
            return None;
        }
        let mut route = Route {
            weight: self.dist[to],
            ..Route::default()
        };
        let mut at = to;
        route.nodes.push(at);
        while at != from {
            let (p, link) = self.prev[at];
            route.links.push(link);
            route.nodes.push(p);
            at = p;
        }
        route.nodes.reverse();
        route.links.reverse();
        Some(route)
    }

    fn search(
        &mut self,
        adj: &[Vec<Adj>],
        from: usize,
        target: Option<usize>,
        weight: &mut impl FnMut(usize, &Adj) -> Option<u64>,
    ) {
        assert_eq!(adj.len(), self.dist.len(), "a finder is sized for its network");
        self.dist.fill(UNREACHED);
        self.heap.clear();
        self.dist[from] = 0;
        self.heap.push(Reverse((0, from)));
        while let Some(Reverse((d, at))) = self.heap.pop() {
            if d > self.dist[at] {
                continue;
            }
            if Some(at) == target {
                break;
            }
            for a in &adj[at] {
                let Some(w) = weight(at, a) else { continue };
                let nd = d.saturating_add(w);
                if nd < self.dist[a.to] {
                    self.dist[a.to] = nd;
                    self.prev[a.to] = (at, a.link);
                    self.heap.push(Reverse((nd, a.to)));
                }
            }
        }
    }
}

//! The routers' tables, built by the routers themselves with link-state routing.
//!
//! Why link-state rather than distance-vector: after Chicago dies, a distance-vector
//! router learns only its neighbours' distances and can count to infinity, bouncing
//! packets between Kansas City and St. Louis for many rounds; a link-state router hears
//! the news itself (each neighbour of the dead city floods a new advertisement of its
//! own links) and recomputes from a map of the whole network, so the network converges
//! in one flood across it. That makes the stall after a destruction bounded by
//! detection plus one flood, which is what the lecture promises and the tests check.
//!
//! Each router keeps, per destination, every neighbour that is closer to the destination
//! than itself in its own map (a "downhill" neighbour): with consistent maps no packet
//! can loop, and each packet may take any of them (see `forward`), as Baran's routers
//! chose per packet.

use crate::network::{Adj, Network, PathFinder};

/// A link-state advertisement: the links its origin router believes are up.
pub(super) struct Lsa {
    origin: usize,
    seq: u32,
    links: Vec<usize>,
}

/// A way out of a router towards a destination: the directed link, and the cost of
/// the path through it in the router's map (nanoseconds).
#[derive(Clone, Copy, Debug)]
pub(super) struct Cand {
    pub dir: u32,
    pub cost: u64,
}

/// One router's forwarding table: `cands[offsets[dst]..offsets[dst + 1]]`, cheapest first.
#[derive(Default)]
struct Table {
    offsets: Vec<u32>,
    cands: Vec<Cand>,
}

pub(super) struct Routing {
    n: usize,
    /// Per link, its cost in a map: propagation plus one packet's transmission.
    cost: Vec<u64>,
    lsas: Vec<Lsa>,
    /// `lsdb[v * n + origin]`: the advertisement router `v` holds for `origin`.
    lsdb: Vec<u32>,
    tables: Vec<Table>,
    finder: PathFinder,
    dist: Vec<Vec<u64>>,
    pub table_computations: u64,
}

/// The directed link leaving `from` over `adj`: `2 * link` for a-to-b, `+ 1` for b-to-a.
pub(super) fn dir_of(net: &Network, from: usize, adj: &Adj) -> u32 {
    let side = u32::from(net.links[adj.link].a != from);
    2 * adj.link as u32 + side
}

impl Routing {
    /// Every router starts with the whole, intact network in its map, as if it had been
    /// running long before the simulation began.
    pub fn new(net: &Network, cost: Vec<u64>) -> Routing {
        let n = net.cities.len();
        let lsas = (0..n)
            .map(|v| Lsa {
                origin: v,
                seq: 1,
                links: net.adj[v].iter().map(|a| a.link).collect(),
            })
            .collect();
        let lsdb = (0..n * n).map(|i| (i % n) as u32).collect();
        let mut r = Routing {
            n,
            cost,
            lsas,
            lsdb,
            tables: (0..n).map(|_| Table::default()).collect(),
            finder: PathFinder::new(n),
            dist: Vec::new(),
            table_computations: 0,
        };
        for v in 0..n {
            r.compute(net, v);
        }
        r
    }

    #[inline]
    pub fn candidates(&self, router: usize, dst: usize) -> &[Cand] {
        let t = &self.tables[router];
        &t.cands[t.offsets[dst] as usize..t.offsets[dst + 1] as usize]
    }

    /// Router `v` advertises the links it now believes are up; returns the new
    /// advertisement's id, to be flooded.
    pub fn originate(&mut self, net: &Network, v: usize, links: Vec<usize>) -> u32 {
        let seq = self.lsas[self.lsdb[v * self.n + v] as usize].seq + 1;
        self.lsas.push(Lsa { origin: v, seq, links });
        let id = (self.lsas.len() - 1) as u32;
        self.lsdb[v * self.n + v] = id;
        self.compute(net, v);
        id
    }

    /// Router `v` hears advertisement `id`; true if it was news (then `v` floods it on).
    pub fn receive(&mut self, net: &Network, v: usize, id: u32) -> bool {
        let lsa = &self.lsas[id as usize];
        let slot = v * self.n + lsa.origin;
        if lsa.seq <= self.lsas[self.lsdb[slot] as usize].seq {
            return false;
        }
        self.lsdb[slot] = id;
        self.compute(net, v);
        true
    }

    /// Whether router `v`'s map has the link `link` between `x` and `y` up: both ends
    /// must advertise it (a dead city advertises nothing new, but its neighbours stop
    /// advertising their links to it, and that is enough).
    fn in_map(&self, v: usize, x: usize, y: usize, link: usize) -> bool {
        let has = |origin: usize| {
            let lsa = &self.lsas[self.lsdb[v * self.n + origin] as usize];
            lsa.links.contains(&link)
        };
        has(x) && has(y)
    }

    /// Rebuilds router `v`'s table from its map: distances from itself and from each
    /// neighbour, then per destination the downhill neighbours, cheapest first.
    fn compute(&mut self, net: &Network, v: usize) {
        self.table_computations += 1;
        let n = self.n;
        let mut dist = std::mem::take(&mut self.dist);
        dist.resize(net.adj[v].len() + 1, Vec::new());
        let mut finder = std::mem::take(&mut self.finder);
        let sources = std::iter::once(v).chain(net.adj[v].iter().map(|a| a.to));
        for (d, source) in dist.iter_mut().zip(sources) {
            let found = finder.distances(&net.adj, source, |x, a| {
                self.in_map(v, x, a.to, a.link).then_some(self.cost[a.link])
            });
            d.clear();
            d.extend_from_slice(found);
        }
        self.finder = finder;
        let mut table = std::mem::take(&mut self.tables[v]);
        table.offsets.clear();
        table.cands.clear();
        let (here, neighbours) = dist.split_first().expect("distances from v come first");
        for (dst, &from_here) in here.iter().enumerate() {
            table.offsets.push(table.cands.len() as u32);
            let start = table.cands.len();
            for (a, from_neighbour) in net.adj[v].iter().zip(neighbours) {
                let through = from_neighbour[dst];
                if through < from_here && self.in_map(v, v, a.to, a.link) {
                    let cost = self.cost[a.link] + through;
                    table.cands.push(Cand {
                        dir: dir_of(net, v, a),
                        cost,
                    });
                }
            }
            table.cands[start..].sort_by_key(|c| c.cost);
        }
        table.offsets.push(table.cands.len() as u32);
        assert_eq!(table.offsets.len(), n + 1, "one range per destination");
        self.tables[v] = table;
        self.dist = dist;
    }
}

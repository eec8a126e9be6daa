//! The control plane: each router's heartbeat timer, the heartbeats it sends its
//! neighbours on the control channel (which never queues behind data: the lecture's
//! "control link with a little heartbeat"), declaring a silent neighbour dead, flooding
//! link-state advertisements, and the kills themselves.

use super::model::{Event, Packets};
use super::routing::dir_of;
use crate::kill::Target;
use crate::sim::{Nanos, Queue};

impl Packets<'_> {
    /// Router `node`'s timer: heartbeats out, then any neighbour unheard for the dead
    /// interval is declared dead and the router advertises its remaining links.
    pub(super) fn tick(&mut self, node: usize, now: Nanos, queue: &mut Queue<Event>) {
        if !self.node_alive[node] {
            return; // A dead router sends nothing, and that silence is how it is noticed.
        }
        let net = self.net;
        for a in &net.adj[node] {
            let dir = dir_of(net, node, a);
            queue.at(now + self.dirs[dir as usize].delay, Event::Hello { dir });
            self.tally.report.routing.heartbeats += 1;
        }
        let mut lost = false;
        for (k, a) in net.adj[node].iter().enumerate() {
            if self.adj_up[node][k] && now.saturating_sub(self.last_heard[node][k]) > self.config.dead_after {
                self.adj_up[node][k] = false;
                lost = true;
                self.tally.detection(node, a.to, now);
            }
        }
        if lost {
            let links = net.adj[node]
                .iter()
                .zip(&self.adj_up[node])
                .filter(|(_, up)| **up)
                .map(|(a, _)| a.link)
                .collect();
            let id = self.routing.originate(net, node, links);
            self.tally.report.routing.lsas_originated += 1;
            self.flood(node, id, None, now, queue);
        }
        queue.at(now + self.config.heartbeat, Event::Tick { node: node as u32 });
    }

    pub(super) fn hello(&mut self, dir: usize, now: Nanos) {
        let d = &self.dirs[dir];
        if self.link_alive[d.link] && self.node_alive[d.to] && self.node_alive[d.from] {
            self.last_heard[d.to][d.back] = now;
        }
    }

    /// Sends advertisement `id` from `node` to every neighbour it believes alive,
    /// except over the link it came in on.
    fn flood(&mut self, node: usize, id: u32, except: Option<usize>, now: Nanos, queue: &mut Queue<Event>) {
        let net = self.net;
        for (k, a) in net.adj[node].iter().enumerate() {
            if self.adj_up[node][k] && Some(a.link) != except {
                let dir = dir_of(net, node, a);
                queue.at(now + self.dirs[dir as usize].delay, Event::Lsa { dir, lsa: id });
                self.tally.report.routing.lsa_messages += 1;
            }
        }
    }

    pub(super) fn lsa(&mut self, dir: usize, id: u32, now: Nanos, queue: &mut Queue<Event>) {
        let (to, link) = (self.dirs[dir].to, self.dirs[dir].link);
        if !self.link_alive[link] || !self.node_alive[to] {
            return;
        }
        if self.routing.receive(self.net, to, id) {
            self.flood(to, id, Some(link), now, queue);
        }
    }

    pub(super) fn kill(&mut self, index: usize) {
        match self.kills[index].target {
            Target::City(c) => self.node_alive[c] = false,
            Target::Link(l) => self.link_alive[l] = false,
        }
        let (net, alive) = (self.net, &self.node_alive);
        self.population = crate::rng::cumulative(
            net.cities
                .iter()
                .zip(alive)
                .map(|(c, &up)| if up { c.population } else { 0.0 }),
        );
    }
}

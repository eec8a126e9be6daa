//! The network the models run on: cities (routers, central offices, peers) and the links
//! between them, read from a JSON file a user can replace.
//!
//! A link's length is the great-circle distance between its cities (or the file's `km`,
//! for a cable that does not run straight); its propagation delay is that length over
//! the signal speed (about 200 km per millisecond in copper or fibre, two thirds of
//! light's). Its trunks are the circuits a call can reserve; its bandwidth is what
//! packets share.

mod file;
mod paths;

pub(crate) use paths::{PathFinder, Route};

use crate::Error;
use crate::sim::{MILLISECOND, Nanos};

/// The shipped network: the lecture's cities and enough others for a mesh.
pub const US_JSON: &str = include_str!("../../data/us.json");

/// At most this many cities: node ids travel in packets as `u16`.
pub const CITIES_MAX: usize = 4096;

#[derive(Clone, Debug)]
pub struct City {
    pub name: String,
    pub aliases: Vec<String>,
    pub lat: f64,
    pub lon: f64,
    /// Weights where traffic and students come from; only ratios matter.
    pub population: f64,
}

#[derive(Clone, Debug)]
pub struct Link {
    pub a: usize,
    pub b: usize,
    pub km: f64,
    pub delay: Nanos,
    pub trunks: u32,
    pub bandwidth_bps: f64,
}

/// One end's view of a link: the city at the other end, and which link.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Adj {
    pub to: usize,
    pub link: usize,
}

#[derive(Clone, Debug)]
pub struct Network {
    /// The file's own description of its data.
    pub about: String,
    pub cities: Vec<City>,
    pub links: Vec<Link>,
    /// `adj[c]`: the links at city `c`, in file order.
    pub adj: Vec<Vec<Adj>>,
}

impl Network {
    /// The shipped US network.
    pub fn us() -> Network {
        Network::from_json(US_JSON).expect("the shipped network is valid")
    }

    /// Parses and checks a network file (see `data/us.json` for its shape).
    pub fn from_json(text: &str) -> Result<Network, Error> {
        file::parse(text)
    }

    /// Two cities, `A` and `B`, and one link of `trunks` trunks: the textbook's single
    /// trunk group that the Erlang B formula describes.
    pub(crate) fn one_link(trunks: u32) -> Network {
        let city = |name: &str, lon: f64| City {
            name: name.to_string(),
            aliases: Vec::new(),
            lat: 0.0,
            lon,
            population: 1.0,
        };
        Network::build(
            vec![city("A", 0.0), city("B", 1.0)],
            vec![Link {
                a: 0,
                b: 1,
                km: 100.0,
                delay: MILLISECOND / 2,
                trunks,
                bandwidth_bps: 45e6,
            }],
        )
    }

    pub(crate) fn build(cities: Vec<City>, links: Vec<Link>) -> Network {
        let mut adj = vec![Vec::new(); cities.len()];
        for (i, l) in links.iter().enumerate() {
            adj[l.a].push(Adj { to: l.b, link: i });
            adj[l.b].push(Adj { to: l.a, link: i });
        }
        Network {
            about: String::new(),
            cities,
            links,
            adj,
        }
    }

    /// A city by name or alias, ignoring case.
    pub fn city(&self, name: &str) -> Result<usize, Error> {
        let name = name.trim();
        self.cities
            .iter()
            .position(|c| c.name.eq_ignore_ascii_case(name) || c.aliases.iter().any(|a| a.eq_ignore_ascii_case(name)))
            .ok_or_else(|| Error::UnknownCity(name.to_string()))
    }

    /// The link joining two cities, if there is one.
    pub fn link_between(&self, a: usize, b: usize) -> Option<usize> {
        self.adj[a].iter().find(|adj| adj.to == b).map(|adj| adj.link)
    }

    /// `"Chicago-Cleveland"`: a link's name, as `--kill` takes it.
    pub fn link_name(&self, link: usize) -> String {
        let l = &self.links[link];
        format!("{}-{}", self.cities[l.a].name, self.cities[l.b].name)
    }

    /// Running sums of the cities' populations, for drawing a city by population.
    pub(crate) fn population_weights(&self) -> Vec<f64> {
        crate::rng::cumulative(self.cities.iter().map(|c| c.population))
    }
}

/// Two different cities drawn by weight (`cumulative`: running sums; a city of weight
/// zero is never drawn); `None` if fewer than two cities have weight.
pub(crate) fn draw_pair(rng: &mut crate::rng::Rng, cumulative: &[f64]) -> Option<(usize, usize)> {
    let weight = |i: usize| cumulative[i] - if i == 0 { 0.0 } else { cumulative[i - 1] };
    if (0..cumulative.len()).filter(|&i| weight(i) > 0.0).count() < 2 {
        return None;
    }
    let a = rng.weighted(cumulative);
    // Redraw a self-pair; after a few tries (one city holding almost all the weight)
    // take the next city with weight.
    for _ in 0..32 {
        let b = rng.weighted(cumulative);
        if b != a {
            return Some((a, b));
        }
    }
    let n = cumulative.len();
    (1..n).map(|k| (a + k) % n).find(|&b| weight(b) > 0.0).map(|b| (a, b))
}

/// Great-circle distance in km (haversine, on a sphere of the Earth's mean radius).
pub(crate) fn great_circle_km(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    const EARTH_RADIUS_KM: f64 = 6371.0;
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = p2 - p1;
    let dl = (lon2 - lon1).to_radians();
    let h = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_KM * h.sqrt().min(1.0).asin()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_network_is_connected_and_the_lecture_cities_are_in_it() {
        let net = Network::us();
        for name in [
            "Santa Monica",
            "Los Angeles",
            "Phoenix",
            "Tucson",
            "Albuquerque",
            "Denver",
            "Kansas City",
            "Chicago",
            "Memphis",
            "Houston",
            "Atlanta",
            "Cleveland",
            "New York",
            "boston",
        ] {
            net.city(name).unwrap();
        }
        let mut finder = PathFinder::new(net.cities.len());
        let la = net.city("Los Angeles").unwrap();
        for c in 0..net.cities.len() {
            assert!(
                finder
                    .shortest(&net.adj, la, c, |_, a| Some(net.links[a.link].delay))
                    .is_some()
            );
        }
        // New York to Los Angeles is about 3,940 km as the crow flies.
        let ny = net.city("New York").unwrap();
        let km = great_circle_km(
            net.cities[la].lat,
            net.cities[la].lon,
            net.cities[ny].lat,
            net.cities[ny].lon,
        );
        assert!((km - 3940.0).abs() < 30.0, "{km}");
    }

    #[test]
    fn the_lecture_call_goes_through_chicago() {
        let net = Network::us();
        let mut finder = PathFinder::new(net.cities.len());
        let (la, boston) = (net.city("LA").unwrap(), net.city("Boston").unwrap());
        let route = finder
            .shortest(&net.adj, la, boston, |_, a| Some(net.links[a.link].delay))
            .unwrap();
        let names: Vec<&str> = route.nodes.iter().map(|&c| net.cities[c].name.as_str()).collect();
        assert_eq!(
            names,
            [
                "Los Angeles",
                "Phoenix",
                "Albuquerque",
                "Kansas City",
                "Chicago",
                "Cleveland",
                "Boston"
            ]
        );
    }
}

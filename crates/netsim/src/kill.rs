//! Destruction: which cities or links die, and when. `Chicago@30s` kills a city,
//! `Chicago-Cleveland@30s` a link; a probability kills each city independently at a
//! given time (Baran's question: what survives if each node is lost with probability p?);
//! a partition `-98@30s` cuts every link crossing a meridian, splitting east from west.
//! Nothing ever comes back: the lecture's Chicago is a pile of rubble.

use serde::Serialize;

use crate::Error;
use crate::network::Network;
use crate::rng::Rng;
use crate::sim::{MILLISECOND, Nanos, SECOND, nanos};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    City(usize),
    Link(usize),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Kill {
    pub target: Target,
    pub at: Nanos,
}

/// Every city at once with probability `p`, at time `at`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RandomKill {
    pub p: f64,
    pub at: Nanos,
}

/// Every link crossing the meridian `lon` (degrees east; the US is negative), at `at`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Partition {
    pub lon: f64,
    pub at: Nanos,
}

/// All the destruction of one run.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Destruction {
    pub kills: Vec<Kill>,
    pub random: Option<RandomKill>,
    pub partitions: Vec<Partition>,
}

/// The stream the random kills draw from, apart from every model's own streams.
const STREAM_RANDOM_KILL: u64 = 0x6b11;

impl Destruction {
    /// Parses `--kill` specs (`CITY@TIME` or `CITY-CITY@TIME`) against `net`.
    pub fn parse(net: &Network, specs: &[String], random: Option<RandomKill>) -> Result<Destruction, Error> {
        let kills = specs
            .iter()
            .map(|s| Kill::parse(net, s))
            .collect::<Result<Vec<_>, _>>()?;
        if let Some(r) = random
            && !(0.0..=1.0).contains(&r.p)
        {
            return Err(Error::BadKill(
                format!("{}", r.p),
                "a probability is between 0 and 1".into(),
            ));
        }
        Ok(Destruction {
            kills,
            random,
            partitions: Vec::new(),
        })
    }

    /// Adds `--partition` specs: `LON@TIME`, as `-98@30s`.
    pub fn with_partitions(mut self, specs: &[String]) -> Result<Destruction, Error> {
        for spec in specs {
            let bad = |why: &str| Error::BadKill(spec.to_string(), why.to_string());
            let (lon, when) = spec
                .rsplit_once('@')
                .ok_or_else(|| bad("expected LONGITUDE@TIME, as -98@30s"))?;
            let lon: f64 = lon.trim().parse().map_err(|_| bad("the longitude is not a number"))?;
            if !(-180.0..=180.0).contains(&lon) {
                return Err(bad("a longitude is between -180 and 180"));
            }
            let at = parse_time(when).map_err(|why| bad(&why))?;
            self.partitions.push(Partition { lon, at });
        }
        Ok(self)
    }

    /// The concrete kills, in time order (ties in the order given): the listed ones,
    /// and each city drawn dead by the random kill.
    pub fn resolve(&self, net: &Network, seed: u64) -> Vec<Kill> {
        let mut kills = self.kills.clone();
        for cut in &self.partitions {
            for (l, link) in net.links.iter().enumerate() {
                let (a, b) = (net.cities[link.a].lon, net.cities[link.b].lon);
                if (a < cut.lon) != (b < cut.lon) {
                    kills.push(Kill {
                        target: Target::Link(l),
                        at: cut.at,
                    });
                }
            }
        }
        if let Some(r) = self.random {
            let mut rng = Rng::new(seed, STREAM_RANDOM_KILL);
            for city in 0..net.cities.len() {
                if rng.chance(r.p) {
                    kills.push(Kill {
                        target: Target::City(city),
                        at: r.at,
                    });
                }
            }
        }
        kills.sort_by_key(|k| k.at);
        kills
    }
}

impl Kill {
    pub fn parse(net: &Network, spec: &str) -> Result<Kill, Error> {
        let bad = |why: &str| Error::BadKill(spec.to_string(), why.to_string());
        let (what, when) = spec
            .rsplit_once('@')
            .ok_or_else(|| bad("expected CITY@TIME, as Chicago@30s"))?;
        let at = parse_time(when).map_err(|why| bad(&why))?;
        Ok(Kill {
            target: target(net, what).ok_or_else(|| bad("no such city, nor a link CITY-CITY"))?,
            at,
        })
    }

    pub fn name(&self, net: &Network) -> String {
        match self.target {
            Target::City(c) => net.cities[c].name.clone(),
            Target::Link(l) => net.link_name(l),
        }
    }
}

/// A city's name, or two names joined by `-` naming a link. City names may hold a `-`
/// themselves, so every split point is tried.
fn target(net: &Network, what: &str) -> Option<Target> {
    if let Ok(c) = net.city(what) {
        return Some(Target::City(c));
    }
    what.match_indices('-').find_map(|(i, _)| {
        let (a, b) = (net.city(&what[..i]).ok()?, net.city(&what[i + 1..]).ok()?);
        net.link_between(a, b).map(Target::Link)
    })
}

/// `30s`, `1.5s`, `200ms`, `2m`, or a bare number of seconds.
pub fn parse_time(text: &str) -> Result<Nanos, String> {
    let text = text.trim();
    let (number, unit) = if let Some(n) = text.strip_suffix("ms") {
        (n, MILLISECOND)
    } else if let Some(n) = text.strip_suffix('s') {
        (n, SECOND)
    } else if let Some(n) = text.strip_suffix('m') {
        (n, 60 * SECOND)
    } else {
        (text, SECOND)
    };
    match number.trim().parse::<f64>() {
        Ok(v) if v >= 0.0 && v.is_finite() && v < 1e9 => Ok(nanos(v * unit as f64 / SECOND as f64)),
        _ => Err(format!("{text:?} is not a time such as 30s, 1.5s or 200ms")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_parse() {
        let net = Network::us();
        let chicago = net.city("Chicago").unwrap();
        assert_eq!(
            Kill::parse(&net, "chicago@30s").unwrap(),
            Kill {
                target: Target::City(chicago),
                at: 30 * SECOND
            }
        );
        let k = Kill::parse(&net, "Kansas City-Chicago@250ms").unwrap();
        assert_eq!(k.at, 250 * MILLISECOND);
        assert_eq!(k.name(&net), "Kansas City-Chicago");
        assert!(Kill::parse(&net, "Chicago").is_err());
        assert!(Kill::parse(&net, "Gotham@1s").is_err());
        assert!(Kill::parse(&net, "Boston-Phoenix@1s").is_err(), "no such link");
        assert!(Kill::parse(&net, "Chicago@soon").is_err());
        assert_eq!(parse_time("2m"), Ok(120 * SECOND));
        assert_eq!(parse_time("1.5"), Ok(1_500 * MILLISECOND));
    }

    #[test]
    fn a_partition_cuts_exactly_the_links_across_its_meridian() {
        let net = Network::us();
        let d = Destruction::default().with_partitions(&["-98@2s".to_string()]).unwrap();
        let kills = d.resolve(&net, 1);
        assert!(!kills.is_empty() && kills.iter().all(|k| k.at == 2 * SECOND));
        let names: Vec<String> = kills.iter().map(|k| k.name(&net)).collect();
        assert!(names.contains(&"Denver-Kansas City".to_string()), "{names:?}");
        assert!(!names.iter().any(|n| n.contains("Chicago")), "{names:?}");
        assert!(
            Destruction::default()
                .with_partitions(&["west@1s".to_string()])
                .is_err()
        );
    }

    #[test]
    fn random_kills_follow_the_seed() {
        let net = Network::us();
        let d = Destruction {
            random: Some(RandomKill { p: 0.5, at: SECOND }),
            ..Destruction::default()
        };
        assert_eq!(d.resolve(&net, 3), d.resolve(&net, 3));
        assert_ne!(d.resolve(&net, 3), d.resolve(&net, 4));
        let all = Destruction {
            random: Some(RandomKill { p: 1.0, at: SECOND }),
            ..Destruction::default()
        };
        assert_eq!(all.resolve(&net, 1).len(), net.cities.len());
    }
}

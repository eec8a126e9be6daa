//! The network file's JSON shape, and the checks a file must pass before a model runs
//! on it: every name known and unique, no link twice or to itself, sane numbers.

use serde::Deserialize;

use super::{CITIES_MAX, City, Link, Network, great_circle_km};
use crate::Error;
use crate::sim::{Nanos, nanos};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NetworkFile {
    /// Free text: where the data comes from.
    #[serde(default)]
    about: String,
    /// Signal speed along the links.
    signal_km_per_ms: f64,
    default_trunks: u32,
    default_bandwidth_mbps: f64,
    cities: Vec<CityFile>,
    links: Vec<LinkFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CityFile {
    name: String,
    #[serde(default)]
    aliases: Vec<String>,
    lat: f64,
    lon: f64,
    population_thousands: f64,
}

/// One link as the file gives it; what is left out takes the file's defaults.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LinkFile {
    a: String,
    b: String,
    /// The cable's length, when it does not follow the great circle.
    #[serde(default)]
    km: Option<f64>,
    #[serde(default)]
    trunks: Option<u32>,
    #[serde(default)]
    bandwidth_mbps: Option<f64>,
}

fn bad(why: String) -> Error {
    Error::BadNetwork(why)
}

pub(super) fn parse(text: &str) -> Result<Network, Error> {
    let mut file: NetworkFile = serde_json::from_str(text).map_err(|e| bad(e.to_string()))?;
    if !(file.signal_km_per_ms > 0.0 && file.signal_km_per_ms.is_finite()) {
        return Err(bad("signal_km_per_ms must be positive".into()));
    }
    if file.cities.len() < 2 || file.cities.len() > CITIES_MAX {
        return Err(bad(format!("a network has 2 to {CITIES_MAX} cities")));
    }
    let cities = std::mem::take(&mut file.cities)
        .into_iter()
        .map(city)
        .collect::<Result<Vec<_>, _>>()?;
    let mut net = Network::build(cities, Vec::new());
    check_names(&net)?;
    let mut links = Vec::with_capacity(file.links.len());
    for l in &file.links {
        let (a, b) = (net.city(&l.a)?, net.city(&l.b)?);
        if a == b {
            return Err(bad(format!("a link from {} to itself", l.a)));
        }
        if links
            .iter()
            .any(|x: &Link| (x.a, x.b) == (a, b) || (x.a, x.b) == (b, a))
        {
            return Err(bad(format!("the link {}-{} is listed twice", l.a, l.b)));
        }
        links.push(link(&net, l, a, b, &file)?);
    }
    net = Network::build(net.cities, links);
    net.about = file.about;
    Ok(net)
}

fn city(c: CityFile) -> Result<City, Error> {
    if c.name.trim().is_empty() || c.name.contains('@') {
        return Err(bad(format!("a city's name is empty or has an '@': {:?}", c.name)));
    }
    if !(-90.0..=90.0).contains(&c.lat) || !(-180.0..=180.0).contains(&c.lon) {
        return Err(bad(format!("{}: latitude or longitude out of range", c.name)));
    }
    if !(c.population_thousands >= 0.0 && c.population_thousands.is_finite()) {
        return Err(bad(format!("{}: population must be a non-negative number", c.name)));
    }
    Ok(City {
        name: c.name,
        aliases: c.aliases,
        lat: c.lat,
        lon: c.lon,
        population: c.population_thousands,
    })
}

/// Names and aliases are unique, ignoring case, so `--kill chicago` is never ambiguous.
fn check_names(net: &Network) -> Result<(), Error> {
    let mut seen: Vec<String> = Vec::new();
    for c in &net.cities {
        for n in std::iter::once(&c.name).chain(&c.aliases) {
            let key = n.trim().to_lowercase();
            if seen.contains(&key) {
                return Err(bad(format!("the name {n:?} is used twice")));
            }
            seen.push(key);
        }
    }
    if net.cities.iter().all(|c| c.population == 0.0) {
        return Err(bad("at least one city needs a population".into()));
    }
    Ok(())
}

fn link(net: &Network, l: &LinkFile, a: usize, b: usize, file: &NetworkFile) -> Result<Link, Error> {
    let (ca, cb) = (&net.cities[a], &net.cities[b]);
    let km =
        l.km.unwrap_or_else(|| great_circle_km(ca.lat, ca.lon, cb.lat, cb.lon))
            .max(1.0);
    let bandwidth_mbps = l.bandwidth_mbps.unwrap_or(file.default_bandwidth_mbps);
    if !(km.is_finite() && bandwidth_mbps > 0.0 && bandwidth_mbps.is_finite()) {
        return Err(bad(format!("{}-{}: length and bandwidth must be positive", l.a, l.b)));
    }
    let delay: Nanos = nanos(km / file.signal_km_per_ms / 1000.0);
    Ok(Link {
        a,
        b,
        km,
        delay,
        trunks: l.trunks.unwrap_or(file.default_trunks),
        bandwidth_bps: bandwidth_mbps * 1e6,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const TWO: &str = r#"{"signal_km_per_ms": 200, "default_trunks": 4, "default_bandwidth_mbps": 1,
        "cities": [{"name": "A", "lat": 0, "lon": 0, "population_thousands": 1},
                   {"name": "B", "aliases": ["Bee"], "lat": 0, "lon": 1, "population_thousands": 1}],
        "links": [LINKS]}"#;

    #[test]
    fn defaults_apply_and_names_resolve() {
        let net = parse(&TWO.replace("LINKS", r#"{"a": "a", "b": "bee", "km": 400, "trunks": 7}"#)).unwrap();
        assert_eq!(net.links[0].trunks, 7);
        assert_eq!(net.links[0].delay, 2_000_000);
        assert_eq!(net.links[0].bandwidth_bps, 1e6);
        assert_eq!(net.link_between(1, 0), Some(0));
    }

    #[test]
    fn bad_files_are_refused_with_a_reason() {
        for (links, why) in [
            (r#"{"a": "A", "b": "C"}"#, "unknown city"),
            (r#"{"a": "A", "b": "A"}"#, "to itself"),
            (r#"{"a": "A", "b": "B"}, {"a": "B", "b": "A"}"#, "twice"),
            (r#"{"a": "A", "b": "B", "colour": 1}"#, "unknown field"),
        ] {
            let err = parse(&TWO.replace("LINKS", links)).unwrap_err().to_string();
            assert!(err.contains(why), "{err} should say {why}");
        }
    }
}

//! Registration day's crowd: students drawn by city population, appointments spread
//! over the opening, preference lists that favour a few hot sections (the CS35L the
//! lecture's students race for).

use super::Workload;
use crate::network::Network;
use crate::rng::Rng;
use crate::sim::Nanos;
use crate::{Error, check};

const STREAM_STUDENTS: u64 = 21;

/// Hot sections are this many times as likely to be on a preference list.
const HOT_WEIGHT: f64 = 10.0;

/// One student: where, when its appointment opens, and the sections it wants, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Student {
    pub city: usize,
    pub at: Nanos,
    pub preferences: Vec<usize>,
}

/// The sections' capacities and the students, sorted by appointment.
pub(super) fn build(net: &Network, workload: &Workload, seed: u64) -> Result<(Vec<u32>, Vec<Student>), Error> {
    match workload {
        Workload::Given { capacities, students } => {
            for s in students {
                check(s.city < net.cities.len(), "a student's city is not in the network")?;
                check(
                    s.preferences.iter().all(|&p| p < capacities.len()),
                    "a student prefers a section that does not exist",
                )?;
            }
            let mut students = students.clone();
            students.sort_by_key(|s| s.at);
            Ok((capacities.clone(), students))
        }
        &Workload::Generated {
            students,
            sections,
            seats,
            hot,
            preferences,
            spread,
        } => {
            check(sections > 0, "at least one section")?;
            let mut rng = Rng::new(seed, STREAM_STUDENTS);
            let cities = net.population_weights();
            let wanted = crate::rng::cumulative((0..sections).map(|s| if s < hot { HOT_WEIGHT } else { 1.0 }));
            let k = preferences.clamp(1, sections);
            let mut list: Vec<Student> = (0..students)
                .map(|_| Student {
                    city: rng.weighted(&cities),
                    at: rng.below(spread.max(1)),
                    preferences: distinct(&mut rng, &wanted, k),
                })
                .collect();
            list.sort_by_key(|s| s.at);
            Ok((vec![seats; sections], list))
        }
    }
}

/// `k` different sections drawn by weight.
fn distinct(rng: &mut Rng, wanted: &[f64], k: usize) -> Vec<usize> {
    let mut out = Vec::with_capacity(k);
    while out.len() < k {
        let s = rng.weighted(wanted);
        if !out.contains(&s) {
            out.push(s);
        }
    }
    out
}

/// Splits `total` seats over weights by largest remainder: the parts sum to `total`.
pub(super) fn split(total: u32, weights: &[f64]) -> Vec<u32> {
    let sum: f64 = weights.iter().sum();
    assert!(sum > 0.0, "some weight");
    let exact: Vec<f64> = weights.iter().map(|w| f64::from(total) * w / sum).collect();
    let mut parts: Vec<u32> = exact.iter().map(|e| e.floor() as u32).collect();
    let mut order: Vec<usize> = (0..weights.len()).collect();
    // Largest remainder first; ties to the lower index, so the split is deterministic.
    order.sort_by(|&a, &b| (exact[b] - exact[b].floor()).total_cmp(&(exact[a] - exact[a].floor())));
    let short = total - parts.iter().sum::<u32>();
    for &i in order.iter().take(short as usize) {
        parts[i] += 1;
    }
    assert_eq!(parts.iter().sum::<u32>(), total, "a split keeps every seat");
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_keeps_every_seat_in_proportion() {
        assert_eq!(split(10, &[1.0, 1.0, 2.0]), vec![3, 2, 5]);
        assert_eq!(split(1, &[1.0, 1.0]), vec![1, 0]);
        assert_eq!(split(0, &[3.0]), vec![0]);
    }
}

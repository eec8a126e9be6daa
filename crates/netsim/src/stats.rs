//! Latency histograms of fixed size: a run's memory must not grow with its length, so
//! latencies are counted into log-linear buckets (16 per power of two, under 4.5%
//! relative error) instead of being kept.

use serde::Serialize;

use crate::sim::{MILLISECOND, Nanos};

const SUB_BUCKETS: usize = 16;
const BUCKETS: usize = 64 * SUB_BUCKETS;

#[derive(Clone)]
pub struct Histogram {
    counts: Vec<u64>,
    total: u64,
    max: Nanos,
}

/// Percentiles of a histogram, in milliseconds.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Percentiles {
    pub count: u64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

impl Default for Histogram {
    fn default() -> Histogram {
        Histogram {
            counts: vec![0; BUCKETS],
            total: 0,
            max: 0,
        }
    }
}

/// The bucket of `v`: its power of two, then the next four bits below the top one.
fn bucket(v: Nanos) -> usize {
    if v < SUB_BUCKETS as u64 {
        return v as usize;
    }
    let power = 63 - v.leading_zeros() as usize;
    let sub = ((v >> (power - 4)) & 0xf) as usize;
    (power - 3) * SUB_BUCKETS + sub
}

/// The middle of a bucket's range: what a value counted there is reported as.
fn middle(b: usize) -> f64 {
    if b < SUB_BUCKETS {
        return b as f64;
    }
    let power = b / SUB_BUCKETS + 3;
    let sub = (b % SUB_BUCKETS) as u64;
    let low = (1u64 << power) | (sub << (power - 4));
    low as f64 + (1u64 << (power - 4)) as f64 / 2.0
}

impl Histogram {
    pub fn record(&mut self, v: Nanos) {
        self.counts[bucket(v)] += 1;
        self.total += 1;
        self.max = self.max.max(v);
    }

    /// The value at quantile `q` (0 to 1), from the bucket it falls in.
    fn quantile(&self, q: f64) -> f64 {
        let rank = ((q * self.total as f64).ceil() as u64).max(1);
        let mut seen = 0;
        for (b, &c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                return middle(b).min(self.max as f64);
            }
        }
        self.max as f64
    }

    pub fn percentiles(&self) -> Percentiles {
        if self.total == 0 {
            return Percentiles::default();
        }
        let ms = |v: f64| (v / MILLISECOND as f64 * 1000.0).round() / 1000.0;
        Percentiles {
            count: self.total,
            p50_ms: ms(self.quantile(0.5)),
            p90_ms: ms(self.quantile(0.9)),
            p99_ms: ms(self.quantile(0.99)),
            max_ms: ms(self.max as f64),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_ordered_and_tight() {
        let mut last = 0;
        for v in (0..40).map(|p| 1u64 << p).flat_map(|x| [x, x + x / 3, x + x / 2]) {
            let b = bucket(v);
            assert!(b >= last, "buckets grow with the value");
            last = b;
            assert!(
                (middle(b) - v as f64).abs() <= 0.045 * v as f64 + 0.5,
                "{v} -> {}",
                middle(b)
            );
        }
    }

    #[test]
    fn percentiles_of_a_uniform_spread() {
        let mut h = Histogram::default();
        for ms in 1..=100 {
            h.record(ms * MILLISECOND);
        }
        let p = h.percentiles();
        assert_eq!(p.count, 100);
        assert!((p.p50_ms - 50.0).abs() < 2.5, "{p:?}");
        assert!((p.p99_ms - 99.0).abs() < 4.5, "{p:?}");
        assert_eq!(p.max_ms, 100.0);
    }
}

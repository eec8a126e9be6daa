//! What a run measured: latency samples (microseconds, from the intended send time),
//! outcome and error counts. Each connection records into its own `Recorder`; they are
//! merged once at the end into HDR histograms, overall and per second.

use std::collections::BTreeMap;

use hdrhistogram::Histogram;
use serde::Serialize;

/// Latencies are recorded up to this many microseconds (a minute); longer ones saturate.
const LATENCY_US_MAX: u64 = 60_000_000;

#[derive(Default)]
pub struct Recorder {
    /// (second of the run, latency in microseconds) of every answered request.
    samples: Vec<(u32, u32)>,
    commands: u64,
    outcomes: BTreeMap<String, u64>,
    errors: BTreeMap<String, u64>,
}

impl Recorder {
    pub fn answered(&mut self, second: u32, latency_us: u64, commands: u64) {
        self.samples.push((second, latency_us.min(u64::from(u32::MAX)) as u32));
        self.commands += commands;
    }

    pub fn outcome(&mut self, kind: &str) {
        *self.outcomes.entry(kind.to_owned()).or_default() += 1;
    }

    pub fn error(&mut self, kind: String) {
        *self.errors.entry(kind).or_default() += 1;
    }

    pub fn merge(&mut self, other: Recorder) {
        self.samples.extend(other.samples);
        self.commands += other.commands;
        for (k, v) in other.outcomes {
            *self.outcomes.entry(k).or_default() += v;
        }
        for (k, v) in other.errors {
            *self.errors.entry(k).or_default() += v;
        }
    }

    pub fn summarize(self, elapsed_s: f64) -> Summary {
        let histogram = |samples: &mut dyn Iterator<Item = u32>| {
            let mut h = Histogram::<u64>::new_with_bounds(1, LATENCY_US_MAX, 3).expect("valid bounds");
            for us in samples {
                h.saturating_record(u64::from(us).max(1));
            }
            h
        };
        let all = histogram(&mut self.samples.iter().map(|s| s.1));
        let mut by_second: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
        for (second, us) in &self.samples {
            by_second.entry(*second).or_default().push(*us);
        }
        let per_second = by_second
            .into_iter()
            .map(|(second, samples)| {
                let h = histogram(&mut samples.into_iter());
                Second {
                    second,
                    requests: h.len(),
                    p50_ms: ms(h.value_at_quantile(0.5)),
                    p99_ms: ms(h.value_at_quantile(0.99)),
                }
            })
            .collect();
        let requests = all.len();
        Summary {
            requests,
            commands: self.commands,
            requests_per_s: requests as f64 / elapsed_s,
            commands_per_s: self.commands as f64 / elapsed_s,
            latency_ms: Percentiles {
                p50: ms(all.value_at_quantile(0.5)),
                p90: ms(all.value_at_quantile(0.9)),
                p99: ms(all.value_at_quantile(0.99)),
                p999: ms(all.value_at_quantile(0.999)),
                max: ms(all.max()),
            },
            outcomes: self.outcomes,
            errors: self.errors,
            per_second,
        }
    }
}

fn ms(us: u64) -> f64 {
    us as f64 / 1000.0
}

#[derive(Clone, Debug, Serialize)]
pub struct Percentiles {
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub p999: f64,
    pub max: f64,
}

#[derive(Clone, Debug, Serialize)]
pub struct Second {
    pub second: u32,
    pub requests: u64,
    pub p50_ms: f64,
    pub p99_ms: f64,
}

#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    pub requests: u64,
    pub commands: u64,
    pub requests_per_s: f64,
    pub commands_per_s: f64,
    pub latency_ms: Percentiles,
    pub outcomes: BTreeMap<String, u64>,
    pub errors: BTreeMap<String, u64>,
    pub per_second: Vec<Second>,
}

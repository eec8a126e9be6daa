//! What a run measured: latency samples (microseconds, from the intended send time) of
//! the answered requests, their outcomes, the attempts that were retried, the requests
//! never answered, by what became of them, and how fast the server answered the
//! attempts it shed (`503`). Each connection records into its
//! own `Recorder`; they are merged once at the end into HDR histograms, overall and per
//! second.

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
    retried: BTreeMap<String, u64>,
    unanswered: BTreeMap<String, u64>,
    /// Latency in microseconds, from the attempt's send, of every `503` answer.
    shed: Vec<u32>,
    /// Latency in microseconds, from its own send, of every attempt that was answered
    /// (the last of its request's attempts): the server's share of `samples`, without
    /// the wait for a connection or for a retry.
    attempts: Vec<u32>,
    shed_without_retry_after: u64,
}

impl Recorder {
    pub fn answered(&mut self, second: u32, latency_us: u64, commands: u64) {
        self.samples.push((second, latency_us.min(u64::from(u32::MAX)) as u32));
        self.commands += commands;
    }

    /// An answer, as "enroll → full" for a command or "304 not modified" for a read.
    pub fn outcome(&mut self, label: &str) {
        count(&mut self.outcomes, label);
    }

    /// An attempt that failed and was tried again, by why it failed.
    pub fn retried(&mut self, cause: &str) {
        count(&mut self.retried, cause);
    }

    /// A request that never got an answer, by what became of it ("unknown outcome
    /// (connection lost)", "not applied (503 overloaded)", ...).
    pub fn unanswered(&mut self, fate: &str) {
        count(&mut self.unanswered, fate);
    }

    /// An attempt the server shed with `503`, answered `latency_us` after it was sent.
    pub fn shed(&mut self, latency_us: u64, retry_after: bool) {
        self.shed.push(latency_us.min(u64::from(u32::MAX)) as u32);
        self.shed_without_retry_after += u64::from(!retry_after);
    }

    /// The attempt that answered a request, answered `latency_us` after it was sent.
    pub fn answering_attempt(&mut self, latency_us: u64) {
        self.attempts.push(latency_us.min(u64::from(u32::MAX)) as u32);
    }

    pub fn merge(&mut self, other: Recorder) {
        self.samples.extend(other.samples);
        self.attempts.extend(other.attempts);
        self.commands += other.commands;
        self.shed.extend(other.shed);
        self.shed_without_retry_after += other.shed_without_retry_after;
        for (mine, theirs) in [
            (&mut self.outcomes, other.outcomes),
            (&mut self.retried, other.retried),
            (&mut self.unanswered, other.unanswered),
        ] {
            for (k, v) in theirs {
                *mine.entry(k).or_default() += v;
            }
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
        let answered = all.len();
        let shed = (!self.shed.is_empty()).then(|| Shed {
            answers: self.shed.len() as u64,
            without_retry_after: self.shed_without_retry_after,
            latency_ms: Percentiles::of(&histogram(&mut self.shed.iter().copied())),
        });
        let answering_attempt_ms =
            (!self.attempts.is_empty()).then(|| Percentiles::of(&histogram(&mut self.attempts.iter().copied())));
        Summary {
            answered,
            answering_attempt_ms,
            commands: self.commands,
            answered_per_s: answered as f64 / elapsed_s,
            commands_per_s: self.commands as f64 / elapsed_s,
            latency_ms: Percentiles::of(&all),
            outcomes: self.outcomes,
            retried: self.retried,
            unanswered: self.unanswered,
            per_second,
            shed,
        }
    }
}

fn count(counts: &mut BTreeMap<String, u64>, key: &str) {
    match counts.get_mut(key) {
        Some(n) => *n += 1,
        None => {
            counts.insert(key.to_owned(), 1);
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

impl Percentiles {
    fn of(h: &Histogram<u64>) -> Percentiles {
        Percentiles {
            p50: ms(h.value_at_quantile(0.5)),
            p90: ms(h.value_at_quantile(0.9)),
            p99: ms(h.value_at_quantile(0.99)),
            p999: ms(h.value_at_quantile(0.999)),
            max: ms(h.max()),
        }
    }
}

/// The attempts the server shed with `503`, however their requests ended (retried,
/// given up, or cut short by the run's end).
#[derive(Clone, Debug, Serialize)]
pub struct Shed {
    pub answers: u64,
    /// `503` answers that did not say when to retry (murphy always does).
    pub without_retry_after: u64,
    /// From each shed attempt's send to its `503`: how fast the server said no.
    pub latency_ms: Percentiles,
}

#[derive(Clone, Debug, Serialize)]
pub struct Second {
    pub second: u32,
    pub requests: u64,
    pub p50_ms: f64,
    pub p99_ms: f64,
}

/// What one kind of request (writes or reads) measured.
#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    /// Requests answered (a retried request counts once, when answered).
    pub answered: u64,
    /// Commands in the answered requests (0 for reads).
    pub commands: u64,
    pub answered_per_s: f64,
    pub commands_per_s: f64,
    /// From when each answered request was due to its answer, retries included.
    pub latency_ms: Percentiles,
    /// From the send of the attempt that was answered to its answer (writes only): how
    /// long the server took, without the wait for a free connection or a retry.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub answering_attempt_ms: Option<Percentiles>,
    /// Answers by kind: "enroll → enrolled", "drop → dropped", "304 not modified".
    pub outcomes: BTreeMap<String, u64>,
    /// Failed attempts that were tried again, by cause.
    pub retried: BTreeMap<String, u64>,
    /// Requests never answered, by fate: "unknown outcome (...)" may have been
    /// applied, "not applied (...)" and "not sent (...)" were not.
    pub unanswered: BTreeMap<String, u64>,
    pub per_second: Vec<Second>,
    /// The `503` answers, if any.
    pub shed: Option<Shed>,
}

/// The prefix of the fates whose request may or may not have been applied.
pub const UNKNOWN_OUTCOME: &str = "unknown outcome";
/// In the fates of requests whose retry the run's end cut short.
pub const RUN_ENDED: &str = "then the run ended";
/// The one fate that is no failure: murphy shed the request (as it must under
/// overload) and the run ended before its retry was due.
pub const SHED_AT_END: &str = "not applied (503 overloaded, then the run ended)";

impl Summary {
    pub fn unanswered(&self) -> u64 {
        self.unanswered.values().sum()
    }

    /// Unanswered requests that count against the run: all but `SHED_AT_END`.
    pub fn failures(&self) -> u64 {
        self.unanswered() - self.unanswered.get(SHED_AT_END).copied().unwrap_or(0)
    }

    /// Unanswered requests given up before the run's end: not retryable, or out of
    /// `--retries`; their sessions were renewed.
    pub fn given_up(&self) -> u64 {
        self.unanswered
            .iter()
            .filter(|(fate, _)| !fate.contains(RUN_ENDED))
            .map(|(_, n)| n)
            .sum()
    }

    /// Unanswered requests that the server may have applied all the same.
    pub fn unknown(&self) -> u64 {
        self.unanswered
            .iter()
            .filter(|(fate, _)| fate.starts_with(UNKNOWN_OUTCOME))
            .map(|(_, n)| n)
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::Recorder;

    #[test]
    fn shed_answers_are_merged_and_summarized_apart_from_the_answered() {
        let (mut a, mut b) = (Recorder::default(), Recorder::default());
        a.answered(0, 5_000, 1);
        a.answering_attempt(4_000);
        a.shed(1_000, true);
        b.shed(3_000, false);
        b.shed(2_000, true);
        a.merge(b);
        let summary = a.summarize(1.0);
        assert_eq!(summary.answered, 1, "a 503 is not an answer");
        let shed = summary.shed.expect("503s recorded");
        assert_eq!((shed.answers, shed.without_retry_after), (3, 1));
        assert!(
            (2.9..=3.1).contains(&shed.latency_ms.max),
            "max {}",
            shed.latency_ms.max
        );
        let attempt = summary.answering_attempt_ms.expect("an answering attempt");
        assert!((3.9..=4.1).contains(&attempt.p99), "attempt p99 {}", attempt.p99);
        assert!(
            Recorder::default().summarize(1.0).shed.is_none(),
            "no 503s, no shed section"
        );
    }
}

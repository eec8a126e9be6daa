//! Counters the loop and the HTTP layer update with relaxed atomics (never a lock on a
//! hot path), rendered as Prometheus text at `GET /metrics`. A handful of series does
//! not justify a metrics framework, so the text format is written here directly. A
//! leaf: it imports no other part of the server, which all write into it.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

/// Upper bounds of the batch-size histogram, in commands.
const BATCH_BUCKETS: [u64; 12] = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096];
/// Upper bounds of the commit and loop-lag histograms, in microseconds.
const TIME_BUCKETS_US: [u64; 12] = [
    100, 250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 1_000_000,
];
/// Upper bounds of the replication-lag histogram, in microseconds: finer between 1 and
/// 50 ms, where its percentiles are read against a 50 ms target.
const LAG_BUCKETS_US: [u64; 15] = [
    500, 1_000, 2_000, 3_000, 5_000, 7_500, 10_000, 15_000, 20_000, 30_000, 40_000, 50_000, 100_000, 250_000, 1_000_000,
];

/// Upper bounds of the sojourn histogram, in microseconds: fine below 50 ms, where the
/// front door's targets are, and up to the seconds a stampede can make a request wait.
pub(crate) const SOJOURN_BUCKETS_US: [u64; 16] = [
    50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 20_000, 50_000, 100_000, 250_000, 500_000, 1_000_000, 2_500_000,
    5_000_000,
];

pub(crate) struct Histogram<const N: usize> {
    buckets: [AtomicU64; N],
    count: AtomicU64,
    sum: AtomicU64,
}

impl<const N: usize> Default for Histogram<N> {
    fn default() -> Self {
        Histogram {
            buckets: std::array::from_fn(|_| AtomicU64::new(0)),
            count: AtomicU64::new(0),
            sum: AtomicU64::new(0),
        }
    }
}

impl<const N: usize> Histogram<N> {
    fn observe(&self, bounds: &[u64; N], value: u64) {
        if let Some(i) = bounds.iter().position(|&b| value <= b) {
            self.buckets[i].fetch_add(1, Relaxed);
        }
        self.count.fetch_add(1, Relaxed);
        self.sum.fetch_add(value, Relaxed);
    }

    /// `per_unit`: how many of the observed values make one of the rendered unit (1e6
    /// microseconds to a second); dividing keeps bounds such as 50 us exact (`5e-5`).
    fn render(&self, out: &mut String, name: &str, bounds: &[u64; N], per_unit: f64) {
        let mut cumulative = 0;
        for (bucket, bound) in self.buckets.iter().zip(bounds) {
            cumulative += bucket.load(Relaxed);
            let _ = writeln!(out, "{name}_bucket{{le=\"{}\"}} {cumulative}", *bound as f64 / per_unit);
        }
        let count = self.count.load(Relaxed);
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {count}");
        let _ = writeln!(out, "{name}_sum {}", self.sum.load(Relaxed) as f64 / per_unit);
        let _ = writeln!(out, "{name}_count {count}");
    }
}

/// What the write pipeline reports at a scrape, on the node that writes: read by the
/// pipeline (`pipeline::Handle::gauges`) and handed in, so that metrics imports nothing
/// and every part of the server may write into it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct WriterGauges {
    /// Log entries not yet in the tables.
    pub(crate) lag_commands: u64,
    /// Age of the oldest log entry not yet in the tables.
    pub(crate) lag_age: Duration,
    /// Whether the store takes writes now.
    pub(crate) writes_accepted: bool,
}

/// Why the front door refused a request or a connection: the `reason` label of
/// `murphy_shed_total`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Shed {
    /// A request that waited past what its class may while a queue stood, or past
    /// `sojourn_time_max`.
    Sojourn,
    /// A write while the write queue is full or its writes wait past `queue_wait_time_max`.
    Queue,
    /// A connection past `connections_max`.
    Connections,
    /// A connection past its address's share.
    AddressShare,
    /// A request on a connection past its student's share.
    StudentShare,
    /// A connection closed unanswered: the budget for answering refused connections
    /// was spent.
    Unanswered,
}

impl Shed {
    const ALL: [Shed; 6] = [
        Shed::Sojourn,
        Shed::Queue,
        Shed::Connections,
        Shed::AddressShare,
        Shed::StudentShare,
        Shed::Unanswered,
    ];

    fn label(self) -> &'static str {
        match self {
            Shed::Sojourn => "sojourn",
            Shed::Queue => "queue",
            Shed::Connections => "connections",
            Shed::AddressShare => "address_share",
            Shed::StudentShare => "student_share",
            Shed::Unanswered => "unanswered",
        }
    }
}

#[derive(Default)]
pub(crate) struct Metrics {
    /// HTTP responses by status class: 1xx..5xx at index 0..4.
    responses: [AtomicU64; 5],
    pub(crate) commands_applied: AtomicU64,
    /// Refusals of the front door, by `Shed` (its order in `Shed::ALL`).
    shed: [AtomicU64; Shed::ALL.len()],
    /// Write requests sent to the loop minus those it has taken: the queue depth.
    pub(crate) queue_enqueued: AtomicU64,
    pub(crate) queue_dequeued: AtomicU64,
    /// How long the last write the loop took had waited in its queue, in microseconds.
    pub(crate) queue_wait_us: AtomicU64,
    /// Each request's wait from the arrival of its bytes to murphy starting on it.
    sojourn_us: Histogram<16>,
    batch_commands: Histogram<12>,
    commit_us: Histogram<12>,
    loop_lag_us: Histogram<12>,
    materialize_us: Histogram<12>,
    materialized_rows: AtomicU64,
    materializer_wait_us: AtomicU64,
    /// The waiting room, after its last tick: students waiting, admitted and active,
    /// the admission set point (thousandths of a student per second), the places
    /// admitted through.
    line_waiting: AtomicU64,
    line_active: AtomicU64,
    line_rate_milli: AtomicU64,
    line_admitted_through: AtomicU64,
    sessions_live: AtomicU64,
    /// Writes to live streams, and the events they carried.
    stream_writes: AtomicU64,
    stream_events: AtomicU64,
    sessions_expired: AtomicU64,
    primary: AtomicU64,
    epoch: AtomicU64,
    replication_behind: AtomicU64,
    replication_lag_us: Histogram<15>,
}

impl Metrics {
    pub(crate) fn response(&self, status: u16) {
        let class = usize::from(status / 100).clamp(1, 5) - 1;
        self.responses[class].fetch_add(1, Relaxed);
    }

    pub(crate) fn shed(&self, why: Shed) {
        let i = Shed::ALL
            .iter()
            .position(|&s| s == why)
            .expect("every reason is listed");
        self.shed[i].fetch_add(1, Relaxed);
    }

    /// Write requests sent to the loop that it has not taken yet.
    pub(crate) fn queue_depth(&self) -> u64 {
        self.queue_enqueued
            .load(Relaxed)
            .saturating_sub(self.queue_dequeued.load(Relaxed))
    }

    /// A request's sojourn: from its bytes' arrival to the front door.
    pub(crate) fn sojourn(&self, waited_us: u64) {
        self.sojourn_us.observe(&SOJOURN_BUCKETS_US, waited_us);
    }

    /// The waiting room after a tick.
    pub(crate) fn line(&self, waiting: u64, active: u32, rate_per_s: f64, admitted_through: u64) {
        self.line_waiting.store(waiting, Relaxed);
        self.line_active.store(u64::from(active), Relaxed);
        self.line_rate_milli.store((rate_per_s * 1000.0) as u64, Relaxed);
        self.line_admitted_through.store(admitted_through, Relaxed);
    }

    pub(crate) fn batch(&self, commands: u64, commit: Duration, lag: Duration) {
        self.batch_commands.observe(&BATCH_BUCKETS, commands);
        self.commit_us.observe(&TIME_BUCKETS_US, commit.as_micros() as u64);
        self.loop_lag_us.observe(&TIME_BUCKETS_US, lag.as_micros() as u64);
        self.commands_applied.fetch_add(commands, Relaxed);
    }

    /// The session table's size after a batch: (live, expired).
    pub(crate) fn sessions(&self, (live, expired): (usize, usize)) {
        self.sessions_live.store(live as u64, Relaxed);
        self.sessions_expired.store(expired as u64, Relaxed);
    }

    /// One materializer step: `rows` written in `took`.
    pub(crate) fn materialized(&self, rows: u64, took: Duration) {
        self.materialize_us.observe(&TIME_BUCKETS_US, took.as_micros() as u64);
        self.materialized_rows.fetch_add(rows, Relaxed);
    }

    /// Time the committer waited for the materializer to catch up before an append.
    pub(crate) fn materializer_wait(&self, waited: Duration) {
        if !waited.is_zero() {
            self.materializer_wait_us.fetch_add(waited.as_micros() as u64, Relaxed);
        }
    }

    /// The Prometheus text of every series; `writer` is the write pipeline, on the
    /// primary (its materializer's lag, whether the store takes writes).
    /// After each turn of the cluster manager: the role, and the lease's epoch.
    pub(crate) fn role(&self, primary: bool, epoch: u64) {
        self.primary.store(u64::from(primary), Relaxed);
        self.epoch.store(epoch, Relaxed);
    }

    pub(crate) fn replication_behind_commands(&self) -> u64 {
        self.replication_behind.load(Relaxed)
    }

    /// A secondary's follower: log entries it has yet to apply.
    pub(crate) fn replication_behind(&self, commands: u64) {
        self.replication_behind.store(commands, Relaxed);
    }

    /// A secondary's follower: from an append's commit (by the database's clock) to the
    /// publication here of the state that holds it; one sample per append.
    pub(crate) fn replication_lag(&self, lag: Duration) {
        self.replication_lag_us
            .observe(&LAG_BUCKETS_US, lag.as_micros().min(u128::from(u64::MAX)) as u64);
    }

    fn render_cluster(&self, out: &mut String) {
        let gauges = [
            (
                "murphy_primary",
                "1 while this node is the primary.",
                self.primary.load(Relaxed),
            ),
            (
                "murphy_lease_epoch",
                "The primary's lease epoch, as this node knows it.",
                self.epoch.load(Relaxed),
            ),
            (
                "murphy_replication_behind_commands",
                "Log entries this secondary has yet to apply.",
                self.replication_behind.load(Relaxed),
            ),
        ];
        for (name, help, value) in gauges {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}");
        }
        out.push_str(
            "# HELP murphy_replication_lag_seconds Per append: from its commit on the database to its publication here.\n",
        );
        out.push_str("# TYPE murphy_replication_lag_seconds histogram\n");
        self.replication_lag_us
            .render(out, "murphy_replication_lag_seconds", &LAG_BUCKETS_US, 1e6);
    }

    /// One write to a live stream, carrying `events`.
    pub(crate) fn stream_write(&self, events: u64) {
        self.stream_writes.fetch_add(1, Relaxed);
        self.stream_events.fetch_add(events, Relaxed);
    }

    /// The Prometheus text of every metric; `writer`, on the node that writes, the
    /// pipeline's gauges read at this moment.
    pub(crate) fn render(&self, writer: Option<WriterGauges>) -> String {
        let mut out = String::with_capacity(4096);
        out.push_str("# TYPE murphy_http_responses_total counter\n");
        for (i, count) in self.responses.iter().enumerate() {
            let _ = writeln!(
                out,
                "murphy_http_responses_total{{class=\"{}xx\"}} {}",
                i + 1,
                count.load(Relaxed)
            );
        }
        let counters = [
            ("murphy_commands_applied_total", &self.commands_applied),
            ("murphy_stream_writes_total", &self.stream_writes),
            ("murphy_stream_events_total", &self.stream_events),
        ];
        for (name, value) in counters {
            let _ = writeln!(out, "# TYPE {name} counter\n{name} {}", value.load(Relaxed));
        }
        out.push_str("# HELP murphy_shed_total Requests and connections the front door refused, by why.\n");
        out.push_str("# TYPE murphy_shed_total counter\n");
        for (why, count) in Shed::ALL.iter().zip(&self.shed) {
            let _ = writeln!(
                out,
                "murphy_shed_total{{reason=\"{}\"}} {}",
                why.label(),
                count.load(Relaxed)
            );
        }
        let depth = self.queue_depth();
        let _ = writeln!(
            out,
            "# TYPE murphy_queue_depth_requests gauge\nmurphy_queue_depth_requests {depth}"
        );
        out.push_str(
            "# HELP murphy_request_sojourn_seconds Each request's wait, from when the kernel received its bytes \
             to when murphy started on it.\n# TYPE murphy_request_sojourn_seconds histogram\n",
        );
        self.sojourn_us
            .render(&mut out, "murphy_request_sojourn_seconds", &SOJOURN_BUCKETS_US, 1e6);
        out.push_str(
            "# HELP murphy_batch_commands Commands per group commit.\n# TYPE murphy_batch_commands histogram\n",
        );
        self.batch_commands
            .render(&mut out, "murphy_batch_commands", &BATCH_BUCKETS, 1.0);
        out.push_str("# HELP murphy_commit_seconds One append of a group of batches to the log, fsync included.\n");
        out.push_str("# TYPE murphy_commit_seconds histogram\n");
        self.commit_us
            .render(&mut out, "murphy_commit_seconds", &TIME_BUCKETS_US, 1e6);
        out.push_str("# HELP murphy_loop_lag_seconds How long a batch's oldest request waited for the loop.\n");
        out.push_str("# TYPE murphy_loop_lag_seconds histogram\n");
        self.loop_lag_us
            .render(&mut out, "murphy_loop_lag_seconds", &TIME_BUCKETS_US, 1e6);
        if let Some(writer) = writer {
            self.render_materializer(&mut out, &writer);
            out.push_str("# HELP murphy_writes_accepted 1 while the store takes writes, 0 while it refuses them.\n");
            let accepted = u8::from(writer.writes_accepted);
            let _ = writeln!(
                out,
                "# TYPE murphy_writes_accepted gauge\nmurphy_writes_accepted {accepted}"
            );
        }
        self.render_cluster(&mut out);
        self.render_line(&mut out);
        out.push_str("# HELP murphy_sessions Exactly-once sessions held, by state.\n# TYPE murphy_sessions gauge\n");
        let _ = writeln!(
            out,
            "murphy_sessions{{state=\"live\"}} {}",
            self.sessions_live.load(Relaxed)
        );
        let _ = writeln!(
            out,
            "murphy_sessions{{state=\"expired\"}} {}",
            self.sessions_expired.load(Relaxed)
        );
        out
    }

    fn render_line(&self, out: &mut String) {
        let gauges = [
            (
                "murphy_line_waiting_students",
                "Students holding a place in the waiting room.",
                self.line_waiting.load(Relaxed) as f64,
            ),
            (
                "murphy_line_active_students",
                "Admitted students active (who wrote within the idle limit).",
                self.line_active.load(Relaxed) as f64,
            ),
            (
                "murphy_line_admit_rate_per_second",
                "The admission control loop's set point, students per second.",
                self.line_rate_milli.load(Relaxed) as f64 / 1000.0,
            ),
            (
                "murphy_line_admitted_through_place",
                "Places in line up to this one are admitted.",
                self.line_admitted_through.load(Relaxed) as f64,
            ),
        ];
        for (name, help, value) in gauges {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}");
        }
    }

    fn render_materializer(&self, out: &mut String, writer: &WriterGauges) {
        out.push_str("# HELP murphy_materializer_lag_commands Log entries not yet in the tables.\n");
        let _ = writeln!(
            out,
            "# TYPE murphy_materializer_lag_commands gauge\nmurphy_materializer_lag_commands {}",
            writer.lag_commands
        );
        out.push_str("# HELP murphy_materializer_lag_seconds Age of the oldest log entry not yet in the tables.\n");
        let _ = writeln!(
            out,
            "# TYPE murphy_materializer_lag_seconds gauge\nmurphy_materializer_lag_seconds {}",
            writer.lag_age.as_secs_f64()
        );
        out.push_str("# HELP murphy_materialize_seconds One materializer step (one transaction).\n");
        out.push_str("# TYPE murphy_materialize_seconds histogram\n");
        self.materialize_us
            .render(out, "murphy_materialize_seconds", &TIME_BUCKETS_US, 1e6);
        let counters = [
            (
                "murphy_materialized_rows_total",
                self.materialized_rows.load(Relaxed) as f64,
            ),
            (
                "murphy_materializer_wait_seconds_total",
                self.materializer_wait_us.load(Relaxed) as f64 * 1e-6,
            ),
        ];
        for (name, value) in counters {
            let _ = writeln!(out, "# TYPE {name} counter\n{name} {value}");
        }
    }
}

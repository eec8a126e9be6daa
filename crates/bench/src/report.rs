//! What a run looks like to a person: the table of answered requests and latencies,
//! the outcomes named by command ("drop → dropped" is a drop that worked, not a
//! dropped request), the retries, and the requests never answered, told apart by
//! whether the server may have applied them. And the same over time, as SVG plots.

use std::fmt::Write as _;
use std::path::PathBuf;

use crate::plot;
use crate::stats::{self, Summary};
use crate::{Model, Options, Report};

/// The run's first line, printed before setup starts, so a log shows what is running
/// from the start.
pub fn header(options: &Options) -> String {
    format!(
        "murphy bench: {}, {}, {} connections for {:.0} s, against {}\n",
        options.scenario,
        model_words(options.model),
        options.connections,
        options.duration.as_secs_f64(),
        options.url
    )
}

fn model_words(model: Model) -> String {
    match model {
        Model::Closed => "closed model".to_owned(),
        Model::Open { rate_per_s } => format!("open model at {rate_per_s} req/s"),
    }
}

/// The human summary of a report (after `header`).
pub fn render(report: &Report) -> String {
    let mut out = String::new();
    setup_note(&mut out, report);
    let _ = writeln!(out, "ran {:.1} s", report.elapsed_s);
    table(&mut out, report);
    for (name, summary) in [("writes", &report.writes), ("reads", &report.reads)] {
        if let Some(s) = summary {
            details(&mut out, name, s);
        }
    }
    if let Some(cpu) = report.server_cpu_s {
        let _ = writeln!(
            out,
            "\nserver CPU: {cpu:.2} s over {:.1} s ({:.0}% of a core)",
            report.elapsed_s,
            100.0 * cpu / report.elapsed_s.max(1e-9)
        );
    }
    if let Some(w) = &report.watchers {
        let _ = writeln!(
            out,
            "watchers: {} connected ({} failed); per watcher {:.2} events/s, {:.0} bytes/s; \
             commit-to-watcher delay p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms ({} events timed)",
            w.connected,
            w.failed,
            w.events_per_s_per_watcher,
            w.bytes_per_s_per_watcher,
            w.delay_p50_ms,
            w.delay_p99_ms,
            w.delay_max_ms,
            w.delays_measured
        );
    }
    let _ = writeln!(out, "\n{}", verdict(report));
    out
}

fn setup_note(out: &mut String, report: &Report) {
    let s = &report.setup;
    let _ = writeln!(
        out,
        "setup: created {} sections and {} students",
        s.sections_created, s.students_created
    );
    if s.reused_any() {
        let _ = writeln!(
            out,
            "setup: reused {} sections and {} students of an earlier run (--reuse): their seats \
             were sized and taken by that run",
            s.sections_reused, s.students_reused
        );
    }
}

fn table(out: &mut String, report: &Report) {
    let summaries = [("writes", &report.writes), ("reads", &report.reads)];
    // Commands per second differ from requests per second only when requests carry
    // several commands; otherwise the column would repeat its neighbour.
    let batched = summaries
        .iter()
        .any(|(_, s)| s.as_ref().is_some_and(|s| s.commands > 0 && s.commands != s.answered));
    let commands_head = if batched {
        format!(" {:>11}", "commands/s")
    } else {
        String::new()
    };
    let _ = writeln!(
        out,
        "\n{:<7} {:>10} {:>11}{commands_head} {:>8} {:>8} {:>8} {:>9} {:>8}",
        "", "answered", "answered/s", "p50 ms", "p90 ms", "p99 ms", "p99.9 ms", "max ms"
    );
    for (name, summary) in summaries {
        let Some(s) = summary else { continue };
        let l = &s.latency_ms;
        // Reads carry no commands: a dash, not a rate of 0 that looks like a failure.
        let commands = match (batched, s.commands) {
            (false, _) => String::new(),
            (true, 0) => format!(" {:>11}", "-"),
            (true, _) => format!(" {:>11.0}", s.commands_per_s),
        };
        let _ = writeln!(
            out,
            "{name:<7} {:>10} {:>11.0}{commands} {:>8.2} {:>8.2} {:>8.2} {:>9.2} {:>8.2}",
            s.answered, s.answered_per_s, l.p50, l.p90, l.p99, l.p999, l.max
        );
    }
}

fn details(out: &mut String, name: &str, s: &Summary) {
    let answers = if name == "writes" {
        "by command → outcome"
    } else {
        "by status"
    };
    let _ = write!(out, "\n{name} answered, {answers}:\n{}", column(&s.outcomes));
    if let Some(l) = &s.answering_attempt_ms {
        let _ = writeln!(
            out,
            "{name}' answering attempts: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms from the attempt's send",
            l.p50, l.p99, l.max
        );
    }
    if let Some(shed) = &s.shed {
        let l = &shed.latency_ms;
        let _ = writeln!(
            out,
            "{name} shed with 503: {} answers, in p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms from the attempt's send{}",
            shed.answers,
            l.p50,
            l.p99,
            l.max,
            match shed.without_retry_after {
                0 => String::new(),
                n => format!("; {n} without Retry-After"),
            }
        );
    }
    if !s.retried.is_empty() {
        let again = if name == "writes" {
            " (the same session seq again)"
        } else {
            ""
        };
        let _ = write!(out, "{name} retried{again}, by cause:\n{}", column(&s.retried));
    }
    if !s.unanswered.is_empty() {
        let _ = write!(out, "{name} never answered:\n{}", column(&s.unanswered));
        if name == "writes" && s.given_up() > 0 {
            let _ = writeln!(
                out,
                "  (each one given up before the run's end ended its student's session; the \
                 student went on in a new one)"
            );
        }
    }
}

/// Counts one a line, the largest first, the numbers aligned.
fn column(counts: &std::collections::BTreeMap<String, u64>) -> String {
    let mut items: Vec<(&String, &u64)> = counts.iter().collect();
    items.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    let name_width = items.iter().map(|(k, _)| k.chars().count()).max().unwrap_or(0);
    let count_width = items.iter().map(|(_, v)| v.to_string().len()).max().unwrap_or(0);
    items
        .iter()
        .map(|(k, v)| format!("  {k:<name_width$}  {v:>count_width$}\n"))
        .collect()
}

fn verdict(report: &Report) -> String {
    let (n, unknown) = (report.unanswered(), report.unknown());
    if n == 0 {
        return "unanswered: none".into();
    }
    let shed = n - report.failures();
    let shed = if shed > 0 {
        format!(" ({shed} of them shed with 503 and waiting to retry when the run ended)")
    } else {
        String::new()
    };
    let applied = if unknown == 0 {
        "none of them applied".to_owned()
    } else {
        format!(
            "{unknown} of them with an unknown outcome (murphy may have applied them; the \
             history records them so, for murphy check)"
        )
    };
    format!("unanswered: {n} requests{shed}, {applied}")
}

/// Latency percentiles over time and throughput over time, as two SVG files.
pub fn plots(report: &Report, dir: &std::path::Path) -> std::io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let mut written = Vec::new();
    for (name, summary) in [("writes", &report.writes), ("reads", &report.reads)] {
        let Some(s) = summary else { continue };
        let points =
            |f: &dyn Fn(&stats::Second) -> f64| s.per_second.iter().map(|p| (f64::from(p.second), f(p))).collect();
        let latency = plot::line_plot(
            &format!("{name}: latency over time"),
            "seconds",
            "milliseconds",
            &[
                plot::Series {
                    name: "p50",
                    color: "#1f77b4",
                    points: points(&|p| p.p50_ms),
                },
                plot::Series {
                    name: "p99",
                    color: "#d62728",
                    points: points(&|p| p.p99_ms),
                },
            ],
        );
        let throughput = plot::line_plot(
            &format!("{name}: throughput over time"),
            "seconds",
            "answered requests per second",
            &[plot::Series {
                name: "req/s",
                color: "#2ca02c",
                points: points(&|p| p.requests as f64),
            }],
        );
        for (kind, svg) in [("latency", latency), ("throughput", throughput)] {
            let path = dir.join(format!("{name}-{kind}.svg"));
            std::fs::write(&path, svg)?;
            written.push(path);
        }
    }
    Ok(written)
}

//! SVG plots of the runs, written by hand (a plot here is two axes, a few polylines,
//! dots and a marker or two, which needs no plotting library): blocking against offered
//! load beside the Erlang B curve, traffic over time around a destruction, survival
//! against redundancy.

use std::fmt::Write;

use crate::baran::BaranReport;
use crate::circuit::{CircuitReport, OneLinkReport};
use crate::erlang::erlang_b;
use crate::packet::PacketReport;

const WIDTH: f64 = 900.0;
const HEIGHT: f64 = 400.0;
const MARGIN: f64 = 60.0;
/// Room at the right for the legend, outside the axes so it never hides a line.
const LEGEND: f64 = 210.0;
const COLORS: [&str; 6] = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#555555"];

/// One line (or set of dots) on a plot.
struct Series {
    name: String,
    color: &'static str,
    points: Vec<(f64, f64)>,
    /// Dots at the points (measurements) rather than a line (theory, time series).
    dots: bool,
}

struct Plot<'a> {
    title: &'a str,
    x_label: &'a str,
    y_label: &'a str,
    series: Vec<Series>,
    /// Vertical lines with a label, such as a kill.
    markers: Vec<(f64, String)>,
    /// Where the x axis starts (0 unless the data only make sense from elsewhere).
    x_min: f64,
}

impl Plot<'_> {
    /// The title and the axes' names.
    fn labels(&self, svg: &mut String) {
        let _ = write!(
            svg,
            r#"<text x="{}" y="24" text-anchor="middle" font-size="15">{}</text>"#,
            WIDTH / 2.0,
            escape(self.title)
        );
        let _ = write!(
            svg,
            r#"<text x="{}" y="{}" text-anchor="middle">{}</text><text x="16" y="{}" text-anchor="middle" transform="rotate(-90 16 {})">{}</text>"#,
            (WIDTH - LEGEND) / 2.0,
            HEIGHT - 14.0,
            escape(self.x_label),
            HEIGHT / 2.0,
            HEIGHT / 2.0,
            escape(self.y_label)
        );
    }

    fn render(&self) -> String {
        let xs = self.series.iter().flat_map(|s| s.points.iter().map(|p| p.0));
        let x_max = xs.chain(self.markers.iter().map(|m| m.0)).fold(0.0, f64::max).max(1e-9);
        let y_max = self
            .series
            .iter()
            .flat_map(|s| s.points.iter().map(|p| p.1))
            .fold(0.0, f64::max)
            .max(1e-9)
            * 1.1;
        let x_min = self.x_min.min(x_max);
        let span = (x_max - x_min).max(1e-9);
        let x = |v: f64| MARGIN + (v - x_min) / span * (WIDTH - LEGEND - 2.0 * MARGIN);
        let y = |v: f64| HEIGHT - MARGIN - v / y_max * (HEIGHT - 2.0 * MARGIN);
        let mut svg = String::new();
        let _ = write!(
            svg,
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" font-family="sans-serif" font-size="12"><rect width="100%" height="100%" fill="white"/>"#
        );
        self.labels(&mut svg);
        axes(&mut svg, (x(x_min), y(0.0), x(x_max), y(y_max)), (x_min, x_max), y_max);
        for (at, label) in &self.markers {
            let _ = write!(
                svg,
                r##"<line x1="{0:.1}" x2="{0:.1}" y1="{1:.1}" y2="{2:.1}" stroke="#000" stroke-dasharray="4 3"/><text x="{3:.1}" y="{4:.1}">{5}</text>"##,
                x(*at),
                y(0.0),
                y(y_max),
                x(*at) + 4.0,
                y(y_max) + 12.0,
                escape(label)
            );
        }
        for (i, s) in self.series.iter().enumerate() {
            draw(&mut svg, s, &x, &y);
            legend(&mut svg, i, s);
        }
        svg.push_str("</svg>\n");
        svg
    }
}

/// The `i`-th entry of the legend, right of the axes: a dot for measurements, a bar
/// for lines.
fn legend(svg: &mut String, i: usize, s: &Series) {
    let (lx, ly) = (WIDTH - LEGEND, MARGIN + 18.0 * i as f64);
    let key = if s.dots {
        format!(
            r#"<circle cx="{}" cy="{}" r="3.5" fill="{}"/>"#,
            lx + 6.0,
            ly - 3.0,
            s.color
        )
    } else {
        format!(
            r#"<rect x="{lx}" y="{}" width="12" height="4" fill="{}"/>"#,
            ly - 5.0,
            s.color
        )
    };
    let _ = write!(
        svg,
        r#"{key}<text x="{}" y="{ly}">{}</text>"#,
        lx + 18.0,
        escape(&s.name)
    );
}

fn axes(svg: &mut String, (x0, y0, x1, y1): (f64, f64, f64, f64), (x_min, x_max): (f64, f64), y_max: f64) {
    let _ = write!(
        svg,
        r#"<path d="M{x0},{y1} L{x0},{y0} L{x1},{y0}" stroke="black" fill="none"/>"#
    );
    // Whole steps on a short whole-number axis (redundancy 1 to 4), else quarters.
    let range = x_max - x_min;
    let ticks = if range.fract() == 0.0 && (1.0..=8.0).contains(&range) {
        range as u32
    } else {
        4
    };
    for i in 0..=ticks {
        let f = f64::from(i) / f64::from(ticks);
        let (xv, px) = (x_min + range * f, x0 + (x1 - x0) * f);
        let _ = write!(
            svg,
            r#"<text x="{px:.1}" y="{}" text-anchor="middle">{}</text>"#,
            y0 + 18.0,
            short(xv)
        );
    }
    for i in 0..=4 {
        let f = f64::from(i) / 4.0;
        let (yv, py) = (y_max * f, y0 + (y1 - y0) * f);
        let _ = write!(
            svg,
            r##"<text x="{}" y="{:.1}" text-anchor="end">{}</text><line x1="{x0}" x2="{x1}" y1="{py:.1}" y2="{py:.1}" stroke="#ddd"/>"##,
            x0 - 6.0,
            py + 4.0,
            short(yv)
        );
    }
}

fn draw(svg: &mut String, s: &Series, x: &impl Fn(f64) -> f64, y: &impl Fn(f64) -> f64) {
    if s.dots {
        for &(px, py) in &s.points {
            let _ = write!(
                svg,
                r#"<circle cx="{:.1}" cy="{:.1}" r="3.5" fill="{}"/>"#,
                x(px),
                y(py),
                s.color
            );
        }
        return;
    }
    let points: Vec<String> = s
        .points
        .iter()
        .map(|&(px, py)| format!("{:.1},{:.1}", x(px), y(py)))
        .collect();
    let _ = write!(
        svg,
        r#"<polyline points="{}" stroke="{}" stroke-width="2" fill="none"/>"#,
        points.join(" "),
        s.color
    );
}

fn short(v: f64) -> String {
    if v >= 10_000.0 {
        format!("{:.0}k", v / 1000.0)
    } else if v >= 10.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// Simulated blocking (dots) against the Erlang B curve (line), per trunk count.
pub fn blocking(points: &[OneLinkReport]) -> String {
    let mut trunks: Vec<u32> = points.iter().map(|p| p.trunks).collect();
    trunks.dedup();
    let mut series = Vec::new();
    for (i, &n) in trunks.iter().enumerate() {
        let mine: Vec<&OneLinkReport> = points.iter().filter(|p| p.trunks == n).collect();
        let a_max = mine.iter().map(|p| p.erlangs).fold(0.0, f64::max);
        let curve = (0..=100)
            .map(|k| a_max * f64::from(k) / 100.0)
            .map(|a| (a, erlang_b(n, a)));
        series.push(Series {
            name: format!("Erlang B, N = {n}"),
            color: COLORS[i % COLORS.len()],
            points: curve.collect(),
            dots: false,
        });
        series.push(Series {
            name: format!("simulated, N = {n}"),
            color: COLORS[i % COLORS.len()],
            points: mine.iter().map(|p| (p.erlangs, p.blocking)).collect(),
            dots: true,
        });
    }
    Plot {
        title: "Circuit switching: calls blocked on one link of N trunks",
        x_label: "offered load (erlangs)",
        y_label: "fraction of calls blocked",
        series,
        markers: Vec::new(),
        x_min: 0.0,
    }
    .render()
}

/// Calls talking over time, with the kills marked.
pub fn circuit_series(report: &CircuitReport) -> String {
    Plot {
        title: "Circuit switching: calls in progress",
        x_label: "simulated time (s)",
        y_label: "calls talking",
        series: vec![Series {
            name: "calls talking".into(),
            color: COLORS[0],
            points: report.series.iter().map(|s| (s.t_s, s.active_calls as f64)).collect(),
            dots: false,
        }],
        markers: report
            .kills
            .iter()
            .map(|k| (k.at_s, format!("{} dies", k.target)))
            .collect(),
        x_min: 0.0,
    }
    .render()
}

/// Throughput of the watched transfers and of everything, over time, kills marked.
pub fn packet_series(report: &PacketReport) -> String {
    let interval = report.series.get(1).map_or(1.0, |p| p.t_s).max(1e-9);
    let rate = |kib: f64| kib * 1024.0 * 8.0 / 1e6 / interval;
    let watched = report
        .transfers
        .iter()
        .map(|t| format!("{} to {}", t.from, t.to))
        .collect::<Vec<_>>();
    Plot {
        title: "Packet switching: data handed to applications",
        x_label: "simulated time (s)",
        y_label: "Mbit/s",
        series: vec![
            Series {
                name: "all messages".into(),
                color: COLORS[5],
                points: report.series.iter().map(|s| (s.t_s, rate(s.delivered_kib))).collect(),
                dots: false,
            },
            Series {
                name: watched.join(", "),
                color: COLORS[1],
                points: report.series.iter().map(|s| (s.t_s, rate(s.transfers_kib))).collect(),
                dots: false,
            },
        ],
        markers: report
            .kills
            .iter()
            .map(|k| (k.at_s, format!("{} dies", k.target)))
            .collect(),
        x_min: 0.0,
    }
    .render()
}

/// Surviving pairs still connected against redundancy, one line per p.
pub fn survival(report: &BaranReport) -> String {
    let mut ps: Vec<f64> = report.points.iter().map(|p| p.p).filter(|&p| p > 0.0).collect();
    ps.sort_by(f64::total_cmp);
    ps.dedup();
    let series = ps
        .iter()
        .enumerate()
        .map(|(i, &p)| Series {
            name: format!("p = {p}"),
            color: COLORS[i % COLORS.len()],
            points: report
                .points
                .iter()
                .filter(|x| x.p == p)
                .filter_map(|x| x.redundancy.map(|r| (f64::from(r), x.connected_pairs_fraction)))
                .collect(),
            dots: false,
        })
        .collect();
    Plot {
        title: "Baran's lattices: survivors still connected, nodes destroyed with probability p",
        x_label: "redundancy level (links per node)",
        y_label: "fraction of surviving pairs connected",
        series,
        markers: Vec::new(),
        x_min: 1.0,
    }
    .render()
}

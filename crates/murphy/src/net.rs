//! `murphy net`: the flags of the network simulations, and the glue to `murphy-netsim`
//! (run with a progress bar, then print a table or JSON and write the plots).

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use murphy_netsim::baran::{self, BaranConfig};
use murphy_netsim::circuit::{self, CircuitConfig, Traffic};
use murphy_netsim::kill::{Destruction, RandomKill, parse_time};
use murphy_netsim::packet::{self, PacketConfig, Transfer};
use murphy_netsim::registration::{self, Architecture, RegistrationConfig, Workload};
use murphy_netsim::{MILLISECOND, Nanos, Network, plot, render};

#[derive(Args)]
pub struct NetArgs {
    #[command(subcommand)]
    command: NetCommand,
}

#[derive(Subcommand)]
enum NetCommand {
    /// Circuit switching: one link of --trunks against Erlang B, or calls over the network.
    Circuit(CircuitArgs),
    /// Packet switching over the network: a watched transfer, background messages, kills.
    Packet(PacketArgs),
    /// Baran's lattices of redundancy 1 to 4 with nodes destroyed at random.
    Baran(BaranArgs),
    /// Registration day over the network: client-server, primary/secondary, two peer-to-peer.
    Registration(RegistrationArgs),
    /// The network: its links, lengths, delays, trunks and bandwidths (checks a --network file).
    Map {
        /// A network file (JSON, shaped as crates/netsim/data/us.json) instead of the US one.
        #[arg(long, env = "MURPHY_NETWORK")]
        network: Option<PathBuf>,
    },
}

/// Flags every simulation takes.
#[derive(Args)]
struct Common {
    /// The seed: the same seed and flags give the same run and the same JSON.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Print the report as JSON instead of a table.
    #[arg(long)]
    json: bool,
    /// Write SVG plots into this directory.
    #[arg(long)]
    plot: Option<PathBuf>,
    /// A network file (JSON, shaped as crates/netsim/data/us.json) instead of the US one.
    #[arg(long, env = "MURPHY_NETWORK")]
    network: Option<PathBuf>,
}

/// Flags that destroy things. Times are `30s`, `1.5s`, `200ms` or `2m`.
#[derive(Args)]
struct Kills {
    /// Destroy a city or a link at a time: Chicago@30s, Chicago-Cleveland@1.5s (repeatable).
    #[arg(long = "kill", value_name = "WHAT@TIME")]
    kill: Vec<String>,
    /// Destroy each city with this probability, at --kill-p-at.
    #[arg(long)]
    kill_p: Option<f64>,
    /// When the cities of --kill-p are destroyed.
    #[arg(long, default_value = "0s", value_parser = parse_time)]
    kill_p_at: Nanos,
    /// Cut every link across a meridian: -98@30s splits east from west (repeatable).
    #[arg(long, value_name = "LONGITUDE@TIME", allow_hyphen_values = true)]
    partition: Vec<String>,
}

impl Kills {
    fn destruction(&self, net: &Network) -> anyhow::Result<Destruction> {
        let random = self.kill_p.map(|p| RandomKill { p, at: self.kill_p_at });
        Ok(Destruction::parse(net, &self.kill, random)?.with_partitions(&self.partition)?)
    }
}

pub fn run(args: NetArgs) -> anyhow::Result<()> {
    match args.command {
        NetCommand::Circuit(a) if !a.trunks.is_empty() => one_link_cmd(&a),
        NetCommand::Circuit(a) => circuit_cmd(a),
        NetCommand::Packet(a) => packet_cmd(a),
        NetCommand::Baran(a) => baran_cmd(a),
        NetCommand::Registration(a) => registration_cmd(a),
        NetCommand::Map { network: path } => {
            print!("{}", render::network(&network(path.as_deref())?));
            Ok(())
        }
    }
}

/// The network a run is over, as its table names it.
fn network_name(common: &Common) -> String {
    match &common.network {
        None => "the US network".to_owned(),
        Some(path) => path.display().to_string(),
    }
}

fn network(path: Option<&Path>) -> anyhow::Result<Network> {
    let Some(p) = path else { return Ok(Network::us()) };
    let text = std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
    Network::from_json(&text).with_context(|| format!("in {}", p.display()))
}

type Progress<'a> = &'a mut dyn FnMut(f64);

/// Runs a simulation under a progress bar on stderr (hidden for --json, and by
/// indicatif when stderr is not a terminal); the simulation reports the fraction done.
fn with_bar<T>(common: &Common, run: impl FnOnce(Progress) -> Result<T, murphy_netsim::Error>) -> anyhow::Result<T> {
    let bar = if common.json {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(1000)
    };
    let style = ProgressStyle::with_template("{elapsed:>4} [{bar:40}] {percent}%").expect("a valid template");
    bar.set_style(style.progress_chars("=> "));
    let report = run(&mut |f| bar.set_position((f * 1000.0) as u64));
    bar.finish_and_clear();
    Ok(report?)
}

/// Prints the report (its JSON for --json, else its table) after writing its plots.
fn emit(
    common: &Common,
    json: serde_json::Result<String>,
    table: String,
    plots: &[(&str, String)],
) -> anyhow::Result<()> {
    if let Some(dir) = &common.plot {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        for (name, svg) in plots {
            let path = dir.join(name);
            std::fs::write(&path, svg).with_context(|| format!("writing {}", path.display()))?;
            eprintln!("plot: {}", path.display());
        }
    }
    if common.json {
        println!("{}", json?);
    } else {
        print!("{table}");
    }
    Ok(())
}

#[derive(Args)]
struct CircuitArgs {
    #[command(flatten)]
    common: Common,
    /// Simulate one link of this many trunks (comma-separated with --sweep).
    #[arg(long, value_delimiter = ',')]
    trunks: Vec<u32>,
    /// Offered load on the one link, in erlangs.
    #[arg(long)]
    erlangs: Option<f64>,
    /// Sweep the offered load on the link from 0.2 N to 2 N erlangs.
    #[arg(long)]
    sweep: bool,
    /// Calls offered to the one link, per point.
    #[arg(long, default_value_t = 300_000)]
    calls: u64,
    /// Network: calls offered per second, all cities together.
    #[arg(long, default_value_t = 8.0)]
    calls_per_s: f64,
    /// Network: mean holding time of a call, in seconds.
    #[arg(long, default_value_t = 120.0)]
    holding_s: f64,
    /// Network: how long to simulate.
    #[arg(long, default_value = "600s", value_parser = parse_time)]
    duration: Nanos,
    /// Network: calls arriving before this are not counted.
    #[arg(long, default_value = "120s", value_parser = parse_time)]
    warmup: Nanos,
    /// Network: the longest circuit, in links.
    #[arg(long, default_value_t = 10)]
    path_links_max: usize,
    /// Network: the interval of the time series.
    #[arg(long, default_value = "10s", value_parser = parse_time)]
    sample: Nanos,
    #[command(flatten)]
    kills: Kills,
}

fn circuit_cmd(a: CircuitArgs) -> anyhow::Result<()> {
    anyhow::ensure!(a.erlangs.is_none() && !a.sweep, "--erlangs and --sweep need --trunks");
    let net = network(a.common.network.as_deref())?;
    let config = CircuitConfig {
        traffic: Traffic::Gravity,
        calls_per_s: a.calls_per_s,
        holding_s: a.holding_s,
        duration: a.duration,
        warmup: a.warmup,
        path_links_max: a.path_links_max,
        destruction: a.kills.destruction(&net)?,
        sample: a.sample,
        seed: a.common.seed,
    };
    let r = with_bar(&a.common, |p| circuit::run(&net, &config, p))?;
    let plots = [("circuit-calls.svg", plot::circuit_series(&r))];
    let table = render::circuit_setup(&network_name(&a.common), &net, &config) + &render::circuit(&r);
    emit(&a.common, serde_json::to_string_pretty(&r), table, &plots)
}

fn one_link_cmd(a: &CircuitArgs) -> anyhow::Result<()> {
    let loads: Vec<(u32, f64)> = if a.sweep {
        let tenths = |n: u32| (2..=20).map(move |t| (n, f64::from(n) * f64::from(t) / 10.0));
        a.trunks.iter().flat_map(|&n| tenths(n)).collect()
    } else {
        anyhow::ensure!(a.trunks.len() == 1, "one --trunks value, or --sweep");
        vec![(a.trunks[0], a.erlangs.context("--trunks needs --erlangs (or --sweep)")?)]
    };
    let points = with_bar(&a.common, |progress| {
        let share = 1.0 / loads.len() as f64;
        let point = |(i, &(n, erlangs)): (usize, &(u32, f64))| {
            let mut done = |f: f64| progress((i as f64 + f) * share);
            circuit::one_link(n, erlangs, a.calls, a.common.seed + i as u64, &mut done)
        };
        loads.iter().enumerate().map(point).collect::<Result<Vec<_>, _>>()
    })?;
    let plots = [("blocking.svg", plot::blocking(&points))];
    let table = render::one_link(&points);
    // The fixed shape for scripts: one point is one object, a sweep an array.
    let json = match points.as_slice() {
        [one] => serde_json::to_string_pretty(one),
        all => serde_json::to_string_pretty(all),
    };
    emit(&a.common, json, table, &plots)
}

#[derive(Args)]
struct PacketArgs {
    #[command(flatten)]
    common: Common,
    /// The watched transfer: from this city...
    #[arg(long, default_value = "Los Angeles")]
    from: String,
    /// ... to this one ...
    #[arg(long, default_value = "Boston")]
    to: String,
    /// ... of this many KiB (0: none), starting at --start.
    #[arg(long, default_value_t = 4096)]
    kib: u64,
    /// When the watched transfer starts.
    #[arg(long, default_value = "0s", value_parser = parse_time)]
    start: Nanos,
    /// Background messages between cities drawn by population.
    #[arg(long, default_value_t = 200)]
    messages: u64,
    /// The size of each background message, in KiB.
    #[arg(long, default_value_t = 64)]
    message_kib: u64,
    /// Background messages in flight at once.
    #[arg(long, default_value_t = 8)]
    concurrent: usize,
    /// The payload of a packet, in bytes (Baran's were about a kibibyte).
    #[arg(long, default_value_t = 1024)]
    packet_bytes: u32,
    /// Packets a sender may have unacknowledged.
    #[arg(long, default_value_t = 64)]
    window: u32,
    /// Packets a link direction queues before it drops.
    #[arg(long, default_value_t = 128)]
    queue_packets_max: u32,
    /// How often a router tells its neighbours it is alive.
    #[arg(long, default_value = "50ms", value_parser = parse_time)]
    heartbeat: Nanos,
    /// A neighbour unheard this long is declared dead.
    #[arg(long, default_value = "150ms", value_parser = parse_time)]
    dead_after: Nanos,
    /// Stop here even if messages are left.
    #[arg(long, default_value = "600s", value_parser = parse_time)]
    duration_max: Nanos,
    /// The interval of the delivered-traffic series.
    #[arg(long, default_value = "100ms", value_parser = parse_time)]
    sample: Nanos,
    /// Say the simulator's own speed: wall-clock time and events per second (in the JSON
    /// too, which then differs run to run).
    #[arg(long)]
    timing: bool,
    #[command(flatten)]
    kills: Kills,
}

fn packet_cmd(a: PacketArgs) -> anyhow::Result<()> {
    let net = network(a.common.network.as_deref())?;
    let mut transfers = Vec::new();
    if a.kib > 0 {
        let (from, to) = (net.city(&a.from)?, net.city(&a.to)?);
        let bytes = a.kib * 1024;
        transfers.push(Transfer {
            from,
            to,
            bytes,
            start: a.start,
        });
    }
    let config = PacketConfig {
        transfers,
        messages: a.messages,
        message_bytes: a.message_kib * 1024,
        concurrent: a.concurrent,
        packet_bytes: a.packet_bytes,
        window_packets_max: a.window,
        queue_packets_max: a.queue_packets_max,
        heartbeat: a.heartbeat,
        dead_after: a.dead_after,
        duration_max: a.duration_max,
        destruction: a.kills.destruction(&net)?,
        sample: a.sample,
        seed: a.common.seed,
        ..PacketConfig::default()
    };
    let started = Instant::now();
    let r = with_bar(&a.common, |p| packet::run(&net, &config, p))?;
    let wall_s = started.elapsed().as_secs_f64();
    let events_per_s = (r.events as f64 / wall_s.max(1e-9)).round();
    let mut json = serde_json::to_value(&r)?;
    // The simulator's own speed only when asked: what happened to the traffic is the news.
    if a.timing {
        json["wall_s"] = wall_s.into();
        json["events_per_s"] = events_per_s.into();
        if !a.common.json {
            eprintln!("{} events in {wall_s:.3} s: {:.2} M/s", r.events, events_per_s / 1e6);
        }
    }
    let json = serde_json::to_string_pretty(&json);
    let plots = [("packet-delivered.svg", plot::packet_series(&r))];
    emit(&a.common, json, render::packet(&r), &plots)
}

#[derive(Args)]
struct BaranArgs {
    #[command(flatten)]
    common: Common,
    /// The lattice is SIDE x SIDE nodes.
    #[arg(long, default_value_t = 18)]
    side: usize,
    /// Redundancy levels to compare, comma-separated (1: a spanning tree; 2: the square grid;
    /// 3: one diagonal more; 4: both diagonals, eight neighbours).
    #[arg(long, value_delimiter = ',', default_value = "1,2,3,4")]
    redundancy: Vec<u8>,
    /// Probabilities of destruction (the network file's cities are destroyed too).
    #[arg(long, value_delimiter = ',', default_value = "0,0.1,0.2,0.3,0.4,0.5,0.6")]
    p: Vec<f64>,
    /// Random destructions drawn per probability and redundancy.
    #[arg(long, default_value_t = 200)]
    trials: u32,
}

fn baran_cmd(a: BaranArgs) -> anyhow::Result<()> {
    let net = network(a.common.network.as_deref())?;
    let config = BaranConfig {
        side: a.side,
        redundancies: a.redundancy,
        probabilities: a.p,
        trials: a.trials,
        seed: a.common.seed,
        keep_trials: false,
    };
    let r = with_bar(&a.common, |p| baran::run(&config, Some(&net), p))?;
    let plots = [("survival.svg", plot::survival(&r))];
    emit(&a.common, serde_json::to_string_pretty(&r), render::baran(&r), &plots)
}

#[derive(Args)]
struct RegistrationArgs {
    #[command(flatten)]
    common: Common,
    /// Architectures to run, comma-separated: client-server, primary-secondary, peer-naive,
    /// peer-escrow (all four by default).
    #[arg(long, value_delimiter = ',')]
    architecture: Vec<Architecture>,
    /// The server's city (and the primary's).
    #[arg(long, default_value = "Los Angeles")]
    server: String,
    /// The secondaries' cities, comma-separated (they serve reads; peers sit in them too).
    #[arg(long, value_delimiter = ',', default_value = "New York,Chicago,Houston,Denver")]
    secondaries: Vec<String>,
    /// Students enrolling, spread over the cities by population.
    #[arg(long, default_value_t = 5000)]
    students: usize,
    /// Sections in the catalog.
    #[arg(long, default_value_t = 100)]
    sections: usize,
    /// Seats per section.
    #[arg(long, default_value_t = 40)]
    seats: u32,
    /// Sections ten times as wanted as the others.
    #[arg(long, default_value_t = 5)]
    hot: usize,
    /// Sections on each student's preference list.
    #[arg(long, default_value_t = 4)]
    preferences: usize,
    /// Appointments spread over this long from the opening.
    #[arg(long, default_value = "2s", value_parser = parse_time)]
    spread: Nanos,
    /// Students enroll without reading the seat count first.
    #[arg(long)]
    no_reads: bool,
    /// A request unanswered this long is refused for lack of reach.
    #[arg(long, default_value = "5s", value_parser = parse_time)]
    timeout: Nanos,
    #[command(flatten)]
    kills: Kills,
}

fn registration_cmd(a: RegistrationArgs) -> anyhow::Result<()> {
    let net = network(a.common.network.as_deref())?;
    let mut config = RegistrationConfig::new(net.city(&a.server)?, a.students);
    config.secondaries = a.secondaries.iter().map(|c| net.city(c)).collect::<Result<_, _>>()?;
    if !a.architecture.is_empty() {
        config.architectures = a.architecture;
    }
    config.workload = Workload::Generated {
        students: a.students,
        sections: a.sections,
        seats: a.seats,
        hot: a.hot,
        preferences: a.preferences,
        spread: a.spread,
    };
    config.reads = !a.no_reads;
    config.timeout = a.timeout.max(MILLISECOND);
    config.destruction = a.kills.destruction(&net)?;
    config.seed = a.common.seed;
    let r = with_bar(&a.common, |p| registration::run(&net, &config, p))?;
    let json = serde_json::to_string_pretty(&r);
    emit(&a.common, json, render::registration(&r), &[])
}

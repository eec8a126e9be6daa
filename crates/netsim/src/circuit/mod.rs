//! Circuit switching, as the phone network did it: a call arrives (Poisson), its central
//! office finds a path of links with a free trunk on every one, reserves them all for
//! the whole call (exponential holding time), and frees them when the call ends. A call
//! is blocked when no such path exists, and dropped when a city or link on its path dies.

mod model;

use serde::Serialize;

use crate::erlang::erlang_b;
use crate::kill::Destruction;
use crate::network::Network;
use crate::sim::{self, Nanos, SECOND, nanos, seconds};
use crate::{Error, check};

/// Where calls come from and go to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Traffic {
    /// Between two different cities, each drawn by population (a gravity model).
    Gravity,
    /// From city 0 to city 1 only: the single trunk group of the Erlang formula.
    OneLink,
}

#[derive(Clone, Debug)]
pub struct CircuitConfig {
    pub traffic: Traffic,
    /// Offered calls per simulated second, over the whole network.
    pub calls_per_s: f64,
    pub holding_s: f64,
    pub duration: Nanos,
    /// Calls arriving before this are carried but not counted: the network starts
    /// empty, and an empty network blocks less than one in its steady state.
    pub warmup: Nanos,
    /// The longest path a call may take, in links: a long detour ties up trunks on many
    /// links for one call, so exchanges limited how far they would search.
    pub path_links_max: usize,
    pub destruction: Destruction,
    /// The interval of the time series.
    pub sample: Nanos,
    pub seed: u64,
}

/// What happened to the calls counted (those arriving after the warm-up).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct CircuitReport {
    pub offered: u64,
    pub blocked: u64,
    /// Calls whose path was lost to a kill while they talked.
    pub dropped: u64,
    /// Calls that ended normally.
    pub completed: u64,
    /// Calls still talking when the run ended.
    pub in_progress: u64,
    /// Calls not offered because one end's city was destroyed.
    pub to_dead_city: u64,
    pub blocking: f64,
    /// Average trunks busy (carried load), over all links, after the warm-up.
    pub carried_erlangs: f64,
    /// Average links per carried call.
    pub path_links_mean: f64,
    pub kills: Vec<KillReport>,
    pub series: Vec<Sample>,
    pub events: u64,
    pub events_in_flight_peak: usize,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct KillReport {
    pub target: String,
    pub at_s: f64,
    /// Calls talking just before the kill, and how many of them used the dead part.
    pub active_calls: u64,
    pub dropped_calls: u64,
}

/// One interval of the time series.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Sample {
    pub t_s: f64,
    pub active_calls: u64,
    pub blocked: u64,
    pub dropped: u64,
}

/// Runs circuit switching over `net`. `progress` hears the fraction done.
pub fn run(net: &Network, config: &CircuitConfig, progress: &mut dyn FnMut(f64)) -> Result<CircuitReport, Error> {
    let positive = |x: f64| x > 0.0 && x.is_finite();
    check(positive(config.calls_per_s), "the call rate must be positive")?;
    check(positive(config.holding_s), "the holding time must be positive")?;
    check(config.sample > 0, "the sample interval must be positive")?;
    check(config.path_links_max >= 1, "a circuit may use at least one link")?;
    let kills = config.destruction.resolve(net, config.seed);
    let mut model = model::Circuits::new(net, config, kills);
    let mut queue = sim::Queue::new(model.events_in_flight_max());
    model.start(&mut queue);
    let until = config.duration;
    sim::run(&mut model, &mut queue, until, &mut |_, t| {
        progress(t as f64 / until.max(1) as f64)
    });
    Ok(model.report(&queue))
}

/// One link of `trunks` trunks offered `erlangs` erlangs: the shape `murphy net circuit
/// --trunks N --erlangs A` prints, with the formula beside the simulation.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct OneLinkReport {
    pub trunks: u32,
    pub erlangs: f64,
    pub seed: u64,
    /// Calls counted (after a warm-up of ten holding times).
    pub calls: u64,
    pub blocked: u64,
    /// The fraction of calls blocked.
    pub blocking: f64,
    /// What the Erlang B formula says it should be.
    pub erlang_b: f64,
    /// Busy trunks on average; theory says `erlangs * (1 - erlang_b)`.
    pub carried_erlangs: f64,
    pub events: u64,
}

/// Simulates `calls` calls (holding time one second, mean) on one link.
pub fn one_link(
    trunks: u32,
    erlangs: f64,
    calls: u64,
    seed: u64,
    progress: &mut dyn FnMut(f64),
) -> Result<OneLinkReport, Error> {
    check(
        erlangs > 0.0 && erlangs.is_finite(),
        "the offered load must be positive",
    )?;
    check(
        trunks > 0 && calls > 0,
        "a link has a trunk or more, and a run a call or more",
    )?;
    let warmup = 10 * SECOND;
    let config = CircuitConfig {
        traffic: Traffic::OneLink,
        calls_per_s: erlangs,
        holding_s: 1.0,
        duration: warmup + nanos(calls as f64 / erlangs),
        warmup,
        path_links_max: 1,
        destruction: Destruction::default(),
        sample: warmup + nanos(calls as f64 / erlangs) + 1,
        seed,
    };
    let report = run(&Network::one_link(trunks), &config, progress)?;
    Ok(OneLinkReport {
        trunks,
        erlangs,
        seed,
        calls: report.offered,
        blocked: report.blocked,
        blocking: report.blocking,
        erlang_b: erlang_b(trunks, erlangs),
        carried_erlangs: report.carried_erlangs,
        events: report.events,
    })
}

impl KillReport {
    fn new(net: &Network, kill: &crate::kill::Kill) -> KillReport {
        KillReport {
            target: kill.name(net),
            at_s: seconds(kill.at),
            active_calls: 0,
            dropped_calls: 0,
        }
    }
}

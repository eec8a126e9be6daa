//! Registration day over the network, in the lecture's architectures: students in every
//! city enroll in sections with capacities, and each architecture decides where the
//! seats are counted.
//!
//! - client-server: one server city holds every section; every request goes there.
//! - primary/secondary: writes go to the primary; reads go to the nearest replica
//!   (secondaries follow the primary's writes by message, so a read there can be stale).
//! - peer-to-peer, naive: every city's peer enrolls on its own copy and tells every other
//!   peer; two peers can give away the same last seat before hearing of each other.
//! - peer-to-peer with escrow (Barbara and Garcia-Molina's demarcation protocol, O'Neil's
//!   escrow method): each peer holds a quota of each section's seats and enrolls only
//!   against it; a peer out of quota asks the others, nearest first, for half of theirs.
//!   Seats are never in two places, so it never overbooks, partitioned or not.
//!
//! Messages between cities take the shortest live path's delay (plus a processing
//! time per hop), decided when sent; a message to a dead city, or with no live path, is
//! lost, and whoever waits for an answer gives up after a timeout.

mod central;
mod model;
mod peers;
mod workload;

use serde::Serialize;

use crate::kill::Destruction;
use crate::network::Network;
use crate::sim::{self, MILLISECOND, Nanos, SECOND};
use crate::stats::Percentiles;
use crate::{Error, check};

pub use workload::Student;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Architecture {
    ClientServer,
    PrimarySecondary,
    PeerNaive,
    PeerEscrow,
}

impl Architecture {
    pub const ALL: [Architecture; 4] = [
        Architecture::ClientServer,
        Architecture::PrimarySecondary,
        Architecture::PeerNaive,
        Architecture::PeerEscrow,
    ];

    /// Its name in reports and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Architecture::ClientServer => "client-server",
            Architecture::PrimarySecondary => "primary-secondary",
            Architecture::PeerNaive => "peer-naive",
            Architecture::PeerEscrow => "peer-escrow",
        }
    }
}

impl std::str::FromStr for Architecture {
    type Err = Error;

    fn from_str(name: &str) -> Result<Architecture, Error> {
        Architecture::ALL.into_iter().find(|a| a.name() == name).ok_or_else(|| {
            let names: Vec<&str> = Architecture::ALL.iter().map(|a| a.name()).collect();
            Error::BadConfig(format!("no architecture {name:?}: one of {}", names.join(", ")))
        })
    }
}

/// Who registers: generated from the network's populations, or given one by one.
#[derive(Clone, Debug)]
pub enum Workload {
    Generated {
        students: usize,
        sections: usize,
        seats: u32,
        /// The first `hot` sections are ten times as wanted as the rest.
        hot: usize,
        preferences: usize,
        /// Appointments are spread evenly over this long from the opening.
        spread: Nanos,
    },
    Given {
        capacities: Vec<u32>,
        students: Vec<Student>,
    },
}

#[derive(Clone, Debug)]
pub struct RegistrationConfig {
    pub architectures: Vec<Architecture>,
    pub workload: Workload,
    /// The client-server server, and the primary.
    pub server: usize,
    pub secondaries: Vec<usize>,
    /// Whether a student reads a section's seats before trying to enroll in it.
    pub reads: bool,
    /// A student's own link to its city's node, one way.
    pub access: Nanos,
    /// Processing per hop, added to each link's propagation delay.
    pub hop: Nanos,
    /// A request unanswered this long is refused for lack of reach.
    pub timeout: Nanos,
    /// An escrow peer waits this long for a quota answer before asking the next peer.
    pub ask_timeout: Nanos,
    /// Requests an escrow peer holds per section while it asks for quota.
    pub pending_requests_max: usize,
    pub destruction: Destruction,
    pub seed: u64,
}

impl RegistrationConfig {
    /// A registration day of `students` students over `net`, the server in `server`.
    pub fn new(server: usize, students: usize) -> RegistrationConfig {
        RegistrationConfig {
            architectures: Architecture::ALL.to_vec(),
            workload: Workload::Generated {
                students,
                sections: 100,
                seats: 40,
                hot: 5,
                preferences: 4,
                spread: 2 * SECOND,
            },
            server,
            secondaries: Vec::new(),
            reads: true,
            access: MILLISECOND,
            hop: 100 * sim::MICROSECOND,
            timeout: 5 * SECOND,
            ask_timeout: 200 * MILLISECOND,
            pending_requests_max: 1024,
            destruction: Destruction::default(),
            seed: 1,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RegistrationReport {
    pub students: usize,
    pub sections: usize,
    pub seats: u64,
    pub server: String,
    pub secondaries: Vec<String>,
    pub kills: Vec<String>,
    pub architectures: Vec<ArchitectureReport>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ArchitectureReport {
    pub architecture: &'static str,
    /// Reads and enroll attempts sent, answered, and refused for lack of reach.
    pub requests: u64,
    pub answered: u64,
    pub unreached: u64,
    pub enrolled: u64,
    /// Enroll attempts answered "full".
    pub full: u64,
    /// Reads whose answer differed from the authoritative count at that moment.
    pub stale_reads: u64,
    /// Latency of answered requests.
    pub latency: Percentiles,
    /// Seats given beyond capacity, summed over sections, and how many sections.
    pub overbooked_seats: u64,
    pub overbooked_sections: u64,
    /// Seats no one was given (with escrow: some held where nobody could ask).
    pub seats_left: u64,
    /// Every message between nodes, students' requests and answers included.
    pub messages: u64,
    /// Per section: the capacity, the seats given, the most any node believed given.
    #[serde(skip)]
    pub sections: Vec<SectionCheck>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SectionCheck {
    pub capacity: u32,
    pub granted: u32,
    pub view_max: u32,
}

/// The most (peer, section) pairs a run may hold state for: bounds its memory.
pub const PEER_SECTIONS_MAX: usize = 1 << 24;

/// Runs every architecture in `config` over the same students and the same kills.
pub fn run(
    net: &Network,
    config: &RegistrationConfig,
    progress: &mut dyn FnMut(f64),
) -> Result<RegistrationReport, Error> {
    check(
        config.timeout > 0 && config.ask_timeout > 0,
        "timeouts must be positive",
    )?;
    let cities = net.cities.len();
    check(
        config.server < cities && config.secondaries.iter().all(|&c| c < cities),
        "the server and the secondaries are cities of the network",
    )?;
    let (capacities, students) = workload::build(net, &config.workload, config.seed)?;
    // Each peer keeps a count, a quota and a queue per section.
    check(
        capacities.len().saturating_mul(cities) <= PEER_SECTIONS_MAX,
        "too many sections for this many cities (sections x cities is at most 2^24)",
    )?;
    let kills = config.destruction.resolve(net, config.seed);
    let mut architectures = Vec::new();
    for (i, &arch) in config.architectures.iter().enumerate() {
        let mut m = model::Registrar::new(net, config, arch, &capacities, &students, &kills);
        let mut queue = sim::Queue::new(m.events_in_flight_max());
        m.start(&mut queue);
        sim::run(&mut m, &mut queue, Nanos::MAX, &mut |_, _| {});
        architectures.push(m.report());
        progress((i + 1) as f64 / config.architectures.len() as f64);
    }
    Ok(RegistrationReport {
        students: students.len(),
        sections: capacities.len(),
        seats: capacities.iter().map(|&c| u64::from(c)).sum(),
        server: net.cities[config.server].name.clone(),
        secondaries: config.secondaries.iter().map(|&c| net.cities[c].name.clone()).collect(),
        kills: kills
            .iter()
            .map(|k| format!("{}@{}s", k.name(net), sim::seconds(k.at)))
            .collect(),
        architectures,
    })
}

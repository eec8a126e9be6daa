//! murphy net: the lecture's networks and architectures, simulated.
//!
//! A deterministic discrete-event simulator ([`sim`]: a time-ordered queue of events,
//! one handler at a time, simulated time only) runs circuit switching ([`circuit`]),
//! packet switching with routers that build their own tables ([`packet`]), Baran's
//! distributed lattices under destruction ([`baran`]), and registration day over the
//! network in four architectures ([`registration`]), on a US network read from a file
//! ([`network`]). The same seed and configuration give the same run, event for event.

pub mod baran;
pub mod circuit;
mod erlang;
pub mod kill;
pub mod network;
pub mod packet;
pub mod registration;
mod rng;
pub mod sim;
mod stats;

pub use erlang::erlang_b;
pub use network::Network;
pub use stats::Percentiles;

/// What can be wrong with what a user asked for.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("the network file is not valid: {0}")]
    BadNetwork(String),
    #[error("unknown city {0:?}")]
    UnknownCity(String),
    #[error("bad kill {0:?}: {1}")]
    BadKill(String, String),
}

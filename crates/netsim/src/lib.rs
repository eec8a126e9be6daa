//! murphy net: the lecture's networks and architectures, simulated.
//!
//! A deterministic discrete-event simulator (`sim`: a time-ordered queue of events, one
//! handler at a time, simulated time only) runs circuit switching ([`circuit`]), packet
//! switching with routers that build their own tables ([`packet`]), Baran's distributed
//! lattices under destruction ([`baran`]), and registration day over the network in four
//! architectures ([`registration`]), on a US network read from a file ([`network`]).
//! The same seed and configuration give the same run, event for event, and the same
//! report, byte for byte. [`render`] prints the reports as tables, [`plot`] as SVG.

pub mod baran;
pub mod circuit;
mod erlang;
pub mod kill;
pub mod network;
pub mod packet;
pub mod plot;
pub mod registration;
pub mod render;
mod rng;
mod sim;
mod stats;

pub use erlang::erlang_b;
pub use network::Network;
pub use sim::{MILLISECOND, Nanos, SECOND, nanos};
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
    #[error("{0}")]
    BadConfig(String),
}

/// `Ok` if `ok`, else a [`Error::BadConfig`] saying `why`.
pub(crate) fn check(ok: bool, why: &str) -> Result<(), Error> {
    if ok {
        Ok(())
    } else {
        Err(Error::BadConfig(why.to_string()))
    }
}

//! The front door: what happens to a request before murphy's code proper sees it. Each
//! request's sojourn (its wait since its bytes reached the machine, `sojourn.rs`) is
//! measured as it comes in (`service.rs`, the hyper service in front of the router).

mod service;
pub mod sojourn;

pub use service::Front;

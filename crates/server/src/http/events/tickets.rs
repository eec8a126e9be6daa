//! Stream tickets: `POST /api/v1/events/ticket` trades the bearer token for a random,
//! single-use ticket that opens one stream within `stream_ticket_time_max`. A browser's
//! `EventSource` cannot send an `Authorization` header; with a ticket, the URL it
//! requests (and every log that records URLs) holds nothing that outlives a moment.
//! Tickets are kept as their digests, in memory, on the node that gave them: a stream
//! is opened on the node asked for its ticket.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::auth::{Principal, TokenHash, hash_token, new_token};
use crate::problem::{Code, Problem};

pub struct Tickets {
    kept: Mutex<HashMap<TokenHash, (Principal, Instant)>>,
    time_max: Duration,
    tickets_max: usize,
}

impl Tickets {
    pub fn new(time_max: Duration, tickets_max: usize) -> Tickets {
        Tickets {
            kept: Mutex::default(),
            time_max,
            tickets_max,
        }
    }

    pub fn time_max(&self) -> Duration {
        self.time_max
    }

    /// A new ticket for `principal`.
    pub fn give(&self, principal: Principal) -> Result<String, Problem> {
        let now = Instant::now();
        let mut kept = self.kept.lock().expect("not poisoned");
        if kept.len() >= self.tickets_max {
            kept.retain(|_, (_, until)| *until > now);
        }
        if kept.len() >= self.tickets_max {
            return Err(Problem::unavailable(
                Code::TooManyStreams,
                "the server holds as many unused stream tickets as it may; retry in a few seconds",
            ));
        }
        let ticket = new_token("evt_");
        kept.insert(hash_token(&ticket), (principal, now + self.time_max));
        Ok(ticket)
    }

    /// The principal of `ticket`, which is used up; `None` when it is unknown, used or
    /// expired.
    pub fn take(&self, ticket: &str) -> Option<Principal> {
        let (principal, until) = self.kept.lock().expect("not poisoned").remove(&hash_token(ticket))?;
        (until > Instant::now()).then_some(principal)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ticket_opens_once_and_not_after_its_time() {
        let tickets = Tickets::new(Duration::from_secs(30), 2);
        let ticket = tickets.give(Principal::Student("s1".into())).unwrap();
        assert_eq!(tickets.take(&ticket), Some(Principal::Student("s1".into())));
        assert_eq!(tickets.take(&ticket), None, "single-use");
        assert_eq!(tickets.take("evt_made_up"), None);
        let expired = Tickets::new(Duration::ZERO, 2);
        let ticket = expired.give(Principal::Admin).unwrap();
        assert_eq!(expired.take(&ticket), None, "expired");
        tickets.give(Principal::Admin).unwrap();
        tickets.give(Principal::Admin).unwrap();
        assert!(tickets.give(Principal::Admin).is_err(), "bounded");
    }
}

//! The waiting room's durable facts: the registration window the registrar opened, the
//! tickets the server may hand out, the draw that orders the pre-queue at the opening,
//! and how far admission has reached. Only counters: the server keeps who holds which
//! ticket in memory and in the signed passes it hands out, never a row per waiter, and
//! it reserves tickets and admits students in blocks, so the log holds a few entries a
//! second however long the line.
//!
//! Tickets number arrivals. Those handed out before the opening are the pre-queue:
//! at the opening the server draws a seed, and the tickets reserved until then are put
//! in a random order (`prequeue_places`), so arriving early or by script gains
//! nothing. Later tickets are places in arrival order. Admission moves through places.

use time::OffsetDateTime;

use crate::outcome::Outcome;

/// At most this many tickets in one window.
pub const LINE_TICKETS_MAX: u64 = 10_000_000;
/// At most this many students admitted and active at once.
pub const LINE_ACTIVE_MAX: u32 = 1_000_000;
/// Seeds are 63 bits: stores keep integers signed.
pub const LINE_SEED_MAX: u64 = i64::MAX as u64;

/// An open registration window and its line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Window {
    /// The LSN of the `open_line` that opened it. Passes name it: a pass of a closed
    /// window is no good in the next one.
    pub id: u64,
    pub opens_at: OffsetDateTime,
    /// Students admitted and active at once, at most.
    pub active_max: u32,
    /// Opened by the server itself under lasting overload (it closes it again when the
    /// line is empty and the overload over), not by the registrar.
    pub automatic: bool,
    /// Tickets reserved: numbers up to here may be handed out.
    pub tickets: u64,
    /// Set at the opening: the pre-queue and the seed of its order.
    pub start: Option<Start>,
    /// Places up to here are admitted.
    pub admitted: u64,
}

/// The opening's draw: tickets `1..=tickets` are the pre-queue, in the order `seed` makes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Start {
    pub seed: u64,
    pub tickets: u64,
}

impl Window {
    /// A ticket's place in line: `None` before the opening (the pre-queue has no order
    /// yet). `prequeue` is `prequeue_places(start.seed, start.tickets)`.
    pub fn place(&self, ticket: u64, prequeue: &[u32]) -> Option<u64> {
        let start = self.start?;
        if ticket <= start.tickets {
            debug_assert_eq!(prequeue.len() as u64, start.tickets);
            let index = usize::try_from(ticket.checked_sub(1)?).ok()?;
            prequeue.get(index).map(|&place| u64::from(place))
        } else {
            Some(ticket)
        }
    }

    pub fn check(&self) -> Result<(), String> {
        let fail = |what: &str| Err(format!("line {}: {what}", self.id));
        if self.admitted > self.tickets {
            return fail("admitted past the tickets reserved");
        }
        match self.start {
            None if self.admitted > 0 => fail("admitted before the opening"),
            Some(start) if start.tickets > self.tickets => fail("a pre-queue larger than the tickets"),
            _ if self.tickets > LINE_TICKETS_MAX => fail("more tickets than a window may have"),
            _ => Ok(()),
        }
    }
}

/// What the line's commands change, given the window open now (if any).
pub(crate) fn open(
    window: &mut Option<Window>,
    lsn: u64,
    opens_at: OffsetDateTime,
    active_max: u32,
    automatic: bool,
) -> Outcome {
    match window {
        // Opened again: the limit changes, and the opening while it has not come.
        Some(open) => {
            open.active_max = active_max;
            if open.start.is_none() {
                open.opens_at = opens_at;
            }
            Outcome::LineOpened { window: open.id }
        }
        None => {
            *window = Some(Window {
                id: lsn,
                opens_at,
                active_max,
                automatic,
                tickets: 0,
                start: None,
                admitted: 0,
            });
            Outcome::LineOpened { window: lsn }
        }
    }
}

pub(crate) fn close(window: &mut Option<Window>) -> Outcome {
    match window.take() {
        Some(_) => Outcome::LineClosed,
        None => Outcome::NoLine,
    }
}

/// The server moves the line: more tickets, the opening's draw, admission further. Each
/// only forward; a draw once; admission within the tickets and only after the opening.
/// The draw orders the tickets reserved before this command, so a command that draws
/// and reserves at once keeps the new tickets out of the pre-queue.
pub(crate) fn advance(
    window: &mut Option<Window>,
    id: u64,
    tickets: Option<u64>,
    seed: Option<u64>,
    admitted: Option<u64>,
) -> Outcome {
    let Some(open) = window.as_mut().filter(|w| w.id == id) else {
        return Outcome::NoLine;
    };
    if let (Some(seed), None) = (seed, open.start) {
        open.start = Some(Start {
            seed,
            tickets: open.tickets,
        });
    }
    if let Some(tickets) = tickets {
        open.tickets = open.tickets.max(tickets.min(LINE_TICKETS_MAX));
    }
    if let (Some(admitted), Some(_)) = (admitted, open.start) {
        open.admitted = open.admitted.max(admitted.min(open.tickets));
    }
    Outcome::LineMoved {
        tickets: open.tickets,
        admitted: open.admitted,
    }
}

/// The pre-queue's places: the place (1-based) of ticket `i + 1` is `places[i]`, a
/// permutation of `1..=tickets` drawn from `seed` (Fisher-Yates over splitmix64). Pure:
/// the server, a restarted server and a secondary draw the same order from the logged
/// seed.
pub fn prequeue_places(seed: u64, tickets: u64) -> Vec<u32> {
    let n = u32::try_from(tickets.min(LINE_TICKETS_MAX)).expect("LINE_TICKETS_MAX fits");
    let mut places: Vec<u32> = (1..=n).collect();
    let mut state = seed;
    for i in (1..places.len()).rev() {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        // Lemire's multiply-shift: a number below i + 1, without division.
        let j = ((u128::from(z) * (i as u128 + 1)) >> 64) as usize;
        places.swap(i, j);
    }
    places
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at() -> OffsetDateTime {
        OffsetDateTime::UNIX_EPOCH
    }

    #[test]
    fn the_prequeue_draw_is_a_permutation_and_depends_on_the_seed() {
        for n in [0, 1, 2, 3, 10, 1000, 65_537] {
            let places = prequeue_places(42, n);
            let mut sorted = places.clone();
            sorted.sort_unstable();
            assert_eq!(sorted, (1..=n as u32).collect::<Vec<_>>(), "a permutation of 1..={n}");
            assert_eq!(places, prequeue_places(42, n), "the same seed, the same order");
        }
        assert_ne!(prequeue_places(1, 1000), prequeue_places(2, 1000));
        assert_ne!(prequeue_places(1, 1000), (1..=1000).collect::<Vec<u32>>());
    }

    #[test]
    fn every_ticket_is_as_likely_to_be_first() {
        // 4 tickets, 40,000 draws: each first about 10,000 times.
        let mut first = [0u32; 4];
        for seed in 0..40_000u64 {
            let places = prequeue_places(seed.wrapping_mul(0x2545_f491_4f6c_dd1d), 4);
            first[places.iter().position(|&p| p == 1).unwrap()] += 1;
        }
        for count in first {
            assert!((9_400..10_600).contains(&count), "{first:?}");
        }
    }

    #[test]
    fn the_line_moves_only_forward_and_admits_only_after_the_opening() {
        let mut line = None;
        assert_eq!(advance(&mut line, 7, Some(10), None, None), Outcome::NoLine);
        assert_eq!(open(&mut line, 7, at(), 100, false), Outcome::LineOpened { window: 7 });
        assert_eq!(
            advance(&mut line, 6, Some(10), None, None),
            Outcome::NoLine,
            "another window's"
        );
        advance(&mut line, 7, Some(1024), None, Some(5));
        assert_eq!(line.as_ref().unwrap().admitted, 0, "no admission before the draw");
        // The draw and a new block at once: the block is not in the pre-queue.
        let moved = advance(&mut line, 7, Some(2048), Some(99), None);
        assert_eq!(
            moved,
            Outcome::LineMoved {
                tickets: 2048,
                admitted: 0
            }
        );
        let window = line.clone().unwrap();
        assert_eq!(
            window.start,
            Some(Start {
                seed: 99,
                tickets: 1024
            })
        );
        let prequeue = prequeue_places(99, 1024);
        assert_eq!(
            window.place(1025, &prequeue),
            Some(1025),
            "after the opening, arrival order"
        );
        assert!(window.place(3, &prequeue).is_some_and(|p| p <= 1024));
        advance(&mut line, 7, Some(100), Some(5), Some(3000));
        let window = line.clone().unwrap();
        assert_eq!(
            (window.tickets, window.admitted),
            (2048, 2048),
            "forward only, within the tickets"
        );
        assert_eq!(window.start.unwrap().seed, 99, "drawn once");
        window.check().unwrap();
        assert_eq!(close(&mut line), Outcome::LineClosed);
        assert_eq!(close(&mut line), Outcome::NoLine);
    }
}

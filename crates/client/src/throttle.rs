//! Client-side adaptive throttling, as the Google SRE book describes it ("Handling
//! Overload"): each client counts, over a sliding window, the requests it wanted to
//! send and those the server accepted; once the server accepts much less than is asked
//! of it, the client refuses some requests itself, with probability
//!
//! ```text
//! max(0, (requests - K * accepts) / (requests + 1))
//! ```
//!
//! so an overloaded server is offered about `K` times what it can take, and spends
//! little on refusing the rest. A refusal the client makes itself counts as a request
//! and never as an accept, so the pressure falls as soon as the server accepts again.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How many times what the server accepts a client still sends (the book's K).
pub const THROTTLE_ACCEPTS_MULTIPLE: f64 = 2.0;
/// Below this many requests in the window a client never refuses one itself: a client
/// that asks this little cannot overload a server, and with a handful of counts the
/// formula refuses half of a lone retry after one lost answer.
pub const THROTTLE_REQUESTS_MIN: u32 = 20;
/// The window requests and accepts are counted over.
pub const THROTTLE_WINDOW: Duration = Duration::from_secs(60);
/// The window is kept in this many slices, the oldest dropped as time passes.
const SLICES: usize = 60;

/// A client's counts, shared by every clone of it.
#[derive(Debug)]
pub struct Throttle {
    inner: Mutex<Counts>,
    window: Duration,
}

#[derive(Debug)]
struct Counts {
    /// Requests and accepts per slice; `first` is the slice index of `slices[0]`.
    slices: [(u32, u32); SLICES],
    first: u64,
    started: Instant,
    /// The generator of draws (xorshift64*), seeded from the OS.
    state: u64,
}

impl Throttle {
    pub fn new(window: Duration) -> Throttle {
        let mut seed = [0u8; 8];
        getrandom::fill(&mut seed).expect("the OS gives random bytes");
        Throttle {
            inner: Mutex::new(Counts {
                slices: [(0, 0); SLICES],
                first: 0,
                started: Instant::now(),
                state: u64::from_le_bytes(seed) | 1,
            }),
            window: window.max(Duration::from_millis(SLICES as u64)),
        }
    }

    /// Whether to send a request now: `false` to refuse it here. Counts it either way.
    pub fn admit(&self, now: Instant) -> bool {
        let mut counts = self.inner.lock().expect("never poisoned");
        let slice = counts.advance(now, self.window);
        let (requests, accepts) = counts.totals();
        let reject = refused_share(requests, accepts);
        counts.slices[slice].0 += 1;
        counts.draw() >= reject
    }

    /// Counts a request the server accepted (answered anything but an overload).
    pub fn accepted(&self, now: Instant) {
        let mut counts = self.inner.lock().expect("never poisoned");
        let slice = counts.advance(now, self.window);
        counts.slices[slice].1 += 1;
    }

    /// The share of requests refused here now.
    pub fn reject_probability(&self, now: Instant) -> f64 {
        let mut counts = self.inner.lock().expect("never poisoned");
        counts.advance(now, self.window);
        let (requests, accepts) = counts.totals();
        refused_share(requests, accepts)
    }
}

/// The book's formula, past `THROTTLE_REQUESTS_MIN` requests.
fn refused_share(requests: u32, accepts: u32) -> f64 {
    if requests < THROTTLE_REQUESTS_MIN {
        return 0.0;
    }
    ((f64::from(requests) - THROTTLE_ACCEPTS_MULTIPLE * f64::from(accepts)) / (f64::from(requests) + 1.0)).max(0.0)
}

impl Default for Throttle {
    fn default() -> Self {
        Throttle::new(THROTTLE_WINDOW)
    }
}

impl Counts {
    /// Drops the slices that left the window; returns the index of `now`'s slice.
    fn advance(&mut self, now: Instant, window: Duration) -> usize {
        let slice_ns = (window.as_nanos() / SLICES as u128).max(1);
        let current = (now.saturating_duration_since(self.started).as_nanos() / slice_ns) as u64;
        let oldest = current.saturating_sub(SLICES as u64 - 1);
        while self.first < oldest {
            self.slices[(self.first % SLICES as u64) as usize] = (0, 0);
            self.first += 1;
        }
        (current % SLICES as u64) as usize
    }

    fn totals(&self) -> (u32, u32) {
        self.slices.iter().fold((0, 0), |(r, a), &(sr, sa)| (r + sr, a + sa))
    }

    /// Uniform in [0, 1).
    fn draw(&mut self) -> f64 {
        self.state ^= self.state >> 12;
        self.state ^= self.state << 25;
        self.state ^= self.state >> 27;
        (self.state.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_asking_little_is_never_throttled() {
        let throttle = Throttle::default();
        let now = Instant::now();
        for _ in 0..THROTTLE_REQUESTS_MIN {
            assert!(throttle.admit(now), "nothing accepted, but only a few asked");
        }
        assert!(throttle.reject_probability(now) > 0.9);
    }

    #[test]
    fn a_healthy_server_is_never_throttled() {
        let throttle = Throttle::default();
        let now = Instant::now();
        for _ in 0..1000 {
            assert!(throttle.admit(now));
            throttle.accepted(now);
        }
        assert_eq!(throttle.reject_probability(now), 0.0);
    }

    #[test]
    fn a_server_taking_a_tenth_is_offered_about_twice_that() {
        let throttle = Throttle::default();
        let now = Instant::now();
        let (mut sent, mut accepted, mut room) = (0u32, 0u32, 0u32);
        for i in 0..20_000u32 {
            // The server has room for one request for every ten wanted.
            if i % 10 == 0 {
                room += 1;
            }
            if throttle.admit(now) {
                sent += 1;
                if room > 0 {
                    room -= 1;
                    throttle.accepted(now);
                    accepted += 1;
                }
            }
        }
        let ratio = f64::from(sent) / f64::from(accepted.max(1));
        assert!(
            (1.7..2.6).contains(&ratio),
            "sent {sent} for {accepted} accepted: {ratio:.2}"
        );
    }

    #[test]
    fn the_counts_leave_the_window() {
        let throttle = Throttle::new(Duration::from_secs(60));
        let t0 = Instant::now();
        for _ in 0..100 {
            throttle.admit(t0);
        }
        assert!(throttle.reject_probability(t0) > 0.9);
        assert_eq!(throttle.reject_probability(t0 + Duration::from_secs(61)), 0.0);
    }
}

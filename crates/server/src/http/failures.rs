//! Failed authentications, counted per client address and slowed past a rate. A token
//! is 256 bits, so guessing one is hopeless, but a flood of guesses still costs the
//! server, and an operator should see who sends them. Each address has an allowance of
//! `auth_failures_per_address_per_minute_max` failures, refilled at that rate per minute
//! (a token bucket); while it is spent, every authentication from that address is
//! refused `429` before its token is looked at, so a right guess is no more visible
//! than a wrong one. The table is bounded: past `auth_failure_addresses_max` addresses,
//! those whose allowance is whole again are forgotten, and if none is, new addresses
//! share one allowance.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::net::IpAddr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

/// Addresses listed by name in `/metrics`, those with the most failures first.
const ADDRESSES_REPORTED_MAX: usize = 32;

/// The address of a request, put in its extensions by the front door.
#[derive(Clone, Copy, Debug)]
pub struct PeerAddr(pub std::net::SocketAddr);

pub struct AuthFailures {
    per_minute: f64,
    addresses_max: usize,
    table: Mutex<HashMap<Key, Allowance>>,
    failures: AtomicU64,
    refused: AtomicU64,
}

/// Whom an allowance belongs to: an address, or every address the table had no room for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Key {
    Address(IpAddr),
    Overflow,
}

struct Allowance {
    /// Failures still allowed now (at most `per_minute`).
    left: f64,
    updated: Instant,
    failures: u64,
}

impl AuthFailures {
    pub fn new(per_minute: u32, addresses_max: usize) -> AuthFailures {
        AuthFailures {
            per_minute: f64::from(per_minute.max(1)),
            addresses_max: addresses_max.max(1),
            table: Mutex::new(HashMap::new()),
            failures: AtomicU64::new(0),
            refused: AtomicU64::new(0),
        }
    }

    /// Whether an authentication from `peer` may be checked now; else how long until
    /// one may. An address never seen (or none: a request without a socket) may.
    pub fn admit(&self, peer: Option<IpAddr>) -> Result<(), Duration> {
        let Some(peer) = peer else { return Ok(()) };
        let mut table = self.lock();
        let key = match table.contains_key(&Key::Address(peer)) {
            true => Key::Address(peer),
            // A new address gets its own allowance, room permitting.
            false if table.len() < self.addresses_max => return Ok(()),
            false => Key::Overflow,
        };
        let Some(allowance) = table.get_mut(&key) else {
            return Ok(());
        };
        self.refill(allowance);
        if allowance.left >= 1.0 {
            return Ok(());
        }
        self.refused.fetch_add(1, Relaxed);
        let wait = (1.0 - allowance.left) * 60.0 / self.per_minute;
        Err(Duration::from_secs_f64(wait))
    }

    /// An authentication from `peer` failed: one less allowed.
    pub fn failed(&self, peer: Option<IpAddr>) {
        self.failures.fetch_add(1, Relaxed);
        let Some(peer) = peer else { return };
        let mut table = self.lock();
        let key = self.key_for(&mut table, peer);
        let now = Instant::now();
        let allowance = table.entry(key).or_insert(Allowance {
            left: self.per_minute,
            updated: now,
            failures: 0,
        });
        self.refill(allowance);
        allowance.left = (allowance.left - 1.0).max(0.0);
        allowance.failures += 1;
    }

    /// The counters in Prometheus text.
    pub fn render(&self, out: &mut String) {
        let mut by_address: Vec<(String, u64)> = self
            .lock()
            .iter()
            .map(|(key, a)| {
                let name = match key {
                    Key::Address(ip) => ip.to_string(),
                    Key::Overflow => "other".to_owned(),
                };
                (name, a.failures)
            })
            .collect();
        by_address.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        let _ = writeln!(
            out,
            "# HELP murphy_auth_failures_total Authentications refused 401 (a wrong token or session).\n\
             # TYPE murphy_auth_failures_total counter\nmurphy_auth_failures_total {}",
            self.failures.load(Relaxed)
        );
        let _ = writeln!(
            out,
            "# HELP murphy_auth_failures_refused_total Authentications refused 429 unchecked, the address past \
             its rate of failures.\n# TYPE murphy_auth_failures_refused_total counter\n\
             murphy_auth_failures_refused_total {}",
            self.refused.load(Relaxed)
        );
        let _ = writeln!(
            out,
            "# HELP murphy_auth_failures_by_address_total Failed authentications of the addresses remembered now, \
             the {ADDRESSES_REPORTED_MAX} with the most.\n# TYPE murphy_auth_failures_by_address_total counter"
        );
        for (address, failures) in by_address.iter().take(ADDRESSES_REPORTED_MAX) {
            let _ = writeln!(
                out,
                "murphy_auth_failures_by_address_total{{address=\"{address}\"}} {failures}"
            );
        }
    }

    /// The key `peer`'s failures go under: its own, room permitting.
    fn key_for(&self, table: &mut HashMap<Key, Allowance>, peer: IpAddr) -> Key {
        let key = Key::Address(peer);
        if table.contains_key(&key) || table.len() < self.addresses_max {
            return key;
        }
        // Forget the addresses forgiven by now (their allowance is whole again).
        table.retain(|k, a| {
            *k == Key::Overflow || a.left + minutes(a.updated.elapsed()) * self.per_minute < self.per_minute
        });
        if table.len() < self.addresses_max {
            key
        } else {
            Key::Overflow
        }
    }

    fn refill(&self, allowance: &mut Allowance) {
        let now = Instant::now();
        let gained = minutes(now - allowance.updated) * self.per_minute;
        allowance.left = (allowance.left + gained).min(self.per_minute);
        allowance.updated = now;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Key, Allowance>> {
        self.table.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn minutes(d: Duration) -> f64 {
    d.as_secs_f64() / 60.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(last: u8) -> Option<IpAddr> {
        Some(IpAddr::from([10, 0, 0, last]))
    }

    #[test]
    fn an_address_past_its_allowance_waits_and_others_do_not() {
        let failures = AuthFailures::new(3, 100);
        for _ in 0..3 {
            assert!(failures.admit(ip(1)).is_ok());
            failures.failed(ip(1));
        }
        let wait = failures.admit(ip(1)).unwrap_err();
        assert!(
            wait > Duration::from_secs(15) && wait <= Duration::from_secs(20),
            "{wait:?}"
        );
        assert!(failures.admit(ip(2)).is_ok());
        assert!(failures.admit(None).is_ok());
        let mut text = String::new();
        failures.render(&mut text);
        assert!(
            text.contains("murphy_auth_failures_by_address_total{address=\"10.0.0.1\"} 3"),
            "{text}"
        );
        assert!(text.contains("murphy_auth_failures_refused_total 1"), "{text}");
    }

    #[test]
    fn past_the_table_new_addresses_share_one_allowance() {
        let failures = AuthFailures::new(2, 2);
        failures.failed(ip(1));
        failures.failed(ip(2));
        failures.failed(ip(3));
        failures.failed(ip(4));
        assert!(failures.admit(ip(5)).is_err(), "the shared allowance is spent");
        assert!(failures.admit(ip(1)).is_ok(), "a remembered address keeps its own");
    }
}

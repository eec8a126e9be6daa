//! The primary's lease on the throwaway server: two or more stores on one schema play
//! the nodes of a cluster. One holds the lease at a time; a dead holder is replaced at
//! once, a stuck one after its lease time; a deposed one writes nothing.

mod conformance;
mod pg;

use std::time::{Duration, Instant};

use conformance::Model;
use conformance::model::enroll;
use murphy_store::{Backend, Epoch, Postgres, StoreError};
use pg::Leased;

/// Two stores on one fresh schema, the first with the catalog appended under the lease.
fn cluster(lease_time: Duration) -> (String, Postgres, Postgres, Model) {
    let (url, schema) = (pg::url(), pg::fresh_schema());
    let a = pg::connect(&url, &schema);
    assert_eq!(a.lease().try_acquire("a", lease_time).unwrap(), Some(Epoch(1)));
    let b = pg::connect(&url, &schema);
    let model = Model::set_up(&a);
    (schema, a, b, model)
}

/// Ends the session that holds the lease's lock, behind the stores' backs: the holder's
/// connection dies.
fn kill_lock_session(schema: &str) {
    let mut raw = pg::raw(&pg::url());
    let pid: i32 = raw
        .query_one(&format!("SELECT pid FROM {schema}.lease"), &[])
        .unwrap()
        .get(0);
    let killed: bool = raw
        .query_one("SELECT pg_terminate_backend($1, 5000)", &[&pid])
        .unwrap()
        .get(0);
    assert!(killed);
}

fn assert_fenced(result: murphy_store::Result<()>, held: u64, current: u64) {
    match result {
        Err(StoreError::Fenced {
            held: Some(h),
            current: Some(c),
        }) => assert_eq!((h, c), (held, current)),
        other => panic!("expected fenced at epoch {held} by {current}, got {other:?}"),
    }
}

#[test]
fn a_held_lease_is_refused_and_taken_at_once_when_its_holder_dies() {
    let (_, a, b, model) = cluster(pg::LEASE_TIME);
    assert_eq!(b.lease().try_acquire("b", pg::LEASE_TIME).unwrap(), None);
    let status = b.lease().status().unwrap();
    assert_eq!((status.epoch, status.holder.as_deref()), (1, Some("a")));
    assert!(status.locked && !status.expired, "{status:?}");
    assert_eq!(status.log_end, model.state.lsn(), "the catalog's commands");

    drop(a); // its connections close, as when its process dies
    let started = Instant::now();
    assert_eq!(b.lease().try_acquire("b", pg::LEASE_TIME).unwrap(), Some(Epoch(2)));
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(b.lease().status().unwrap().holder.as_deref(), Some("b"));
}

/// A holder whose lock session died but who still believes it holds epoch 1 cannot
/// append or materialize once another took over, writes nothing, and learns at its
/// next renewal that it lost the lease.
#[test]
fn a_stale_epoch_writes_nothing() {
    let (schema, a, b, mut model) = cluster(pg::LEASE_TIME);
    kill_lock_session(&schema);
    assert_eq!(b.lease().try_acquire("b", pg::LEASE_TIME).unwrap(), Some(Epoch(2)));
    assert_eq!(a.lease().held(), Some(Epoch(1)), "the old holder does not know yet");

    let end = b.log_end().unwrap();
    let mut state = model.state.clone();
    let entries = conformance::model::entries(&mut state, &[enroll("p0", "S0")], model.at);
    let records = murphy_store::Records {
        entries,
        tokens: vec![murphy_store::TokenRow {
            hash: "h".into(),
            student: "p0".into(),
        }],
    };
    assert_fenced(a.append(&records), 1, 2);
    assert_eq!(b.log_end().unwrap(), end, "the fenced append wrote nothing");
    assert!(b.tokens().unwrap().is_empty(), "nor its token");

    let before = model.materialized.clone();
    let step = murphy_store::Materialization {
        before: &before,
        after: &model.state,
        changes: &murphy_core::Changes::default(),
        sessions: &[],
    };
    assert_fenced(a.materialize(&step), 1, 2);
    assert!(matches!(
        a.lease().renew(pg::LEASE_TIME),
        Err(StoreError::Fenced { .. })
    ));
    assert_eq!(a.lease().held(), None);

    // The new holder goes on from the log's end.
    let b = Leased(b);
    model.append(&b, &[enroll("p1", "S0")]);
    assert_eq!(b.0.log_end().unwrap(), end + 1);
}

/// A holder that stops renewing (paused: its sessions stay open, its lock held) keeps
/// the lease until its lease time runs out, then loses it to a taker, which ends its
/// lock session; after that it cannot write.
#[test]
fn a_paused_holder_is_deposed_after_its_lease_time() {
    const LEASE_TIME: Duration = Duration::from_millis(700);
    let (_, a, b, model) = cluster(LEASE_TIME);
    let taken = Instant::now();
    assert_eq!(b.lease().try_acquire("b", LEASE_TIME).unwrap(), None);
    while !b.lease().status().unwrap().expired {
        assert!(taken.elapsed() < 2 * LEASE_TIME, "the lease never expired");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(taken.elapsed() >= LEASE_TIME - Duration::from_millis(100));
    assert!(
        b.lease().status().unwrap().locked,
        "the paused holder's lock is still held"
    );
    assert_eq!(b.lease().try_acquire("b", LEASE_TIME).unwrap(), Some(Epoch(2)));

    let mut state = model.state.clone();
    let entries = conformance::model::entries(&mut state, &[enroll("p0", "S0")], model.at);
    let end = b.log_end().unwrap();
    let records = murphy_store::Records {
        entries,
        tokens: Vec::new(),
    };
    assert_fenced(a.append(&records), 1, 2);
    assert_eq!(b.log_end().unwrap(), end);
    assert!(matches!(a.lease().renew(LEASE_TIME), Err(StoreError::Fenced { .. })));
}

/// A holder that renews keeps the lease past its lease time; one that releases it
/// hands it over at once.
#[test]
fn renewing_keeps_the_lease_and_releasing_hands_it_over() {
    const LEASE_TIME: Duration = Duration::from_millis(600);
    let (_, a, b, _) = cluster(LEASE_TIME);
    let started = Instant::now();
    while started.elapsed() < 3 * LEASE_TIME {
        let until = a.lease().renew(LEASE_TIME).unwrap();
        assert!(until > Instant::now() + LEASE_TIME / 2);
        assert_eq!(b.lease().try_acquire("b", LEASE_TIME).unwrap(), None);
        std::thread::sleep(LEASE_TIME / 4);
    }
    a.lease().release().unwrap();
    assert_eq!(a.lease().held(), None);
    let started = Instant::now();
    assert_eq!(b.lease().try_acquire("b", LEASE_TIME).unwrap(), Some(Epoch(2)));
    assert!(
        started.elapsed() < Duration::from_millis(150),
        "took {:?}",
        started.elapsed()
    );
}

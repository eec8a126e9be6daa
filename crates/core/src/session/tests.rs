//! Every decision of the session table, and expiry, forgetting and replay.

use super::*;
use crate::Command;

fn t(seconds: i64) -> OffsetDateTime {
    OffsetDateTime::UNIX_EPOCH + Duration::seconds(1_800_000_000 + seconds)
}

fn limits() -> SessionLimits {
    SessionLimits {
        idle_time_max: Duration::seconds(60),
        expired_time_max: Duration::seconds(600),
        sessions_max: 3,
        sessions_per_owner_max: 2,
        requests_remembered_max: 4,
    }
}

fn answer(text: &str) -> Option<Arc<str>> {
    Some(text.into())
}

#[test]
fn a_new_client_starts_at_one_and_holds_what_comes_early() {
    let sessions = Sessions::new(limits());
    assert_eq!(sessions.decide("s1", "laptop", 1), Decision::Apply);
    assert_eq!(sessions.decide("s1", "laptop", 3), Decision::Hold { expected: 1 });
    assert_eq!(sessions.expected("laptop"), 1);
}

#[test]
fn retries_are_answered_from_memory_or_from_the_log() {
    let mut sessions = Sessions::new(limits());
    sessions.record("s1", "laptop", 1, t(0), 10, 2, answer("one"));
    assert_eq!(sessions.decide("s1", "laptop", 1), Decision::Again("one".into()));
    sessions.record("s1", "laptop", 2, t(1), 15, 1, answer("two"));
    assert_eq!(sessions.decide("s1", "laptop", 2), Decision::Again("two".into()));
    assert_eq!(
        sessions.decide("s1", "laptop", 1),
        Decision::InLog {
            first_lsn: 10,
            last_lsn: 11
        }
    );
    assert_eq!(sessions.decide("s1", "laptop", 3), Decision::Apply);
    assert_eq!(sessions.decide("s1", "laptop", 5), Decision::Hold { expected: 3 });
}

#[test]
fn a_client_id_belongs_to_its_owner() {
    let mut sessions = Sessions::new(limits());
    sessions.record("s1", "shared", 1, t(0), 1, 1, answer("one"));
    assert_eq!(sessions.decide("s2", "shared", 1), Decision::NotOwner);
    assert_eq!(sessions.decide("s2", "shared", 2), Decision::NotOwner);
}

#[test]
fn only_the_latest_requests_are_remembered() {
    let mut sessions = Sessions::new(limits());
    for seq in 1..=6 {
        sessions.record("s1", "laptop", seq, t(seq as i64), seq * 10, 1, None);
    }
    assert_eq!(sessions.decide("s1", "laptop", 2), Decision::Forgotten { oldest: 3 });
    assert_eq!(
        sessions.decide("s1", "laptop", 3),
        Decision::InLog {
            first_lsn: 30,
            last_lsn: 30
        }
    );
    // Without the answer at hand (after a restart), even the latest comes from the log.
    assert_eq!(
        sessions.decide("s1", "laptop", 6),
        Decision::InLog {
            first_lsn: 60,
            last_lsn: 60
        }
    );
}

#[test]
fn an_idle_session_expires_then_is_forgotten() {
    let mut sessions = Sessions::new(limits());
    sessions.record("s1", "laptop", 1, t(0), 1, 1, answer("one"));
    sessions.take_changes();
    sessions.expire(t(59));
    assert_eq!(sessions.decide("s1", "laptop", 1), Decision::Again("one".into()));
    sessions.expire(t(60));
    assert_eq!(sessions.decide("s1", "laptop", 1), Decision::Expired);
    assert_eq!(sessions.decide("s1", "laptop", 2), Decision::Expired);
    let changes = sessions.take_changes();
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0].row.as_ref().unwrap().expired_at, Some(t(60)));
    assert_eq!(sessions.counts(), (0, 1));

    sessions.expire(t(659));
    assert_eq!(sessions.decide("s1", "laptop", 2), Decision::Expired);
    sessions.expire(t(660));
    assert_eq!(sessions.counts(), (0, 0));
    assert_eq!(
        sessions.take_changes(),
        vec![SessionChange {
            client: "laptop".into(),
            row: None
        }]
    );
    assert_eq!(sessions.decide("s1", "laptop", 1), Decision::Apply);
}

#[test]
fn use_keeps_a_session_alive() {
    let mut sessions = Sessions::new(limits());
    sessions.record("s1", "laptop", 1, t(0), 1, 1, None);
    sessions.record("s1", "laptop", 2, t(50), 2, 1, None);
    sessions.expire(t(100));
    assert_eq!(sessions.decide("s1", "laptop", 3), Decision::Apply);
    sessions.expire(t(110));
    assert_eq!(sessions.decide("s1", "laptop", 3), Decision::Expired);
}

#[test]
fn past_the_cap_new_sessions_are_refused_until_one_can_be_forgotten() {
    let mut sessions = Sessions::new(limits());
    sessions.record("s1", "a", 1, t(0), 1, 1, None);
    sessions.record("s2", "b", 1, t(30), 2, 1, None);
    sessions.record("s3", "c", 1, t(30), 3, 1, None);
    assert_eq!(sessions.decide("s4", "d", 1), Decision::TooMany);
    assert_eq!(
        sessions.decide("s1", "a", 2),
        Decision::Apply,
        "existing sessions go on"
    );
    sessions.expire(t(60));
    assert_eq!(sessions.decide("s4", "d", 1), Decision::Apply);
    sessions.record("s4", "d", 1, t(60), 4, 1, None);
    assert_eq!(sessions.counts(), (3, 0), "the expired session made room");
    assert_eq!(
        sessions.decide("s1", "a", 2),
        Decision::Hold { expected: 1 },
        "forgotten: it would start over"
    );
}

#[test]
fn a_replay_of_the_log_rebuilds_the_same_table() {
    let entry = |lsn, client: Option<&str>, seq, at| LogEntry {
        lsn,
        at: t(at),
        rules: crate::RulesVersion::V1,
        client: client.map(Into::into),
        seq,
        owner: client.map(|_| "s1".to_string()),
        command: Command::Deposit {
            student: "s1".into(),
            amount_cents: 1,
        },
        outcome: crate::Outcome::Balance { cents: 1, fee_cents: 0 },
        effects: Default::default(),
    };
    let log = [
        entry(1, Some("laptop"), Some(1), 0),
        entry(2, Some("laptop"), Some(1), 0),
        entry(3, None, None, 0),
        entry(4, Some("phone"), Some(1), 5),
        entry(5, Some("laptop"), Some(2), 5),
        entry(6, Some("phone"), Some(2), 60),
    ];
    let mut replayed = Sessions::new(limits());
    for e in &log {
        replayed.replay(e);
    }
    let mut recorded = Sessions::new(limits());
    recorded.record("s1", "laptop", 1, t(0), 1, 2, None);
    recorded.record("s1", "phone", 1, t(5), 4, 1, None);
    recorded.record("s1", "laptop", 2, t(5), 5, 1, None);
    recorded.record("s1", "phone", 2, t(60), 6, 1, None);
    assert_eq!(replayed.rows(), recorded.rows());
    replayed.expire(t(65));
    assert_eq!(replayed.decide("s1", "laptop", 3), Decision::Expired);
    assert_eq!(replayed.decide("s1", "phone", 3), Decision::Apply);

    let restored = Sessions::restore(limits(), replayed.rows());
    assert_eq!(restored.rows(), replayed.rows());
    assert_eq!(
        restored.decide("s1", "phone", 1),
        Decision::InLog {
            first_lsn: 4,
            last_lsn: 4
        }
    );
}

#[test]
fn a_student_past_their_share_recycles_their_least_recently_used_session() {
    let mut sessions = Sessions::new(SessionLimits {
        sessions_max: 100,
        ..limits()
    });
    sessions.record("s1", "a", 1, t(0), 1, 1, None);
    sessions.record("s1", "b", 1, t(1), 2, 1, None);
    sessions.record("s1", "a", 2, t(2), 3, 1, None);
    sessions.record("s2", "x", 1, t(3), 4, 1, None);
    assert_eq!(sessions.decide("s1", "c", 1), Decision::Apply);
    sessions.record("s1", "c", 1, t(4), 5, 1, None);
    assert_eq!(
        sessions.decide("s1", "b", 1),
        Decision::Expired,
        "b was the least recently used"
    );
    assert_eq!(sessions.decide("s1", "a", 3), Decision::Apply, "a was used since");
    assert_eq!(
        sessions.decide("s2", "x", 2),
        Decision::Apply,
        "another student's is untouched"
    );
    assert_eq!(sessions.counts(), (3, 1));
    // The registrar has no share.
    for (i, client) in ["r1", "r2", "r3", "r4"].into_iter().enumerate() {
        sessions.record(REGISTRAR_OWNER, client, 1, t(5), 6 + i as u64, 1, None);
    }
    assert_eq!(sessions.counts(), (7, 1));
    // A replay of the same requests recycles the same session: the share is a log fact.
    let restored = Sessions::restore(sessions.limits.clone(), sessions.rows());
    assert_eq!(restored.rows(), sessions.rows());
    let mut again = restored;
    again.record("s1", "d", 1, t(6), 10, 1, None);
    assert_eq!(again.decide("s1", "a", 3), Decision::Expired);
}

#[test]
fn a_student_at_their_share_opens_a_session_even_when_the_table_is_full() {
    let mut sessions = Sessions::new(limits());
    sessions.record("s1", "a", 1, t(0), 1, 1, None);
    sessions.record("s1", "b", 1, t(1), 2, 1, None);
    sessions.record("s2", "x", 1, t(2), 3, 1, None);
    assert_eq!(
        sessions.decide("s3", "y", 1),
        Decision::TooMany,
        "a new student: no room"
    );
    assert_eq!(sessions.decide("s1", "c", 1), Decision::Apply, "s1 recycles its own");
    sessions.record("s1", "c", 1, t(3), 4, 1, None);
    assert_eq!(sessions.counts(), (3, 0), "the recycled one was forgotten to make room");
}

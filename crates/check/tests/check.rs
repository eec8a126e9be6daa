//! The checker against small hand-made runs: a correct run must be clean (sessions,
//! retries, timeouts, promotions, swaps, holds and refusals included), and each kind
//! of wrong log or history must be caught by the check it breaks, and counted there.

mod common;

use common::*;
use murphy_core::Outcome;

/// Sections A (2 seats, 1 waiting), B (2 seats) and C (1 seat, meets with A), and
/// students s1 to s6.
fn registrar() -> Run {
    let mut run = Run::new();
    run.admin(&[
        section("A", 2, 1, vec![meeting("MW", "10:00", "11:00")]),
        section("B", 2, 0, vec![meeting("TR", "10:00", "11:00")]),
        section("C", 1, 0, vec![meeting("W", "10:30", "11:30")]),
    ]);
    run.admin(&(1..=6).map(|i| student(&format!("s{i}"))).collect::<Vec<_>>());
    run
}

#[test]
fn a_correct_run_is_clean() {
    let mut run = registrar();
    assert_eq!(only(&run.send("c1", &[enroll("s1", "A")]).1), &Outcome::Enrolled);
    assert_eq!(only(&run.send("c2", &[enroll("s2", "A")]).1), &Outcome::Enrolled);
    assert_eq!(only(&run.send("c3", &[enroll("s3", "A")]).1), &Outcome::Full);
    let (seq, results) = run.send("c4", &[enroll_or_wait("s4", "A")]);
    assert_eq!(only(&results), &Outcome::Waitlisted { position: 1 });
    // The same answer again, as the server gives to a retry.
    run.retry("c4", seq, &[enroll_or_wait("s4", "A")], results);
    let dropped = run.send("c1", &[drop("s1", "A")]).1;
    assert_eq!(
        only(&dropped),
        &Outcome::Dropped {
            promoted: vec!["s4".into()],
            linked: None,
        }
    );
    assert_eq!(only(&run.send("c5", &[enroll("s5", "A")]).1), &Outcome::Full);
    // A swap out of A frees a seat, which s3 (refused before) may then take.
    let swapped = run.send("c2", &[swap("s2", "A", "B")]).1;
    let swapped_alone = Outcome::Swapped {
        promoted: vec![],
        linked: None,
    };
    assert_eq!(only(&swapped), &swapped_alone);
    assert_eq!(only(&run.send("c3", &[enroll("s3", "A")]).1), &Outcome::Enrolled);
    // Time conflicts and holds.
    assert_eq!(only(&run.send("c1", &[enroll("s1", "C")]).1), &Outcome::Enrolled);
    let conflict = run.send("c4", &[enroll("s4", "C")]).1;
    assert_eq!(only(&conflict), &Outcome::TimeConflict { with: "A".into() });
    let results = run.send("c6", &[withdraw("s6", 100), enroll("s6", "B")]).1;
    assert!(matches!(results[1].outcome, Outcome::Hold { .. }), "{results:?}");
    // A request whose answer was lost, retried after another client's answer: the
    // retry gets the first application's LSN, which precedes that answer. Real time
    // is judged from the first attempt, so this is no violation.
    let (seq, results) = run.send_unanswered("c6", &[deposit("s6", 5_000)]);
    run.send("c5", &[enroll("s5", "B")]);
    run.retry("c6", seq, &[deposit("s6", 5_000)], results);
    // A capacity raise frees a seat too.
    run.admin(&[set_capacity("C", 2)]);
    assert_eq!(only(&run.send("c6", &[enroll("s6", "C")]).1), &Outcome::Enrolled);
    // An overloaded answer: nothing applied, nothing to check.
    let sent = run.tick();
    run.history.push(murphy_check::Record {
        client: "c5".into(),
        seq: Some(3),
        sent_ns: sent,
        answered_ns: Some(sent + 10),
        commands: vec![drop("s5", "B")],
        results: None,
        status: Some(503),
    });

    let report = run.check();
    assert!(report.is_clean(), "{report}");
    assert_eq!(report.violations(), 0);
    assert_eq!(report.log_entries, run.log.len() as u64);
    assert_eq!(report.invariants.checked, run.log.len() as u64);
    for (name, finding) in report.findings() {
        assert!(finding.checked > 0, "{name} checked nothing");
    }
    // Three grants in A (s1, s2, s3 again), one swap into B, s5 into B, s1 and s6 into C.
    assert_eq!(report.fcfs.checked, 7);
    let shown = report.to_string();
    assert!(
        shown.contains("clean") && shown.contains("first come, first served"),
        "{shown}"
    );
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["sessions"]["violations"], 0);
}

/// Two seats in A, a third student refused: the log (and the client) say enrolled.
#[test]
fn an_overbooked_log_is_caught_by_the_invariants() {
    let mut run = registrar();
    run.send("c1", &[enroll("s1", "A")]);
    run.send("c2", &[enroll("s2", "A")]);
    let results = run.send("c3", &[enroll("s3", "A")]).1;
    assert_eq!(only(&results), &Outcome::Full);
    let lsn = results[0].lsn;
    run.rewrite_outcome(lsn, Outcome::Enrolled);

    let report = run.check();
    assert_counts(&report, [1, 0, 0, 0, 0]);
    let example = &report.invariants.examples[0];
    assert!(example.starts_with(&format!("LSN {lsn} (enroll s3 in A)")), "{example}");
    assert!(
        example.contains("logged enrolled, but replay answers full"),
        "{example}"
    );
    assert!(example.contains("A now seats 3 students in 2 seats"), "{example}");
    assert!(!report.is_clean());
    assert!(report.to_string().contains(example.as_str()));
}

#[test]
fn an_answered_write_missing_from_the_log_is_caught() {
    let mut run = registrar();
    run.send("c1", &[enroll("s1", "A")]);
    let results = run.send("c2", &[enroll("s2", "A")]).1;
    // The server answered, then lost the entry (the log ends before it).
    run.log.pop();

    let report = run.check();
    assert_counts(&report, [0, 1, 0, 0, 0]);
    let example = &report.lost_writes.examples[0];
    let lsn = results[0].lsn;
    assert!(example.contains("client c2 seq 1 (sent at 0.000"), "{example}");
    assert!(
        example.contains(&format!(
            "was told LSN {lsn} enrolled for enroll s2 in A, but the log has no LSN {lsn}"
        )),
        "{example}"
    );
}

#[test]
fn an_answer_the_log_contradicts_is_caught() {
    let mut run = registrar();
    run.send("c1", &[enroll("s1", "A")]);
    run.send("c2", &[enroll("s2", "A")]);
    run.send("c3", &[enroll("s3", "A")]);
    // The client was told it got the seat; the log says full.
    let record = run.history.last_mut().unwrap();
    record.results.as_mut().unwrap()[0].outcome = Outcome::Enrolled;

    let report = run.check();
    assert_counts(&report, [0, 1, 0, 0, 0]);
    assert!(
        report.lost_writes.examples[0].ends_with("but the log says full"),
        "{report}"
    );
}

/// a's answer arrived before b was sent, but b's command has the smaller LSN.
#[test]
fn a_real_time_inversion_is_caught() {
    let mut run = registrar();
    let t = run.clock_ns;
    let b = run.apply(Some("b"), Some(1), &[deposit("s2", 100)]);
    let a = run.apply(Some("a"), Some(1), &[deposit("s1", 100)]);
    run.record(
        "a",
        Some(1),
        &[deposit("s1", 100)],
        t + 1_000,
        Some(t + 2_000),
        Some(a.clone()),
    );
    run.record(
        "b",
        Some(1),
        &[deposit("s2", 100)],
        t + 3_000,
        Some(t + 4_000),
        Some(b.clone()),
    );

    let report = run.check();
    assert_counts(&report, [0, 0, 1, 0, 0]);
    assert_eq!(
        report.real_time.examples[0],
        format!(
            "client a seq 1 was answered at 0.000006000 s with LSN {}, before client b seq 1 was sent at \
             0.000007000 s, yet the latter got LSN {}",
            a[0].lsn, b[0].lsn
        )
    );

    // Overlapping in time, the same log is fine: b was sent before a's answer.
    run.history.last_mut().unwrap().sent_ns = t + 1_500;
    assert!(run.check().is_clean(), "{}", run.check());
}

#[test]
fn a_session_seq_applied_twice_is_caught() {
    let mut run = registrar();
    let (seq, first) = run.send("c1", &[deposit("s1", 100)]);
    run.send("c2", &[deposit("s2", 100)]);
    // The server applies c1's seq 1 again instead of answering the stored result.
    let again = run.apply(Some("c1"), Some(seq), &[deposit("s1", 100)]);

    let report = run.check();
    assert_counts(&report, [0, 0, 0, 1, 0]);
    assert_eq!(
        report.sessions.examples[0],
        format!(
            "client c1 seq 1 was applied again at LSN {}, after LSN {}",
            again[0].lsn, first[0].lsn
        )
    );
}

#[test]
fn a_session_seq_applied_twice_back_to_back_is_caught() {
    let mut run = registrar();
    let (seq, first) = run.send("c1", &[deposit("s1", 100)]);
    // Right after itself, the second application looks like a second command of the
    // same request: only the request's length (from the history) tells them apart.
    run.apply(Some("c1"), Some(seq), &[deposit("s1", 100)]);

    let report = run.check();
    assert_counts(&report, [0, 0, 0, 1, 0]);
    assert_eq!(
        report.sessions.examples[0],
        format!(
            "client c1 seq 1 had 1 command, but the log applied 2 entries for it from LSN {}: applied more than once",
            first[0].lsn
        )
    );
}

#[test]
fn a_session_gap_is_caught() {
    let mut run = registrar();
    run.send("c1", &[deposit("s1", 100)]);
    // Seq 2 never reached the log; seq 3 was applied anyway.
    run.next_seq("c1");
    let (_, results) = run.send("c1", &[deposit("s1", 200)]);
    // And a client whose first applied seq is 2.
    run.next_seq("c2");
    let (_, late) = run.send("c2", &[deposit("s2", 200)]);

    let report = run.check();
    assert_counts(&report, [0, 0, 0, 2, 0]);
    assert_eq!(
        report.sessions.examples,
        vec![
            format!(
                "client c1 seq 3 was applied at LSN {} after seq 1, but seq 2 never was",
                results[0].lsn
            ),
            format!(
                "client c2 seq 2 was applied at LSN {} as the client's first request, but seq 1 never was",
                late[0].lsn
            ),
        ]
    );
}

#[test]
fn a_session_applied_out_of_order_is_caught() {
    let mut run = registrar();
    let t = run.clock_ns;
    let one = run.apply(Some("c1"), Some(1), &[deposit("s1", 100)]);
    let two = run.apply(Some("c1"), Some(2), &[deposit("s1", 100)]);
    let four = run.apply(Some("c1"), Some(4), &[deposit("s1", 100)]);
    let three = run.apply(Some("c1"), Some(3), &[deposit("s1", 100)]);
    run.record(
        "c1",
        Some(1),
        &[deposit("s1", 100)],
        t + 1_000,
        Some(t + 1_500),
        Some(one),
    );
    run.record(
        "c1",
        Some(2),
        &[deposit("s1", 100)],
        t + 2_000,
        Some(t + 2_500),
        Some(two),
    );
    run.record(
        "c1",
        Some(4),
        &[deposit("s1", 100)],
        t + 3_000,
        Some(t + 9_000),
        Some(four),
    );
    run.record(
        "c1",
        Some(3),
        &[deposit("s1", 100)],
        t + 3_000,
        Some(t + 9_000),
        Some(three.clone()),
    );

    let report = run.check();
    // The jump to 4 and the late 3: one fault seen from both sides.
    assert_counts(&report, [0, 0, 0, 2, 0]);
    assert!(
        report.sessions.examples[1].contains(&format!(
            "seq 3 was applied at LSN {}, after the client's seq 4: out of order",
            three[0].lsn
        )),
        "{report}"
    );
}

#[test]
fn retries_answered_differently_are_caught() {
    let mut run = registrar();
    let (seq, results) = run.send("c1", &[enroll("s1", "A")]);
    let mut other = results.clone();
    other[0].outcome = Outcome::Full;
    run.retry("c1", seq, &[enroll("s1", "A")], other);

    let report = run.check();
    // The second answer contradicts the log too.
    assert_counts(&report, [0, 1, 0, 1, 0]);
    let lsn = results[0].lsn;
    assert!(
        report.sessions.examples[0].ends_with(&format!(
            "was answered LSN {lsn} enrolled, but the one sent at 0.000007000 s was answered LSN {lsn} full"
        )),
        "{report}"
    );
}

/// One seat; s2 is refused; s1's drop did not happen (per the log), yet s3 gets a seat.
#[test]
fn an_fcfs_inversion_is_caught() {
    let mut run = registrar();
    run.admin(&[section("D", 1, 0, vec![])]);
    run.send("c1", &[enroll("s1", "D")]);
    let refused = run.send("c2", &[enroll("s2", "D")]).1;
    assert_eq!(only(&refused), &Outcome::Full);
    let dropped = run.send("c1", &[drop("s1", "D")]).1;
    let granted = run.send("c3", &[enroll("s3", "D")]).1;
    assert_eq!(only(&granted), &Outcome::Enrolled);
    assert!(run.check().is_clean(), "a seat was freed between: {}", run.check());
    run.rewrite_outcome(dropped[0].lsn, Outcome::NotEnrolled);

    let report = run.check();
    assert_eq!(report.fcfs.violations, 1, "{report}");
    assert_eq!(
        report.fcfs.examples[0],
        format!(
            "D: s2 was refused a seat (full) at LSN {}, yet s3 was granted one at LSN {} with no seat freed in between",
            refused[0].lsn, granted[0].lsn
        )
    );
    // Such a log cannot replay: the state machine never inverts. Nothing else is wrong.
    assert!(report.invariants.violations >= 1, "{report}");
    assert_eq!(
        [
            report.lost_writes.violations,
            report.real_time.violations,
            report.sessions.violations
        ],
        [0, 0, 0]
    );
}

/// A waitlisted student is overtaken too: being waitlisted means no seat was free.
#[test]
fn a_newcomer_seated_past_the_waitlist_is_an_fcfs_inversion() {
    let mut run = registrar();
    run.admin(&[section("D", 1, 5, vec![])]);
    run.send("c1", &[enroll("s1", "D")]);
    run.send("c2", &[enroll_or_wait("s2", "D")]);
    let refused = run.send("c3", &[enroll("s3", "D")]).1;
    run.rewrite_outcome(refused[0].lsn, Outcome::Enrolled);

    let report = run.check();
    assert_eq!(report.fcfs.violations, 1, "{report}");
    assert!(
        report.fcfs.examples[0].starts_with("D: s2 was refused a seat (waitlisted)"),
        "{report}"
    );
}

#[test]
fn a_hole_in_the_lsns_is_reported_once() {
    let mut run = registrar();
    run.admin(&[student("s9")]);
    run.send("c1", &[enroll("s1", "A")]);
    run.send("c2", &[enroll("s2", "A")]);
    // Lose the entry that created s9 (never used again) and its record.
    let lsn = run.history[2].results.as_ref().unwrap()[0].lsn;
    run.log.retain(|e| e.lsn != lsn);
    run.history.remove(2);

    let report = run.check();
    assert_counts(&report, [1, 0, 0, 0, 0]);
    assert!(
        report.invariants.examples[0].contains(&format!("it follows LSN {}: the log skips or repeats LSNs", lsn - 1)),
        "{report}"
    );
}

#[test]
fn an_invalid_logged_command_is_reported_not_replayed() {
    let mut run = registrar();
    let (_, results) = run.send("c1", &[deposit("s1", 100)]);
    let lsn = results[0].lsn;
    run.log_entry(lsn).command = deposit("s1", -100);
    run.history.last_mut().unwrap().commands = vec![deposit("s1", -100)];

    let report = run.check();
    assert_eq!(report.invariants.violations, 1, "{report}");
    assert!(
        report.invariants.examples[0].contains("the command is invalid"),
        "{report}"
    );
}

#[test]
fn counterexamples_stop_at_five_but_the_count_goes_on() {
    let mut run = registrar();
    for i in 1..=8 {
        let client = format!("c{i}");
        run.send(&client, &[deposit("s1", 100)]);
        run.history.last_mut().unwrap().results.as_mut().unwrap()[0].lsn = 1_000 + i;
    }
    let report = run.check();
    assert_eq!(report.lost_writes.violations, 8);
    assert_eq!(report.lost_writes.examples.len(), murphy_check::EXAMPLES_MAX);
    assert!(report.to_string().contains("8 violations; the first 5:"), "{report}");
}

#[test]
fn sessions_outside_the_history_are_counted_and_said_to_be() {
    let mut run = registrar();
    run.send("c1", &[enroll("s1", "A")]);
    let report = run.check();
    assert_eq!(report.sessions.checked, 1);
    assert_eq!(report.sessions.note, None, "every session request is in the history");

    // Another client (an earlier run, the command line) wrote in a session of its
    // own: the log applied it, the history never saw it.
    let seq = run.next_seq("cli");
    run.apply(Some("cli"), Some(seq), &[enroll("s2", "B")]);
    let report = run.check();
    assert!(report.is_clean(), "{report}");
    assert_eq!(report.sessions.checked, 2);
    let note = report.sessions.note.clone().unwrap_or_default();
    assert!(
        note.starts_with("1 of the 2 session requests in the log are not in the history"),
        "{note}"
    );
    assert!(report.to_string().contains(&format!("sessions: {note}")), "{report}");
}

#[test]
fn a_history_from_another_server_is_named_so_not_listed_as_violations() {
    let mut run = registrar();
    run.send("c1", &[enroll("s1", "A")]);
    run.send("c2", &[enroll("s2", "B")]);
    assert_eq!(murphy_check::same_server(&run.history, &run.log), Ok(()));

    // The log of a server that never saw these requests: a shorter one...
    let mut short = run.log.clone();
    short.truncate(5);
    let past_the_end = murphy_check::same_server(&run.history, &short).unwrap_err();
    assert!(past_the_end.contains("run past this log's end"), "{past_the_end}");
    assert!(
        past_the_end.contains("is --url the server the bench drove?"),
        "{past_the_end}"
    );

    // ... and a longer one holding other commands at those LSNs.
    let mut other = Run::new();
    other.admin(&(1..=20).map(|i| student(&format!("t{i}"))).collect::<Vec<_>>());
    let foreign = murphy_check::same_server(&run.history, &other.log).unwrap_err();
    assert!(
        foreign.contains("none of the history's 11 answered commands"),
        "{foreign}"
    );

    // One altered entry is a violation to report, not a foreign history.
    let lsn = run.history.last().unwrap().results.as_ref().unwrap()[0].lsn;
    run.log_entry(lsn).command = deposit("s6", 1);
    assert_eq!(murphy_check::same_server(&run.history, &run.log), Ok(()));
}

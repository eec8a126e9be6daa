//! The waiting-room scenario (`--scenario waiting-room`): the registrar opens a
//! registration window `--opens-after-ms` after setup with `--active-max`; N students
//! arrive within `--arrive-within-s` of the opening (half before it, half after), take
//! a place in line (`POST /api/v1/line`, as the admin naming them, with the pass that
//! comes back), ask where they stand each time murphy says to, and once admitted
//! enroll in one section. `--abandon` of them stop asking at a random point of their
//! wait, as students who close the tab do. What it measures (`RoomReport`):
//!
//! - admission in line order: a student seen still waiting after one behind them was
//!   seen admitted is an inversion (both observations are real answers, so poll
//!   granularity can hide an inversion but never invent one);
//! - double admissions: two students admitted on the same place;
//! - the admission rate: places admitted per second over the run, against the rate the
//!   room itself reported (`admit_rate_per_s`, the controller's set rate) at the time;
//! - the ETA's error: the first ETA range a student saw after the opening, its middle
//!   against the wait they then had. Polls see an admission late (up to one poll
//!   interval), so the admission is known to lie between the last "waiting" answer
//!   and the first "admitted" one: the error is how far the ETA's middle falls outside
//!   that interval, over the wait to the interval's middle (0 inside it), and its sign
//!   says whether the ETA promised too soon or too late. The error against the
//!   admission as seen (the interval's end) is reported beside it;
//! - abandoners never stall the line: every student who kept asking is admitted.
//!
//! The enrolls go to `--history` for `murphy check`. They are sent with the admin's
//! token (the scenario has no student tokens), which the room never holds: the gate
//! itself is tested in the server's tests.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use murphy_client::Client;
use murphy_core::Command;
use murphy_core::wire::{LineAnswer, LineState};
use serde::Serialize;
use tokio::sync::Semaphore;

use crate::scenario::{Rng, section_id, student_id};
use crate::{BenchError, Options};

/// The room's numbers, from the flags.
#[derive(Clone, Debug)]
pub struct RoomShape {
    /// Admitted students active at once, at most (the window's `active_max`).
    pub active_max: u32,
    /// The share of students who stop asking before they are admitted.
    pub abandon_share: f64,
    /// Arrivals spread over this long, centred on the opening.
    pub arrive_within: Duration,
}

/// What one student saw.
#[derive(Clone, Debug, Default)]
struct Seen {
    place: Option<u64>,
    abandoned: bool,
    /// The last answer that said "waiting", since the run began.
    last_waiting: Option<Duration>,
    admitted: Option<Duration>,
    /// The first ETA after the opening: when it was seen, and its middle.
    first_eta: Option<(Duration, f64)>,
    polls: u64,
    /// Its place lapsed once at least, though it kept asking.
    lapsed: bool,
}

/// What the run measured.
#[derive(Debug, Serialize)]
pub struct RoomReport {
    pub students: usize,
    pub abandoned: usize,
    pub admitted: usize,
    /// Students who kept asking and were never admitted before the run's end.
    pub kept_asking_not_admitted: usize,
    pub double_admissions: usize,
    /// Students who kept asking yet lost their place (asked later than twice the wait).
    pub lapsed_while_asking: usize,
    pub order_inversions: usize,
    pub polls: u64,
    pub polls_per_s: f64,
    /// Places admitted per second, from the first admission seen to the last.
    pub admitted_per_s: f64,
    /// The median `admit_rate_per_s` the room reported while it admitted.
    pub reported_rate_per_s: f64,
    /// How far the ETA's middle fell outside the interval the admission lay in, over
    /// the wait (module doc), over admitted students with an ETA.
    pub eta_error_p50: f64,
    pub eta_error_p90: f64,
    /// Of those whose ETA missed the interval, the share it told too long a wait.
    pub eta_too_long_share: f64,
    /// |admission as seen - ETA middle| / the wait as seen: what a student who polls
    /// as told experiences, poll delay included.
    pub eta_error_seen_p50: f64,
    pub eta_error_seen_p90: f64,
    pub enrolls_answered: usize,
    pub errors: usize,
    pub elapsed_s: f64,
}

struct Shared {
    admin: Client,
    started: Instant,
    opens: Instant,
    deadline: Instant,
    in_flight: Semaphore,
    sections: usize,
    rates: Mutex<Vec<f64>>,
    errors: std::sync::atomic::AtomicUsize,
    enrolls: std::sync::atomic::AtomicUsize,
    history: Option<std::sync::mpsc::Sender<murphy_check::Record>>,
}

/// Runs the scenario against `url` (set up already) and measures it.
pub async fn run(
    options: &Options,
    room: &RoomShape,
    history: Option<std::sync::mpsc::Sender<murphy_check::Record>>,
) -> Result<RoomReport, BenchError> {
    let admin = Client::new(options.url.clone(), options.admin_token.clone()).unthrottled();
    let opens_at = time::OffsetDateTime::now_utc() + options.opens_after;
    let opened = admin
        .commands(vec![Command::OpenLine {
            opens_at,
            active_max: room.active_max,
            automatic: false,
        }])
        .await
        .map_err(|e| BenchError::Setup(format!("opening the registration window: {e}")))?;
    if !matches!(opened.results[0].outcome, murphy_core::Outcome::LineOpened { .. }) {
        return Err(BenchError::Setup(format!(
            "the registration window did not open: {:?}",
            opened.results[0].outcome
        )));
    }
    let started = Instant::now();
    let shared = Arc::new(Shared {
        admin,
        started,
        opens: started + options.opens_after,
        deadline: started + options.opens_after + options.duration,
        in_flight: Semaphore::new(options.connections.max(1)),
        sections: options.shape.sections.max(1),
        rates: Mutex::default(),
        errors: Default::default(),
        enrolls: Default::default(),
        history,
    });
    let mut rng = Rng::new(options.seed);
    let spread = room.arrive_within.as_micros().max(1) as usize;
    let mut students = Vec::with_capacity(options.shape.students);
    for i in 0..options.shape.students {
        // Centred on the opening: half come early (the pre-queue), half late.
        let arrive = (options.opens_after + Duration::from_micros(rng.below(spread) as u64))
            .saturating_sub(room.arrive_within / 2);
        let abandons = rng.chance(room.abandon_share);
        // Those who abandon give up after up to a minute and a half of waiting.
        let patience = abandons.then(|| Duration::from_millis(rng.below(90_000) as u64));
        let section = section_id(rng.below(shared.sections));
        students.push(tokio::spawn(student(shared.clone(), i, arrive, patience, section)));
    }
    let mut seen = Vec::with_capacity(students.len());
    for task in students {
        seen.push(task.await.unwrap_or_default());
    }
    Ok(measure(&shared, &seen))
}

/// One student, from arrival to their enroll (or abandoning, or the run's end).
async fn student(shared: Arc<Shared>, i: usize, arrive: Duration, patience: Option<Duration>, section: String) -> Seen {
    let id = student_id(i);
    let mut seen = Seen::default();
    tokio::time::sleep_until((shared.started + arrive).into()).await;
    let joined = Instant::now();
    let mut answer = match ask(&shared, &shared.admin, Some(&id)).await {
        Some(answer) => answer,
        None => return seen,
    };
    let mut client = shared.admin.with_pass(answer.pass.clone());
    loop {
        seen.polls += 1;
        note(&shared, &mut seen, &answer);
        if seen.admitted.is_some() || answer.state == LineState::Closed {
            enroll(&shared, &client, &id, &section).await;
            return seen;
        }
        let wait = Duration::from_secs(answer.next_poll_after_s.unwrap_or(1).max(1));
        let wait = wait + wait.mul_f64(0.5 * (i % 97) as f64 / 97.0);
        let next = Instant::now() + wait;
        if patience.is_some_and(|p| next > joined + p) {
            seen.abandoned = true;
            return seen;
        }
        if next > shared.deadline {
            return seen;
        }
        tokio::time::sleep_until(next.into()).await;
        answer = match ask(&shared, &client, None).await {
            Some(answer) => answer,
            None => return seen,
        };
        if answer.state == LineState::Out {
            // The place lapsed (asked too late): a new one, as a returning student gets.
            seen.lapsed = true;
            answer = match ask(&shared, &shared.admin, Some(&id)).await {
                Some(answer) => answer,
                None => return seen,
            };
            client = shared.admin.with_pass(answer.pass.clone());
        }
    }
}

/// Joins the line (`join`: the student named) or asks where the pass stands; retries a
/// `503` after its `Retry-After` until the run's end.
async fn ask(shared: &Shared, client: &Client, join: Option<&str>) -> Option<LineAnswer> {
    loop {
        let result = {
            let _permit = shared.in_flight.acquire().await.expect("never closed");
            match join {
                Some(student) => client.join_line(Some(student)).await,
                None => client.line().await,
            }
        };
        match result {
            Ok(answer) => return Some(answer),
            Err(murphy_client::Error::Problem {
                status: 503,
                retry_after_seconds,
                ..
            }) if Instant::now() < shared.deadline => {
                let wait = Duration::from_secs(retry_after_seconds.unwrap_or(1));
                tokio::time::sleep(wait).await;
            }
            Err(_) => {
                shared.errors.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                return None;
            }
        }
    }
}

fn note(shared: &Shared, seen: &mut Seen, answer: &LineAnswer) {
    let now = shared.started.elapsed();
    if answer.place.is_some() {
        seen.place = answer.place;
    }
    match answer.state {
        LineState::Admitted => seen.admitted = seen.admitted.or(Some(now)),
        LineState::Waiting | LineState::PreQueue => seen.last_waiting = Some(now),
        LineState::Closed | LineState::Out => {}
    }
    if let (None, Some(eta), LineState::Waiting) = (seen.first_eta, answer.eta, answer.state) {
        seen.first_eta = Some((now, (eta.min_s + eta.max_s) as f64 / 2.0));
    }
    if let Some(rate) = answer.admit_rate_per_s.filter(|r| *r > 0.0) {
        shared.rates.lock().expect("never poisoned").push(rate);
    }
}

async fn enroll(shared: &Shared, client: &Client, student: &str, section: &str) {
    let commands = vec![Command::enroll(student, section, true)];
    let sent_ns = shared.started.elapsed().as_nanos() as u64;
    let result = {
        let _permit = shared.in_flight.acquire().await.expect("never closed");
        client.commands(commands.clone()).await
    };
    let answered_ns = Some(shared.started.elapsed().as_nanos() as u64);
    let (results, status) = match result {
        Ok(answer) => {
            shared.enrolls.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            (Some(answer.results), None)
        }
        Err(murphy_client::Error::Problem { status, .. }) => (None, Some(status)),
        Err(_) => (None, None),
    };
    if let Some(history) = &shared.history {
        let _ = history.send(murphy_check::Record {
            client: format!("room-{student}"),
            seq: None,
            sent_ns,
            answered_ns: answered_ns.filter(|_| results.is_some() || status.is_some()),
            commands,
            results,
            status,
        });
    }
}

fn measure(shared: &Shared, seen: &[Seen]) -> RoomReport {
    let admitted: Vec<&Seen> = seen.iter().filter(|s| s.admitted.is_some()).collect();
    let mut places = HashSet::new();
    let double_admissions = admitted
        .iter()
        .filter_map(|s| s.place)
        .filter(|p| !places.insert(*p))
        .count();
    // Sweep from the back of the line: the earliest admission seen behind each place.
    let mut by_place: Vec<&Seen> = seen.iter().filter(|s| s.place.is_some()).collect();
    by_place.sort_by_key(|s| s.place);
    let mut earliest_behind: Option<Duration> = None;
    let mut order_inversions = 0;
    for s in by_place.iter().rev() {
        if let (Some(waiting), Some(behind)) = (s.last_waiting, earliest_behind)
            && waiting > behind
        {
            order_inversions += 1;
        }
        if let Some(at) = s.admitted {
            earliest_behind = Some(earliest_behind.map_or(at, |e| e.min(at)));
        }
    }
    let first = admitted.iter().filter_map(|s| s.admitted).min();
    let last = admitted.iter().filter_map(|s| s.admitted).max();
    let admitted_per_s = match (first, last) {
        (Some(f), Some(l)) if l > f => admitted.len() as f64 / (l - f).as_secs_f64(),
        _ => 0.0,
    };
    let misses: Vec<EtaMiss> = admitted.iter().filter_map(|s| eta_miss(s)).collect();
    let mut errors: Vec<f64> = misses.iter().map(|m| m.within.abs()).collect();
    let mut seen_errors: Vec<f64> = misses.iter().map(|m| m.seen).collect();
    let missed = misses.iter().filter(|m| m.within != 0.0).count();
    let too_long = misses.iter().filter(|m| m.within > 0.0).count();
    let mut rates = shared.rates.lock().expect("never poisoned").clone();
    rates.sort_by(f64::total_cmp);
    let polls: u64 = seen.iter().map(|s| s.polls).sum();
    let elapsed_s = shared.started.elapsed().as_secs_f64();
    RoomReport {
        students: seen.len(),
        abandoned: seen.iter().filter(|s| s.abandoned).count(),
        admitted: admitted.len(),
        kept_asking_not_admitted: seen.iter().filter(|s| !s.abandoned && s.admitted.is_none()).count(),
        double_admissions,
        lapsed_while_asking: seen.iter().filter(|s| s.lapsed).count(),
        order_inversions,
        polls,
        polls_per_s: polls as f64 / (elapsed_s - shared.opens.duration_since(shared.started).as_secs_f64()).max(1.0),
        admitted_per_s,
        reported_rate_per_s: rates.get(rates.len() / 2).copied().unwrap_or(0.0),
        eta_error_p50: quantile(&mut errors, 0.5),
        eta_error_p90: quantile(&mut errors, 0.9),
        eta_too_long_share: too_long as f64 / missed.max(1) as f64,
        eta_error_seen_p50: quantile(&mut seen_errors, 0.5),
        eta_error_seen_p90: quantile(&mut seen_errors, 0.9),
        enrolls_answered: shared.enrolls.load(std::sync::atomic::Ordering::Relaxed),
        errors: shared.errors.load(std::sync::atomic::Ordering::Relaxed),
        elapsed_s,
    }
}

/// One admitted student's ETA against their admission.
struct EtaMiss {
    /// How far the ETA's middle fell outside the interval the admission lay in, over
    /// the wait to the interval's middle: positive when it told too long a wait.
    within: f64,
    /// |admission as seen - ETA middle| / the wait as seen.
    seen: f64,
}

fn eta_miss(s: &Seen) -> Option<EtaMiss> {
    let (at, middle) = s.first_eta?;
    let seen = s.admitted?.saturating_sub(at).as_secs_f64();
    // The last "waiting" answer came after the ETA's (it may be the same answer).
    let earliest = s.last_waiting.unwrap_or(at).max(at).saturating_sub(at).as_secs_f64();
    let wait = (earliest + seen) / 2.0;
    if wait < 1.0 {
        return None;
    }
    let outside = if middle > seen {
        middle - seen
    } else if middle < earliest {
        middle - earliest
    } else {
        0.0
    };
    Some(EtaMiss {
        within: outside / wait,
        seen: (seen - middle).abs() / seen.max(1e-3),
    })
}

fn quantile(values: &mut [f64], q: f64) -> f64 {
    values.sort_by(f64::total_cmp);
    values
        .get(((values.len() as f64 * q) as usize).min(values.len().saturating_sub(1)))
        .copied()
        .unwrap_or(0.0)
}

/// The report as lines for a person.
pub fn render(report: &RoomReport) -> String {
    format!(
        "students {}: admitted {}, abandoned {}, kept asking but not admitted {}\n\
         double admissions {}, order inversions {}, places lapsed while asking {}\n\
         admitted {:.1}/s (the room reported {:.1}/s, median)\n\
         ETA error p50 {:.0}%, p90 {:.0}% ({:.0}% of misses too long; as seen, poll delay included: p50 {:.0}%, p90 {:.0}%)\n\
         polls {} ({:.0}/s); enrolls answered {}; errors {}; ran {:.1} s\n",
        report.students,
        report.admitted,
        report.abandoned,
        report.kept_asking_not_admitted,
        report.double_admissions,
        report.order_inversions,
        report.lapsed_while_asking,
        report.admitted_per_s,
        report.reported_rate_per_s,
        report.eta_error_p50 * 100.0,
        report.eta_error_p90 * 100.0,
        report.eta_too_long_share * 100.0,
        report.eta_error_seen_p50 * 100.0,
        report.eta_error_seen_p90 * 100.0,
        report.polls,
        report.polls_per_s,
        report.enrolls_answered,
        report.errors,
        report.elapsed_s
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shared() -> Shared {
        let started = Instant::now();
        Shared {
            admin: Client::new("http://127.0.0.1:1", None),
            started,
            opens: started,
            deadline: started,
            in_flight: Semaphore::new(1),
            sections: 1,
            rates: Mutex::default(),
            errors: Default::default(),
            enrolls: Default::default(),
            history: None,
        }
    }

    fn seen(place: u64, last_waiting_s: u64, admitted_s: Option<u64>) -> Seen {
        Seen {
            place: Some(place),
            last_waiting: Some(Duration::from_secs(last_waiting_s)),
            admitted: admitted_s.map(Duration::from_secs),
            ..Seen::default()
        }
    }

    #[test]
    fn a_student_still_waiting_after_one_behind_was_admitted_is_an_inversion() {
        let shared = shared();
        let in_order = [seen(1, 3, Some(4)), seen(2, 5, Some(6)), seen(3, 7, None)];
        let report = measure(&shared, &in_order);
        assert_eq!((report.order_inversions, report.double_admissions), (0, 0));
        let out_of_order = [seen(1, 9, Some(10)), seen(2, 5, Some(6))];
        assert_eq!(measure(&shared, &out_of_order).order_inversions, 1);
        let twice = [seen(1, 3, Some(4)), seen(1, 3, Some(4))];
        assert_eq!(measure(&shared, &twice).double_admissions, 1);
    }

    #[test]
    fn an_eta_is_wrong_only_outside_the_interval_the_admission_lay_in() {
        let student = |eta_middle_s: f64| Seen {
            first_eta: Some((Duration::from_secs(10), eta_middle_s)),
            last_waiting: Some(Duration::from_secs(50)),
            admitted: Some(Duration::from_secs(70)),
            ..Seen::default()
        };
        // Admitted between 40 and 60 s after the ETA: a wait of 50 s in the middle.
        let inside = eta_miss(&student(45.0)).unwrap();
        assert_eq!(inside.within, 0.0);
        assert!((inside.seen - 15.0 / 60.0).abs() < 1e-9, "{}", inside.seen);
        assert!((eta_miss(&student(80.0)).unwrap().within - 20.0 / 50.0).abs() < 1e-9);
        assert!((eta_miss(&student(30.0)).unwrap().within + 10.0 / 50.0).abs() < 1e-9);
    }
}

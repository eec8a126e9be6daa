//! Setting a scenario up through the API, as the admin: the sections and students it
//! needs, and registration-day's appointments. What an earlier run left on the server
//! is reused and what is missing is added, so a run with more students or sections
//! than the last one grows the scenario instead of failing on a missing student.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::time::SystemTime;

use bytes::Bytes;
use murphy_core::Command;
use murphy_core::wire::{CommandsAnswer, CommandsRequest, ProblemBody, SectionsAnswer};
use serde::Serialize;

use crate::http::Connection;
use crate::scenario::{self, Scenario, student_id};
use crate::{BenchError, Options};

/// Commands in one setup request: the server's default `request_commands_max`.
const SETUP_COMMANDS_MAX: usize = 100;

/// What setup found on the server and what it added.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Setup {
    pub sections_reused: u64,
    pub sections_created: u64,
    pub students_reused: u64,
    pub students_created: u64,
}

impl Setup {
    pub fn reused_any(&self) -> bool {
        self.sections_reused + self.students_reused > 0
    }
}

/// Creates what the scenario needs and is missing, and sets everyone's appointment.
pub async fn setup(addr: SocketAddr, token: &str, options: &Options, run_id: &str) -> Result<Setup, BenchError> {
    let mut setup = Setup::default();
    let scenario = options.scenario;
    if scenario == Scenario::Hello {
        return Ok(setup);
    }
    let mut conn = Connection::open(addr, Some(token)).await.map_err(failed)?;
    let shape = &options.shape;
    let sections = scenario::sections(scenario, shape, run_id);
    let sections = if scenario == Scenario::LastSeat {
        sections // named after the run: always new
    } else {
        let existing = existing_sections(&mut conn).await?;
        let (old, new): (Vec<Command>, Vec<Command>) = sections
            .into_iter()
            .partition(|c| matches!(c, Command::CreateSection { section, .. } if existing.contains(section)));
        setup.sections_reused = old.len() as u64;
        new
    };
    // Reads need no students.
    let first_missing = match scenario {
        Scenario::Reads => None,
        _ => Some(students_present(&mut conn, shape.students).await?),
    };
    setup.students_reused = first_missing.unwrap_or(0) as u64;
    // Reads leave the catalog as they found it: only the scenarios that write are
    // skewed by seats an earlier run took.
    if setup.reused_any() && scenario != Scenario::Reads && !options.reuse {
        return Err(BenchError::Reused(format!(
            "this server holds an earlier run's {} sections and {} students, their seats taken \
             by that run, so this run would measure something else: serve murphy over a new data \
             directory for a clean run, or pass --reuse to run over them anyway",
            setup.sections_reused, setup.students_reused
        )));
    }
    setup.sections_created = sections.len() as u64;
    apply(&mut conn, sections).await?;
    if let Some(first_missing) = first_missing {
        setup.students_created = (shape.students - first_missing) as u64;
        apply(&mut conn, scenario::students(shape).split_off(first_missing)).await?;
    }
    if scenario == Scenario::RegistrationDay {
        let opens_at = SystemTime::now() + options.opens_after;
        apply(&mut conn, scenario::appointments(shape, opens_at)).await?;
    }
    Ok(setup)
}

/// The ids of the sections already on the server.
async fn existing_sections(conn: &mut Connection) -> Result<HashSet<String>, BenchError> {
    let answer = conn.get("/api/v1/sections", None).await.map_err(failed)?;
    if answer.status != 200 {
        return Err(refused(answer.status, &answer.body));
    }
    let catalog: SectionsAnswer = serde_json::from_slice(&answer.body).map_err(failed)?;
    Ok(catalog.sections.into_iter().map(|s| s.id).collect())
}

/// How many of students `0..wanted` exist. Every run creates its students in order,
/// from the first missing one, so they are a prefix: a binary search finds its end in
/// a dozen reads.
async fn students_present(conn: &mut Connection, wanted: usize) -> Result<usize, BenchError> {
    let (mut present, mut missing) = (0, wanted);
    while present < missing {
        let middle = present + (missing - present) / 2;
        let answer = conn
            .get(&format!("/api/v1/students/{}", student_id(middle)), None)
            .await
            .map_err(failed)?;
        match answer.status {
            200 => present = middle + 1,
            404 => missing = middle,
            status => return Err(refused(status, &answer.body)),
        }
    }
    Ok(present)
}

/// Applies admin commands in requests of `SETUP_COMMANDS_MAX`; a refusal other than
/// `already_exists` stops the setup.
async fn apply(conn: &mut Connection, commands: Vec<Command>) -> Result<(), BenchError> {
    for chunk in commands.chunks(SETUP_COMMANDS_MAX) {
        let request = CommandsRequest {
            client: None,
            seq: None,
            commands: chunk.to_vec(),
        };
        let body = Bytes::from(serde_json::to_vec(&request).expect("requests serialize"));
        let answer = conn.post_json("/api/v1/commands", body).await.map_err(failed)?;
        if answer.status != 200 {
            return Err(refused(answer.status, &answer.body));
        }
        let answer: CommandsAnswer = serde_json::from_slice(&answer.body).map_err(failed)?;
        if let Some(r) = answer
            .results
            .iter()
            .find(|r| r.outcome.is_refusal() && r.outcome.kind() != murphy_core::OutcomeKind::AlreadyExists)
        {
            return Err(BenchError::Setup(format!(
                "setup refused at lsn {}: {:?}",
                r.lsn, r.outcome
            )));
        }
    }
    Ok(())
}

fn failed(e: impl std::fmt::Display) -> BenchError {
    BenchError::Setup(e.to_string())
}

/// A refusal of setup, as the problem's own sentence where the server sent one.
fn refused(status: u16, body: &[u8]) -> BenchError {
    let said = serde_json::from_slice::<ProblemBody>(body)
        .map(|p| p.detail)
        .unwrap_or_else(|_| String::from_utf8_lossy(body).into_owned());
    BenchError::Setup(match status {
        401 | 403 => format!(
            "the server refused the admin token ({status}: {said}); pass the admin token of the \
             server at --url (--admin-token or MURPHY_ADMIN_TOKEN)"
        ),
        _ => format!("the server answered {status}: {said}"),
    })
}

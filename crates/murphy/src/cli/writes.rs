//! The commands that write: a student's (`enroll`, `drop`, `swap`, money) and the
//! registrar's (`admin token`, `admin import`). Writes go in a `Session`, so a retry
//! after a lost answer applies once; each outcome is printed as a sentence.

use std::path::Path;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use murphy_client::Session;
use murphy_core::wire::LineState;
use murphy_core::{Command as Cmd, Outcome};
use serde_json::json;

use super::ctx::Ctx;
use super::exit::{Status, refused, usage};
use super::import as csv;
use super::words::{line_sentence, sentence};

/// Sends commands in a fresh session and prints each outcome; any refusal among them
/// makes the status `Refused`.
pub async fn apply(ctx: &Ctx, commands: Vec<Cmd>) -> anyhow::Result<Status> {
    // While a registration window holds the student in line, say where they stand.
    let mut session = Session::new(ctx.client().clone()).on_line(Box::new(|line| eprintln!("{}", line_sentence(line))));
    let answer = session.send(commands.clone()).await.map_err(|e| ctx.explain(e))?;
    let mut refusals = false;
    let mut results = Vec::new();
    for (command, result) in commands.iter().zip(&answer.results) {
        let text = sentence(command, &result.outcome);
        refusals |= result.outcome.is_refusal();
        if ctx.json() {
            results.push(json!({"lsn": result.lsn, "outcome": result.outcome, "message": text}));
        } else {
            println!("{text}");
        }
    }
    if ctx.json() {
        println!("{}", json!({ "results": results }));
    }
    Ok(if refusals { Status::Refused } else { Status::Done })
}

/// `murphy line`: the student's place in the waiting room, joining it if a window is
/// open and the student holds none.
pub async fn line(ctx: &Ctx) -> anyhow::Result<Status> {
    let client = ctx.client();
    let mut answer = client.line().await.map_err(|e| ctx.explain(e))?;
    if answer.state == LineState::Out {
        answer = client.join_line(None).await.map_err(|e| ctx.explain(e))?;
    }
    if ctx.json() {
        println!("{}", serde_json::to_string(&answer)?);
    } else {
        println!("{}", line_sentence(&answer));
    }
    Ok(Status::Done)
}

pub async fn token(ctx: &Ctx, student: &str) -> anyhow::Result<Status> {
    let answer = ctx.client().create_token(student).await.map_err(|e| ctx.explain(e))?;
    if ctx.json() {
        println!("{}", json!({"student": answer.student, "token": answer.token}));
    } else {
        println!("{}", answer.token);
    }
    Ok(Status::Done)
}

/// Checks the whole file and the catalog (or the students) first, then sends: nothing
/// half-imported.
pub async fn import(ctx: &Ctx, file: &Path) -> anyhow::Result<Status> {
    let text = std::fs::read_to_string(file)
        .with_context(|| format!("reading {}", file.display()))
        .map_err(|e| usage(format!("cannot read the CSV file: {e:#}")))?;
    let commands = match csv::parse(&text) {
        Ok(commands) => commands,
        Err(problems) => {
            for p in &problems {
                eprintln!("{}: {p}", file.display());
            }
            return Err(refused(format!(
                "{} bad row(s) in {}; nothing was imported",
                problems.len(),
                file.display()
            )));
        }
    };
    if commands.iter().all(|c| matches!(c, Cmd::RecordCompletion { .. })) {
        return import_completions(ctx, &commands).await;
    }
    let catalog = ctx.client().sections().await.map_err(|e| ctx.explain(e))?;
    let existing: Vec<&str> = commands
        .iter()
        .filter_map(|c| match c {
            Cmd::CreateSection { section, .. } => catalog
                .sections
                .iter()
                .any(|s| s.id == *section)
                .then_some(section.as_str()),
            _ => None,
        })
        .collect();
    if !existing.is_empty() {
        return Err(refused(format!(
            "already exist: {}; nothing was imported",
            existing.join(", ")
        )));
    }
    send_all(ctx, &commands).await
}

/// Completions of students who all exist (each is asked for once); a course already on
/// a student's record is said, not an error.
async fn import_completions(ctx: &Ctx, commands: &[Cmd]) -> anyhow::Result<Status> {
    let mut students: Vec<&str> = commands
        .iter()
        .filter_map(|c| match c {
            Cmd::RecordCompletion { student, .. } => Some(student.as_str()),
            _ => None,
        })
        .collect();
    students.sort_unstable();
    students.dedup();
    let mut unknown = Vec::new();
    for student in students {
        match ctx.client().student(student).await {
            Ok(_) => {}
            Err(murphy_client::Error::Problem { status: 404, .. }) => unknown.push(student),
            Err(e) => return Err(ctx.explain(e)),
        }
    }
    if !unknown.is_empty() {
        return Err(refused(format!(
            "no such student(s): {}; nothing was imported",
            unknown.join(", ")
        )));
    }
    let results = send_chunks(ctx, commands, "completions").await?;
    let again = results.iter().filter(|o| **o == Outcome::AlreadyExists).count();
    let recorded = results.len() - again;
    if ctx.json() {
        println!("{}", json!({"recorded": recorded, "already_recorded": again}));
    } else if again > 0 {
        println!("recorded {recorded} completion(s); {again} were already on record");
    } else {
        println!("recorded {recorded} completion(s)");
    }
    Ok(Status::Done)
}

/// Sends in requests of `IMPORT_COMMANDS_MAX` commands, in one session, with a
/// progress bar; returns every outcome, in order.
async fn send_chunks(ctx: &Ctx, commands: &[Cmd], what: &str) -> anyhow::Result<Vec<Outcome>> {
    /// The server's default `request_commands_max`.
    const IMPORT_COMMANDS_MAX: usize = 100;
    let bar = if ctx.json() {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(commands.len() as u64)
    };
    let template = format!("{{bar:40}} {{pos}}/{{len}} {what}");
    bar.set_style(ProgressStyle::with_template(&template).expect("a valid template"));
    let mut session = Session::new(ctx.client().clone());
    let mut outcomes = Vec::with_capacity(commands.len());
    for chunk in commands.chunks(IMPORT_COMMANDS_MAX) {
        let answer = session.send(chunk.to_vec()).await.map_err(|e| ctx.explain(e))?;
        outcomes.extend(answer.results.into_iter().map(|r| r.outcome));
        bar.inc(chunk.len() as u64);
    }
    bar.finish_and_clear();
    Ok(outcomes)
}

/// Sections, sent in chunks; any refusal is named.
async fn send_all(ctx: &Ctx, commands: &[Cmd]) -> anyhow::Result<Status> {
    let outcomes = send_chunks(ctx, commands, "sections").await?;
    let refusals: Vec<String> = commands
        .iter()
        .zip(&outcomes)
        .filter(|(_, outcome)| outcome.is_refusal())
        .map(|(command, outcome)| sentence(command, outcome))
        .collect();
    if !refusals.is_empty() {
        return Err(refused(format!(
            "{} section(s) refused: {}",
            refusals.len(),
            refusals.join("; ")
        )));
    }
    if ctx.json() {
        println!("{}", json!({"imported": commands.len()}));
    } else {
        println!("imported {} section(s)", commands.len());
    }
    Ok(Status::Done)
}

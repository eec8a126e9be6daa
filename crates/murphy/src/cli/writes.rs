//! The commands that write: a student's (`enroll`, `drop`, `swap`, money) and the
//! registrar's (`admin token`, `admin import`). Writes go in a `Session`, so a retry
//! after a lost answer applies once; each outcome is printed as a sentence.

use std::path::Path;

use anyhow::Context;
use indicatif::ProgressBar;
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

/// Checks the whole file and the catalog (or the students) first, then sends it as one
/// `import` command: all of it is imported or nothing, even if the server stops
/// half-way.
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
        return import_completions(ctx, commands).await;
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
    import_sections(ctx, commands).await
}

/// Completions of students who all exist (each is asked for once, so every unknown one
/// is named); a course already on a student's record is said, not an error.
async fn import_completions(ctx: &Ctx, commands: Vec<Cmd>) -> anyhow::Result<Status> {
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
    let (rows, again) = send_import(ctx, commands).await?;
    let recorded = rows - again;
    if ctx.json() {
        println!("{}", json!({"recorded": recorded, "already_recorded": again}));
    } else if again > 0 {
        println!("recorded {recorded} completion(s); {again} were already on record");
    } else {
        println!("recorded {recorded} completion(s)");
    }
    Ok(Status::Done)
}

/// Sends the rows as one `import` command, in a session (a retry after a lost answer
/// applies once): the server applies all of them or, at the first refused row, none.
/// Returns the rows applied and the completions among them already on record.
async fn send_import(ctx: &Ctx, rows: Vec<Cmd>) -> anyhow::Result<(u32, u32)> {
    if rows.len() > murphy_core::command::IMPORT_ROWS_MAX {
        return Err(refused(format!(
            "the file has {} rows, over the {} one import carries; nothing was imported. Split it into files \
             of at most {} rows, each imported whole",
            rows.len(),
            murphy_core::command::IMPORT_ROWS_MAX,
            murphy_core::command::IMPORT_ROWS_MAX
        )));
    }
    let bar = if ctx.json() {
        ProgressBar::hidden()
    } else {
        ProgressBar::new_spinner().with_message(format!("importing {} row(s) at once", rows.len()))
    };
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    let import = Cmd::Import { rows };
    let mut session = Session::new(ctx.client().clone());
    let answer = session.send(vec![import.clone()]).await;
    bar.finish_and_clear();
    let answer = answer.map_err(|e| ctx.explain(e))?;
    let outcome = &answer.results.first().context("the server answered no result")?.outcome;
    match outcome {
        Outcome::Imported { rows, already_recorded } => Ok((*rows, *already_recorded)),
        refusal => Err(refused(sentence(&import, refusal))),
    }
}

/// Sections, imported in one command.
async fn import_sections(ctx: &Ctx, commands: Vec<Cmd>) -> anyhow::Result<Status> {
    let (rows, _) = send_import(ctx, commands).await?;
    if ctx.json() {
        println!("{}", json!({"imported": rows}));
    } else {
        println!("imported {rows} section(s)");
    }
    Ok(Status::Done)
}

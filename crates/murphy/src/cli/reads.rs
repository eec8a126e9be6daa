//! The commands that only read: `sections`, `section`, `schedule`, `balance` and
//! `watch`. Each says where its answer came from (downloaded, revalidated with a `304`,
//! or the cache unasked), so a stale answer is never mistaken for a fresh one.

use std::time::Duration;

use murphy_client::{Cached, Source};
use murphy_core::Meeting;
use murphy_core::wire::{SectionEvent, SectionView, SectionsAnswer};
use serde_json::json;

use super::ctx::Ctx;
use super::exit::Status;
use super::schedule;
use super::table::{TITLE_CHARS_MAX, fit, natural_cmp, render};
use super::words::{dollars, ordinal};

pub async fn sections(ctx: &Ctx, search: Option<String>) -> anyhow::Result<Status> {
    // A search is the server's (`q=`): only the matches travel.
    let path = match &search {
        Some(words) => format!("/api/v1/sections?q={}", query_value(words)),
        None => "/api/v1/sections".to_owned(),
    };
    let got = ctx
        .cache
        .get::<SectionsAnswer>(&path, ctx.freshness())
        .await
        .map_err(|e| ctx.explain(e))?;
    let mut found: Vec<&SectionView> = got.value.sections.iter().collect();
    found.sort_by(|a, b| natural_cmp(&a.id, &b.id));
    if ctx.json() {
        println!(
            "{}",
            json!({"version": got.value.version, "sections": found, "cache": cache_json(&got)})
        );
        return Ok(Status::Done);
    }
    if !found.is_empty() {
        print!("{}", sections_table(&found));
    }
    let count = plural(found.len(), "section", "sections");
    let count = match &search {
        Some(s) => format!("{count} {} {s:?}", if found.len() == 1 { "matches" } else { "match" }),
        None => count,
    };
    println!("{count}; {}", cache_text(&got));
    Ok(Status::Done)
}

/// `text` as a URL query value: letters, digits and `-._~` as they are, the rest
/// percent-encoded (UTF-8).
fn query_value(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// One line per section under a header, columns as wide as their widest cell.
fn sections_table(sections: &[&SectionView]) -> String {
    let mut rows = vec![
        ["SECTION", "TITLE", "UNITS", "ENROLLED", "WAITLIST", "MEETS"]
            .map(String::from)
            .to_vec(),
    ];
    for s in sections {
        let title = if s.title.chars().count() > TITLE_CHARS_MAX {
            fit(&s.title, TITLE_CHARS_MAX)
        } else {
            s.title.clone()
        };
        rows.push(vec![
            s.id.clone(),
            title,
            s.units.to_string(),
            format!("{}/{}", s.enrolled, s.capacity),
            format!("{}/{}", s.waitlisted, s.waitlist_capacity),
            meetings_text(&s.meetings),
        ]);
    }
    render(&rows)
}

pub async fn section(ctx: &Ctx, id: &str) -> anyhow::Result<Status> {
    let got = ctx
        .cache
        .section(id, ctx.freshness())
        .await
        .map_err(|e| ctx.explain(e))?;
    let s = &got.value;
    if ctx.json() {
        println!("{}", json!({"section": s, "cache": cache_json(&got)}));
        return Ok(Status::Done);
    }
    println!("{}  {}  ({} units)", s.id, s.title, s.units);
    let open = s.capacity.saturating_sub(s.enrolled);
    println!(
        "seats: {} of {} taken, {open} open{}; waitlist: {} of {}",
        s.enrolled,
        s.capacity,
        held_clause(s.reserved.iter().map(|r| r.held).sum()),
        s.waitlisted,
        s.waitlist_capacity
    );
    for line in registrar_lines(s) {
        println!("{line}");
    }
    println!("meets: {}", meetings_text(&s.meetings));
    println!("version {}; {}", s.version, cache_text(&got));
    Ok(Status::Done)
}

/// ", 10 of them held for reservations", or nothing when none are.
fn held_clause(held: u32) -> String {
    if held == 0 {
        String::new()
    } else {
        format!(", {held} of them held for reservations")
    }
}

/// What the registrar's rules say about a section, a line each, only those that apply:
/// its reservations, prerequisites and linked sections.
fn registrar_lines(s: &SectionView) -> Vec<String> {
    let mut lines: Vec<String> = s
        .reserved
        .iter()
        .map(|r| {
            format!(
                "reserved: {} seats for {} until {}, {} still held",
                r.seats,
                r.population,
                r.until
                    .format(&time::format_description::well_known::Rfc3339)
                    .unwrap_or_default(),
                r.held
            )
        })
        .collect();
    if !s.prerequisites.is_empty() {
        lines.push(format!("requires: {}", s.prerequisites.join(", ")));
    }
    if !s.linked.is_empty() {
        lines.push(format!(
            "taken with one of: {} (enroll with --with)",
            s.linked.join(", ")
        ));
    }
    if let Some(lecture) = &s.linked_to {
        lines.push(format!(
            "taken with: {lecture} (murphy enroll {lecture} --with {})",
            s.id
        ));
    }
    lines
}

pub async fn schedule(ctx: &Ctx) -> anyhow::Result<Status> {
    let me = ctx.student().await?;
    let fresh = ctx.freshness();
    let student = ctx.cache.student(&me, fresh).await.map_err(|e| ctx.explain(e))?.value;
    let mut rows: Vec<(String, Vec<Meeting>)> = Vec::new();
    for id in &student.enrolled {
        let s = ctx.cache.section(id, fresh).await.map_err(|e| ctx.explain(e))?.value;
        rows.push((s.id, s.meetings));
    }
    // Each line's length, for "3rd of 12".
    let mut lines = Vec::new();
    for id in &student.waitlisted {
        let s = ctx.cache.section(id, fresh).await.map_err(|e| ctx.explain(e))?.value;
        let place = student.waitlist_positions.get(id).copied().unwrap_or(0);
        lines.push((s.id, place, s.waitlisted));
    }
    if ctx.json() {
        let sections: Vec<_> = rows.iter().map(|(id, m)| json!({"id": id, "meetings": m})).collect();
        let waiting: Vec<_> = lines
            .iter()
            .map(|(id, place, of)| json!({"id": id, "position": place, "waitlisted": of}))
            .collect();
        println!(
            "{}",
            json!({"student": me, "enrolled": sections, "waitlisted": student.waitlisted, "waitlists": waiting})
        );
        return Ok(Status::Done);
    }
    print!("{}", schedule::render(&rows));
    println!("{} units enrolled", student.units);
    for (id, place, of) in &lines {
        println!("waitlisted: {id}, {} of {of}", ordinal(*place));
    }
    if !lines.is_empty() {
        println!("when a seat frees up, the first in line who can take it is enrolled at once: nothing to do but wait");
    }
    Ok(Status::Done)
}

pub async fn balance(ctx: &Ctx) -> anyhow::Result<Status> {
    let me = ctx.student().await?;
    let got = ctx
        .cache
        .student(&me, ctx.freshness())
        .await
        .map_err(|e| ctx.explain(e))?;
    let cents = got.value.balance_cents;
    if ctx.json() {
        println!(
            "{}",
            json!({"student": me, "balance_cents": cents, "hold": cents < 0, "cache": cache_json(&got)})
        );
    } else if cents < 0 {
        println!("your balance is {}: that is a hold; pay it to enroll", dollars(cents));
    } else {
        println!("your balance is {}", dollars(cents));
    }
    Ok(Status::Done)
}

/// Live seat counts; a dropped stream is resumed from the last event it sent.
pub async fn watch(ctx: &Ctx, id: &str) -> anyhow::Result<Status> {
    let mut last: Option<u64> = None;
    let follow = async {
        loop {
            let mut stream = ctx.client().events(Some(id), last).await.map_err(|e| ctx.explain(e))?;
            loop {
                match stream.next().await {
                    Ok(Some(event)) => print_event(ctx, &event),
                    Ok(None) | Err(_) => break,
                }
                last = stream.last_id();
            }
            eprintln!("(the stream ended; reconnecting)");
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    };
    tokio::select! {
        result = follow => result,
        _ = tokio::signal::ctrl_c() => Ok(Status::Done),
    }
}

fn print_event(ctx: &Ctx, e: &SectionEvent) {
    if ctx.json() {
        println!("{}", json!(e));
        return;
    }
    let now = time::OffsetDateTime::now_utc();
    let open = e.capacity.saturating_sub(e.enrolled);
    println!(
        "{:02}:{:02}:{:02}Z {}: {}/{} enrolled, {open} open{}, {} waitlisted",
        now.hour(),
        now.minute(),
        now.second(),
        e.id,
        e.enrolled,
        e.capacity,
        held_clause(e.held),
        e.waitlisted
    );
}

pub fn meetings_text(meetings: &[Meeting]) -> String {
    if meetings.is_empty() {
        return "no meetings".into();
    }
    let parts: Vec<String> = meetings
        .iter()
        .map(|m| format!("{} {}-{}", m.days, m.start, m.end))
        .collect();
    parts.join(", ")
}

/// "1 section", "45 sections".
fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn cache_json<T>(got: &Cached<T>) -> serde_json::Value {
    json!({"source": got.source, "revalidated": got.revalidated(), "age_ms": got.age.as_millis() as u64})
}

/// Says where the answer came from, so a stale one is never mistaken for a fresh one.
fn cache_text<T>(got: &Cached<T>) -> String {
    match got.source {
        Source::Downloaded => "downloaded from the server".into(),
        Source::Revalidated => "revalidated with the server (304 Not Modified, not re-downloaded)".into(),
        Source::Cache => format!(
            "from the cache, {}s old (not checked with the server)",
            got.age.as_secs()
        ),
    }
}

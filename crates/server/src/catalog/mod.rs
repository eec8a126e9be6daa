//! The catalog as a browser reads it: `GET /api/v1/sections` with filters, in pages,
//! each page with an ETag of its own, and every answer's bytes compressed once per
//! content and kept (`bodies.rs`).
//!
//! What a page holds is found in three steps, each paying only for what changed:
//! - `Index` (`index.rs`): every section's fixed facts (id, title, course, meetings:
//!   none change after creation) in natural id order, with the text a search looks in.
//!   Made once per catalog shape (again only when a section is added), shared by every
//!   snapshot since.
//! - the sections the fixed part of a filter (course, words, days, hours) matches,
//!   kept per filter on the index.
//! - the page itself: from the cursor on, those sections read in the snapshot (seats,
//!   `open`, versions) up to `limit`.
//!
//! A page's ETag is a hash of what it shows: its sections' ids and versions and where
//! the next page starts. A write to a section on another page leaves it alone; on
//! registration day most pages revalidate with `304` while the catalog's version races.

mod bodies;
mod index;

use std::hash::{Hash, Hasher};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use murphy_core::wire::SectionsQuery;
use murphy_core::{Days, Section, State, TimeOfDay};

pub use bodies::{Bodies, Encoding};
pub use index::Index;

/// Sections one page may hold (`limit`).
pub const PAGE_SECTIONS_MAX: usize = 1000;
/// Characters a search (`q`) or a course prefix may have.
const SEARCH_CHARS_MAX: usize = 200;

/// What a catalog read asks for.
pub enum Ask {
    /// No filter, no page: the whole catalog, as it always was.
    Whole,
    Page(Filter),
}

/// A checked catalog query.
#[derive(Debug, Default)]
pub struct Filter {
    /// A course (`COMSCI-35L`) or a department (`COMSCI`), any case.
    course: Option<String>,
    /// Lowercase words, each of which the id or the title must contain.
    words: Vec<String>,
    /// Only sections with a seat anyone may take (free and not held by a reservation).
    open: bool,
    /// Only sections meeting on these days alone.
    days: Option<Days>,
    /// Only sections whose meetings all start at or after this...
    start: Option<TimeOfDay>,
    /// ...and end at or before this.
    end: Option<TimeOfDay>,
    /// `None`: every match, in one answer.
    limit: Option<usize>,
    /// The id the previous page ended with.
    after: Option<String>,
}

/// The checked request of `query`, or a sentence that says what is wrong with it.
pub fn check(query: SectionsQuery) -> Result<Ask, String> {
    let bounded = |name: &str, text: &Option<String>| match text {
        Some(t) if t.chars().count() > SEARCH_CHARS_MAX => {
            Err(format!("{name} is at most {SEARCH_CHARS_MAX} characters"))
        }
        _ => Ok(()),
    };
    bounded("q", &query.q)?;
    bounded("course", &query.course)?;
    let time = |name: &str, text: Option<String>| -> Result<Option<TimeOfDay>, String> {
        text.map(|t| t.parse().map_err(|e| format!("{name}: {e}"))).transpose()
    };
    if let Some(limit) = query.limit
        && !(1..=PAGE_SECTIONS_MAX).contains(&limit)
    {
        return Err(format!("limit is 1 to {PAGE_SECTIONS_MAX} sections"));
    }
    let after = query.cursor.map(|c| decode_cursor(&c)).transpose()?;
    let filter = Filter {
        course: query.course.map(|c| c.trim().to_owned()).filter(|c| !c.is_empty()),
        words: query
            .q
            .unwrap_or_default()
            .split_whitespace()
            .map(str::to_lowercase)
            .collect(),
        open: query.open.unwrap_or(false),
        days: query.days.as_deref().map(days).transpose()?,
        start: time("start", query.start)?,
        end: time("end", query.end)?,
        limit: query.limit,
        after,
    };
    Ok(if filter.is_whole() {
        Ask::Whole
    } else {
        Ask::Page(filter)
    })
}

impl Filter {
    fn is_whole(&self) -> bool {
        self.key().is_empty() && !self.open && self.limit.is_none() && self.after.is_none()
    }

    /// The fixed part of the filter (what does not depend on seats), as a key: equal
    /// keys match the same sections of one catalog shape.
    fn key(&self) -> String {
        let mut key = String::new();
        if let Some(course) = &self.course {
            key.push_str(&format!("c={};", course.to_ascii_uppercase()));
        }
        for word in &self.words {
            key.push_str(&format!("q={word};"));
        }
        if let Some(days) = self.days {
            key.push_str(&format!("d={days};"));
        }
        if let Some(start) = self.start {
            key.push_str(&format!("s={start};"));
        }
        if let Some(end) = self.end {
            key.push_str(&format!("e={end};"));
        }
        key
    }

    /// The whole query as a key: equal keys ask for the same page of one state.
    fn page_key(&self) -> String {
        format!("{}o={};l={:?};a={:?}", self.key(), self.open, self.limit, self.after)
    }

    /// Whether `s`'s seats let it on the page (`open`).
    fn seats_allow(&self, s: &Section) -> bool {
        !self.open || s.free() > s.held()
    }
}

/// One page: its sections, where the next one starts, and its tag.
pub struct Page<'s> {
    pub sections: Vec<&'s Section>,
    /// The cursor of the next page, when more sections match.
    pub next: Option<String>,
    /// A hash of everything the page shows: its ETag.
    tag: u64,
}

impl Page<'_> {
    /// The page's strong ETag body (without quotes and encoding).
    pub fn tag(&self) -> String {
        format!("p{:016x}", self.tag)
    }

    /// The page's version: its newest section's (0 for an empty page). A function of
    /// what it shows, like its ETag, so that equal tags mean equal bytes.
    pub fn version(&self) -> u64 {
        self.sections.iter().map(|s| s.version).max().unwrap_or(0)
    }
}

impl Index {
    /// The tag of the page `filter` asks for in `state`, remembered per catalog
    /// version: while no section changes (browsing before registration opens, a quiet
    /// hour), a page is found once and its tag answered from memory, and the page's
    /// body is the one `Bodies` keeps under it.
    pub fn tag(&self, state: &State, filter: &Filter) -> String {
        let key = filter.page_key();
        let version = state.catalog_version();
        if let Some(tag) = self.remembered(&key, version) {
            return tag;
        }
        let tag = self.page(state, filter).tag();
        self.remember(key, version, tag.clone());
        tag
    }

    /// The page of `state`'s catalog that `filter` asks for.
    pub fn page<'s>(&self, state: &'s State, filter: &Filter) -> Page<'s> {
        let limit = filter.limit.unwrap_or(usize::MAX);
        let mut sections = Vec::new();
        let mut next = None;
        for id in self.matching(filter) {
            // The index is of this state's catalog shape: its sections all exist.
            let section = state.section(id).expect("an indexed section exists");
            if !filter.seats_allow(section) {
                continue;
            }
            if sections.len() == limit {
                next = sections.last().map(|s: &&Section| encode_cursor(&s.id));
                break;
            }
            sections.push(section);
        }
        // Stable for one build: a new binary may tag the same page anew, which costs a
        // client one download, never a wrong 304.
        let mut hasher = std::hash::DefaultHasher::new();
        (filter.key(), filter.open, filter.limit, &filter.after).hash(&mut hasher);
        for s in &sections {
            (&s.id, s.version).hash(&mut hasher);
        }
        next.hash(&mut hasher);
        Page {
            sections,
            next,
            tag: hasher.finish(),
        }
    }
}

/// A cursor is the id the page ended with, base64url: opaque to clients, and stable
/// while sections are added (the next page starts after that id, wherever it is).
fn encode_cursor(id: &str) -> String {
    URL_SAFE_NO_PAD.encode(id)
}

/// Any cursor is a place in the natural order: one murphy gave is the id a page ended
/// with; another (a stranger's, or an old one of a section since renamed) reads as
/// the text it decodes to, and the walk goes on after it, never refused.
fn decode_cursor(cursor: &str) -> Result<String, String> {
    if cursor.chars().count() > SEARCH_CHARS_MAX {
        return Err(format!(
            "cursor is at most {SEARCH_CHARS_MAX} characters; pass the `next` of a page as it came"
        ));
    }
    let bytes = URL_SAFE_NO_PAD
        .decode(cursor.trim_end_matches('='))
        .unwrap_or_else(|_| cursor.as_bytes().to_vec());
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// The days of a filter: letters of M T W R F S U, as a set. Unlike a meeting's days,
/// a letter given twice is the same day again, not a mistake worth refusing a search for.
fn days(text: &str) -> Result<Days, String> {
    if text.is_empty() {
        return Err("days: give one or more of the letters M T W R F S U".into());
    }
    text.chars().try_fold(Days::NONE, |set, letter| {
        let day: Days = letter.to_string().parse().map_err(|e| format!("days: {e}"))?;
        Ok(set.union(day))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_strangers_are_places() {
        let cursor = encode_cursor("COMSCI-35L-1");
        assert_eq!(decode_cursor(&cursor).unwrap(), "COMSCI-35L-1");
        assert_eq!(decode_cursor("not a cursor!").unwrap(), "not a cursor!");
        assert_eq!(decode_cursor("").unwrap(), "");
        assert!(decode_cursor(&"x".repeat(SEARCH_CHARS_MAX + 1)).is_err());
    }

    #[test]
    fn a_bare_query_is_the_whole_catalog_and_a_limit_is_checked() {
        assert!(matches!(check(SectionsQuery::default()), Ok(Ask::Whole)));
        let page = SectionsQuery {
            limit: Some(10),
            ..Default::default()
        };
        assert!(matches!(check(page), Ok(Ask::Page(_))));
        let zero = SectionsQuery {
            limit: Some(0),
            ..Default::default()
        };
        assert!(check(zero).is_err());
    }

    #[test]
    fn days_are_a_set_and_a_stranger_letter_is_refused() {
        assert_eq!(days("TTUFM").unwrap(), days("MTFU").unwrap());
        assert!(days("").is_err());
        assert!(days("MX").unwrap_err().contains("days:"));
    }
}

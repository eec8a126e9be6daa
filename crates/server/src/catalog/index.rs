//! `Index`: the catalog's fixed facts in natural id order, and which sections each
//! filter's fixed part matches. Sections are never removed and their ids, titles,
//! courses and meetings never change, so an index holds for every state with the same
//! number of sections; `Snapshot` keeps it until a section is added.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use murphy_core::{Days, State, natural_cmp};

use super::Filter;

/// Filters whose matches an index keeps; past it, it forgets them all and starts over
/// (a bound, not a policy: a registrar's students search for far fewer things at once).
const FILTERS_KEPT_MAX: usize = 256;
/// Pages whose tags an index remembers, likewise.
const TAGS_KEPT_MAX: usize = 4096;

pub struct Index {
    /// Every section, in natural id order.
    entries: Vec<Entry>,
    /// Filter key -> the positions in `entries` it matches, ascending.
    matches: Mutex<HashMap<String, Arc<[u32]>>>,
    /// Page key -> the catalog version its tag was found at, and the tag.
    tags: Mutex<HashMap<String, (u64, String)>>,
}

struct Entry {
    id: String,
    /// `id title`, lowercase: what a search looks in.
    text: String,
    /// The course, uppercase.
    course: String,
    /// Every day any meeting is on.
    days: Days,
    /// The earliest start and the latest end of its meetings, in minutes.
    hours: Option<(u16, u16)>,
}

impl Index {
    pub fn new(state: &State) -> Index {
        let mut entries: Vec<Entry> = state
            .sections()
            .map(|s| Entry {
                id: s.id.clone(),
                text: format!("{} {}", s.id, s.title).to_lowercase(),
                course: s.course.to_ascii_uppercase(),
                days: s.meetings.iter().fold(Days::NONE, |d, m| d.union(m.days)),
                hours: s
                    .meetings
                    .iter()
                    .map(|m| (m.start.minutes(), m.end.minutes()))
                    .reduce(|(a, b), (c, d)| (a.min(c), b.max(d))),
            })
            .collect();
        entries.sort_by(|a, b| natural_cmp(&a.id, &b.id));
        Index {
            entries,
            matches: Mutex::new(HashMap::new()),
            tags: Mutex::new(HashMap::new()),
        }
    }

    pub(super) fn remembered(&self, key: &str, version: u64) -> Option<String> {
        let tags = self.tags.lock().expect("not poisoned");
        let (at, tag) = tags.get(key)?;
        (*at == version).then(|| tag.clone())
    }

    pub(super) fn remember(&self, key: String, version: u64, tag: String) {
        let mut tags = self.tags.lock().expect("not poisoned");
        if tags.len() >= TAGS_KEPT_MAX {
            tags.clear();
        }
        tags.insert(key, (version, tag));
    }

    /// How many sections it indexes (the shape it holds for).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// The ids `filter`'s fixed part matches, after its cursor, in natural order.
    pub(super) fn matching<'a>(&'a self, filter: &Filter) -> impl Iterator<Item = &'a str> + 'a {
        let first = match &filter.after {
            Some(after) => self.entries.partition_point(|e| natural_cmp(&e.id, after).is_le()),
            None => 0,
        };
        let key = filter.key();
        let positions: Box<dyn Iterator<Item = usize>> = if key.is_empty() {
            Box::new(first..self.entries.len())
        } else {
            let matches = self.matches_of(&key, filter);
            let from = matches.partition_point(|&i| (i as usize) < first);
            Box::new((from..matches.len()).map(move |k| matches[k] as usize))
        };
        positions.map(|i| self.entries[i].id.as_str())
    }

    fn matches_of(&self, key: &str, filter: &Filter) -> Arc<[u32]> {
        if let Some(found) = self.matches.lock().expect("not poisoned").get(key) {
            return found.clone();
        }
        let found: Arc<[u32]> = (0..self.entries.len() as u32)
            .filter(|&i| entry_matches(&self.entries[i as usize], filter))
            .collect();
        let mut kept = self.matches.lock().expect("not poisoned");
        if kept.len() >= FILTERS_KEPT_MAX {
            kept.clear();
        }
        kept.insert(key.to_owned(), found.clone());
        found
    }
}

fn entry_matches(e: &Entry, f: &Filter) -> bool {
    let course = f.course.as_ref().is_none_or(|c| {
        let c = c.to_ascii_uppercase();
        e.course == c || e.course.strip_prefix(&c).is_some_and(|rest| rest.starts_with('-'))
    });
    let words = f.words.iter().all(|w| e.text.contains(w.as_str()));
    let days = f.days.is_none_or(|d| e.days.within(d));
    let start = f
        .start
        .is_none_or(|t| e.hours.is_none_or(|(first, _)| first >= t.minutes()));
    let end = f
        .end
        .is_none_or(|t| e.hours.is_none_or(|(_, last)| last <= t.minutes()));
    course && words && days && start && end
}

//! The report: for each of the five checks, how much was checked, how many violations
//! were found, and the first few counter-examples as sentences. Serializable (the
//! binary's `--json`) and printable as a summary table.

use std::fmt;

use serde::Serialize;

use crate::text;

/// How many counter-examples each check keeps; the count goes on past it.
pub const EXAMPLES_MAX: usize = 5;

/// The result of one check.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// What `checked` counts, e.g. "log entries replayed".
    pub unit: &'static str,
    pub checked: u64,
    pub violations: u64,
    /// The first `EXAMPLES_MAX` violations, each a sentence naming LSNs, clients,
    /// seqs, sections and times.
    pub examples: Vec<String>,
    /// What the count means beyond its unit, when that needs saying.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl Finding {
    pub(crate) fn new(unit: &'static str) -> Self {
        Finding {
            unit,
            checked: 0,
            violations: 0,
            examples: Vec::new(),
            note: None,
        }
    }

    /// Counts a violation. The sentence is built only while examples are still kept,
    /// so a million cascading violations cost a million counts, not a million strings.
    pub(crate) fn fail(&mut self, sentence: impl FnOnce() -> String) {
        self.violations += 1;
        if self.examples.len() < EXAMPLES_MAX {
            self.examples.push(sentence());
        }
    }

    pub fn is_clean(&self) -> bool {
        self.violations == 0
    }
}

/// What `check` found, one `Finding` per guarantee of docs/DESIGN.md §5 it verifies.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Report {
    pub log_entries: u64,
    pub history_records: u64,
    /// 1. Replaying the log reproduces it, and the rules hold after every entry.
    pub invariants: Finding,
    /// 2. Every answered command is in the log at its LSN, with the same outcome.
    pub lost_writes: Finding,
    /// 3. An answer given before a request was sent has the smaller LSNs.
    pub real_time: Finding,
    /// 4. Each session's requests are applied in seq order, each once, without gaps,
    ///    and every retry was answered alike.
    pub sessions: Finding,
    /// 5. Nobody refused a seat is overtaken by a later request while no seat freed.
    pub fcfs: Finding,
}

impl Report {
    /// The checks with their names, in the order of the issue.
    pub fn findings(&self) -> [(&'static str, &Finding); 5] {
        [
            ("invariants", &self.invariants),
            ("no lost writes", &self.lost_writes),
            ("strict serializability", &self.real_time),
            ("sessions", &self.sessions),
            ("first come, first served", &self.fcfs),
        ]
    }

    /// The violations of all checks together.
    pub fn violations(&self) -> u64 {
        self.findings().iter().map(|(_, f)| f.violations).sum()
    }

    pub fn is_clean(&self) -> bool {
        self.findings().iter().all(|(_, f)| f.is_clean())
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verdict = if self.is_clean() {
            "clean".to_owned()
        } else {
            text::count(self.violations(), "violation", "violations")
        };
        writeln!(
            f,
            "murphy check: {} log entries, {} history records: {verdict}",
            self.log_entries, self.history_records
        )?;
        writeln!(
            f,
            "{:<26} {:>10}  {:<28} {:>10}",
            "check", "checked", "(what)", "violations"
        )?;
        for (name, finding) in self.findings() {
            writeln!(
                f,
                "{:<26} {:>10}  {:<28} {:>10}",
                name, finding.checked, finding.unit, finding.violations
            )?;
        }
        for (name, finding) in self.findings() {
            if let Some(note) = &finding.note {
                writeln!(f, "{name}: {note}")?;
            }
        }
        for (name, finding) in self.findings() {
            if finding.is_clean() {
                continue;
            }
            let violations = text::count(finding.violations, "violation", "violations");
            if finding.examples.len() as u64 == finding.violations {
                writeln!(f, "\n{name}: {violations}:")?;
            } else {
                writeln!(f, "\n{name}: {violations}; the first {}:", finding.examples.len())?;
            }
            for example in &finding.examples {
                writeln!(f, "  - {example}")?;
            }
        }
        Ok(())
    }
}

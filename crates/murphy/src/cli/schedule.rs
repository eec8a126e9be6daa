//! `murphy schedule`: a weekly grid in the terminal, one row per half hour from the
//! earliest meeting to the latest, one column per weekday that has a meeting (Monday to
//! Friday always), each cell naming the section that meets then.

use murphy_core::{Days, Meeting};

/// Rows are this many minutes: registrar times are on the half hour or close to it.
const ROW_MINUTES: u16 = 30;
const CELL_WIDTH: usize = 14;
const DAY_NAMES: [(&str, &str); 7] = [
    ("M", "Mon"),
    ("T", "Tue"),
    ("W", "Wed"),
    ("R", "Thu"),
    ("F", "Fri"),
    ("S", "Sat"),
    ("U", "Sun"),
];

/// The grid for `sections` (each an id and its meetings); a note when nothing meets.
pub fn render(sections: &[(String, Vec<Meeting>)]) -> String {
    let meetings: Vec<(&str, &Meeting)> = sections
        .iter()
        .flat_map(|(id, ms)| ms.iter().map(move |m| (id.as_str(), m)))
        .collect();
    let (Some(first), Some(last)) = (
        meetings.iter().map(|(_, m)| m.start.minutes()).min(),
        meetings.iter().map(|(_, m)| m.end.minutes()).max(),
    ) else {
        return "no scheduled meetings\n".into();
    };
    let days: Vec<(Days, &str)> = DAY_NAMES
        .iter()
        .enumerate()
        .filter(|(i, (letter, _))| *i < 5 || meetings.iter().any(|(_, m)| m.days.overlaps(day(letter))))
        .map(|(_, (letter, name))| (day(letter), *name))
        .collect();
    let mut out = format!("{:<6}", "");
    for (_, name) in &days {
        out.push_str(&format!(" {name:<CELL_WIDTH$}"));
    }
    out.truncate(out.trim_end().len());
    out.push('\n');
    let mut row = first - first % ROW_MINUTES;
    while row < last {
        out.push_str(&format!("{:02}:{:02} ", row / 60, row % 60));
        for (d, _) in &days {
            let cell = meetings
                .iter()
                .find(|(_, m)| m.days.overlaps(*d) && m.start.minutes() < row + ROW_MINUTES && row < m.end.minutes())
                .map_or(".", |(id, _)| id);
            out.push_str(&format!(" {:<CELL_WIDTH$}", truncate(cell)));
        }
        out.truncate(out.trim_end().len());
        out.push('\n');
        row += ROW_MINUTES;
    }
    out
}

fn day(letter: &str) -> Days {
    letter.parse().expect("a day letter")
}

fn truncate(text: &str) -> &str {
    match text.char_indices().nth(CELL_WIDTH) {
        Some((i, _)) => &text[..i],
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meeting(days: &str, start: &str, end: &str) -> Meeting {
        Meeting::parse(days, start, end).unwrap()
    }

    #[test]
    fn a_week_in_half_hours() {
        let grid = render(&[
            ("COMSCI-31-1".into(), vec![meeting("MW", "10:00", "10:50")]),
            ("MATH-31A-1".into(), vec![meeting("TR", "11:00", "11:50")]),
        ]);
        let lines: Vec<&str> = grid.lines().collect();
        assert_eq!(lines.len(), 5, "{grid}");
        assert!(lines[0].contains("Mon") && lines[0].contains("Fri") && !lines[0].contains("Sat"));
        assert!(
            lines[1].starts_with("10:00  COMSCI-31-1    .              COMSCI-31-1"),
            "{grid}"
        );
        assert!(lines[3].starts_with("11:00  .              MATH-31A-1"), "{grid}");
    }

    #[test]
    fn nothing_to_show() {
        assert_eq!(render(&[("X-1".into(), vec![])]), "no scheduled meetings\n");
    }
}

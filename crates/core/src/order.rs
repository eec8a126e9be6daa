//! The order ids are shown in: runs of digits compare as numbers, so `COMSCI-31`
//! comes before `COMSCI-111`. The CLI's tables and the catalog's pages both list
//! sections in it.

use std::cmp::Ordering;

/// Compares ids with their runs of digits as numbers: `MATH-2` < `MATH-10` <
/// `MATH-31A` < `MATH-31B`. Text runs compare as text; on a tie (`07` and `7`) the
/// plain text decides, so the order is total.
pub fn natural_cmp(a: &str, b: &str) -> Ordering {
    let (mut x, mut y) = (a, b);
    loop {
        match (x.is_empty(), y.is_empty()) {
            (true, true) => return a.cmp(b),
            (true, false) => return Ordering::Less,
            (false, true) => return Ordering::Greater,
            _ => {}
        }
        let (run_x, rest_x) = split_run(x);
        let (run_y, rest_y) = split_run(y);
        let order = match (digits(run_x), digits(run_y)) {
            (true, true) => {
                let (nx, ny) = (run_x.trim_start_matches('0'), run_y.trim_start_matches('0'));
                nx.len().cmp(&ny.len()).then_with(|| nx.cmp(ny))
            }
            _ => run_x.cmp(run_y),
        };
        if order != Ordering::Equal {
            return order;
        }
        (x, y) = (rest_x, rest_y);
    }
}

fn digits(run: &str) -> bool {
    run.starts_with(|c: char| c.is_ascii_digit())
}

/// The leading run of digits or of non-digits, and the rest.
fn split_run(s: &str) -> (&str, &str) {
    let numeric = digits(s);
    let end = s.find(|c: char| c.is_ascii_digit() != numeric).unwrap_or(s.len());
    s.split_at(end)
}

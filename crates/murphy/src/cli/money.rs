//! Amounts as a student types them: dollars (`12.50`, `$12.50`, `12`, `1,000`), as the
//! page takes them and as every answer prints them. The API keeps integer cents; this
//! is the one place the command line turns one into the other.

use murphy_core::command::AMOUNT_CENTS_MAX;

use super::words::dollars;

/// Dollars typed on the command line, as cents: `"$12.50"` is `1250`. A clap value
/// parser: its error is the sentence clap prints after the argument's name.
pub fn parse_dollars(text: &str) -> Result<i64, String> {
    let most = dollars(AMOUNT_CENTS_MAX);
    let bad = || format!("{text:?} is not an amount of dollars: write it as 12.50, $12.50 or 12 ($0.01 to {most})");
    let digits = text.trim().strip_prefix('$').unwrap_or(text.trim()).replace(',', "");
    let (whole, fraction) = digits.split_once('.').unwrap_or((&digits, ""));
    let is_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() && fraction.is_empty() || !is_digits(whole) || !is_digits(fraction) || fraction.len() > 2 {
        return Err(bad());
    }
    let whole: i64 = if whole.is_empty() {
        0
    } else {
        whole.parse().map_err(|_| bad())?
    };
    let cents: i64 = format!("{fraction:0<2}").parse().map_err(|_| bad())?;
    let total = whole
        .checked_mul(100)
        .and_then(|c| c.checked_add(cents))
        .ok_or_else(bad)?;
    if !(1..=AMOUNT_CENTS_MAX).contains(&total) {
        return Err(bad());
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::{AMOUNT_CENTS_MAX, parse_dollars};

    #[test]
    fn dollars_as_students_write_them() {
        for (typed, cents) in [
            ("12.50", 1250),
            ("$12.50", 1250),
            ("12", 1200),
            ("12.5", 1250),
            ("0.01", 1),
            (".75", 75),
            ("1,000", 100_000),
            (" $3 ", 300),
            ("10,000,000", AMOUNT_CENTS_MAX),
        ] {
            assert_eq!(parse_dollars(typed), Ok(cents), "{typed}");
        }
    }

    #[test]
    fn anything_else_is_refused_with_how_to_write_it() {
        for typed in [
            "",
            "$",
            "0",
            "0.00",
            "-5",
            "12.345",
            "12.5.0",
            "twelve",
            "1e3",
            "99999999999999999999",
        ] {
            let said = parse_dollars(typed).unwrap_err();
            assert!(said.contains("write it as 12.50, $12.50 or 12"), "{typed}: {said}");
        }
    }
}

//! How a `murphy` command ends: one exit status per kind of ending, and an error
//! printed as `error: ...` with its causes, one a line. Never a backtrace, whatever
//! `RUST_BACKTRACE` says: a user needs what went wrong and what to do, and a
//! developer who needs the stack can run the code.

use std::fmt;
use std::io::Write as _;
use std::process::ExitCode;

/// The exit statuses, as `murphy --help` documents them (`EXIT_STATUS_HELP`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Done = 0,
    /// murphy answered, and said no.
    Refused = 1,
    /// The command line is wrong; clap's own status for usage errors is 2 too.
    Usage = 2,
    /// murphy could not be reached or failed, or the network or the disk did.
    Failed = 3,
}

pub const EXIT_STATUS_HELP: &str = "\
Exit status:
  0  done
  1  refused: murphy said no (a full section, a time conflict, a 4xx problem such as
     an unknown section or a bad token), or `murphy check` found a guarantee broken
  2  usage: the command line is wrong (an unknown flag, a missing argument or token)
  3  failed: murphy could not be reached or failed (no connection, a lost answer,
     a 5xx), or a file could not be written; trying again later may work";

/// What every help page but `murphy --help` says of the exit statuses.
pub const EXIT_STATUS_LINE: &str =
    "Exit status: 0 done, 1 refused, 2 usage, 3 failed (`murphy help exit-status` says what each means).";

impl From<Status> for ExitCode {
    fn from(status: Status) -> ExitCode {
        ExitCode::from(status as u8)
    }
}

/// An error that says itself which exit status it means.
#[derive(Debug)]
struct Classified {
    status: Status,
    message: String,
}

impl fmt::Display for Classified {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Classified {}

/// The command line is wrong: say what to type instead.
pub fn usage(message: impl Into<String>) -> anyhow::Error {
    classified(Status::Usage, message)
}

/// murphy (or the check) said no.
pub fn refused(message: impl Into<String>) -> anyhow::Error {
    classified(Status::Refused, message)
}

/// Something failed that trying again later may fix.
pub fn failed(message: impl Into<String>) -> anyhow::Error {
    classified(Status::Failed, message)
}

fn classified(status: Status, message: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(Classified {
        status,
        message: message.into(),
    })
}

/// The status an error means: the first cause that says, else `Failed`.
pub fn status_of(error: &anyhow::Error) -> Status {
    for cause in error.chain() {
        if let Some(c) = cause.downcast_ref::<Classified>() {
            return c.status;
        }
        if let Some(e) = cause.downcast_ref::<murphy_client::Error>() {
            return match e {
                murphy_client::Error::Problem { status, .. } if (400..500).contains(status) => Status::Refused,
                _ => Status::Failed,
            };
        }
    }
    Status::Failed
}

/// Prints `error: ...` and its causes on stderr, and returns the exit status.
pub fn report(error: &anyhow::Error) -> ExitCode {
    let mut out = std::io::stderr().lock();
    let _ = writeln!(out, "error: {error}");
    for cause in causes(error) {
        let _ = writeln!(out, "  caused by: {cause}");
    }
    status_of(error).into()
}

/// The causes worth a line: one that repeats the line before it (a wrapper that
/// prints its source, a problem's detail already said) adds nothing; of a connection
/// that failed, only the innermost cause (the system's own words) is news.
fn causes(error: &anyhow::Error) -> Vec<String> {
    let mut said = error.to_string();
    let mut lines = Vec::new();
    for cause in error.chain().skip(1) {
        let text = match cause.downcast_ref::<murphy_client::Error>() {
            // A sentence made of the problem says its detail (maybe with a hint of its own).
            Some(murphy_client::Error::Problem { detail, .. }) => {
                let (first, _) = detail.split_once("; ").unwrap_or((detail, ""));
                if said.contains(first) {
                    continue;
                }
                detail.clone()
            }
            Some(murphy_client::Error::Transport(t)) => innermost(t),
            _ => cause.to_string(),
        };
        if !said.contains(&text) && !text.contains(&said) {
            lines.push(text.clone());
        }
        if matches!(cause.downcast_ref(), Some(murphy_client::Error::Transport(_))) {
            break;
        }
        said = text;
    }
    lines
}

fn innermost(error: &(dyn std::error::Error + 'static)) -> String {
    let mut last = error;
    while let Some(next) = last.source() {
        last = next;
    }
    last.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn causes_skip_what_the_line_before_said() {
        let io = std::io::Error::other("connection refused");
        let error = anyhow::Error::new(io)
            .context("tcp connect error: connection refused")
            .context("cannot reach murphy at http://127.0.0.1:1");
        assert_eq!(causes(&error), ["tcp connect error: connection refused"]);
        assert_eq!(status_of(&error), Status::Failed);
    }

    #[test]
    fn a_status_given_anywhere_in_the_chain_wins() {
        let error = usage("pass --token").context("reading your record");
        assert_eq!(status_of(&error), Status::Usage);
        let problem = murphy_client::Error::Problem {
            status: 404,
            code: "no_such_section".into(),
            detail: "there is no section X".into(),
            retry_after_seconds: None,
            line: None,
        };
        assert_eq!(status_of(&anyhow::Error::new(problem)), Status::Refused);
    }
}

//! The client subcommands of `murphy` (`sections`, `enroll`, `watch`, `admin import`,
//! ...): a student's and an admin's command line over HTTP API v1. This file holds
//! their arguments and sends each to its module.
//!
//! Reads go through the disk cache (revalidated with `If-None-Match` every time, or
//! answered from the cache with `--max-age`), writes through a `Session` (retried with
//! the same seq, so applied exactly once). Output is sentences by default and JSON with
//! `--json`; every refusal is a sentence (`words.rs`), and every way of ending has its
//! exit status (`exit.rs`).

mod ctx;
pub mod exit;
pub mod help;
mod import;
mod money;
mod reads;
mod schedule;
mod table;
mod words;
mod writes;

use std::path::PathBuf;

use clap::{Args, Subcommand};
use murphy_core::{Command as Cmd, RulesVersion};

use ctx::Ctx;
use exit::Status;

/// Connection and output options, shared by every client subcommand.
#[derive(Args, Clone)]
pub struct Common {
    /// The murphy server's URL (http:// when left out).
    #[arg(long, env = "MURPHY_URL", default_value = "http://127.0.0.1:3000", value_parser = crate::address::server_url)]
    url: String,
    /// Your token: a student's (the registrar issues it with `murphy admin token`) or
    /// the admin token.
    #[arg(long, env = "MURPHY_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// The student to act as. A student's token already says who it is (murphy asks
    /// GET /api/v1/me), so only the admin token needs this.
    #[arg(long, env = "MURPHY_STUDENT", value_name = "ID")]
    student: Option<String>,
    /// Print JSON for scripts instead of sentences.
    #[arg(long)]
    json: bool,
    /// Answer reads from the cache without asking the server while the cached copy is
    /// younger than this.
    #[arg(long, value_name = "SECONDS")]
    max_age: Option<u64>,
}

#[derive(Subcommand)]
pub enum Command {
    /// List sections with their seats (the cached catalog, revalidated).
    Sections {
        #[command(flatten)]
        common: Common,
        /// Only sections whose id or title contains each of these words (any case),
        /// searched by the server.
        #[arg(long)]
        search: Option<String>,
    },
    /// Show one section.
    Section {
        #[command(flatten)]
        common: Common,
        /// The section's id, e.g. COMSCI-35L-1.
        id: String,
    },
    /// Enroll in a section (or join its waitlist with --waitlist when it is full). A
    /// lecture with discussions or labs is taken with one of them: name it with --with.
    Enroll {
        #[command(flatten)]
        common: Common,
        /// The section's id, e.g. COMSCI-35L-1.
        id: String,
        /// If the section is full, join its waitlist instead of being refused.
        #[arg(long)]
        waitlist: bool,
        /// The linked section (discussion, lab) to take with it: both seats or neither.
        #[arg(long, value_name = "SECTION")]
        with: Option<String>,
        /// A permission number the registrar issued you for this section: it waives the
        /// prerequisites, the appointment and reserved seats (not the capacity).
        #[arg(long, value_name = "CODE")]
        permission: Option<String>,
    },
    /// Drop a section (or leave its waitlist).
    Drop {
        #[command(flatten)]
        common: Common,
        /// The section to drop, or whose waitlist to leave.
        id: String,
    },
    /// Move from one section to another atomically: you keep FROM unless you get TO.
    Swap {
        #[command(flatten)]
        common: Common,
        /// The section you hold, left only if you get TO.
        from: String,
        /// The section to join.
        to: String,
        /// When TO has linked sections, the one to take with it.
        #[arg(long, value_name = "SECTION")]
        with: Option<String>,
    },
    /// Your week as a grid of your enrolled sections' meetings.
    Schedule {
        #[command(flatten)]
        common: Common,
    },
    /// Your bursar balance (and whether it is a hold).
    Balance {
        #[command(flatten)]
        common: Common,
    },
    /// Pay money into your account.
    Deposit {
        #[command(flatten)]
        common: Common,
        /// The amount in dollars: 50, 12.50 or $12.50.
        #[arg(value_name = "DOLLARS", value_parser = money::parse_dollars)]
        cents: i64,
    },
    /// Take money out (an overdraft costs a $30.00 fee).
    Withdraw {
        #[command(flatten)]
        common: Common,
        /// The amount in dollars: 50, 12.50 or $12.50.
        #[arg(value_name = "DOLLARS", value_parser = money::parse_dollars)]
        cents: i64,
    },
    /// Send money to another student (never overdraws).
    Transfer {
        #[command(flatten)]
        common: Common,
        /// The student who receives the money.
        to: String,
        /// The amount in dollars: 50, 12.50 or $12.50.
        #[arg(value_name = "DOLLARS", value_parser = money::parse_dollars)]
        cents: i64,
    },
    /// Your place in the waiting room while a registration window is open (joining the
    /// line if you hold no place): how many are ahead of you and about how long.
    Line {
        #[command(flatten)]
        common: Common,
    },
    /// Live seat counts of a section, one line per change, until ctrl-c.
    Watch {
        #[command(flatten)]
        common: Common,
        /// The section to watch.
        id: String,
    },
    /// Registrar tasks (need the admin token).
    #[command(subcommand)]
    Admin(AdminCommand),
}

#[derive(Subcommand)]
pub enum AdminCommand {
    /// Issue a token for a student.
    Token {
        #[command(flatten)]
        common: Common,
        /// The student the token is for.
        // Not named `student`: `Common` has `--student` already.
        #[arg(value_name = "STUDENT")]
        holder: String,
    },
    /// Create sections, or record completed courses, from a CSV file (see
    /// examples/catalog.csv and examples/completions.csv), all or none.
    Import {
        #[command(flatten)]
        common: Common,
        /// The CSV file. Its first line names the columns. Sections:
        /// section,title,units,capacity,waitlist_capacity,days,start,end and optionally
        /// course,prerequisites,linked,reserved; one meeting per row, and more rows of
        /// the same section add meetings. Completions: student,course.
        file: PathBuf,
    },
    /// Issue a single-use permission number for a student and a section.
    Permission {
        #[command(flatten)]
        common: Common,
        /// The student it is for.
        #[arg(value_name = "STUDENT")]
        holder: String,
        /// The section it opens (for a lecture, with any of its linked sections).
        section: String,
    },
    /// Record that a student completed a course (it counts for prerequisites).
    Complete {
        #[command(flatten)]
        common: Common,
        /// The student who completed it.
        #[arg(value_name = "STUDENT")]
        holder: String,
        /// The course, e.g. COMSCI-31.
        course: String,
    },
    /// Open a registration window (the waiting room): from now on a student's write
    /// needs an admission; those who come before --at are drawn into an order then,
    /// later ones queue in arrival order. Run again to change --active-max.
    OpenLine {
        #[command(flatten)]
        common: Common,
        /// When registration opens, RFC 3339 (2026-11-30T08:00:00Z); now if left out.
        #[arg(long, value_name = "INSTANT", value_parser = parse_instant)]
        at: Option<time::OffsetDateTime>,
        /// Admitted students active at once, at most.
        #[arg(long, value_name = "STUDENTS")]
        active_max: u32,
    },
    /// Close the registration window: writes need no place in line again.
    CloseLine {
        #[command(flatten)]
        common: Common,
    },
    /// Finalize an upgrade of the rules: every command from now on is decided under
    /// the newest rules version this murphy knows (or --to). Run it once every node
    /// runs the new murphy; it is refused while one does not, and cannot be undone.
    Upgrade {
        #[command(flatten)]
        common: Common,
        /// The rules version to move to.
        #[arg(long, value_name = "VERSION", default_value_t = RulesVersion::LATEST.number())]
        to: u32,
    },
}

/// Runs one client subcommand; a refusal printed as a sentence is `Status::Refused`.
pub async fn run(command: Command) -> anyhow::Result<Status> {
    match command {
        Command::Sections { common, search } => reads::sections(&Ctx::new(common)?, search).await,
        Command::Section { common, id } => reads::section(&Ctx::new(common)?, &id).await,
        Command::Schedule { common } => reads::schedule(&Ctx::new(common)?).await,
        Command::Balance { common } => reads::balance(&Ctx::new(common)?).await,
        Command::Watch { common, id } => reads::watch(&Ctx::new(common)?, &id).await,
        Command::Line { common } => writes::line(&Ctx::new(common)?).await,
        Command::Admin(command) => admin(command).await,
        write => {
            let (common, make) = write_command(write);
            let ctx = Ctx::new(common)?;
            let command = make(ctx.student().await?);
            writes::apply(&ctx, vec![command]).await
        }
    }
}

/// Runs a registrar's command, once the token is known to be the admin's.
async fn admin(command: AdminCommand) -> anyhow::Result<Status> {
    let (common, work) = match command {
        AdminCommand::Token { common, holder } => (common, Admin::Token(holder)),
        AdminCommand::Import { common, file } => (common, Admin::Import(file)),
        AdminCommand::Permission {
            common,
            holder,
            section,
        } => (
            common,
            Admin::Apply(Cmd::IssuePermission {
                student: holder,
                section,
            }),
        ),
        AdminCommand::Complete { common, holder, course } => (
            common,
            Admin::Apply(Cmd::RecordCompletion {
                student: holder,
                course,
            }),
        ),
        AdminCommand::OpenLine { common, at, active_max } => (
            common,
            Admin::Apply(Cmd::OpenLine {
                opens_at: at.unwrap_or_else(time::OffsetDateTime::now_utc),
                active_max,
                automatic: false,
            }),
        ),
        AdminCommand::CloseLine { common } => (common, Admin::Apply(Cmd::CloseLine {})),
        AdminCommand::Upgrade { common, to } => (
            common,
            Admin::Apply(Cmd::UpgradeRules {
                rules: RulesVersion::new(to),
            }),
        ),
    };
    let ctx = Ctx::new(common)?;
    ctx.require_admin().await?;
    match work {
        Admin::Token(holder) => writes::token(&ctx, &holder).await,
        Admin::Import(file) => writes::import(&ctx, &file).await,
        Admin::Apply(command) => writes::apply(&ctx, vec![command]).await,
    }
}

/// What a registrar's command does, apart from its connection options.
enum Admin {
    Token(String),
    Import(PathBuf),
    Apply(Cmd),
}

/// An instant as RFC 3339 gives it.
fn parse_instant(text: &str) -> Result<time::OffsetDateTime, String> {
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .map_err(|e| format!("{e}: give an instant such as 2026-11-30T08:00:00Z"))
}

/// The student commands that write: their options, and the command for a student.
fn write_command(command: Command) -> (Common, Box<dyn FnOnce(String) -> Cmd>) {
    match command {
        Command::Enroll {
            common,
            id,
            waitlist,
            with,
            permission,
        } => (
            common,
            Box::new(move |student| Cmd::Enroll {
                student,
                section: id,
                waitlist,
                with,
                permission,
            }),
        ),
        Command::Drop { common, id } => (common, Box::new(move |student| Cmd::Drop { student, section: id })),
        Command::Swap { common, from, to, with } => (
            common,
            Box::new(move |student| Cmd::Swap {
                student,
                from,
                to,
                with,
            }),
        ),
        Command::Deposit { common, cents } => (
            common,
            Box::new(move |student| Cmd::Deposit {
                student,
                amount_cents: cents,
            }),
        ),
        Command::Withdraw { common, cents } => (
            common,
            Box::new(move |student| Cmd::Withdraw {
                student,
                amount_cents: cents,
            }),
        ),
        Command::Transfer { common, to, cents } => (
            common,
            Box::new(move |from| Cmd::Transfer {
                from,
                to,
                amount_cents: cents,
            }),
        ),
        _ => unreachable!("reads are dispatched in `run`"),
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    #[derive(Parser)]
    struct Wrapper {
        #[command(subcommand)]
        command: super::Command,
    }

    /// clap checks argument names only when a subcommand is built: check them all.
    #[test]
    fn every_subcommand_parses_its_arguments() {
        use clap::CommandFactory;
        Wrapper::command().debug_assert();
        let parsed = Wrapper::try_parse_from(["murphy", "admin", "token", "s1", "--student", "s2"]);
        assert!(parsed.is_ok());
    }

    #[test]
    fn every_argument_of_the_client_commands_has_help() {
        use clap::CommandFactory;
        assert_eq!(super::help::undocumented(&Wrapper::command()), Vec::<String>::new());
    }
}

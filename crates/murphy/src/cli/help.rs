//! What `--help` says beyond each argument's own line: the exit statuses, said in full
//! once (`murphy --help`, `murphy help exit-status`) and pointed to from every other
//! help page; each command's usage as its help shows it; and the check that no
//! argument goes without a help text.

use crate::cli::exit::{EXIT_STATUS_HELP, EXIT_STATUS_LINE};

/// `murphy`'s command with its help and usage lines finished: the exit statuses in
/// full at the top, a line pointing to them on every subcommand.
pub fn finished(command: clap::Command) -> clap::Command {
    let mut command = command.after_help(EXIT_STATUS_HELP);
    command.build();
    let command = with_usage_as_documented(command);
    command.mut_subcommands(with_exit_status_line)
}

fn with_exit_status_line(command: clap::Command) -> clap::Command {
    if command.get_after_help().is_some() {
        return command; // `murphy exit-status`: the statuses in full are its help
    }
    command
        .after_help(EXIT_STATUS_LINE)
        .mut_subcommands(with_exit_status_line)
}

/// clap's usage line of a usage error lists the flags that were given, environment
/// variables included (`murphy enroll --url <URL> --token <TOKEN> <ID>` when
/// MURPHY_URL and MURPHY_TOKEN are set), as if they were required. Every command's
/// usage is fixed to the one its help shows (`murphy enroll [OPTIONS] <ID>`).
fn with_usage_as_documented(mut command: clap::Command) -> clap::Command {
    let usage = command.render_usage().to_string();
    let usage = usage.strip_prefix("Usage: ").unwrap_or(&usage).to_owned();
    command.override_usage(usage).mut_subcommands(with_usage_as_documented)
}

/// Every argument of `command` and its subcommands without a help text, as
/// `"murphy enroll <ID>"`; clap's own `--help` and `--version` aside.
#[cfg(test)]
pub fn undocumented(command: &clap::Command) -> Vec<String> {
    let mut missing = Vec::new();
    walk(command, command.get_name(), &mut missing);
    missing
}

#[cfg(test)]
fn walk(command: &clap::Command, path: &str, missing: &mut Vec<String>) {
    for arg in command.get_arguments() {
        let generated = matches!(arg.get_id().as_str(), "help" | "version");
        if !generated && arg.get_help().is_none() && arg.get_long_help().is_none() {
            let name = match arg.get_long() {
                Some(long) => format!("--{long}"),
                None => format!("<{}>", arg.get_id().as_str().to_uppercase()),
            };
            missing.push(format!("{path} {name}"));
        }
    }
    for sub in command.get_subcommands() {
        walk(sub, &format!("{path} {}", sub.get_name()), missing);
    }
}

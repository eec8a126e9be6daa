//! What `--help` says beyond each argument's own line: the exit statuses, added to
//! every subcommand's help, and the check that no argument goes without a help text.

use crate::cli::exit::EXIT_STATUS_HELP;

/// `command` with the exit statuses at the end of its help and of every subcommand's.
pub fn with_exit_statuses(command: clap::Command) -> clap::Command {
    command.after_help(EXIT_STATUS_HELP).mut_subcommands(with_exit_statuses)
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

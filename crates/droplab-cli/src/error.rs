//! The command's error: the experiments' error ([`droplab_lab::Error`]) reported as one line
//! with its exit code, and clap's errors made one line too.

use std::process::ExitCode;

pub use droplab_lab::Error as CliError;
pub use droplab_lab::error::io_err;

/// Result of a command.
pub type CliResult<T = ()> = Result<T, CliError>;

/// Prints an error on one line and gives its exit code: 2 for usage, 1 at run time.
pub trait Report {
    /// Prints the message and returns the exit code.
    fn report(self) -> ExitCode;
}

impl Report for CliError {
    fn report(self) -> ExitCode {
        let code = match self {
            CliError::Usage(_) => 2,
            CliError::Runtime(_) => 1,
        };
        let one_line = self.message().replace('\n', " ");
        eprintln!("error: {one_line}");
        ExitCode::from(code)
    }
}

/// Prints a clap error as one line (help and version print in full) and exits 2 (0 for help).
pub fn clap_exit(e: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    match e.kind() {
        ErrorKind::DisplayHelp
        | ErrorKind::DisplayVersion
        | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = e.print();
            if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            }
        }
        _ => {
            let rendered = e.render().to_string();
            let first = rendered.lines().next().unwrap_or("invalid arguments");
            let first = first.strip_prefix("error: ").unwrap_or(first);
            eprintln!("error: {first} (see --help)");
            ExitCode::from(2)
        }
    }
}

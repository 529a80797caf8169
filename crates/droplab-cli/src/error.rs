//! The command's error: a one-line message and an exit code.

use std::process::ExitCode;

/// A failure of a command, classified for its exit code.
#[derive(Debug)]
pub enum CliError {
    /// Bad usage, config or data: exit 2.
    Usage(String),
    /// A failure at run time: exit 1.
    Runtime(String),
}

impl CliError {
    /// Bad usage, config or data.
    pub fn usage(msg: impl std::fmt::Display) -> Self {
        CliError::Usage(msg.to_string())
    }

    /// A failure at run time.
    pub fn runtime(msg: impl std::fmt::Display) -> Self {
        CliError::Runtime(msg.to_string())
    }

    /// Prints the message on one line and returns the exit code.
    pub fn report(self) -> ExitCode {
        let (msg, code) = match self {
            CliError::Usage(m) => (m, 2),
            CliError::Runtime(m) => (m, 1),
        };
        let one_line = msg.replace('\n', " ");
        eprintln!("error: {one_line}");
        ExitCode::from(code)
    }
}

impl From<droplab::Error> for CliError {
    fn from(e: droplab::Error) -> Self {
        match e {
            droplab::Error::Diverged { .. } => CliError::Runtime(e.to_string()),
            _ => CliError::Usage(e.to_string()),
        }
    }
}

/// Result of a command.
pub type CliResult<T = ()> = Result<T, CliError>;

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

/// Adds context to I/O failures: `path: what happened`.
pub fn io_err(path: &std::path::Path, e: impl std::fmt::Display) -> CliError {
    CliError::usage(format!("{}: {e}", path.display()))
}
